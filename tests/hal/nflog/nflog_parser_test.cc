#include "hal/nflog/nflog_parser.h"

#include <gtest/gtest.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>

#include <cstring>
#include <string>
#include <vector>

#include "hal/nflog/nft_sampling_rule.h"
#include "tests/support/golden.h"

namespace xflowd::hal::nflog {
namespace {

using Bytes = std::basic_string<uint8_t>;

using xflowd::testing::LittleEndianHost;

Bytes ReadHex(const std::string& name) { return xflowd::testing::ReadGoldenHex("nflog/" + name); }

std::vector<NflogPacket> ParseAll(const Bytes& b, ParseStats* stats, int* err = nullptr) {
  std::vector<NflogPacket> out;
  ParseNflogBuffer(
      base::ByteView(b.data(), b.size()), [&](const NflogPacket& p) { out.push_back(p); }, stats,
      err);
  return out;
}

// Builds an NFULNL_MSG_PACKET the way the kernel does (host-order headers, BE values).
class PacketBuilder {
 public:
  explicit PacketBuilder(uint16_t group = 5) {
    Put32(0);
    Put16((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET);
    Put16(0);
    Put32(0);
    Put32(0);
    b_.push_back(2);  // AF_INET
    b_.push_back(0);
    b_.push_back(static_cast<uint8_t>(group >> 8));
    b_.push_back(static_cast<uint8_t>(group));
  }
  PacketBuilder& Attr(uint16_t type, const Bytes& v) {
    Put16(static_cast<uint16_t>(4 + v.size()));
    Put16(type);
    b_ += v;
    while (b_.size() % 4) b_.push_back(0);
    return *this;
  }
  PacketBuilder& Be32(uint16_t type, uint32_t v) {
    return Attr(type, Bytes{static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
                            static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)});
  }
  Bytes Build() {
    uint32_t len = static_cast<uint32_t>(b_.size());
    std::memcpy(&b_[0], &len, 4);
    return b_;
  }

 private:
  void Put16(uint16_t v) { b_.append(reinterpret_cast<uint8_t*>(&v), 2); }
  void Put32(uint32_t v) { b_.append(reinterpret_cast<uint8_t*>(&v), 4); }
  Bytes b_;
};

Bytes Ipv4(uint16_t total, size_t copied) {
  Bytes ip = {0x45,
              0,
              static_cast<uint8_t>(total >> 8),
              static_cast<uint8_t>(total),
              0,
              0,
              0,
              0,
              64,
              6,
              0,
              0,
              10,
              0,
              0,
              1,
              10,
              0,
              0,
              2};
  while (ip.size() < copied) ip.push_back(0xab);
  return ip.substr(0, copied);
}

TEST(NflogParserGoldenTest, CapturedNetdevIngressPacket) {
  if (!LittleEndianHost()) GTEST_SKIP() << "captured on a little-endian host";
  Bytes msg = ReadHex("netdev_ingress_packet.hex");
  ParseStats stats;
  auto pkts = ParseAll(msg, &stats);
  ASSERT_EQ(pkts.size(), 1u);
  const NflogPacket& p = pkts[0];
  EXPECT_EQ(p.group, 7);
  EXPECT_EQ(p.family, 5);  // NFPROTO_NETDEV
  EXPECT_TRUE(p.has_packet_hdr);
  EXPECT_EQ(p.hw_protocol, 0x0800);
  EXPECT_EQ(p.hook, 0);  // NF_NETDEV_INGRESS
  EXPECT_EQ(p.indev, 3u);
  EXPECT_EQ(p.outdev, 0u);
  EXPECT_EQ(p.physindev, 0u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(p.prefix.data()), p.prefix.size()), "xf");
  EXPECT_TRUE(p.has_timestamp);
  EXPECT_GT(p.timestamp_sec, 1700000000u);
  EXPECT_LT(p.timestamp_usec, 1000000u);
  EXPECT_TRUE(p.has_seq);
  EXPECT_EQ(p.seq, 0u);
  EXPECT_TRUE(p.has_seq_global);
  EXPECT_EQ(p.hwtype, 1);
  EXPECT_EQ(p.hwlen, 14);
  EXPECT_EQ(p.hwheader.size(), 14u);
  ASSERT_TRUE(p.has_hwaddr);
  EXPECT_EQ(p.hwaddr.size(), 6u);
  EXPECT_EQ(p.payload.size(), 28u);
  EXPECT_EQ(stats.bad_attr_length, 0u);
  EXPECT_EQ(stats.truncated, 0u);
  EXPECT_EQ(stats.unknown_attrs, 3u);  // NFULA_UID, NFULA_GID (sender socket), NFULA_L2HDR

  uint8_t frame[14 + 128];
  size_t n = BuildEthernetFrame(p, frame, sizeof(frame));
  EXPECT_EQ(base::HexDump(base::ByteView(frame, n)),
            base::HexDump(base::ByteView(ReadHex("netdev_ingress_packet_ethernet.hex").data(),
                                         ReadHex("netdev_ingress_packet_ethernet.hex").size())));
  EXPECT_EQ(OriginalFrameLength(p), 42u);
}

TEST(NflogParserTest, NoHwHeaderSynthesizesZeroMacsAndEthertype) {
  Bytes ip = Ipv4(1500, 64);
  Bytes msg = PacketBuilder().Be32(NFULA_IFINDEX_OUTDEV, 9).Attr(NFULA_PAYLOAD, ip).Build();
  ParseStats stats;
  auto pkts = ParseAll(msg, &stats);
  ASSERT_EQ(pkts.size(), 1u);
  EXPECT_EQ(pkts[0].outdev, 9u);
  EXPECT_FALSE(pkts[0].has_packet_hdr);
  uint8_t frame[200];
  size_t n = BuildEthernetFrame(pkts[0], frame, sizeof(frame));
  ASSERT_EQ(n, 14u + 64);
  for (int i = 0; i < 12; ++i) EXPECT_EQ(frame[i], 0) << i;
  EXPECT_EQ(frame[12], 0x08);  // from the IP version nibble
  EXPECT_EQ(frame[13], 0x00);
  EXPECT_EQ(std::memcmp(frame + 14, ip.data(), 64), 0);
  // The copy range cut the payload: the length comes from the IPv4 header.
  EXPECT_EQ(OriginalFrameLength(pkts[0]), 14u + 1500);
  // A small buffer truncates the payload, never overflows.
  EXPECT_EQ(BuildEthernetFrame(pkts[0], frame, 20), 20u);
  EXPECT_EQ(BuildEthernetFrame(pkts[0], frame, 13), 0u);
}

TEST(NflogParserTest, Ipv6LengthAndHwaddrSource) {
  Bytes ip6(40, 0);
  ip6[0] = 0x60;
  ip6[4] = 0x05;  // payload length 1280
  ip6[5] = 0x00;
  Bytes hw = {0, 6, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0, 0};
  Bytes msg = PacketBuilder()
                  .Attr(NFULA_PACKET_HDR, Bytes{0x86, 0xdd, 1, 0})
                  .Attr(NFULA_HWADDR, hw)
                  .Attr(NFULA_PAYLOAD, ip6)
                  .Build();
  ParseStats stats;
  auto pkts = ParseAll(msg, &stats);
  ASSERT_EQ(pkts.size(), 1u);
  EXPECT_EQ(pkts[0].hw_protocol, 0x86dd);
  EXPECT_EQ(pkts[0].hook, 1);
  uint8_t frame[100];
  ASSERT_EQ(BuildEthernetFrame(pkts[0], frame, sizeof(frame)), 54u);
  const uint8_t src[6] = {0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
  EXPECT_EQ(std::memcmp(frame + 6, src, 6), 0);
  EXPECT_EQ(frame[12], 0x86);
  EXPECT_EQ(frame[13], 0xdd);
  EXPECT_EQ(OriginalFrameLength(pkts[0]), 14u + 40 + 1280);
}

TEST(NflogParserTest, VlanNestAndPhysdevs) {
  // Nested attributes: headers in host byte order like every netlink attribute, values in
  // network order.
  auto nested = [](uint16_t type, uint8_t hi, uint8_t lo) {
    const uint16_t len = 6;
    Bytes a(8, 0);
    std::memcpy(&a[0], &len, 2);
    std::memcpy(&a[2], &type, 2);
    a[4] = hi;
    a[5] = lo;
    return a;
  };
  Bytes vlan = nested(NFULA_VLAN_PROTO, 0x81, 0x00);
  Bytes tci = nested(NFULA_VLAN_TCI, 0x20, 0x2a);
  vlan.insert(vlan.end(), tci.begin(), tci.end());
  Bytes msg = PacketBuilder()
                  .Be32(NFULA_IFINDEX_INDEV, 10)
                  .Be32(NFULA_IFINDEX_PHYSINDEV, 4)
                  .Be32(NFULA_IFINDEX_PHYSOUTDEV, 6)
                  .Be32(NFULA_MARK, 77)
                  .Attr(NFULA_VLAN | NLA_F_NESTED, vlan)
                  .Be32(NFULA_SEQ, 41)
                  .Attr(NFULA_PAYLOAD, Ipv4(28, 28))
                  .Build();
  ParseStats stats;
  auto pkts = ParseAll(msg, &stats);
  ASSERT_EQ(pkts.size(), 1u);
  const NflogPacket& p = pkts[0];
  EXPECT_EQ(p.indev, 10u);
  EXPECT_EQ(p.physindev, 4u);
  EXPECT_EQ(p.physoutdev, 6u);
  EXPECT_EQ(p.mark, 77u);
  EXPECT_TRUE(p.has_vlan);
  EXPECT_EQ(p.vlan_proto, 0x8100);
  EXPECT_EQ(p.vlan_tci, 0x202a);
  EXPECT_EQ(p.seq, 41u);
  EXPECT_EQ(stats.bad_attr_length, 0u);
}

TEST(NflogParserTest, BadLengthsSkippedAndCounted) {
  Bytes msg = PacketBuilder()
                  .Attr(NFULA_IFINDEX_INDEV, Bytes{1, 2})  // 2 bytes, needs 4
                  .Attr(NFULA_TIMESTAMP, Bytes(8, 0))      // needs 16
                  .Attr(NFULA_PACKET_HDR, Bytes{8})        // needs >= 3
                  .Attr(NFULA_HWADDR, Bytes{0, 9, 0, 0})   // addrlen 9 > 8, short
                  .Attr(NFULA_HWTYPE, Bytes{0, 1, 0})      // needs 2
                  .Attr(99, Bytes{1, 2, 3, 4})             // unknown
                  .Attr(NFULA_PAYLOAD, Ipv4(28, 28))
                  .Build();
  ParseStats stats;
  auto pkts = ParseAll(msg, &stats);
  ASSERT_EQ(pkts.size(), 1u);
  EXPECT_EQ(pkts[0].indev, 0u);
  EXPECT_FALSE(pkts[0].has_timestamp);
  EXPECT_FALSE(pkts[0].has_packet_hdr);
  EXPECT_FALSE(pkts[0].has_hwaddr);
  EXPECT_EQ(pkts[0].payload.size(), 28u);  // later attributes still parsed
  EXPECT_EQ(stats.bad_attr_length, 5u);
  EXPECT_EQ(stats.unknown_attrs, 1u);
}

TEST(NflogParserTest, TruncationAtEveryLengthNeverCrashes) {
  Bytes full = PacketBuilder()
                   .Be32(NFULA_IFINDEX_INDEV, 3)
                   .Attr(NFULA_HWHEADER, Bytes(14, 0x11))
                   .Attr(NFULA_PAYLOAD, Ipv4(100, 60))
                   .Build();
  for (size_t n = 0; n < full.size(); ++n) {
    ParseStats stats;
    auto pkts = ParseAll(full.substr(0, n), &stats);
    EXPECT_TRUE(pkts.empty()) << n;
    if (n > 0) {
      EXPECT_EQ(stats.truncated, 1u) << n;
    }
  }
  // nlmsg_len cut inside an attribute: the message parses up to it.
  for (size_t n = 20; n < full.size(); ++n) {
    Bytes cut = full.substr(0, n);
    uint32_t len = static_cast<uint32_t>(n);
    std::memcpy(&cut[0], &len, 4);
    ParseStats stats;
    auto pkts = ParseAll(cut, &stats);
    ASSERT_EQ(pkts.size(), 1u) << n;
    uint8_t frame[64];
    BuildEthernetFrame(pkts[0], frame, sizeof(frame));
    OriginalFrameLength(pkts[0]);
  }
}

TEST(NflogParserTest, AcksAndErrorsAreNotPackets) {
  Bytes err(36, 0);
  uint32_t len = 36;
  uint16_t type = NLMSG_ERROR;
  int32_t code = -16;
  std::memcpy(&err[0], &len, 4);
  std::memcpy(&err[4], &type, 2);
  std::memcpy(&err[16], &code, 4);
  Bytes pkt = PacketBuilder().Attr(NFULA_PAYLOAD, Ipv4(28, 28)).Build();
  ParseStats stats;
  int last = 0;
  auto pkts = ParseAll(err + pkt, &stats, &last);
  EXPECT_EQ(pkts.size(), 1u);
  EXPECT_EQ(last, -16);
  EXPECT_EQ(stats.other_messages, 1u);
  EXPECT_EQ(stats.messages, 2u);
}

TEST(NftRuleTest, RulesetText) {
  NftRuleOptions o;
  o.device = "eth0";
  o.sampling_rate = 100;
  o.group = 5;
  o.snaplen = 128;
  auto s = BuildNftRuleset(o);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s,
            "table netdev xflowd_eth0\n"
            "delete table netdev xflowd_eth0\n"
            "table netdev xflowd_eth0 {\n"
            "  chain sample_ingress {\n"
            "    type filter hook ingress device \"eth0\" priority -500; policy accept;\n"
            "    numgen random mod 100 == 0 log group 5 snaplen 128\n"
            "  }\n"
            "}\n");
  o.direction = Direction::kEgress;
  o.snaplen = 0;
  o.queue_threshold = 8;
  EXPECT_EQ(NftTableName(o), "xflowd_egress_eth0");
  EXPECT_NE(BuildNftRuleset(o)->find("hook egress"), std::string::npos);
  EXPECT_NE(BuildNftRuleset(o)->find("log group 5 queue-threshold 8\n"), std::string::npos);
  o.device = "eth0\"; flush ruleset";
  EXPECT_EQ(BuildNftRuleset(o).status().code(), base::StatusCode::kInvalidArgument);
  o.device = "averyveryverylongname";
  EXPECT_FALSE(BuildNftRuleset(o).ok());
  o.device = "eth0";
  o.sampling_rate = 0;
  EXPECT_FALSE(BuildNftRuleset(o).ok());
}

TEST(NftRuleTest, MissingNftBinaryIsAnError) {
  EXPECT_EQ(RunNft("/nonexistent/nft", "list ruleset\n").code(), base::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace xflowd::hal::nflog
