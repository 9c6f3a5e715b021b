// Privileged: needs root and network namespaces. Skips otherwise.
#include <gtest/gtest.h>
#include <net/if.h>
#include <poll.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "hal/afpacket/afpacket_source.h"
#include "hal/afpacket/sample_pool.h"
#include "hal/base/clock.h"
#include "tests/support/netns.h"
#ifdef XFLOWD_HAVE_RTNL
#include "hal/rtnl/rtnl_port_inventory.h"
#include "tests/support/test_env.h"
#endif

namespace xflowd::hal::afpacket {
namespace {

using xflowd::testing::Collected;
using xflowd::testing::Collector;
using xflowd::testing::DrainAll;
using xflowd::testing::EnterNetns;
using xflowd::testing::FrameSender;
using xflowd::testing::IsRoot;
using xflowd::testing::MakeUdpFrame;
using xflowd::testing::TestNetns;

const uint8_t kMacA0[6] = {0x02, 0, 0, 0, 0x06, 0xa0};
const uint8_t kMacA1[6] = {0x02, 0, 0, 0, 0x06, 0xa1};

class AfPacketPrivilegedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!IsRoot()) GTEST_SKIP() << "needs root (network namespaces, AF_PACKET)";
    XFLOWD_SKIP_UNDER_EMULATION("AF_PACKET rings and network namespaces");
  }
  base::SystemClock clock_;
};

TEST_F(AfPacketPrivilegedTest, RandomOneInHundredIsBinomial) {
  TestNetns ns("afp_rate");
  ASSERT_TRUE(ns.ok());
  ASSERT_TRUE(ns.AddVeth("a0", "a1", "02:00:00:00:06:a0", "02:00:00:00:06:a1"));
  EnterNetns in(ns.name());
  ASSERT_TRUE(in.ok());
  const uint32_t a0 = if_nametoindex("a0");
  AfPacketOptions o;
  o.ifname = "a0";
  o.sampling_rate = 100;
  o.snaplen = 128;
  auto src = AfPacketSource::Create(o, clock_);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  EXPECT_EQ((*src)->ifindex(), a0);

#ifdef XFLOWD_HAVE_RTNL
  auto counters = rtnl::RtnlCounterSource::Create();
  ASSERT_TRUE(counters.ok());
  InterfacePool pool(Direction::kIngress);
  auto c0 = (*counters)->ReadCounters(a0);
  ASSERT_TRUE(c0.ok());
  pool.Reset(*c0);
#endif

  FrameSender tx("a1");
  ASSERT_TRUE(tx.ok());
  std::vector<uint8_t> frame = MakeUdpFrame(kMacA0, kMacA1, 200);
  const base::MonoTime t0 = clock_.Now();
  Collector sink;
  const size_t kFrames = 200000;
  size_t sent = 0;
  while (sent < kFrames) {  // drain as we go so the ring never fills
    sent += tx.Send(frame, 10000);
    (*src)->Drain(sink, 100000);
  }
  DrainAll(**src, sink);
  const base::MonoTime t1 = clock_.Now();
  ASSERT_EQ(sent, kFrames);

  uint64_t n = kFrames;
#ifdef XFLOWD_HAVE_RTNL
  // The sample pool: what the interface received, from its own counters.
  auto c1 = (*counters)->ReadCounters(a0);
  ASSERT_TRUE(c1.ok());
  n = pool.Advance(*c1);
  EXPECT_LE(n, kFrames);
  EXPECT_GE(n, kFrames * 99 / 100);  // veth backlog drops (if any) are few
#endif
  const AfPacketStats& st = (*src)->RefreshKernelStats();
  const double k = static_cast<double>(sink.got.size() + st.kernel_drops);
  const double mean = n / 100.0;
  const double sd = std::sqrt(n * 0.01 * 0.99);
  const double z = (k - mean) / sd;
  std::printf("[ afpacket ] frames=%llu pool=%llu samples=%zu kernel_drops=%llu z=%.2f\n",
              static_cast<unsigned long long>(sent), static_cast<unsigned long long>(n),
              sink.got.size(), static_cast<unsigned long long>(st.kernel_drops), z);
  // 99.9% two-sided interval: fails about 1 run in 1000 by chance.
  EXPECT_LE(std::fabs(k - mean), 3.29 * sd) << "z=" << z;
  EXPECT_EQ(st.kernel_drops, 0u);
  EXPECT_EQ(st.kernel_packets, sink.got.size() + st.kernel_drops);
  EXPECT_EQ((*src)->stats().samples, sink.got.size());

  for (const Collected& c : sink.got) {
    ASSERT_EQ(c.s.sampling_rate, 100u);
    ASSERT_EQ(c.s.input_ifindex, a0);
    ASSERT_EQ(c.s.output_ifindex, 0u);
    ASSERT_EQ(c.s.direction, Direction::kIngress);
    ASSERT_FALSE(c.s.vlan_valid);
    ASSERT_EQ(c.s.frame_length, frame.size() + 4);
    ASSERT_EQ(c.s.stripped, 4u);
    ASSERT_EQ(c.header.size(), 128u);
    ASSERT_EQ(std::memcmp(c.header.data(), frame.data(), 128), 0);
    // Kernel timestamps land on the monotonic clock, within the test's run (+- clock skew).
    ASSERT_GE(c.s.timestamp.ns(), (t0 - base::milliseconds(50)).ns());
    ASSERT_LE(c.s.timestamp.ns(), (t1 + base::milliseconds(50)).ns());
  }
  for (size_t i = 1; i < sink.got.size(); ++i) {
    ASSERT_GE(sink.got[i].s.timestamp, sink.got[i - 1].s.timestamp - base::microseconds(1));
  }
}

TEST_F(AfPacketPrivilegedTest, TaggedFramesComeOutWithVlan) {
  TestNetns ns("afp_vlan");
  ASSERT_TRUE(ns.ok());
  ASSERT_TRUE(ns.AddVeth("a0", "a1", "02:00:00:00:06:a0", "02:00:00:00:06:a1"));
  EnterNetns in(ns.name());
  ASSERT_TRUE(in.ok());
  AfPacketOptions o;
  o.ifname = "a0";
  auto src = AfPacketSource::Create(o, clock_);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  FrameSender tx("a1");
  ASSERT_TRUE(tx.ok());
  const uint16_t tci = (5 << 13) | 42;  // PCP 5, VLAN 42
  std::vector<uint8_t> tagged = MakeUdpFrame(kMacA0, kMacA1, 100, tci);
  std::vector<uint8_t> untagged = MakeUdpFrame(kMacA0, kMacA1, 100);
  ASSERT_EQ(tx.Send(tagged, 50), 50u);
  ASSERT_EQ(tx.Send(untagged, 20), 20u);
  Collector sink;
  DrainAll(**src, sink);
  ASSERT_EQ(sink.got.size(), 70u);
  size_t with_tag = 0;
  for (const Collected& c : sink.got) {
    EXPECT_EQ(c.s.sampling_rate, 1u);
    // The kernel strips the tag from the bytes: the header is the untagged frame.
    ASSERT_GE(c.header.size(), 14u);
    EXPECT_EQ(std::vector<uint8_t>(c.header.begin(), c.header.end()), untagged);
    if (c.s.vlan_valid) {
      ++with_tag;
      EXPECT_EQ(c.s.vlan_tci, tci);
      EXPECT_EQ(c.s.vlan_tci & 0x0FFF, 42);
      EXPECT_EQ(c.s.frame_length, tagged.size() + 4);  // tag + FCS counted
    } else {
      EXPECT_EQ(c.s.frame_length, untagged.size() + 4);
    }
  }
  EXPECT_EQ(with_tag, 50u);
}

TEST_F(AfPacketPrivilegedTest, IngressOnlyIgnoresOutgoing) {
  TestNetns ns("afp_dir");
  ASSERT_TRUE(ns.ok());
  ASSERT_TRUE(ns.AddVeth("a0", "a1", "02:00:00:00:06:a0", "02:00:00:00:06:a1"));
  EnterNetns in(ns.name());
  ASSERT_TRUE(in.ok());
  const uint32_t a0 = if_nametoindex("a0");
  AfPacketOptions o;
  o.ifname = "a0";
  auto both = AfPacketSource::Create(o, clock_);
  o.ingress_only = true;
  auto ingress = AfPacketSource::Create(o, clock_);
  ASSERT_TRUE(both.ok() && ingress.ok());
  FrameSender from_a0("a0"), from_a1("a1");
  ASSERT_TRUE(from_a0.ok() && from_a1.ok());
  ASSERT_EQ(from_a0.Send(MakeUdpFrame(kMacA1, kMacA0, 64), 50), 50u);  // a0 egress
  ASSERT_EQ(from_a1.Send(MakeUdpFrame(kMacA0, kMacA1, 64), 30), 30u);  // a0 ingress
  Collector sb, si;
  DrainAll(**both, sb);
  DrainAll(**ingress, si, 100);
  ASSERT_EQ(si.got.size(), 30u);
  for (const Collected& c : si.got) {
    EXPECT_EQ(c.s.direction, Direction::kIngress);
    EXPECT_EQ(c.s.input_ifindex, a0);
  }
  size_t egress = 0, ingress_n = 0;
  for (const Collected& c : sb.got) {
    if (c.s.direction == Direction::kEgress) {
      ++egress;
      EXPECT_EQ(c.s.output_ifindex, a0);
      EXPECT_EQ(c.s.input_ifindex, 0u);
      EXPECT_EQ(std::memcmp(c.header.data(), kMacA1, 6), 0);
    } else {
      ++ingress_n;
      EXPECT_EQ(c.s.input_ifindex, a0);
    }
  }
  EXPECT_EQ(egress, 50u);
  EXPECT_EQ(ingress_n, 30u);
}

// Egress sampling: the egress-only socket sees exactly the frames the port sends, each an
// egress sample of the port; received frames never reach its ring.
TEST_F(AfPacketPrivilegedTest, EgressOnlySeesOnlySentFrames) {
  TestNetns ns("afp_egr");
  ASSERT_TRUE(ns.ok());
  ASSERT_TRUE(ns.AddVeth("a0", "a1", "02:00:00:00:06:a0", "02:00:00:00:06:a1"));
  EnterNetns in(ns.name());
  ASSERT_TRUE(in.ok());
  const uint32_t a0 = if_nametoindex("a0");
  AfPacketOptions o;
  o.ifname = "a0";
  o.egress_only = true;
  auto egress = AfPacketSource::Create(o, clock_);
  ASSERT_TRUE(egress.ok()) << egress.status().ToString();
  FrameSender from_a0("a0"), from_a1("a1");
  ASSERT_TRUE(from_a0.ok() && from_a1.ok());
  ASSERT_EQ(from_a1.Send(MakeUdpFrame(kMacA0, kMacA1, 64), 30), 30u);  // a0 ingress
  ASSERT_EQ(from_a0.Send(MakeUdpFrame(kMacA1, kMacA0, 64), 40), 40u);  // a0 egress
  Collector se;
  DrainAll(**egress, se);
  ASSERT_EQ(se.got.size(), 40u);
  for (const Collected& c : se.got) {
    EXPECT_EQ(c.s.direction, Direction::kEgress);
    EXPECT_EQ(c.s.output_ifindex, a0);
    EXPECT_EQ(c.s.input_ifindex, 0u);
    EXPECT_EQ(std::memcmp(c.header.data(), kMacA1, 6), 0);
  }
  EXPECT_EQ((*egress)->RefreshKernelStats().kernel_packets, 40u);  // nothing else accepted
  o.ingress_only = true;
  EXPECT_FALSE(AfPacketSource::Create(o, clock_).ok());  // both: a contradiction
}

TEST_F(AfPacketPrivilegedTest, KernelDropsAreCounted) {
  TestNetns ns("afp_drop");
  ASSERT_TRUE(ns.ok());
  ASSERT_TRUE(ns.AddVeth("a0", "a1", "02:00:00:00:06:a0", "02:00:00:00:06:a1"));
  EnterNetns in(ns.name());
  ASSERT_TRUE(in.ok());
  AfPacketOptions o;
  o.ifname = "a0";
  o.block_size = 4096;  // one page, one block: ~20 samples fit
  o.block_count = 1;
  auto src = AfPacketSource::Create(o, clock_);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  FrameSender tx("a1");
  ASSERT_TRUE(tx.ok());
  ASSERT_EQ(tx.Send(MakeUdpFrame(kMacA0, kMacA1, 200), 1000), 1000u);
  Collector sink;
  DrainAll(**src, sink);
  const AfPacketStats& st = (*src)->afpacket_stats();  // Drain read PACKET_STATISTICS
  std::printf("[ afpacket ] tiny ring: samples=%zu kernel_drops=%llu kernel_packets=%llu\n",
              sink.got.size(), static_cast<unsigned long long>(st.kernel_drops),
              static_cast<unsigned long long>(st.kernel_packets));
  EXPECT_GT(st.kernel_drops, 0u);
  EXPECT_LT(sink.got.size(), 1000u);
  EXPECT_EQ(st.kernel_packets, 1000u);  // tp_packets counts the dropped ones too
  EXPECT_EQ(sink.got.size() + st.kernel_drops, 1000u);
  EXPECT_EQ((*src)->stats().source_drops, st.kernel_drops);
  // Reading again adds nothing (the kernel counters were reset by the read).
  EXPECT_EQ((*src)->RefreshKernelStats().kernel_drops, st.kernel_drops);
}

TEST_F(AfPacketPrivilegedTest, BadOptionsAndMissingInterface) {
  AfPacketOptions o;
  o.ifname = "nosuchdev0";
  EXPECT_EQ(AfPacketSource::Create(o, clock_).status().code(), base::StatusCode::kNotFound);
  o.ifname = "lo";
  o.sampling_rate = 0;
  EXPECT_EQ(AfPacketSource::Create(o, clock_).status().code(), base::StatusCode::kInvalidArgument);
  o.sampling_rate = 1;
  o.block_size = 1000;
  EXPECT_EQ(AfPacketSource::Create(o, clock_).status().code(), base::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace xflowd::hal::afpacket
