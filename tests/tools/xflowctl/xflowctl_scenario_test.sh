#!/usr/bin/env bash
# xflowctl end to end: `xflowd --sim --config FILE` with a control socket in a temp directory,
# asked by xflowctl for status, ports, collectors, flows, top, check, stats and flush (--json,
# checked field by field with python3), a human table, reload after editing the file (a
# collector added, one port's rate changed; then a broken file refused with file:line:column
# while the old configuration runs on), the error exits (1 daemon error, 2 usage, 3 no daemon),
# the self-check flagging exactly the one simulated port that lies ([[source.sim.fault]]), and a
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

conf=$work/xflowd.toml
write_conf() {  # write_conf RATE_OF_SWP2 [EXTRA_COLLECTOR_PORT]
  cat >"$conf" <<TOML
[agent]
address = "127.0.0.1"
[[agent.collector]]
host = "127.0.0.1"
port = 9
$([ -n "${2:-}" ] && printf '[[agent.collector]]\nhost = "127.0.0.1"\nport = %s\n' "$2")
[ports]
sampling-rate = 100
polling-interval = 1
[[port]]
match = "swp2"
sampling-rate = $1
[[flow.collector]]
host = "127.0.0.1"
port = 9
protocol = "ipfix"
[source]
type = "sim"
[source.sim]
ports = 4
speed = "1G"
[[source.sim.fault]]
port = 3
wrong-rate = 1.5
[control]
socket = "$sock"
[self-check]
window = 2
TOML
}
write_conf 100
"$xflowd" --config "$conf" --duration 60 >"$work/xflowd.log" 2>&1 &
pid=$!
pids+=("$pid")
wait_for test -S "$sock" || { fail "no control socket at $sock"; sed 's/^/  /' "$work/xflowd.log"; xf_finish ""; }

ctl() { "$xflowctl" --socket "$sock" "$@"; }
# check NAME PYTHON_EXPR FILE: the expression on the JSON in FILE (as j) must be true.
check() {
  if python3 -c 'import json,sys; j=json.load(open(sys.argv[2])); sys.argv.append(sys.argv[2]); sys.exit(0 if eval(sys.argv[1]) else 1)' \
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
  'j["mode"] == "sim" and "4 x 1G" in j["platform"] and j["version"] and j["uptime_s"] >= 0 and j["ports"] == 4 and j["last_reload"] is None and j["config_file"] == sys.argv[3].replace("status.json", "xflowd.toml")' \
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
ctl --json top 3 >"$work/top.json" || fail "top exit $?"
check "top 3: 3 talkers, heaviest first, scaled to bytes/s" \
  'len(j["talkers"]) == 3 and [r["bytes_per_s"] for r in j["talkers"]] == sorted([r["bytes_per_s"] for r in j["talkers"]], reverse=True) and all(r["bytes_per_s"] > 0 and r["samples"] > 0 for r in j["talkers"])' \
  "$work/top.json"
ctl top 3 >"$work/top.txt" || fail "top (table) exit $?"
[ "$(grep -c 'BYTES/S' "$work/top.txt")" -ge 1 ] && [ "$(wc -l <"$work/top.txt")" -ge 4 ] &&
  pass "top 3: a table" || { fail "top table"; sed 's/^/  /' "$work/top.txt"; }
# The self-check's 2 s windows (from the file): swp3 samples at 1.5 x the rate it announces
# ([[source.sim.fault]]), so it is flagged after two windows outside the interval, and only it.
poll_check() { ctl --json check >"$work/check.json" && json_true 'j["windows"] >= 3' "$work/check.json"; }
for _ in $(seq 300); do poll_check && break; sleep 0.1; done  # 3 windows: ~6 s, up to ~30 s
poll_check || fail "the self-check made no 3 windows"
check "check: a verdict for each of the 4 ports; the lying swp3 flagged, no other" \
  'j["window_s"] == 2 and len(j["ports"]) == 4 and [p["name"] for p in j["ports"] if p["flagged"]] == ["swp3"] and j["flagged"] == 1' "$work/check.json"

# Reload: a collector added and swp2 at 1-in-50; every other port and collector untouched.
before=$(ctl --json collectors | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["datagrams"])')
write_conf 50 10
ctl reload >"$work/reload.txt" 2>&1 && pass "reload after editing the file: exit 0" ||
  fail "reload: exit $?: $(cat "$work/reload.txt")"
ctl --json ports >"$work/ports2.json" || fail "ports exit $?"
check "reload: swp2 now 1-in-50, the other ports still 1-in-100" \
  'all(p["rate"] == (50 if p["name"] == "swp2" else 100) for p in j)' "$work/ports2.json"
ctl --json collectors >"$work/collectors2.json" || fail "collectors exit $?"
check "reload: a third collector, the first one's datagram count kept (>= $before)" \
  "len(j) == 3 and j[0][\"datagrams\"] >= $before and j[1][\"transport\"] == \"udp 127.0.0.1:10\"" \
  "$work/collectors2.json"
ctl --json status >"$work/status2.json" || fail "status exit $?"
check "status: the last reload ok, with what changed" \
  'j["last_reload"]["ok"] and any("collector" in c for c in j["last_reload"]["changes"])' \
  "$work/status2.json"
# A broken file: refused with file:line:column, the running configuration stays.
printf '[agent]\naddress = "127.0.0.1"\nbogus-key = 1\n' >"$conf"
ctl reload >/dev/null 2>"$work/reload_bad.err"
rc=$?
[ $rc = 1 ] && grep -q "$conf:3:[0-9]*: agent.bogus-key" "$work/reload_bad.err" &&
  pass "broken file: reload exits 1 naming $conf:3 and the key" ||
  fail "broken file: exit $rc: $(cat "$work/reload_bad.err")"
ctl --json ports >"$work/ports3.json" || fail "ports exit $?"
check "after the refused reload swp2 is still 1-in-50" \
  'all(p["rate"] == (50 if p["name"] == "swp2" else 100) for p in j)' "$work/ports3.json"

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
