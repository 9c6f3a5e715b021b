#!/usr/bin/env python3
"""Writes the NetFlow v5/v9/IPFIX golden messages in this directory as commented hex.

An implementation independent of the C++ encoder, written from the specs (NetFlow v5 format,
RFC 3954, RFC 7011, IANA IPFIX IEs). Run on purpose only (`python3 make_golden.py`), then
review the diff: the files are what the encoder must produce, field by field.
"""
import ipaddress
import os

INIT_MS = 1767225600000          # system init: 2026-01-01T00:00:00Z
NOW_MS = INIT_MS + 60000          # header time of every message
DOMAIN = 7

# The records of the tests (tests/exporter/netflow/netflow_golden_test.cc).
A = dict(name="A: IPv4 TCP 192.0.2.1:49152 -> 198.51.100.2:443", v=4, src="192.0.2.1",
         dst="198.51.100.2", inp=3, out=5, sport=49152, dport=443, vlan=100, cvlan=200,
         proto=6, tos=0x28, pkts=10, bytes=4000, first=INIT_MS + 1000, last=INIT_MS + 5000,
         flags=0x1b, reason=3, rate=1000)
B = dict(name="B: ICMP echo 192.0.2.1 -> 192.0.2.2", v=4, src="192.0.2.1", dst="192.0.2.2",
         inp=3, out=0, sport=0, dport=0x0800, vlan=0, cvlan=0, proto=1, tos=0, pkts=3,
         bytes=252, first=INIT_MS + 2000, last=INIT_MS + 4000, flags=0, reason=1, rate=1000)
C = dict(name="C: IPv6 TCP [2001:db8::1]:1234 -> [2001:db8::2]:80", v=6, src="2001:db8::1",
         dst="2001:db8::2", inp=4, out=6, sport=1234, dport=80, vlan=10, cvlan=0, proto=6,
         tos=0, pkts=5, bytes=600, first=INIT_MS + 3000, last=INIT_MS + 3500, flags=0x12,
         reason=2, rate=1000)

# A and C with MACs and a top MPLS entry (label 1000, TC 5, S 1; C: label 17, TC 0, S 0).
AK = dict(A, name="A with MACs and MPLS", smac="02:00:00:00:00:01", dmac="02:00:00:00:00:02",
          label=1000, tc=5, s=1, rate=1)
CK = dict(C, name="C with MACs and MPLS", smac="02:00:00:00:00:03", dmac="33:33:00:00:00:01",
          label=17, tc=0, s=0, rate=1)


class Out:
    def __init__(self):
        self.lines = []
        self.size = 0

    def comment(self, text):
        self.lines.append("# " + text)

    def raw(self, b, text):
        hexes = " ".join("%02x" % x for x in b)
        # Long fields (addresses, names) on lines of 16 bytes.
        chunks = [hexes[i:i + 48] for i in range(0, len(hexes), 48)]
        for i, c in enumerate(chunks):
            self.lines.append("%-24s # %s" % (c.strip(), text) if i == 0 else c.strip())
        self.size += len(b)

    def u(self, n, x, text):
        self.raw(x.to_bytes(n, "big"), text)


def ip(s):
    return ipaddress.ip_address(s).packed


# Template tables, as in netflow_encoder.cc (type, length, name).
V9_T = {
    256: [(1, 8, "IN_BYTES"), (2, 8, "IN_PKTS"), (22, 4, "FIRST_SWITCHED"),
          (21, 4, "LAST_SWITCHED"), (8, 4, "IPV4_SRC_ADDR"), (12, 4, "IPV4_DST_ADDR"),
          (10, 4, "INPUT_SNMP"), (14, 4, "OUTPUT_SNMP"), (7, 2, "L4_SRC_PORT"),
          (11, 2, "L4_DST_PORT"), (58, 2, "SRC_VLAN"), (245, 2, "dot1qCustomerVlanId"),
          (60, 1, "IP_PROTOCOL_VERSION"), (4, 1, "PROTOCOL"), (5, 1, "SRC_TOS"),
          (6, 1, "TCP_FLAGS")],
}
V9_T[257] = [(1, 8, "IN_BYTES"), (2, 8, "IN_PKTS"), (22, 4, "FIRST_SWITCHED"),
             (21, 4, "LAST_SWITCHED"), (27, 16, "IPV6_SRC_ADDR"), (28, 16, "IPV6_DST_ADDR")] + \
    V9_T[256][6:]
V9_T[258] = V9_T[256][:8] + [(32, 2, "ICMP_TYPE")] + V9_T[256][10:15]
V9_T[259] = V9_T[257][:8] + [(32, 2, "ICMP_TYPE")] + V9_T[257][10:15]
IX_T = {
    256: [(1, 8, "octetDeltaCount"), (2, 8, "packetDeltaCount"), (152, 8, "flowStartMilliseconds"),
          (153, 8, "flowEndMilliseconds"), (8, 4, "sourceIPv4Address"),
          (12, 4, "destinationIPv4Address"), (10, 4, "ingressInterface"),
          (14, 4, "egressInterface"), (7, 2, "sourceTransportPort"),
          (11, 2, "destinationTransportPort"), (58, 2, "vlanId"), (245, 2, "dot1qCustomerVlanId"),
          (6, 2, "tcpControlBits"), (60, 1, "ipVersion"), (4, 1, "protocolIdentifier"),
          (5, 1, "ipClassOfService"), (136, 1, "flowEndReason")],
}
IX_T[257] = IX_T[256][:4] + [(27, 16, "sourceIPv6Address"), (28, 16, "destinationIPv6Address")] + \
    IX_T[256][6:]
IX_T[258] = IX_T[256][:8] + [(32, 2, "icmpTypeCodeIPv4")] + IX_T[256][10:12] + IX_T[256][13:]
IX_T[259] = IX_T[257][:8] + [(139, 2, "icmpTypeCodeIPv6")] + IX_T[257][10:12] + IX_T[257][13:]
V9_OPT = {
    260: ([(1, 4, "scope System")], [(42, 8, "TOTAL_FLOWS_EXP"), (34, 4, "SAMPLING_INTERVAL"),
                                     (35, 1, "SAMPLING_ALGORITHM")]),
    261: ([(2, 4, "scope Interface")], [(82, 32, "IF_NAME")]),
}
# Sampling in IPFIX: samplingInterval and samplingAlgorithm (RFC 7012, deprecated there but what
# collectors read), then the RFC 5477 selector: random 1-in-N is selectorAlgorithm 3 (random
# n-out-of-N, IANA PSAMP registry) with samplingSize n = 1 and samplingPopulation N.
IX_OPT = {
    260: ([(149, 4, "observationDomainId")],
          [(160, 8, "systemInitTimeMilliseconds"), (42, 8, "exportedFlowRecordTotalCount"),
           (166, 8, "notSentFlowTotalCount"), (34, 4, "samplingInterval"),
           (35, 1, "samplingAlgorithm"), (304, 2, "selectorAlgorithm"), (309, 4, "samplingSize"),
           (310, 4, "samplingPopulation")]),
    261: ([(10, 4, "ingressInterface")], [(82, 32, "interfaceName")]),
}


# Optional key fields, appended to every data template when the flow key has them (v9 types 56,
# 80, 70 are the IPFIX IEs sourceMacAddress, destinationMacAddress, mplsTopLabelStackSection).
V9_KEY = [(56, 6, "IN_SRC_MAC"), (80, 6, "IN_DST_MAC"), (70, 3, "MPLS_LABEL_1")]
IX_KEY = [(56, 6, "sourceMacAddress"), (80, 6, "destinationMacAddress"),
          (70, 3, "mplsTopLabelStackSection")]


def field_value(r, t, n, ipfix):
    up = lambda ms: ms - INIT_MS
    vals = {1: r["bytes"], 2: r["pkts"], 22: up(r["first"]), 21: up(r["last"]),
            152: r["first"], 153: r["last"], 10: r["inp"], 14: r["out"], 7: r["sport"],
            11: r["dport"], 32: r["dport"], 139: r["dport"], 58: r["vlan"], 245: r["cvlan"],
            60: r["v"], 4: r["proto"], 5: r["tos"], 6: r["flags"], 136: r["reason"]}
    if t in (8, 12, 27, 28):
        return ip(r["src"] if t in (8, 27) else r["dst"])
    if t in (56, 80):
        return bytes.fromhex(r["smac" if t == 56 else "dmac"].replace(":", ""))
    if t == 70:  # label (20 bits), TC (3), S (1); no TTL
        return ((r["label"] << 4) | (r["tc"] << 1) | r["s"]).to_bytes(3, "big")
    return vals[t].to_bytes(n, "big")


class Message:
    """A v9 or IPFIX message: sets of records, padded to 4 bytes (IPFIX too: pmacct needs it)."""

    def __init__(self, ipfix, key_fields=False):
        self.ipfix = ipfix
        self.key = (IX_KEY if ipfix else V9_KEY) if key_fields else []
        self.sets = []  # (set_id, title, [(bytes_list_of_(bytes, comment))])
        self.records = 0
        self.data_records = 0

    def add(self, set_id, title, fields, data, own_set=False):
        if self.sets and self.sets[-1][0] == set_id and not self.sets[-1][1] and not own_set:
            self.sets[-1][2].append((title, fields))
        else:
            self.sets.append((set_id, own_set, [(title, fields)]))
        self.records += 1
        if data:
            self.data_records += 1

    def template(self, tid, fields, names):
        f = [(tid.to_bytes(2, "big"), "template id %d" % tid),
             (len(fields).to_bytes(2, "big"), "%d fields" % len(fields))]
        for t, n, name in fields:
            f.append((t.to_bytes(2, "big") + n.to_bytes(2, "big"), "%s (%d), %d bytes" % (name, t, n)))
        self.add(2 if self.ipfix else 0, "template %d (%s)" % (tid, names), f, False)

    def options_template(self, tid, scope, opts):
        f = [(tid.to_bytes(2, "big"), "options template id %d" % tid)]
        if self.ipfix:
            f.append(((len(scope) + len(opts)).to_bytes(2, "big"), "%d fields" % (len(scope) + len(opts))))
            f.append((len(scope).to_bytes(2, "big"), "%d scope field" % len(scope)))
        else:
            f.append(((4 * len(scope)).to_bytes(2, "big"), "option scope length %d" % (4 * len(scope))))
            f.append(((4 * len(opts)).to_bytes(2, "big"), "option length %d" % (4 * len(opts))))
        for t, n, name in scope + opts:
            f.append((t.to_bytes(2, "big") + n.to_bytes(2, "big"), "%s (%d), %d bytes" % (name, t, n)))
        # One options template per set: pmacct steps over options templates by a length that
        # is wrong for IPFIX and v9 and loses the rest of the message otherwise.
        self.add(3 if self.ipfix else 1, "options template %d" % tid, f, False, own_set=True)

    def flow(self, tid, r):
        table = (IX_T if self.ipfix else V9_T)[tid] + self.key
        f = [(field_value(r, t, n, self.ipfix), name) for t, n, name in table]
        self.add(tid, "data record " + r["name"], f, True)

    def options_data(self, tid, values):
        scope, opts = (IX_OPT if self.ipfix else V9_OPT)[tid]
        f = []
        for (t, n, name), v in zip(scope + opts, values):
            b = v.encode().ljust(n, b"\0") if isinstance(v, str) else v.to_bytes(n, "big")
            f.append((b, "%s = %r" % (name, v)))
        self.add(tid, "options data record (template %d)" % tid, f, True)

    def write(self, path, title, sequence):
        o = Out()
        for line in title:
            o.comment(line)
        body = Out()
        for set_id, _, recs in self.sets:
            length = 4 + sum(len(b) for _, f in recs for b, _ in f)
            pad = (-length) % 4
            body.comment("---- set id %d, length %d%s ----" % (
                set_id, length + pad, " (%d padding)" % pad if pad else ""))
            body.u(2, set_id, "set id %d" % set_id)
            body.u(2, length + pad, "length %d" % (length + pad))
            for title_, f in recs:
                body.comment("-- " + title_ + " --")
                for b, c in f:
                    body.raw(b, c)
            if pad:
                body.raw(bytes(pad), "padding")
        total = (16 if self.ipfix else 20) + body.size
        if self.ipfix:
            o.comment("---- IPFIX header (16 bytes) ----")
            o.u(2, 10, "version 10")
            o.u(2, total, "length %d" % total)
            o.u(4, NOW_MS // 1000, "export time %d" % (NOW_MS // 1000))
            o.u(4, sequence, "sequence %d (data records before this message)" % sequence)
            o.u(4, DOMAIN, "observation domain %d" % DOMAIN)
        else:
            o.comment("---- v9 header (20 bytes) ----")
            o.u(2, 9, "version 9")
            o.u(2, self.records, "count %d (every record: templates, options, data)" % self.records)
            o.u(4, NOW_MS - INIT_MS, "sysUptime %d ms" % (NOW_MS - INIT_MS))
            o.u(4, NOW_MS // 1000, "unix secs %d" % (NOW_MS // 1000))
            o.u(4, sequence, "sequence %d (packets before this one)" % sequence)
            o.u(4, DOMAIN, "source id %d" % DOMAIN)
        with open(path, "w") as fh:
            fh.write("\n".join(o.lines + body.lines) + "\n")
        print(path, total, "bytes")


def refresh(m, ipfix, sampling, algo, exported, interfaces):
    names = {256: "IPv4", 257: "IPv6", 258: "ICMPv4", 259: "ICMPv6"}
    for tid in (256, 257, 258, 259):
        m.template(tid, (IX_T if ipfix else V9_T)[tid] + m.key, names[tid])
    for tid, (scope, opts) in sorted((IX_OPT if ipfix else V9_OPT).items()):
        m.options_template(tid, scope, opts)
    if ipfix:
        selector = 3 if algo == 2 else 1  # random n-out-of-N : systematic count-based
        m.options_data(260, [DOMAIN, INIT_MS, exported, 0, sampling, algo, selector, 1, sampling])
    else:
        m.options_data(260, [DOMAIN, exported, sampling, algo])
    for ifindex, name in interfaces:
        m.options_data(261, [ifindex, name])


def v5(path):
    o = Out()
    o.comment("NetFlow v5 datagram: 2 records (A, B of make_golden.py), sampled 1 in 1000.")
    o.comment("---- header (24 bytes) ----")
    o.u(2, 5, "version 5")
    o.u(2, 2, "count 2")
    o.u(4, NOW_MS - INIT_MS, "sysUptime %d ms" % (NOW_MS - INIT_MS))
    o.u(4, NOW_MS // 1000, "unix_secs %d" % (NOW_MS // 1000))
    o.u(4, (NOW_MS % 1000) * 1000000, "unix_nsecs")
    o.u(4, 0, "flow_sequence 0 (flows before this datagram)")
    o.u(1, 1, "engine_type 1")
    o.u(1, 2, "engine_id 2")
    o.u(2, (1 << 14) | 1000, "sampling: mode 01 (packet interval), interval 1000")
    for r in (A, B):
        o.comment("---- record " + r["name"] + " (48 bytes) ----")
        o.raw(ip(r["src"]), "srcaddr " + r["src"])
        o.raw(ip(r["dst"]), "dstaddr " + r["dst"])
        o.u(4, 0, "nexthop")
        o.u(2, r["inp"], "input %d" % r["inp"])
        o.u(2, r["out"], "output %d" % r["out"])
        o.u(4, r["pkts"], "dPkts %d" % r["pkts"])
        o.u(4, r["bytes"], "dOctets %d" % r["bytes"])
        o.u(4, r["first"] - INIT_MS, "First (sysUptime ms)")
        o.u(4, r["last"] - INIT_MS, "Last (sysUptime ms)")
        o.u(2, r["sport"], "srcport %d" % r["sport"])
        o.u(2, r["dport"], "dstport %d" % r["dport"])
        o.u(1, 0, "pad1")
        o.u(1, r["flags"], "tcp_flags")
        o.u(1, r["proto"], "prot %d" % r["proto"])
        o.u(1, r["tos"], "tos")
        o.u(4, 0, "src_as, dst_as")
        o.u(4, 0, "src_mask, dst_mask, pad2")
    with open(path, "w") as fh:
        fh.write("\n".join(o.lines) + "\n")
    print(path, o.size, "bytes")


def main():
    d = os.path.dirname(os.path.abspath(__file__))
    v5(os.path.join(d, "v5_datagram.hex"))
    for ipfix, prefix in ((False, "v9"), (True, "ipfix")):
        m = Message(ipfix)
        # The records' rate (1 in 1000) with no SetSampling: announced as random, as every
        # xflowd sampler is.
        refresh(m, ipfix, 1000, 2, 0, [])
        m.flow(256, A)
        m.flow(258, B)
        m.flow(257, C)
        m.write(os.path.join(d, prefix + "_template_data.hex"),
                ["%s: the first message of an exporter (domain %d): templates, options" %
                 (prefix, DOMAIN), "templates, options data, then records A, B, C."], 0)
        m = Message(ipfix, key_fields=True)
        refresh(m, ipfix, 1, 1, 0, [])
        m.flow(256, AK)
        m.flow(257, CK)
        m.write(os.path.join(d, prefix + "_key_fields.hex"),
                ["%s: the first message of an exporter whose flow key has the MACs and the top" %
                 prefix, "MPLS entry (--flow-key-macs --flow-key-mpls), unsampled (deterministic",
                 "1 in 1): templates with the key fields, then records A and C with them."], 0)
        m = Message(ipfix)
        refresh(m, ipfix, 1000, 2, 0, [(3, "eth0"), (5, "swp5")])
        m.write(os.path.join(d, prefix + "_options.hex"),
                ["%s: refresh after SetSampling(1000, random) and two interface names," % prefix,
                 "sent by Tick() with no flows."], 0)


main()
