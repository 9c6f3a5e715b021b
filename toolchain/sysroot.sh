#!/usr/bin/env bash
# Target libraries for a cross build, without changing the system: Debian's packages for the
# target architecture are downloaded with a private apt state (its own package lists, cache and
# an empty dpkg status, all under the sysroot) and unpacked with `dpkg -x`. No
# `dpkg --add-architecture`, no multiarch install (which upgrades host packages and breaks on
# mirror skew).
#
# Usage: toolchain/sysroot.sh DEBIAN_ARCH [DIR]
#   DEBIAN_ARCH: arm64, armhf, mips, ...   DIR: default build/sysroot/DEBIAN_ARCH
# The toolchain files look in build/sysroot/<arch> by default (or $XFLOWD_SYSROOT), so after
# this `cmake --preset cross-aarch64` finds libpcap and libnl for the target.
# An architecture Debian 12 does not ship (mips: big-endian MIPS was dropped after Debian 10)
# gets a message, and the build leaves the libpcap and netlink back-ends out. CMocka (the vendor
# plugin C suites, tests/vendor) is the exception: for such an architecture it is built from
# Debian's own source package (apt-get source through the same private apt state, deb-src of
# the host's Debian mirror) with the cross compiler and installed into the sysroot, so the
# suites run under qemu on every target.
set -euo pipefail
arch=${1:?usage: toolchain/sysroot.sh DEBIAN_ARCH [DIR]}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${2:-$root/build/sysroot/$arch}
# The back-ends' libraries; their dependencies are added below.
pkgs="libpcap0.8-dev libnl-3-dev libnl-genl-3-dev libnl-route-3-dev libnl-nf-3-dev
libcmocka-dev"
# Provided by the cross toolchain (/usr/<triplet>): never taken from the archive.
toolchain_pkgs="libc6 libc6-dev libgcc-s1 libstdc++6 linux-libc-dev libcrypt1 libcrypt-dev
libnsl2 libnsl-dev libtirpc3 libtirpc-dev rpcsvc-proto gcc-12-base"

mkdir -p "$dir/.apt/lists/partial" "$dir/.apt/cache/archives/partial" "$dir/.apt/debs"
apt_opts=(-q -o "APT::Architecture=$arch" -o "APT::Architectures::=$arch"
  -o "Dir::State::Lists=$dir/.apt/lists" -o "Dir::Cache=$dir/.apt/cache"
  -o "Dir::State::status=/dev/null" -o "Debug::NoLocking=1")
echo "sysroot: package lists for $arch"
apt-get "${apt_opts[@]}" update >/dev/null
if ! apt-cache "${apt_opts[@]}" show "libpcap0.8:$arch" >/dev/null 2>&1; then
  echo "sysroot: Debian has no $arch packages; the libpcap and netlink back-ends are left" \
    "out of this target's build"
  "$root/toolchain/cmocka_from_source.sh" "$arch" "$dir"
  exit 0
fi
# The dependency closure, minus what the toolchain brings.
closure=$(apt-cache "${apt_opts[@]}" depends --recurse --no-recommends --no-suggests \
  --no-conflicts --no-breaks --no-replaces --no-enhances $pkgs |
  grep -v '^ ' | grep -v '^<' | sed "s/:$arch\$//" | sort -u)
want=()
for p in $closure; do
  skip=0
  for t in $toolchain_pkgs; do [ "$p" = "$t" ] && skip=1; done
  [ $skip -eq 0 ] && want+=("$p")
done
echo "sysroot: downloading ${#want[@]} packages"
(cd "$dir/.apt/debs" && apt-get "${apt_opts[@]}" download "${want[@]/%/:$arch}" >/dev/null 2>&1 ||
  apt-get "${apt_opts[@]}" download "${want[@]/%/:$arch}")
for deb in "$dir"/.apt/debs/*.deb; do dpkg -x "$deb" "$dir"; done
# -dev packages link lib.so to an absolute /usr/lib/... path; make them relative to the sysroot.
find "$dir" -type l | while read -r link; do
  target=$(readlink "$link")
  case "$target" in
    /*) ln -sfn "$dir$target" "$link" ;;
  esac
done
echo "sysroot: $dir ready ($(find "$dir" -name '*.so*' | wc -l) shared objects)"
