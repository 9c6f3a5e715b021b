#!/usr/bin/env bash
# Interop: xflowd on the simulated switch sampling both directions of every port
# (--direction both), port 3 an 802.1Q VLAN device (--sim-vlan-port 3:100), captured by tshark
# in a private network namespace for XFLOWD_INTEROP_SECONDS (default 20). Checks with tshark's
# decode:
#   - no malformed frame, no expert warning or error (sFlow and the sampled headers to L4);
#   - ingress and egress samples of each port: egress ones name the port as output; each
#     direction's flow sample sequence numbers have no gaps;
#   - per port and direction, the scaled bytes against the simulator's ground truth (in_bytes,
#     out_bytes): all inside the 99.9% interval, >= 80% inside the 95% one;
#   - VLAN counters (0:5): in every counter sample of port 3 (VLAN 100) and of no other port,
#     octets = ifInOctets + ifOutOctets of the same sample.
# Usage: sflow_egress_vlan_test.sh BUILD_DIR. Needs root (network namespace). Exit 77 = skipped.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
secs=${XFLOWD_INTEROP_SECONDS:-10}
xflowd=$build/agent/xflowd
py=/usr/bin/python3

xf_need_root
xf_need_tools 1 tshark ip "$py"
[ -x "$xflowd" ] || { echo "FAIL: build xflowd first"; exit 1; }

ns=xf_egress_sim_$$
netns_list+=("$ns")
xf_work egress-sim

ip netns add "$ns"
ip -n "$ns" link set lo up
ip netns exec "$ns" tshark -i lo -f "udp port 6343" -w "$work/sflow.pcap" -q 2>"$work/tshark.log" &
pids+=($!)
tshark_pid=$!
wait_for grep -q "Capturing on" "$work/tshark.log" || true

echo "running xflowd --sim --direction both for $secs s"
nsx "$xflowd" --sim --ports 8 --speed 10G --sampling 2000 --polling 2 --direction both \
  --sim-vlan-port 3:100 --duration "$secs" --sim-truth "$work/truth.csv" --control-socket none \
  --collector 127.0.0.1:6343 2>"$work/xflowd.log"
tail -n 1 "$work/xflowd.log"
sleep 1
kill -INT "$tshark_pid" 2>/dev/null || true
wait_for gone "$tshark_pid" || true

# One line per flow sample / counter sample, with the fields the check needs.
tshark -r "$work/sflow.pcap" -Y sflow -T fields -E occurrence=a -E separator='|' \
  -e sflow_245.sequence_number -e sflow.flow_sample.index \
  -e sflow.flow_sample.sequence_number -e sflow.flow_sample.sampling_rate \
  -e sflow.flow_sample.input_interface -e sflow.flow_sample.output_interface \
  -e sflow_245.header.frame_length -e sflow.counters_sample.source_id_index \
  -e sflow_245.vlan_id -e sflow_245.octets -e sflow_245.ifinoct -e sflow_245.ifoutoct \
  >"$work/tshark_fields.txt" 2>"$work/tshark_fields.log"
protos='^(frame|eth|ethertype|vlan|ieee8021ad|mpls|ip|ipv6|udp|tcp|icmp|icmpv6|sctp|arp|llc|data|sflow|sflow_245|sflow_5|expert|_ws\..*)$'
mapfile -t disable < <(tshark -G protocols 2>/dev/null | cut -f3 | grep -v -E "$protos" |
  sed 's/^/--disable-protocol=/')
tshark "${disable[@]}" -r "$work/sflow.pcap" -Y '_ws.malformed || _ws.expert.severity >= 6291456' \
  -T fields -e frame.number -e _ws.expert.message >"$work/tshark_errors.txt" 2>/dev/null || true

"$py" "$here/sflow_egress_vlan_check.py" "$work"
keep=0
