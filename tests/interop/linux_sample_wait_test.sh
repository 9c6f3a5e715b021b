#!/usr/bin/env bash
# --sample on a host or switch whose ports are not there yet, and on ports whose back-end
# cannot sample: xflowd starts with no matching port (a warning: it waits), keeps running
# when a psample port appears on this kernel without PSAMPLE/tc matchall (a warning naming
# what is missing; the port's counters are still polled) and samples an afpacket port that
# appears later. Decoded with xflowdump JSON: counter samples for the psample port, flow and
# counter samples for the afpacket port, same PID throughout, exit 0 on SIGTERM. About 6 s.
# Usage: linux_sample_wait_test.sh BUILD_DIR. Needs root. Exit 77 = skipped.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
xflowd=$build/agent/xflowd
xflowdump=$build/tools/xflowdump
py=/usr/bin/python3

xf_need_root
xf_need_tools 77 ip ss "$py"
[ -x "$xflowd" ] && [ -x "$xflowdump" ] || { echo "FAIL: build xflowd and xflowdump first"; exit 1; }

ns=xf_swait_$$
netns_list+=("$ns")
xf_work swait
alive() { kill -0 "$xflowd_pid" 2>/dev/null || { fail "xflowd died $1"; sed 's/^/  /' "$work/xflowd.log"; exit 1; }; }

ip netns add "$ns" || { echo "FAIL: cannot create a namespace"; exit 1; }
ip -n "$ns" link set lo up
if timeout 10 ip netns exec "$ns" "$xflowd" --sample 'none*' --collector 127.0.0.1:9 --duration 0 \
    -q 2>&1 | grep -q "without"; then
  echo "SKIP: this xflowd has no Linux back-ends"; exit 77
fi
ip netns exec "$ns" "$xflowdump" -l 127.0.0.1:6343 -o json >"$work/dump.json" 2>"$work/dump.log" &
dump_pid=$!
pids+=("$dump_pid")
wait_for udp_listening_in "$ns" 6343

ip netns exec "$ns" "$xflowd" --collector 127.0.0.1:6343 --sample 'p*' --sample 'x*=psample' \
  --sampling 10 --polling 1 >"$work/xflowd.log" 2>&1 &
xflowd_pid=$!
pids+=("$xflowd_pid")
wait_for grep -q "sFlow agent" "$work/xflowd.log"
alive "at start with no matching port"
if grep -q "no ports on .* yet; waiting" "$work/xflowd.log"; then
  echo "PASS no matching port at start: a warning, and xflowd waits"
else
  fail "no 'waiting' warning"
fi

# A psample port on a kernel without PSAMPLE: warned about, still polled.
ip -n "$ns" link add xa type veth peer name hx
ip -n "$ns" link set xa addrgenmode none up
ip -n "$ns" link set hx addrgenmode none up
sleep 0.5
alive "when a port that cannot sample appeared"
if grep -q "port xa .*the port is not sampled" "$work/xflowd.log"; then
  echo "PASS psample port without kernel support: warned, not fatal"
else
  fail "no warning for xa"
fi

# An afpacket port appears later and gets frames.
ip -n "$ns" link add p1 type veth peer name h1
ip -n "$ns" link set p1 addrgenmode none up
ip -n "$ns" link set h1 addrgenmode none up
sleep 0.5
nsx "$py" -c '
import socket
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(("h1", 0))
f = bytes.fromhex("020000000002020000000001" "0800" "4500002e00000000401100000a0000010a000002"
                  "3039003500160000") + b"\0" * 18
for _ in range(2000): s.send(f)'
sleep 2.5  # > the polling interval, twice
alive "after the ports came"
xa=$(nsx cat /sys/class/net/xa/ifindex)
p1=$(nsx cat /sys/class/net/p1/ifindex)
kill -TERM "$xflowd_pid"
wait "$xflowd_pid"
rc=$?
[ $rc -eq 0 ] && echo "PASS exit 0 on SIGTERM" || fail "exit status $rc"
sleep 0.3
kill -INT "$dump_pid" 2>/dev/null
wait "$dump_pid" 2>/dev/null

"$py" - "$work/dump.json" "$xa" "$p1" >"$work/check.txt" <<'PY'
import collections, json, sys
xa, p1 = int(sys.argv[2]), int(sys.argv[3])
flows, counters = collections.Counter(), collections.Counter()
for line in open(sys.argv[1]):
    if not line.startswith("{"):
        continue
    d = json.loads(line).get("datagram")
    for s in (d or {}).get("samples", []):
        idx = s["source_id"]["index"]
        if s["kind"] == "flow_sample":
            flows[idx] += 1
        elif s["kind"] == "counters_sample":
            counters[idx] += 1
ok = True
def check(cond, msg):
    global ok
    print(("PASS " if cond else "FAIL ") + msg)
    ok = ok and cond
check(counters[xa] >= 1, f"psample port xa (not sampled) polled: {counters[xa]} counter samples")
check(flows[xa] == 0, f"no flow samples for xa: {flows[xa]}")
check(counters[p1] >= 1, f"afpacket port p1 that came later polled: {counters[p1]} counter samples")
# 2000 frames at 1-in-10: 200 expected; anything near proves sampling runs.
check(100 <= flows[p1] <= 300, f"p1 sampled: {flows[p1]} flow samples for 2000 frames at 1-in-10")
sys.exit(0 if ok else 1)
PY
check_rc=$?
cat "$work/check.txt"
[ $check_rc -eq 0 ] || failures=$((failures + 1))

[ $failures -eq 0 ] || sed 's/^/  /' "$work/xflowd.log"
xf_finish "all --sample wait checks passed"
