"""Checks the artifacts of sflow_egress_vlan_test.sh. Usage: sflow_egress_vlan_check.py WORKDIR.

Everything comes from tshark's decode of the capture and the simulator's ground truth.
"""
import collections
import csv
import math
import os
import sys

work = sys.argv[1]
failures = []
VLAN_PORT, VLAN_ID = 3, 100


def check(ok, msg):
    print(("ok   " if ok else "FAIL ") + msg)
    if not ok:
        failures.append(msg)


def ints(field):
    return [int(x, 0) for x in field.split(",") if x != ""]


datagrams = undecoded = dg_gaps = 0
last_dg = None
last_seq = {}  # (port, direction) -> last flow sample sequence number
seq_gaps = 0
bad_egress = 0
est = collections.defaultdict(lambda: [0, 0.0, 0.0])  # (port, dir) -> samples, sum x, sum x^2
vlan_records = vlan_mismatch = 0
counter_samples = collections.Counter()
vlan_ids = collections.Counter()
with open(os.path.join(work, "tshark_fields.txt")) as f:
    for line in f:
        p = line.rstrip("\n").split("|")
        datagrams += 1
        if not p[0]:
            undecoded += 1
            continue
        seq = int(p[0])
        if last_dg is not None and seq != last_dg + 1:
            dg_gaps += 1
        last_dg = seq
        idx, fseq, rate, inp, out, flen = (ints(x) for x in p[1:7])
        if not (len(idx) == len(fseq) == len(rate) == len(inp) == len(out) == len(flen)):
            undecoded += 1
            continue
        for i, s, r, a, b, n in zip(idx, fseq, rate, inp, out, flen):
            # The simulator never sends a frame out of the port it came in on.
            d = "egress" if b == i and a != i else "ingress"
            if d == "ingress" and a != i:
                bad_egress += 1
            key = (i, d)
            if key in last_seq and s != last_seq[key] + 1:
                seq_gaps += 1
            last_seq[key] = s
            x = float(r) * n
            e = est[key]
            e[0] += 1
            e[1] += x
            e[2] += x * x
        cidx, vid, voct, inoct, outoct = (ints(x) for x in p[7:12])
        for i in cidx:
            counter_samples[i] += 1
        for v in vid:
            vlan_ids[v] += 1
        vlan_samples = [k for k, i in enumerate(cidx) if i == VLAN_PORT]
        vlan_records += len(vid)
        if len(vid) != len(vlan_samples) or len(voct) != len(vid):
            vlan_mismatch += 1
            continue
        for j, k in enumerate(vlan_samples):
            if voct[j] != inoct[k] + outoct[k]:
                vlan_mismatch += 1

flows = sum(e[0] for e in est.values())
check(datagrams > 100, f"tshark read {datagrams} datagrams ({flows} flow samples)")
check(undecoded == 0, f"tshark decoded every datagram ({undecoded} not)")
with open(os.path.join(work, "tshark_errors.txt")) as f:
    errors = [l for l in f if l.strip()]
check(not errors, "tshark: no malformed packet, no expert warning or error "
      f"({len(errors)} frames)" + ("" if not errors else ": " + errors[0].strip()))
check(dg_gaps == 0, f"datagram sequence numbers without gaps ({dg_gaps} gaps)")
check(seq_gaps == 0, f"flow sample sequence numbers of each port and direction without gaps "
      f"({seq_gaps} gaps)")
check(bad_egress == 0, f"every sample has the port as input (ingress) or output (egress) "
      f"({bad_egress} neither)")

truth = {}
with open(os.path.join(work, "truth.csv")) as f:
    for row in csv.DictReader(f):
        truth[int(row["ifindex"])] = row
checked = inside95 = 0
for d in ("ingress", "egress"):
    ports = sorted(i for (i, dd) in est if dd == d)
    check(ports == sorted(truth), f"{d} samples from every port ({ports})")
    for i in ports:
        n, sx, sxx = est[(i, d)]
        t = float(truth[i]["in_bytes" if d == "ingress" else "out_bytes"])
        z = (sx - t) / math.sqrt(sxx) if sxx > 0 else float("inf")
        checked += 1
        inside95 += abs(z) <= 1.96
        check(abs(z) <= 3.29 and n >= 100,
              f"port {i} {d}: {n} samples, scaled {sx:.4g} bytes vs truth {t:.4g} (z = {z:+.2f})")
check(inside95 >= 0.8 * checked, f"{inside95} of {checked} port directions inside the 95% interval")

check(vlan_records > 0 and vlan_records == counter_samples[VLAN_PORT],
      f"a VLAN counters record in each of the {counter_samples[VLAN_PORT]} counter samples of "
      f"port {VLAN_PORT} ({vlan_records} records)")
check(set(vlan_ids) == {VLAN_ID}, f"VLAN counters say VLAN {VLAN_ID} ({dict(vlan_ids)})")
check(vlan_mismatch == 0, "VLAN octets = ifInOctets + ifOutOctets of the same counter sample "
      f"({vlan_mismatch} differ)")

if failures:
    print(f"{len(failures)} checks failed")
    sys.exit(1)
print("all checks passed")
