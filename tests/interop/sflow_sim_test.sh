#!/usr/bin/env bash
# Interop: xflowd on the simulated switch (48 x 10G, default rates) exports sFlow for
# XFLOWD_INTEROP_SECONDS (default 60) to four collectors in a private network namespace:
#   tshark (capture) on 6343, sfacctd (pmacct) on 6344, sfcapd (nfdump) on 6345 and our
#   xflowdump on 6346. Then checks, with the real decoders' output:
#   - tshark decodes every datagram and every sampled header to L4: no malformed packet,
#     no expert warning or error;
#   - datagram, flow-sample and counter-sample sequence numbers have no gaps;
#   - sfacctd's renormalised bytes per input port against the simulator's ground truth:
#     >= 90% of ports with >= 100 samples inside the 95% interval, all inside the 99.9% one;
#   - sfcapd stored one flow per flow sample, with no sequence errors.
# Usage: sflow_sim_test.sh BUILD_DIR. Needs root (network namespace). Exit 77 = skipped.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
secs=${XFLOWD_INTEROP_SECONDS:-60}
xflowd=$build/agent/xflowd
xflowdump=$build/tools/xflowdump
py=/usr/bin/python3

xf_need_root
xf_need_tools 1 tshark sfacctd sfcapd nfdump ip "$py"

ns=xf_interop_$$
netns_list+=("$ns")
xf_work interop

ip netns add "$ns"
ip -n "$ns" link set lo up
# Background daemons are started with `ip netns exec` directly (see nsx in lib.sh).

mkdir -p "$work/sfcapd"
cat > "$work/sfacctd.conf" <<CONF
daemonize: false
sfacctd_ip: 127.0.0.1
sfacctd_port: 6344
sfacctd_renormalize: true
plugins: print
aggregate: in_iface
print_output: csv
print_output_file: $work/sfacctd.csv
print_output_file_append: true
print_refresh_time: 10
CONF

ip netns exec "$ns" tshark -i lo -f "udp port 6343" -w "$work/sflow.pcap" -q 2>"$work/tshark.log" &
pids+=($!)
tshark_pid=$!
ip netns exec "$ns" sfacctd -f "$work/sfacctd.conf" >"$work/sfacctd.log" 2>&1 &
pids+=($!)
sfacctd_pid=$!
ip netns exec "$ns" sfcapd -b 127.0.0.1 -p 6345 -w "$work/sfcapd" >"$work/sfcapd.log" 2>&1 &
pids+=($!)
sfcapd_pid=$!
ip netns exec "$ns" "$xflowdump" -l 127.0.0.1:6346 -o json >"$work/xflowdump.json" 2>"$work/xflowdump.log" &
pids+=($!)
dump_pid=$!

# Wait (up to 10 s) until tshark captures (it says so on stderr) and the collectors listen.
collectors_up() {
  grep -q "Capturing on" "$work/tshark.log" && udp_listening_in "$ns" 6346 &&
    udp_listening_in "$ns" 6345 && udp_listening_in "$ns" 6344
}
wait_for collectors_up || wait_for collectors_up || true

echo "running xflowd --sim for $secs s"
nsx "$xflowd" --sim --ports 48 --speed 10G --duration "$secs" --sim-truth "$work/truth.csv" \
  --collector 127.0.0.1:6343 --collector 127.0.0.1:6344 --collector 127.0.0.1:6345 \
  --collector 127.0.0.1:6346 2>"$work/xflowd.log"
tail -n 1 "$work/xflowd.log"
sleep 1
kill -INT "$tshark_pid" "$dump_pid" 2>/dev/null || true
kill -TERM "$sfcapd_pid" 2>/dev/null || true
kill -INT "$sfacctd_pid" 2>/dev/null || true
for p in "$tshark_pid" "$dump_pid" "$sfcapd_pid" "$sfacctd_pid"; do
  wait_for gone "$p" || true
done

tshark -r "$work/sflow.pcap" -T fields -E occurrence=a -E separator='|' \
  -e sflow_245.sequence_number -e sflow.flow_sample.index \
  -e sflow.flow_sample.sequence_number -e sflow.flow_sample.sampling_rate \
  -e sflow_245.header.frame_length -e sflow.counters_sample.source_id_index \
  -e sflow.counters_sample.sequence_number >"$work/tshark_fields.txt" 2>/dev/null
# tshark dissects the sFlow and every sampled header down to L4 (Ethernet, VLAN/QinQ, MPLS,
# IPv4/IPv6, TCP/UDP/ICMP): no malformed packet, no expert warning or error. Dissectors above
# L4 are disabled: sampled headers are cut at 128 bytes and the simulator's payloads are
# zeros, so application dissectors (some chosen by heuristics on ephemeral ports) would judge
# payloads that no real packet carries. See docs/interop.md.
protos='^(frame|eth|ethertype|vlan|ieee8021ad|mpls|ip|ipv6|udp|tcp|icmp|icmpv6|sctp|arp|llc|data|sflow|sflow_245|sflow_5|expert|_ws\..*)$'
mapfile -t disable < <(tshark -G protocols 2>/dev/null | cut -f3 | grep -v -E "$protos" |
  sed 's/^/--disable-protocol=/')
tshark "${disable[@]}" -r "$work/sflow.pcap" -Y '_ws.malformed || _ws.expert.severity >= 6291456' \
  -T fields -e frame.number -e _ws.expert.message >"$work/tshark_errors.txt" 2>/dev/null || true
nfdump -R "$work/sfcapd" -q -N -o 'fmt:%in,%pkt,%byt' >"$work/nfdump.csv" 2>"$work/nfdump.log" || true

"$py" "$here/sflow_sim_check.py" "$work"
keep=0
