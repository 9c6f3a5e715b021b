#include "hal/route_table.h"

#include <gtest/gtest.h>

#include <algorithm>
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

TEST(RouteTableTest, PrefixesInTheRootFallBackToTheNextShorterOne) {
  // Lengths 0..16 share the root: removing one must restore the next shorter, not clear.
  RouteTable t;
  t.Add(R("0.0.0.0", 0, "192.0.2.0"));
  t.Add(R("10.0.0.0", 8, "192.0.2.8"));
  t.Add(R("10.0.0.0", 12, "192.0.2.12"));
  t.Add(R("10.1.0.0", 16, "192.0.2.16"));
  t.Add(R("10.1.2.0", 24, "192.0.2.24"));
  EXPECT_EQ(Look(t, "10.1.2.3"), "24 via 192.0.2.24");
  EXPECT_EQ(Look(t, "10.1.3.3"), "16 via 192.0.2.16");
  EXPECT_TRUE(t.Remove(R("10.1.0.0", 16)));
  EXPECT_EQ(Look(t, "10.1.3.3"), "12 via 192.0.2.12");
  EXPECT_EQ(Look(t, "10.1.2.3"), "24 via 192.0.2.24");
  EXPECT_TRUE(t.Remove(R("10.0.0.0", 12)));
  EXPECT_EQ(Look(t, "10.1.3.3"), "8 via 192.0.2.8");
  t.Add(R("10.0.0.0", 12, "192.0.2.12"));  // added under an existing shorter one
  EXPECT_EQ(Look(t, "10.1.3.3"), "12 via 192.0.2.12");
  EXPECT_EQ(Look(t, "10.16.0.1"), "8 via 192.0.2.8");
  EXPECT_TRUE(t.Remove(R("10.0.0.0", 8)));
  EXPECT_EQ(Look(t, "10.16.0.1"), "0 via 192.0.2.0");
  EXPECT_EQ(Look(t, "10.1.3.3"), "12 via 192.0.2.12");
}

TEST(RouteTableTest, PairLookupAnswersAsTwoLookups) {
  RouteTable t;
  t.Add(R("10.0.0.0", 8, "192.0.2.8"));
  t.Add(R("10.1.2.3", 32, "192.0.2.32"));
  t.Add(R("2001:db8::", 32, "fe80::32"));
  t.Add(R("2001:db8::1", 128, "fe80::128"));
  const char* v4[] = {"10.1.2.3", "10.9.9.9", "11.0.0.1"};  // deep, shallow, none
  for (const char* a : v4) {
    for (const char* b : v4) {
      const auto [ma, mb] = t.Lookup4Pair(Ip(a).bytes(), Ip(b).bytes());
      EXPECT_EQ(ma, Find(t, a)) << a << " " << b;
      EXPECT_EQ(mb, Find(t, b)) << a << " " << b;
    }
  }
  const char* v6[] = {"2001:db8::1", "2001:db8::2", "2001:db9::1"};
  for (const char* a : v6) {
    for (const char* b : v6) {
      const auto [ma, mb] = t.Lookup6Pair(Ip(a).bytes(), Ip(b).bytes());
      EXPECT_EQ(ma, Find(t, a)) << a << " " << b;
      EXPECT_EQ(mb, Find(t, b)) << a << " " << b;
    }
  }
  EXPECT_EQ(Look(t, "2001:db8::1"), "128 via fe80::128");
}

TEST(RouteTableTest, Ipv6AgreesWithBruteForceUnderChurn) {
  base::Prng prng(13);
  RouteTable t;
  struct Ref {
    uint8_t addr[16];
    uint8_t len;
    uint32_t gw;
  };
  std::vector<Ref> ref;
  auto covers = [](const uint8_t* p, unsigned len, const uint8_t* a) {
    for (unsigned i = 0; i < len; ++i) {
      const unsigned bit = 7 - i % 8;
      if (((p[i / 8] >> bit) & 1) != ((a[i / 8] >> bit) & 1)) return false;
    }
    return true;
  };
  // Addresses in 2001:db8::/32 with 12 random bits at /36../48 and the last byte, so that
  // prefixes of every length nest.
  auto random_addr = [&prng](uint8_t* a) {
    static const uint8_t base[16] = {0x20, 0x01, 0x0d, 0xb8};
    std::memcpy(a, base, 16);
    const uint32_t r = prng.Uniform(0, 0xFFF);
    a[4] = static_cast<uint8_t>(r >> 4);
    a[5] = static_cast<uint8_t>((r & 0xF) << 4);
    a[15] = static_cast<uint8_t>(prng.Uniform(0, 3));
  };
  for (int round = 0; round < 2000; ++round) {
    RouteTable::Route r;
    if (prng.Uniform(0, 2) == 0 && !ref.empty()) {
      const uint32_t i = prng.Uniform(0, static_cast<uint32_t>(ref.size() - 1));
      r.prefix = IpAddress::V6(ref[i].addr);
      r.prefix_len = ref[i].len;
      EXPECT_TRUE(t.Remove(r));
      ref.erase(ref.begin() + i);
    } else {
      Ref x;
      random_addr(x.addr);
      const uint32_t pick = prng.Uniform(0, 9);
      x.len = static_cast<uint8_t>(pick == 0   ? 128
                                   : pick == 1 ? prng.Uniform(0, 32)
                                               : prng.Uniform(32, 48));
      for (unsigned i = x.len; i < 128; ++i) x.addr[i / 8] &= ~(1u << (7 - i % 8));
      x.gw = static_cast<uint32_t>(round);
      r.prefix = IpAddress::V6(x.addr);
      r.prefix_len = x.len;
      r.hops.push_back({IpAddress::V4(x.gw), 1});
      t.Add(r);
      auto same = std::find_if(ref.begin(), ref.end(), [&](const Ref& o) {
        return o.len == x.len && std::memcmp(o.addr, x.addr, 16) == 0;
      });
      if (same != ref.end()) {
        *same = x;
      } else {
        ref.push_back(x);
      }
    }
    for (int q = 0; q < 4; ++q) {
      uint8_t d[16];
      random_addr(d);
      int best = -1;
      uint32_t gw = 0;
      for (const Ref& x : ref) {
        if (x.len > best && covers(x.addr, x.len, d)) {
          best = x.len;
          gw = x.gw;
        }
      }
      const RouteTable::Match* m = t.Lookup6(d);
      const std::string name = IpAddress::V6(d).ToString();
      if (best < 0) {
        ASSERT_EQ(m, nullptr) << name;
      } else {
        ASSERT_NE(m, nullptr) << name;
        ASSERT_EQ(m->prefix_len, best) << name;
        ASSERT_EQ(m->gateway, IpAddress::V4(gw)) << name;
      }
    }
  }
  EXPECT_EQ(t.size(), ref.size());
  t.Clear();
  EXPECT_EQ(t.nodes(), 2u);
  EXPECT_EQ(Look(t, "2001:db8::1"), "none");
}

}  // namespace
}  // namespace xflowd::hal
