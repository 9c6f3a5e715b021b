#include "hal/rtnl/route_parser.h"

#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>
#include <string>
#include <vector>

#include "hal/base/byte_view.h"
#include "hal/rtnl/rtnl_route_feed.h"
#include "tests/support/golden.h"

namespace xflowd::hal::rtnl {
namespace {

using Bytes = std::basic_string<uint8_t>;
using base::IpAddress;
using xflowd::testing::LittleEndianHost;

Bytes ReadHex(const std::string& name) { return xflowd::testing::ReadGoldenHex("rtnl/" + name); }

IpAddress Ip(const std::string& s) { return *IpAddress::Parse(s); }

std::vector<RouteMessage> ParseAll(const Bytes& b, RouteParseStats* stats,
                                   BufferSummary* sum = nullptr) {
  std::vector<RouteMessage> out;
  BufferSummary s = ParseRouteBuffer(
      base::ByteView(b.data(), b.size()), [&](const RouteMessage& m) { out.push_back(m); }, stats);
  if (sum) *sum = s;
  return out;
}

// Builds route messages in host order, as the kernel does (so the tests also run big-endian).
class RouteMsg {
 public:
  RouteMsg(uint16_t type, uint8_t family, uint8_t dst_len, uint8_t table = RT_TABLE_MAIN,
           uint8_t rtn = RTN_UNICAST, uint16_t flags = 0) {
    Put32(0);  // nlmsg_len, patched
    Put16(type);
    Put16(flags);
    Put32(1);
    Put32(0);
    const uint8_t rtm[8] = {family, dst_len, 0, 0, table, RTPROT_BOOT, RT_SCOPE_UNIVERSE, rtn};
    b_.append(rtm, 8);
    Put32(0);  // rtm_flags
  }
  RouteMsg& Attr(uint16_t type, const void* v, size_t len) {
    Put16(static_cast<uint16_t>(4 + len));
    Put16(type);
    b_.append(static_cast<const uint8_t*>(v), len);
    while (b_.size() % 4) b_.push_back(0);
    return *this;
  }
  RouteMsg& Addr(uint16_t type, const std::string& ip) {
    IpAddress a = Ip(ip);
    return Attr(type, a.bytes(), a.size());
  }
  RouteMsg& U32(uint16_t type, uint32_t v) { return Attr(type, &v, 4); }
  // RTA_MULTIPATH with one rtnexthop (ifindex, RTA_GATEWAY) per gateway.
  RouteMsg& Multipath(const std::vector<std::string>& gws, int32_t ifindex) {
    Bytes mp;
    for (const std::string& g : gws) {
      IpAddress a = Ip(g);
      const uint16_t len = static_cast<uint16_t>(8 + 4 + a.size());
      mp.append(reinterpret_cast<const uint8_t*>(&len), 2);
      mp.push_back(0);
      mp.push_back(0);
      mp.append(reinterpret_cast<const uint8_t*>(&ifindex), 4);
      const uint16_t alen = static_cast<uint16_t>(4 + a.size()), atype = RTA_GATEWAY;
      mp.append(reinterpret_cast<const uint8_t*>(&alen), 2);
      mp.append(reinterpret_cast<const uint8_t*>(&atype), 2);
      mp.append(a.bytes(), a.size());
    }
    return Attr(RTA_MULTIPATH, mp.data(), mp.size());
  }
  Bytes Build() const {
    Bytes b = b_;
    const uint32_t len = static_cast<uint32_t>(b.size());
    std::memcpy(&b[0], &len, 4);
    return b;
  }

 private:
  void Put16(uint16_t v) { b_.append(reinterpret_cast<uint8_t*>(&v), 2); }
  void Put32(uint32_t v) { b_.append(reinterpret_cast<uint8_t*>(&v), 4); }
  Bytes b_;
};

TEST(RouteParserGoldenTest, CapturedIpv4DumpFillsTheMainTable) {
  if (!LittleEndianHost()) GTEST_SKIP() << "captured on a little-endian host";
  RouteParseStats stats;
  BufferSummary sum;
  auto msgs = ParseAll(ReadHex("route_dump_ipv4.hex"), &stats, &sum);
  EXPECT_TRUE(sum.done);
  ASSERT_EQ(msgs.size(), 8u);
  EXPECT_EQ(stats.truncated + stats.bad_attr_length, 0u);
  // default via 10.0.0.254 dev 3
  EXPECT_EQ(msgs[0].family, AF_INET);
  EXPECT_EQ(msgs[0].dst_len, 0);
  EXPECT_EQ(msgs[0].dst.family(), IpAddress::Family::kNone);
  EXPECT_EQ(msgs[0].table, 254u);
  EXPECT_EQ(msgs[0].type, RTN_UNICAST);
  ASSERT_EQ(msgs[0].hops.size(), 1u);
  EXPECT_EQ(msgs[0].hops[0].gateway, Ip("10.0.0.254"));
  EXPECT_EQ(msgs[0].hops[0].oif, 3u);
  // 10.0.0.0/24 dev 3, on-link
  EXPECT_EQ(msgs[1].dst, Ip("10.0.0.0"));
  EXPECT_EQ(msgs[1].dst_len, 24);
  ASSERT_EQ(msgs[1].hops.size(), 1u);
  EXPECT_EQ(msgs[1].hops[0].gateway.family(), IpAddress::Family::kNone);
  // 203.0.113.0/24 multipath
  EXPECT_EQ(msgs[2].dst, Ip("203.0.113.0"));
  ASSERT_EQ(msgs[2].hops.size(), 2u);
  EXPECT_EQ(msgs[2].hops[0].gateway, Ip("10.0.0.2"));
  EXPECT_EQ(msgs[2].hops[1].gateway, Ip("10.0.0.3"));
  // The rest is the local table.
  for (size_t i = 3; i < msgs.size(); ++i) EXPECT_EQ(msgs[i].table, 255u) << i;

  RouteTable t;
  RouteFeedStats fs;
  for (const RouteMessage& m : msgs) ApplyRouteMessage(m, kMainRouteTable, t, &fs);
  EXPECT_EQ(fs.ignored, 5u);
  EXPECT_EQ(t.RouteLines(),
            (std::vector<std::string>{"0.0.0.0/0 tos 0 metric 0 via 10.0.0.254 dev 3",
                                      "10.0.0.0/24 tos 0 metric 0 dev 3",
                                      "203.0.113.0/24 tos 0 metric 0 via 10.0.0.2 dev 3 via "
                                      "10.0.0.3 dev 3"}));
}

TEST(RouteParserGoldenTest, CapturedIpv6DumpWithMultipath) {
  if (!LittleEndianHost()) GTEST_SKIP() << "captured on a little-endian host";
  RouteParseStats stats;
  auto msgs = ParseAll(ReadHex("route_dump_ipv6.hex"), &stats);
  EXPECT_EQ(stats.truncated + stats.bad_attr_length, 0u);
  RouteTable t;
  RouteFeedStats fs;
  for (const RouteMessage& m : msgs) ApplyRouteMessage(m, kMainRouteTable, t, &fs);
  EXPECT_EQ(t.RouteLines(),
            (std::vector<std::string>{
                "2001:db8:1::/48 tos 0 metric 1024 via fd00::2 dev 3",
                "2001:db8:2::/48 tos 0 metric 1024 via fd00::2 dev 3 via fd00::3 dev 3",
                "fd00::/64 tos 0 metric 256 dev 3",
                // Two routes for one prefix and metric on two devices: one route, two next
                // hops (a delete of one leaves the other).
                "fe80::/64 tos 0 metric 256 dev 2 dev 3",
            }));
  const IpAddress addr = Ip("2001:db8:2::9");
  const uint8_t* a = addr.bytes();
  const RouteTable::Match* m = t.Lookup6(a);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->prefix_len, 48);
  EXPECT_EQ(m->gateway, Ip("fd00::2"));
}

TEST(RouteParserGoldenTest, CapturedEventsAddAndDelete) {
  if (!LittleEndianHost()) GTEST_SKIP() << "captured on a little-endian host";
  RouteParseStats stats;
  auto msgs = ParseAll(ReadHex("route_events.hex"), &stats);
  ASSERT_EQ(msgs.size(), 3u);
  EXPECT_FALSE(msgs[0].is_delete);
  EXPECT_EQ(msgs[0].nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL), NLM_F_CREATE | NLM_F_EXCL);
  EXPECT_EQ(msgs[0].hops.size(), 2u);
  EXPECT_EQ(msgs[1].family, AF_INET6);
  EXPECT_EQ(msgs[1].priority, 1024u);
  EXPECT_EQ(msgs[1].hops.size(), 2u);
  EXPECT_TRUE(msgs[2].is_delete);
  EXPECT_EQ(msgs[2].dst, Ip("198.51.100.0"));
  EXPECT_EQ(msgs[2].priority, 7u);

  RouteTable t;
  RouteFeedStats fs;
  RouteTable::Route before;
  before.prefix = Ip("198.51.100.0");
  before.prefix_len = 24;
  before.metric = 7;
  before.hops.push_back({Ip("10.0.0.2"), 3});
  t.Add(before);
  for (const RouteMessage& m : msgs) EXPECT_TRUE(ApplyRouteMessage(m, kMainRouteTable, t, &fs));
  EXPECT_EQ(t.RouteLines(),
            (std::vector<std::string>{
                "2001:db8:2::/48 tos 0 metric 1024 via fd00::2 dev 3 via fd00::3 dev 3",
                "203.0.113.0/24 tos 0 metric 0 via 10.0.0.2 dev 3 via 10.0.0.3 dev 3"}));
}

TEST(RouteParserGoldenTest, HandBuiltMessagesParseOnEitherByteOrder) {
  Bytes buf = RouteMsg(RTM_NEWROUTE, AF_INET, 16)
                  .Addr(RTA_DST, "172.16.0.0")
                  .Addr(RTA_GATEWAY, "10.0.0.9")
                  .U32(RTA_OIF, 4)
                  .U32(RTA_PRIORITY, 20)
                  .U32(RTA_TABLE, 1000)
                  .Build();
  buf += RouteMsg(RTM_NEWROUTE, AF_INET6, 64)
             .Addr(RTA_DST, "2001:db8:5::")
             .Multipath({"fe80::1", "fe80::2"}, 7)
             .Build();
  buf += RouteMsg(RTM_DELROUTE, AF_INET, 32, RT_TABLE_MAIN, RTN_BLACKHOLE)
             .Addr(RTA_DST, "192.0.2.1")
             .Build();
  RouteParseStats stats;
  auto msgs = ParseAll(buf, &stats);
  ASSERT_EQ(msgs.size(), 3u);
  EXPECT_EQ(msgs[0].table, 1000u);  // RTA_TABLE beats the 8-bit rtm_table
  EXPECT_EQ(msgs[0].dst, Ip("172.16.0.0"));
  EXPECT_EQ(msgs[0].priority, 20u);
  ASSERT_EQ(msgs[0].hops.size(), 1u);
  EXPECT_EQ(msgs[0].hops[0].gateway, Ip("10.0.0.9"));
  EXPECT_EQ(msgs[0].hops[0].oif, 4u);
  ASSERT_EQ(msgs[1].hops.size(), 2u);
  EXPECT_EQ(msgs[1].hops[1].gateway, Ip("fe80::2"));
  EXPECT_EQ(msgs[1].hops[1].oif, 7u);
  EXPECT_TRUE(msgs[2].is_delete);
  EXPECT_EQ(msgs[2].type, RTN_BLACKHOLE);
  EXPECT_EQ(stats.truncated + stats.bad_attr_length, 0u);

  // Table 1000 is not main; a blackhole is not unicast: only the IPv6 route goes in.
  RouteTable t;
  RouteFeedStats fs;
  for (const RouteMessage& m : msgs) ApplyRouteMessage(m, kMainRouteTable, t, &fs);
  EXPECT_EQ(fs.ignored, 2u);
  EXPECT_EQ(t.size(), 1u);
  // The same messages with table 1000 chosen.
  RouteTable t1000;
  RouteFeedStats fs1000;
  for (const RouteMessage& m : msgs) ApplyRouteMessage(m, 1000, t1000, &fs1000);
  ASSERT_EQ(t1000.size(), 1u);
  EXPECT_EQ(t1000.RouteLines()[0], "172.16.0.0/16 tos 0 metric 20 via 10.0.0.9 dev 4");
}

TEST(RouteParserTest, Ipv4ViaIpv6Gateway) {
  // RTA_VIA: struct rtvia { u16 family; u8 addr[] }.
  Bytes via;
  const uint16_t fam = AF_INET6;
  via.append(reinterpret_cast<const uint8_t*>(&fam), 2);
  via.append(Ip("fe80::7").bytes(), 16);
  Bytes buf = RouteMsg(RTM_NEWROUTE, AF_INET, 8)
                  .Addr(RTA_DST, "10.0.0.0")
                  .Attr(18, via.data(), via.size())
                  .Build();
  RouteParseStats stats;
  auto msgs = ParseAll(buf, &stats);
  ASSERT_EQ(msgs.size(), 1u);
  ASSERT_EQ(msgs[0].hops.size(), 1u);
  EXPECT_EQ(msgs[0].hops[0].gateway, Ip("fe80::7"));
}

TEST(RouteParserTest, BadLengthsAreCountedNeverFatal) {
  // A 3-byte RTA_GATEWAY on an IPv4 route, a 2-byte RTA_PRIORITY.
  const uint8_t three[3] = {1, 2, 3};
  const uint8_t two[2] = {1, 2};
  Bytes buf = RouteMsg(RTM_NEWROUTE, AF_INET, 8)
                  .Addr(RTA_DST, "10.0.0.0")
                  .Attr(RTA_GATEWAY, three, 3)
                  .Attr(RTA_PRIORITY, two, 2)
                  .Build();
  RouteParseStats stats;
  auto msgs = ParseAll(buf, &stats);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(stats.bad_attr_length, 2u);
  EXPECT_FALSE(msgs[0].has_priority);

  // Truncated in the middle of the rtmsg, then a buffer cut inside a message.
  Bytes whole = RouteMsg(RTM_NEWROUTE, AF_INET, 8).Addr(RTA_DST, "10.0.0.0").Build();
  for (size_t cut = 0; cut < whole.size(); ++cut) {
    Bytes part = whole.substr(0, cut);
    RouteParseStats s;
    ParseAll(part, &s);  // must not crash
    if (cut > 0) {
      EXPECT_GT(s.truncated + s.bad_attr_length, 0u) << cut;
    }
  }
  // A dst_len beyond the family's size is clamped and counted.
  Bytes wide = RouteMsg(RTM_NEWROUTE, AF_INET, 40).Addr(RTA_DST, "10.0.0.0").Build();
  RouteParseStats ws;
  auto wm = ParseAll(wide, &ws);
  ASSERT_EQ(wm.size(), 1u);
  EXPECT_EQ(wm[0].dst_len, 32);
  EXPECT_EQ(ws.bad_attr_length, 1u);
}

TEST(RouteParserTest, ErrorAndDoneAreReported) {
  Bytes buf;
  const uint32_t hdr[4] = {20, NLMSG_ERROR, 9, 0};
  buf.append(reinterpret_cast<const uint8_t*>(hdr), 16);
  const int32_t err = -EPERM;
  buf.append(reinterpret_cast<const uint8_t*>(&err), 4);
  // nlmsg_type and flags share the second word in host order: build it properly.
  uint16_t tf[2] = {NLMSG_ERROR, 0};
  std::memcpy(&buf[4], tf, 4);
  RouteParseStats stats;
  BufferSummary sum;
  ParseAll(buf, &stats, &sum);
  EXPECT_TRUE(sum.error_seen);
  EXPECT_EQ(sum.error, -EPERM);
  EXPECT_EQ(stats.error_messages, 1u);
}

}  // namespace
}  // namespace xflowd::hal::rtnl
