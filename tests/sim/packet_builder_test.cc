#include "sim/packet_builder.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "hal/base/byte_view.h"

namespace xflowd::sim {
namespace {

using hal::base::ByteView;

uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

// RFC 1071 sum over the bytes, folded; a correct checksum makes the sum 0xFFFF.
uint32_t Sum(const uint8_t* p, size_t n, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += Get16(p + i);
  if (n & 1) sum += uint32_t{p[n - 1]} << 8;
  return sum;
}
uint16_t Fold(uint32_t s) {
  while (s >> 16) s = (s & 0xFFFF) + (s >> 16);
  return static_cast<uint16_t>(s);
}

// Verifies the L4 checksum over the whole segment of a full frame.
bool L4ChecksumOk(const std::vector<uint8_t>& f, size_t l3, int version, uint8_t proto) {
  const size_t addr = version == 4 ? 4 : 16;
  const size_t l3_len = version == 4 ? 20 : 40;
  const size_t l4 = l3 + l3_len;
  const size_t seg = f.size() - l4;
  uint32_t s = 0;
  if (!(version == 4 && proto == kIpProtoIcmp)) {
    const size_t src = version == 4 ? l3 + 12 : l3 + 8;
    s = Sum(&f[src], 2 * addr);
    s += proto;
    s += static_cast<uint32_t>(seg & 0xFFFF) + static_cast<uint32_t>(seg >> 16);
  }
  s = Sum(&f[l4], seg, s);
  return Fold(s) == 0xFFFF;
}

PacketSpec V4Tcp() {
  PacketSpec p;
  const uint8_t dmac[6] = {0x02, 0, 0, 0, 0, 0x02}, smac[6] = {0x02, 0, 0, 0, 0, 0x01};
  std::memcpy(p.dst_mac, dmac, 6);
  std::memcpy(p.src_mac, smac, 6);
  p.ip_version = 4;
  p.protocol = kIpProtoTcp;
  p.tos = 0x28;
  p.ttl = 63;
  p.ip_id = 0x1234;
  const uint8_t s[4] = {198, 18, 0, 1}, d[4] = {192, 0, 2, 7};
  std::memcpy(p.src_ip, s, 4);
  std::memcpy(p.dst_ip, d, 4);
  p.src_port = 40000;
  p.dst_port = 443;
  p.tcp_flags = 0x18;
  p.tcp_seq = 0x01020304;
  p.tcp_ack = 0x0A0B0C0D;
  return p;
}

PacketSpec V6Udp() {
  PacketSpec p = V4Tcp();
  p.ip_version = 6;
  p.protocol = kIpProtoUdp;
  p.flow_label = 0xABCDE;
  const uint8_t s[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const uint8_t d[16] = {0x20, 0x01, 0x0d, 0xb8, 0x80, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  std::memcpy(p.src_ip, s, 16);
  std::memcpy(p.dst_ip, d, 16);
  p.src_port = 5353;
  p.dst_port = 53;
  return p;
}

std::vector<uint8_t> Build(const PacketSpec& p, uint32_t frame_length, size_t capacity) {
  std::vector<uint8_t> out(capacity, 0xEE);
  out.resize(BuildFrame(p, frame_length, out.data(), capacity));
  return out;
}

TEST(PacketBuilderTest, HeaderLengths) {
  PacketSpec p = V4Tcp();
  EXPECT_EQ(L2HeaderLength(p), 14u);
  EXPECT_EQ(HeaderLength(p), 54u);
  p.vlan_count = 2;
  EXPECT_EQ(L2HeaderLength(p), 22u);
  EXPECT_EQ(HeaderLength(V6Udp()), 14u + 40 + 8);
  p = V4Tcp();
  p.protocol = kIpProtoIcmp;
  EXPECT_EQ(HeaderLength(p), 14u + 20 + 8);
}

TEST(PacketBuilderTest, Ipv4TcpFieldsAndChecksums) {
  const std::vector<uint8_t> f = Build(V4Tcp(), 1000, 2000);
  ASSERT_EQ(f.size(), 1000u);
  EXPECT_EQ(Get16(&f[12]), kEtherTypeIpv4);
  const uint8_t* ip = &f[14];
  EXPECT_EQ(ip[0], 0x45);
  EXPECT_EQ(ip[1], 0x28);
  EXPECT_EQ(Get16(ip + 2), 1000 - 14);
  EXPECT_EQ(Get16(ip + 4), 0x1234);
  EXPECT_EQ(Get16(ip + 6), 0x4000);  // DF
  EXPECT_EQ(ip[8], 63);
  EXPECT_EQ(ip[9], kIpProtoTcp);
  EXPECT_EQ(Fold(Sum(ip, 20)), 0xFFFF) << "IPv4 header checksum";
  const uint8_t* tcp = ip + 20;
  EXPECT_EQ(Get16(tcp), 40000);
  EXPECT_EQ(Get16(tcp + 2), 443);
  EXPECT_EQ(tcp[12], 0x50);
  EXPECT_EQ(tcp[13], 0x18);
  EXPECT_TRUE(L4ChecksumOk(f, 14, 4, kIpProtoTcp));
  for (size_t i = 54; i < f.size(); ++i) ASSERT_EQ(f[i], 0) << i;
}

TEST(PacketBuilderTest, Ipv6UdpQinQ) {
  PacketSpec p = V6Udp();
  p.vlan_count = 2;
  p.vlan_tpid[0] = kTpid8021AD;
  p.vlan_id[0] = 100;
  p.vlan_pcp[0] = 5;
  p.vlan_id[1] = 4094;
  const std::vector<uint8_t> f = Build(p, 300, 300);
  ASSERT_EQ(f.size(), 300u);
  EXPECT_EQ(Get16(&f[12]), kTpid8021AD);
  EXPECT_EQ(Get16(&f[14]), (5 << 13) | 100);
  EXPECT_EQ(Get16(&f[16]), kTpid8021Q);
  EXPECT_EQ(Get16(&f[18]), 4094);
  EXPECT_EQ(Get16(&f[20]), kEtherTypeIpv6);
  const uint8_t* ip = &f[22];
  EXPECT_EQ(ip[0] >> 4, 6);
  EXPECT_EQ(((ip[1] & 0x0F) << 16) | Get16(ip + 2), 0xABCDE);
  EXPECT_EQ(Get16(ip + 4), 300 - 22 - 40);
  EXPECT_EQ(ip[6], kIpProtoUdp);
  EXPECT_EQ(0, std::memcmp(ip + 8, p.src_ip, 16));
  EXPECT_EQ(0, std::memcmp(ip + 24, p.dst_ip, 16));
  const uint8_t* udp = ip + 40;
  EXPECT_EQ(Get16(udp), 5353);
  EXPECT_EQ(Get16(udp + 2), 53);
  EXPECT_EQ(Get16(udp + 4), 300 - 22 - 40);
  EXPECT_TRUE(L4ChecksumOk(f, 22, 6, kIpProtoUdp));
}

TEST(PacketBuilderTest, IcmpChecksums) {
  PacketSpec p = V4Tcp();
  p.protocol = kIpProtoIcmp;
  p.src_port = 8;
  p.dst_port = 0;
  p.icmp_id = 77;
  p.icmp_seq = 9;
  std::vector<uint8_t> f = Build(p, 98, 98);
  ASSERT_EQ(f.size(), 98u);
  EXPECT_EQ(f[34], 8);
  EXPECT_EQ(f[35], 0);
  EXPECT_EQ(Get16(&f[38]), 77);
  EXPECT_EQ(Get16(&f[40]), 9);
  EXPECT_TRUE(L4ChecksumOk(f, 14, 4, kIpProtoIcmp));

  PacketSpec q = V6Udp();
  q.protocol = kIpProtoIcmpv6;
  q.src_port = 1;
  q.dst_port = 4;
  f = Build(q, 150, 150);
  ASSERT_EQ(f.size(), 150u);
  EXPECT_EQ(f[54], 1);
  EXPECT_EQ(f[55], 4);
  EXPECT_TRUE(L4ChecksumOk(f, 14, 6, kIpProtoIcmpv6));
}

TEST(PacketBuilderTest, TruncatesToCapacityAsAPrefix) {
  const std::vector<uint8_t> full = Build(V6Udp(), 1514, 1514);
  for (size_t cap : {0u, 1u, 13u, 40u, 61u, 128u}) {
    const std::vector<uint8_t> cut = Build(V6Udp(), 1514, cap);
    ASSERT_EQ(cut.size(), cap);
    EXPECT_TRUE(std::equal(cut.begin(), cut.end(), full.begin())) << cap;
  }
}

TEST(PacketBuilderTest, WritesNoMoreThanTheFrame) {
  std::vector<uint8_t> buf(128, 0xEE);
  ASSERT_EQ(BuildFrame(V4Tcp(), 60, buf.data(), buf.size()), 60u);
  for (size_t i = 60; i < buf.size(); ++i) ASSERT_EQ(buf[i], 0xEE) << i;
  EXPECT_EQ(Get16(&buf[16]), 46);  // IPv4 total length
}

TEST(PacketBuilderTest, RejectsImpossibleFrames) {
  uint8_t buf[2000];
  EXPECT_EQ(BuildFrame(V4Tcp(), 53, buf, sizeof(buf)), 0u);  // shorter than its headers
  EXPECT_EQ(BuildFrame(V4Tcp(), 54, buf, sizeof(buf)), 54u);
  PacketSpec p = V4Tcp();
  p.ip_version = 5;
  EXPECT_EQ(BuildFrame(p, 100, buf, sizeof(buf)), 0u);
  p = V4Tcp();
  p.vlan_count = 3;
  EXPECT_EQ(BuildFrame(p, 100, buf, sizeof(buf)), 0u);
  EXPECT_EQ(BuildFrame(V4Tcp(), 14 + 65536, buf, sizeof(buf)), 0u);  // IPv4 length > 16 bits
}

// An 802.1Q-tagged IPv4/UDP frame; tshark checked both checksums ("correct") when this was
// written.
TEST(PacketBuilderGoldenTest, TaggedIpv4Udp) {
  PacketSpec p = V4Tcp();
  p.protocol = kIpProtoUdp;
  p.vlan_count = 1;
  p.vlan_id[0] = 100;
  p.dont_fragment = false;
  p.src_port = 40000;
  p.dst_port = 53;
  const std::vector<uint8_t> f = Build(p, 64, 64);
  const char* golden =
      "02 00 00 00 00 02 02 00 00 00 00 01 81 00 00 64\n"   // MACs, 802.1Q VLAN 100
      "08 00 45 28 00 2e 12 34 00 00 3f 11 e1 48 c6 12\n"   // IPv4 len 46 TTL 63 UDP
      "00 01 c0 00 02 07 9c 40 00 35 00 1a db 29 00 00\n"   // 198.18.0.1 > 192.0.2.7
      "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n";  // zero payload
  std::basic_string<uint8_t> want;
  ASSERT_TRUE(hal::base::ParseHex(golden, &want));
  EXPECT_EQ(hal::base::HexDump(ByteView(f.data(), f.size())),
            hal::base::HexDump(ByteView(want.data(), want.size())));
}

}  // namespace
}  // namespace xflowd::sim
