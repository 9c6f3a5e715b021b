#!/usr/bin/env bash
# Configures and builds one preset into build/<preset>. Usage: build.sh [preset] [targets...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
preset=${1:-release}
shift || true
cmake --preset "$preset" -S "$root" >/dev/null
cmake --build "$root/build/$preset" -j "$(nproc)" ${1:+--target "$@"}
