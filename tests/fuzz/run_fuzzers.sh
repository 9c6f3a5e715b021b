#!/usr/bin/env bash
# Builds every libFuzzer target (tests/fuzz/*_fuzz.cc) with clang and runs each one for N
# seconds on a temporary copy of its seed corpus: tests/fuzz/corpus/<name without _fuzz>/, or
# tests/fuzz/corpus/<name>/.
# Exits non-zero if any target crashes, leaks, times out or trips ASan/UBSan.
#
#   tests/fuzz/run_fuzzers.sh [seconds_per_target]   # default 60; 0 = only replay the seeds
#
# Environment:
#   XFLOWD_FUZZ_BUILD_DIR  build directory (default: build/fuzz in this checkout, reused)
#   XFLOWD_FUZZ_OUT_DIR    where crash reproducers and logs go (default: a new temp dir)
#   XFLOWD_FUZZ_JOBS       parallel build jobs (default: nproc)
#   XFLOWD_FUZZ_PARALLEL   targets fuzzed at the same time (default: nproc)
#
# Nothing is written into the source tree: the seed corpus is copied, and inputs the fuzzer
# finds stay in the temp copy. To grow the checked-in corpus, minimize on purpose with
# `<target> -merge=1 tests/fuzz/corpus/<name> <dir>`.
set -euo pipefail

seconds="${1:-60}"
if ! [[ "${seconds}" =~ ^[0-9]+$ ]]; then
  echo "usage: $0 [seconds_per_target]" >&2
  exit 2
fi

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build_dir="${XFLOWD_FUZZ_BUILD_DIR:-${repo}/build/fuzz}"
out_dir="${XFLOWD_FUZZ_OUT_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/xflowd-fuzz-out.XXXXXX")}"
jobs="${XFLOWD_FUZZ_JOBS:-$(nproc)}"
mkdir -p "${out_dir}"

work_dir="$(mktemp -d "${TMPDIR:-/tmp}/xflowd-fuzz-corpus.XXXXXX")"
trap 'rm -rf "${work_dir}"' EXIT

mapfile -t sources < <(find "${repo}/tests/fuzz" -maxdepth 1 -name '*_fuzz.cc' | sort)
if [[ ${#sources[@]} -eq 0 ]]; then
  echo "no *_fuzz.cc targets in ${repo}/tests/fuzz" >&2
  exit 1
fi
targets=()
for src in "${sources[@]}"; do
  targets+=("$(basename "${src}" .cc)")
done

# The libraries under test need the same instrumentation as the target: without
# sanitizer coverage libFuzzer is blind inside them, and without ASan their out-of-bounds
# reads go unnoticed. -fno-sanitize-recover makes UBSan findings fatal, so they count.
sanitize="-O1 -g -fno-omit-frame-pointer"
sanitize+=" -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
generator=()
if [[ ! -f "${build_dir}/CMakeCache.txt" ]] && command -v ninja >/dev/null 2>&1; then
  generator=(-G Ninja)
fi
# Build type left empty so that NDEBUG stays undefined: asserts are findings too. No -Werror
# here: warnings are the job of the normal CI build, this one hunts for crashes.
CC=clang CXX=clang++ cmake -S "${repo}" -B "${build_dir}" "${generator[@]}" \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE= \
  -DCMAKE_C_FLAGS="${sanitize}" -DCMAKE_CXX_FLAGS="${sanitize}" \
  -DXFLOWD_BUILD_FUZZ=ON -DXFLOWD_BUILD_TESTS=ON -DXFLOWD_BUILD_BENCH=OFF \
  -DXFLOWD_WERROR=OFF >/dev/null
cmake --build "${build_dir}" --parallel "${jobs}" --target "${targets[@]}"
# XFLOWD_FUZZ_BUILD_ONLY=1: build the targets and stop (toolchain/test.sh builds them in the
# background while other tests run).
if [[ "${XFLOWD_FUZZ_BUILD_ONLY:-0}" == 1 ]]; then rmdir "${out_dir}" 2>/dev/null || true; exit 0; fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

# One target: its own corpus copy and artifact directory; a file "failed" there on failure.
run_one() {
  local target="$1" binary corpus seeds artifacts limit
  binary="$(find "${build_dir}" -type f -perm -u+x -name "${target}" | head -n 1)"
  artifacts="${out_dir}/${target}"
  mkdir -p "${artifacts}"
  if [[ -z "${binary}" ]]; then
    echo "FAIL ${target}: binary not found under ${build_dir}" >&2
    touch "${artifacts}/failed"
    return
  fi
  corpus="${work_dir}/${target}"
  mkdir -p "${corpus}"
  seeds="${repo}/tests/fuzz/corpus/${target%_fuzz}"  # packet_parser_fuzz -> packet_parser
  if [[ ! -d "${seeds}" ]]; then seeds="${repo}/tests/fuzz/corpus/${target}"; fi
  if [[ -d "${seeds}" ]]; then
    cp -R "${seeds}/." "${corpus}/"
  fi
  if [[ "${seconds}" -eq 0 ]]; then
    limit=(-runs=0)  # -max_total_time=0 would mean "forever"
  else
    limit=(-max_total_time="${seconds}")
  fi
  if "${binary}" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="${artifacts}/" "${corpus}" >"${artifacts}/log.txt" 2>&1; then
    echo "ok   ${target}: ${seconds}s, $(find "${corpus}" -type f | wc -l) inputs," \
      "$(grep -E '^stat::number_of_executed_units' "${artifacts}/log.txt" | awk '{print $2}')" \
      "runs"
  else
    tail -n 60 "${artifacts}/log.txt" >&2
    echo "FAIL ${target}: reproducers and log in ${artifacts}" >&2
    touch "${artifacts}/failed"
  fi
}

# The targets run side by side, one per core (XFLOWD_FUZZ_PARALLEL): each gets its full time.
parallel="${XFLOWD_FUZZ_PARALLEL:-$(nproc)}"
echo "fuzzing ${#targets[@]} targets, ${seconds}s each, ${parallel} at a time"
running=0
for target in "${targets[@]}"; do
  if [[ ${running} -ge ${parallel} ]]; then
    wait -n || true
    running=$((running - 1))
  fi
  run_one "${target}" &
  running=$((running + 1))
done
wait || true

failed=()
for target in "${targets[@]}"; do
  if [[ -e "${out_dir}/${target}/failed" ]]; then failed+=("${target}"); fi
done

if [[ ${#failed[@]} -ne 0 ]]; then
  echo "fuzzing found problems in: ${failed[*]} (output: ${out_dir})" >&2
  exit 1
fi
echo "all fuzz targets clean (logs: ${out_dir})"
