#include "hal/rtnl/rtnl_parser.h"

#include <gtest/gtest.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <cstring>
#include <string>
#include <vector>

#include "hal/base/byte_view.h"
#include "tests/support/golden.h"

namespace xflowd::hal::rtnl {
namespace {

using Bytes = std::basic_string<uint8_t>;

using xflowd::testing::LittleEndianHost;

Bytes ReadHex(const std::string& name) { return xflowd::testing::ReadGoldenHex("rtnl/" + name); }

std::vector<LinkMessage> ParseAll(const Bytes& b, ParseStats* stats, BufferSummary* sum = nullptr) {
  std::vector<LinkMessage> out;
  BufferSummary s = ParseNetlinkBuffer(
      base::ByteView(b.data(), b.size()), [&](const LinkMessage& l) { out.push_back(l); }, stats);
  if (sum) *sum = s;
  return out;
}

// Builds netlink messages in host order, as the kernel would.
class MsgBuilder {
 public:
  MsgBuilder(uint16_t type, uint32_t ifindex, uint32_t flags, uint16_t arphrd = 1) {
    Put32(0);  // nlmsg_len, patched
    Put16(type);
    Put16(0);
    Put32(1);
    Put32(0);
    b_.push_back(AF_UNSPEC);
    b_.push_back(0);
    Put16(arphrd);
    Put32(ifindex);
    Put32(flags);
    Put32(0);
  }
  MsgBuilder& Attr(uint16_t type, const void* v, size_t len) {
    Put16(static_cast<uint16_t>(4 + len));
    Put16(type);
    const uint8_t* p = static_cast<const uint8_t*>(v);
    b_.append(p, len);
    while (b_.size() % 4) b_.push_back(0);
    return *this;
  }
  MsgBuilder& Str(uint16_t type, const std::string& s) {
    return Attr(type, s.c_str(), s.size() + 1);
  }
  MsgBuilder& U32(uint16_t type, uint32_t v) { return Attr(type, &v, 4); }
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

TEST(RtnlParserGoldenTest, CapturedVethNewlink) {
  if (!LittleEndianHost()) GTEST_SKIP() << "captured on a little-endian host";
  ParseStats stats;
  BufferSummary sum;
  auto links = ParseAll(ReadHex("newlink_veth_a0.hex"), &stats, &sum);
  ASSERT_EQ(links.size(), 1u);
  const LinkMessage& l = links[0];
  EXPECT_FALSE(l.is_delete);
  EXPECT_EQ(l.ifindex, 3u);
  EXPECT_EQ(l.arphrd, 1);
  EXPECT_EQ(l.name, "a0");
  EXPECT_EQ(l.alias, "uplink-1");
  ASSERT_TRUE(l.has_mac);
  const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0xa0};
  EXPECT_EQ(std::memcmp(l.mac, mac, 6), 0);
  EXPECT_EQ(l.mtu, 1500u);
  EXPECT_TRUE(l.admin_up());
  EXPECT_TRUE(l.oper_up());
  EXPECT_EQ(l.operstate, IF_OPER_UP);
  EXPECT_FALSE(l.has_master);
  ASSERT_TRUE(l.has_stats64);
  EXPECT_EQ(l.stats.rx_packets, 5u);
  EXPECT_EQ(l.stats.rx_bytes, 5u * 42);
  EXPECT_EQ(l.stats.tx_packets, 0u);
  EXPECT_TRUE(l.stats.has_rx_nohandler);
  EXPECT_EQ(stats.links, 1u);
  EXPECT_EQ(stats.truncated, 0u);
  EXPECT_EQ(stats.bad_attr_length, 0u);
  EXPECT_GT(stats.unknown_attrs, 10u);  // IFLA_AF_SPEC, IFLA_LINKINFO, ... skipped
  EXPECT_FALSE(sum.error_seen);

  PortCounters c = ToPortCounters(l);
  EXPECT_EQ(c.in_octets, 210u);
  EXPECT_EQ(c.in_ucast_pkts, 5u);
  EXPECT_EQ(c.in_multicast_pkts, 0u);
  EXPECT_EQ(c.in_broadcast_pkts, PortCounters::kUnknown64);
  EXPECT_EQ(c.out_ucast_pkts, 0u);
  EXPECT_EQ(c.out_multicast_pkts, PortCounters::kUnknown64);
  EXPECT_TRUE(c.has_ethernet);
  EXPECT_EQ(c.dot3_fcs_errors, 0u);

  PortInfo info;
  ApplyToPortInfo(l, &info);
  EXPECT_EQ(info.ifindex, 3u);
  EXPECT_EQ(info.name, "a0");
  EXPECT_EQ(info.alias, "uplink-1");
  EXPECT_EQ(info.if_type, 6u);
  EXPECT_TRUE(info.admin_up);
  EXPECT_TRUE(info.oper_up);
  EXPECT_FALSE(info.promiscuous);
  EXPECT_TRUE(l.has_kind);
  EXPECT_EQ(l.kind, "veth");
  EXPECT_FALSE(l.has_vlan_id);
  EXPECT_EQ(info.vlan_id, 0u);
}

// A VLAN device: IFLA_LINKINFO kind "vlan" and IFLA_VLAN_ID make the port's vlan_id.
TEST(RtnlParserGoldenTest, VlanDeviceNewlink) {
  if (!LittleEndianHost()) GTEST_SKIP() << "hand-built for a little-endian host";
  ParseStats stats;
  BufferSummary sum;
  auto links = ParseAll(ReadHex("newlink_vlan100.hex"), &stats, &sum);
  ASSERT_EQ(links.size(), 1u);
  const LinkMessage& l = links[0];
  EXPECT_EQ(l.ifindex, 5u);
  EXPECT_EQ(l.name, "eth0.100");
  EXPECT_EQ(l.kind, "vlan");
  ASSERT_TRUE(l.has_vlan_id);
  EXPECT_EQ(l.vlan_id, 100u);
  EXPECT_EQ(stats.bad_attr_length, 0u);
  EXPECT_EQ(stats.unknown_attrs, 1u);  // IFLA_LINK
  PortInfo info;
  info.vlan_id = 7;  // whatever it was: the message says
  ApplyToPortInfo(l, &info);
  EXPECT_EQ(info.vlan_id, 100u);
  const PortCounters c = ToPortCounters(l);
  EXPECT_EQ(c.in_octets, 100000u);
  EXPECT_EQ(c.out_octets, 80000u);
  EXPECT_EQ(c.in_ucast_pkts, 990u);
  EXPECT_EQ(c.in_multicast_pkts, 10u);
  EXPECT_EQ(c.out_ucast_pkts, 400u);
  EXPECT_EQ(c.in_discards, 3u);
  EXPECT_EQ(c.out_discards, 1u);
  // Every truncation parses without reading outside the buffer.
  const Bytes b = ReadHex("newlink_vlan100.hex");
  for (size_t n = 0; n < b.size(); ++n) {
    ParseStats s2;
    BufferSummary sum2;
    (void)ParseAll(Bytes(b.data(), n), &s2, &sum2);
  }
}

// A link of another kind is no VLAN; an event without IFLA_LINKINFO changes nothing.
// Host-order nested attribute bytes: {len, type, value, pad}.
Bytes Nla(uint16_t type, const Bytes& value) {
  Bytes b;
  const uint16_t len = static_cast<uint16_t>(4 + value.size());
  b.append(reinterpret_cast<const uint8_t*>(&len), 2);
  b.append(reinterpret_cast<const uint8_t*>(&type), 2);
  b += value;
  while (b.size() % 4) b.push_back(0);
  return b;
}
template <typename T>
Bytes Val(T v) {
  return Bytes(reinterpret_cast<const uint8_t*>(&v), sizeof(v));
}

TEST(RtnlParserTest, VlanIdInHostOrder) {
  // Built in the host's byte order, so this runs on big-endian targets too.
  const Bytes info = Nla(IFLA_INFO_KIND, Bytes(reinterpret_cast<const uint8_t*>("vlan"), 5)) +
                     Nla(IFLA_INFO_DATA | NLA_F_NESTED, Nla(IFLA_VLAN_ID, Val<uint16_t>(4094)));
  const Bytes m = MsgBuilder(RTM_NEWLINK, 9, 0x1)
                      .Str(IFLA_IFNAME, "bond0.4094")
                      .Attr(IFLA_LINKINFO | NLA_F_NESTED, info.data(), info.size())
                      .Build();
  ParseStats stats;
  auto links = ParseAll(m, &stats);
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0].vlan_id, 4094u);
  PortInfo p;
  ApplyToPortInfo(links[0], &p);
  EXPECT_EQ(p.vlan_id, 4094u);
  // The same with a 4-byte VLAN id: counted, no VLAN.
  const Bytes bad = Nla(IFLA_INFO_KIND, Bytes(reinterpret_cast<const uint8_t*>("vlan"), 5)) +
                    Nla(IFLA_INFO_DATA | NLA_F_NESTED, Nla(IFLA_VLAN_ID, Val<uint32_t>(100)));
  const Bytes m2 = MsgBuilder(RTM_NEWLINK, 9, 0x1)
                       .Attr(IFLA_LINKINFO | NLA_F_NESTED, bad.data(), bad.size())
                       .Build();
  ParseStats s2;
  auto l2 = ParseAll(m2, &s2);
  ASSERT_EQ(l2.size(), 1u);
  EXPECT_FALSE(l2[0].has_vlan_id);
  EXPECT_EQ(s2.bad_attr_length, 1u);
}

TEST(RtnlParserTest, VlanKindsAndEventsWithoutLinkInfo) {
  LinkMessage l;
  l.has_kind = true;
  l.kind = "bridge";
  PortInfo info;
  info.vlan_id = 100;
  ApplyToPortInfo(l, &info);
  EXPECT_EQ(info.vlan_id, 0u);
  LinkMessage no_info;  // an event without IFLA_LINKINFO keeps what the port had
  info.vlan_id = 100;
  ApplyToPortInfo(no_info, &info);
  EXPECT_EQ(info.vlan_id, 100u);
}

TEST(RtnlParserGoldenTest, CapturedLinkDownEvent) {
  if (!LittleEndianHost()) GTEST_SKIP() << "captured on a little-endian host";
  ParseStats stats;
  auto links = ParseAll(ReadHex("event_newlink_a1_down.hex"), &stats);
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0].ifindex, 2u);
  EXPECT_EQ(links[0].name, "a1");
  EXPECT_FALSE(links[0].admin_up());
  EXPECT_FALSE(links[0].oper_up());
  EXPECT_EQ(links[0].operstate, IF_OPER_DOWN);
  EXPECT_EQ(stats.bad_attr_length, 0u);
}

TEST(RtnlParserGoldenTest, CapturedEnodevError) {
  if (!LittleEndianHost()) GTEST_SKIP() << "captured on a little-endian host";
  ParseStats stats;
  BufferSummary sum;
  auto links = ParseAll(ReadHex("getlink_enodev_error.hex"), &stats, &sum);
  EXPECT_TRUE(links.empty());
  EXPECT_TRUE(sum.error_seen);
  EXPECT_EQ(sum.error, -19);
  EXPECT_EQ(sum.error_seq, 43u);
  EXPECT_EQ(stats.error_messages, 1u);
}

TEST(RtnlParserTest, DellinkAndMasterAndLoopback) {
  Bytes m = MsgBuilder(RTM_DELLINK, 7, 0, 772).Str(IFLA_IFNAME, "lo").U32(IFLA_MASTER, 4).Build();
  ParseStats stats;
  auto links = ParseAll(m, &stats);
  ASSERT_EQ(links.size(), 1u);
  EXPECT_TRUE(links[0].is_delete);
  EXPECT_EQ(links[0].ifindex, 7u);
  EXPECT_TRUE(links[0].has_master);
  EXPECT_EQ(links[0].master_ifindex, 4u);
  PortInfo info;
  ApplyToPortInfo(links[0], &info);
  EXPECT_EQ(info.if_type, 24u);
  PortCounters c = ToPortCounters(links[0]);  // no IFLA_STATS64: all unknown
  EXPECT_EQ(c.in_octets, PortCounters::kUnknown64);
  EXPECT_FALSE(c.has_ethernet);
}

TEST(RtnlParserTest, UnknownOperstateUsesRunningFlag) {
  uint8_t unknown = IF_OPER_UNKNOWN;
  Bytes m = MsgBuilder(RTM_NEWLINK, 1, IFF_UP | IFF_RUNNING | IFF_PROMISC)
                .Attr(IFLA_OPERSTATE, &unknown, 1)
                .Build();
  ParseStats stats;
  auto links = ParseAll(m, &stats);
  ASSERT_EQ(links.size(), 1u);
  EXPECT_TRUE(links[0].oper_up());
  PortInfo info;
  ApplyToPortInfo(links[0], &info);
  EXPECT_TRUE(info.promiscuous);
}

TEST(RtnlParserTest, Stats64FieldsAndUcastFromMulticast) {
  uint64_t s[25] = {};
  for (int i = 0; i < 25; ++i) s[i] = 1000 + i;
  s[0] = 100;  // rx_packets
  s[8] = 30;   // multicast
  Bytes m = MsgBuilder(RTM_NEWLINK, 2, IFF_UP).Attr(IFLA_STATS64, s, sizeof(s)).Build();
  ParseStats stats;
  auto links = ParseAll(m, &stats);
  ASSERT_EQ(links.size(), 1u);
  PortCounters c = ToPortCounters(links[0]);
  EXPECT_EQ(c.in_ucast_pkts, 70u);
  EXPECT_EQ(c.in_multicast_pkts, 30u);
  EXPECT_EQ(c.out_ucast_pkts, 1001u);  // tx_packets
  EXPECT_EQ(c.in_octets, 1002u);
  EXPECT_EQ(c.out_octets, 1003u);
  EXPECT_EQ(c.in_errors, 1004u);
  EXPECT_EQ(c.out_errors, 1005u);
  EXPECT_EQ(c.in_discards, 1006u);
  EXPECT_EQ(c.out_discards, 1007u);
  EXPECT_EQ(c.dot3_fcs_errors, 1012u);        // rx_crc_errors
  EXPECT_EQ(c.dot3_alignment_errors, 1013u);  // rx_frame_errors
  EXPECT_EQ(c.dot3_excessive_collisions, 1016u);
  EXPECT_EQ(c.dot3_carrier_sense_errors, 1017u);
  EXPECT_EQ(c.dot3_late_collisions, 1020u);
  EXPECT_EQ(c.in_unknown_protos, 1023u);  // rx_nohandler
}

TEST(RtnlParserTest, OldKernelStats64WithoutNohandler) {
  uint64_t s[23] = {};
  s[0] = 5;
  Bytes m = MsgBuilder(RTM_NEWLINK, 2, 0).Attr(IFLA_STATS64, s, sizeof(s)).Build();
  ParseStats stats;
  auto links = ParseAll(m, &stats);
  ASSERT_EQ(links.size(), 1u);
  EXPECT_TRUE(links[0].has_stats64);
  EXPECT_FALSE(links[0].stats.has_rx_nohandler);
  EXPECT_EQ(ToPortCounters(links[0]).in_unknown_protos, PortCounters::kUnknown64);
}

TEST(RtnlParserTest, WrongAttributeLengthsAreSkippedAndCounted) {
  uint64_t short_stats[10] = {};
  uint16_t mtu16 = 1500;
  uint8_t oper2[2] = {6, 6};
  Bytes m = MsgBuilder(RTM_NEWLINK, 2, 0)
                .Attr(IFLA_STATS64, short_stats, sizeof(short_stats))
                .Attr(IFLA_MTU, &mtu16, 2)
                .Attr(IFLA_OPERSTATE, oper2, 2)
                .Attr(IFLA_MASTER, oper2, 2)
                .Str(IFLA_IFNAME, "eth9")
                .U32(999, 1)
                .Build();
  ParseStats stats;
  auto links = ParseAll(m, &stats);
  ASSERT_EQ(links.size(), 1u);
  EXPECT_FALSE(links[0].has_stats64);
  EXPECT_FALSE(links[0].has_mtu);
  EXPECT_FALSE(links[0].has_operstate);
  EXPECT_FALSE(links[0].has_master);
  EXPECT_EQ(links[0].name, "eth9");  // later attributes still parsed
  EXPECT_EQ(stats.bad_attr_length, 4u);
  EXPECT_EQ(stats.unknown_attrs, 1u);
}

TEST(RtnlParserTest, TruncatedInputNeverCrashes) {
  uint64_t s[24] = {};
  Bytes full = MsgBuilder(RTM_NEWLINK, 2, IFF_UP)
                   .Str(IFLA_IFNAME, "eth0")
                   .Attr(IFLA_STATS64, s, sizeof(s))
                   .U32(IFLA_MTU, 9000)
                   .Build();
  for (size_t n = 0; n < full.size(); ++n) {
    Bytes cut = full.substr(0, n);
    ParseStats stats;
    auto links = ParseAll(cut, &stats);
    EXPECT_TRUE(links.empty()) << n;  // nlmsg_len says more than there is
    if (n > 0) {
      EXPECT_EQ(stats.truncated, 1u) << n;
    }
  }
  // A message whose attribute overruns the message (nlmsg_len cut, bytes present).
  Bytes bad = full;
  uint32_t len = 16 + 16 + 6;  // header + ifinfomsg + part of the first attribute
  std::memcpy(&bad[0], &len, 4);
  ParseStats stats;
  auto links = ParseAll(bad.substr(0, len), &stats);
  ASSERT_EQ(links.size(), 1u);
  EXPECT_FALSE(links[0].has_name);
  EXPECT_EQ(stats.bad_attr_length, 1u);
  // ifinfomsg truncated.
  Bytes tiny = full.substr(0, 24);
  len = 24;
  std::memcpy(&tiny[0], &len, 4);
  ParseStats st2;
  EXPECT_TRUE(ParseAll(tiny, &st2).empty());
  EXPECT_EQ(st2.truncated, 1u);
}

TEST(RtnlParserTest, SeveralMessagesAndDone) {
  Bytes a = MsgBuilder(RTM_NEWLINK, 1, 0).Str(IFLA_IFNAME, "lo").Build();
  Bytes b = MsgBuilder(RTM_NEWLINK, 2, 0).Str(IFLA_IFNAME, "eth0").Build();
  Bytes other = MsgBuilder(RTM_NEWADDR, 2, 0).Build();
  Bytes done(20, 0);
  uint32_t len = 20;
  uint16_t type = NLMSG_DONE;
  std::memcpy(&done[0], &len, 4);
  std::memcpy(&done[4], &type, 2);
  ParseStats stats;
  BufferSummary sum;
  auto links = ParseAll(a + b + other + done, &stats, &sum);
  ASSERT_EQ(links.size(), 2u);
  EXPECT_EQ(links[1].name, "eth0");
  EXPECT_TRUE(sum.done);
  EXPECT_EQ(stats.other_messages, 1u);
  EXPECT_EQ(stats.messages, 4u);
}

}  // namespace
}  // namespace xflowd::hal::rtnl
