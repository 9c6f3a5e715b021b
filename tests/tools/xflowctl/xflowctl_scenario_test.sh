#!/usr/bin/env bash
# xflowctl end to end: `xflowd --sim` with a control socket in a temp directory, asked by
# xflowctl for status, ports, collectors, flows, stats and flush (--json, checked field by field
# with python3), a human table, the error exits (1 daemon error, 2 usage, 3 no daemon), and a
# request sent without xflowctl, as a script would. The collectors are a port nobody listens on:
# the dead collector must show as down with its refusals. No root needed; a few seconds, no
# fixed sleeps (polling only).
# Usage: xflowctl_scenario_test.sh BUILD_DIR      (exit 77 = skipped)
set -uo pipefail
. "$(dirname "$0")/../../interop/lib.sh"
build=${1:?usage: xflowctl_scenario_test.sh BUILD_DIR}
xflowd=$build/agent/xflowd
xflowctl=$build/tools/xflowctl
[ -x "$xflowd" ] && [ -x "$xflowctl" ] || { echo "FAIL: xflowd or xflowctl not built"; exit 1; }
xf_need_tools 77 python3
if ! "$xflowd" --sim --collector 127.0.0.1:9 --duration 1 -q --control-socket none >/dev/null 2>&1; then
  echo "SKIP: this xflowd has no --sim"
  exit 77
fi
xf_work xflowctl
sock=$work/run/x.sock  # its directory does not exist yet: xflowd makes it

"$xflowd" --sim --ports 4 --speed 1G --sampling 100 --polling 1 --duration 60 \
  --collector 127.0.0.1:9 -n 127.0.0.1:9/ipfix --control-socket "$sock" >"$work/xflowd.log" 2>&1 &
pid=$!
pids+=("$pid")
wait_for test -S "$sock" || { fail "no control socket at $sock"; sed 's/^/  /' "$work/xflowd.log"; xf_finish ""; }

ctl() { "$xflowctl" --socket "$sock" "$@"; }
# check NAME PYTHON_EXPR FILE: the expression on the JSON in FILE (as j) must be true.
check() {
  if python3 -c 'import json,sys; j=json.load(open(sys.argv[2])); sys.exit(0 if eval(sys.argv[1]) else 1)' \
      "$2" "$3"; then
    pass "$1"
  else
    fail "$1: $2"; sed 's/^/  /' "$3"
  fi
}
json_true() { python3 -c 'import json,sys; j=json.load(open(sys.argv[2])); sys.exit(0 if eval(sys.argv[1]) else 1)' "$1" "$2"; }

mode=$(stat -c %a "$sock")
[ "$mode" = 600 ] && pass "socket mode 0600" || fail "socket mode $mode, not 600"

ctl --json status >"$work/status.json" || fail "status exit $?"
check "status: mode, platform, version, uptime" \
  'j["mode"] == "sim" and "4 x 1G" in j["platform"] and j["version"] and j["uptime_s"] >= 0 and j["ports"] == 4 and j["last_reload"] is None and j["config_file"] == ""' \
  "$work/status.json"

# Samples and counter samples come within a few ticks.
poll_stats() { ctl --json stats >"$work/stats.json" && json_true 'j["samplers"]["samples"] > 0 and j["pollers"]["samples"] >= 4' "$work/stats.json"; }
wait_for poll_stats || fail "no samples or counter samples in stats"
check "stats: source, receiver, event loop, flow meter and control counters" \
  'j["source"]["samples"] > 0 and j["receivers"][0]["flow_samples"] == j["samplers"]["samples"] and j["event_loop"]["ticks"] > 0 and j["flow_meter"]["metered"] > 0 and j["control"]["accepted"] >= 2 and j["control"]["requests"] >= 1' \
  "$work/stats.json"

ctl --json ports >"$work/ports.json" || fail "ports exit $?"
check "ports: 4 ports at 1-in-100, polled every 1 s, with counters" \
  'len(j) == 4 and all(p["rate"] == 100 and p["requested_rate"] == 100 and p["polling_interval_s"] == 1 and p["counters"]["in_ucast_pkts"] > 0 and p["name"].startswith("swp") for p in j) and sum(p["samples"] for p in j) > 0' \
  "$work/ports.json"

# The dead collector becomes visible: ICMP refusals are read back on the tick.
poll_dead() { ctl --json collectors >"$work/collectors.json" && json_true 'j[0]["state"] == "down" and j[0]["lost"] > 0' "$work/collectors.json"; }
wait_for poll_dead || fail "the sFlow collector nobody listens on did not show as down"
check "collectors: sFlow and IPFIX, datagrams counted, refusals shown" \
  'len(j) == 2 and j[0]["protocol"] == "sflow" and j[1]["protocol"] == "ipfix" and j[0]["datagrams"] > 0 and j[0]["transport"] == "udp 127.0.0.1:9" and "refused" in j[0]["details"] and j[0]["last_error"] is not None' \
  "$work/collectors.json"

ctl --json flows >"$work/flows.json" || fail "flows exit $?"
check "flows: cache enabled with its capacity" \
  'j["enabled"] and j["capacity"] == 262144 and j["flushes"] == 0' "$work/flows.json"
ctl --json flush >"$work/flush.json" || fail "flush exit $?"
check "flush: records exported" 'j["enabled"] and j["records"] >= 0' "$work/flush.json"
ctl --json flows >"$work/flows2.json" || fail "flows exit $?"
check "flows after flush: counted, forced end" \
  'j["flushes"] == 1 and j["records_by_reason"]["forced"] >= 1' "$work/flows2.json"

ctl ports >"$work/ports.txt" || fail "ports (table) exit $?"
if head -1 "$work/ports.txt" | grep -q '^IFINDEX  NAME' && [ "$(grep -c ' swp[0-9]' "$work/ports.txt")" = 4 ]; then
  pass "ports: a table with a header and 4 rows"
else
  fail "ports table"; sed 's/^/  /' "$work/ports.txt"
fi
ctl status | grep -q '^mode: *sim$' && pass "status: key: value lines" || fail "status (human)"

# Exit codes.
ctl top >/dev/null 2>"$work/top.err"
rc=$?
[ $rc = 1 ] && grep -q 'not available in this build' "$work/top.err" &&
  pass "top without its component: exit 1 with the error" || fail "top: exit $rc: $(cat "$work/top.err")"
ctl bogus >/dev/null 2>&1
rc=$?
[ $rc = 2 ] && pass "unknown command: exit 2" || fail "unknown command: exit $rc"
"$xflowctl" --socket "$work/nothing.sock" status >/dev/null 2>"$work/none.err"
rc=$?
[ $rc = 3 ] && grep -q "cannot connect to $work/nothing.sock" "$work/none.err" &&
  pass "no daemon: exit 3 naming the socket" || fail "no daemon: exit $rc: $(cat "$work/none.err")"

# Without xflowctl: one JSON line each way, as docs/control.md shows.
if python3 - "$sock" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'{"command": "status"}\n{"command": "nope"}\n')
f = s.makefile("r")
a, b = json.loads(f.readline()), json.loads(f.readline())
sys.exit(0 if a["ok"] and a["result"]["mode"] == "sim" and not b["ok"] and "unknown command" in b["error"] else 1)
PY
then pass "raw protocol: two pipelined requests, two replies"; else fail "raw protocol"; fi

stop "$pid"
rc=$?
[ $rc = 0 ] && pass "xflowd exit 0 on SIGTERM" || fail "xflowd exit $rc"
[ ! -e "$sock" ] && pass "socket removed at exit" || fail "socket left at $sock"
if grep -q "^control $sock: [0-9]* clients accepted, 0 rejected" "$work/xflowd.log"; then
  pass "exit summary has the control counters"
else
  fail "no control line in the summary"; sed 's/^/  /' "$work/xflowd.log"
fi

xf_finish "all xflowctl checks passed"
