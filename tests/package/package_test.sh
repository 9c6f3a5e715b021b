#!/usr/bin/env bash
# The Debian package end to end (root): cpack builds it from the build tree, lintian finds no
# error, apt-get installs it (user xflowd, conffile, unit, man pages, --check-config on the
# installed configuration, systemd-analyze verify of the installed unit), and purge removes
# it with its user and /etc/xflowd. The machine is left as it was found.
# Usage: package_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
t0=$(date +%s%N)
elapsed() {
  local ms=$((($(date +%s%N) - t0) / 1000000))
  printf '%d.%d s' $((ms / 1000)) $((ms % 1000 / 100))
}

if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: the package test installs a package: it needs root"
  exit 77
fi
for tool in cpack lintian dpkg-deb dpkg-shlibdeps apt-get systemd-analyze man; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing (toolchain/packages.txt)"; exit 1; }
done
# What this test removes at the end must not be there before it.
if dpkg-query -W -f='${Status}' xflowd 2>/dev/null | grep -q 'installed'; then
  echo "SKIP: package xflowd is already installed here; the test would remove it"
  exit 77
fi
if getent passwd xflowd >/dev/null || [ -e /etc/xflowd ]; then
  echo "SKIP: user xflowd or /etc/xflowd exists already; the test would remove it"
  exit 77
fi

tmp=$(mktemp -d)
installed=0
cleanup() {
  if [ $installed -eq 1 ]; then
    apt-get purge -y -q xflowd >/dev/null 2>&1 || dpkg --purge xflowd >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "=== build (cpack -G DEB from $build)"
# cpack installs what is built: bring what the package holds up to date first.
cmake --build "$build" --target xflowd xflowctl xflowdump xflowd_docs >"$tmp/build.log" 2>&1 || {
  cat "$tmp/build.log"
  exit 1
}
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp" >"$tmp/cpack.log" 2>&1 || {
  cat "$tmp/cpack.log"
  exit 1
}
deb=$(ls "$tmp"/xflowd_*.deb)
echo "$(basename "$deb"): $(stat -c %s "$deb") bytes;" \
  "Installed-Size $(dpkg-deb -f "$deb" Installed-Size) KiB ($(elapsed))"
dpkg-deb -f "$deb" Package Version Architecture Depends
# ${shlibs:Depends}: the libraries the binaries link, from dpkg-shlibdeps, and adduser.
depends=$(dpkg-deb -f "$deb" Depends)
for need in libc6 libstdc++6 adduser; do
  echo "$depends" | grep -q "$need" || { echo "FAIL: Depends lacks $need"; exit 1; }
done

echo "=== $(lintian --version) ($(elapsed))"
lintian --allow-root --tag-display-limit 0 "$deb" >"$tmp/lintian.txt" 2>&1 || true
cat "$tmp/lintian.txt"
if grep -q '^E:' "$tmp/lintian.txt"; then
  echo "FAIL: lintian reports errors"
  exit 1
fi
echo "lintian: $(grep -c '^E:' "$tmp/lintian.txt" || true) errors," \
  "$(grep -c '^W:' "$tmp/lintian.txt" || true) warnings"

echo "=== install ($(elapsed))"
installed=1
(cd "$tmp" && apt-get install -y -q --no-install-recommends "./$(basename "$deb")") \
  >"$tmp/apt.log" 2>&1 || { cat "$tmp/apt.log"; exit 1; }
dpkg -L xflowd | sort
for f in /usr/sbin/xflowd /usr/bin/xflowctl /usr/bin/xflowdump /etc/xflowd/xflowd.toml \
  /lib/systemd/system/xflowd.service /usr/share/doc/xflowd/copyright \
  /usr/share/doc/xflowd/changelog.gz; do
  [ -e "$f" ] || { echo "FAIL: $f is not installed"; exit 1; }
done
dpkg-query --showformat='${Conffiles}\n' --show xflowd | grep -q '/etc/xflowd/xflowd.toml' ||
  { echo "FAIL: /etc/xflowd/xflowd.toml is not a conffile"; exit 1; }
id xflowd
getent passwd xflowd | grep -q ':/usr/sbin/nologin$' ||
  { echo "FAIL: user xflowd has a login shell"; exit 1; }
/usr/sbin/xflowd --check-config /etc/xflowd/xflowd.toml >/dev/null
echo "xflowd --check-config /etc/xflowd/xflowd.toml: ok"
for page in /usr/share/man/man8/xflowd.8.gz /usr/share/man/man5/xflowd.toml.5.gz \
  /usr/share/man/man8/xflowctl.8.gz /usr/share/man/man1/xflowdump.1.gz; do
  lines=$(MANWIDTH=80 man -l "$page" 2>"$tmp/man.err" | wc -l)
  if [ "$lines" -lt 20 ] || [ -s "$tmp/man.err" ]; then
    cat "$tmp/man.err"
    echo "FAIL: man -l $page renders $lines lines"
    exit 1
  fi
  echo "man -l $page: $lines lines"
done
out=$(systemd-analyze verify /lib/systemd/system/xflowd.service 2>&1) || true
if [ -n "$out" ]; then
  echo "$out"
  echo "FAIL: systemd-analyze verify /lib/systemd/system/xflowd.service"
  exit 1
fi
echo "systemd-analyze verify /lib/systemd/system/xflowd.service: clean"
if [ -d /run/systemd/system ]; then
  systemctl is-enabled xflowd.service || true
else
  echo "(systemd is not running here: the package only installed the unit)"
fi

echo "=== purge ($(elapsed))"
apt-get purge -y -q xflowd >"$tmp/apt.log" 2>&1 || { cat "$tmp/apt.log"; exit 1; }
installed=0
fail=0
if getent passwd xflowd >/dev/null || getent group xflowd >/dev/null; then
  echo "FAIL: user or group xflowd is still there"
  fail=1
fi
for f in /etc/xflowd /usr/sbin/xflowd /lib/systemd/system/xflowd.service; do
  [ ! -e "$f" ] || { echo "FAIL: $f is still there after purge"; fail=1; }
done
if dpkg-query -W -f='${Status}' xflowd 2>/dev/null | grep -q 'installed'; then
  echo "FAIL: xflowd is still installed"
  fail=1
fi
[ $fail -eq 0 ] || exit 1
echo "purge: package, user, group and /etc/xflowd gone"
echo "=== package test passed ($(elapsed))"
