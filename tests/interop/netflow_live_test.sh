#!/usr/bin/env bash
# The host probe on a live interface, end to end: `xflowd -i` captures on a veth in one
# network namespace while tcpreplay sends a generated capture into it from another, and
# exports NetFlow v9 over that same veth to nfcapd in the other namespace. Checks:
#   - nfdump's flows equal the capture's ground truth exactly (every flow, packets, bytes),
#     so nothing was lost between the ring and the collector;
#   - xflowd's own export crossed the captured interface and was not counted (the kernel
#     filter keeps it out): no flow to the collector's port;
#   - SIGTERM exports every flow still in the cache (end of capture = forced end).
# Usage: netflow_live_test.sh BUILD_DIR      (root; exit 77 = skipped)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
build=${1:?usage: netflow_live_test.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
xflowd=$build/agent/xflowd
pcapgen=$build/sim/xflowd-pcapgen
py=/usr/bin/python3

xf_need_root "network namespaces"
xf_need_tools 77 nfcapd nfdump tcpreplay ip "$py"
[ -x "$xflowd" ] && [ -x "$pcapgen" ] || { echo "FAIL: xflowd or xflowd-pcapgen not built"; exit 1; }
if "$xflowd" -i xfl-no-such-if -n 127.0.0.1 -q 2>&1 | grep -q "without libpcap"; then
  echo "SKIP: this xflowd has no libpcap back-end"
  exit 77
fi

probe=xfl_probe_$$
coll=xfl_coll_$$
netns_list+=("$probe" "$coll")
xf_work nflive
xf_rmem_at_least 33554432

ip netns add "$probe" && ip netns add "$coll" || { echo "FAIL: cannot create namespaces"; exit 1; }
ip -n "$probe" link set lo up
ip -n "$coll" link set lo up
ip -n "$probe" link add xfa type veth peer name xfb netns "$coll"
ip -n "$probe" addr add 10.9.0.1/24 dev xfa
ip -n "$coll" addr add 10.9.0.2/24 dev xfb
# No IPv6 on the veths: the kernel's own MLD and router solicitations are not in the truth.
ip netns exec "$probe" sysctl -q -w net.ipv6.conf.xfa.disable_ipv6=1
ip netns exec "$coll" sysctl -q -w net.ipv6.conf.xfb.disable_ipv6=1
ip -n "$probe" link set xfa up
ip -n "$coll" link set xfb up

"$pcapgen" --packets 20000 --flows 2000 --seconds 4 --frame-size 64..1400 --vlan-share 0 \
  --seed 5 --out "$work/live.pcap" --truth "$work/truth.csv" >/dev/null ||
  { echo "FAIL: xflowd-pcapgen"; exit 1; }

mkdir -p "$work/nfcapd"
ip netns exec "$coll" nfcapd -b 10.9.0.2 -p 2055 -B 33554432 -w "$work/nfcapd" \
  >"$work/nfcapd.log" 2>&1 &
nfcapd_pid=$!
pids+=("$nfcapd_pid")
ip netns exec "$probe" "$xflowd" -i xfa -n 10.9.0.2:2055 --template-refresh-seconds 1 \
  >"$work/xflowd.log" 2>&1 &
xflowd_pid=$!
pids+=("$xflowd_pid")
wait_for grep -q "capturing on xfa" "$work/xflowd.log"
grep -q "capturing on xfa" "$work/xflowd.log" || { cat "$work/xflowd.log"; echo "FAIL: xflowd did not start"; exit 1; }

# Paced so the veth and the ring keep up; the replay takes about 2 s.
ip netns exec "$coll" tcpreplay -q -i xfb --pps 10000 "$work/live.pcap" >"$work/tcpreplay.log" 2>&1 ||
  { cat "$work/tcpreplay.log"; echo "FAIL: tcpreplay"; exit 1; }
sleep 1.5  # a ring block times out after 100 ms; the 1 Hz tick sends what is pending
kill -TERM "$xflowd_pid"
wait "$xflowd_pid"
rc=$?
sleep 0.5
kill -TERM "$nfcapd_pid"
wait "$nfcapd_pid" 2>/dev/null
if [ $rc -eq 0 ]; then echo "PASS xflowd -i exited 0 on SIGTERM"; else fail "xflowd exit status $rc"; fi
grep -E "captured|flows:" "$work/xflowd.log" | sed 's/^/  /'

nfdump -R "$work/nfcapd" -q -N -a -o 'fmt:%pr,%sa,%da,%sp,%dp,%pkt,%byt' >"$work/nfdump.txt" 2>"$work/nfdump.err"
if grep -q ",2055," "$work/nfdump.txt" || grep -qE ", *2055 *," "$work/nfdump.txt"; then
  fail "own export was captured: a flow to port 2055 is in the collector"
else
  echo "PASS own export (10.9.0.1 -> 10.9.0.2:2055 over the captured veth) is not counted"
fi
"$py" "$here/netflow_probe_check.py" --truth "$work/truth.csv" --nfdump "$work/nfdump.txt" \
  >"$work/check.txt" 2>&1 || failures=$((failures + 1))
sed 's/^/  /' "$work/check.txt"
seq=$(nfdump -R "$work/nfcapd" -I 2>/dev/null | awk -F': *' '$1 == "Sequence failures" { print $2 }')
if [ "${seq:-x}" = 0 ]; then echo "PASS nfdump: 0 sequence failures"; else fail "nfdump sequence failures: ${seq:-?}"; fi

xf_finish "all live-probe checks passed"
