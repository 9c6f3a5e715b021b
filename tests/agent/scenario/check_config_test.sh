#!/usr/bin/env bash
# xflowd --check-config end to end: the example file is valid (exit 0, the effective file on
# stdout), a bad file is not (exit 2, FILE:LINE:COLUMN and the key on stderr).
#   check_config_test.sh XFLOWD_BINARY SOURCE_DIR
set -euo pipefail
xflowd="$1"
src="$2"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/xflowd-check-config.XXXXXX")"
trap 'rm -rf "${tmp}"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

rc=0
"${xflowd}" --check-config "${src}/etc/xflowd.toml" >"${tmp}/out" 2>"${tmp}/err" || rc=$?
[[ ${rc} -eq 0 ]] || fail "example file: exit ${rc}: $(cat "${tmp}/err")"
grep -q '^type = "linux"$' "${tmp}/out" || fail "example file: no effective source printed"
grep -q '^cache-size = 262144$' "${tmp}/out" || fail "example file: defaults not printed"

# What it printed reads back to the same configuration.
rc=0
"${xflowd}" --check-config "${tmp}/out" >"${tmp}/out2" 2>"${tmp}/err" || rc=$?
[[ ${rc} -eq 0 ]] || fail "printed file: exit ${rc}: $(cat "${tmp}/err")"
diff <(tail -n +2 "${tmp}/out") <(tail -n +2 "${tmp}/out2") || fail "printed file reads back differently"

printf '[agent]\naddress = "192.0.2.1"\n\n[ports]\nsampling-rate = "fast"\n' >"${tmp}/bad.toml"
rc=0
"${xflowd}" --check-config "${tmp}/bad.toml" >"${tmp}/out" 2>"${tmp}/err" || rc=$?
[[ ${rc} -eq 2 ]] || fail "bad file: exit ${rc}, expected 2"
grep -qF "${tmp}/bad.toml:5:17: ports.sampling-rate: expected an integer, got a string" \
  "${tmp}/err" || fail "bad file: unexpected error: $(cat "${tmp}/err")"
[[ ! -s "${tmp}/out" ]] || fail "bad file: printed a configuration"

# --config runs the same checks before starting anything.
rc=0
"${xflowd}" --config "${tmp}/bad.toml" >/dev/null 2>"${tmp}/err" || rc=$?
[[ ${rc} -eq 2 ]] || fail "--config bad file: exit ${rc}, expected 2"
grep -qF "bad.toml:5:17: ports.sampling-rate" "${tmp}/err" || fail "--config: $(cat "${tmp}/err")"
echo "check_config_test: ok"
