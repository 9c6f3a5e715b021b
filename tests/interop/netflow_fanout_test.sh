#!/usr/bin/env bash
# The live probe on several cores (D53): `xflowd -i --threads 2` (two AF_PACKET fanout
# workers) and `xflowd -i --threads 1` (libpcap) capture the same replay on a veth (tcpreplay
# at 10 kpps, 20k packets, 2000 flows, from xflowd-pcapgen with its ground truth) and export
# NetFlow v9 over that same veth to nfcapd in the sender's namespace. Checks: with 2 workers every flow of the truth is stored with exactly its
# packets and bytes (netflow_probe_check.py), the records by flow equal those of the one-thread
# run, both workers received packets, the kernel dropped none, and nfdump saw no sequence
# failure (one exporter view), and
# the probe's own export crossing the captured veth was not counted (no flow to port 2055).
# Each worker meters into its own cache partition (D58): with --flow-cache-size 100001 the
# start-up log, the exit summary and `xflowctl stats` give per-worker sizes that add up to
# 100001, every worker's ring lost no record and the workers' records add up to the total.
# --inactive-timeout 1: flows also end idle on the workers' own timers while the replay runs
# (records are compared summed by flow, so where a flow splits does not matter).
# Usage: netflow_fanout_test.sh BUILD_DIR (root; 77 = skipped)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd) || exit 2
here=$(cd "$(dirname "$0")" && pwd)
xflowd=$build/agent/xflowd
xflowctl=$build/tools/xflowctl
cache=100001
pcapgen=$build/sim/xflowd-pcapgen
py=/usr/bin/python3

xf_need_root "network namespaces"
xf_need_tools 77 nfcapd nfdump tcpreplay ip ss unshare "$py"
[ -x "$xflowd" ] && [ -x "$pcapgen" ] && [ -x "$xflowctl" ] ||
  { echo "FAIL: xflowd, xflowctl or xflowd-pcapgen not built"; exit 1; }
if "$xflowd" -i xfs-no-such-if -n 127.0.0.1 -q --threads 2 2>&1 | grep -q "without AF_PACKET"; then
  echo "SKIP: this xflowd has no AF_PACKET back-end"
  exit 77
fi
xf_rmem_at_least 33554432
xf_work nffanout
probe=xf_speed_probe_$$
coll=xf_speed_coll_$$
netns_list+=("$probe" "$coll")
ip netns add "$probe" && ip netns add "$coll" || { echo "FAIL: cannot create namespaces"; exit 1; }
ip -n "$probe" link set lo up
ip -n "$coll" link set lo up
ip -n "$probe" link add xfsa type veth peer name xfsb netns "$coll"
ip -n "$probe" addr add 10.9.16.1/24 dev xfsa
ip -n "$coll" addr add 10.9.16.2/24 dev xfsb
# No IPv6 on the veths: the kernel's own MLD and router solicitations are not in the truth.
ip netns exec "$probe" sysctl -q -w net.ipv6.conf.xfsa.disable_ipv6=1
ip netns exec "$coll" sysctl -q -w net.ipv6.conf.xfsb.disable_ipv6=1
ip -n "$probe" link set xfsa up && ip -n "$coll" link set xfsb up

"$pcapgen" --packets 20000 --flows 2000 --seconds 4 --frame-size 64..1400 --vlan-share 0 \
  --seed 16 --out "$work/live.pcap" --truth "$work/truth.csv" >/dev/null ||
  { echo "FAIL: xflowd-pcapgen"; exit 1; }

by_flow() {
  nfdump -R "$1" -q -N -o 'fmt:%pr,%sa,%da,%sp,%dp,%pkt,%byt' 2>/dev/null | tr -d ' ' |
    awk -F, 'NF >= 7 { k = $1","$2","$3","$4","$5; p[k] += $6; b[k] += $7 }
      END { for (k in p) print k","p[k]","b[k] }' | sort
}

port=2054
run() {
  local name=$1 threads=$2 d=$work/$1
  mkdir -p "$d/nfcapd"
  port=$((port + 1))
  ip netns exec "$coll" nfcapd -b 10.9.16.2 -p "$port" -B 33554432 -w "$d/nfcapd" \
    >"$d/nfcapd.log" 2>&1 &
  local nf=$!
  pids+=("$nf")
  wait_for udp_listening_in "$coll" "$port" || { fail "$name: nfcapd did not start"; return; }
  ip netns exec "$probe" "$xflowd" -i xfsa -n "10.9.16.2:$port" --threads "$threads" -m "$cache" --inactive-timeout 1 --control-socket "$d/ctl" \
    >"$d/xflowd.log" 2>&1 &
  local xf=$!
  pids+=("$xf")
  wait_for grep -q "capturing on xfsa" "$d/xflowd.log" ||
    { cat "$d/xflowd.log"; fail "$name: xflowd did not start"; return; }
  ip netns exec "$coll" tcpreplay -q -i xfsb --pps 10000 "$work/live.pcap" >"$d/tcpreplay.log" 2>&1 ||
    { cat "$d/tcpreplay.log"; fail "$name: tcpreplay"; return; }
  sleep 1
  "$xflowctl" --socket "$d/ctl" --json stats >"$d/stats.json" 2>&1 || echo "xflowctl stats failed" >>"$d/stats.json"
  stop "$xf"
  sleep 0.5
  stop "$nf"
  grep -E "captured|worker|flows:" "$d/xflowd.log" | sed 's/^/  /'
  nfdump -R "$d/nfcapd" -q -N -a -o 'fmt:%pr,%sa,%da,%sp,%dp,%pkt,%byt' >"$d/nfdump.txt" 2>/dev/null
  by_flow "$d/nfcapd" >"$d/by_flow"
  if grep -qE ",$port,[0-9]+,[0-9]+$" "$d/by_flow"; then
    fail "$name: own export was captured: a flow to port $port is in the collector"
  else
    pass "$name: own export over the captured veth is not counted"
  fi
  local seq
  seq=$(nfdump -R "$d/nfcapd" -I 2>/dev/null | awk -F': *' '$1 == "Sequence failures" { print $2 }')
  [ "${seq:-x}" = 0 ] && pass "$name: nfdump saw 0 sequence failures" ||
    fail "$name: nfdump sequence failures: ${seq:-?}"
}
run one 1
run two 2

d=$work/two
grep -q "with 2 fanout workers" "$d/xflowd.log" || fail "two: the summary does not name 2 workers"
drops=$(sed -n 's/.*fanout workers (group [0-9]*), \([0-9]*\) dropped by the kernel.*/\1/p' "$d/xflowd.log")
[ "${drops:-x}" = 0 ] && pass "two: 0 kernel drops" || fail "two: kernel drops: ${drops:-?}"
busy=$(grep -cE "worker [0-9]+: [1-9][0-9]* packets" "$d/xflowd.log")
[ "$busy" = 2 ] && pass "two: both workers received packets" || fail "two: $busy of 2 workers got packets"
if "$py" "$here/netflow_probe_check.py" --truth "$work/truth.csv" --nfdump "$d/nfdump.txt" \
  >"$d/check.txt" 2>&1; then
  pass "two: every flow of the truth with its packets and bytes"
else
  fail "two: records differ from the truth"
fi
sed 's/^/  /' "$d/check.txt"
flows=$(wc -l <"$work/one/by_flow")
if [ "$flows" -gt 0 ] && cmp -s "$work/one/by_flow" "$d/by_flow"; then
  pass "records of all $flows flows identical to --threads 1"
else
  fail "$(diff "$work/one/by_flow" "$d/by_flow" | grep -c '^[<>]') lines differ from --threads 1"
fi
idle=$(sed -n 's/^ *flows: .* records (idle \([0-9]*\),.*/\1/p' "$d/xflowd.log" | head -1)
[ "${idle:-0}" -gt 0 ] && pass "two: $idle records ended idle on the workers' timers" ||
  fail "two: no record ended idle (the workers' flow timers)"
# The partitions (D58): sizes in the start-up log, the summary and xflowctl stats add up.
sizes=$(sed -n 's/.*flow cache: 2 partitions of \([0-9]*\) + \([0-9]*\) = \([0-9]*\) flows.*/\1 \2 \3/p' "$d/xflowd.log" | head -1)
read -r p0 p1 total <<<"${sizes:-x x x}"
if [ "$total" = "$cache" ] && [ $((p0 + p1)) = "$cache" ] && [ "$p0" = 50001 ] && [ "$p1" = 50000 ]; then
  pass "two: start-up log: partitions $p0 + $p1 = $cache flows"
else
  fail "two: start-up log does not give partitions adding up to $cache: '${sizes:-none}'"
fi
sum=$(sed -n 's/.*worker [0-9]*: .* cache \([0-9]*\) flows.*/\1/p' "$d/xflowd.log" | awk '{ s += $1 } END { print s + 0 }')
[ "$sum" = "$cache" ] && pass "two: summary: per-worker cache sizes add up to $cache" ||
  fail "two: summary: per-worker cache sizes add up to $sum, not $cache"
lost=$(sed -n 's/.*worker [0-9]*: .* \([0-9]*\) records lost.*/\1/p' "$d/xflowd.log" | awk '{ s += $1 } END { print s + 0 }')
active=$(sed -n 's/.*worker [0-9]*: .* flows, \([0-9]*\) active.*/\1/p' "$d/xflowd.log" | awk '{ s += $1 } END { print s + 0 }')
wrec=$(sed -n 's/.*worker [0-9]*: .* active, \([0-9]*\) records.*/\1/p' "$d/xflowd.log" | awk '{ s += $1 } END { print s + 0 }')
trec=$(sed -n 's/^ *flows: .*; \([0-9]*\) records (.*/\1/p' "$d/xflowd.log" | head -1)
if [ "$lost" = 0 ] && [ "$active" = 0 ] && [ "$wrec" = "${trec:-x}" ] && [ "$wrec" -gt 0 ]; then
  pass "two: all partitions flushed at exit, their $wrec records all exported (0 lost)"
else
  fail "two: partitions at exit: $active flows left, $lost records lost, $wrec records vs ${trec:-?} in total"
fi
ssum=$("$py" -c 'import json,sys
j = json.load(open(sys.argv[1]))["fanout"]
print(j["cache_flows"], sum(j["worker%d_cache_flows" % i] for i in range(j["workers"])), j["workers"])' \
  "$d/stats.json" 2>/dev/null)
[ "$ssum" = "$cache $cache 2" ] && pass "two: xflowctl stats: 2 workers, cache sizes add up to $cache" ||
  fail "two: xflowctl stats fanout section: '${ssum:-unreadable}' ($(head -c 300 "$d/stats.json"))"

xf_finish "PASS: xflowd -i with 2 fanout workers stores exactly what was sent, as 1 thread does"
