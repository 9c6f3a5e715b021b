// Privileged: needs root and network namespaces. Skips otherwise. The table must follow a
// dump at start, then the events, and end equal to what `ip route show` lists.
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "hal/base/prng.h"
#include "hal/rtnl/rtnl_route_feed.h"
#include "tests/support/netns.h"
#include "tests/support/test_env.h"

namespace xflowd::hal::rtnl {
namespace {

using base::IpAddress;
using xflowd::testing::EnterNetns;
using xflowd::testing::IsRoot;
using xflowd::testing::ShOutput;
using xflowd::testing::TestNetns;

// "PREFIX/LEN metric M [via GW]" for every unicast route of the main table, as `ip -o route`
// prints it (first next hop of a multipath route; host routes get their /32 or /128).
std::set<std::string> KernelRoutes(const TestNetns& ns) {
  std::set<std::string> out;
  for (const char* fam : {"-4", "-6"}) {
    std::istringstream lines(
        ns.IpOutput(std::string("-o ") + fam + " route show table main type unicast"));
    std::string line;
    while (std::getline(lines, line)) {
      std::istringstream tok(line);
      std::vector<std::string> t;
      std::string w;
      while (tok >> w) t.push_back(w);
      if (t.empty()) continue;
      std::string dst = t[0];
      if (dst == "default") dst = fam[1] == '4' ? "0.0.0.0/0" : "::/0";
      if (dst.find('/') == std::string::npos) dst += fam[1] == '4' ? "/32" : "/128";
      std::string metric = "0", via;
      for (size_t i = 0; i + 1 < t.size(); ++i) {
        if (t[i] == "metric") metric = t[i + 1];
        if (t[i] == "via" && via.empty()) via = t[i + 1];
      }
      out.insert(dst + " metric " + metric + (via.empty() ? "" : " via " + via));
    }
  }
  return out;
}

std::set<std::string> TableRoutes(const RouteTable& t) {
  std::set<std::string> out;
  for (const RouteTable::Route& r : t.Routes()) {
    std::string s = r.prefix.ToString() + "/" + std::to_string(r.prefix_len) + " metric " +
                    std::to_string(r.metric);
    if (!r.hops.empty() && r.hops[0].gateway.family() != IpAddress::Family::kNone) {
      s += " via " + r.hops[0].gateway.ToString();
    }
    out.insert(s);
  }
  return out;
}

// Reads events until the table equals the kernel's routes or nothing arrives for 500 ms. The
// kernel's list is read only once the events stop coming for a moment.
bool Follow(RtnlRouteFeed& feed, const RouteTable& t, const TestNetns& ns) {
  for (;;) {
    feed.ProcessEvents();
    pollfd p{feed.fd(), POLLIN, 0};
    if (poll(&p, 1, 20) > 0) continue;
    if (TableRoutes(t) == KernelRoutes(ns)) return true;
    if (poll(&p, 1, 500) == 0) return false;
  }
}

std::string Diff(const std::set<std::string>& table, const std::set<std::string>& kernel) {
  std::string d;
  for (const auto& s : table) {
    if (!kernel.count(s)) d += "only in the table: " + s + "\n";
  }
  for (const auto& s : kernel) {
    if (!table.count(s)) d += "only in the kernel: " + s + "\n";
  }
  return d;
}

class RouteFeedPrivilegedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!IsRoot()) GTEST_SKIP() << "needs root (network namespaces)";
    XFLOWD_SKIP_UNDER_EMULATION("network namespaces");
  }
  // a0 at 10.0.0.1/24 and fd00::1/64, a1 at 10.1.0.1/24 and fd01::1/64.
  bool Setup(TestNetns& ns) {
    return ns.ok() && ns.AddVeth("a0", "b0", "02:00:00:00:06:a0", "02:00:00:00:06:b0") &&
           ns.AddVeth("a1", "b1", "02:00:00:00:06:a1", "02:00:00:00:06:b1") &&
           ns.Ip("addr add 10.0.0.1/24 dev a0") == 0 &&
           ns.Ip("addr add fd00::1/64 dev a0 nodad") == 0 &&
           ns.Ip("addr add 10.1.0.1/24 dev a1") == 0 &&
           ns.Ip("addr add fd01::1/64 dev a1 nodad") == 0;
  }
};

TEST_F(RouteFeedPrivilegedTest, DumpAtStartThenEvents) {
  TestNetns ns("route_feed");
  ASSERT_TRUE(Setup(ns));
  ASSERT_EQ(ns.Ip("route add 198.51.100.0/24 via 10.0.0.2 metric 7"), 0);
  ASSERT_EQ(ns.Ip("route add default via 10.0.0.254"), 0);
  ASSERT_EQ(ns.Ip("-6 route add 2001:db8:1::/48 via fd00::2"), 0);
  ASSERT_EQ(ns.Ip("route add 192.0.2.0/24 via 10.0.0.9 table 100"), 0);  // not main
  EnterNetns in(ns.name());
  ASSERT_TRUE(in.ok());
  RouteTable t;
  auto feed = RtnlRouteFeed::Create(kMainRouteTable, t);
  ASSERT_TRUE(feed.ok()) << feed.status().ToString();
  EXPECT_EQ(TableRoutes(t), KernelRoutes(ns)) << Diff(TableRoutes(t), KernelRoutes(ns));
  const IpAddress addr = *IpAddress::Parse("198.51.100.7");
  const uint8_t* a = addr.bytes();
  ASSERT_NE(t.Lookup4(a), nullptr);
  EXPECT_EQ(t.Lookup4(a)->prefix_len, 24);
  EXPECT_EQ(t.Lookup4(IpAddress::Parse("192.0.2.1")->bytes())->prefix_len, 0);  // default

  // Events: add, replace, multipath, IPv6 metrics side by side, delete.
  ASSERT_EQ(ns.Ip("route add 203.0.113.0/24 nexthop via 10.0.0.2 nexthop via 10.1.0.2"), 0);
  ASSERT_EQ(ns.Ip("route replace 198.51.100.0/24 via 10.1.0.3 metric 7"), 0);
  ASSERT_EQ(ns.Ip("-6 route add 2001:db8:1::/48 via fd01::2 metric 100"), 0);
  ASSERT_EQ(ns.Ip("-6 route add 2001:db8:9::/64 nexthop via fd00::2 nexthop via fd01::2"), 0);
  ASSERT_EQ(ns.Ip("route del default"), 0);
  ASSERT_TRUE(Follow(**feed, t, ns)) << Diff(TableRoutes(t), KernelRoutes(ns));
  EXPECT_EQ(t.Lookup4(IpAddress::Parse("192.0.2.1")->bytes()), nullptr);
  const RouteTable::Match* m = t.Lookup4(a);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->gateway.ToString(), "10.1.0.3");
  m = t.Lookup6(IpAddress::Parse("2001:db8:1::5")->bytes());
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->gateway.ToString(), "fd01::2");  // metric 100 beats 1024
  m = t.Lookup4(IpAddress::Parse("203.0.113.1")->bytes());
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->gateway.ToString(), "10.0.0.2");  // the first next hop
  // One next hop of the IPv6 multipath route goes: the other answers.
  ASSERT_EQ(ns.Ip("-6 route del 2001:db8:9::/64 via fd00::2"), 0);
  ASSERT_TRUE(Follow(**feed, t, ns)) << Diff(TableRoutes(t), KernelRoutes(ns));
  m = t.Lookup6(IpAddress::Parse("2001:db8:9::1")->bytes());
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->gateway.ToString(), "fd01::2");
  // A link going down takes its routes with it.
  ASSERT_EQ(ns.Ip("link set a1 down"), 0);
  ASSERT_TRUE(Follow(**feed, t, ns)) << Diff(TableRoutes(t), KernelRoutes(ns));
  EXPECT_GE((*feed)->stats().link_resyncs, 1u);
  EXPECT_EQ((*feed)->parse_stats().truncated + (*feed)->parse_stats().bad_attr_length, 0u);
}

// Thousands of routes added and removed while lookups run; then more events than the socket
// holds (an overrun: the feed dumps again). The table ends equal to the kernel's.
TEST_F(RouteFeedPrivilegedTest, ChurnAndOverrunEndEqualToTheKernel) {
  TestNetns ns("route_churn");
  ASSERT_TRUE(Setup(ns));
  EnterNetns in(ns.name());
  ASSERT_TRUE(in.ok());
  RouteTable t;
  // A small event buffer, so that the burst at the end overruns it for sure.
  auto feed = RtnlRouteFeed::Create(kMainRouteTable, t, 256 << 10);
  ASSERT_TRUE(feed.ok()) << feed.status().ToString();

  base::Prng prng(7);
  const std::string batch = "/tmp/xf-router-churn-" + std::to_string(getpid());
  std::vector<std::string> live;
  std::set<std::pair<int, int>> live6;  // (prefix number, metric)
  uint64_t lookups = 0;
  for (int round = 0; round < 4; ++round) {
    FILE* f = fopen(batch.c_str(), "w");
    ASSERT_NE(f, nullptr);
    for (int i = 0; i < 1500; ++i) {
      if (!live.empty() && prng.Uniform(0, 2) == 0) {
        const size_t k = prng.Uniform(0, static_cast<uint32_t>(live.size() - 1));
        fprintf(f, "route del %s\n", live[k].c_str());
        live[k] = live.back();
        live.pop_back();
        continue;
      }
      const uint32_t len = prng.Uniform(8, 32);
      const uint32_t a =
          (172u << 24) | (prng.Uniform(0, 0xFFFFFF) & ~((1u << (32 - len)) - 1) & 0xFFFFFFu);
      char dst[64];
      snprintf(dst, sizeof(dst), "%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
               a & 255, len);
      if (std::find(live.begin(), live.end(), dst) != live.end()) continue;
      const char* gw = prng.Uniform(0, 1) ? "10.0.0.2" : "10.1.0.2";
      fprintf(f, "route add %s via %s\n", dst, gw);
      live.push_back(dst);
    }
    // IPv6: two metrics per prefix (the kernel keeps both); even rounds add what is missing,
    // odd rounds take about half away.
    for (int i = 0; i < 200; ++i) {
      for (int metric : {100, 200}) {
        const bool there = live6.count({i, metric}) > 0;
        if (round % 2 == 0 && !there) {
          fprintf(f, "route add 2001:db8:%x::/48 via %s metric %d\n", i,
                  metric == 100 ? "fd00::2" : "fd01::2", metric);
          live6.insert({i, metric});
        } else if (round % 2 == 1 && there && prng.Uniform(0, 1) == 0) {
          fprintf(f, "route del 2001:db8:%x::/48 metric %d\n", i, metric);
          live6.erase({i, metric});
        }
      }
    }
    fclose(f);
    EXPECT_EQ(ShOutput("ip -n " + ns.name() + " -force -batch " + batch + " 2>&1 | head -4"), "");
    // Lookups between events, as the sample path does.
    for (int q = 0; q < 1000; ++q) {
      const uint32_t d = (172u << 24) | prng.Uniform(0, 0xFFFFFF);
      const IpAddress da = IpAddress::V4(d);
      lookups += t.Lookup4(da.bytes()) != nullptr;
      (*feed)->ProcessEvents();
    }
    ASSERT_TRUE(Follow(**feed, t, ns)) << "round " << round << "\n"
                                       << Diff(TableRoutes(t), KernelRoutes(ns));
  }
  EXPECT_GT(t.prefixes_v4(), 1000u);

  // Far more events than the receive buffer holds, unread: the kernel drops some (ENOBUFS)
  // and the feed dumps the table again.
  FILE* f = fopen(batch.c_str(), "w");
  ASSERT_NE(f, nullptr);
  for (int i = 0; i < 20000; ++i) {
    fprintf(f, "route add 100.%d.%d.0/24 via 10.0.0.2\n", (i >> 8) & 255, i & 255);
  }
  fclose(f);
  ASSERT_EQ(ns.Ip("-batch " + batch), 0);
  unlink(batch.c_str());
  ASSERT_TRUE(Follow(**feed, t, ns)) << Diff(TableRoutes(t), KernelRoutes(ns));
  EXPECT_GE((*feed)->stats().overruns, 1u);
  EXPECT_GE((*feed)->stats().dumps, 2u);
  EXPECT_EQ(TableRoutes(t).size(), KernelRoutes(ns).size());
  RecordProperty("lookups_hit", std::to_string(lookups));
}

}  // namespace
}  // namespace xflowd::hal::rtnl
