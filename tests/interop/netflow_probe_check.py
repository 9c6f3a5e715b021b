#!/usr/bin/python3
"""Compares what real NetFlow/IPFIX collectors stored against xflowd-pcapgen's ground truth.

Per flow key (IP version, protocol, source, destination, source port, destination port) the
packets and bytes must be equal exactly. Inputs:
  --truth FILE     xflowd-pcapgen --truth CSV:
                   ip_version,src,dst,protocol,src_port,dst_port,packets,bytes
                   (ICMP: src_port 0, dst_port type*256+code)
  --nfdump FILE    output of nfdump -q -N -a -o 'fmt:%pr,%sa,%da,%sp,%dp,%pkt,%byt'
                   (ICMP dst port as "type.code")
  --nfacctd FILE   pmacct print plugin CSV (aggregate src_host, dst_host, src_port, dst_port,
                   proto). pmacct does not carry ICMP type/code in the ports, so ICMP keys
                   are compared without ports (sources are unique in the truth anyway).
  --ipv4-only      NetFlow v5: expect the IPv4 flows only, and no IPv6 record at all.
Prints one PASS/FAIL line per check; exit status 1 if any check failed. Stdlib only.
"""

import argparse
import csv
import ipaddress
import sys

ICMP_PROTOS = (1, 58)
PROTO_NAMES = {"icmp": 1, "tcp": 6, "udp": 17, "ipv6-icmp": 58, "icmp6": 58, "icmpv6": 58}


def norm_ip(text):
    return ipaddress.ip_address(text.strip())


def port(text):
    text = text.strip()
    if "." in text:  # nfdump prints ICMP type.code
        t, c = text.split(".", 1)
        return int(t) * 256 + int(c)
    return int(text)


def add(table, key, packets, nbytes):
    p, b = table.get(key, (0, 0))
    table[key] = (p + packets, b + nbytes)


def read_truth(path, ipv4_only, icmp_without_ports):
    table = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            version = int(row["ip_version"])
            if ipv4_only and version != 4:
                continue
            proto = int(row["protocol"])
            sp, dp = int(row["src_port"]), int(row["dst_port"])
            if icmp_without_ports and proto in ICMP_PROTOS:
                sp = dp = None
            key = (version, proto, norm_ip(row["src"]), norm_ip(row["dst"]), sp, dp)
            add(table, key, int(row["packets"]), int(row["bytes"]))
    return table


def read_nfdump(path):
    table = {}
    bad = 0
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            parts = [p.strip() for p in line.split(",")]
            if len(parts) != 7:
                bad += 1
                continue
            try:
                proto = int(parts[0])
                src, dst = norm_ip(parts[1]), norm_ip(parts[2])
                key = (src.version, proto, src, dst, port(parts[3]), port(parts[4]))
                add(table, key, int(parts[5]), int(parts[6]))
            except ValueError:
                bad += 1
    return table, bad


def read_nfacctd(path):
    table = {}
    bad = 0
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            try:
                if row.get("SRC_IP") == "SRC_IP":  # a header repeated by an appending purge
                    continue
                p = row["PROTOCOL"].strip().lower()
                proto = int(p) if p.isdigit() else PROTO_NAMES[p]
                src, dst = norm_ip(row["SRC_IP"]), norm_ip(row["DST_IP"])
                sp, dp = int(row["SRC_PORT"]), int(row["DST_PORT"])
                if proto in ICMP_PROTOS:
                    sp = dp = None
                key = (src.version, proto, src, dst, sp, dp)
                add(table, key, int(row["PACKETS"]), int(row["BYTES"]))
            except (KeyError, ValueError, AttributeError):
                bad += 1
    return table, bad


def fmt_key(k):
    v, proto, src, dst, sp, dp = k
    return "v%d proto %d %s:%s -> %s:%s" % (v, proto, src, sp, dst, dp)


class Checks:
    def __init__(self, label):
        self.label = label
        self.failed = 0

    def check(self, ok, what, detail=""):
        print("%s %s: %s%s" % ("PASS" if ok else "FAIL", self.label, what,
                                (" (" + detail + ")") if detail else ""))
        if not ok:
            self.failed += 1
        return ok


def compare(checks, want, got, bad_lines):
    checks.check(bad_lines == 0, "every collector line parsed", "%d unparsed" % bad_lines)
    missing = [k for k in want if k not in got]
    extra = [k for k in got if k not in want]
    wrong = [k for k in want if k in got and got[k] != want[k]]
    for k in missing[:5]:
        print("    missing: %s truth %d pkts %d bytes" % ((fmt_key(k),) + want[k]))
    for k in extra[:5]:
        print("    extra:   %s got %d pkts %d bytes" % ((fmt_key(k),) + got[k]))
    for k in wrong[:5]:
        print("    wrong:   %s truth %d/%d got %d/%d (pkts/bytes)" %
              ((fmt_key(k),) + want[k] + got[k]))
    checks.check(not missing, "every truth flow present",
                 "%d of %d missing" % (len(missing), len(want)))
    checks.check(not extra, "no flow that is not in the truth", "%d extra" % len(extra))
    checks.check(not wrong, "packets and bytes equal per flow",
                 "%d of %d differ" % (len(wrong), len(want)))
    wp = sum(v[0] for v in want.values())
    wb = sum(v[1] for v in want.values())
    gp = sum(v[0] for v in got.values())
    gb = sum(v[1] for v in got.values())
    checks.check(wp == gp and wb == gb, "total packets and bytes",
                 "truth %d pkts %d bytes, collector %d pkts %d bytes" % (wp, wb, gp, gb))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--truth", required=True)
    ap.add_argument("--nfdump")
    ap.add_argument("--nfacctd")
    ap.add_argument("--ipv4-only", action="store_true")
    ap.add_argument("--label", default="netflow")
    args = ap.parse_args()
    failed = 0
    if args.nfdump:
        checks = Checks(args.label + " nfdump")
        got, bad = read_nfdump(args.nfdump)
        if args.ipv4_only:
            v6 = [k for k in got if k[0] == 6]
            checks.check(not v6, "no IPv6 record", "%d IPv6 keys" % len(v6))
        compare(checks, read_truth(args.truth, args.ipv4_only, False), got, bad)
        failed += checks.failed
    if args.nfacctd:
        checks = Checks(args.label + " nfacctd")
        got, bad = read_nfacctd(args.nfacctd)
        compare(checks, read_truth(args.truth, args.ipv4_only, True), got, bad)
        failed += checks.failed
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
