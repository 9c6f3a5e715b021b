#!/usr/bin/env bash
# Interop: egress sampling on real Linux ports (--sample 'p*', AF_PACKET, 1-in-100,
# --direction both) in a network namespace: frames injected behind p1 enter p1 and leave by
# p2 (the bridge floods them, the destination is unknown). Decoded by tshark and xflowdump.
# Checks:
#   - tshark decodes every datagram: no malformed frame, no expert warning or error;
#   - p1's ingress samples and p2's egress samples each inside the 99.9999% interval of
#     Binomial(N, 1/100), N = p1's rx / p2's tx packet counter delta; p2 egress samples name p2
#     as output and no input (AF_PACKET cannot know it); p2 has (almost) no ingress samples;
#   - each direction's sample pool is its own counter delta (rx for ingress, tx for egress),
#     its flow sample sequence numbers have no gaps.
# Usage: linux_afpacket_egress_test.sh BUILD_DIR. Needs root. Exit 77 = skipped.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
xflowd=$build/agent/xflowd
xflowdump=$build/tools/xflowdump
frames=${XFLOWD_INTEROP_FRAMES:-100000}
py=/usr/bin/python3

xf_need_root
xf_need_tools 1 ip tshark "$py"
[ -x "$xflowd" ] && [ -x "$xflowdump" ] || { echo "FAIL: build xflowd and xflowdump first"; exit 1; }

ns=xf_egress_afp_$$
netns_list+=("$ns")
xf_work egress-afp

ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add br0 type bridge
ip -n "$ns" link set br0 type bridge stp_state 0
veth() {  # veth PORT HOSTSIDE: PORT on the bridge, HOSTSIDE is where frames go in and out
  ip -n "$ns" link add "$1" type veth peer name "$2"
  ip -n "$ns" link set "$1" addrgenmode none master br0 up
  ip -n "$ns" link set "$2" addrgenmode none up
}
ip -n "$ns" link set br0 addrgenmode none up
veth p1 h1
veth p2 h2
counters() {
  for d in p1 p2; do
    nsx cat "/sys/class/net/$d/statistics/rx_packets" "/sys/class/net/$d/statistics/tx_packets"
  done | paste -sd' '
}

cat >"$work/inject.py" <<'PY'
import socket, sys
dev, n = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((dev, 0))
eth = bytes.fromhex("020000000bbb" "020000000aaa")  # to an unknown MAC: flooded
ip = bytearray.fromhex("4500002e00000000401100000a0000010a000002")
# A valid header checksum: with br_netfilter loaded the bridge drops IPv4 frames without one.
c = sum(int.from_bytes(ip[i:i + 2], "big") for i in range(0, 20, 2))
c = (c & 0xFFFF) + (c >> 16)
ip[10:12] = (~c & 0xFFFF).to_bytes(2, "big")
ip = bytes(ip)
udp = bytes.fromhex("3039003500160000") + b"\0" * 18
f = eth + bytes.fromhex("0800") + ip + udp
for _ in range(n):
    s.send(f)
PY

ip netns exec "$ns" tshark -i lo -f "udp port 6343" -w "$work/sflow.pcap" -q 2>"$work/tshark.log" &
pids+=($!)
tshark_pid=$!
ip netns exec "$ns" "$xflowdump" -l 127.0.0.1:6344 -o json >"$work/dump.json" 2>"$work/dump.log" &
pids+=($!)
dump_pid=$!
wait_for udp_listening_in "$ns" 6344 || true
wait_for grep -q "Capturing on" "$work/tshark.log" || true
ip netns exec "$ns" "$xflowd" --collector 127.0.0.1:6343 --collector 127.0.0.1:6344 \
  --sample 'p*' --sampling 100 --direction both --polling 5 --control-socket none -v \
  >"$work/xflowd.log" 2>&1 &
pids+=($!)
xflowd_pid=$!
wait_for grep -q "sFlow agent" "$work/xflowd.log" || { echo "FAIL: xflowd did not start"; cat "$work/xflowd.log"; exit 1; }
grep "sFlow agent" "$work/xflowd.log"

echo "before $(counters)" >"$work/env"
nsx "$py" "$work/inject.py" h1 "$frames"
sleep 2
echo "after $(counters)" >>"$work/env"
p1=$(nsx cat /sys/class/net/p1/ifindex)
p2=$(nsx cat /sys/class/net/p2/ifindex)
kill -TERM "$xflowd_pid"
wait_for gone "$xflowd_pid" || true
sleep 0.5
kill -INT "$dump_pid" "$tshark_pid" 2>/dev/null || true
wait_for gone "$dump_pid" || true
wait_for gone "$tshark_pid" || true
tail -n 1 "$work/xflowd.log"

protos='^(frame|eth|ethertype|vlan|ip|ipv6|udp|tcp|icmp|icmpv6|arp|llc|data|sflow|sflow_245|sflow_5|expert|_ws\..*)$'
mapfile -t disable < <(tshark -G protocols 2>/dev/null | cut -f3 | grep -v -E "$protos" |
  sed 's/^/--disable-protocol=/')
tshark "${disable[@]}" -r "$work/sflow.pcap" -Y '_ws.malformed || _ws.expert.severity >= 6291456' \
  -T fields -e frame.number -e _ws.expert.message >"$work/tshark_errors.txt" 2>/dev/null || true
tshark -r "$work/sflow.pcap" -T fields -e frame.number >"$work/tshark_frames.txt" 2>/dev/null || true

"$py" "$here/linux_afpacket_egress_check.py" "$work" "$p1" "$p2"
keep=0
