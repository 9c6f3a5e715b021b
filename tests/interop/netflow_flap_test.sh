#!/usr/bin/env bash
# The host probe through link trouble: `xflowd -i xfa` exports IPFIX to a collector on the
# namespace's 127.0.0.1 while its interface is flapped (down, up) and then deleted and
# created again. After each, frames with a source address of their own are sent into xfa and
# the test waits for that address in the collector's data before going on, so the flows are
# exported live (inactive timeout 1 s), not at SIGTERM. Also: the capture-lost line names the
# interface, the exit summary counts the re-opens, SIGUSR1/SIGUSR2/SIGPIPE do not kill xflowd
# (SIGUSR1 logs the counters), and SIGTERM still exits 0. Takes about 10 s.
# Usage: netflow_flap_test.sh BUILD_DIR      (root; exit 77 = skipped)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
build=${1:?usage: netflow_flap_test.sh BUILD_DIR}
xflowd=$build/agent/xflowd
py=/usr/bin/python3

xf_need_root
xf_need_tools 77 ip "$py"
[ -x "$xflowd" ] || { echo "FAIL: xflowd not built"; exit 1; }
if "$xflowd" -i xfl-no-such-if -n 127.0.0.1 -q 2>&1 | grep -q "without libpcap"; then
  echo "SKIP: this xflowd has no libpcap back-end"
  exit 77
fi

ns=xf_flap_$$
netns_list+=("$ns")
xf_work flap

pair() {  # xfa (captured) and xfb (where frames are sent from), both up, no IPv6 chatter
  ip -n "$ns" link add xfa type veth peer name xfb &&
    ip -n "$ns" link set xfa addrgenmode none up && ip -n "$ns" link set xfb addrgenmode none up
}
ip netns add "$ns" || { echo "FAIL: cannot create a namespace"; exit 1; }
ip -n "$ns" link set lo up
pair || { echo "FAIL: cannot create the veth pair"; exit 1; }

# The collector keeps every datagram as a hex line; the port it got is in port.txt.
cat >"$work/collect.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
with open(sys.argv[2], "w") as out:
    while True:
        out.write(s.recv(65535).hex() + "\n")
        out.flush()
PY
# Sends COUNT UDP frames from SRC_IP:SRC_PORT into xfa through xfb.
cat >"$work/send.py" <<'PY'
import socket, struct, sys
src = socket.inet_aton(sys.argv[1]); dst = socket.inet_aton("10.78.0.1")
payload = b"x" * 64
udp = struct.pack("!HHHH", int(sys.argv[3]), 5000, 8 + len(payload), 0) + payload
hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, src, dst)
csum = sum(struct.unpack("!10H", hdr)); csum = (csum & 0xffff) + (csum >> 16)
hdr = hdr[:10] + struct.pack("!H", ~csum & 0xffff) + hdr[12:]
frame = bytes.fromhex("025846000002025846000001") + b"\x08\x00" + hdr + udp
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("xfb", 0))
for _ in range(int(sys.argv[2])):
    s.send(frame)
PY
ip netns exec "$ns" "$py" "$work/collect.py" "$work/port.txt" "$work/datagrams.txt" &
pids+=($!)
wait_for test -s "$work/port.txt"
port=$(cat "$work/port.txt" 2>/dev/null) || { echo "FAIL: the collector did not start"; exit 1; }

# Not through nsx: $! must be xflowd itself (ip netns exec execs), not a subshell.
ip netns exec "$ns" "$xflowd" -i xfa -n "127.0.0.1:$port/ipfix" --inactive-timeout 1 \
  >"$work/xflowd.log" 2>&1 &
xflowd_pid=$!
pids+=("$xflowd_pid")
wait_for grep -q "capturing on xfa" "$work/xflowd.log"
grep -q "capturing on xfa" "$work/xflowd.log" || { cat "$work/xflowd.log"; echo "FAIL: xflowd did not start"; exit 1; }

# Sends a new flow from SRC (another source port each time; a flow refreshed every 0.5 s
# would never go idle) until the collector has a datagram carrying SRC (the address bytes of
# a data record), at most 8 s. A capture that is still re-opening simply misses the first.
exported_live() {
  local src=$1 what=$2 hex i
  hex=$(printf '%02x' ${src//./ })
  for i in $(seq 16); do
    [ $((i % 3)) = 1 ] && { nsx "$py" "$work/send.py" "$src" 5 $((40000 + i)) || true; }
    sleep 0.5
    if grep -q "$hex" "$work/datagrams.txt"; then
      echo "PASS $what: flow from $src exported live ($((i / 2)).$((i % 2 * 5)) s)"
      return 0
    fi
  done
  fail "$what: no flow from $src at the collector after 8 s"
}
alive() {
  if kill -0 "$xflowd_pid" 2>/dev/null; then return 0; fi
  fail "xflowd died ($1)"
  return 1
}

exported_live 10.77.0.1 "before any trouble"
ip -n "$ns" link set xfa down && ip -n "$ns" link set xfa up
exported_live 10.77.1.1 "after a flap (down, up)"
ip -n "$ns" link del xfa && pair
exported_live 10.77.2.1 "after the interface was deleted and created again"
ip -n "$ns" link del xfa && sleep 1.2 && pair  # gone long enough for a failed retry or two
exported_live 10.77.3.1 "after a longer absence"

kill -USR1 "$xflowd_pid"; sleep 0.3
alive "SIGUSR1" && if grep -q "SIGUSR1: xflowd: captured" "$work/xflowd.log"; then
  echo "PASS SIGUSR1 logs the counters and xflowd keeps running"
else
  fail "SIGUSR1 logged no counters"
fi
kill -USR2 "$xflowd_pid"; kill -PIPE "$xflowd_pid"; sleep 0.3
alive "SIGUSR2, SIGPIPE" && echo "PASS SIGUSR2 and SIGPIPE do not kill xflowd"

kill -TERM "$xflowd_pid"
wait "$xflowd_pid"
rc=$?
if [ $rc -eq 0 ]; then echo "PASS xflowd exited 0 on SIGTERM"; else fail "xflowd exit status $rc"; fi
grep -E "xfa: |captured|SIG" "$work/xflowd.log" | sed 's/^/  /'
if grep -q "packet source fd" "$work/xflowd.log"; then
  fail "the log names a file descriptor"
fi
if grep -q "xfa: capture lost" "$work/xflowd.log"; then
  echo "PASS the capture loss is logged with the interface's name"
else
  fail "no 'xfa: capture lost' line"
fi
if grep -q "xfa: link set down" "$work/xflowd.log" && grep -q "xfa: interface deleted" "$work/xflowd.log"; then
  echo "PASS the flap and the deletions are logged with the interface's name"
else
  fail "no 'xfa: link set down' or 'xfa: interface deleted' line"
fi
reopened=$(sed -n 's/^xflowd: captured .* re-opened \([0-9]*\) times.*/\1/p' "$work/xflowd.log")
if [ "${reopened:-0}" -ge 2 ]; then
  echo "PASS the exit summary counts $reopened re-opens"
else
  fail "the exit summary counts ${reopened:-no} re-opens (want >= 2)"
fi

xf_finish "all flap checks passed"
