#!/usr/bin/env bash
# Interop: discard samples (0:5) from the simulator's drops. xflowd --sim with [drops] on and
# the simulated switch dropping 2000 packets/s (kernel drop reasons and devlink traps, sent as
# NET_DM messages through the real drop-monitor read path), 1-in-2 sampling, at most 150
# discard samples/s, to tshark (capture) and xflowdump in a private network namespace. Checks:
#   - tshark decodes every datagram: no malformed packet, no expert warning or error, and it
#     counts as many sample-type-5 samples as xflowd exported;
#   - xflowdump (our decoder) reads every discard sample: known drop reasons, a sampled
#     header, per-data-source sequence numbers without gaps;
#   - the rate limit holds (no second of the run has more than max-per-s + one tick's budget);
#   - `xflowctl stats` and the exit summary show what sampling and the limit held back;
#   - --sample with [drops] on a kernel without NET_DM: one clear warning, xflowd runs on.
# Usage: sflow_discards_test.sh BUILD_DIR. Needs root (network namespace). Exit 77 = skipped.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
xflowd=$build/agent/xflowd
xflowctl=$build/tools/xflowctl
xflowdump=$build/tools/xflowdump
py=/usr/bin/python3

xf_need_root
xf_need_tools 77 tshark ip "$py"
for b in "$xflowd" "$xflowctl" "$xflowdump"; do
  [ -x "$b" ] || { echo "SKIP: $b not built"; exit 77; }
done

ns=xf_drops_$$
netns_list+=("$ns")
xf_work drops
ip netns add "$ns"
ip -n "$ns" link set lo up

cat >"$work/sim.toml" <<CONF
[agent]
address = "192.0.2.1"
[[agent.collector]]
host = "127.0.0.1"
port = 6343
[[agent.collector]]
host = "127.0.0.1"
port = 6346
[source]
type = "sim"
[source.sim]
ports = 8
load = 0.05
drops-per-s = 2000
[drops]
enabled = true
sampling-rate = 2
max-per-s = 150
[control]
socket = "$work/ctl.sock"
[run]
duration = 4
CONF

ip netns exec "$ns" tshark -i lo -f "udp port 6343" -w "$work/sflow.pcap" -q 2>"$work/tshark.log" &
pids+=($!)
tshark_pid=$!
ip netns exec "$ns" "$xflowdump" -l 127.0.0.1:6346 -o json >"$work/dump.json" 2>"$work/dump.log" &
pids+=($!)
dump_pid=$!
collectors_up() { grep -q "Capturing on" "$work/tshark.log" && udp_listening_in "$ns" 6346; }
wait_for collectors_up || wait_for collectors_up || true

ip netns exec "$ns" "$xflowd" --config "$work/sim.toml" 2>"$work/xflowd.log" &
pids+=($!)
xflowd_pid=$!
sleep 2
nsx "$xflowctl" --socket "$work/ctl.sock" --json stats >"$work/stats.json" 2>&1 || true
wait "$xflowd_pid" || fail "xflowd --sim exited with $?"
sleep 0.5
kill -INT "$tshark_pid" "$dump_pid" 2>/dev/null || true
for p in "$tshark_pid" "$dump_pid"; do wait_for gone "$p" || true; done

tshark -r "$work/sflow.pcap" -Y '_ws.malformed || _ws.expert.severity >= 6291456' \
  -T fields -e frame.number -e _ws.expert.message >"$work/tshark_errors.txt" 2>/dev/null || true
tshark -r "$work/sflow.pcap" -T fields -E occurrence=a -E separator=, \
  -e sflow_245.sampletype >"$work/tshark_types.txt" 2>/dev/null || true

"$py" - "$work" <<'PY'
import json, re, sys, collections
work = sys.argv[1]
fails = []
def check(ok, what):
    print(("PASS " if ok else "FAIL ") + what)
    if not ok: fails.append(what)

errors = open(f"{work}/tshark_errors.txt").read().split("\n")
errors = [e for e in errors if e.strip()]
check(not errors, f"tshark: no malformed frame or expert warning ({len(errors)} found)")
types = collections.Counter()
frames = 0
for line in open(f"{work}/tshark_types.txt"):
    line = line.strip()
    if not line: continue
    frames += 1
    for t in line.split(","):
        types[t] += 1
# tshark names the sample type by its tag: 5 = enterprise 0, format 5.
tshark_discards = types.get("5", 0)
log = open(f"{work}/xflowd.log").read()
m = re.search(r"Drops: (\d+) events .* (\d+) sampled out, (\d+) over the rate limit, (\d+) discard samples exported, (\d+) unsent", log)
check(m is not None, "the exit summary has the drops line")
if not m: print(log[-2000:]); sys.exit(1)
events, sampled_out, limited, exported, unsent = map(int, m.groups())
check(events > 6000 and sampled_out > 0 and limited > 0, f"sampled out {sampled_out} and limited {limited} of {events} events are counted")
check(exported > 400 and unsent == 0, f"{exported} discard samples exported")
check(tshark_discards == exported, f"tshark saw {tshark_discards} sample-type-5 samples in {frames} datagrams (exported {exported})")

discards = []
for line in open(f"{work}/dump.json"):
    o = json.loads(line)
    if "error" in o: check(False, "xflowdump: " + line.strip())
    d = o.get("datagram")
    if not d: continue
    for s in d.get("samples", []):
        if s.get("type") in ("discarded_packet",) or s.get("format") == 5 or "reason" in s:
            discards.append((d.get("uptime_ms", 0), s))
check(len(discards) == exported, f"xflowdump decoded {len(discards)} discard samples")
seq = {}
gaps = 0
reasons = collections.Counter()
for _, s in discards:
    src = json.dumps(s.get("source_id"))
    if seq.get(src, 0) + 1 != s["sequence"]: gaps += 1
    seq[src] = s["sequence"]
    reasons[s.get("reason_name") or s.get("reason")] += 1
check(gaps == 0, f"per-data-source sequence numbers without gaps ({len(seq)} sources)")
check(len(reasons) >= 8, f"drop reasons seen: {dict(reasons)}")
per_s = collections.Counter(int(u // 1000) for u, _ in discards)
check(max(per_s.values()) <= 2 * 150, f"at most max-per-s per second (busiest: {max(per_s.values())})")
try:
    st = json.load(open(f"{work}/stats.json"))
    dz = st.get("discards") or st.get("stats", {}).get("discards")
    check(dz is not None and dz["rate_limited"] > 0 and dz["exported"] > 0, f"xflowctl stats shows discards: {dz}")
except Exception as e:
    check(False, f"xflowctl stats: {e}: {open(work + '/stats.json').read()[:300]}")
sys.exit(1 if fails else 0)
PY
[ $? -eq 0 ] || fail "discard checks"

# A kernel without NET_DM (this one): one clear warning, and xflowd runs on.
ip -n "$ns" link add xfdrops0 type veth peer name xfdrops1
ip -n "$ns" link set xfdrops0 up
ip -n "$ns" link set xfdrops1 up
cat >"$work/linux.toml" <<CONF
[agent]
address = "192.0.2.1"
[[agent.collector]]
host = "127.0.0.1"
port = 6343
[drops]
enabled = true
[control]
socket = "$work/ctl2.sock"
[run]
duration = 1
CONF
if nsx "$xflowd" --config "$work/linux.toml" --sample 'xfdrops0=afpacket' 2>"$work/linux.log"; then
  n=$(grep -c -E "warning.*(NET_DM|drop monitor)" "$work/linux.log" || true)
  if grep -q "drop monitor (NET_DM) started" "$work/linux.log"; then
    pass "this kernel has NET_DM: the monitor started"
  elif [ "$n" = 1 ]; then
    pass "no NET_DM: one warning ($(grep -E 'NET_DM|drop monitor' "$work/linux.log" | head -1 | cut -c1-150))"
  else
    fail "no NET_DM: expected one warning, got $n"
    cat "$work/linux.log"
  fi
else
  fail "xflowd --sample with [drops] on a kernel without NET_DM did not run on"
  cat "$work/linux.log"
fi

xf_finish "PASS: discard samples decode in tshark and xflowdump, limited and counted"
