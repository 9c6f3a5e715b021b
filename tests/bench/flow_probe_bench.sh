#!/usr/bin/env bash
# Flow-probe benchmark: the same capture through NetFlow/IPFIX exporters reading a file,
#   softflowd -r, pmacctd (nfprobe plugin, pcap_savefile) and xflowd -r (default threads and
#   reader; then one thread; then one thread with libpcap's reader, the old way),
# each exporting to its own nfcapd (own port and directory on 127.0.0.1). Prints a markdown
# table: wall and CPU seconds, peak RSS, packets/s (capture packets / wall), what nfdump
# stored (flows, packets, bytes, sequence failures) and xflowd's packets/s over each peer's,
# then two checks: xflowd's records are identical to its one-thread run (every flow's
# records, packets and bytes as nfdump stored them), and xflowd / softflowd >= 10.
# Exit status 1 if the records differ.
#
# Usage: flow_probe_bench.sh BUILD_DIR [packets] [flows]     (defaults 10000000 200000)
# Environment:
#   XF_BENCH_SECONDS  time span of the capture in packet time (default 60)
#   XF_BENCH_SNAPLEN  captured bytes per packet (default 128; lengths stay the full size)
#   XF_BENCH_PCAP     use this capture instead of generating one (its truth is unknown)
#   XF_BENCH_MAXFLOWS flow-cache size given to softflowd and pmacctd (default 262144)
#   XF_BENCH_TIMEOUT  seconds one exporter may run (default 1800)
#   XF_BENCH_VERSION  export protocol for every exporter: 10 (IPFIX, default) or 9
#   XF_BENCH_SKIP     exporters to leave out, e.g. "pmacctd" (it takes ~70 s)
#   XF_BENCH_ROUNDS   run softflowd and xflowd this many times, interleaved (default 1);
#                     the table then has a row per round and the ratio of each round
#   KEEP=1            keep the work directory (capture, logs, nfcapd files)
# As root the script re-runs itself in a private network namespace (no port clashes with
# anything else on the machine); otherwise it uses 127.0.0.1 with ports from 39100 up.
# An exporter that is missing or fails gets a row saying so; the script goes on.
set -uo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

build=$(cd "${1:?usage: $0 BUILD_DIR [packets] [flows]}" && pwd) || exit 2
packets=${2:-10000000}
flows=${3:-200000}
seconds=${XF_BENCH_SECONDS:-60}
snaplen=${XF_BENCH_SNAPLEN:-128}
maxflows=${XF_BENCH_MAXFLOWS:-262144}
run_timeout=${XF_BENCH_TIMEOUT:-1800}
version=${XF_BENCH_VERSION:-10}
skip=" ${XF_BENCH_SKIP:-} "
rounds=${XF_BENCH_ROUNDS:-1}
pcapgen=$build/sim/xflowd-pcapgen
xflowd=$build/agent/xflowd
py=/usr/bin/python3

if [ "$(id -u)" -eq 0 ] && [ -z "${XF_BENCH_IN_NS:-}" ] && command -v unshare >/dev/null; then
  # nfcapd -B 32 MiB keeps up with a replay only if net.core.rmem_max allows it; that sysctl
  # is global (not settable in the namespace): raise it for the run, put it back after.
  old_rmem=$(sysctl -n net.core.rmem_max)
  if [ "$old_rmem" -lt 33554432 ]; then
    sysctl -q -w net.core.rmem_max=33554432
    trap 'sysctl -q -w net.core.rmem_max='"$old_rmem" EXIT
  fi
  rc=0
  env XF_BENCH_IN_NS=1 unshare -n -- bash "$0" "$@" || rc=$?
  exit $rc
fi
if [ -n "${XF_BENCH_IN_NS:-}" ]; then
  ip link set lo up || { echo "FAIL: cannot bring lo up in the bench namespace"; exit 1; }
fi

for tool in nfcapd nfdump; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (package nfdump)"; exit 1; }
done
[ -x "$pcapgen" ] || { echo "FAIL: $pcapgen not built (ninja xflowd-pcapgen)"; exit 1; }

work=$(mktemp -d /tmp/xf-bench.XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "${KEEP:-0}" = 1 ]; then echo "work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- The capture -------------------------------------------------------------------------
truth_packets=""
truth_flows=""
if [ -n "${XF_BENCH_PCAP:-}" ]; then
  pcap=$XF_BENCH_PCAP
  packets=$(tcpdump -r "$pcap" -nq 2>/dev/null | wc -l)  # slow but only for a given file
  echo "capture: $pcap ($packets packets, truth unknown)"
else
  pcap=$work/bench.pcap
  echo "generating $packets packets over $flows flows, $seconds s of packet time, snaplen $snaplen"
  gen_out=$("$pcapgen" --packets "$packets" --flows "$flows" --seconds "$seconds" \
    --snaplen "$snaplen" --seed 1 --out "$pcap" --truth "$work/truth.csv") ||
    { echo "FAIL: xflowd-pcapgen failed"; exit 1; }
  echo "$gen_out"
  truth_packets=$packets
  truth_flows=$(($(wc -l <"$work/truth.csv") - 1))
fi
cap_bytes=$(stat -c %s "$pcap")
# Read the file once so every exporter starts with it in the page cache.
cat "$pcap" >/dev/null

# --- Measuring -----------------------------------------------------------------------------
# measure OUT_FILE CMD...: runs CMD (with a timeout), writes "rc wall user sys maxrss_kb".
if [ -x /usr/bin/time ] && /usr/bin/time -f %e true 2>/dev/null; then
  measure() {
    local out=$1
    shift
    /usr/bin/time -f '%e %U %S %M' -o "$out.t" timeout "$run_timeout" "$@"
    local rc=$?
    echo "$rc $(tail -1 "$out.t")" >"$out"
  }
else  # GNU time missing: getrusage of the waited-for children through python
  measure() {
    local out=$1
    shift
    "$py" - "$out" "$run_timeout" "$@" <<'PY'
import resource, subprocess, sys, time
out, limit, cmd = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
t0 = time.monotonic()
try:
    rc = subprocess.call(cmd, timeout=limit)
except subprocess.TimeoutExpired:
    rc = 124
wall = time.monotonic() - t0
r = resource.getrusage(resource.RUSAGE_CHILDREN)
open(out, "w").write("%d %.2f %.2f %.2f %d\n" % (rc, wall, r.ru_utime, r.ru_stime, r.ru_maxrss))
PY
  }
fi

port_base=39100
next_port=$port_base
listening() { ss -Hlun "sport = :$1" 2>/dev/null | grep -q .; }

# Starts an nfcapd for NAME on the next free port; sets nf_port and nf_pid.
start_collector() {
  local name=$1
  while listening "$next_port"; do next_port=$((next_port + 1)); done
  nf_port=$next_port
  next_port=$((next_port + 1))
  mkdir -p "$work/$name/nfcapd"
  # -B: a big socket buffer, exporters flush their whole cache in one burst at EOF.
  nfcapd -b 127.0.0.1 -p "$nf_port" -B 33554432 -w "$work/$name/nfcapd" \
    >"$work/$name/nfcapd.log" 2>&1 &
  nf_pid=$!
  pids+=("$nf_pid")
  local i
  for i in $(seq 100); do
    listening "$nf_port" && return 0
    kill -0 "$nf_pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "FAIL: nfcapd for $name did not start (see $work/$name/nfcapd.log)"
  return 1
}

stop_collector() {
  sleep 1  # the last datagrams of the final flush
  kill -TERM "$nf_pid" 2>/dev/null
  wait "$nf_pid" 2>/dev/null
}

declare -A res_status res_wall res_cpu res_rss res_pps res_flows res_pkts res_bytes res_seq
order=()

# run_exporter NAME CMD...: one row of the table.
run_exporter() {
  local name=$1
  shift
  order+=("$name")
  mkdir -p "$work/$name"
  if ! start_collector "$name"; then
    res_status[$name]="nfcapd failed"
    return
  fi
  # The exporter's command line may name the port: replace the word PORT.
  local cmd=() a
  for a in "$@"; do cmd+=("${a//@PORT@/$nf_port}"); done
  echo "running $name: ${cmd[*]}"
  measure "$work/$name/time" "${cmd[@]}" >"$work/$name/out.log" 2>"$work/$name/err.log"
  stop_collector
  local rc wall user sys rss
  read -r rc wall user sys rss <"$work/$name/time"
  res_wall[$name]=$wall
  res_cpu[$name]=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
  res_rss[$name]=$(awk -v k="$rss" 'BEGIN { printf "%.0f", k / 1024 }')
  res_pps[$name]=$(awk -v p="$packets" -v w="$wall" 'BEGIN { if (w > 0) printf "%.0f", p / w; else print 0 }')
  if [ "$rc" -eq 124 ]; then
    res_status[$name]="timed out after $run_timeout s"
  elif [ "$rc" -ne 0 ]; then
    res_status[$name]="failed (exit $rc): $(grep -m1 . "$work/$name/err.log" | cut -c1-100)"
  else
    res_status[$name]=ok
  fi
  local info
  info=$(nfdump -R "$work/$name/nfcapd" -I 2>/dev/null)
  res_flows[$name]=$(awk -F': *' '$1 == "Flows" { print $2 }' <<<"$info")
  res_pkts[$name]=$(awk -F': *' '$1 == "Packets" { print $2 }' <<<"$info")
  res_bytes[$name]=$(awk -F': *' '$1 == "Bytes" { print $2 }' <<<"$info")
  res_seq[$name]=$(awk -F': *' '$1 == "Sequence failures" { print $2 }' <<<"$info")
  echo "  $name: ${res_status[$name]}, ${wall}s wall"
}

# --- The exporters -------------------------------------------------------------------------
skipped() { [[ "$skip" == *" $1 "* ]]; }
run_softflowd() {
  local name=$1 dir
  # -c before -r: softflowd's -r turns the control socket off, which it must be when reading
  # a file (1.1.0 otherwise blocks in accept() on the control socket before reading).
  dir="$work/$name"
  mkdir -p "$dir"
  run_exporter "$name" softflowd -c "$dir/ctl" -r "$pcap" -n 127.0.0.1:@PORT@ \
    -v "$version" -d -m "$maxflows" -p "$dir/pid"
}
run_xflowd() {
  local name=$1
  shift
  run_exporter "$name" "$xflowd" -r "$pcap" --netflow 127.0.0.1:@PORT@ \
    --netflow-version "$version" -q "$@"
}
have_softflowd=0
command -v softflowd >/dev/null && ! skipped softflowd && have_softflowd=1
for round in $(seq "$rounds"); do
  sfx=""
  [ "$rounds" -gt 1 ] && sfx=" #$round"
  if [ $have_softflowd = 1 ]; then
    run_softflowd "softflowd$sfx"
  elif [ "$round" = 1 ]; then
    order+=(softflowd)
    res_status[softflowd]=$(skipped softflowd && echo skipped || echo "not installed")
  fi
  if [ -x "$xflowd" ]; then
    run_xflowd "xflowd$sfx"
  else
    order+=("xflowd$sfx")
    res_status["xflowd$sfx"]="not built ($xflowd missing)"
  fi
done

if skipped pmacctd; then
  order+=(pmacctd)
  res_status[pmacctd]="skipped"
elif command -v pmacctd >/dev/null; then
  mkdir -p "$work/pmacctd"
  # The port is filled in by writing the config after the collector starts: use a wrapper.
  cat >"$work/pmacctd/run.sh" <<EOF
#!/usr/bin/env bash
cat >"$work/pmacctd/pmacctd.conf" <<CONF
daemonize: false
pcap_savefile: $pcap
plugins: nfprobe
nfprobe_receiver: 127.0.0.1:\$1
nfprobe_version: $version
nfprobe_maxflows: $maxflows
plugin_pipe_size: 104857600
plugin_buffer_size: 104857
CONF
exec pmacctd -f "$work/pmacctd/pmacctd.conf"
EOF
  run_exporter pmacctd bash "$work/pmacctd/run.sh" @PORT@
else
  order+=(pmacctd)
  res_status[pmacctd]="not installed"
fi

if [ -x "$xflowd" ]; then
  run_xflowd "xflowd 1 thread" --threads 1
  run_xflowd "xflowd 1 thread, libpcap" --threads 1 --reader libpcap
fi

# Records by flow as nfdump stored them: one line per flow key with its record count,
# packets and bytes, sorted (times are left out: the same packet times either way).
by_flow() {
  nfdump -R "$work/$1/nfcapd" -q -N -o 'fmt:%pr,%sa,%da,%sp,%dp,%pkt,%byt' 2>/dev/null |
    tr -d ' ' | awk -F, 'NF >= 7 { k = $1","$2","$3","$4","$5; n[k]++; p[k] += $6; b[k] += $7 }
      END { for (k in n) print k","n[k]","p[k]","b[k] }' | sort
}

# --- The table -----------------------------------------------------------------------------
echo
echo "capture: $packets packets, ${truth_flows:-?} flows (truth), $((cap_bytes / 1048576)) MiB," \
  "snaplen $snaplen, $(nproc) CPUs, $(date -u +%Y-%m-%d)"
echo
echo "| exporter | status | wall s | CPU s | peak RSS MiB | packets/s | flows (nfdump) | packets (nfdump) | bytes (nfdump) | seq. failures | xflowd pps / this |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in "${order[@]}"; do
  ratio="-"
  # Each row against the xflowd run of its own round (the first one for the rest).
  x_name=xflowd
  [ "$rounds" -gt 1 ] && x_name="xflowd #1"
  [[ "$n" == *" #"* ]] && x_name="xflowd #${n##* #}"
  x_pps=""
  [ "${res_status[$x_name]:-}" = ok ] && x_pps=${res_pps[$x_name]}
  if [ -n "$x_pps" ] && [ "${res_status[$n]}" = ok ] && [ "${res_pps[$n]:-0}" != 0 ]; then
    ratio=$(awk -v a="$x_pps" -v b="${res_pps[$n]}" 'BEGIN { printf "%.2f", a / b }')
  fi
  echo "| $n | ${res_status[$n]} | ${res_wall[$n]:--} | ${res_cpu[$n]:--} | ${res_rss[$n]:--} |" \
    "${res_pps[$n]:--} | ${res_flows[$n]:--} | ${res_pkts[$n]:--} | ${res_bytes[$n]:--} |" \
    "${res_seq[$n]:--} | $ratio |"
done
if [ -n "$truth_packets" ]; then
  truth_bytes=$(awk -F, 'NR > 1 { s += $8 } END { printf "%.0f", s }' "$work/truth.csv")
  echo "| (truth) | | | | | | $truth_flows | $truth_packets | $truth_bytes | | |"
fi
echo
echo "packets/s = capture packets / wall seconds. Flows may exceed the truth where an exporter"
echo "splits a flow (cache size, timeouts); packets and bytes should match it. pmacctd runs two"
echo "processes (core + plugin): CPU is both, peak RSS the larger."
x1=xflowd
[ "$rounds" -gt 1 ] && x1="xflowd #1"
[ "${res_status[$x1]:-}" = ok ] || echo "NOTE: xflowd row: ${res_status[$x1]:-missing}"
rc=0
echo
if [ "${res_status[$x1]:-}" = ok ] && [ "${res_status[xflowd 1 thread]:-}" = ok ]; then
  by_flow "$x1" >"$work/by_flow.default"
  by_flow "xflowd 1 thread" >"$work/by_flow.one"
  flows_compared=$(wc -l <"$work/by_flow.one")
  if [ "$flows_compared" -gt 0 ] && cmp -s "$work/by_flow.default" "$work/by_flow.one"; then
    echo "CHECK records by flow, default threads vs 1 thread: identical ($flows_compared flows)"
  else
    echo "CHECK records by flow, default threads vs 1 thread: DIFFERENT" \
      "($(diff "$work/by_flow.default" "$work/by_flow.one" | grep -c '^[<>]') lines differ)"
    rc=1
  fi
fi
for r in $(seq "$rounds"); do
  x="xflowd" s="softflowd" label=""
  [ "$rounds" -gt 1 ] && x="xflowd #$r" && s="softflowd #$r" && label=" (round $r)"
  if [ "${res_status[$x]:-}" = ok ] && [ "${res_status[$s]:-}" = ok ]; then
    ratio=$(awk -v a="${res_pps[$x]}" -v b="${res_pps[$s]}" 'BEGIN { printf "%.2f", a / b }')
    verdict=$(awk -v r="$ratio" 'BEGIN { print (r >= 10 ? "ok" : "BELOW 10") }')
    echo "CHECK xflowd / softflowd packets/s$label: $ratio ($verdict)"
  fi
done
exit $rc

