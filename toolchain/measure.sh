#!/usr/bin/env bash
# Size and memory of xflowd per target and profile, for the table in docs/porting.md.
#
# Usage: toolchain/measure.sh [native] [aarch64] [mips]     (default: all three)
#
# For each target it builds only the xflowd executable, three ways, in build/measure/:
#   minimal        -DXFLOWD_PROFILE=minimal (Release, -O3)
#   minimal-small  the same with -DXFLOWD_OPTIMIZE_SIZE=ON -DXFLOWD_LTO=ON
#   full           -DXFLOWD_PROFILE=full (the simulator inside)
# and prints a markdown table: stripped size, and memory of two runs:
#   agent  = `--sim --ports 48 --load 0 --duration 3` (full only: the sFlow agent, 48 idle
#            ports, pollers running);
#   probe  = `-r` of a 1,000-packet capture with the default 262,144-flow cache.
# Memory is peak RSS (GNU time %M) minus the peak RSS of `xflowd --version` run the same
# way: what the run itself adds. Under qemu-user the absolute RSS is mostly qemu's, so only
# the difference means anything; natively both are shown.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(native aarch64 mips)
out=$root/build/measure
mkdir -p "$out"

capture=$out/probe.pcap
if [ ! -s "$capture" ]; then
  cmake -S "$root" -B "$out/host-tools" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DXFLOWD_BUILD_TESTS=OFF -DXFLOWD_BUILD_BENCH=OFF >/dev/null
  cmake --build "$out/host-tools" --target xflowd-pcapgen >/dev/null
  "$out/host-tools/sim/xflowd-pcapgen" --packets 1000 --flows 100 --out "$capture" >/dev/null
fi

peak_kb() {  # command... -> peak RSS in KiB
  /usr/bin/time -f '%M' -o "$out/time.txt" "$@" >/dev/null 2>&1 || true
  tail -n 1 "$out/time.txt"
}

echo "| target | profile | stripped bytes | agent: RSS above --version | probe: RSS above --version | --version RSS |"
echo "|---|---|---:|---:|---:|---:|"
for t in "${targets[@]}"; do
  case $t in
    native) tc=""; strip=strip; run=() ;;
    aarch64)
      bash "$root/toolchain/sysroot.sh" arm64 >/dev/null
      tc=$root/toolchain/aarch64-linux-gnu.cmake; strip=aarch64-linux-gnu-strip
      lib=$root/build/sysroot/arm64
      run=(qemu-aarch64-static -L /usr/aarch64-linux-gnu -E
        "LD_LIBRARY_PATH=$lib/usr/lib/aarch64-linux-gnu:$lib/lib/aarch64-linux-gnu") ;;
    mips)
      tc=$root/toolchain/mips-linux-gnu.cmake; strip=mips-linux-gnu-strip
      run=(qemu-mips-static -L /usr/mips-linux-gnu) ;;
    *) echo "unknown target $t" >&2; exit 2 ;;
  esac
  for cfg in minimal minimal-small full; do
    case $cfg in
      minimal) flags=(-DXFLOWD_PROFILE=minimal) ;;
      minimal-small) flags=(-DXFLOWD_PROFILE=minimal -DXFLOWD_OPTIMIZE_SIZE=ON -DXFLOWD_LTO=ON) ;;
      full) flags=(-DXFLOWD_PROFILE=full) ;;
    esac
    dir=$out/$t-$cfg
    cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DXFLOWD_BUILD_TESTS=OFF \
      -DXFLOWD_BUILD_BENCH=OFF ${tc:+-DCMAKE_TOOLCHAIN_FILE=$tc} "${flags[@]}" >/dev/null
    cmake --build "$dir" --target xflowd >/dev/null
    "$strip" -o "$dir/xflowd.stripped" "$dir/agent/xflowd"
    size=$(stat -c %s "$dir/xflowd.stripped")
    base=$(peak_kb "${run[@]}" "$dir/agent/xflowd" --version)
    agent="n/a"
    if [ "$cfg" = full ]; then
      a=$(peak_kb "${run[@]}" "$dir/agent/xflowd" --sim --ports 48 --load 0 \
        --collector 127.0.0.1:9 --duration 3 -q)
      agent="$(( a - base )) KiB"
    fi
    p=$(peak_kb "${run[@]}" "$dir/agent/xflowd" -r "$capture" -n 127.0.0.1:9 -q)
    probe="$(( p - base )) KiB"
    printf '| %s | %s | %s | %s | %s | %s KiB |\n' "$t" "$cfg" "$size" "$agent" "$probe" "$base"
  done
done
