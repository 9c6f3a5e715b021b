#!/usr/bin/python3
"""Writes the link-type golden captures (classic pcap, little-endian, microseconds).

Each file holds the same two flows behind a different link header:
  IPv4 UDP 10.0.0.1:1234 -> 10.0.0.2:5000, 100 IP bytes
  IPv6 TCP [2001:db8::1]:40000 -> [2001:db8::2]:443, SYN, 60 IP bytes
plus, where the link type can say so, one frame that is not IP (counted, not metered).
Regenerate only on purpose: tests/agent/daemon/link_type_capture_test.cc expects these.
  python3 make_link_type_captures.py   (in this directory)
"""
import struct

T0 = 1767225600  # 2026-01-01T00:00:00Z


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4_udp():
    payload = bytes(range(72))
    udp = struct.pack("!HHHH", 1234, 5000, 8 + len(payload), 0) + payload
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                      bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
    return hdr + udp


def ipv6_tcp():
    src = bytes.fromhex("20010db8000000000000000000000001")
    dst = bytes.fromhex("20010db8000000000000000000000002")
    tcp = struct.pack("!HHIIBBHHH", 40000, 443, 1, 0, 5 << 4, 0x02, 65535, 0, 0)
    pseudo = src + dst + struct.pack("!IxxxB", len(tcp), 6)
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    return struct.pack("!IHBB", 6 << 28, len(tcp), 6, 64) + src + dst + tcp


ARP = bytes.fromhex("0001080006040001" "020000000001" "0a000001" "000000000000" "0a000002")
MAC = bytes.fromhex("020000000001")


def sll(proto, pkt, pkttype=0):
    return struct.pack("!HHH8sH", pkttype, 1, 6, MAC + b"\0\0", proto) + pkt


def sll2(proto, pkt, ifindex, pkttype=0):
    return struct.pack("!HHIHBB8s", proto, 0, ifindex, 1, pkttype, 6, MAC + b"\0\0") + pkt


def write(name, linktype, frames):
    with open(name, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", T0 + i, 0, len(fr), len(fr)) + fr)


v4, v6 = ipv4_udp(), ipv6_tcp()
write("linktype_sll.pcap", 113, [sll(0x0800, v4), sll(0x86DD, v6, pkttype=4), sll(0x0806, ARP),
                                 sll(0x8100, struct.pack("!HH", 100, 0x0800) + v4)])
write("linktype_sll2.pcap", 276, [sll2(0x0800, v4, 7), sll2(0x86DD, v6, 9, pkttype=4),
                                  sll2(0x0806, ARP, 7)])
for lt in (101, 12, 14):
    write("linktype_raw%d.pcap" % lt, lt, [v4, v6])
# NULL: the family in the writer's byte order (here little-endian); AF_INET6 24 = OpenBSD.
write("linktype_null.pcap", 0, [struct.pack("<I", 2) + v4, struct.pack("<I", 24) + v6,
                                struct.pack("<I", 7) + v4])
# LOOP: network byte order; AF_INET6 30 = Darwin.
write("linktype_loop.pcap", 108, [struct.pack("!I", 2) + v4, struct.pack("!I", 30) + v6,
                                  struct.pack("!I", 7) + v4])
