#include "hal/route_table.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "hal/base/prng.h"

namespace xflowd::hal {
namespace {

using base::IpAddress;

IpAddress Ip(const std::string& s) { return *IpAddress::Parse(s); }

RouteTable::Route R(const std::string& prefix, uint8_t len, const std::string& gw = "",
                    uint32_t metric = 0, uint32_t oif = 1) {
  RouteTable::Route r;
  r.prefix = Ip(prefix);
  r.prefix_len = len;
  r.metric = metric;
  RouteTable::NextHop h;
  if (!gw.empty()) h.gateway = Ip(gw);
  h.oif = oif;
  r.hops.push_back(h);
  return r;
}

const RouteTable::Match* Find(const RouteTable& t, const std::string& addr) {
  IpAddress a = Ip(addr);
  return a.is_v4() ? t.Lookup4(a.bytes()) : t.Lookup6(a.bytes());
}

// "len via gw" of the lookup, "none" if no route.
std::string Look(const RouteTable& t, const std::string& addr) {
  const RouteTable::Match* m = Find(t, addr);
  if (m == nullptr) return "none";
  std::string s = std::to_string(m->prefix_len);
  if (m->gateway.family() != IpAddress::Family::kNone) s += " via " + m->gateway.ToString();
  return s;
}

TEST(RouteTableTest, EmptyTableFindsNothing) {
  RouteTable t;
  EXPECT_EQ(Look(t, "192.0.2.1"), "none");
  EXPECT_EQ(Look(t, "2001:db8::1"), "none");
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.nodes(), 2u);  // the two roots
}

TEST(RouteTableTest, LongestPrefixWinsAtEveryLength) {
  RouteTable t;
  t.Add(R("10.0.0.0", 8, "192.0.2.8"));
  t.Add(R("10.1.0.0", 16, "192.0.2.16"));
  t.Add(R("10.1.2.0", 23, "192.0.2.23"));
  t.Add(R("10.1.2.0", 24, "192.0.2.24"));
  t.Add(R("10.1.2.3", 32, "192.0.2.32"));
  t.Add(R("10.1.2.128", 25));  // on-link
  EXPECT_EQ(Look(t, "10.9.9.9"), "8 via 192.0.2.8");
  EXPECT_EQ(Look(t, "10.1.9.9"), "16 via 192.0.2.16");
  EXPECT_EQ(Look(t, "10.1.3.1"), "23 via 192.0.2.23");
  EXPECT_EQ(Look(t, "10.1.2.1"), "24 via 192.0.2.24");
  EXPECT_EQ(Look(t, "10.1.2.3"), "32 via 192.0.2.32");
  EXPECT_EQ(Look(t, "10.1.2.200"), "25");
  EXPECT_EQ(Look(t, "11.0.0.1"), "none");
  EXPECT_EQ(Look(t, "2001:db8::1"), "none");  // IPv4 routes do not answer IPv6
}

TEST(RouteTableTest, DefaultRouteAnswersWhatNothingElseDoes) {
  RouteTable t;
  t.Add(R("0.0.0.0", 0, "192.0.2.1"));
  t.Add(R("::", 0, "fe80::1"));
  t.Add(R("198.51.100.0", 24, "192.0.2.2"));
  EXPECT_EQ(Look(t, "8.8.8.8"), "0 via 192.0.2.1");
  EXPECT_EQ(Look(t, "198.51.100.7"), "24 via 192.0.2.2");
  EXPECT_EQ(Look(t, "2001:db8::1"), "0 via fe80::1");
  RouteTable::Route d = R("0.0.0.0", 0);
  d.hops.clear();
  EXPECT_TRUE(t.Remove(d));
  EXPECT_EQ(Look(t, "8.8.8.8"), "none");
}

TEST(RouteTableTest, BitsBeyondThePrefixAreIgnored) {
  RouteTable t;
  t.Add(R("10.1.2.3", 16, "192.0.2.1"));  // as if 10.1.0.0/16
  EXPECT_EQ(Look(t, "10.1.200.1"), "16 via 192.0.2.1");
  EXPECT_TRUE(t.Remove(R("10.1.0.0", 16)));
  EXPECT_EQ(t.size(), 0u);
}

TEST(RouteTableTest, DeleteFallsBackToTheShorterPrefixAndFreesNodes) {
  RouteTable t;
  t.Add(R("10.0.0.0", 8, "192.0.2.8"));
  t.Add(R("10.1.2.3", 32, "192.0.2.32"));
  EXPECT_GT(t.nodes(), 3u);
  EXPECT_EQ(Look(t, "10.1.2.3"), "32 via 192.0.2.32");
  EXPECT_TRUE(t.Remove(R("10.1.2.3", 32)));
  EXPECT_EQ(Look(t, "10.1.2.3"), "8 via 192.0.2.8");
  EXPECT_FALSE(t.Remove(R("10.1.2.3", 32)));
  EXPECT_TRUE(t.Remove(R("10.0.0.0", 8)));
  EXPECT_EQ(t.nodes(), 2u);
  EXPECT_EQ(Look(t, "10.1.2.3"), "none");
}

TEST(RouteTableTest, LowestMetricAnswersAndTheOtherTakesOverWhenItGoes) {
  RouteTable t;
  t.Add(R("2001:db8::", 32, "fe80::2", 1024));
  t.Add(R("2001:db8::", 32, "fe80::1", 100));
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.prefixes_v6(), 1u);
  EXPECT_EQ(Look(t, "2001:db8::5"), "32 via fe80::1");
  EXPECT_TRUE(t.Remove(R("2001:db8::", 32, "", 100)));
  EXPECT_EQ(Look(t, "2001:db8::5"), "32 via fe80::2");
}

TEST(RouteTableTest, SameMetricReplacesTheRoute) {
  RouteTable t;
  t.Add(R("192.0.2.0", 24, "10.0.0.1"));
  t.Add(R("192.0.2.0", 24, "10.0.0.2"));
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(Look(t, "192.0.2.9"), "24 via 10.0.0.2");
}

TEST(RouteTableTest, MultipathAnswersWithTheFirstNextHop) {
  RouteTable t;
  RouteTable::Route r = R("203.0.113.0", 24, "10.0.0.2");
  r.hops.push_back({Ip("10.0.0.3"), 1});
  t.Add(r);
  EXPECT_EQ(Look(t, "203.0.113.1"), "24 via 10.0.0.2");
}

TEST(RouteTableTest, Ipv6MultipathGrowsByAppendAndShrinksOneNextHopAtATime) {
  RouteTable t;
  t.Add(R("2001:db8:2::", 48, "fd00::2", 1024));
  t.Add(R("2001:db8:2::", 48, "fd00::3", 1024), /*append=*/true);
  ASSERT_EQ(t.Routes().size(), 1u);
  EXPECT_EQ(t.Routes()[0].hops.size(), 2u);
  EXPECT_EQ(Look(t, "2001:db8:2::1"), "48 via fd00::2");
  EXPECT_TRUE(t.Remove(R("2001:db8:2::", 48, "fd00::2", 1024)));
  EXPECT_EQ(Look(t, "2001:db8:2::1"), "48 via fd00::3");
  EXPECT_TRUE(t.Remove(R("2001:db8:2::", 48, "fd00::3", 1024)));
  EXPECT_EQ(Look(t, "2001:db8:2::1"), "none");
}

TEST(RouteTableTest, TosRouteDoesNotHideThePlainOne) {
  RouteTable t;
  RouteTable::Route tos = R("192.0.2.0", 24, "10.0.0.9", 0);
  tos.tos = 0x10;
  t.Add(tos);
  t.Add(R("192.0.2.0", 24, "10.0.0.1", 50));
  EXPECT_EQ(Look(t, "192.0.2.1"), "24 via 10.0.0.1");
}

TEST(RouteTableTest, HostRoutesAtFullLength) {
  RouteTable t;
  t.Add(R("2001:db8::1", 128, "fe80::1"));
  t.Add(R("2001:db8::", 127, "fe80::2"));
  t.Add(R("192.0.2.1", 32, "10.0.0.1"));
  t.Add(R("192.0.2.0", 31, "10.0.0.2"));
  EXPECT_EQ(Look(t, "2001:db8::1"), "128 via fe80::1");
  EXPECT_EQ(Look(t, "2001:db8::"), "127 via fe80::2");
  EXPECT_EQ(Look(t, "192.0.2.1"), "32 via 10.0.0.1");
  EXPECT_EQ(Look(t, "192.0.2.0"), "31 via 10.0.0.2");
}

// Random prefixes against a brute-force longest match, through inserts and deletes.
TEST(RouteTableTest, AgreesWithBruteForceUnderChurn) {
  base::Prng prng(12);
  RouteTable t;
  std::map<std::pair<uint32_t, uint8_t>, uint32_t> ref;  // (masked prefix, len) -> gateway
  auto mask = [](uint32_t a, unsigned len) {
    return len == 0 ? 0u : a & (0xFFFFFFFFu << (32 - len));
  };
  auto v4 = [](uint32_t a) { return IpAddress::V4(a); };
  for (int round = 0; round < 3000; ++round) {
    // Prefixes cluster in 10.0.0.0/12 so they nest.
    const uint32_t a = 0x0A000000u | prng.Uniform(0, 0x000FFFFF);
    const uint8_t len = static_cast<uint8_t>(prng.Uniform(0, 32));
    const auto key = std::make_pair(mask(a, len), len);
    RouteTable::Route r;
    r.prefix = v4(a);
    r.prefix_len = len;
    if (prng.Uniform(0, 2) == 0 && !ref.empty()) {
      auto it = ref.begin();
      std::advance(it, prng.Uniform(0, static_cast<uint32_t>(ref.size() - 1)));
      r.prefix = v4(it->first.first);
      r.prefix_len = it->first.second;
      EXPECT_TRUE(t.Remove(r));
      ref.erase(it);
    } else {
      const uint32_t gw = 0xC0000200u | static_cast<uint32_t>(round & 0xFF);
      r.hops.push_back({v4(gw), 1});
      t.Add(r);
      ref[key] = gw;
    }
    for (int q = 0; q < 4; ++q) {
      const uint32_t d = 0x0A000000u | prng.Uniform(0, 0x000FFFFF);
      int best = -1;
      uint32_t gw = 0;
      for (const auto& [k, g] : ref) {
        if (k.second > best && mask(d, k.second) == k.first) {
          best = k.second;
          gw = g;
        }
      }
      const IpAddress da = v4(d);
      const RouteTable::Match* m = t.Lookup4(da.bytes());
      if (best < 0) {
        ASSERT_EQ(m, nullptr) << da.ToString();
      } else {
        ASSERT_NE(m, nullptr) << da.ToString();
        ASSERT_EQ(m->prefix_len, best) << da.ToString();
        ASSERT_EQ(m->gateway, v4(gw)) << da.ToString();
      }
    }
  }
  EXPECT_EQ(t.size(), ref.size());
  t.Clear();
  EXPECT_EQ(t.nodes(), 2u);
}

TEST(RouteTableTest, RouteLinesListEveryRouteSorted) {
  RouteTable t;
  t.Add(R("10.0.0.0", 8, "192.0.2.1", 5, 3));
  t.Add(R("10.0.0.0", 24, "", 0, 3));
  EXPECT_EQ(t.RouteLines(),
            (std::vector<std::string>{"10.0.0.0/24 tos 0 metric 0 dev 3",
                                      "10.0.0.0/8 tos 0 metric 5 via 192.0.2.1 dev 3"}));
}

}  // namespace
}  // namespace xflowd::hal
