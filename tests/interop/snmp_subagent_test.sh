#!/usr/bin/env bash
# Interop: the sFlow MIB over AgentX with a real snmpd (docs/snmp.md). In a private network
# namespace: snmpd as AgentX master on 127.0.0.1:1161 and a private AgentX socket, xflowd
# --sim --ports 48 as its sub-agent with one collector from the file (xflowdump A) and a
# manager's collector on 6399 (xflowdump B). Checks, with snmpwalk/snmpset:
#   1. the walk: 48 sFlowFsTable and 48 sFlowCpTable rows, rates and intervals as `xflowctl
#      ports` reports them, the file's collector as a receiver owned by "config";
#   2. bad sets (wrong type, rate out of range, a receiver owned by someone else, a
#      config-owned receiver, a data source pointed at an unclaimed row) get their SNMP error
#      and change nothing;
#   3. a claim (owner, timeout, address, port), then swp3's sFlowFsReceiver and
#      sFlowCpReceiver set to it: datagrams at B within 2 s, carrying swp3's samples only (its
#      own datagram sequence from 1), and A gets no more of swp3;
#   4. a rate and an interval set on swp3: B's datagrams carry them, and swp3's flow-sample
#      sequence continues from A to B; A's datagram sequence has no break;
#   5. a file reload keeps what SNMP set; the timeout runs out: B gets nothing more, the row
#      is free again, swp3's sampler and poller are idle (receiver 0);
#   6. snmpd started after xflowd, and restarted: the sub-agent reconnects and the MIB is whole again within 10 s.
# About 20 s. Usage: snmp_subagent_test.sh BUILD_DIR. Needs root (namespace). Exit 77 = skipped.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
xflowd=$build/agent/xflowd
xflowctl=$build/tools/xflowctl
xflowdump=$build/tools/xflowdump
py=/usr/bin/python3

xf_need_root
xf_need_tools 77 snmpd
xf_need_tools 1 snmpwalk snmpset "$py"
for b in "$xflowd" "$xflowctl" "$xflowdump"; do
  [ -x "$b" ] || { echo "FAIL: $b not built"; exit 1; }
done
xf_private_netns "$@"
xf_work snmp

export SNMP_PERSISTENT_DIR=$work/persist  # snmpd and the client tools
mkdir -p "$SNMP_PERSISTENT_DIR"
sock=$work/agentx.sock
cat >"$work/snmpd.conf" <<CONF
master agentx
agentXSocket unix:$sock
agentXPerms 0660 0770
agentaddress udp:127.0.0.1:1161
rocommunity public 127.0.0.1
rwcommunity private 127.0.0.1
CONF
cat >"$work/xflowd.toml" <<CONF
[agent]
address = "10.0.0.1"
[[agent.collector]]
host = "127.0.0.1"
port = 6343
[snmp]
enabled = true
agentx-socket = "$sock"
ping-interval = 1
receivers = 4
[control]
socket = "$work/xflowd.sock"
CONF

if ! "$xflowd" --check-config "$work/xflowd.toml" --sim >/dev/null 2>"$work/check.err"; then
  if grep -q "without Net-SNMP" "$work/check.err"; then
    echo "SKIP: this xflowd was built without Net-SNMP"
    keep=0
    exit 77
  fi
  echo "FAIL: the test's configuration: $(cat "$work/check.err")"
  exit 1
fi

snmpd_pid=
start_snmpd() {
  snmpd -f -C -c "$work/snmpd.conf" -Lf "$work/snmpd.log" -m "" &
  snmpd_pid=$!
  pids+=("$snmpd_pid")
  wait_for test -S "$sock" || fail "snmpd made no AgentX socket"
}
SFLOW=1.3.6.1.4.1.14706.1.1
RCVR=$SFLOW.4.1
FS=$SFLOW.5.1
CP=$SFLOW.6.1
DS3=11.1.3.6.1.2.1.2.2.1.1.3.1  # data source ifIndex 3 (swp3), instance 1
walk() { snmpwalk -v2c -c public -On -t 1 -r 1 127.0.0.1:1161 "$SFLOW" 2>&1; }
get() { snmpget -v2c -c public -On -Oqv -t 1 -r 1 127.0.0.1:1161 "$1" 2>&1; }
set_() { snmpset -v2c -c private -On -t 2 -r 0 127.0.0.1:1161 "$@" 2>&1; }
# 3 scalars + 7 columns x (4 free + 1 config) receivers + 3 x 48 Fs + 2 x 48 Cp.
whole=278
mib_whole() { [ "$(walk | grep -c "^.$SFLOW")" -eq "$whole" ]; }
wait_whole() {  # up to $1 s
  local i
  for i in $(seq $(($1 * 5))); do
    mib_whole && return 0
    sleep 0.2
  done
  return 1
}
now() { date +%s.%N; }

"$xflowdump" -l 127.0.0.1:6343 -o json >"$work/a.json" 2>"$work/a.err" &
pids+=($!)
"$xflowdump" -l 127.0.0.1:6399 -o json >"$work/b.json" 2>"$work/b.err" &
dump_b=$!
pids+=($!)
wait_for udp_listening 6343 && wait_for udp_listening 6399 || fail "xflowdump did not listen"
# xflowd first: a master that comes later is found within the ping interval.
"$xflowd" --config "$work/xflowd.toml" --sim --ports 48 >"$work/xflowd.log" 2>&1 &
xflowd_pid=$!
pids+=("$xflowd_pid")
sleep 0.5
start_snmpd
wait_whole 10 || { fail "the MIB is not whole after 10 s"; walk | tail -3; }

# --- 1. the walk against what xflowd uses ---
walk >"$work/walk1.txt"
"$xflowctl" --socket "$work/xflowd.sock" --json ports >"$work/ports.json"
"$py" - "$work/walk1.txt" "$work/ports.json" <<'PY' || failures=$((failures + 1))
import json, re, sys
fs, cp, rcvr = {}, {}, {}
for line in open(sys.argv[1]):
    # An empty string prints with no type: `= ""`.
    m = re.match(r"\.1\.3\.6\.1\.4\.1\.14706\.1\.1\.(\d)\.1\.(\d)\.(\S*) = (?:[\w-]+: )?(.*)", line)
    if not m:
        continue
    table, col, idx, val = int(m[1]), int(m[2]), m[3], m[4].strip().strip('"')
    if table == 4:
        rcvr.setdefault(int(idx), {})[col] = val
    else:
        parts = idx.split(".")
        assert parts[0] == "11" and ".".join(parts[1:11]) == "1.3.6.1.2.1.2.2.1.1", idx
        (fs if table == 5 else cp).setdefault(int(parts[11]), {})[col] = val
ports = json.load(open(sys.argv[2]))
ports = ports.get("ports", ports) if isinstance(ports, dict) else ports
by_ifindex = {p["ifindex"]: p for p in ports}
bad = []
if len(fs) != 48 or len(cp) != 48:
    bad.append(f"{len(fs)} Fs and {len(cp)} Cp rows, not 48 and 48")
for i, row in fs.items():
    p = by_ifindex[i]
    if int(row[4]) != p["rate"] or row[3] != "5" or int(row[5]) != 128:
        bad.append(f"Fs {i}: {row} vs rate {p['rate']}")
for i, row in cp.items():
    if int(row[4]) != by_ifindex[i]["polling_interval_s"] or row[3] != "5":
        bad.append(f"Cp {i}: {row}")
if rcvr[5][2] != "config" or rcvr[5][7] != "6343" or rcvr[1][2] != "":
    bad.append(f"receivers: {rcvr}")
print(("FAIL " if bad else "PASS ") + "walk: 48 Fs + 48 Cp rows with the rates and intervals "
      "xflowctl ports shows; receiver 5 = the file's collector (owner config)")
for b in bad[:5]:
    print("  " + b)
sys.exit(1 if bad else 0)
PY

# --- 2. bad sets: the error, and nothing applied ---
expect_error() {  # WHAT ERROR snmpset-args...
  local what=$1 err=$2 out
  shift 2
  out=$(set_ "$@")
  if grep -q "Reason: $err" <<<"$out"; then pass "bad set ($what): $err"; else
    fail "bad set ($what): wanted $err, got: $out"
  fi
}
expect_error "wrong type" wrongType "$FS.4.$DS3" s 100
expect_error "rate out of range" wrongValue "$FS.4.$DS3" i -1
expect_error "Fs receiver not claimed" inconsistentValue "$FS.3.$DS3" i 3
expect_error "config-owned receiver" notWritable "$RCVR.7.5" i 6399
expect_error "claim without a timeout" inconsistentValue "$RCVR.2.2" s nobody
out=$(set_ "$RCVR.2.2" s first "$RCVR.3.2" i 60)
grep -q STRING <<<"$out" || fail "claiming receiver 2: $out"
expect_error "receiver owned by someone else" inconsistentValue "$RCVR.2.2" s second "$RCVR.3.2" i 60
set_ "$RCVR.2.2" s "" >/dev/null
[ "$(get "$FS.4.$DS3")" = 10000 ] && [ "$(get "$RCVR.2.2")" = '""' ] &&
  [ "$(get "$RCVR.7.5")" = 6343 ] &&
  pass "bad sets: nothing applied (swp3 still 1-in-10000, receivers as they were)" ||
  fail "bad sets changed something: rate $(get "$FS.4.$DS3"), owner 2 $(get "$RCVR.2.2")"

# --- 3. a claim, swp3 sent to it: datagrams at B within 2 s ---
out=$(set_ "$RCVR.2.1" s manager "$RCVR.3.1" i 8 "$RCVR.5.1" i 1 "$RCVR.6.1" x 7F000001 \
  "$RCVR.7.1" i 6399)
grep -q "INTEGER: 6399" <<<"$out" || fail "claim: $out"
t_claim=$(now)
out=$(set_ "$FS.3.$DS3" i 1 "$CP.3.$DS3" i 1)
grep -q "INTEGER: 1" <<<"$out" || fail "sFlowFsReceiver/sFlowCpReceiver set: $out"
got=0
for i in $(seq 40); do
  [ -s "$work/b.json" ] && { got=1; break; }
  sleep 0.05
done
t_first=$(now)
if [ "$got" = 1 ]; then
  pass "swp3 sent to receiver 1: datagrams at 127.0.0.1:6399 after $(awk "BEGIN{printf \"%.2f\", $t_first - $t_claim}") s"
else
  fail "swp3 sent to receiver 1: no datagram at 127.0.0.1:6399 within 2 s"
fi
"$xflowctl" --socket "$work/xflowd.sock" collectors | grep 127.0.0.1:6399 | grep -q snmp-1 &&
  pass "xflowctl collectors lists receiver snmp-1 at 127.0.0.1:6399" ||
  fail "xflowctl collectors does not list 127.0.0.1:6399 as snmp-1"

# --- 4. a rate and an interval on swp3 ---
t_set=$(now)
out=$(set_ "$FS.4.$DS3" i 256 "$SFLOW.6.1.4.$DS3" i 2)
grep -q "INTEGER: 256" <<<"$out" || fail "rate/interval set: $out"
"$xflowctl" --socket "$work/xflowd.sock" ports | awk '$2 == "swp3"' | grep ' 256 ' | grep -q snmp-1 &&
  pass "xflowctl ports shows swp3 at 1-in-256, sent to snmp-1" ||
  fail "xflowctl ports: swp3 not at 256 to snmp-1"

# A file reload (xflowctl reload): what SNMP set stays (the file does not set swp3).
"$xflowctl" --socket "$work/xflowd.sock" reload >/dev/null || fail "xflowctl reload failed"
[ "$(get "$FS.4.$DS3")" = 256 ] && [ "$(get "$RCVR.2.1")" = '"manager"' ] &&
  pass "a file reload keeps swp3 at 1-in-256 and the claimed receiver" ||
  fail "after a reload: swp3 $(get "$FS.4.$DS3"), receiver 1 owner $(get "$RCVR.2.1")"

# --- 5. the timeout runs out ---
freed=0
for i in $(seq 80); do
  [ "$(get "$RCVR.2.1")" = '""' ] && { freed=1; break; }
  sleep 0.1
done
t_free=$(now)
[ "$freed" = 1 ] && pass "receiver 1 free again after its timeout" || fail "receiver 1 still claimed"
[ "$(get "$RCVR.3.1")" = 0 ] && [ "$(get "$RCVR.5.1")" = 0 ] || fail "receiver 1 not reset"
[ "$(get "$FS.3.$DS3")" = 0 ] && [ "$(get "$CP.3.$DS3")" = 0 ] &&
  pass "swp3's sampler and poller idle (receiver 0)" ||
  fail "swp3's receivers after the timeout: $(get "$FS.3.$DS3") $(get "$CP.3.$DS3")"
sleep 0.3
n_b=$(wc -l <"$work/b.json")
sleep 1.5
[ "$(wc -l <"$work/b.json")" -eq "$n_b" ] && pass "no datagram at B after the timeout" ||
  fail "datagrams still at B after the timeout"

"$py" - "$work/a.json" "$work/b.json" "$t_claim" "$t_set" "$t_free" <<'PY' || failures=$((failures + 1))
import json, sys
a = [json.loads(l)["datagram"] for l in open(sys.argv[1]) if l.startswith("{")]
b = [json.loads(l)["datagram"] for l in open(sys.argv[2]) if l.startswith("{")]
t_attach, t_set, t_free = (float(x) for x in sys.argv[3:6])
bad = []
seqs = [d["sequence"] for d in a]
gaps = sum(1 for x, y in zip(seqs, seqs[1:]) if y != x + 1)
if gaps:
    bad.append(f"A: {gaps} datagram sequence breaks")
bseq = [d["sequence"] for d in b]
if not b or bseq != list(range(1, len(b) + 1)):
    bad.append(f"B: not its own sequence from 1: {bseq[:5]}")
others = {s["source_id"]["index"] for d in b for s in d["samples"]} - {3}
if others:
    bad.append(f"B: samples of other data sources: {sorted(others)[:5]}")
late_a = [s for d in a if d["time"] > t_attach + 0.5 for s in d["samples"]
          if s["source_id"]["index"] == 3]
if late_a:
    bad.append(f"A: {len(late_a)} samples of swp3 after it was sent to B")
flows = lambda ds: [s for d in ds for s in d["samples"]
                    if s["kind"] == "flow_sample" and s["source_id"]["index"] == 3]
fseq = [s["sequence"] for s in flows(a) + flows(b)]
if any(y != x + 1 for x, y in zip(fseq, fseq[1:])):
    bad.append("swp3 flow-sample sequence breaks from A to B")
late = [s for d in b if d["time"] > t_set + 0.5 for s in d["samples"]
        if s["kind"] == "flow_sample"]
if not late or any(s["sampling_rate"] != 256 for s in late):
    bad.append(f"swp3 flow samples after the set: {len(late)}, rates "
               f"{sorted(set(s['sampling_rate'] for s in late))}")
cs3 = [d["uptime_ms"] for d in b if d["time"] > t_set + 0.5 for s in d["samples"]
       if s["kind"] == "counters_sample"]
steps = [y - x for x, y in zip(cs3, cs3[1:])]
if len(steps) < 2 or any(not 1500 <= st <= 2600 for st in steps):
    bad.append(f"swp3 counter samples after the set, ms apart: {steps}")
after = [s for d in a if d["time"] > t_free + 0.5 for s in d["samples"]
         if s["source_id"]["index"] == 3]
if after:
    bad.append(f"A: {len(after)} samples of swp3 after the timeout (not idle)")
print(("FAIL " if bad else "PASS ") +
      f"datagrams: B had {len(b)} (sequence 1..{len(b)}) with swp3's samples only, at 1-in-256 "
      f"({len(late)} samples) and counters every 2 s after the set; swp3's flow sequence "
      f"continued from A to B; {len(a)} datagrams at A with no sequence break")
for x in bad:
    print("  " + x)
sys.exit(1 if bad else 0)
PY

# --- 6. snmpd restarted ---
stop "$snmpd_pid"
rm -f "$sock"
sleep 0.5
t_restart=$(now)
start_snmpd
if wait_whole 20; then
  pass "snmpd restarted: the MIB is whole again after $(awk "BEGIN{printf \"%.1f\", $(now) - $t_restart}") s"
else
  fail "snmpd restarted: the MIB is not whole after 20 s"
fi

"$xflowctl" --socket "$work/xflowd.sock" --json stats >"$work/stats.json"
"$py" - "$work/stats.json" <<'PY' || failures=$((failures + 1))
import json, sys
s = json.load(open(sys.argv[1]))["snmp"]
ok = s["agentx_connected"] == 1 and s["agentx_connects"] == 2 and s["sets"] == 5 and s["sets_refused"] == 6 and s["expiries"] == 1
print(("PASS " if ok else "FAIL ") + f"xflowctl stats: snmp {s}")
sys.exit(0 if ok else 1)
PY
stop "$xflowd_pid"
grep -q '^snmp: 0 of 4 receivers claimed, 1 ports set; 5 sets applied, 6 refused' "$work/xflowd.log" &&
  pass "exit summary: $(grep '^snmp:' "$work/xflowd.log")" ||
  fail "exit summary has no snmp line: $(tail -3 "$work/xflowd.log")"
grep -q 'snmp: receiver 1 (owner manager) timed out' "$work/xflowd.log" ||
  fail "the timeout is not logged"
xf_finish "PASS: snmp_subagent_test"
