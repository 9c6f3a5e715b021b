#include "tools/xflowdump/udp_extract.h"

#include <gtest/gtest.h>

#include "hal/link_type.h"
#include "tests/support/frames.h"

namespace xflowd::tools::xflowdump {
namespace {

using xflowd::testing::Bytes;
using xflowd::testing::Ethernet;
using xflowd::testing::Ipv4Udp;
using xflowd::testing::Ipv6Udp;

const Bytes kPayload = {1, 2, 3, 4, 5};

// LINKTYPE_ values of the files these frames come from, mapped as xflowdump -r maps them.
constexpr uint32_t kLinkNull = 0;
constexpr uint32_t kLinkEthernet = 1;
constexpr uint32_t kLinkRawDlt12 = 12;
constexpr uint32_t kLinkRawDlt14 = 14;
constexpr uint32_t kLinkRaw = 101;
constexpr uint32_t kLinkLoop = 108;
constexpr uint32_t kLinkLinuxSll = 113;
constexpr uint32_t kLinkIpv4 = 228;
constexpr uint32_t kLinkIpv6 = 229;
constexpr uint32_t kLinkLinuxSll2 = 276;

hal::LinkType Link(uint32_t pcap_link_type) {
  hal::LinkType link = hal::LinkType::kEthernet;
  EXPECT_TRUE(hal::LinkTypeFromPcap(pcap_link_type, &link)) << pcap_link_type;
  return link;
}

void ExpectUdp(uint32_t pcap_link, const Bytes& frame, const char* src, const char* dst,
               uint16_t dport) {
  UdpDatagram u;
  ASSERT_EQ(ExtractUdp(Link(pcap_link), hal::base::ByteView(frame.data(), frame.size()), &u),
            ExtractResult::kOk);
  EXPECT_EQ(u.source.address.ToString(), src);
  EXPECT_EQ(u.destination.address.ToString(), dst);
  EXPECT_EQ(u.destination.port, dport);
  EXPECT_EQ(Bytes(u.payload.begin(), u.payload.end()), kPayload);
}

ExtractResult Extract(uint32_t pcap_link, const Bytes& frame) {
  UdpDatagram u;
  return ExtractUdp(Link(pcap_link), hal::base::ByteView(frame.data(), frame.size()), &u);
}

TEST(ExtractUdpTest, EthernetIpv4) {
  ExpectUdp(kLinkEthernet,
            Ethernet(0x0800, Ipv4Udp("192.0.2.1", "192.0.2.9", 40000, 6343, kPayload)), "192.0.2.1",
            "192.0.2.9", 6343);
}

TEST(ExtractUdpTest, EthernetPaddingIsNotPayload) {
  Bytes frame = Ethernet(0x0800, Ipv4Udp("192.0.2.1", "192.0.2.9", 1, 6343, kPayload));
  frame.resize(60, 0);  // minimum Ethernet frame
  ExpectUdp(kLinkEthernet, frame, "192.0.2.1", "192.0.2.9", 6343);
}

TEST(ExtractUdpTest, EthernetWithVlanTags) {
  ExpectUdp(kLinkEthernet,
            Ethernet(0x0800, Ipv4Udp("10.1.1.1", "10.2.2.2", 1, 6343, kPayload), {100, 200}),
            "10.1.1.1", "10.2.2.2", 6343);
}

TEST(ExtractUdpTest, EthernetIpv6WithHopByHop) {
  ExpectUdp(kLinkEthernet,
            Ethernet(0x86dd, Ipv6Udp("2001:db8::1", "2001:db8::2", 1, 6343, kPayload, true)),
            "2001:db8::1", "2001:db8::2", 6343);
}

TEST(ExtractUdpTest, LinuxCookedV1AndV2) {
  const Bytes ip = Ipv4Udp("192.0.2.1", "192.0.2.2", 1, 6343, kPayload);
  Bytes sll = {0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00};
  xflowd::testing::Append(sll, ip);
  ExpectUdp(kLinkLinuxSll, sll, "192.0.2.1", "192.0.2.2", 6343);
  Bytes sll2 = {0x86, 0xdd, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0};
  xflowd::testing::Append(sll2, Ipv6Udp("fe80::1", "ff02::1", 1, 6343, kPayload));
  ExpectUdp(kLinkLinuxSll2, sll2, "fe80::1", "ff02::1", 6343);
}

TEST(ExtractUdpTest, OldDltRawNumbersAreRawIp) {
  for (uint32_t link : {uint32_t{kLinkRawDlt12}, uint32_t{kLinkRawDlt14}}) {
    ExpectUdp(link, Ipv6Udp("::1", "::2", 1, 6343, kPayload), "::1", "::2", 6343);
  }
}

TEST(ExtractUdpTest, RawIpAndTheIpLinkTypes) {
  ExpectUdp(kLinkRaw, Ipv4Udp("192.0.2.1", "192.0.2.2", 1, 6343, kPayload), "192.0.2.1",
            "192.0.2.2", 6343);
  ExpectUdp(kLinkRaw, Ipv6Udp("::1", "::2", 1, 6343, kPayload), "::1", "::2", 6343);
  ExpectUdp(kLinkIpv4, Ipv4Udp("192.0.2.1", "192.0.2.2", 1, 6343, kPayload), "192.0.2.1",
            "192.0.2.2", 6343);
  ExpectUdp(kLinkIpv6, Ipv6Udp("::1", "::2", 1, 6343, kPayload), "::1", "::2", 6343);
}

TEST(ExtractUdpTest, LoopbackInEitherByteOrder) {
  Bytes le = {2, 0, 0, 0};  // AF_INET written by a little-endian host
  xflowd::testing::Append(le, Ipv4Udp("127.0.0.1", "127.0.0.1", 1, 6343, kPayload));
  ExpectUdp(kLinkNull, le, "127.0.0.1", "127.0.0.1", 6343);
  Bytes be = {0, 0, 0, 30};  // AF_INET6 on Darwin, big-endian
  xflowd::testing::Append(be, Ipv6Udp("::1", "::1", 1, 6343, kPayload));
  ExpectUdp(kLinkNull, be, "::1", "::1", 6343);
  Bytes loop = {0, 0, 0, 24};  // DLT_LOOP: network order, AF_INET6 on OpenBSD
  xflowd::testing::Append(loop, Ipv6Udp("::1", "::1", 1, 6343, kPayload));
  ExpectUdp(kLinkLoop, loop, "::1", "::1", 6343);
  Bytes other = {7, 0, 0, 0, 0x45};
  EXPECT_EQ(Extract(kLinkNull, other), ExtractResult::kNotIp);
}

TEST(ExtractUdpTest, WhatIsSkippedAndWhy) {
  EXPECT_EQ(Extract(kLinkEthernet, Ethernet(0x0806, Bytes(28, 0))), ExtractResult::kNotIp);
  Bytes tcp = Ipv4Udp("192.0.2.1", "192.0.2.2", 1, 2, kPayload);
  tcp[9] = 6;
  EXPECT_EQ(Extract(kLinkRaw, tcp), ExtractResult::kNotUdp);
  Bytes frag = Ipv4Udp("192.0.2.1", "192.0.2.2", 1, 2, kPayload);
  frag[6] = 0x20;  // more fragments
  EXPECT_EQ(Extract(kLinkRaw, frag), ExtractResult::kFragment);
  Bytes later = Ipv4Udp("192.0.2.1", "192.0.2.2", 1, 2, kPayload);
  later[7] = 0x10;  // offset 128
  EXPECT_EQ(Extract(kLinkRaw, later), ExtractResult::kFragment);
  Bytes cut = Ipv4Udp("192.0.2.1", "192.0.2.2", 1, 2, kPayload);
  cut.resize(cut.size() - 2);  // snaplen cut the payload
  EXPECT_EQ(Extract(kLinkRaw, cut), ExtractResult::kTruncated);
  EXPECT_EQ(Extract(kLinkRaw, Bytes{0x45, 0}), ExtractResult::kTruncated);
  Bytes bad_ihl = Ipv4Udp("192.0.2.1", "192.0.2.2", 1, 2, kPayload);
  bad_ihl[0] = 0x44;
  EXPECT_EQ(Extract(kLinkRaw, bad_ihl), ExtractResult::kMalformed);
  Bytes bad_udp_len = Ipv4Udp("192.0.2.1", "192.0.2.2", 1, 2, kPayload);
  bad_udp_len[20 + 5] = 4;  // UDP length 4 < 8
  EXPECT_EQ(Extract(kLinkRaw, bad_udp_len), ExtractResult::kMalformed);
  Bytes v6frag = Ipv6Udp("::1", "::2", 1, 2, kPayload);
  v6frag[6] = 44;  // fragment header in place of UDP (offset != 0 in what follows)
  EXPECT_NE(Extract(kLinkRaw, v6frag), ExtractResult::kOk);
  EXPECT_STREQ(ExtractResultName(ExtractResult::kFragment), "ip_fragment");
}

TEST(ExtractUdpTest, MplsAndDeepTagStacksAreNotTheCollectorsTraffic) {
  Bytes mpls = {0, 0x01, 0x01, 0xff};  // label 16, bottom of stack
  xflowd::testing::Append(mpls, Ipv4Udp("192.0.2.1", "192.0.2.2", 1, 6343, kPayload));
  EXPECT_EQ(Extract(kLinkEthernet, Ethernet(0x8847, mpls)), ExtractResult::kNotIp);
  // The packet parser keeps two tags (outer, inner); a third is beyond what it reads.
  EXPECT_EQ(
      Extract(kLinkEthernet,
              Ethernet(0x0800, Ipv4Udp("10.1.1.1", "10.2.2.2", 1, 6343, kPayload), {1, 2, 3})),
      ExtractResult::kNotIp);
}

TEST(ExtractUdpTest, IpHeadersCutBeforeTheirFixedPartAreTruncatedNotMalformed) {
  // An IPv6 ethertype with 30 bytes of a version-4 header: cut short before it is wrong.
  Bytes v6_cut = Ethernet(0x86dd, Bytes(30, 0x45));
  EXPECT_EQ(Extract(kLinkEthernet, v6_cut), ExtractResult::kTruncated);
  EXPECT_EQ(Extract(kLinkEthernet, Ethernet(0x86dd, Bytes(40, 0x45))), ExtractResult::kMalformed);
  // IPv4 total length 0 (offload) and an IHL beyond the bytes captured: the header is wrong.
  Bytes offload = Ipv4Udp("192.0.2.1", "192.0.2.2", 1, 2, kPayload);
  offload[0] = 0x4f;  // 60-byte header
  offload[2] = offload[3] = 0;
  offload.resize(40);
  EXPECT_EQ(Extract(kLinkRaw, offload), ExtractResult::kMalformed);
}

TEST(ExtractUdpTest, AnIpv6FragmentEndsTheSearchWhereverTheHeadersStop) {
  Bytes frag = Ipv6Udp("::1", "::2", 1, 6343, kPayload);
  frag[6] = 44;                                // a fragment header, then a routing header cut off
  const Bytes fh = {43, 0, 0, 1, 0, 0, 0, 7};  // offset 0, more fragments
  frag.insert(frag.begin() + 40, fh.begin(), fh.end());
  frag[5] = static_cast<uint8_t>(frag[5] + 8);
  frag.resize(40 + 8 + 1);
  EXPECT_EQ(Extract(kLinkRaw, frag), ExtractResult::kFragment);
}

TEST(ExtractUdpTest, EveryTruncationOfAFrameIsHandled) {
  const Bytes frames[] = {
      Ethernet(0x0800, Ipv4Udp("192.0.2.1", "192.0.2.9", 1, 6343, kPayload), {7}),
      Ethernet(0x86dd, Ipv6Udp("2001:db8::1", "2001:db8::2", 1, 6343, kPayload, true)),
  };
  for (const Bytes& f : frames) {
    for (size_t n = 0; n < f.size(); ++n) {
      Bytes cut(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(n));
      EXPECT_NE(Extract(kLinkEthernet, cut), ExtractResult::kOk) << n;
    }
  }
}

}  // namespace
}  // namespace xflowd::tools::xflowdump
