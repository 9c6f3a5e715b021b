#!/usr/bin/env bash
# Interop: the host counters (sflow_host.txt) of `xflowd --sample` in a network namespace,
# against an independent reader of the same host and a real decoder.
#   - psutil (python3-psutil, Debian) reads the host before and after the run; every host
#     counter sample xflowd sent (decoded by xflowdump, and by a decoder in the check script
#     written from the spec) must lie between the two readings, within what the polling
#     times explain: CPU times, memory, disk I/O and space, network totals, load, uptime,
#     the adapters' ifIndex and MAC, the MIB-2 groups against /proc/net/snmp.
#   - tshark: every datagram decodes; the host sample's header (entPhysicalEntry 2:1,
#     sequence numbers without gaps) and its processor record (0:1001, total memory against
#     psutil). tshark (4.0, and Wireshark up to 4.4) has no dissector for the host records
#     (0:2000-2010) and misreads the counter records that follow one it does not know, so a
#     datagram with the host sample shows a malformed record there (as hsflowd's would); the
#     check is that no other datagram is malformed and nothing else is wrong (docs/interop.md).
# hsflowd is not packaged for Debian 12, so it cannot run side by side: psutil stands in for
# it (docs/decisions.md D39). Usage: host_counters_test.sh BUILD_DIR. Exit 77 = skipped.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
xflowd=$build/agent/xflowd
xflowdump=$build/tools/xflowdump
py=/usr/bin/python3
secs=${XFLOWD_INTEROP_SECONDS:-8}

xf_need_root
xf_need_tools 77 ip tshark "$py"
"$py" -c 'import psutil' 2>/dev/null || { echo "SKIP: python3-psutil is not installed"; exit 77; }
[ -x "$xflowd" ] && [ -x "$xflowdump" ] || { echo "FAIL: build xflowd and xflowdump first"; exit 1; }

ns=xf_host_$$
netns_list+=("$ns")
xf_work host

ip netns add "$ns"
ip -n "$ns" link set lo up
# The peer lives in a second namespace, so the pings below cross hp1 (two addresses of one
# namespace would talk over lo).
peer=xf_host_peer_$$
netns_list+=("$peer")
ip netns add "$peer"
ip -n "$ns" link add hp1 type veth peer name hh1 netns "$peer"
ip -n "$ns" link set hp1 up
ip -n "$peer" link set hh1 up
ip -n "$ns" addr add 10.200.0.1/24 dev hp1
ip -n "$peer" addr add 10.200.0.2/24 dev hh1

ip netns exec "$ns" tshark -i lo -f "udp port 6343" -w "$work/sflow.pcap" -q 2>"$work/tshark.log" &
pids+=($!)
tshark_pid=$!
ip netns exec "$ns" "$xflowdump" -l 127.0.0.1:6346 -o json >"$work/xflowdump.json" \
  2>"$work/xflowdump.log" &
pids+=($!)
dump_pid=$!
collectors_up() { grep -q "Capturing on" "$work/tshark.log" && udp_listening_in "$ns" 6346; }
wait_for collectors_up || wait_for collectors_up || true

nsx "$py" "$here/host_counters_check.py" snapshot "$work/before.json"
echo "running xflowd --sample 'hp*' for $secs s, host counters every 2 s"
printf '[host]\nenabled = true\n' >"$work/host.toml"  # off by default (D40)
ip netns exec "$ns" "$xflowd" --config "$work/host.toml" --sample 'hp*' --polling 2 --duration "$secs" \
  --collector 127.0.0.1:6343 --collector 127.0.0.1:6346 --control-socket "$work/ctl.sock" \
  >"$work/xflowd.log" 2>&1 &
pids+=($!)
xflowd_pid=$!
# Some traffic across hp1 for the network and MIB-2 counters while it runs: UDP to a port
# nobody listens on (the peer answers with ICMP port unreachable).
nsx "$py" -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(40):
    try:
        s.sendto(b"x" * 100, ("10.200.0.2", 9))
    except OSError:
        pass
    time.sleep(0.1)
'
wait "$xflowd_pid" || { echo "FAIL: xflowd exited with an error"; cat "$work/xflowd.log"; exit 1; }
nsx "$py" "$here/host_counters_check.py" snapshot "$work/after.json"
tail -n 3 "$work/xflowd.log"
sleep 0.5
kill -INT "$tshark_pid" "$dump_pid" 2>/dev/null || true
for p in "$tshark_pid" "$dump_pid"; do wait_for gone "$p" || true; done

tshark -r "$work/sflow.pcap" -T fields -E occurrence=a -E separator='|' \
  -e frame.number -e sflow_245.sequence_number -e sflow.counters_sample.source_id_type \
  -e sflow.counters_sample.source_id_index \
  -e sflow.counters_sample.sequence_number \
  -e sflow_5.total_memory -e sflow_245.counters_record_format -e _ws.malformed \
  -e _ws.expert.message >"$work/tshark_fields.txt" 2>/dev/null || true

"$py" "$here/host_counters_check.py" check "$work"
keep=0
