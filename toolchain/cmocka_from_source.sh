#!/usr/bin/env bash
# CMocka for a target Debian has no binary packages for (big-endian mips in Debian 12): the
# source of Debian's own package (apt-get source, Debian's patches applied by dpkg-source),
# cross-built with the toolchain file of the target and installed into its sysroot. Only
# Debian's archive is used: deb-src of the host's Debian mirror (XFLOWD_DEBIAN_MIRROR, else the
# first Debian URI of the host's apt sources, else deb.debian.org) for the host's release, with
# a private apt state under the sysroot (no change to the system).
# Usage: toolchain/cmocka_from_source.sh DEBIAN_ARCH DIR   (called by toolchain/sysroot.sh)
set -euo pipefail
arch=${1:?usage: cmocka_from_source.sh DEBIAN_ARCH DIR}
dir=${2:?usage: cmocka_from_source.sh DEBIAN_ARCH DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
case "$arch" in
  mips) triplet=mips-linux-gnu ;;
  arm64) triplet=aarch64-linux-gnu ;;
  armhf) triplet=arm-linux-gnueabihf ;;
  *) echo "cmocka: no toolchain file for $arch"; exit 1 ;;
esac
if [ -f "$dir/usr/include/cmocka.h" ] && [ -e "$dir/usr/lib/$triplet/libcmocka.so" ]; then
  echo "cmocka: already in $dir"
  exit 0
fi
mirror=${XFLOWD_DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
  mirror=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
    grep -oE 'https?://[^ ]*/debian/?( |$)' | grep -v security | head -n 1 | tr -d ' ' || true)
fi
mirror=${mirror:-http://deb.debian.org/debian}
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
src=$dir/.apt/src
mkdir -p "$src/lists/partial" "$src/cache/archives/partial" "$src/get"
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" \
  >"$src/sources.list"
apt_opts=(-q -o "Dir::Etc::SourceList=$src/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
  -o "Dir::State::Lists=$src/lists" -o "Dir::Cache=$src/cache" -o "Dir::State::status=/dev/null"
  -o "Debug::NoLocking=1")
echo "cmocka: source package from $mirror $suite"
apt-get "${apt_opts[@]}" update >/dev/null
rm -rf "$src/get"/* && cd "$src/get"
apt-get "${apt_opts[@]}" source --download-only cmocka >/dev/null 2>&1 ||
  apt-get "${apt_opts[@]}" source --download-only cmocka
dsc=$(ls cmocka_*.dsc | head -n 1)
dpkg-source -q --no-check -x "$dsc" cmocka >/dev/null
echo "cmocka: building $(basename "$dsc" .dsc) for $arch"
cmake -S cmocka -B build -DCMAKE_TOOLCHAIN_FILE="$root/toolchain/$triplet.cmake" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$dir/usr" \
  -DCMAKE_INSTALL_LIBDIR="lib/$triplet" -DUNIT_TESTING=OFF -DWITH_EXAMPLES=OFF \
  -DCMAKE_C_COMPILER_LAUNCHER= >build.log 2>&1 || { tail -n 20 build.log; exit 1; }
cmake --build build -j "$(nproc)" >>build.log 2>&1 || { tail -n 20 build.log; exit 1; }
cmake --install build >>build.log 2>&1 || { tail -n 20 build.log; exit 1; }
echo "cmocka: installed in $dir/usr (lib/$triplet)"
