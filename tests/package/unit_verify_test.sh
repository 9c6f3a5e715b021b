#!/usr/bin/env bash
# systemd-analyze verify of the package's unit (packaging/xflowd.service), its ExecStart
# pointed at the build tree's xflowd and its Documentation= pages found in build/man.
# Usage: unit_verify_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$2
command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s|^ExecStart=[^ ]*|ExecStart=$build/agent/xflowd|" "$src/packaging/xflowd.service" \
  >"$tmp/xflowd.service"
grep -q "^ExecStart=$build/agent/xflowd " "$tmp/xflowd.service"
# verify prints what it finds on stderr and may still exit 0: anything printed fails.
out=$(MANPATH="$build/man" systemd-analyze verify "$tmp/xflowd.service" 2>&1) || {
  echo "$out"
  echo "FAIL: systemd-analyze verify"
  exit 1
}
if [ -n "$out" ]; then
  echo "$out"
  echo "FAIL: systemd-analyze verify printed the above"
  exit 1
fi
echo "systemd-analyze verify: xflowd.service clean"
