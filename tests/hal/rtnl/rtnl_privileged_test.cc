// Privileged: needs root and network namespaces. Skips otherwise.
#include <gtest/gtest.h>
#include <net/if.h>
#include <poll.h>

#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "hal/rtnl/ethtool.h"
#include "hal/rtnl/rtnl_port_inventory.h"
#include "tests/support/netns.h"
#include "tests/support/test_env.h"

namespace xflowd::hal::rtnl {
namespace {

using xflowd::testing::EnterNetns;
using xflowd::testing::FrameSender;
using xflowd::testing::IsRoot;
using xflowd::testing::MakeUdpFrame;
using xflowd::testing::TestNetns;

const uint8_t kMacA0[6] = {0x02, 0, 0, 0, 0x05, 0xa0};
const uint8_t kMacA1[6] = {0x02, 0, 0, 0, 0x05, 0xa1};

// The six numbers on the line after "RX:  bytes ..." or "TX:  bytes ..." of `ip -s -s link`.
std::vector<uint64_t> IpStatsLine(const std::string& out, const std::string& label) {
  std::vector<uint64_t> v;
  size_t p = out.find(label + ":  bytes");
  if (p == std::string::npos) p = out.find(label + ": bytes");
  if (p == std::string::npos) return v;
  p = out.find('\n', p);
  if (p == std::string::npos) return v;
  std::istringstream line(out.substr(p + 1, out.find('\n', p + 1) - p - 1));
  uint64_t x;
  while (line >> x) v.push_back(x);
  return v;
}

class RtnlPrivilegedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!IsRoot()) GTEST_SKIP() << "needs root (network namespaces)";
    XFLOWD_SKIP_UNDER_EMULATION("network namespaces");
  }
};

TEST_F(RtnlPrivilegedTest, CountersMatchIpLinkAfterTraffic) {
  TestNetns ns("rtnl_ctr");
  ASSERT_TRUE(ns.ok());
  ASSERT_TRUE(ns.AddVeth("a0", "a1", "02:00:00:00:05:a0", "02:00:00:00:05:a1"));
  EnterNetns in(ns.name());
  ASSERT_TRUE(in.ok());
  const uint32_t a0 = if_nametoindex("a0");
  ASSERT_NE(a0, 0u);
  auto src = RtnlCounterSource::Create();
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  auto before = (*src)->ReadCounters(a0);
  ASSERT_TRUE(before.ok()) << before.status().ToString();

  FrameSender tx("a1");
  ASSERT_TRUE(tx.ok());
  std::vector<uint8_t> frame = MakeUdpFrame(kMacA0, kMacA1, 100);
  uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  std::vector<uint8_t> bframe = MakeUdpFrame(bcast, kMacA1, 60);
  ASSERT_EQ(tx.Send(frame, 1000), 1000u);
  ASSERT_EQ(tx.Send(bframe, 10), 10u);

  auto c = (*src)->ReadCounters(a0);
  auto raw = (*src)->ReadStats64(a0);
  ASSERT_TRUE(c.ok() && raw.ok());
  std::string ip = ns.IpOutput("-s -s link show a0");
  std::vector<uint64_t> rx = IpStatsLine(ip, "RX");
  std::vector<uint64_t> txs = IpStatsLine(ip, "TX");
  ASSERT_EQ(rx.size(), 6u) << ip;
  ASSERT_EQ(txs.size(), 6u) << ip;
  // ip: bytes packets errors dropped missed mcast
  EXPECT_EQ(raw->rx_bytes, rx[0]);
  EXPECT_EQ(raw->rx_packets, rx[1]);
  EXPECT_EQ(raw->rx_errors, rx[2]);
  EXPECT_EQ(raw->rx_dropped, rx[3]);
  EXPECT_EQ(raw->rx_missed_errors, rx[4]);
  EXPECT_EQ(raw->multicast, rx[5]);
  EXPECT_EQ(raw->tx_bytes, txs[0]);
  EXPECT_EQ(raw->tx_packets, txs[1]);
  EXPECT_EQ(c->in_octets, rx[0]);
  EXPECT_EQ(c->in_ucast_pkts + c->in_multicast_pkts, rx[1]);
  EXPECT_EQ(c->in_errors, rx[2]);
  EXPECT_EQ(c->in_discards, rx[3]);
  EXPECT_EQ(c->out_octets, txs[0]);
  EXPECT_EQ(c->out_ucast_pkts, txs[1]);
  // And the deltas are the traffic we sent (frames are 114 and 74 bytes).
  EXPECT_EQ(
      c->in_ucast_pkts + c->in_multicast_pkts - (before->in_ucast_pkts + before->in_multicast_pkts),
      1010u);
  EXPECT_EQ(c->in_octets - before->in_octets, 1000u * 114 + 10u * 74);

  auto gone = (*src)->ReadCounters(999999);
  EXPECT_EQ(gone.status().code(), base::StatusCode::kNotFound);
}

struct Event {
  PortEvent event;
  PortInfo info;
};

// Processes events until `want` listener calls arrived or 2 s passed.
void PumpEvents(RtnlPortInventory& inv, std::vector<Event>& got, size_t want) {
  for (int i = 0; i < 20 && got.size() < want; ++i) {
    pollfd p{inv.fd(), POLLIN, 0};
    poll(&p, 1, 100);
    inv.ProcessEvents();
  }
}

const PortInfo* FindByName(const std::vector<PortInfo>& ports, const std::string& name) {
  for (const PortInfo& p : ports) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

TEST_F(RtnlPrivilegedTest, InventoryFollowsDeleteAddRenameUpDown) {
  TestNetns ns("rtnl_inv");
  ASSERT_TRUE(ns.ok());
  ASSERT_TRUE(ns.AddVeth("a0", "a1", "02:00:00:00:05:a0", "02:00:00:00:05:a1"));
  ASSERT_EQ(ns.Ip("link set a0 alias uplink"), 0);
  EnterNetns in(ns.name());
  ASSERT_TRUE(in.ok());
  auto inv_or = RtnlPortInventory::Create();
  ASSERT_TRUE(inv_or.ok()) << inv_or.status().ToString();
  RtnlPortInventory& inv = **inv_or;
  std::vector<Event> got;
  inv.SetListener([&](PortEvent e, const PortInfo& p) { got.push_back({e, p}); });

  auto ports = inv.ListPorts();
  ASSERT_TRUE(ports.ok());
  ASSERT_EQ(ports->size(), 3u);  // lo, a0, a1
  const PortInfo* a0 = FindByName(*ports, "a0");
  ASSERT_NE(a0, nullptr);
  EXPECT_EQ(a0->ifindex, if_nametoindex("a0"));
  EXPECT_EQ(std::memcmp(a0->mac, kMacA0, 6), 0);
  EXPECT_EQ(a0->alias, "uplink");
  EXPECT_TRUE(a0->admin_up);
  EXPECT_TRUE(a0->oper_up);
  EXPECT_EQ(a0->if_type, 6u);
  EXPECT_EQ(a0->speed_bps, 10000000000ull);  // veth: 10000 Mb/s
  EXPECT_EQ(a0->duplex, 1u);
  const PortInfo* lo = FindByName(*ports, "lo");
  ASSERT_NE(lo, nullptr);
  EXPECT_EQ(lo->if_type, 24u);
  EXPECT_EQ(inv.Find(a0->ifindex)->mtu, 1500u);
  const uint32_t old_a0 = a0->ifindex, old_a1 = if_nametoindex("a1");

  // Delete: both ends of the veth go.
  ASSERT_EQ(ns.Ip("link del a1"), 0);
  PumpEvents(inv, got, 2);
  size_t removed = 0;
  for (const Event& e : got) {
    if (e.event == PortEvent::kRemoved) {
      ++removed;
      EXPECT_TRUE(e.info.ifindex == old_a0 || e.info.ifindex == old_a1);
    }
  }
  EXPECT_EQ(removed, 2u);
  EXPECT_EQ(inv.Find(old_a0), nullptr);
  EXPECT_EQ(inv.Find(old_a1), nullptr);

  // Add.
  got.clear();
  ASSERT_TRUE(ns.AddVeth("b0", "b1", "02:00:00:00:05:b0", "02:00:00:00:05:b1"));
  const uint32_t b0 = if_nametoindex("b0");
  PumpEvents(inv, got, 2);
  ASSERT_NE(inv.Find(b0), nullptr);
  bool added_b0 = false;
  for (const Event& e : got) added_b0 |= e.event == PortEvent::kAdded && e.info.ifindex == b0;
  EXPECT_TRUE(added_b0);
  EXPECT_EQ(inv.Find(b0)->info.name, "b0");

  // Down, rename, up.
  got.clear();
  ASSERT_EQ(ns.Ip("link set b0 down"), 0);
  ASSERT_EQ(ns.Ip("link set b0 name c0"), 0);
  PumpEvents(inv, got, 2);
  ASSERT_NE(inv.Find(b0), nullptr);
  EXPECT_EQ(inv.Find(b0)->info.name, "c0");
  EXPECT_FALSE(inv.Find(b0)->info.admin_up);
  bool saw_rename = false, saw_down = false;
  for (const Event& e : got) {
    EXPECT_EQ(e.event, PortEvent::kChanged);
    saw_rename |= e.info.name == "c0";
    saw_down |= !e.info.admin_up;
  }
  EXPECT_TRUE(saw_rename);
  EXPECT_TRUE(saw_down);
  got.clear();
  ASSERT_EQ(ns.Ip("link set c0 up"), 0);
  PumpEvents(inv, got, 1);
  EXPECT_TRUE(inv.Find(b0)->info.admin_up);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back().event, PortEvent::kChanged);

  auto after = inv.ListPorts();
  ASSERT_TRUE(after.ok());
  EXPECT_NE(FindByName(*after, "c0"), nullptr);
  EXPECT_EQ(FindByName(*after, "b0"), nullptr);
  EXPECT_EQ(FindByName(*after, "a0"), nullptr);
  // A resync finds nothing new to report.
  got.clear();
  ASSERT_TRUE(inv.Resync().ok());
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(inv.parse_stats().truncated, 0u);
}

TEST_F(RtnlPrivilegedTest, EthtoolOnVethAndMissingDevice) {
  TestNetns ns("rtnl_eth");
  ASSERT_TRUE(ns.ok());
  ASSERT_TRUE(ns.AddVeth("a0", "a1", "02:00:00:00:05:a0", "02:00:00:00:05:a1"));
  EnterNetns in(ns.name());
  ASSERT_TRUE(in.ok());
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  auto sp = ReadLinkSpeed(fd, "a0");
  ASSERT_TRUE(sp.ok()) << sp.status().ToString();
  EXPECT_EQ(sp->speed_bps, 10000000000ull);
  EXPECT_EQ(sp->duplex, 1u);
  EXPECT_FALSE(ReadLinkSpeed(fd, "nosuchdev0").ok());
  EXPECT_EQ(ReadLinkSpeed(fd, "").status().code(), base::StatusCode::kInvalidArgument);
  close(fd);
}

// Link events faster than the event socket's buffer: the kernel drops them (ENOBUFS). The
// inventory counts the overrun, re-dumps, and ends up with every link, no crash.
TEST_F(RtnlPrivilegedTest, EventOverrunResyncsToEveryLink) {
  TestNetns ns("rtnl_ovr");
  ASSERT_TRUE(ns.ok());
  EnterNetns in(ns.name());
  ASSERT_TRUE(in.ok());
  RtnlInventoryOptions o;
  o.read_ethtool = false;
  o.event_rcvbuf_bytes = 1;  // the kernel's minimum: a few messages
  auto inv_or = RtnlPortInventory::Create(o);
  ASSERT_TRUE(inv_or.ok()) << inv_or.status().ToString();
  RtnlPortInventory& inv = **inv_or;
  size_t events = 0;
  inv.SetListener([&](PortEvent, const PortInfo&) { ++events; });
  std::string batch;
  for (int i = 0; i < 40; ++i) {
    batch +=
        "link add ov" + std::to_string(i) + " type veth peer name ow" + std::to_string(i) + "\n";
  }
  ASSERT_EQ(xflowd::testing::Sh("printf '" + batch + "' | ip -n " + ns.name() + " -batch -"), 0);
  inv.ProcessEvents();
  EXPECT_GE(inv.stats().overruns, 1u);
  EXPECT_GE(inv.stats().resyncs, 1u);
  auto ports = inv.ListPorts();
  ASSERT_TRUE(ports.ok());
  EXPECT_EQ(ports->size(), 81u);  // lo + 40 pairs
  EXPECT_NE(FindByName(*ports, "ow39"), nullptr);
  EXPECT_GE(events, 80u);  // every new link reported once, by events or by the re-dump
}

}  // namespace
}  // namespace xflowd::hal::rtnl
