#!/usr/bin/env bash
# Interop: xflowd on a switch ASIC through a vendor plugin: the reference plugin
# (libxflowd_vendor_ref.so, a simulated 8-port ASIC that rounds rates to powers of two, loses
# 1% of its samples on the way to the CPU and loses port 3 after 2.5 s) exports sFlow to tshark
# in a private network namespace for XFLOWD_INTEROP_SECONDS (default 6). Checks:
#   - tshark decodes every datagram and sampled header (to L4) with no malformed packet and no
#     expert warning or error;
#   - every flow sample carries the rate the ASIC applied (1-in-100 asked, 1-in-128 read
#     back), and flow samples come from all 8 ports;
#   - the lost samples (sequence gaps) show as flow-sample drops, and in xflowd's summary;
#   - port 3 vanished: xflowd logs its removal, and its counter samples stop while the
#     others' go on.
# Usage: vendor_plugin_test.sh BUILD_DIR. Needs root (network namespace). Exit 77 = skipped.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
secs=${XFLOWD_INTEROP_SECONDS:-6}
xflowd=$build/agent/xflowd
plugin=$build/hal/vendor/libxflowd_vendor_ref.so

xf_need_root
xf_need_tools 1 tshark ip
[ -f "$plugin" ] || { echo "SKIP: no $plugin (XFLOWD_WITH_VENDOR=OFF build)"; exit 77; }

ns=xf_vendor_$$
netns_list+=("$ns")
xf_work vendor
ip netns add "$ns"
ip -n "$ns" link set lo up

ip netns exec "$ns" tshark -i lo -f "udp port 6343" -w "$work/sflow.pcap" -q 2>"$work/tshark.log" &
pids+=($!)
tshark_pid=$!
wait_for grep -q "Capturing on" "$work/tshark.log" || true

echo "running xflowd --vendor-plugin for $secs s"
rc=0
nsx "$xflowd" --vendor-plugin "$plugin" \
  --vendor-options "ports=8,seed=5,pps=4000,loss-ppm=10000,vanish=3@2500" \
  --collector 127.0.0.1:6343 --sampling 100 --polling 1 --duration "$secs" \
  --control-socket none 2>"$work/xflowd.log" || rc=$?
[ $rc -eq 0 ] || fail "xflowd exited $rc: $(tail -n 3 "$work/xflowd.log")"
tail -n 1 "$work/xflowd.log"
sleep 1
kill -INT "$tshark_pid" 2>/dev/null || true
wait_for gone "$tshark_pid" || true

protos='^(frame|eth|ethertype|vlan|ip|ipv6|udp|tcp|icmp|data|sflow|sflow_245|sflow_5|expert|_ws\..*)$'
mapfile -t disable < <(tshark -G protocols 2>/dev/null | cut -f3 | grep -v -E "$protos" |
  sed 's/^/--disable-protocol=/')
tshark "${disable[@]}" -r "$work/sflow.pcap" -Y '_ws.malformed || _ws.expert.severity >= 6291456' \
  -T fields -e frame.number -e _ws.expert.message >"$work/errors.txt" 2>/dev/null || true
datagrams=$(tshark -r "$work/sflow.pcap" -Y sflow 2>/dev/null | wc -l || true)
if [ "$datagrams" -gt 0 ] && [ ! -s "$work/errors.txt" ]; then
  pass "tshark decodes all $datagrams datagrams, no malformed frame or expert warning"
else
  fail "tshark: $datagrams datagrams; errors: $(head -n 3 "$work/errors.txt")"
fi

# One line per flow sample: ifindex, rate, drops.
tshark "${disable[@]}" -r "$work/sflow.pcap" -T fields -E occurrence=a -E separator='|' \
  -E aggregator=, -e sflow.flow_sample.index -e sflow.flow_sample.sampling_rate \
  -e sflow.flow_sample.dropped_packets -Y sflow.flow_sample.sampling_rate 2>/dev/null |
  awk -F'|' '{ n = split($1, a, ","); split($2, r, ","); split($3, d, ",");
                for (i = 1; i <= n; i++) print a[i], r[i], d[i] }' >"$work/flows.txt"
samples=$(wc -l <"$work/flows.txt")
bad_rate=$(awk '$2 != 128' "$work/flows.txt" | wc -l)
ports=$(awk '{print $1}' "$work/flows.txt" | sort -u | wc -l)
max_drops=$(awk 'BEGIN {m = 0} $3 > m {m = $3} END {print m}' "$work/flows.txt")
if [ "$samples" -gt 100 ] && [ "$bad_rate" -eq 0 ]; then
  pass "$samples flow samples, all at the applied rate 1-in-128"
else
  fail "$samples flow samples, $bad_rate not at 1-in-128"
fi
[ "$ports" -eq 8 ] && pass "flow samples from all 8 ports" || fail "flow samples from $ports ports"
[ "$max_drops" -gt 0 ] && pass "sequence gaps exported as drops (up to $max_drops)" ||
  fail "no drops in the flow samples, though the ASIC lost 1% of them"
if grep -qE "\(([1-9][0-9]*) seen as sequence gaps\)" "$work/xflowd.log"; then
  pass "summary: $(grep -oE "lost [0-9]+ before the agent \([0-9]+ seen as sequence gaps\)" "$work/xflowd.log")"
else
  fail "summary shows no sequence gaps"
fi

# Counter samples per port: port 3 stops after 3 s, the others go on.
tshark "${disable[@]}" -r "$work/sflow.pcap" -T fields -E occurrence=a -E aggregator=, \
  -e sflow.counters_sample.source_id_index -Y sflow.counters_sample.source_id_index 2>/dev/null |
  tr ',' '\n' | sort -n | uniq -c >"$work/counters.txt"
c1=$(awk '$2 == 1 {print $1}' "$work/counters.txt")
c3=$(awk '$2 == 3 {print $1}' "$work/counters.txt")
grep -q "port swp3 (ifindex 3) removed" "$work/xflowd.log" && pass "port 3's removal is logged" ||
  fail "no removal of port 3 in the log"
if [ -n "$c1" ] && [ "${c3:-0}" -lt "$c1" ]; then
  pass "counter samples: port 1 $c1, port 3 ${c3:-0} (stopped when it vanished)"
else
  fail "counter samples: port 1 ${c1:-0}, port 3 ${c3:-0}"
fi
xf_finish "PASS vendor plugin interop"
