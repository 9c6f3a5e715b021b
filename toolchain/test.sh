#!/usr/bin/env bash
# The full test suite: unit, golden, scenario (release and ASan+UBSan builds), interop with real
# decoders (tshark, sfacctd, sfcapd, nfcapd, nfacctd) in network namespaces (root), the Debian
# package built, linted, installed and purged (root), the minimal
# firmware profile cross-built for arm64, armhf and big-endian mips with its tests run under qemu-user,
# and the fuzz targets.
# Usage: toolchain/test.sh [--quick]   (--quick: release build only: no sanitizers, no cross
# builds, no fuzzing)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
quick=0
[ "${1:-}" = "--quick" ] && quick=1
"$root/toolchain/deps.sh"
t0=$(date +%s)
step() { echo; echo "=== $* ($(( $(date +%s) - t0 )) s)"; }

step "release build (-Werror)"
"$root/toolchain/build.sh" release
step "unit, golden and scenario tests (release)"
ctest --test-dir "$root/build/release" -L 'unit|golden|scenario' --output-on-failure -j "$(nproc)"

if [ $quick -eq 0 ]; then
  step "ASan+UBSan build"
  "$root/toolchain/build.sh" asan
  step "unit and golden tests (ASan+UBSan)"
  ctest --test-dir "$root/build/asan" -L 'unit|golden' --output-on-failure -j "$(nproc)"
fi

# The cross builds and the fuzz targets' build (compiling only) run at idle CPU priority while
# the interop tests, which mostly wait for traffic and timers, run in front; the tests under
# qemu and the fuzzing run afterwards, in front, so no timing-sensitive test runs beside
# anything else. Target libraries for arm64 and
# armhf come from Debian's archive into build/sysroot (no system change); Debian 12 has none
# for big-endian mips, so its build leaves those back-ends out (CMocka is built from Debian's
# source package).
targets="aarch64:arm64 armhf:armhf mips:mips"
cross_pid=""
if [ $quick -eq 0 ]; then
  step "cross sysroots (arm64, armhf, mips)"
  for target in $targets; do bash "$root/toolchain/sysroot.sh" "${target##*:}"; done
  cross_log="$root/build/cross-builds.log"
  step "cross and fuzz builds started in the background (idle priority; log: $cross_log)"
  setsid chrt --idle 0 bash -c '
    set -e
    for target in '"$targets"'; do
      echo "=== build cross-${target%%:*}"
      "$0/toolchain/build.sh" "cross-${target%%:*}"
    done
    echo "=== build fuzz targets"
    XFLOWD_FUZZ_BUILD_ONLY=1 bash "$0/tests/fuzz/run_fuzzers.sh"' "$root" >"$cross_log" 2>&1 &
  cross_pid=$!
  trap '[ -n "$cross_pid" ] && kill -- -"$cross_pid" 2>/dev/null || true' EXIT
fi

if [ "$(id -u)" -eq 0 ]; then
  step "interop tests (real decoders, network namespace)"
  ctest --test-dir "$root/build/release" -L interop --output-on-failure -V
  step "Debian package: cpack, lintian, apt-get install, checks, purge"
  ctest --test-dir "$root/build/release" -L package --output-on-failure -V
else
  echo "interop and package tests skipped: they need root (network namespaces, apt-get)"
fi

if [ $quick -eq 0 ]; then
  step "waiting for the cross and fuzz builds"
  if ! wait "$cross_pid"; then
    tail -n 60 "$cross_log"
    echo "cross or fuzz builds failed (whole log: $cross_log)"
    exit 1
  fi
  cross_pid=""
  grep -E '^=== ' "$cross_log" || true
  for target in $targets; do
    preset=cross-${target%%:*}
    step "$preset: minimal profile, unit, golden and scenario tests under qemu-user"
    ctest --test-dir "$root/build/$preset" -L 'unit|golden|scenario' --output-on-failure \
      -j "$(nproc)"
  done
fi

if [ $quick -eq 0 ]; then
  step "fuzz targets (${XFLOWD_FUZZ_SECONDS:-15} s each)"
  bash "$root/tests/fuzz/run_fuzzers.sh" "${XFLOWD_FUZZ_SECONDS:-15}"
fi
step "all tests passed"
