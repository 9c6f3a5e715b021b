#!/usr/bin/env bash
# Loss curve of live flow probes: how many packets per second each takes before it loses
# any. trafgen (netsniff-ng) sends 60-byte IPv4 UDP frames of 10,000 flows (source port
# 1024..11023 in turn) from one network namespace into a veth whose other end is in a second
# one, at fixed rates (0.25, 0.5 and 1 Mpps, paced by a bit rate on one sending process, since
# trafgen's "-b Npps" does not throttle), then as fast as trafgen goes on every CPU; each probe
# in turn captures that veth end and exports to an nfcapd on the namespace's loopback:
#   xflowd -i (IPFIX), softflowd -i (NetFlow v9), fprobe -i (NetFlow v5).
# Per run: packets the veth delivered (its rx_packets), packets the collector stored
# (nfdump), loss = 1 - stored / delivered, and the kernel drops the probe reports (xflowd's
# exit summary, softflowctl statistics; fprobe reports none), and the CPU time the probe
# process (all its threads) used from the start of sending to 1 s after, per delivered packet
# (/proc/PID/stat utime + stime: what a probe costs even where the sender, not the probe, is
# the limit and nothing is lost). Prints a markdown table and,
# per probe, the highest rate at which it lost under 0.1%.
#
# Usage: loss_curve_bench.sh BUILD_DIR          (as root; exit 77 if a facility is missing)
# Environment:
#   XF_LC_RATES    packets/s to try, "max" = trafgen unpaced on every CPU
#                  (default "250000 500000 1000000 max")
#   XF_LC_SECONDS  seconds of traffic per run at a fixed rate (default 5)
#   XF_LC_TOOLS    probes to run (default "xflowd xflowd-fanout softflowd fprobe";
#                  xflowd-fanout = xflowd -i --threads <CPUs>, AF_PACKET fanout workers)
#   XF_LC_XFLOWD   extra xflowd arguments (e.g. "--threads 2": AF_PACKET fanout workers)
#   KEEP=1         keep the work directory
# The achieved rate is what the veth delivered over the sender's wall time; a rate the machine
# cannot send ends on time all the same (trafgen is stopped after XF_LC_SECONDS + 1 s) and the
# row says what it did send.
set -uo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd) || exit 2
rates=${XF_LC_RATES:-250000 500000 1000000 max}
seconds=${XF_LC_SECONDS:-5}
tools=${XF_LC_TOOLS:-xflowd xflowd-fanout softflowd fprobe}
xflowd=$build/agent/xflowd

skip() {
  echo "SKIP: $*"
  exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
for t in ip trafgen nfcapd nfdump; do
  command -v "$t" >/dev/null || skip "$t is not installed"
done
[ -x "$xflowd" ] || skip "$xflowd not built"

# Every probe flushes its whole cache at exit: nfcapd's 32 MiB buffer keeps up only if
# net.core.rmem_max allows it (global: raised for the run, put back after).
old_rmem=$(sysctl -n net.core.rmem_max)
[ "$old_rmem" -lt 33554432 ] && sysctl -q -w net.core.rmem_max=33554432

ns_tx=xf_speed_lc_tx
ns_rx=xf_speed_lc_rx
work=$(mktemp -d /tmp/xf-speed-lc.XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  [ "$old_rmem" -lt 33554432 ] && sysctl -q -w net.core.rmem_max="$old_rmem"
  ip netns del "$ns_tx" 2>/dev/null
  ip netns del "$ns_rx" 2>/dev/null
  if [ "${KEEP:-0}" = 1 ]; then echo "work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$ns_tx" || skip "cannot create network namespaces"
ip netns add "$ns_rx"
for ns in "$ns_tx" "$ns_rx"; do
  ip -n "$ns" link set lo up
  # No IPv6 neighbour discovery or router solicitations: only the replay crosses the veth.
  ip netns exec "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip -n "$ns_tx" link add eth0 type veth peer name eth0 netns "$ns_rx" || skip "no veth"
ip -n "$ns_tx" link set eth0 up
ip -n "$ns_rx" link set eth0 up

# 60 bytes on the wire without FCS (14 + 20 + 8 + 18), so bit rate = pps x 480.
cfg=$work/flows.cfg
cat >"$cfg" <<'CFG'
{
  eth(da=02:00:00:00:00:02, sa=02:00:00:00:00:01),
  ipv4(saddr=10.16.0.1, daddr=10.16.1.1, ttl=64),
  udp(sp=dinc(1024, 11023), dp=9),
  fill(0x00, 18)
}
CFG
sleep 1  # the veth's carrier: frames sent before it is up are not delivered

rx_packets() { ip netns exec "$ns_rx" cat /sys/class/net/eth0/statistics/rx_packets; }
# utime + stime of a process, all threads, in clock ticks (the name in parentheses skipped).
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'; }
clk_tck=$(getconf CLK_TCK)
port=2055

# run_probe TOOL RATE: one row.
declare -A r_sent r_pps r_stored r_drops r_loss r_note r_cpu
run_probe() {
  local tool=$1 rate=$2 key="$1 $2" dir="$work/$1-$2"
  mkdir -p "$dir/nfcapd"
  port=$((port + 1))
  ip netns exec "$ns_rx" nfcapd -b 127.0.0.1 -p "$port" -B 33554432 -w "$dir/nfcapd" \
    >"$dir/nfcapd.log" 2>&1 &
  local nf=$!
  pids+=("$nf")
  local probe
  case $tool in
    xflowd | xflowd-fanout)
      local threads=1
      [ "$tool" = xflowd-fanout ] && threads=$(nproc)
      # shellcheck disable=SC2086
      ip netns exec "$ns_rx" "$xflowd" -i eth0 -n "127.0.0.1:$port/ipfix" --control-socket none \
        --threads "$threads" ${XF_LC_XFLOWD:-} >"$dir/out.log" 2>"$dir/err.log" &
      ;;
    softflowd)
      ip netns exec "$ns_rx" softflowd -d -i eth0 -n "127.0.0.1:$port" -v 9 -m 65536 \
        -c "$dir/ctl" -p "$dir/pid" >"$dir/out.log" 2>"$dir/err.log" &
      ;;
    fprobe)
      # Its exit flush loses records: flows idle 2 s leave on their own (scanned each second),
      # and the script waits for that before stopping it.
      ip netns exec "$ns_rx" fprobe -l 2 -d 2 -s 1 -q 100000 -i eth0 "127.0.0.1:$port" >"$dir/out.log" \
        2>"$dir/err.log" &
      ;;
  esac
  probe=$!
  pids+=("$probe")
  sleep 1.5  # the capture is open
  if ! kill -0 "$probe" 2>/dev/null; then
    r_note[$key]="did not start: $(head -c 100 "$dir/err.log")"
    return
  fi
  local before after args t0 t1 cpu0 cpu1
  if [ "$rate" = max ]; then
    args=(-P "$(nproc)" -n 0)
  else
    # One process paced by a bit rate reaches ~150 kpps on a loaded core: every CPU sends its
    # share (trafgen splits -n over its processes; -b is each process's rate).
    args=(-P "$(nproc)" -n $((rate * seconds)) -b "$((rate * 48 / 100 / $(nproc)))kbit")
  fi
  before=$(rx_packets)
  cpu0=$(cpu_ticks "$probe")
  t0=$(date +%s%N)
  # Stopped on time whatever it reached (SIGINT: trafgen prints its totals and exits).
  ip netns exec "$ns_tx" timeout -s INT $((seconds + 1)) trafgen -o eth0 -i "$cfg" -q "${args[@]}" \
    >"$dir/trafgen.log" 2>&1
  t1=$(date +%s%N)
  after=$(rx_packets)
  sleep 1  # the probe empties its buffer
  cpu1=$(cpu_ticks "$probe")
  [ "$tool" = fprobe ] && sleep 3
  if [ "$tool" = softflowd ] && command -v softflowctl >/dev/null; then
    softflowctl -c "$dir/ctl" statistics >"$dir/stats.log" 2>&1
    r_drops[$key]=$(awk -F': *' '/Packets dropped by libpcap/ { print $2 }' "$dir/stats.log")
    # SIGTERM exits without exporting the cache; shutdown expires every flow first.
    softflowctl -c "$dir/ctl" shutdown >/dev/null 2>&1
    sleep 1
  fi
  kill -TERM "$probe" 2>/dev/null
  wait "$probe" 2>/dev/null
  sleep 1  # the final export reaches the collector
  kill -TERM "$nf"
  wait "$nf" 2>/dev/null
  if [ "$tool" = xflowd ] || [ "$tool" = xflowd-fanout ]; then
    r_drops[$key]=$(sed -n 's/.*captured [0-9]* packets on eth0[^,]*, \([0-9]*\) dropped by the kernel.*/\1/p' \
      "$dir/err.log" "$dir/out.log" | head -1)
  fi
  r_sent[$key]=$((after - before))
  r_cpu[$key]=$(awk -v a="${cpu0:-}" -v b="${cpu1:-}" -v t="$clk_tck" -v n="${r_sent[$key]}" \
    'BEGIN { if (a != "" && b != "" && n > 0) printf "%.2f", (b - a) / t * 1e6 / n; else print "-" }')
  # Delivered over the sender's wall time (trafgen's start-up, ~0.1 s, included: a little low).
  r_pps[$key]=$(awk -v n="${r_sent[$key]}" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", n * 1e9 / ns }')
  r_stored[$key]=$(nfdump -R "$dir/nfcapd" -I 2>/dev/null | awk -F': *' '$1 == "Packets" { print $2 }')
  r_loss[$key]=$(awk -v s="${r_stored[$key]:-0}" -v d="${r_sent[$key]}" \
    'BEGIN { if (d > 0) printf "%.3f", (d - s) * 100 / d; else print "-" }')
  echo "  $tool @ $rate: delivered ${r_sent[$key]} (${r_pps[$key]} pps), stored ${r_stored[$key]:-0}," \
    "loss ${r_loss[$key]}%, kernel drops ${r_drops[$key]:--}, CPU ${r_cpu[$key]} us/packet" >&2
}

run_tools=()
for tool in $tools; do
  if [ "${tool#xflowd}" = "$tool" ] && ! command -v "$tool" >/dev/null; then
    echo "NOTE: $tool is not installed: no row" >&2
    continue
  fi
  run_tools+=("$tool")
done
# Interleaved: every probe at one rate, then the next rate.
for rate in $rates; do
  for tool in "${run_tools[@]}"; do run_probe "$tool" "$rate"; done
done

echo
echo "$(nproc) CPUs, $(uname -r), $(date -u +%Y-%m-%d); traffic: 60-byte IPv4 UDP frames of" \
  "10,000 flows sent by trafgen over a veth between two namespaces"
echo
# A probe may leave some packets of this mix uncounted at any rate (softflowd: ~1%, its
# "packets processed" below "received by libpcap" with no drops): the loss that matters is
# the one the rate adds, against the probe's own share at the lowest rate.
declare -A r_added
for tool in "${run_tools[@]}"; do
  base=""
  for rate in $rates; do
    key="$tool $rate"
    [ -n "${r_loss[$key]:-}" ] && [ "${r_loss[$key]}" != - ] || continue
    share=$(awk -v s="${r_stored[$key]:-0}" -v d="${r_sent[$key]}" 'BEGIN { printf "%.6f", s / d }')
    [ -z "$base" ] && base=$share
    r_added[$key]=$(awk -v s="$share" -v b="$base" 'BEGIN { if (b > 0) printf "%.3f", (1 - s / b) * 100; else print "-" }')
  done
done
echo "| rate asked | probe | delivered | achieved pps | stored by the collector | loss % | loss the rate added % | kernel drops reported | probe CPU us/packet |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
for rate in $rates; do
  for tool in "${run_tools[@]}"; do
    key="$tool $rate"
    if [ -n "${r_note[$key]:-}" ]; then
      echo "| $rate | $tool | ${r_note[$key]} | | | | | | |"
      continue
    fi
    echo "| $rate | $tool | ${r_sent[$key]:--} | ${r_pps[$key]:--} | ${r_stored[$key]:--} |" \
      "${r_loss[$key]:--} | ${r_added[$key]:--} | ${r_drops[$key]:--} | ${r_cpu[$key]:--} |"
  done
done
echo
echo "| probe | highest achieved rate at which the rate added < 0.1% loss |"
echo "|---|---:|"
for tool in "${run_tools[@]}"; do
  best="none"
  best_pps=0
  for rate in $rates; do
    key="$tool $rate"
    [ -n "${r_added[$key]:-}" ] && [ "${r_added[$key]}" != - ] || continue
    if awk -v l="${r_added[$key]}" 'BEGIN { exit !(l < 0.1) }' &&
      [ "${r_pps[$key]:-0}" -gt "$best_pps" ]; then
      best_pps=${r_pps[$key]}
      best="$best_pps pps (asked $rate)"
    fi
  done
  echo "| $tool | $best |"
done
exit 0
