"""Checks the artifacts of linux_afpacket_test.sh.

Usage: linux_afpacket_check.py WORKDIR P1 P2 P4 P5 (ifindexes). Reads xflowdump's JSON lines
and the interface counters the script wrote (WORKDIR/env).
"""
import collections
import json
import math
import os
import sys

work = sys.argv[1]
p1, p2, p4, p5 = (int(x) for x in sys.argv[2:6])
failures = []


def check(ok, msg):
    print(("ok   " if ok else "FAIL ") + msg)
    if not ok:
        failures.append(msg)


env = {}
with open(os.path.join(work, "env")) as f:
    for line in f:
        key, _, rest = line.strip().partition(" ")
        env[key] = rest.split()
before = [int(x) for x in env["p1_before"]]
after = [int(x) for x in env["p1_after"]]
deleted_at = float(env["p2_deleted"][0])
rx_delta = after[0] - before[0]

flows = collections.defaultdict(list)     # ifindex -> [(time, sample)]
counters = collections.defaultdict(list)  # ifindex -> [(time, if_counters)]
with open(os.path.join(work, "dump.json")) as f:
    for line in f:
        line = line.strip()
        if not line.startswith("{"):
            continue
        d = json.loads(line).get("datagram")
        if not d:
            continue
        for s in d.get("samples", []):
            idx = s["source_id"]["index"]
            if s["kind"] == "flow_sample":
                flows[idx].append((d["time"], s))
            elif s["kind"] == "counters_sample":
                for r in s["records"]:
                    if r["kind"] == "if_counters":
                        counters[idx].append((d["time"], r))

# Binomial(N, 1/100) with N = every packet p1 received (injected + tagged + stray).
n = len(flows[p1])
mean = rx_delta / 100.0
sd = math.sqrt(rx_delta * 0.01 * 0.99)
z = (n - mean) / sd if sd > 0 else float("inf")
# The kernel's BPF random cannot be seeded, so this check runs on fresh randomness every time:
# 4.89 sd (99.9999%) keeps false alarms to one in a million runs and still catches any
# real rate error above about 11%.
check(abs(n - mean) <= 4.89 * sd,
      f"p1: {n} flow samples for {rx_delta} packets at 1-in-100 (expected {mean:.0f}, "
      f"z = {z:+.2f}, 99.9999% interval +-{4.89 * sd:.0f})")
check(all(s["sampling_rate"] == 100 for _, s in flows[p1]), "p1: every sample says 1-in-100")
pools = [s["sample_pool"] for _, s in flows[p1]]
check(pools == sorted(pools), "p1: sample_pool never goes backwards")
last_pool = pools[-1] if pools else -1
# The pool is the rx counter read right before the socket is drained, so the last flow sample
# carries every packet up to (at least) itself: rx_delta minus the packets after the last
# sampled one (geometric, mean 100; more than 1000 has probability e^-10).
check(rx_delta - 1000 <= last_pool <= rx_delta,
      f"p1: last sample_pool {last_pool} vs rx packet counter delta {rx_delta} "
      f"(short by {rx_delta - last_pool}: packets after the last sample; allowed 0..1000)")
check(all(p <= rx_delta for p in pools), "p1: no sample_pool above the rx counter delta")
check(all(s["drops"] == 0 for _, s in flows[p1]), "p1: no drops")
vlans = collections.Counter()
for _, s in flows[p1]:
    for r in s["records"]:
        if r["kind"] == "extended_switch":
            vlans[r["src_vlan"]] += 1
check(vlans[42] > 0 and set(vlans) <= {0, 42},
      f"p1: tagged frames show VLAN 42 in extended_switch ({dict(vlans)})")

# Counters: the last counter sample of p1 came after the last frame.
if counters[p1]:
    last = counters[p1][-1][1]
    rx_pkts, rx_bytes, mcast = after
    check(last["in_ucast_pkts"] + last["in_multicast_pkts"] == rx_pkts,
          f"p1: ifInUcastPkts+ifInMulticastPkts {last['in_ucast_pkts']}+"
          f"{last['in_multicast_pkts']} = rx_packets {rx_pkts}")
    check(last["in_octets"] == rx_bytes, f"p1: ifInOctets {last['in_octets']} = rx_bytes {rx_bytes}")
else:
    check(False, "p1: counter samples")

# Link events.
late_p2 = [t for t, _ in flows[p2] + counters[p2] if t > deleted_at + 1.0]
check(counters[p2] and not late_p2,
      f"p2: {len(counters[p2])} counter samples before it was deleted, none after "
      f"({len(late_p2)})")
for name, idx in (("p4 (added)", p4), ("p5 (renamed from q5)", p5)):
    nf = len(flows[idx])
    check(nf > 0 and abs(nf - 50) <= 4.89 * math.sqrt(5000 * 0.01 * 0.99) + 5,
          f"{name}, ifindex {idx}: {nf} flow samples for ~5000 frames")
    check(len(counters[idx]) > 0, f"{name}: {len(counters[idx])} counter samples")
    if flows[idx]:
        pool = flows[idx][-1][1]["sample_pool"]
        check(4000 <= pool <= 5010,
              f"{name}: last sample_pool {pool} for 5000 frames (4000..5010: packets after "
              "the last sample are not in it)")

if failures:
    print(f"{len(failures)} checks failed")
    sys.exit(1)
print("all checks passed")
