#!/usr/bin/env bash
# Interop: the privilege drop (docs/usage.md "Running as a service"). As root, with a system
# user made for the test (useradd --system, removed at the end):
#   - --sample 'p*' (AF_PACKET) in a network namespace: after start /proc/PID/status shows
#     the user's uid and gid, CapEff = CapPrm = CAP_NET_RAW only, an empty bounding set; the
#     control socket (and the directory xflowd made for it) belongs to the user;
#   - a veth port added after the drop is sampled (its flow samples reach xflowdump);
#   - xflowctl status works, and a reload that re-opens every port's socket (a new sampling
#     rate) is applied after the drop;
#   - --sample 'p*=nflog': CapEff = CAP_NET_ADMIN only; -i p1: CAP_NET_RAW only, and the
#     capture is re-opened when p1 is deleted and made again;
#   - --sim: CapEff 0, same uid;
#   - at exit the socket and the pid file are gone.
# Usage: service_drop_test.sh BUILD_DIR. Needs root. Exit 77 = skipped.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
xflowd=$build/agent/xflowd
xflowdump=$build/tools/xflowdump
xflowctl=$build/tools/xflowctl
py=/usr/bin/python3

xf_need_root "useradd and a network namespace"
xf_need_tools 77 useradd userdel
xf_need_tools 1 ip "$py"
[ -x "$xflowd" ] && [ -x "$xflowdump" ] && [ -x "$xflowctl" ] ||
  { echo "FAIL: build xflowd, xflowdump and xflowctl first"; exit 1; }
if ! "$xflowd" --check-config --sim --collector 127.0.0.1 --user root >/dev/null; then
  echo "FAIL: xflowd does not run"; exit 1
fi

ns=xf_svc_$$
user=xfsvc$$
netns_list+=("$ns")
xf_work svc
chmod 755 "$work"  # the user reaches its socket directory inside
useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
trap 'userdel "$user" 2>/dev/null || true; xf_cleanup' EXIT
uid=$(id -u "$user")
gid=$(id -g "$user")

# field PID NAME: the first value of NAME in /proc/PID/status.
field() { awk -v k="$2:" '$1 == k { print $2; exit }' "/proc/$1/status"; }
# check_proc PID CAPEFF WHAT: uid, gid and capabilities of PID after the drop.
check_proc() {
  local pid=$1 want=$2 what=$3 u g eff prm bnd
  u=$(field "$pid" Uid); g=$(field "$pid" Gid)
  eff=$(field "$pid" CapEff); prm=$(field "$pid" CapPrm); bnd=$(field "$pid" CapBnd)
  echo "$what: Uid $u Gid $g CapEff $eff CapPrm $prm CapBnd $bnd"
  [ "$u" = "$uid" ] && [ "$g" = "$gid" ] && pass "$what: uid $u, gid $g ($user)" ||
    fail "$what: uid $u gid $g, expected $uid $gid"
  [ "$eff" = "$want" ] && [ "$prm" = "$want" ] && pass "$what: CapEff = CapPrm = $want" ||
    fail "$what: CapEff $eff CapPrm $prm, expected $want"
  [ "$bnd" = 0000000000000000 ] && pass "$what: bounding set empty" || fail "$what: CapBnd $bnd"
}
# start LOG ARGS...: xflowd in the namespace; waits for the drop; sets $xpid.
start() {
  local log=$1
  shift
  ip netns exec "$ns" "$xflowd" "$@" >"$log" 2>&1 &
  xpid=$!
  pids+=("$xpid")
  wait_for grep -q "running as user" "$log" || { fail "no drop: $(cat "$log")"; exit 1; }
}
# stop_xflowd PID: SIGTERM, and its exit status must be 0.
stop_xflowd() {
  local rc=0
  kill -TERM "$1"
  wait "$1" || rc=$?
  [ "$rc" = 0 ] || fail "xflowd exited with $rc"
}

ip netns add "$ns"
ip -n "$ns" link set lo up
veth() {  # veth PORT PEER: frames injected at PEER arrive on PORT
  ip -n "$ns" link add "$1" type veth peer name "$2"
  ip -n "$ns" link set "$1" addrgenmode none up
  ip -n "$ns" link set "$2" addrgenmode none up
}
veth p1 h1
cat >"$work/inject.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
f = bytes.fromhex("020000000002020000000001" "0800" "4500002e00000000401100000a0000010a000002"
                  "3039003500160000") + b"\0" * 18
for _ in range(int(sys.argv[2])):
    s.send(f)
PY
cat >"$work/xflowd.toml" <<'TOML'
[ports]
sampling-rate = 1
polling-interval = 0
[[port]]
match = "p*"
[source]
type = "linux"
TOML

ip netns exec "$ns" "$xflowdump" -l 127.0.0.1:6343 -o json >"$work/dump.json" 2>"$work/dump.log" &
pids+=($!)
dump_pid=$!
wait_for udp_listening_in "$ns" 6343 || true

# 1. AF_PACKET: CAP_NET_RAW (bit 13) only.
sock=$work/run/xflowd.sock
start "$work/afpacket.log" --config "$work/xflowd.toml" --collector 127.0.0.1:6343 \
  --agent-address 10.0.0.1 --user "$user" --control-socket "$sock" \
  --pid-file "$work/pid/xflowd.pid" -v
check_proc "$xpid" 0000000000002000 "--sample afpacket"
[ "$(stat -c %U "$sock")" = "$user" ] && [ "$(stat -c %U "$work/run")" = "$user" ] &&
  pass "control socket and its directory belong to $user" || fail "socket owner: $(ls -ld "$work/run" "$sock")"
[ "$(cat "$work/pid/xflowd.pid")" = "$xpid" ] && pass "pid file holds $xpid" || fail "pid file"
nsx "$xflowctl" -s "$sock" status >/dev/null && pass "xflowctl status after the drop" ||
  fail "xflowctl status"

# A port that appears after the drop: its AF_PACKET socket is opened with CAP_NET_RAW.
veth p9 h9
p9=$(nsx cat /sys/class/net/p9/ifindex)
wait_for grep -q "p9" "$work/afpacket.log" || fail "p9 not added: $(tail -3 "$work/afpacket.log")"
sleep 0.3
nsx "$py" "$work/inject.py" h9 200
sleep 1
# A reload that re-opens every port's socket with a new filter, after the drop.
sed -i 's/^sampling-rate = 1$/sampling-rate = 2/' "$work/xflowd.toml"
if nsx "$xflowctl" -s "$sock" reload >"$work/reload.out" 2>&1 &&
   grep -q '1-in-2' "$work/reload.out"; then
  pass "reload after the drop applied: $(grep -o 'sampling rate[^"]*' "$work/reload.out" | head -1)"
else
  fail "reload after the drop: $(cat "$work/reload.out")"
fi
sleep 1
stop_xflowd "$xpid"
[ ! -e "$sock" ] && [ ! -e "$work/pid/xflowd.pid" ] && pass "socket and pid file removed at exit" ||
  fail "left behind: $(ls "$work/run" "$work/pid")"
kill -INT "$dump_pid" 2>/dev/null || true
wait "$dump_pid" 2>/dev/null || true
n=$("$py" - "$work/dump.json" "$p9" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    if not line.startswith("{"):
        continue
    d = json.loads(line).get("datagram") or {}
    for s in d.get("samples", []):
        if s["kind"] == "flow_sample" and s["source_id"]["index"] == int(sys.argv[2]):
            n += 1
print(n)
PY
)
[ "$n" -ge 100 ] && pass "p9 (added after the drop): $n flow samples of 200 frames at 1-in-1" ||
  fail "p9 (added after the drop): $n flow samples, expected about 200"

# 2. NFLOG: CAP_NET_ADMIN (bit 12) only.
if command -v nft >/dev/null; then
  start "$work/nflog.log" --sample 'p*=nflog' --collector 127.0.0.1:6343 --agent-address 10.0.0.1 \
    --user "$user" --control-socket none
  check_proc "$xpid" 0000000000001000 "--sample nflog"
  stop_xflowd "$xpid"
else
  echo "skip nflog: nft is not installed"
fi

# 3. The host probe on a live interface: CAP_NET_RAW, to re-open the capture.
start "$work/probe.log" -i p1 -n 127.0.0.1:2055 --user "$user"
check_proc "$xpid" 0000000000002000 "-i"
# The interface goes and comes back: the capture is re-opened after the drop.
ip -n "$ns" link del p1
veth p1 h1
wait_for grep -q "capture re-opened" "$work/probe.log" &&
  pass "-i: capture re-opened as $user after p1 was re-created" ||
  fail "-i: no re-open: $(tail -3 "$work/probe.log")"
stop_xflowd "$xpid"

# 4. The simulator: nothing kept.
start "$work/sim.log" --sim --ports 2 --collector 127.0.0.1:6343 --user "$user" \
  --control-socket none
check_proc "$xpid" 0000000000000000 "--sim"
stop_xflowd "$xpid"

xf_finish "PASS: the privilege drop keeps exactly what each mode needs"
