# Helpers shared by tests/interop/*_test.sh; each sources it with
#   . "$(dirname "$0")/lib.sh"
# right after `set -uo pipefail` (or -euo). Not a test itself (ctest runs *_test.sh only).
#
# Sourcing installs the exit trap: it kills and then waits for every PID in `pids`, deletes
# the network namespaces in `netns_list`, puts net.core.rmem_max back if xf_rmem_at_least
# raised it, and deletes $work (see xf_work) unless keep=1 or KEEP=1 is in the environment.
# keep starts at 1: a script sets it to 0 only when every check passed (xf_finish does), so
# the artifacts of a failed or interrupted run stay for a look. SIGINT/SIGTERM exit 130.
export PATH="$PATH:/usr/sbin:/sbin"  # ip, ss, nfcapd, pmacct live there
pids=()
netns_list=()
keep=1
work=
failures=0
xf_old_rmem=

xf_cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  for p in "${netns_list[@]}"; do ip netns del "$p" 2>/dev/null || true; done
  if [ -n "$xf_old_rmem" ]; then sysctl -q -w net.core.rmem_max="$xf_old_rmem" || true; fi
  if [ -n "$work" ]; then
    if [ "$keep" = 1 ] || [ "${KEEP:-0}" = 1 ]; then
      echo "artifacts kept in $work"
    else
      rm -rf "$work"
    fi
  fi
}
trap xf_cleanup EXIT
trap 'exit 130' INT TERM

# xf_work TAG: a new work directory /tmp/xf-TAG.XXXXXX in $work.
xf_work() { work=$(mktemp -d "/tmp/xf-$1.XXXXXX"); }

# xf_need_root [WHAT]: exit 77 (skipped) unless root.
xf_need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: needs root for ${1:-a network namespace}"
    exit 77
  fi
}

# xf_need_tools STATUS TOOL...: exit STATUS (77 = SKIP, else FAIL) if a TOOL is missing.
xf_need_tools() {
  local status=$1 word=FAIL tool
  shift
  [ "$status" = 77 ] && word=SKIP
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "$word: $tool is not installed"; exit "$status"; }
  done
}

# xf_private_netns "$@": re-runs this script in a private network namespace (its own
# 127.0.0.1, no port clashes) and exits with its status; in there, brings lo up and returns.
xf_private_netns() {
  if [ -z "${XF_INTEROP_IN_NS:-}" ]; then
    local rc=0
    env XF_INTEROP_IN_NS=1 unshare -n -- bash "$0" "$@" || rc=$?
    exit $rc
  fi
  ip link set lo up
}

# xf_rmem_at_least BYTES: raises net.core.rmem_max (global: it cannot be set inside a
# namespace) to BYTES for the run; the exit trap puts the old value back.
xf_rmem_at_least() {
  local old
  old=$(sysctl -n net.core.rmem_max)
  if [ "$old" -lt "$1" ]; then
    sysctl -q -w net.core.rmem_max="$1"
    xf_old_rmem=$old
  fi
}

# nsx CMD...: CMD in the namespace $ns. Foreground only: a background daemon is started with
# `ip netns exec` directly, so that $! is the daemon (ip netns exec execs) and can be stopped.
nsx() { ip netns exec "$ns" "$@"; }

fail() {
  echo "FAIL $*"
  failures=$((failures + 1))
}
pass() { echo "PASS $*"; }

# wait_for CMD...: up to 5 s for CMD to succeed.
wait_for() {
  local i
  for i in $(seq 100); do
    "$@" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}
udp_listening() { ss -Hlun "sport = :$1" | grep -q .; }
# udp_listening_in NS PORT: the same in network namespace NS.
udp_listening_in() { ip netns exec "$1" ss -Hlun "sport = :$2" | grep -q .; }
# gone PID: the process has ended (for wait_for, where stop would wait without a limit).
gone() { ! kill -0 "$1" 2>/dev/null; }
# stop PID [SIGNAL]: signals one process we started and waits for it.
stop() {
  kill "-${2:-TERM}" "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}

# xf_finish PASS_LINE [FAIL_SUFFIX]: exit 0 (artifacts deleted) if no check failed, else
# "FAIL: N check(s) failed[ FAIL_SUFFIX]" and exit 1.
xf_finish() {
  if [ "$failures" -eq 0 ]; then
    keep=0
    echo "$1"
    exit 0
  fi
  echo "FAIL: $failures check(s) failed${2:+ $2}"
  exit 1
}
