#!/usr/bin/env bash
# Interop: xflowd -r gives the same records whatever its threads and reader (D50, D51). One
# capture (xflowd-pcapgen: 300k packets, 20k flows, 60 s, whole frames) is read four ways,
#   --threads 1 --reader libpcap (the reference), --threads 1 --reader mmap,
#   --threads 2 --reader mmap, and that capture converted to pcapng (editcap) with
#   --threads 2 --reader mmap,
# each to its own nfcapd over IPFIX; per flow (5-tuple) the records, packets and bytes nfdump
# stored must be identical across the four, and match the capture's ground truth in packets
# and bytes. Usage: netflow_threads_test.sh BUILD_DIR. Needs root (network namespace);
# exit 77 = skipped. KEEP=1 keeps the work directory.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd) || exit 2
pcapgen=$build/sim/xflowd-pcapgen
xflowd=$build/agent/xflowd

xf_need_root
xf_need_tools 77 nfcapd nfdump editcap unshare ip ss
[ -x "$pcapgen" ] || { echo "FAIL: $pcapgen is not built"; exit 1; }
[ -x "$xflowd" ] || { echo "FAIL: $xflowd is not built"; exit 1; }
[ -n "${XF_INTEROP_IN_NS:-}" ] || xf_rmem_at_least 33554432
xf_private_netns "$@"
xf_work nfthreads

pcap=$work/t.pcap
"$pcapgen" --packets 300000 --flows 20000 --seconds 60 --seed 9 --out "$pcap" \
  --truth "$work/truth.csv" >/dev/null || { echo "FAIL: xflowd-pcapgen"; exit 1; }
editcap -F pcapng "$pcap" "$work/t.pcapng" || { echo "FAIL: editcap"; exit 1; }

# by_flow DIR: "proto,src,dst,sport,dport,records,packets,bytes" per flow, sorted.
by_flow() {
  nfdump -R "$1" -q -N -o 'fmt:%pr,%sa,%da,%sp,%dp,%pkt,%byt' 2>/dev/null | tr -d ' ' |
    awk -F, 'NF >= 7 { k = $1","$2","$3","$4","$5; n[k]++; p[k] += $6; b[k] += $7 }
      END { for (k in n) print k","n[k]","p[k]","b[k] }' | sort
}

port=23000
run() {
  local name=$1 file=$2
  shift 2
  local d=$work/$name
  mkdir -p "$d/nfcapd"
  port=$((port + 1))
  nfcapd -b 127.0.0.1 -p "$port" -B 33554432 -w "$d/nfcapd" >"$d/nfcapd.log" 2>&1 &
  local nf=$!
  pids+=("$nf")
  wait_for udp_listening "$port" || { fail "$name: nfcapd did not start"; return; }
  timeout 120 "$xflowd" -r "$file" -n "127.0.0.1:$port/ipfix" "$@" >"$d/out.log" 2>&1 ||
    fail "$name: xflowd exited with $? ($(grep -m1 -i error "$d/out.log"))"
  grep -q "reader, $(sed -n 's/.*--threads \([0-9]\).*/\1/p' <<<"$*") thread" "$d/out.log" ||
    fail "$name: the summary does not name the threads asked for"
  sleep 0.5
  stop "$nf"
  by_flow "$d/nfcapd" >"$d/by_flow"
}
run libpcap1 "$pcap" --threads 1 --reader libpcap
run mmap1 "$pcap" --threads 1 --reader mmap
run mmap2 "$pcap" --threads 2 --reader mmap
run pcapng2 "$work/t.pcapng" --threads 2 --reader mmap

ref=$work/libpcap1/by_flow
flows=$(wc -l <"$ref")
truth_flows=$(awk -F, 'NR > 1 { print $4","$2","$3","$5","$6 }' "$work/truth.csv" | sort -u | wc -l)
[ "$flows" = "$truth_flows" ] || fail "reference run stored $flows flows, the truth has $truth_flows"
for n in mmap1 mmap2 pcapng2; do
  if cmp -s "$ref" "$work/$n/by_flow"; then
    pass "$n: records of all $flows flows identical to --threads 1 --reader libpcap"
  else
    fail "$n: $(diff "$ref" "$work/$n/by_flow" | grep -c '^[<>]') lines differ from the reference"
  fi
done
# Packets and bytes per 5-tuple against the truth (protocol numbers, addresses, ports).
truth_pkts=$(awk -F, 'NR > 1 { p += $7 } END { print p }' "$work/truth.csv")
got_pkts=$(awk -F, '{ p += $7 } END { print p }' "$ref")
[ "$got_pkts" = "$truth_pkts" ] && pass "packets stored = capture truth ($truth_pkts)" ||
  fail "packets stored $got_pkts, truth $truth_pkts"
xf_finish "PASS: xflowd -r: same records with 1 or 2 threads, libpcap or mmap, pcap or pcapng"
