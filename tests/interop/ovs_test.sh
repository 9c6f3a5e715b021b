#!/usr/bin/env bash
# Interop: xflowd --ovs against a real Open vSwitch (ovsdb-server + ovs-vswitchd, userspace
# datapath, started here in a private directory and network namespace), two hosts on an OVS
# bridge through veths, xflowdump (sFlow JSON), nfcapd (IPFIX) and tshark as collectors.
# Checks:
#   - a run killed with SIGKILL leaves its marked sFlow row; the next run replaces it; a
#     bridge with someone else's sFlow row is never touched; at exit the row is removed;
#   - flow samples of the port the frames enter inside the 95% interval of packets/N (a miss
#     is reported; only one outside the 99.9999% interval fails: OVS's sampling is not seeded),
#     re-exported under xflowd's agent address and sub-agent id at OVS's rate;
#   - the last counter sample of that port equals OVSDB's Interface statistics;
#   - a port added and one removed while running (same PID);
#   - ovsdb-server and then ovs-vswitchd restarted while running: xflowd re-syncs without
#     re-adding its ports, its row is still in place, samples flow again;
#   - nfcapd stores the IPFIX records made from OVS's samples; tshark decodes every datagram
#     with no malformed packet or error.
# Usage: ovs_test.sh BUILD_DIR. Needs root and openvswitch-switch. Exit 77 = skipped.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
xflowd=$build/agent/xflowd
xflowdump=$build/tools/xflowdump
py=/usr/bin/python3
frames=${XFLOWD_INTEROP_FRAMES:-20000}
rate=50

xf_need_root "Open vSwitch in a network namespace"
xf_need_tools 77 ovsdb-server ovs-vswitchd ovs-vsctl ovsdb-tool
xf_need_tools 1 ip trafgen tshark nfcapd nfdump "$py"
[ -x "$xflowd" ] && [ -x "$xflowdump" ] || { echo "FAIL: build xflowd and xflowdump first"; exit 1; }
schema=/usr/share/openvswitch/vswitch.ovsschema
[ -r "$schema" ] || { echo "SKIP: no OVS schema at $schema"; exit 77; }

tag=ovs$$
ns=xf_${tag}_sw
netns_list+=("$ns" "xf_${tag}_h1" "xf_${tag}_h2" "xf_${tag}_h3")
xf_work ovs
D=$work/ovs
mkdir -p "$D/run" "$D/log"
export OVS_RUNDIR=$D/run OVS_LOGDIR=$D/log OVS_DBDIR=$D
db=unix:$D/run/db.sock
vsctl() { ovs-vsctl --db="$db" --timeout=5 "$@"; }

# OVS's daemons detach: their PIDs come from their pid files, and the exit trap stops them.
ovs_pids() { cat "$D/run/db.pid" "$D/run/vs.pid" 2>/dev/null; }
ovs_stop_all() { local p; for p in $(ovs_pids); do kill "$p" 2>/dev/null; done; }
trap 'ovs_stop_all; xf_cleanup' EXIT
start_db() {
  ip netns exec "$ns" ovsdb-server "$D/conf.db" --remote="punix:$D/run/db.sock" \
    --pidfile="$D/run/db.pid" --detach --log-file="$D/log/db.log" 2>>"$D/log/start.log"
}
start_vs() {
  ip netns exec "$ns" ovs-vswitchd "$db" --pidfile="$D/run/vs.pid" --detach \
    --log-file="$D/log/vs.log" 2>>"$D/log/start.log"
}
stop_pidfile() {  # stop_pidfile FILE: the daemon whose PID is in FILE, and wait for it
  local p
  p=$(cat "$1") || return 1
  kill "$p"
  wait_for gone "$p"
}

ip netns add "$ns"
ip -n "$ns" link set lo up
ovsdb-tool create "$D/conf.db" "$schema" >/dev/null
if ! start_db || ! vsctl --no-wait init || ! start_vs; then
  echo "SKIP: Open vSwitch does not start here ($(tail -1 "$D/log/start.log" 2>/dev/null))"
  exit 77
fi
vsctl add-br br0 -- set Bridge br0 datapath_type=netdev
# Someone else's bridge and sFlow row: xflowd must leave them alone.
vsctl add-br br1 -- set Bridge br1 datapath_type=netdev -- \
  --id=@s create sFlow targets='"127.0.0.1:9"' sampling=7 -- set Bridge br1 sflow=@s >/dev/null
foreign=$(vsctl get Bridge br1 sflow)

host() {  # host N: namespace h N with eth0 10.0.0.N, its peer pN in the switch namespace
  local h=xf_${tag}_h$1
  ip netns add "$h"
  ip -n "$h" link set lo up
  ip netns exec "$h" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip -n "$h" link add eth0 type veth peer name "p$1" netns "$ns"
  ip -n "$h" addr add "10.0.0.$1/24" dev eth0
  ip netns exec "$ns" sysctl -qw "net.ipv6.conf.p$1.disable_ipv6=1"
  ip -n "$h" link set eth0 up
  ip -n "$ns" link set "p$1" up
}
host 1
host 2
host 3
vsctl add-port br0 p1 -- add-port br0 p2
ifindex() { ip -n "$ns" -o link show "$1" | cut -d: -f1; }
if1=$(ifindex p1)
if2=$(ifindex p2)
if3=$(ifindex p3)

mac() { ip -n "xf_${tag}_h$1" -br link show eth0 | awk '{print $3}' | sed 's/^/0x/; s/:/, 0x/g'; }
# UDP 10.0.0.1:12345 -> 10.0.0.2:1234, 60 bytes.
cat >"$work/frame.cfg" <<EOF
{ $(mac 2), $(mac 1), 0x08, 0x00,
  0x45, 0x00, 0x00, 0x2e, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, csumip(14, 33),
  10, 0, 0, 1, 10, 0, 0, 2,
  0x30, 0x39, 0x04, 0xd2, 0x00, 0x1a, 0x00, 0x00, fill(0x41, 18) }
EOF
send() { ip netns exec "xf_${tag}_h1" trafgen -o eth0 -i "$work/frame.cfg" -n "$1" -t 10us -q \
  >/dev/null 2>&1; }

# Collectors.
ip netns exec "$ns" tshark -q -i lo -f 'udp port 6343 or udp port 4739' -w "$work/cap.pcapng" \
  2>"$work/tshark.log" &
pids+=($!)
tshark_pid=$!
ip netns exec "$ns" "$xflowdump" -l 127.0.0.1:6343 -o json >"$work/dump.json" 2>"$work/dump.log" &
pids+=($!)
dump_pid=$!
mkdir -p "$work/nf"
ip netns exec "$ns" nfcapd -b 127.0.0.1 -p 4739 -w "$work/nf" -P "$work/nfcapd.pid" -D \
  >/dev/null 2>&1
wait_for test -s "$work/nfcapd.pid" || fail "nfcapd did not start"
wait_for grep -q Capturing "$work/tshark.log" || fail "tshark did not start"
wait_for udp_listening_in "$ns" 6343 || fail "xflowdump did not start"

run_xflowd() {  # run_xflowd LOG: starts xflowd in the switch namespace; $xpid is its PID
  ip netns exec "$ns" "$xflowd" --ovs "$D/run/db.sock" --ovs-bridge br0 \
    --collector 127.0.0.1:6343 -n 127.0.0.1:4739/ipfix --agent-address 192.0.2.7 \
    --sub-agent-id 3 --sampling "$rate" --polling 1 --inactive-timeout 1 --active-timeout 2 \
    --control-socket "$work/ctl.sock" --user root >"$1" 2>&1 &
  xpid=$!
  pids+=($xpid)
}
row_of() { vsctl get Bridge br0 sflow; }
our_row() { [ "$(row_of)" != "[]" ] && vsctl get sFlow "$(row_of)" external_ids | grep -q xflowd; }

# 1. A run killed with SIGKILL leaves its row behind; the next one replaces it.
run_xflowd "$work/xflowd1.log"
wait_for our_row || fail "xflowd did not write its sFlow row"
stale=$(row_of)
stale_target=$(vsctl get sFlow "$stale" targets)
stop "$xpid" KILL
[ "$(row_of)" = "$stale" ] && pass "after SIGKILL the row $stale stays (targets $stale_target)" \
  || fail "the row changed after SIGKILL"
run_xflowd "$work/xflowd.log"
# Until the new run has removed the stale row, our_row would see that one.
row_replaced() { local r; r=$(row_of); [ "$r" != "[]" ] && [ "$r" != "$stale" ]; }
wait_for row_replaced || fail "the second xflowd wrote no row of its own"
row=$(row_of)
target=$(vsctl get sFlow "$row" targets)
if [ "$row" != "$stale" ] && [ "$target" != "$stale_target" ] &&
  ! vsctl list sFlow | grep -q "${stale}"; then
  pass "stale row replaced: $stale ($stale_target) -> $row ($target), the old one is gone"
else
  fail "stale row not replaced: $stale ($stale_target) -> $row ($target)"
fi
[ "$(vsctl get sFlow "$row" sampling)" = "$rate" ] || fail "OVSDB holds sampling $(vsctl get sFlow "$row" sampling)"

# 2. Samples of p1 against the frames sent.
rx_before=$(vsctl get Interface p1 statistics:rx_packets)
t_traffic=$(date +%s.%N)
send "$frames"
t_idle=$(date +%s)

# 3. A port added (p3) and one removed (p2) while running.
vsctl add-port br0 p3 -- del-port br0 p2
wait_for grep -q "port p3 (ifindex $if3) added" "$work/xflowd.log" || fail "p3 was not added"
wait_for grep -q "port p2 (ifindex $if2) removed" "$work/xflowd.log" || fail "p2 was not removed"
t_ports=$(date +%s.%N)

# 4. Counters: OVSDB refreshes statistics every 5 s; once p1 is idle and a refresh has gone
# through xflowd's next poll, its last counter sample is OVSDB's statistics.
while [ $(($(date +%s) - t_idle)) -lt 8 ]; do sleep 0.5; done
stats=$(vsctl get Interface p1 statistics)
rx_after=$(vsctl get Interface p1 statistics:rx_packets)
cp "$work/dump.json" "$work/dump_counters.json"

# 5. ovsdb-server restarted, then ovs-vswitchd.
t_restart=$(date +%s.%N)
stop_pidfile "$D/run/db.pid" || fail "ovsdb-server did not stop"
start_db || fail "ovsdb-server did not start again"
wait_for grep -q "OVSDB .* connected again" "$work/xflowd.log" ||
  fail "xflowd did not reconnect to OVSDB"
stop_pidfile "$D/run/vs.pid" || fail "ovs-vswitchd did not stop"
start_vs || fail "ovs-vswitchd did not start again"
sleep 1
[ "$(row_of)" = "$row" ] && pass "after the restarts br0 still has xflowd's row $row" ||
  fail "br0's row after the restarts: $(row_of) (was $row)"
t_after=$(date +%s.%N)
send 5000
sleep 2

# 6. Exit: the row goes, br1's stays.
kill -0 "$xpid" 2>/dev/null && pass "the same xflowd (PID $xpid) ran through it all" ||
  fail "xflowd died"
stop "$xpid"
[ "$(row_of)" = "[]" ] && pass "xflowd removed its row at exit" || fail "row left at exit: $(row_of)"
[ "$(vsctl get Bridge br1 sflow)" = "$foreign" ] &&
  [ "$(vsctl get sFlow "$foreign" targets)" = '["127.0.0.1:9"]' ] &&
  pass "br1's own sFlow row untouched" || fail "br1's sFlow row was changed"
stop "$dump_pid" INT
kill "$(cat "$work/nfcapd.pid")"
wait_for gone "$(cat "$work/nfcapd.pid" 2>/dev/null || echo 0)" || true
sleep 0.5
stop "$tshark_pid" INT

"$py" - "$work" "$if1" "$if2" "$if3" "$frames" "$rate" "$t_traffic" "$t_ports" "$t_restart" \
  "$t_after" "$stats" "$((rx_after - rx_before))" <<'PY' || failures=$((failures + 1))
import json, math, re, sys
work, if1, if2, if3, frames, rate = sys.argv[1], *map(int, sys.argv[2:7])
t_traffic, t_ports, t_restart, t_after = map(float, sys.argv[7:11])
stats = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", sys.argv[11]))
rx_delta = int(sys.argv[12])
bad = 0
def check(ok, msg):
    global bad
    print(("PASS " if ok else "FAIL ") + msg)
    bad += 0 if ok else 1

def datagrams(path):
    for line in open(path):
        d = json.loads(line)
        if "datagram" in d:
            yield d["datagram"]
        elif "error" in d:
            check(False, "xflowdump: " + line.strip())

flows, phase2, agents, rates = 0, 0, set(), set()
counters = {}  # ifindex -> last if_counters before the restarts
late_p2 = 0
for d in datagrams(work + "/dump.json"):
    agents.add((d["agent"], d["sub_agent_id"]))
    for s in d["samples"]:
        if s["kind"] == "flow_sample":
            if s["input"]["value"] == if1 and d["time"] < t_restart:
                flows += 1
                rates.add(s["sampling_rate"])
            if s["input"]["value"] == if1 and d["time"] > t_after:
                phase2 += 1
        if s["kind"] == "counters_sample":
            idx = s["source_id"]["index"]
            if idx == if2 and d["time"] > t_ports + 1.5:
                late_p2 += 1
for d in datagrams(work + "/dump_counters.json"):
    for s in d["samples"]:
        if s["kind"] == "counters_sample":
            for r in s["records"]:
                if r["kind"] == "if_counters":
                    counters[r["if_index"]] = r

check(agents == {("192.0.2.7", 3)}, "datagrams come from xflowd's agent 192.0.2.7 sub-agent 3: %s" % agents)
check(rates == {rate}, "flow samples at OVS's rate 1-in-%d: %s" % (rate, rates))
check(rx_delta >= frames, "OVSDB counted %d packets in on p1 for %d frames sent" % (rx_delta, frames))
exp = rx_delta / rate
sd = math.sqrt(rx_delta * (1 / rate) * (1 - 1 / rate))
half = 1.96 * sd
# OVS draws its samples from an unseeded random source, so one correct run in 20 falls
# outside the 95% interval: that is reported, and only a miss of the 99.9999% interval fails
# (as in linux_afpacket_test.sh).
if abs(flows - exp) > half:
    print("NOTE p1: %d flow samples is outside the 95%% interval %.0f..%.0f (1 run in 20)" %
          (flows, exp - half, exp + half))
check(abs(flows - exp) <= 4.89 * sd,
      "p1: %d flow samples for %d packets at 1-in-%d, 95%% interval %.0f..%.0f "
      "(99.9999%%: %.0f..%.0f)" % (flows, rx_delta, rate, exp - half, exp + half,
                                exp - 4.89 * sd, exp + 4.89 * sd))
check(phase2 > 0, "after the restarts: %d flow samples of p1" % phase2)
check(late_p2 == 0, "no counter samples of the removed p2 later: %d" % late_p2)
c = counters.get(if1)
if c is None:
    check(False, "no counter sample of p1")
else:
    got = (c["in_octets"], c["in_ucast_pkts"] + c["in_multicast_pkts"], c["out_octets"],
           c["out_ucast_pkts"], c["in_discards"], c["out_discards"])
    want = (stats["rx_bytes"], stats["rx_packets"], stats["tx_bytes"], stats["tx_packets"],
            stats["rx_dropped"], stats["tx_dropped"])
    check(got == want, "p1's last counter sample %s == OVSDB statistics %s" % (got, want))
sys.exit(1 if bad else 0)
PY

if grep -qE "port p1 \(ifindex $if1\) (added|removed)" "$work/xflowd.log"; then
  fail "p1 was removed or added again by the re-sync"
else
  pass "the re-syncs after the restarts changed nothing for p1"
fi
n_p3=$(grep -c '"name":"p3"' "$work/dump.json" || true)
[ "$n_p3" -gt 0 ] && pass "the added p3 is polled ($n_p3 datagrams with its counters)" ||
  fail "no counter samples of the added p3"

records=$(nfdump -R "$work/nf" -q -N -o 'fmt:%pr,%sa,%da,%sp,%dp,%pkt' 2>/dev/null |
  tr -d ' ' | grep -cE "^(UDP|17),10.0.0.1,10.0.0.2,12345,1234," || true)
[ "$records" -gt 0 ] && pass "nfcapd stored $records IPFIX records of the OVS-sampled flow" ||
  fail "nfcapd stored no IPFIX record of 10.0.0.1 -> 10.0.0.2"

dec=$(tshark -r "$work/cap.pcapng" -d udp.port==4739,cflow -T fields -e frame.protocols 2>&1)
n_sflow=$(grep -c sflow <<<"$dec" || true)
n_ipfix=$(grep -c cflow <<<"$dec" || true)
# A filter tshark refuses must not read as "nothing malformed".
if ! flagged=$(tshark -r "$work/cap.pcapng" -d udp.port==4739,cflow \
  -Y '_ws.malformed || _ws.expert.severity >= warning' 2>"$work/tshark_check.log"); then
  fail "tshark: $(cat "$work/tshark_check.log")"
fi
bad=$(grep -c . <<<"$flagged" || true)
[ "$n_sflow" -gt 0 ] && [ "$n_ipfix" -gt 0 ] && [ "$bad" -eq 0 ] &&
  pass "tshark decodes $n_sflow sFlow and $n_ipfix IPFIX datagrams, none malformed" ||
  fail "tshark: $n_sflow sFlow, $n_ipfix IPFIX, $bad malformed or in error"

xf_finish "PASS: OVS ports sampled, polled, followed and cleaned up by xflowd ($(($(date +%s) - ${t_traffic%.*})) s after the first frame)"
