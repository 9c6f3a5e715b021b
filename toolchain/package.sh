#!/usr/bin/env bash
# Builds the Debian package from the tree: the release build of what the package holds, then
# CPack (docs/package.md). Usage: toolchain/package.sh   -> build/package/xflowd_*.deb
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/toolchain/deps.sh"
"$root/toolchain/build.sh" release xflowd xflowctl xflowdump xflowd_docs
cpack -G DEB --config "$root/build/release/CPackConfig.cmake" -B "$root/build/package" >/dev/null
ls "$root"/build/package/xflowd_*.deb
