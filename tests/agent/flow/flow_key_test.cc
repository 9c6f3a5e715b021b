#include "agent/flow/flow_key.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "agent/packet/packet_parser.h"
#include "hal/packet_sample.h"
#include "sim/packet_builder.h"

namespace xflowd::agent::flow {
namespace {

using exporter::netflow::FlowKey;
using hal::base::ByteView;

constexpr uint8_t kSrc4[4] = {10, 0, 0, 1};
constexpr uint8_t kDst4[4] = {192, 0, 2, 7};
constexpr uint8_t kSrc6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
constexpr uint8_t kDst6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
constexpr uint8_t kSrcMac[6] = {0x02, 0, 0, 0, 0, 0x0a};
constexpr uint8_t kDstMac[6] = {0x02, 0, 0, 0, 0, 0x0b};

sim::PacketSpec V4(uint8_t protocol) {
  sim::PacketSpec p;
  p.ip_version = 4;
  p.protocol = protocol;
  p.tos = 0xb8;
  std::memcpy(p.src_ip, kSrc4, 4);
  std::memcpy(p.dst_ip, kDst4, 4);
  std::memcpy(p.src_mac, kSrcMac, 6);
  std::memcpy(p.dst_mac, kDstMac, 6);
  p.src_port = 40000;
  p.dst_port = 443;
  return p;
}

sim::PacketSpec V6(uint8_t protocol) {
  sim::PacketSpec p = V4(protocol);
  p.ip_version = 6;
  std::memcpy(p.src_ip, kSrc6, 16);
  std::memcpy(p.dst_ip, kDst6, 16);
  return p;
}

std::vector<uint8_t> Build(const sim::PacketSpec& spec, uint32_t frame_length = 200) {
  std::vector<uint8_t> f(frame_length);
  f.resize(sim::BuildFrame(spec, frame_length, f.data(), f.size()));
  return f;
}

hal::PacketSample Sample(const std::vector<uint8_t>& frame) {
  hal::PacketSample s;
  s.input_ifindex = 3;
  s.output_ifindex = 9;
  s.frame_length = static_cast<uint32_t>(frame.size());
  s.header = ByteView(frame.data(), frame.size());
  return s;
}

bool KeyOf(const std::vector<uint8_t>& frame, FlowKey* key, FlowKeyOptions o = {},
           const hal::PacketSample* sample = nullptr) {
  packet::ParsedPacket p;
  packet::ParsePacket(ByteView(frame.data(), frame.size()), packet::LinkType::kEthernet, &p);
  const hal::PacketSample s = sample != nullptr ? *sample : Sample(frame);
  return BuildFlowKey(p, s, o, key);
}

TEST(FlowKeyTest, Ipv4Tcp) {
  FlowKey k;
  ASSERT_TRUE(KeyOf(Build(V4(sim::kIpProtoTcp)), &k));
  EXPECT_EQ(k.ip_version, 4);
  EXPECT_EQ(0, std::memcmp(k.src_ip, kSrc4, 4));
  EXPECT_EQ(0, std::memcmp(k.dst_ip, kDst4, 4));
  for (int i = 4; i < 16; ++i) EXPECT_EQ(k.src_ip[i], 0);
  EXPECT_EQ(k.protocol, 6);
  EXPECT_EQ(k.tos, 0xb8);
  EXPECT_EQ(k.src_port, 40000);
  EXPECT_EQ(k.dst_port, 443);
  EXPECT_EQ(k.input_ifindex, 3u);
  EXPECT_EQ(k.output_ifindex, 9u);
  EXPECT_EQ(k.vlan_outer, 0);
  EXPECT_EQ(k.vlan_inner, 0);
  const uint8_t zero_mac[6] = {};
  EXPECT_EQ(0, std::memcmp(k.src_mac, zero_mac, 6));  // MACs not asked for
  EXPECT_EQ(0, std::memcmp(k.dst_mac, zero_mac, 6));
  EXPECT_EQ(k.mpls_top, 0u);
}

TEST(FlowKeyTest, Ipv6Udp) {
  FlowKey k;
  ASSERT_TRUE(KeyOf(Build(V6(sim::kIpProtoUdp)), &k));
  EXPECT_EQ(k.ip_version, 6);
  EXPECT_EQ(0, std::memcmp(k.src_ip, kSrc6, 16));
  EXPECT_EQ(0, std::memcmp(k.dst_ip, kDst6, 16));
  EXPECT_EQ(k.protocol, 17);
  EXPECT_EQ(k.tos, 0xb8);
  EXPECT_EQ(k.src_port, 40000);
  EXPECT_EQ(k.dst_port, 443);
}

TEST(FlowKeyTest, IcmpTypeAndCodeInDstPort) {
  sim::PacketSpec spec = V4(sim::kIpProtoIcmp);
  spec.src_port = 3;  // type: destination unreachable
  spec.dst_port = 4;  // code
  FlowKey k;
  ASSERT_TRUE(KeyOf(Build(spec), &k));
  EXPECT_EQ(k.protocol, 1);
  EXPECT_EQ(k.src_port, 0);
  EXPECT_EQ(k.dst_port, 3 * 256 + 4);
}

TEST(FlowKeyTest, Icmpv6TypeAndCodeInDstPort) {
  sim::PacketSpec spec = V6(sim::kIpProtoIcmpv6);
  spec.src_port = 128;  // echo request
  spec.dst_port = 0;
  FlowKey k;
  ASSERT_TRUE(KeyOf(Build(spec), &k));
  EXPECT_EQ(k.protocol, 58);
  EXPECT_EQ(k.src_port, 0);
  EXPECT_EQ(k.dst_port, 128 * 256);
}

TEST(FlowKeyTest, VlanAndQinQ) {
  sim::PacketSpec spec = V4(sim::kIpProtoUdp);
  spec.vlan_count = 1;
  spec.vlan_id[0] = 100;
  spec.vlan_pcp[0] = 5;
  FlowKey k;
  ASSERT_TRUE(KeyOf(Build(spec), &k));
  EXPECT_EQ(k.vlan_outer, 100);
  EXPECT_EQ(k.vlan_inner, 0);
  EXPECT_EQ(k.src_port, 40000);

  spec.vlan_count = 2;
  spec.vlan_tpid[0] = sim::kTpid8021AD;
  spec.vlan_id[1] = 2001;
  ASSERT_TRUE(KeyOf(Build(spec), &k));
  EXPECT_EQ(k.vlan_outer, 100);
  EXPECT_EQ(k.vlan_inner, 2001);
}

TEST(FlowKeyTest, OutOfBandVlanIsTheOuterTag) {
  const std::vector<uint8_t> untagged = Build(V4(sim::kIpProtoTcp));
  hal::PacketSample s = Sample(untagged);
  s.vlan_valid = true;
  s.vlan_tci = (3 << 13) | 42;
  FlowKey k;
  ASSERT_TRUE(KeyOf(untagged, &k, {}, &s));
  EXPECT_EQ(k.vlan_outer, 42);
  EXPECT_EQ(k.vlan_inner, 0);

  // AF_PACKET stripped the outer tag; the one left in the bytes is the inner (customer) tag.
  sim::PacketSpec spec = V4(sim::kIpProtoTcp);
  spec.vlan_count = 1;
  spec.vlan_id[0] = 7;
  const std::vector<uint8_t> tagged = Build(spec);
  s = Sample(tagged);
  s.vlan_valid = true;
  s.vlan_tci = 42;
  ASSERT_TRUE(KeyOf(tagged, &k, {}, &s));
  EXPECT_EQ(k.vlan_outer, 42);
  EXPECT_EQ(k.vlan_inner, 7);

  s.vlan_valid = false;  // the tag in the bytes is all there is
  ASSERT_TRUE(KeyOf(tagged, &k, {}, &s));
  EXPECT_EQ(k.vlan_outer, 7);
  EXPECT_EQ(k.vlan_inner, 0);
}

TEST(FlowKeyTest, MacsOnlyWhenAsked) {
  FlowKeyOptions o;
  o.macs = true;
  FlowKey k;
  ASSERT_TRUE(KeyOf(Build(V4(sim::kIpProtoTcp)), &k, o));
  EXPECT_EQ(0, std::memcmp(k.src_mac, kSrcMac, 6));
  EXPECT_EQ(0, std::memcmp(k.dst_mac, kDstMac, 6));
  EXPECT_EQ(k.mpls_top, 0u);
}

// Ethernet, a two-label MPLS stack, then the IPv4 packet of `ip_frame` (Ethernet stripped).
std::vector<uint8_t> WithMpls(const std::vector<uint8_t>& ip_frame, uint32_t top, uint32_t bottom) {
  std::vector<uint8_t> f(ip_frame.begin(), ip_frame.begin() + 12);
  f.push_back(0x88);
  f.push_back(0x47);
  for (uint32_t e : {top, bottom}) {
    for (int shift = 24; shift >= 0; shift -= 8) f.push_back(static_cast<uint8_t>(e >> shift));
  }
  f.insert(f.end(), ip_frame.begin() + 14, ip_frame.end());
  return f;
}

TEST(FlowKeyTest, MplsTopEntryOnlyWhenAsked) {
  const uint32_t top = (1000u << 12) | (5u << 9) | 64;
  const uint32_t bottom = (2000u << 12) | 0x100 | 63;
  const std::vector<uint8_t> f = WithMpls(Build(V4(sim::kIpProtoUdp)), top, bottom);
  FlowKey k;
  ASSERT_TRUE(KeyOf(f, &k));
  EXPECT_EQ(k.mpls_top, 0u);
  EXPECT_EQ(k.src_port, 40000);  // the IP packet under the labels is keyed as usual
  FlowKeyOptions o;
  o.mpls = true;
  ASSERT_TRUE(KeyOf(f, &k, o));
  EXPECT_EQ(k.mpls_top, top & ~0xFFu);  // label, TC, S: the TTL is not keyed (nor exported)
  EXPECT_EQ(k.ip_version, 4);
  EXPECT_EQ(k.protocol, 17);
  EXPECT_EQ(k.dst_port, 443);
}

// The TTL changes from hop to hop and no template field carries it: keyed, it would split a
// flow into records that export identical fields.
TEST(FlowKeyTest, MplsTtlDoesNotSplitFlows) {
  const uint32_t top = (1000u << 12) | (5u << 9) | 64;
  const uint32_t bottom = (2000u << 12) | 0x100 | 63;
  FlowKeyOptions o;
  o.mpls = true;
  FlowKey a, b;
  ASSERT_TRUE(KeyOf(WithMpls(Build(V4(sim::kIpProtoUdp)), top, bottom), &a, o));
  ASSERT_TRUE(KeyOf(WithMpls(Build(V4(sim::kIpProtoUdp)), top - 1, bottom), &b, o));
  EXPECT_EQ(a.mpls_top, b.mpls_top);
  EXPECT_EQ(a.mpls_top, (1000u << 12) | (5u << 9));
}

TEST(FlowKeyTest, Ipv4FragmentsOnlyTheFirstHasPorts) {
  std::vector<uint8_t> f = Build(V4(sim::kIpProtoUdp));
  f[14 + 6] = 0x20;  // MF, offset 0: the first fragment
  f[14 + 7] = 0x00;
  FlowKey k;
  ASSERT_TRUE(KeyOf(f, &k));
  EXPECT_EQ(k.src_port, 40000);
  EXPECT_EQ(k.dst_port, 443);

  f[14 + 6] = 0x00;  // last fragment at offset 185 * 8: the bytes there are payload, not UDP
  f[14 + 7] = 185;
  ASSERT_TRUE(KeyOf(f, &k));
  EXPECT_EQ(k.protocol, 17);
  EXPECT_EQ(k.src_port, 0);
  EXPECT_EQ(k.dst_port, 0);
}

TEST(FlowKeyTest, Ipv6LaterFragmentHasNoPorts) {
  // Ethernet + IPv6 (next header 44) + fragment header (UDP, offset 100) + 8 payload bytes.
  std::vector<uint8_t> f = {0x02, 0, 0, 0, 0, 0x0b, 0x02, 0, 0, 0, 0, 0x0a, 0x86, 0xdd};
  const uint8_t ip6[8] = {0x60, 0, 0, 0, 0, 16, 44, 64};
  f.insert(f.end(), ip6, ip6 + 8);
  f.insert(f.end(), kSrc6, kSrc6 + 16);
  f.insert(f.end(), kDst6, kDst6 + 16);
  const uint8_t frag[8] = {17, 0, 0x03, 0x20, 0, 0, 0, 1};  // offset 100 << 3
  f.insert(f.end(), frag, frag + 8);
  const uint8_t payload[8] = {0x9c, 0x40, 0x01, 0xbb, 0, 0, 0, 0};  // looks like ports; is not
  f.insert(f.end(), payload, payload + 8);
  FlowKey k;
  ASSERT_TRUE(KeyOf(f, &k));
  EXPECT_EQ(k.ip_version, 6);
  EXPECT_EQ(k.protocol, 17);
  EXPECT_EQ(k.src_port, 0);
  EXPECT_EQ(k.dst_port, 0);
}

TEST(FlowKeyTest, NoKeyWithoutACompleteIpHeader) {
  FlowKey k;
  k.src_port = 1234;
  std::vector<uint8_t> arp = Build(V4(sim::kIpProtoTcp));
  arp[12] = 0x08;
  arp[13] = 0x06;
  EXPECT_FALSE(KeyOf(arp, &k));
  const std::vector<uint8_t> full = Build(V4(sim::kIpProtoTcp));
  EXPECT_FALSE(KeyOf(std::vector<uint8_t>(full.begin(), full.begin() + 14 + 12), &k));
  EXPECT_EQ(k.src_port, 1234);  // untouched
  // A cut L4 header still gives a key (ports 0 when they are not there).
  ASSERT_TRUE(KeyOf(std::vector<uint8_t>(full.begin(), full.begin() + 14 + 20 + 2), &k));
  EXPECT_EQ(k.protocol, 6);
  EXPECT_EQ(k.src_port, 0);
}

}  // namespace
}  // namespace xflowd::agent::flow
