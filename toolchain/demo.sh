#!/usr/bin/env bash
# The demo: xflowd samples a simulated 48-port 10G switch and exports sFlow to a local
# collector; xflowdump decodes it and prints what is being exported. Ctrl-C stops both. While it
# runs, `build/release/tools/xflowctl top` asks xflowd itself (its default control socket).
# Usage: toolchain/demo.sh [seconds]   (default: run until Ctrl-C)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/toolchain/deps.sh"
"$root/toolchain/build.sh" release xflowd xflowdump xflowctl
bin="$root/build/release"
port=${XFLOWD_DEMO_PORT:-6343}
duration=${1:-0}
dump_args=(-l "127.0.0.1:$port" -o summary -i 2)
xf_args=(--sim --ports 48 --speed 10G --collector "127.0.0.1:$port")
if [ "$duration" != 0 ]; then
  dump_args+=(-t "$((duration + 1))")
  xf_args+=(--duration "$duration")
fi
"$bin/tools/xflowdump" "${dump_args[@]}" &
dump_pid=$!
trap 'kill "$xf_pid" "$dump_pid" 2>/dev/null || true' INT TERM EXIT
sleep 0.3
echo "demo: xflowd --sim exporting to 127.0.0.1:$port; xflowdump decoding (Ctrl-C to stop)"
echo "demo: ask the running xflowd from another shell: $bin/tools/xflowctl top (or status, ports, check)"
"$bin/agent/xflowd" "${xf_args[@]}" &
xf_pid=$!
wait "$xf_pid" || true
wait "$dump_pid" || true
