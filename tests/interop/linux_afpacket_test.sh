#!/usr/bin/env bash
# Interop: xflowd on real Linux ports (--sample 'p*', AF_PACKET back-end, 1-in-100) in a
# network namespace with a bridge and veth pairs, decoded by xflowdump (JSON). Checks:
#   - flow samples of the port the frames enter inside the 99.9999% interval of
#     Binomial(N, 1/100), N = the port's rx packet counter delta;
#   - sample_pool is the rx delta (from the interface counters) up to the last sampled packet;
#   - the last counter sample equals `ip -s link` at the end (nothing arrives after it);
#   - 802.1Q-tagged frames show their VLAN in extended_switch;
#   - link events without restart: p2 deleted, p4 added, q5 renamed to p5: the same xflowd
#     (same PID) sends flow and counter samples for p4 and p5, nothing for p2 after it went.
# Usage: linux_afpacket_test.sh BUILD_DIR. Needs root. Exit 77 = skipped.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
xflowd=$build/agent/xflowd
xflowdump=$build/tools/xflowdump
frames=${XFLOWD_INTEROP_FRAMES:-200000}
py=/usr/bin/python3

xf_need_root
xf_need_tools 1 ip "$py"
[ -x "$xflowd" ] && [ -x "$xflowdump" ] || { echo "FAIL: build xflowd and xflowdump first"; exit 1; }
if ! "$xflowd" --sample x --collector 127.0.0.1 --help >/dev/null 2>&1; then
  echo "FAIL: xflowd does not run"; exit 1
fi

ns=xf_lafp_$$
netns_list+=("$ns")
xf_work lafp

ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add br0 type bridge
ip -n "$ns" link set br0 type bridge stp_state 0
veth() {  # veth PORT HOSTSIDE: PORT on the bridge, HOSTSIDE is where frames are injected
  ip -n "$ns" link add "$1" type veth peer name "$2"
  ip -n "$ns" link set "$1" addrgenmode none master br0 up
  ip -n "$ns" link set "$2" addrgenmode none up
}
ip -n "$ns" link set br0 addrgenmode none up
veth p1 h1
veth p2 h2
veth q5 h5  # not sampled until renamed to p5
rx() { nsx cat "/sys/class/net/$1/statistics/rx_packets" "/sys/class/net/$1/statistics/rx_bytes" \
  "/sys/class/net/$1/statistics/multicast" | paste -sd' '; }

cat >"$work/inject.py" <<'PY'
import socket, sys
dev, n = sys.argv[1], int(sys.argv[2])
vlan = int(sys.argv[3]) if len(sys.argv) > 3 else 0
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((dev, 0))
eth = bytes.fromhex("020000000002" "020000000001")
tag = bytes.fromhex("8100") + vlan.to_bytes(2, "big") if vlan else b""
ip = bytes.fromhex("4500002e00000000401100000a0000010a000002")
udp = bytes.fromhex("3039003500160000") + b"\0" * 18
f = eth + tag + bytes.fromhex("0800") + ip + udp
for _ in range(n):
    s.send(f)
PY

ip netns exec "$ns" "$xflowdump" -l 127.0.0.1:6343 -o json >"$work/dump.json" 2>"$work/dump.log" &
pids+=($!)
dump_pid=$!
wait_for udp_listening_in "$ns" 6343 || true
ip netns exec "$ns" "$xflowd" --collector 127.0.0.1:6343 --sample 'p*' --sampling 100 \
  --polling 5 -v >"$work/xflowd.log" 2>&1 &
pids+=($!)
xflowd_pid=$!
wait_for grep -q "sFlow agent" "$work/xflowd.log" || { echo "FAIL: xflowd did not start"; cat "$work/xflowd.log"; exit 1; }

p1=$(nsx cat /sys/class/net/p1/ifindex)
p2=$(nsx cat /sys/class/net/p2/ifindex)
p5=$(nsx cat /sys/class/net/q5/ifindex)
echo "p1_before $(rx p1)" >"$work/env"
t0=$(date +%s.%N)
nsx "$py" "$work/inject.py" h1 "$frames"
nsx "$py" "$work/inject.py" h1 1000 42
t1=$(date +%s.%N)
echo "injected $frames + 1000 tagged frames into p1 in $(echo "$t1 - $t0" | bc 2>/dev/null || echo '?') s"
sleep 7  # > the polling interval: the last counter sample comes after the last frame
echo "p1_after $(rx p1)" >>"$work/env"

# Link events: p2 goes, p4 comes, q5 is renamed into the pattern.
ip -n "$ns" link del p2
echo "p2_deleted $(date +%s.%N)" >>"$work/env"
veth p4 h4
p4=$(nsx cat /sys/class/net/p4/ifindex)
ip -n "$ns" link set q5 down
ip -n "$ns" link set q5 name p5
ip -n "$ns" link set p5 up
sleep 0.5
nsx "$py" "$work/inject.py" h4 5000
nsx "$py" "$work/inject.py" h5 5000
sleep 7
kill -0 "$xflowd_pid" 2>/dev/null || { echo "FAIL: xflowd died"; cat "$work/xflowd.log"; exit 1; }
echo "ifindex p1=$p1 p2=$p2 p4=$p4 p5=$p5 pid=$xflowd_pid" >>"$work/env"
kill -TERM "$xflowd_pid"
wait_for gone "$xflowd_pid" || true
sleep 0.5
kill -INT "$dump_pid" 2>/dev/null || true
wait_for gone "$dump_pid" || true
tail -n 1 "$work/xflowd.log"
grep -E "port .* (added|removed)" "$work/xflowd.log" || true

"$py" "$here/linux_afpacket_check.py" "$work" "$p1" "$p2" "$p4" "$p5"
keep=0
