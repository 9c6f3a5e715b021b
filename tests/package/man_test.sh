#!/usr/bin/env bash
# The man pages (man/*): mandoc -T lint finds nothing, and every option each binary's --help
# prints is in its page. Usage: man_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
src=$2
fail=0

# Lint: everything mandoc reports fails the test, except references to pages mandoc's
# database does not have (our own pages before they are installed, other packages' pages).
for page in "$src"/man/*.[0-9]; do
  out=$(mandoc -T lint "$page" 2>&1 || true)
  bad=$(printf '%s\n' "$out" | grep -v -e 'referenced manual not found' -e 'mandoc.db' \
    -e '^$' || true)
  if [ -n "$bad" ]; then
    echo "FAIL: mandoc -T lint $page:"
    echo "$bad"
    fail=1
  fi
done

# Options: long options anywhere in the help, short ones where a line starts with one.
check() {
  local binary=$1 page=$2 text opts
  text=$(mandoc -T ascii "$src/man/$page" | col -b)
  opts=$({
    "$binary" --help | grep -oE -- '(^|[^[:alnum:]-])--[a-z][a-z0-9-]+' | grep -oE -- '--.*'
    "$binary" --help | grep -oE -- '^ +-[[:alpha:]]([, ]|$)' | grep -oE -- '-[[:alpha:]]'
  } | sort -u)
  [ -n "$opts" ] || { echo "FAIL: no options found in $binary --help"; fail=1; return; }
  local n=0 opt
  for opt in $opts; do
    n=$((n + 1))
    # A here-string, not a pipe: grep -q stops at the first match, and with pipefail the
    # writer's SIGPIPE would make a found option look missing.
    if ! grep -qE -- "(^|[^[:alnum:]-])${opt}([^[:alnum:]-]|\$)" <<<"$text"; then
      echo "FAIL: $(basename "$binary") --help has $opt, $page does not"
      fail=1
    fi
  done
  echo "$page: $n options of $(basename "$binary") --help checked"
}
check "$build/agent/xflowd" xflowd.8
check "$build/tools/xflowctl" xflowctl.8
check "$build/tools/xflowdump" xflowdump.1
exit $fail
