#!/usr/bin/env bash
# Loss curve of live flow probes: how many packets per second each takes before it loses
# any. A capture of small frames (xflowd-pcapgen: 64-128 bytes, 10,000 flows) is replayed
# with tcpreplay from one network namespace into a veth whose other end is in a second one,
# at fixed rates (0.25, 0.5 and 1 Mpps, then as fast as tcpreplay goes), and each probe in
# turn captures that veth end and exports to an nfcapd on the namespace's loopback:
#   xflowd -i (IPFIX), softflowd -i (NetFlow v9), fprobe -i (NetFlow v5).
# Per run: packets the veth delivered (its rx_packets), packets the collector stored
# (nfdump), loss = 1 - stored / delivered, and the kernel drops the probe reports (xflowd's
# exit summary, softflowctl statistics; fprobe reports none). Prints a markdown table and,
# per probe, the highest rate at which it lost under 0.1%.
#
# Usage: loss_curve_bench.sh BUILD_DIR          (as root; exit 77 if a facility is missing)
# Environment:
#   XF_LC_RATES    packets/s to try, "max" = tcpreplay --topspeed
#                  (default "250000 500000 1000000 max")
#   XF_LC_SECONDS  seconds of traffic per run at a fixed rate (default 5)
#   XF_LC_TOOLS    probes to run (default "xflowd softflowd fprobe")
#   XF_LC_XFLOWD   extra xflowd arguments (e.g. "--snaplen 128")
#   KEEP=1         keep the work directory
# The achieved rate is tcpreplay's ("Rated: ... pps"): when the machine cannot send a rate,
# the row says what it did send.
set -uo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd) || exit 2
rates=${XF_LC_RATES:-250000 500000 1000000 max}
seconds=${XF_LC_SECONDS:-5}
tools=${XF_LC_TOOLS:-xflowd softflowd fprobe}
xflowd=$build/agent/xflowd
pcapgen=$build/sim/xflowd-pcapgen

skip() {
  echo "SKIP: $*"
  exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
for t in ip tcpreplay nfcapd nfdump; do
  command -v "$t" >/dev/null || skip "$t is not installed"
done
[ -x "$xflowd" ] || skip "$xflowd not built"
[ -x "$pcapgen" ] || skip "$pcapgen not built"

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

pcap=$work/replay.pcap
"$pcapgen" --packets 100000 --flows 10000 --seconds 10 --frame-size 64..128 --vlan-share 0 \
  --ipv6-share 0 --icmp-share 0 \
  --seed 1 --out "$pcap" >/dev/null || { echo "FAIL: xflowd-pcapgen"; exit 1; }

rx_packets() { ip netns exec "$ns_rx" cat /sys/class/net/eth0/statistics/rx_packets; }
port=2055

# run_probe TOOL RATE: one row.
declare -A r_sent r_pps r_stored r_drops r_loss r_note
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
    xflowd)
      # shellcheck disable=SC2086
      ip netns exec "$ns_rx" "$xflowd" -i eth0 -n "127.0.0.1:$port/ipfix" --control-socket none \
        ${XF_LC_XFLOWD:-} >"$dir/out.log" 2>"$dir/err.log" &
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
  local before after args
  if [ "$rate" = max ]; then
    args=(--topspeed --limit=2000000 --duration="$seconds")
  else
    # --duration too: a rate the machine cannot send ends on time all the same.
    args=(--pps="$rate" --limit=$((rate * seconds)) --duration="$seconds")
  fi
  before=$(rx_packets)
  ip netns exec "$ns_tx" tcpreplay -K --loop=0 "${args[@]}" -i eth0 "$pcap" \
    >"$dir/tcpreplay.log" 2>&1
  after=$(rx_packets)
  sleep 1  # the probe empties its buffer
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
  if [ "$tool" = xflowd ]; then
    r_drops[$key]=$(sed -n 's/.*captured [0-9]* packets on eth0, \([0-9]*\) dropped by the kernel.*/\1/p' \
      "$dir/err.log" "$dir/out.log" | head -1)
  fi
  r_sent[$key]=$((after - before))
  # tcpreplay's own rate (its wall time leaves out loading the capture).
  r_pps[$key]=$(sed -n 's/.*Rated: [0-9.]* Bps, [0-9.]* Mbps, \([0-9.]*\) pps.*/\1/p' \
    "$dir/tcpreplay.log" | head -1 | awk '{ printf "%.0f", $1 }')
  r_stored[$key]=$(nfdump -R "$dir/nfcapd" -I 2>/dev/null | awk -F': *' '$1 == "Packets" { print $2 }')
  r_loss[$key]=$(awk -v s="${r_stored[$key]:-0}" -v d="${r_sent[$key]}" \
    'BEGIN { if (d > 0) printf "%.3f", (d - s) * 100 / d; else print "-" }')
  echo "  $tool @ $rate: delivered ${r_sent[$key]} (${r_pps[$key]} pps), stored ${r_stored[$key]:-0}," \
    "loss ${r_loss[$key]}%, kernel drops ${r_drops[$key]:--}" >&2
}

run_tools=()
for tool in $tools; do
  if [ "$tool" != xflowd ] && ! command -v "$tool" >/dev/null; then
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
echo "$(nproc) CPUs, $(uname -r), $(date -u +%Y-%m-%d); capture: 100,000 IPv4 TCP/UDP frames of 64-128 bytes," \
  "10,000 flows, replayed in a loop by tcpreplay over a veth between two namespaces"
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
echo "| rate asked | probe | delivered | achieved pps | stored by the collector | loss % | loss the rate added % | kernel drops reported |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
for rate in $rates; do
  for tool in "${run_tools[@]}"; do
    key="$tool $rate"
    if [ -n "${r_note[$key]:-}" ]; then
      echo "| $rate | $tool | ${r_note[$key]} | | | | | |"
      continue
    fi
    echo "| $rate | $tool | ${r_sent[$key]:--} | ${r_pps[$key]:--} | ${r_stored[$key]:--} |" \
      "${r_loss[$key]:--} | ${r_added[$key]:--} | ${r_drops[$key]:--} |"
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
