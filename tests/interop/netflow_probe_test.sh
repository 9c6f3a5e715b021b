#!/usr/bin/env bash
# Interop: xflowd as an unsampled flow probe reading a capture (xflowd -r) exports NetFlow v5,
# v9 and IPFIX to real collectors in a private network namespace, and what they stored must
# equal the capture's ground truth (from xflowd-pcapgen) exactly:
#   - nfcapd/nfdump, per 5-tuple packets and bytes: v9 and IPFIX every flow, v5 every IPv4 flow
#     (and no IPv6 record); 0 sequence failures (nfdump -I);
#   - nfacctd (pmacct, print plugin CSV; a second run of the exporter) for v9 and IPFIX;
#   - tshark on a tcpdump capture of the export: every datagram decodes as CFLOW, no malformed
#     packet, no expert warning or error (that includes tshark's own sequence checks for v9
#     and IPFIX); for v5 and v9 the decoded sequence numbers and counts are continuous.
# The capture: 300k packets, 20k flows (TCP/UDP/ICMP, IPv4/IPv6, VLAN tags), 60 s, seed 7, no
# FIN/RST, whole frames.
# Usage: netflow_probe_test.sh BUILD_DIR. Needs root (network namespace); exit 77 = skipped.
# XF_INTEROP_EXPORTER=softflowd runs softflowd instead of xflowd (to check the harness: it is
# expected to fail on ICMP type/code and IPFIX sequence numbers). KEEP=1 keeps the work dir.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd) || exit 2
here=$(cd "$(dirname "$0")" && pwd)
pcapgen=$build/sim/xflowd-pcapgen
xflowd=$build/agent/xflowd
exporter=${XF_INTEROP_EXPORTER:-xflowd}
py=/usr/bin/python3

xf_need_root
xf_need_tools 77 nfcapd nfdump nfacctd tshark tcpdump unshare ip ss "$py"
if [ "$exporter" = softflowd ]; then
  command -v softflowd >/dev/null || { echo "SKIP: softflowd is not installed"; exit 77; }
fi
[ -x "$pcapgen" ] || { echo "FAIL: $pcapgen is not built"; exit 1; }
if [ "$exporter" = xflowd ] && [ ! -x "$xflowd" ]; then
  echo "FAIL: $xflowd is not built"
  exit 1
fi

# Everything below runs in a private network namespace: its own 127.0.0.1, no port clashes.
# nfcapd needs a 32 MiB socket buffer to keep up with a replay (xflowd -r sends ~12,000
# messages a second); net.core.rmem_max is global, so the outer run raises it and puts it back.
[ -n "${XF_INTEROP_IN_NS:-}" ] || xf_rmem_at_least 33554432
xf_private_netns "$@"
xf_work nfprobe

# run_exporter PORT LOG: the exporter on the capture, exporting to 127.0.0.1:PORT.
run_exporter() {
  local c=() a
  for a in "${cmd[@]}"; do c+=("${a//@PORT@/$1}"); done
  echo "$label: ${c[*]}"
  timeout 300 "${c[@]}" >"$2" 2>&1
}

pcap=$work/probe.pcap
truth=$work/truth.csv
"$pcapgen" --packets 300000 --flows 20000 --seconds 60 --seed 7 --out "$pcap" --truth "$truth" ||
  { echo "FAIL: xflowd-pcapgen"; exit 1; }

for v in 5 9 10; do
  d=$work/v$v
  mkdir -p "$d/nfcapd"
  port=$((20000 + v))
  pmport=$((21000 + v))
  label="v$v"
  [ "$v" = 10 ] && label="IPFIX"

  if [ "$exporter" = softflowd ]; then
    cmd=(softflowd -c "$d/softflowd.ctl" -r "$pcap" -n "127.0.0.1:@PORT@" -v "$v" -d -6
      -p "$d/softflowd.pid" -m 65536)
  else
    cmd=("$xflowd" -r "$pcap" --netflow "127.0.0.1:@PORT@" --netflow-version "$v" -q)
  fi

  # Run 1: nfcapd stores, tcpdump captures the export for tshark.
  nfcapd -b 127.0.0.1 -p "$port" -B 33554432 -w "$d/nfcapd" >"$d/nfcapd.log" 2>&1 &
  nfcapd_pid=$!
  pids+=("$nfcapd_pid")
  # -Z root: keep root so it can write into our private work directory.
  # -B 65536 (KiB): the default 2 MiB buffer drops datagrams of this burst on a busy machine,
  # and a gap in the capture reads as a sequence error in tshark's check.
  tcpdump -i lo -n -U -B 65536 -Z root -w "$d/export.pcap" "udp dst port $port" \
    2>"$d/tcpdump.log" &
  tcpdump_pid=$!
  pids+=("$tcpdump_pid")
  wait_for udp_listening "$port" || fail "$label: nfcapd did not start (see $d/nfcapd.log)"
  wait_for grep -q "listening on" "$d/tcpdump.log" || fail "$label: tcpdump did not start"
  run_exporter "$port" "$d/exporter.log"
  rc=$?
  sleep 1  # the last datagrams
  stop "$tcpdump_pid"
  stop "$nfcapd_pid"  # SIGTERM: nfcapd flushes and closes its file
  tcpdrop=$(awk '/packets dropped by kernel/ { print $1 }' "$d/tcpdump.log")
  [ "${tcpdrop:-0}" = 0 ] ||
    fail "$label: tcpdump dropped $tcpdrop datagrams (harness, not xflowd): tshark checks are void"
  if [ "$rc" -ne 0 ]; then
    fail "$label: $exporter exited with $rc: $(grep -m1 . "$d/exporter.log" | cut -c1-160)"
    continue
  fi
  pass "$label: $exporter read the capture and exited 0"

  # Run 2 (v9, IPFIX): the same file again to nfacctd. (Not nfcapd's -R repeater: with -B it
  # fails with EMSGSIZE and stops repeating.)
  if [ "$v" != 5 ]; then
    cat >"$d/nfacctd.conf" <<CONF
daemonize: false
nfacctd_ip: 127.0.0.1
nfacctd_port: $pmport
nfacctd_pipe_size: 33554432
plugins: print
aggregate: src_host, dst_host, src_port, dst_port, proto
print_output: csv
print_output_file: $d/nfacctd.csv
print_output_file_append: true
print_refresh_time: 3600
print_cache_entries: 32771
plugin_pipe_size: 104857600
plugin_buffer_size: 104857
CONF
    nfacctd -f "$d/nfacctd.conf" >"$d/nfacctd.log" 2>&1 &
    nfacctd_pid=$!
    pids+=("$nfacctd_pid")
    # Listening (core) and the print plugin up: data sent before the plugin is lost.
    { wait_for udp_listening "$pmport" && wait_for grep -q "cache entries=" "$d/nfacctd.log"; } ||
      fail "$label: nfacctd did not start (see $d/nfacctd.log)"
    run_exporter "$pmport" "$d/exporter2.log"
    rc2=$?
    sleep 1
    stop "$nfacctd_pid" INT  # SIGINT: the print plugin writes its cache out
    [ "$rc2" -eq 0 ] || fail "$label: $exporter (to nfacctd) exited with $rc2"
    [ -f "$d/nfacctd.csv" ] || : >"$d/nfacctd.csv"
  fi

  tsopts=(-r "$d/export.pcap" -d "udp.port==$port,cflow")
  # nfdump: sequence failures and per-flow totals.
  seq=$(nfdump -R "$d/nfcapd" -I 2>/dev/null | awk -F': *' '$1 == "Sequence failures" { print $2 }')
  if [ "${seq:-x}" = 0 ]; then
    pass "$label nfdump: 0 sequence failures"
  elif [ "$v" = 10 ] && [ -n "$seq" ]; then
    # nfdump 1.7.1 leaves IPFIX options data records out of its count (RFC 7011 counts every
    # data record, and so does tshark's check below): it reports one failure per export
    # packet that follows one with options data. Accept exactly that, nothing more.
    optpkts=$(tshark "${tsopts[@]}" -T fields -e cflow.flowset_id 2>/dev/null |
      grep -cE '(^|,)3(,|$)')
    seqwarn=$(tshark "${tsopts[@]}" -Y 'cflow && _ws.expert.group == "Sequence"' 2>/dev/null |
      wc -l)
    if [ "$seqwarn" -eq 0 ] && [ "$seq" -le "$optpkts" ]; then
      pass "$label nfdump: $seq sequence failures, all after packets with options records" \
        "($optpkts; nfdump 1.7.1 does not count those), tshark: sequence clean"
    else
      fail "$label nfdump: sequence failures: $seq (packets with options: $optpkts," \
        "tshark sequence warnings: $seqwarn)"
    fi
  else
    fail "$label nfdump: sequence failures: ${seq:-unknown}"
  fi
  # -a (5-tuple aggregation), not -A proto,srcip,...: nfdump 1.7.1's -A prints ICMP type.code
  # as 0.0.
  nfdump -R "$d/nfcapd" -q -N -a -o 'fmt:%pr,%sa,%da,%sp,%dp,%pkt,%byt' \
    >"$d/nfdump.txt" 2>"$d/nfdump.err" || fail "$label nfdump: $(head -1 "$d/nfdump.err")"
  args=(--truth "$truth" --nfdump "$d/nfdump.txt" --label "$label")
  [ "$v" = 5 ] && args+=(--ipv4-only)
  [ "$v" != 5 ] && args+=(--nfacctd "$d/nfacctd.csv")
  out=$("$py" "$here/netflow_probe_check.py" "${args[@]}")
  echo "$out"
  failures=$((failures + $(grep -c '^FAIL' <<<"$out")))

  # tshark: every datagram is CFLOW, nothing malformed, no expert warning or error.
  total=$(tshark -r "$d/export.pcap" 2>/dev/null | wc -l)
  cflow=$(tshark "${tsopts[@]}" -Y cflow 2>/dev/null | wc -l)
  bad=$(tshark "${tsopts[@]}" -Y '_ws.malformed || _ws.expert.severity >= warning' 2>/dev/null |
    wc -l)
  if [ "$total" -gt 0 ] && [ "$cflow" -eq "$total" ]; then
    pass "$label tshark: $total datagrams, all decoded as CFLOW"
  else
    fail "$label tshark: $cflow of $total datagrams decoded as CFLOW"
  fi
  if [ "$bad" -eq 0 ]; then pass "$label tshark: no malformed packet, no expert warning/error"; else
    fail "$label tshark: $bad datagrams malformed or with expert warnings:"
    tshark "${tsopts[@]}" -q -z expert,warn 2>/dev/null | grep -v '^$' | head -15 | sed 's/^/    /'
  fi
  # Sequence numbers as tshark decodes them, message by message: v5 counts flows (the next
  # sequence = this one + its count), v9 counts export packets (+ 1). tshark analyses v9 and
  # IPFIX sequences itself (expert group "Sequence", checked above) but not v5.
  if [ "$v" != 10 ]; then
    seqcheck=$(tshark "${tsopts[@]}" -Y cflow -T fields -e cflow.sequence -e cflow.count \
      2>/dev/null | "$py" -c '
import sys
v = int(sys.argv[1]); prev = None; bad = n = 0
for line in sys.stdin:
    f = line.split()
    if len(f) < 2:
        continue
    seq, count = int(f[0]), int(f[1])
    n += 1
    if prev is not None and seq != (prev[0] + (prev[1] if v == 5 else 1)) % 2**32:
        bad += 1
    prev = (seq, count)
print(n, bad)' "$v")
    read -r seqn seqbad <<<"$seqcheck"
    if [ "${seqn:-0}" -gt 0 ] && [ "${seqbad:-1}" -eq 0 ]; then
      pass "$label tshark fields: sequence continuous over $seqn messages"
    else
      fail "$label tshark fields: $seqbad of $seqn messages break the sequence"
    fi
  fi
done

xf_finish "PASS: netflow probe interop ($exporter)" "($exporter)"
