#!/usr/bin/env bash
# Interop: the extended router record (0:1002) on routed traffic. Three namespaces: h1 -- r
# -- h2, r forwards IPv4 and IPv6; xflowd in r samples r1 (the port facing h1; AF_PACKET,
# 1-in-10) with --extended-router. h1 pings h2's addresses behind static routes on r; one route
# (198.51.100.128/25 via 10.2.0.3) is added while xflowd runs, so it must come from a route
# event, not the start-up dump. tshark decodes the capture of the export:
#   - no malformed frame, no expert warning;
#   - the extended router records carry exactly the routes' values: next hops 10.2.0.2 (the
#     /24 route and the on-link 10.2.0.2), 10.2.0.3 (the /25 added later), 2001:db8:2::2
#     (IPv6 /48); prefix lengths (src/dst) 24/24, 24/25, 64/48, and nothing else;
# Usage: linux_router_test.sh BUILD_DIR. Needs root. Exit 77 = skipped.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
xflowd=$build/agent/xflowd
py=/usr/bin/python3

xf_need_root
xf_need_tools 77 ip tshark tcpdump "$py"
[ -x "$xflowd" ] || { echo "FAIL: build xflowd first"; exit 1; }

h1=xf_router_h1_$$
r=xf_router_r_$$
h2=xf_router_h2_$$
netns_list+=("$h1" "$r" "$h2")
xf_work router
failures=0

for n in "$h1" "$r" "$h2"; do
  ip netns add "$n"
  ip -n "$n" link set lo up
done
ip -n "$h1" link add eth0 type veth peer name r1 netns "$r"
ip -n "$h2" link add eth0 type veth peer name r2 netns "$r"
ip -n "$r" addr add 10.1.0.1/24 dev r1
ip -n "$r" addr add 2001:db8:1::1/64 dev r1 nodad
ip -n "$r" addr add 10.2.0.1/24 dev r2
ip -n "$r" addr add 2001:db8:2::1/64 dev r2 nodad
ip -n "$h1" addr add 10.1.0.2/24 dev eth0
ip -n "$h1" addr add 2001:db8:1::2/64 dev eth0 nodad
ip -n "$h2" addr add 10.2.0.2/24 dev eth0
ip -n "$h2" addr add 10.2.0.3/24 dev eth0
ip -n "$h2" addr add 2001:db8:2::2/64 dev eth0 nodad
ip -n "$h2" addr add 198.51.100.1/32 dev lo
ip -n "$h2" addr add 198.51.100.129/32 dev lo
ip -n "$h2" addr add 2001:db8:99::1/128 dev lo
for l in "$h1:eth0" "$h2:eth0" "$r:r1" "$r:r2"; do ip -n "${l%%:*}" link set "${l#*:}" up; done
ip -n "$h1" route add default via 10.1.0.1
ip -n "$h1" -6 route add default via 2001:db8:1::1
ip -n "$h2" route add default via 10.2.0.1
ip -n "$h2" -6 route add default via 2001:db8:2::1
ip netns exec "$r" sysctl -q -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
ip -n "$r" route add 198.51.100.0/24 via 10.2.0.2
ip -n "$r" -6 route add 2001:db8:99::/48 via 2001:db8:2::2

ip netns exec "$r" tcpdump -i lo -w "$work/export.pcap" -U "udp port 6343" 2>"$work/tcpdump.log" &
pids+=($!)
tcpdump_pid=$!
# A listener, so that the export gets no ICMP port unreachable back.
ip netns exec "$r" "$py" -c 'import socket,time; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("127.0.0.1",6343)); time.sleep(60)' &
pids+=($!)
dump_pid=$!
wait_for udp_listening_in "$r" 6343 || true
ip netns exec "$r" "$xflowd" --collector 127.0.0.1:6343 --sample r1 --sampling 10 \
  --extended-router --polling 0 -v >"$work/xflowd.log" 2>&1 &
pids+=($!)
xflowd_pid=$!
wait_for grep -q "sFlow agent" "$work/xflowd.log" || { echo "FAIL: xflowd did not start"; cat "$work/xflowd.log"; exit 1; }
grep -q "extended-router: .* routes" "$work/xflowd.log" ||
  { echo "FAIL: no routing table"; cat "$work/xflowd.log"; exit 1; }

# 400 UDP datagrams from h1 to ADDRESS (through r; h2 answers with ICMP port unreachable).
send() {
  ip netns exec "$h1" "$py" -c '
import socket, sys, time
a = sys.argv[1]
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_DGRAM)
for i in range(400):
    try:
        s.sendto(b"x" * 64, (a, 9))
    except OSError:
        pass  # an ICMP error from the last datagram
    time.sleep(0.0005)
' "$1"
}
send 198.51.100.1
send 10.2.0.2
send 2001:db8:99::1
# Added while xflowd runs: only a route event can tell it.
ip -n "$r" route add 198.51.100.128/25 via 10.2.0.3
sleep 0.2
send 198.51.100.129
sleep 1.5  # the receiver sends what is pending on its 1 s tick
kill -USR1 "$xflowd_pid"
sleep 0.3
stop "$xflowd_pid" TERM || true
sleep 0.3
stop "$dump_pid" TERM || true
stop "$tcpdump_pid" INT || true
grep -E "routes:|samples" "$work/xflowd.log" | tail -n 3 || true

bad=$(tshark -r "$work/export.pcap" -Y '_ws.malformed || _ws.expert' 2>/dev/null | wc -l)
total=$(tshark -r "$work/export.pcap" -Y sflow 2>/dev/null | wc -l)
[ "$total" -gt 0 ] && [ "$bad" -eq 0 ] && pass "tshark: $total datagrams, none malformed or with expert warnings" ||
  fail "tshark: $bad of $total datagrams malformed or with expert warnings"

# One line per record: masks in record order (IPv4 and IPv6 next hops are separate fields).
tshark -r "$work/export.pcap" -T fields -E occurrence=a -E aggregator=' ' -E separator='|' \
  -e sflow_245.nexthop.src_mask -e sflow_245.nexthop.dst_mask -e sflow_245.nexthop \
  -e sflow_245.nexthop.v6 >"$work/router.txt" 2>/dev/null
"$py" - "$work/router.txt" <<'PY' || failures=$((failures + 1))
import collections, sys
masks, v4, v6 = collections.Counter(), collections.Counter(), collections.Counter()
for line in open(sys.argv[1]):
    s, d, n4, n6 = (line.rstrip("\n").split("|") + ["", "", "", ""])[:4]
    for a, b in zip(s.split(), d.split()):
        masks[(int(a), int(b))] += 1
    v4.update(n4.split())
    v6.update(n6.split())
print("masks (src, dst):", dict(masks))
print("next hops:", dict(v4), dict(v6))
ok = True
if set(masks) != {(24, 24), (24, 25), (64, 48)} or min(masks.values()) < 10:
    print("FAIL router masks: want (24, 24), (24, 25), (64, 48), each at least 10 times"); ok = False
if set(v4) != {"10.2.0.2", "10.2.0.3"} or set(v6) != {"2001:db8:2::2"}:
    print("FAIL next hops: want 10.2.0.2, 10.2.0.3 and 2001:db8:2::2"); ok = False
# The /25 route was only ever an event: its records are the datagrams to 198.51.100.129.
if masks[(24, 25)] != v4["10.2.0.3"]:
    print("FAIL the /25 records and the 10.2.0.3 next hops differ"); ok = False
if ok:
    print("PASS extended router records: values match the routes, the /25 from a route event")
sys.exit(0 if ok else 1)
PY
grep -q "routes: table 254" "$work/xflowd.log" && pass "summary names the routing table" ||
  fail "no routes line in the summary"
xf_finish "PASS: linux_router_test"
