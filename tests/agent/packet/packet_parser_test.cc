#include "agent/packet/packet_parser.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <set>
#include <string>
#include <vector>

namespace xflowd::agent::packet {
namespace {

using hal::base::ByteView;

constexpr uint8_t kDstMac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
constexpr uint8_t kSrcMac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
constexpr uint8_t kSrcIp4[4] = {10, 0, 0, 1};
constexpr uint8_t kDstIp4[4] = {192, 168, 1, 2};
constexpr uint8_t kSrcIp6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
constexpr uint8_t kDstIp6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02};

constexpr uint8_t kTcp = 6;
constexpr uint8_t kUdp = 17;
constexpr uint8_t kIcmp = 1;
constexpr uint8_t kIcmpv6 = 58;
constexpr uint8_t kSctp = 132;
constexpr uint8_t kHopByHop = 0;
constexpr uint8_t kRouting = 43;
constexpr uint8_t kFragment = 44;
constexpr uint8_t kAh = 51;
constexpr uint8_t kNoNextHeader = 59;
constexpr uint8_t kDestOptions = 60;
constexpr uint8_t kMobility = 135;

// Builds frames header by header. Lengths that depend on what follows are given explicitly,
// so a test can also lie in them.
class FrameBuilder {
 public:
  FrameBuilder& U8(uint8_t x) {
    bytes_.push_back(x);
    return *this;
  }
  FrameBuilder& U16(uint16_t x) {
    U8(static_cast<uint8_t>(x >> 8));
    return U8(static_cast<uint8_t>(x));
  }
  FrameBuilder& U32(uint32_t x) {
    U16(static_cast<uint16_t>(x >> 16));
    return U16(static_cast<uint16_t>(x));
  }
  FrameBuilder& Bytes(const uint8_t* p, size_t n) {
    bytes_.insert(bytes_.end(), p, p + n);
    return *this;
  }
  FrameBuilder& Zeros(size_t n) {
    bytes_.resize(bytes_.size() + n, 0);
    return *this;
  }

  FrameBuilder& Ethernet(uint16_t ethertype) {
    Bytes(kDstMac, 6);
    Bytes(kSrcMac, 6);
    return U16(ethertype);
  }
  // A tag after a VLAN TPID: TCI, then the next ethertype (or TPID).
  FrameBuilder& VlanTag(uint16_t vid, uint8_t pcp, uint16_t next_ethertype) {
    U16(static_cast<uint16_t>((pcp << 13) | vid));
    return U16(next_ethertype);
  }
  static uint32_t MplsEntry(uint32_t label, bool bottom, uint8_t ttl = 64) {
    return (label << 12) | (bottom ? 0x100u : 0u) | ttl;
  }
  FrameBuilder& Mpls(uint32_t label, bool bottom) { return U32(MplsEntry(label, bottom)); }

  // IPv4 header of 20 + options bytes; total length = header + payload_bytes.
  FrameBuilder& Ipv4(uint8_t protocol, size_t payload_bytes, size_t option_bytes = 0,
                     uint16_t flags_and_offset = 0) {
    const size_t header = 20 + option_bytes;
    U8(static_cast<uint8_t>(0x40 | (header / 4)));
    U8(0x2e);  // TOS: DSCP 11 (AF11 ECT)
    U16(static_cast<uint16_t>(header + payload_bytes));
    U16(0x1234);  // id
    U16(flags_and_offset);
    U8(63);  // TTL
    U8(protocol);
    U16(0);  // checksum: not checked
    Bytes(kSrcIp4, 4);
    Bytes(kDstIp4, 4);
    for (size_t i = 0; i < option_bytes; ++i) U8(1);  // NOP options
    return *this;
  }
  FrameBuilder& Ipv6(uint8_t next_header, uint16_t payload_length) {
    U32((6u << 28) | (0xb8u << 20) | 0x12345u);  // traffic class 0xb8, flow label 0x12345
    U16(payload_length);
    U8(next_header);
    U8(64);  // hop limit
    Bytes(kSrcIp6, 16);
    return Bytes(kDstIp6, 16);
  }
  // Generic extension header (hop-by-hop, routing, destination options, mobility) of
  // (length_field + 1) * 8 bytes.
  FrameBuilder& Ipv6Ext(uint8_t next_header, uint8_t length_field) {
    U8(next_header);
    U8(length_field);
    return Zeros((length_field + 1u) * 8 - 2);
  }
  FrameBuilder& Ipv6Fragment(uint8_t next_header, uint16_t offset_units, bool more) {
    U8(next_header);
    U8(0);
    U16(static_cast<uint16_t>((offset_units << 3) | (more ? 1 : 0)));
    return U32(0xdeadbeef);  // identification
  }
  FrameBuilder& Ah(uint8_t next_header, uint8_t length_field) {
    U8(next_header);
    U8(length_field);
    return Zeros((length_field + 2u) * 4 - 2);
  }
  FrameBuilder& Tcp(uint16_t src, uint16_t dst, uint16_t flags) {
    U16(src);
    U16(dst);
    U32(1000);  // seq
    U32(2000);  // ack
    U16(static_cast<uint16_t>((5 << 12) | (flags & 0x1ff)));
    U16(65535);  // window
    U16(0);      // checksum
    return U16(0);
  }
  FrameBuilder& Udp(uint16_t src, uint16_t dst, uint16_t length) {
    U16(src);
    U16(dst);
    U16(length);
    return U16(0);
  }
  FrameBuilder& Icmp(uint8_t type, uint8_t code) {
    U8(type);
    U8(code);
    U16(0);
    return U32(0x00010001);  // id, sequence
  }

  size_t size() const { return bytes_.size(); }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

// Parses a copy sized exactly to `len` bytes so that any read past the view is a heap
// overflow under ASan, not a quiet read of the rest of the frame.
ParsedPacket ParsePrefix(const std::vector<uint8_t>& frame, size_t len, LinkType link) {
  std::vector<uint8_t> cut(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(len));
  ParsedPacket p;
  const ParseError e = ParsePacket(ByteView(cut.data(), cut.size()), link, &p);
  EXPECT_EQ(e, p.error);
  return p;
}
ParsedPacket Parse(const FrameBuilder& b, LinkType link = LinkType::kEthernet) {
  return ParsePrefix(b.bytes(), b.size(), link);
}

std::string Ip(const uint8_t* ip, size_t n) { return std::string(ip, ip + n); }

::testing::AssertionResult HasIpv4Addresses(const ParsedPacket& p) {
  if (Ip(p.src_ip, 4) != Ip(kSrcIp4, 4)) return ::testing::AssertionFailure() << "src_ip";
  if (Ip(p.dst_ip, 4) != Ip(kDstIp4, 4)) return ::testing::AssertionFailure() << "dst_ip";
  return ::testing::AssertionSuccess();
}
::testing::AssertionResult HasIpv6Addresses(const ParsedPacket& p) {
  if (Ip(p.src_ip, 16) != Ip(kSrcIp6, 16)) return ::testing::AssertionFailure() << "src_ip";
  if (Ip(p.dst_ip, 16) != Ip(kDstIp6, 16)) return ::testing::AssertionFailure() << "dst_ip";
  return ::testing::AssertionSuccess();
}

FrameBuilder Ipv4TcpFrame() {
  FrameBuilder b;
  b.Ethernet(0x0800).Ipv4(kTcp, 20).Tcp(40000, 443, kTcpSyn | kTcpAck);
  return b;
}

// ---------------------------------------------------------------------------------------------
// Ethernet, IPv4, TCP

TEST(PacketParserTest, EthernetIpv4Tcp) {
  const ParsedPacket p = Parse(Ipv4TcpFrame());
  EXPECT_EQ(p.error, ParseError::kNone);
  EXPECT_TRUE(p.has_ethernet);
  EXPECT_EQ(Ip(p.dst_mac, 6), Ip(kDstMac, 6));
  EXPECT_EQ(Ip(p.src_mac, 6), Ip(kSrcMac, 6));
  EXPECT_EQ(p.ethertype, 0x0800);
  EXPECT_EQ(p.vlan_count, 0);
  EXPECT_EQ(p.mpls_count, 0);
  EXPECT_EQ(p.ip_version, 4);
  EXPECT_EQ(p.l3_offset, 14);
  EXPECT_TRUE(HasIpv4Addresses(p));
  EXPECT_EQ(p.protocol, kTcp);
  EXPECT_EQ(p.tos, 0x2e);
  EXPECT_EQ(p.ttl, 63);
  EXPECT_EQ(p.ip_length, 40u);
  EXPECT_FALSE(p.is_fragment);
  EXPECT_EQ(p.l4_offset, 34);
  EXPECT_TRUE(p.has_ports);
  EXPECT_EQ(p.src_port, 40000);
  EXPECT_EQ(p.dst_port, 443);
  EXPECT_EQ(p.tcp_flags, kTcpSyn | kTcpAck);
  EXPECT_FALSE(p.has_icmp);
}

TEST(PacketParserTest, TcpFlagsIncludeNsFromDataOffsetByte) {
  FrameBuilder b;
  b.Ethernet(0x0800).Ipv4(kTcp, 20).Tcp(1, 2, kTcpNs | kTcpCwr | kTcpEce | kTcpFin);
  const ParsedPacket p = Parse(b);
  EXPECT_EQ(p.error, ParseError::kNone);
  EXPECT_EQ(p.tcp_flags, kTcpNs | kTcpCwr | kTcpEce | kTcpFin);

  FrameBuilder all;
  all.Ethernet(0x0800).Ipv4(kTcp, 20).Tcp(1, 2, 0x1ff);
  EXPECT_EQ(Parse(all).tcp_flags, 0x1ff);
}

TEST(PacketParserTest, Ipv4OptionsMoveL4) {
  FrameBuilder b;
  b.Ethernet(0x0800).Ipv4(kUdp, 8, /*option_bytes=*/12).Udp(5353, 53, 8);
  const ParsedPacket p = Parse(b);
  EXPECT_EQ(p.error, ParseError::kNone);
  EXPECT_EQ(p.l4_offset, 14 + 32);
  EXPECT_EQ(p.ip_length, 40u);
  EXPECT_TRUE(p.has_ports);
  EXPECT_EQ(p.src_port, 5353);
  EXPECT_EQ(p.dst_port, 53);
  EXPECT_EQ(p.tcp_flags, 0);
}

TEST(PacketParserTest, Ipv4MaximumOptions) {
  FrameBuilder b;
  b.Ethernet(0x0800).Ipv4(kTcp, 20, /*option_bytes=*/40).Tcp(7, 8, kTcpRst);
  const ParsedPacket p = Parse(b);
  EXPECT_EQ(p.error, ParseError::kNone);
  EXPECT_EQ(p.l4_offset, 14 + 60);
  EXPECT_EQ(p.src_port, 7);
  EXPECT_EQ(p.tcp_flags, kTcpRst);
}

TEST(PacketParserTest, Ipv4L4EndsAtTotalLengthNotAtEthernetPadding) {
  // Total length claims only 4 bytes of UDP; the rest of the minimum-size frame is padding.
  FrameBuilder b;
  b.Ethernet(0x0800).Ipv4(kUdp, 4).U16(1111).U16(2222).Zeros(22);
  ASSERT_EQ(b.size(), 60u);
  const ParsedPacket p = Parse(b);
  EXPECT_EQ(p.error, ParseError::kTruncatedL4);
  EXPECT_TRUE(p.has_ports);
  EXPECT_EQ(p.src_port, 1111);
  EXPECT_EQ(p.dst_port, 2222);
}

TEST(PacketParserTest, Ipv4PaddingAfterCompletePacketIsIgnored) {
  FrameBuilder b;
  b.Ethernet(0x0800).Ipv4(kUdp, 8).Udp(1, 2, 8).Zeros(18);
  const ParsedPacket p = Parse(b);
  EXPECT_EQ(p.error, ParseError::kNone);
  EXPECT_EQ(p.ip_length, 28u);
}

TEST(PacketParserTest, Ipv4TotalLengthZeroIsAccepted) {
  // TSO/GSO packets captured before segmentation carry total length 0.
  FrameBuilder b;
  b.Ethernet(0x0800).Ipv4(kTcp, 20).Tcp(1, 2, kTcpAck);
  std::vector<uint8_t> bytes = b.bytes();
  bytes[14 + 2] = 0;
  bytes[14 + 3] = 0;
  const ParsedPacket p = ParsePrefix(bytes, bytes.size(), LinkType::kEthernet);
  EXPECT_EQ(p.error, ParseError::kNone);
  EXPECT_EQ(p.ip_length, 0u);
  EXPECT_TRUE(p.has_ports);
}

TEST(PacketParserTest, Ipv4FirstFragmentHasPorts) {
  FrameBuilder b;
  b.Ethernet(0x0800).Ipv4(kUdp, 8, 0, /*MF*/ 0x2000).Udp(123, 456, 1400);
  const ParsedPacket p = Parse(b);
  EXPECT_EQ(p.error, ParseError::kNone);
  EXPECT_TRUE(p.is_fragment);
  EXPECT_TRUE(p.more_fragments);
  EXPECT_EQ(p.fragment_offset, 0);
  EXPECT_TRUE(p.has_ports);
  EXPECT_EQ(p.src_port, 123);
  EXPECT_EQ(p.l4_offset, 34);
}

TEST(PacketParserTest, Ipv4LaterFragmentHasNoPorts) {
  FrameBuilder b;
  // Payload bytes look like a UDP header but belong to the middle of the datagram.
  b.Ethernet(0x0800).Ipv4(kUdp, 8, 0, 0x2000 | 185).Udp(123, 456, 1400);
  ParsedPacket p = Parse(b);
  EXPECT_EQ(p.error, ParseError::kNone);
  EXPECT_TRUE(p.is_fragment);
  EXPECT_TRUE(p.more_fragments);
  EXPECT_EQ(p.fragment_offset, 185);
  EXPECT_EQ(p.protocol, kUdp);
  EXPECT_FALSE(p.has_ports);
  EXPECT_EQ(p.src_port, 0);
  EXPECT_EQ(p.l4_offset, 0);

  FrameBuilder last;
  last.Ethernet(0x0800).Ipv4(kUdp, 8, 0, 370).Zeros(8);
  p = Parse(last);
  EXPECT_EQ(p.error, ParseError::kNone);
  EXPECT_TRUE(p.is_fragment);
  EXPECT_FALSE(p.more_fragments);
  EXPECT_EQ(p.fragment_offset, 370);
  EXPECT_FALSE(p.has_ports);
}

TEST(PacketParserTest, Ipv4DontFragmentIsNotAFragment) {
  FrameBuilder b;
  b.Ethernet(0x0800).Ipv4(kTcp, 20, 0, /*DF*/ 0x4000).Tcp(1, 2, kTcpAck);
  const ParsedPacket p = Parse(b);
  EXPECT_FALSE(p.is_fragment);
  EXPECT_FALSE(p.more_fragments);
  EXPECT_TRUE(p.has_ports);
}

TEST(PacketParserTest, Ipv4IhlBelowFiveIsBadHeaderLength) {
  for (uint8_t ihl = 0; ihl < 5; ++ihl) {
    SCOPED_TRACE(ihl);
    std::vector<uint8_t> bytes = Ipv4TcpFrame().bytes();
    bytes[14] = static_cast<uint8_t>(0x40 | ihl);
    const ParsedPacket p = ParsePrefix(bytes, bytes.size(), LinkType::kEthernet);
    EXPECT_EQ(p.error, ParseError::kBadIpHeaderLength);
    EXPECT_EQ(p.ip_version, 4);
    EXPECT_FALSE(p.has_ports);
  }
}

TEST(PacketParserTest, Ipv4HeaderLongerThanTotalLengthIsBadHeaderLength) {
  std::vector<uint8_t> bytes = Ipv4TcpFrame().bytes();
  bytes[14] = 0x4f;   // IHL 15: 60 bytes
  bytes[14 + 2] = 0;  // total length 40
  bytes[14 + 3] = 40;
  ParsedPacket p = ParsePrefix(bytes, bytes.size(), LinkType::kEthernet);
  EXPECT_EQ(p.error, ParseError::kBadIpHeaderLength);
  EXPECT_FALSE(p.has_ports);

  bytes[14 + 3] = 60;  // header exactly fills the packet: fine, but the view ends first
  p = ParsePrefix(bytes, bytes.size(), LinkType::kEthernet);
  EXPECT_EQ(p.error, ParseError::kTruncatedL3);
}

TEST(PacketParserTest, Ipv4HeaderWithNoPayloadIsTruncatedL4ForTcp) {
  FrameBuilder b;
  b.Ethernet(0x0800).Ipv4(kTcp, 0);
  const ParsedPacket p = Parse(b);
  EXPECT_EQ(p.error, ParseError::kTruncatedL4);
  EXPECT_EQ(p.l4_offset, 34);
  EXPECT_FALSE(p.has_ports);
}

TEST(PacketParserTest, EthertypeIpv4WithVersion6IsBadIpVersion) {
  FrameBuilder b;
  b.Ethernet(0x0800).Ipv6(kTcp, 20).Tcp(1, 2, 0);
  const ParsedPacket p = Parse(b);
  EXPECT_EQ(p.error, ParseError::kBadIpVersion);
  EXPECT_EQ(p.ip_version, 0);
  EXPECT_EQ(p.l3_offset, 14);

  FrameBuilder c;
  c.Ethernet(0x86dd).Ipv4(kTcp, 20).Tcp(1, 2, 0);
  EXPECT_EQ(Parse(c).error, ParseError::kBadIpVersion);
}

TEST(PacketParserTest, UnknownIpProtocolStopsCleanly) {
  FrameBuilder b;
  b.Ethernet(0x0800).Ipv4(47, 4).U32(0x00006558);  // GRE
  const ParsedPacket p = Parse(b);
  EXPECT_EQ(p.error, ParseError::kNone);
  EXPECT_EQ(p.protocol, 47);
  EXPECT_EQ(p.l4_offset, 34);
  EXPECT_FALSE(p.has_ports);
  EXPECT_FALSE(p.has_icmp);
}

TEST(PacketParserTest, UdpAndSctpPorts) {
  FrameBuilder udp;
  udp.Ethernet(0x0800).Ipv4(kUdp, 8).Udp(6343, 6344, 8);
  ParsedPacket p = Parse(udp);
  EXPECT_EQ(p.error, ParseError::kNone);
  EXPECT_EQ(p.protocol, kUdp);
  EXPECT_EQ(p.src_port, 6343);
  EXPECT_EQ(p.dst_port, 6344);

  FrameBuilder sctp;
  sctp.Ethernet(0x0800).Ipv4(kSctp, 12).U16(2905).U16(2906).U32(0xabcdef01).U32(0);
  p = Parse(sctp);
  EXPECT_EQ(p.error, ParseError::kNone);
  EXPECT_TRUE(p.has_ports);
  EXPECT_EQ(p.src_port, 2905);
  EXPECT_EQ(p.dst_port, 2906);
  EXPECT_EQ(p.tcp_flags, 0);

  FrameBuilder short_sctp;  // ports present, verification tag cut off
  short_sctp.Ethernet(0x0800).Ipv4(kSctp, 12).U16(2905).U16(2906);
  p = Parse(short_sctp);
  EXPECT_EQ(p.error, ParseError::kTruncatedL4);
  EXPECT_TRUE(p.has_ports);
}

// ---------------------------------------------------------------------------------------------
// ICMP

TEST(PacketParserTest, Icmp) {
  FrameBuilder b;
  b.Ethernet(0x0800).Ipv4(kIcmp, 8).Icmp(3, 4);  // unreachable, fragmentation needed
  const ParsedPacket p = Parse(b);
  EXPECT_EQ(p.error, ParseError::kNone);
  EXPECT_TRUE(p.has_icmp);
  EXPECT_EQ(p.icmp_type, 3);
  EXPECT_EQ(p.icmp_code, 4);
  EXPECT_FALSE(p.has_ports);

  FrameBuilder cut;  // type and code present, rest of the header cut
  cut.Ethernet(0x0800).Ipv4(kIcmp, 8).U8(8).U8(0);
  const ParsedPacket q = Parse(cut);
  EXPECT_EQ(q.error, ParseError::kTruncatedL4);
  EXPECT_TRUE(q.has_icmp);
  EXPECT_EQ(q.icmp_type, 8);
}

TEST(PacketParserTest, Icmpv6) {
  FrameBuilder b;
  b.Ethernet(0x86dd).Ipv6(kIcmpv6, 8).Icmp(128, 0);  // echo request
  ParsedPacket p = Parse(b);
  EXPECT_EQ(p.error, ParseError::kNone);
  EXPECT_EQ(p.protocol, kIcmpv6);
  EXPECT_TRUE(p.has_icmp);
  EXPECT_EQ(p.icmp_type, 128);
  EXPECT_EQ(p.icmp_code, 0);
  EXPECT_EQ(p.l4_offset, 54);

  // MLD reports come after a hop-by-hop router alert.
  FrameBuilder mld;
  mld.Ethernet(0x86dd).Ipv6(kHopByHop, 8 + 8).Ipv6Ext(kIcmpv6, 0).Icmp(143, 0);
  p = Parse(mld);
  EXPECT_EQ(p.error, ParseError::kNone);
  EXPECT_EQ(p.protocol, kIcmpv6);
  EXPECT_EQ(p.icmp_type, 143);
  EXPECT_EQ(p.l4_offset, 62);
}

TEST(PacketParserTest, IcmpNumberOverTheOtherIpVersionIsNotIcmp) {
  FrameBuilder v6;
  v6.Ethernet(0x86dd).Ipv6(kIcmp, 8).Icmp(8, 0);
  EXPECT_FALSE(Parse(v6).has_icmp);
  FrameBuilder v4;
  v4.Ethernet(0x0800).Ipv4(kIcmpv6, 8).Icmp(128, 0);
  EXPECT_FALSE(Parse(v4).has_icmp);
}

// ---------------------------------------------------------------------------------------------
// IPv6 and extension headers

TEST(PacketParserTest, EthernetIpv6Udp) {
  FrameBuilder b;
  b.Ethernet(0x86dd).Ipv6(kUdp, 8).Udp(546, 547, 8);
  const ParsedPacket p = Parse(b);
  EXPECT_EQ(p.error, ParseError::kNone);
  EXPECT_EQ(p.ethertype, 0x86dd);
  EXPECT_EQ(p.ip_version, 6);
  EXPECT_EQ(p.l3_offset, 14);
  EXPECT_TRUE(HasIpv6Addresses(p));
  EXPECT_EQ(p.tos, 0xb8);
  EXPECT_EQ(p.flow_label, 0x12345u);
  EXPECT_EQ(p.ttl, 64);
  EXPECT_EQ(p.ip_length, 48u);
  EXPECT_FALSE(p.is_fragment);
  EXPECT_EQ(p.l4_offset, 54);
  EXPECT_EQ(p.src_port, 546);
  EXPECT_EQ(p.dst_port, 547);
}

TEST(PacketParserTest, Ipv6ExtensionHeaderChain) {
  FrameBuilder b;
  b.Ethernet(0x86dd)
      .Ipv6(kHopByHop, 8 + 24 + 8 + 16 + 20)
      .Ipv6Ext(kRouting, 0)
      .Ipv6Ext(kFragment, 2)
      .Ipv6Fragment(kDestOptions, 0, /*more=*/true)
      .Ipv6Ext(kTcp, 1)
      .Tcp(22, 50000, kTcpPsh | kTcpAck);
  const ParsedPacket p = Parse(b);
  EXPECT_EQ(p.error, ParseError::kNone);
  EXPECT_EQ(p.protocol, kTcp);
  EXPECT_TRUE(p.is_fragment);
  EXPECT_TRUE(p.more_fragments);
  EXPECT_EQ(p.fragment_offset, 0);
  EXPECT_EQ(p.l4_offset, 54 + 56);
  EXPECT_EQ(p.src_port, 22);
  EXPECT_EQ(p.tcp_flags, kTcpPsh | kTcpAck);
}

TEST(PacketParserTest, Ipv6AuthenticationHeaderLengthIsInFourByteUnits) {
  FrameBuilder b;
  // AH length 4 = (4 + 2) * 4 = 24 bytes (12-byte ICV); read as 8-byte units it would be 40.
  b.Ethernet(0x86dd).Ipv6(kAh, 24 + 8).Ah(kUdp, 4).Udp(500, 4500, 8);
  const ParsedPacket p = Parse(b);
  EXPECT_EQ(p.error, ParseError::kNone);
  EXPECT_EQ(p.protocol, kUdp);
  EXPECT_EQ(p.l4_offset, 54 + 24);
  EXPECT_EQ(p.src_port, 500);
  EXPECT_EQ(p.dst_port, 4500);
}

TEST(PacketParserTest, Ipv6MobilityHeader) {
  FrameBuilder b;
  b.Ethernet(0x86dd).Ipv6(kMobility, 16).Ipv6Ext(kNoNextHeader, 1);
  const ParsedPacket p = Parse(b);
  EXPECT_EQ(p.error, ParseError::kNone);
  EXPECT_EQ(p.protocol, kNoNextHeader);
  EXPECT_FALSE(p.has_ports);
}

TEST(PacketParserTest, Ipv6NoNextHeader) {
  FrameBuilder b;
  b.Ethernet(0x86dd).Ipv6(kNoNextHeader, 0);
  ParsedPacket p = Parse(b);
  EXPECT_EQ(p.error, ParseError::kNone);
  EXPECT_EQ(p.protocol, kNoNextHeader);
  EXPECT_EQ(p.l4_offset, 0);

  FrameBuilder after_ext;
  after_ext.Ethernet(0x86dd).Ipv6(kDestOptions, 8 + 20).Ipv6Ext(kNoNextHeader, 0).Zeros(20);
  p = Parse(after_ext);
  EXPECT_EQ(p.error, ParseError::kNone);
  EXPECT_EQ(p.protocol, kNoNextHeader);
  EXPECT_FALSE(p.has_ports);
}

TEST(PacketParserTest, Ipv6LaterFragmentHasNoPorts) {
  FrameBuilder b;
  b.Ethernet(0x86dd).Ipv6(kFragment, 8 + 8).Ipv6Fragment(kUdp, 181, false).Udp(1, 2, 8);
  const ParsedPacket p = Parse(b);
  EXPECT_EQ(p.error, ParseError::kNone);
  EXPECT_TRUE(p.is_fragment);
  EXPECT_FALSE(p.more_fragments);
  EXPECT_EQ(p.fragment_offset, 181);
  EXPECT_EQ(p.protocol, kUdp);
  EXPECT_FALSE(p.has_ports);
  EXPECT_EQ(p.l4_offset, 0);
}

TEST(PacketParserTest, Ipv6ExtensionHeaderLimit) {
  for (int n = 1; n <= kMaxIpv6ExtHeaders + 1; ++n) {
    SCOPED_TRACE(n);
    FrameBuilder b;
    b.Ethernet(0x86dd).Ipv6(kDestOptions, static_cast<uint16_t>(8 * n + 8));
    for (int i = 0; i < n; ++i) b.Ipv6Ext(i + 1 < n ? kDestOptions : kUdp, 0);
    b.Udp(1, 2, 8);
    const ParsedPacket p = Parse(b);
    if (n <= kMaxIpv6ExtHeaders) {
      EXPECT_EQ(p.error, ParseError::kNone);
      EXPECT_EQ(p.src_port, 1);
    } else {
      EXPECT_EQ(p.error, ParseError::kExtensionHeaderLimit);
      EXPECT_FALSE(p.has_ports);
      EXPECT_TRUE(HasIpv6Addresses(p));
    }
  }
}

TEST(PacketParserTest, Ipv6HopByHopLoopHitsLimit) {
  // Every header names hop-by-hop as the next one, all the way to the end of a 1500-byte frame.
  FrameBuilder b;
  b.Ethernet(0x86dd).Ipv6(kHopByHop, 1500 - 54);
  while (b.size() + 8 <= 1500) b.Ipv6Ext(kHopByHop, 0);
  const ParsedPacket p = Parse(b);
  EXPECT_EQ(p.error, ParseError::kExtensionHeaderLimit);
  EXPECT_EQ(p.ip_version, 6);
}

TEST(PacketParserTest, Ipv6ExtensionHeaderBeyondPayloadLengthIsTruncated) {
  // Payload length says 8 bytes but the routing header claims 16.
  FrameBuilder b;
  b.Ethernet(0x86dd).Ipv6(kRouting, 8).Ipv6Ext(kTcp, 1).Tcp(1, 2, 0);
  const ParsedPacket p = Parse(b);
  EXPECT_EQ(p.error, ParseError::kTruncatedL3);
  EXPECT_EQ(p.protocol, kRouting);
}

TEST(PacketParserTest, Ipv6PayloadLengthZeroUsesTheView) {
  FrameBuilder b;  // jumbogram: real length is in a hop-by-hop option
  b.Ethernet(0x86dd).Ipv6(kHopByHop, 0).Ipv6Ext(kTcp, 0).Tcp(80, 8080, kTcpAck);
  const ParsedPacket p = Parse(b);
  EXPECT_EQ(p.error, ParseError::kNone);
  EXPECT_EQ(p.ip_length, 40u);
  EXPECT_EQ(p.src_port, 80);
}

// ---------------------------------------------------------------------------------------------
// Truncation at every length

TEST(PacketParserTest, TruncatedTcpIpv4AtEveryLength) {
  const std::vector<uint8_t> frame = Ipv4TcpFrame().bytes();
  ASSERT_EQ(frame.size(), 54u);
  for (size_t len = 0; len <= frame.size(); ++len) {
    SCOPED_TRACE(len);
    const ParsedPacket p = ParsePrefix(frame, len, LinkType::kEthernet);
    if (len < 14) {
      EXPECT_EQ(p.error, ParseError::kTruncatedL2);
      EXPECT_FALSE(p.has_ethernet);
      EXPECT_EQ(p.ip_version, 0);
      continue;
    }
    EXPECT_TRUE(p.has_ethernet);
    EXPECT_EQ(p.ethertype, 0x0800);
    EXPECT_EQ(p.l3_offset, 14);
    if (len == 14) {
      EXPECT_EQ(p.ip_version, 0);  // not a single byte of IP
    } else {
      EXPECT_EQ(p.ip_version, 4);
    }
    if (len < 34) {
      EXPECT_EQ(p.error, ParseError::kTruncatedL3);
      EXPECT_FALSE(p.has_ports);
      EXPECT_EQ(p.ttl, len >= 23 ? 63 : 0);
      EXPECT_EQ(p.protocol, len >= 24 ? kTcp : 0);
      EXPECT_EQ(p.ip_length, len >= 18 ? 40u : 0u);
      continue;
    }
    // L3 complete from here on.
    EXPECT_TRUE(HasIpv4Addresses(p));
    EXPECT_EQ(p.protocol, kTcp);
    EXPECT_EQ(p.ttl, 63);
    EXPECT_EQ(p.l4_offset, 34);
    EXPECT_EQ(p.has_ports, len >= 38);
    EXPECT_EQ(p.tcp_flags, len >= 48 ? kTcpSyn | kTcpAck : 0);
    EXPECT_EQ(p.error, len < 54 ? ParseError::kTruncatedL4 : ParseError::kNone);
  }
}

TEST(PacketParserTest, TruncatedTcpIpv6WithExtensionHeadersAtEveryLength) {
  FrameBuilder b;
  b.Ethernet(0x86dd)
      .Ipv6(kHopByHop, 8 + 16 + 8 + 24 + 20)
      .Ipv6Ext(kDestOptions, 0)      // 54..61
      .Ipv6Ext(kFragment, 1)         // 62..77
      .Ipv6Fragment(kRouting, 0, 1)  // 78..85
      .Ipv6Ext(kTcp, 2)              // 86..109
      .Tcp(12345, 80, kTcpFin | kTcpAck);
  const std::vector<uint8_t> frame = b.bytes();
  ASSERT_EQ(frame.size(), 130u);
  for (size_t len = 0; len <= frame.size(); ++len) {
    SCOPED_TRACE(len);
    const ParsedPacket p = ParsePrefix(frame, len, LinkType::kEthernet);
    if (len < 14) {
      EXPECT_EQ(p.error, ParseError::kTruncatedL2);
      continue;
    }
    EXPECT_EQ(p.ethertype, 0x86dd);
    if (len < 54) {
      EXPECT_EQ(p.error, ParseError::kTruncatedL3);
      EXPECT_EQ(p.flow_label, len >= 18 ? 0x12345u : 0u);
      EXPECT_EQ(p.ttl, len >= 22 ? 64 : 0);
      continue;
    }
    EXPECT_EQ(p.ip_version, 6);
    EXPECT_TRUE(HasIpv6Addresses(p));
    EXPECT_EQ(p.ip_length, 40u + 76u);
    EXPECT_EQ(p.is_fragment, len >= 86);
    if (len < 110) {
      EXPECT_EQ(p.error, ParseError::kTruncatedL3);
      EXPECT_FALSE(p.has_ports);
      EXPECT_EQ(p.l4_offset, 0);
      // protocol is the header that was cut off
      const uint8_t cut = len < 62   ? kHopByHop
                          : len < 78 ? kDestOptions
                          : len < 86 ? kFragment
                                     : kRouting;
      EXPECT_EQ(p.protocol, cut);
      continue;
    }
    EXPECT_EQ(p.protocol, kTcp);
    EXPECT_EQ(p.l4_offset, 110);
    EXPECT_EQ(p.has_ports, len >= 114);
    if (p.has_ports) {
      EXPECT_EQ(p.src_port, 12345);
      EXPECT_EQ(p.dst_port, 80);
    }
    EXPECT_EQ(p.tcp_flags, len >= 124 ? kTcpFin | kTcpAck : 0);
    EXPECT_EQ(p.error, len < 130 ? ParseError::kTruncatedL4 : ParseError::kNone);
  }
}

TEST(PacketParserTest, ShortFramesAreTruncatedL2) {
  const std::vector<uint8_t> frame = Ipv4TcpFrame().bytes();
  for (size_t len = 0; len < 14; ++len) {
    SCOPED_TRACE(len);
    const ParsedPacket p = ParsePrefix(frame, len, LinkType::kEthernet);
    EXPECT_EQ(p.error, ParseError::kTruncatedL2);
    EXPECT_FALSE(p.has_ethernet);
  }
  ParsedPacket p;
  EXPECT_EQ(ParsePacket(ByteView(), LinkType::kEthernet, &p), ParseError::kTruncatedL2);
}

// ---------------------------------------------------------------------------------------------
// VLAN tags

TEST(PacketParserTest, SingleDot1qTag) {
  FrameBuilder b;
  b.Ethernet(0x8100).VlanTag(42, 6, 0x0800).Ipv4(kTcp, 20).Tcp(1, 2, kTcpSyn);
  const ParsedPacket p = Parse(b);
  EXPECT_EQ(p.error, ParseError::kNone);
  EXPECT_EQ(p.vlan_count, 1);
  EXPECT_EQ(p.vlan_id[0], 42);
  EXPECT_EQ(p.vlan_pcp[0], 6);
  EXPECT_EQ(p.ethertype, 0x0800);
  EXPECT_EQ(p.l3_offset, 18);
  EXPECT_EQ(p.l4_offset, 38);
}

TEST(PacketParserTest, QinQOuterThenInner) {
  for (uint16_t outer_tpid : {0x88a8, 0x9100, 0x8100}) {
    SCOPED_TRACE(outer_tpid);
    FrameBuilder b;
    b.Ethernet(outer_tpid)
        .VlanTag(100, 5, 0x8100)
        .VlanTag(4095, 3, 0x86dd)
        .Ipv6(kUdp, 8)
        .Udp(1, 2, 8);
    const ParsedPacket p = Parse(b);
    EXPECT_EQ(p.error, ParseError::kNone);
    EXPECT_EQ(p.vlan_count, 2);
    EXPECT_EQ(p.vlan_id[0], 100);
    EXPECT_EQ(p.vlan_pcp[0], 5);
    EXPECT_EQ(p.vlan_id[1], 4095);
    EXPECT_EQ(p.vlan_pcp[1], 3);
    EXPECT_EQ(p.ethertype, 0x86dd);
    EXPECT_EQ(p.l3_offset, 22);
    EXPECT_EQ(p.src_port, 1);
  }
}

TEST(PacketParserTest, ThreeTagsAreTooManyButFirstTwoKept) {
  FrameBuilder b;
  b.Ethernet(0x88a8)
      .VlanTag(10, 1, 0x8100)
      .VlanTag(20, 2, 0x8100)
      .VlanTag(30, 3, 0x0800)
      .Ipv4(kTcp, 20)
      .Tcp(1, 2, 0);
  const ParsedPacket p = Parse(b);
  EXPECT_EQ(p.error, ParseError::kTooManyTags);
  EXPECT_TRUE(p.has_ethernet);
  EXPECT_EQ(p.vlan_count, 2);
  EXPECT_EQ(p.vlan_id[0], 10);
  EXPECT_EQ(p.vlan_id[1], 20);
  EXPECT_EQ(p.ethertype, 0x8100);
  EXPECT_EQ(p.ip_version, 0);
}

TEST(PacketParserTest, VlanTagCutOffIsTruncatedL2) {
  FrameBuilder b;
  b.Ethernet(0x8100).VlanTag(42, 0, 0x0800);
  for (size_t len = 15; len < 18; ++len) {
    SCOPED_TRACE(len);
    const ParsedPacket p = ParsePrefix(b.bytes(), len, LinkType::kEthernet);
    EXPECT_EQ(p.error, ParseError::kTruncatedL2);
    EXPECT_EQ(p.vlan_count, 0);
  }
  EXPECT_EQ(Parse(b).error, ParseError::kTruncatedL3);  // tag complete, IP missing
}

// ---------------------------------------------------------------------------------------------
// MPLS

TEST(PacketParserTest, MplsThreeLabelsThenIpv4) {
  FrameBuilder b;
  b.Ethernet(0x8847)
      .Mpls(16, false)
      .Mpls(1048575, false)
      .Mpls(299, true)
      .Ipv4(kTcp, 20)
      .Tcp(179, 40000, kTcpAck);
  const ParsedPacket p = Parse(b);
  EXPECT_EQ(p.error, ParseError::kNone);
  EXPECT_EQ(p.ethertype, 0x8847);
  ASSERT_EQ(p.mpls_count, 3);
  EXPECT_EQ(p.mpls_labels[0], FrameBuilder::MplsEntry(16, false));
  EXPECT_EQ(p.mpls_labels[1], FrameBuilder::MplsEntry(1048575, false));
  EXPECT_EQ(p.mpls_labels[2], FrameBuilder::MplsEntry(299, true));
  EXPECT_EQ(p.ip_version, 4);
  EXPECT_EQ(p.l3_offset, 26);
  EXPECT_TRUE(HasIpv4Addresses(p));
  EXPECT_EQ(p.l4_offset, 46);
  EXPECT_EQ(p.src_port, 179);
  EXPECT_EQ(p.dst_port, 40000);
}

TEST(PacketParserTest, MplsMulticastThenIpv6UnderVlan) {
  FrameBuilder b;
  b.Ethernet(0x8100).VlanTag(7, 0, 0x8848).Mpls(500, true).Ipv6(kUdp, 8).Udp(9, 10, 8);
  const ParsedPacket p = Parse(b);
  EXPECT_EQ(p.error, ParseError::kNone);
  EXPECT_EQ(p.vlan_count, 1);
  EXPECT_EQ(p.ethertype, 0x8848);
  EXPECT_EQ(p.mpls_count, 1);
  EXPECT_EQ(p.ip_version, 6);
  EXPECT_EQ(p.l3_offset, 22);
  EXPECT_EQ(p.src_port, 9);
}

TEST(PacketParserTest, MplsNonIpPayloadIsNotIp) {
  FrameBuilder b;  // pseudowire control word (first nibble 0), then an Ethernet frame
  b.Ethernet(0x8847).Mpls(100, true).U32(0).Ethernet(0x0800);
  const ParsedPacket p = Parse(b);
  EXPECT_EQ(p.error, ParseError::kNotIp);
  EXPECT_EQ(p.mpls_count, 1);
  EXPECT_EQ(p.ip_version, 0);
}

TEST(PacketParserTest, MplsLabelStackLimit) {
  for (int n = 1; n <= kMaxMplsLabels + 1; ++n) {
    SCOPED_TRACE(n);
    FrameBuilder b;
    b.Ethernet(0x8847);
    for (int i = 0; i < n; ++i) b.Mpls(static_cast<uint32_t>(1000 + i), i + 1 == n);
    b.Ipv4(kUdp, 8).Udp(1, 2, 8);
    const ParsedPacket p = Parse(b);
    if (n <= kMaxMplsLabels) {
      EXPECT_EQ(p.error, ParseError::kNone);
      EXPECT_EQ(p.mpls_count, n);
      EXPECT_EQ(p.src_port, 1);
    } else {
      EXPECT_EQ(p.error, ParseError::kTooManyTags);
      EXPECT_EQ(p.mpls_count, kMaxMplsLabels);
      EXPECT_EQ(p.mpls_labels[kMaxMplsLabels - 1], FrameBuilder::MplsEntry(1007, false));
      EXPECT_EQ(p.ip_version, 0);
    }
  }
}

TEST(PacketParserTest, MplsCutOff) {
  FrameBuilder b;
  b.Ethernet(0x8847).Mpls(16, false).Mpls(17, true);
  for (size_t len = 14; len < b.size(); ++len) {
    SCOPED_TRACE(len);
    EXPECT_EQ(ParsePrefix(b.bytes(), len, LinkType::kEthernet).error, ParseError::kTruncatedL2);
  }
  const ParsedPacket p = Parse(b);  // stack complete, nothing after it
  EXPECT_EQ(p.error, ParseError::kTruncatedL3);
  EXPECT_EQ(p.mpls_count, 2);
  EXPECT_EQ(p.l3_offset, 22);
}

// ---------------------------------------------------------------------------------------------
// Not IP, raw IP

TEST(PacketParserTest, ArpIsNotIp) {
  FrameBuilder b;
  b.Ethernet(0x0806).U16(1).U16(0x0800).U8(6).U8(4).U16(1).Bytes(kSrcMac, 6).Bytes(kSrcIp4, 4);
  b.Zeros(6).Bytes(kDstIp4, 4);
  const ParsedPacket p = Parse(b);
  EXPECT_EQ(p.error, ParseError::kNotIp);
  EXPECT_TRUE(p.has_ethernet);
  EXPECT_EQ(p.ethertype, 0x0806);
  EXPECT_EQ(Ip(p.src_mac, 6), Ip(kSrcMac, 6));
  EXPECT_EQ(p.ip_version, 0);
  EXPECT_EQ(p.protocol, 0);
  EXPECT_FALSE(p.has_ports);
}

TEST(PacketParserTest, RawIpv4AndIpv6) {
  FrameBuilder v4;
  v4.Ipv4(kTcp, 20).Tcp(1, 2, kTcpSyn);
  ParsedPacket p = Parse(v4, LinkType::kRawIp);
  EXPECT_EQ(p.error, ParseError::kNone);
  EXPECT_FALSE(p.has_ethernet);
  EXPECT_EQ(p.ethertype, 0);
  EXPECT_EQ(p.ip_version, 4);
  EXPECT_EQ(p.l3_offset, 0);
  EXPECT_EQ(p.l4_offset, 20);
  EXPECT_TRUE(HasIpv4Addresses(p));
  EXPECT_EQ(p.tcp_flags, kTcpSyn);

  FrameBuilder v6;
  v6.Ipv6(kIcmpv6, 8).Icmp(135, 0);
  p = Parse(v6, LinkType::kRawIp);
  EXPECT_EQ(p.error, ParseError::kNone);
  EXPECT_EQ(p.ip_version, 6);
  EXPECT_EQ(p.l4_offset, 40);
  EXPECT_EQ(p.icmp_type, 135);
}

TEST(PacketParserTest, RawIpErrors) {
  ParsedPacket p;
  EXPECT_EQ(ParsePacket(ByteView(), LinkType::kRawIp, &p), ParseError::kTruncatedL3);
  const uint8_t not_ip[] = {0x50, 0, 0, 20};
  EXPECT_EQ(ParsePacket(ByteView(not_ip, sizeof(not_ip)), LinkType::kRawIp, &p),
            ParseError::kBadIpVersion);
  EXPECT_EQ(p.ip_version, 0);

  const std::vector<uint8_t> frame = Ipv4TcpFrame().bytes();
  const std::vector<uint8_t> ip(frame.begin() + 14, frame.end());
  for (size_t len = 1; len < 20; ++len) {
    SCOPED_TRACE(len);
    EXPECT_EQ(ParsePrefix(ip, len, LinkType::kRawIp).error, ParseError::kTruncatedL3);
  }
}

// Linux cooked v1: packet type, ARPHRD_ETHER, address length 6, address (8), ethertype.
FrameBuilder& Sll(FrameBuilder& b, uint16_t ethertype) {
  return b.U16(0).U16(1).U16(6).Bytes(kSrcMac, 6).Zeros(2).U16(ethertype);
}

// Linux cooked v2: ethertype, reserved, ifindex, ARPHRD_ETHER, packet type, length, address.
FrameBuilder& Sll2(FrameBuilder& b, uint16_t ethertype) {
  return b.U16(ethertype).U16(0).U32(7).U16(1).U8(4).U8(6).Bytes(kSrcMac, 6).Zeros(2);
}

TEST(PacketParserTest, LinuxCookedV1AndV2) {
  FrameBuilder v1;
  Sll(v1, 0x0800).Ipv4(kTcp, 20).Tcp(1, 2, kTcpSyn);
  ParsedPacket p = Parse(v1, LinkType::kLinuxSll);
  EXPECT_EQ(p.error, ParseError::kNone);
  EXPECT_FALSE(p.has_ethernet);  // no destination MAC in a cooked header
  EXPECT_EQ(p.ethertype, 0x0800);
  EXPECT_EQ(p.l3_offset, 16);
  EXPECT_EQ(p.l4_offset, 36);
  EXPECT_TRUE(HasIpv4Addresses(p));
  EXPECT_EQ(p.tcp_flags, kTcpSyn);

  FrameBuilder v2;
  Sll2(v2, 0x86dd).Ipv6(kUdp, 8).Udp(53, 5353, 8);
  p = Parse(v2, LinkType::kLinuxSll2);
  EXPECT_EQ(p.error, ParseError::kNone);
  EXPECT_EQ(p.ip_version, 6);
  EXPECT_EQ(p.l3_offset, 20);
  EXPECT_EQ(p.dst_port, 5353);
}

// libpcap puts a VLAN tag the kernel took off back after the cooked header.
TEST(PacketParserTest, LinuxCookedWithVlanTagAndMpls) {
  FrameBuilder b;
  Sll(b, 0x8100).VlanTag(100, 5, 0x8847).Mpls(16, true).Ipv4(kUdp, 8).Udp(1, 2, 8);
  const ParsedPacket p = Parse(b, LinkType::kLinuxSll);
  EXPECT_EQ(p.error, ParseError::kNone);
  EXPECT_EQ(p.vlan_count, 1);
  EXPECT_EQ(p.vlan_id[0], 100);
  EXPECT_EQ(p.mpls_count, 1);
  EXPECT_EQ(p.l3_offset, 16 + 4 + 4);
  EXPECT_EQ(p.dst_port, 2);
}

TEST(PacketParserTest, LinuxCookedErrors) {
  FrameBuilder arp;
  Sll2(arp, 0x0806).Zeros(28);
  EXPECT_EQ(Parse(arp, LinkType::kLinuxSll2).error, ParseError::kNotIp);
  FrameBuilder v1;
  Sll(v1, 0x0800).Ipv4(kTcp, 20).Tcp(1, 2, 0);
  FrameBuilder v2;
  Sll2(v2, 0x0800).Ipv4(kTcp, 20).Tcp(1, 2, 0);
  for (size_t len = 0; len < 16; ++len) {
    SCOPED_TRACE(len);
    EXPECT_EQ(ParsePrefix(v1.bytes(), len, LinkType::kLinuxSll).error, ParseError::kTruncatedL2);
  }
  for (size_t len = 0; len < 20; ++len) {
    SCOPED_TRACE(len);
    EXPECT_EQ(ParsePrefix(v2.bytes(), len, LinkType::kLinuxSll2).error, ParseError::kTruncatedL2);
  }
  EXPECT_EQ(ParsePrefix(v1.bytes(), 17, LinkType::kLinuxSll).error, ParseError::kTruncatedL3);
}

// NULL: the family in the writer's byte order (either); LOOP: network order. AF_INET6 is
// 10, 24, 28 or 30 depending on the OS.
TEST(PacketParserTest, LoopbackNullAndLoop) {
  struct Case {
    LinkType link;
    uint32_t family_as_read;  // the first 4 bytes, big-endian
    uint8_t version;          // 0 = not IP
  };
  const Case cases[] = {
      {LinkType::kNull, 0x02000000, 4}, {LinkType::kNull, 2, 4},
      {LinkType::kNull, 0x1e000000, 6}, {LinkType::kNull, 10, 6},
      {LinkType::kLoop, 2, 4},          {LinkType::kLoop, 24, 6},
      {LinkType::kLoop, 28, 6},         {LinkType::kLoop, 0x02000000, 0},
      {LinkType::kNull, 7, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.family_as_read);
    FrameBuilder b;
    b.U32(c.family_as_read);
    if (c.version == 6) {
      b.Ipv6(kUdp, 8).Udp(1, 2, 8);
    } else {
      b.Ipv4(kUdp, 8).Udp(1, 2, 8);
    }
    const ParsedPacket p = Parse(b, c.link);
    EXPECT_EQ(p.error, c.version == 0 ? ParseError::kNotIp : ParseError::kNone);
    EXPECT_EQ(p.ip_version, c.version);
    if (c.version != 0) {
      EXPECT_EQ(p.l3_offset, 4);
      EXPECT_EQ(p.dst_port, 2);
    }
  }
  FrameBuilder mismatch;  // says IPv4, holds IPv6
  mismatch.U32(2).Ipv6(kUdp, 8).Udp(1, 2, 8);
  EXPECT_EQ(Parse(mismatch, LinkType::kLoop).error, ParseError::kBadIpVersion);
  for (size_t len = 0; len < 4; ++len) {
    EXPECT_EQ(ParsePrefix(mismatch.bytes(), len, LinkType::kNull).error, ParseError::kTruncatedL2);
  }
}

// ---------------------------------------------------------------------------------------------
// Output handling

TEST(PacketParserTest, ResetsOutputBetweenPackets) {
  ParsedPacket p;
  const std::vector<uint8_t> tcp = Ipv4TcpFrame().bytes();
  ParsePacket(ByteView(tcp.data(), tcp.size()), LinkType::kEthernet, &p);
  ASSERT_TRUE(p.has_ports);

  FrameBuilder arp;
  arp.Ethernet(0x0806).Zeros(28);
  ParsePacket(ByteView(arp.bytes().data(), arp.size()), LinkType::kEthernet, &p);
  EXPECT_EQ(p.error, ParseError::kNotIp);
  EXPECT_FALSE(p.has_ports);
  EXPECT_EQ(p.ip_version, 0);
  EXPECT_EQ(p.src_port, 0);
  EXPECT_EQ(p.l4_offset, 0);
}

TEST(PacketParserTest, ParseErrorNamesAreDistinct) {
  const ParseError all[] = {
      ParseError::kNone,
      ParseError::kTruncatedL2,
      ParseError::kNotIp,
      ParseError::kTooManyTags,
      ParseError::kTruncatedL3,
      ParseError::kBadIpVersion,
      ParseError::kBadIpHeaderLength,
      ParseError::kExtensionHeaderLimit,
      ParseError::kTruncatedL4,
  };
  std::set<std::string> names;
  for (ParseError e : all) {
    const std::string name = ParseErrorName(e);
    EXPECT_NE(name, "unknown");
    names.insert(name);
  }
  EXPECT_EQ(names.size(), sizeof(all) / sizeof(all[0]));
  EXPECT_STREQ(ParseErrorName(ParseError::kTruncatedL4), "truncated_l4");
}

}  // namespace
}  // namespace xflowd::agent::packet

namespace xflowd::agent::packet {
namespace {

TEST(IpProtocolNameTest, KnownAndUnknownNumbers) {
  EXPECT_STREQ(IpProtocolName(6), "tcp");
  EXPECT_STREQ(IpProtocolName(17), "udp");
  EXPECT_STREQ(IpProtocolName(58), "icmpv6");
  EXPECT_STREQ(IpProtocolName(132), "sctp");
  EXPECT_EQ(IpProtocolName(253), nullptr);
}

}  // namespace
}  // namespace xflowd::agent::packet
