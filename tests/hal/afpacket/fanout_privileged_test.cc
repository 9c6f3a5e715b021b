// Privileged: needs root and network namespaces. Skips otherwise.
#include <gtest/gtest.h>
#include <net/if.h>

#include <cstdio>
#include <map>
#include <vector>

#include "hal/afpacket/fanout_source.h"
#include "hal/base/clock.h"
#include "tests/support/netns.h"

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

const uint8_t kMacF0[6] = {0x02, 0, 0, 0, 0x07, 0xf0};
const uint8_t kMacF1[6] = {0x02, 0, 0, 0, 0x07, 0xf1};

class FanoutPrivilegedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!IsRoot()) GTEST_SKIP() << "needs root (network namespaces, AF_PACKET)";
    XFLOWD_SKIP_UNDER_EMULATION("AF_PACKET rings and network namespaces");
  }
  base::SystemClock clock_;
};

// 64 flows (UDP source ports) of 50 frames each, each frame numbered in its payload: two
// workers together deliver every frame once, each flow in order, both get some flows, and
// the counters add up.
TEST_F(FanoutPrivilegedTest, TwoWorkersDeliverEveryFrameOnceInFlowOrder) {
  TestNetns ns("afp_fanout");
  ASSERT_TRUE(ns.ok());
  ASSERT_TRUE(ns.AddVeth("f0", "f1", "02:00:00:00:07:f0", "02:00:00:00:07:f1"));
  EnterNetns in(ns.name());
  ASSERT_TRUE(in.ok());
  FanoutOptions o;
  o.ifname = "f0";
  o.workers = 2;
  o.block_size = 1u << 16;
  o.block_count = 8;
  auto src = FanoutSource::Create(o, clock_);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  EXPECT_EQ((*src)->workers(), 2u);
  EXPECT_EQ((*src)->ifindex(), if_nametoindex("f0"));

  FrameSender tx("f1");
  ASSERT_TRUE(tx.ok());
  constexpr int kFlows = 64;
  constexpr int kPerFlow = 50;
  Collector sink;
  size_t sent = 0;
  for (int i = 0; i < kPerFlow; ++i) {
    for (int f = 0; f < kFlows; ++f) {
      std::vector<uint8_t> frame = MakeUdpFrame(kMacF0, kMacF1, 200);
      frame[34] = 0x10;
      frame[35] = static_cast<uint8_t>(f);
      frame[42] = static_cast<uint8_t>(i);
      sent += tx.Send(frame, 1);
    }
    (*src)->Drain(sink, 100000);
  }
  DrainAll(**src, sink);
  ASSERT_EQ(sent, size_t{kFlows} * kPerFlow);
  const FanoutWorkerStats t = (*src)->total();
  std::printf("[ fanout ] sent=%zu got=%zu w0=%llu w1=%llu kernel_drops=%llu\n", sent,
              sink.got.size(), static_cast<unsigned long long>((*src)->worker_stats(0).packets),
              static_cast<unsigned long long>((*src)->worker_stats(1).packets),
              static_cast<unsigned long long>(t.kernel_drops));
  EXPECT_EQ(t.kernel_drops, 0u);
  EXPECT_EQ(t.bad_frames, 0u);
  EXPECT_EQ(sink.got.size(), sent);
  EXPECT_EQ(t.packets, sink.got.size());
  EXPECT_EQ((*src)->stats().samples, sink.got.size());
  EXPECT_GT((*src)->worker_stats(0).packets, 0u);
  EXPECT_GT((*src)->worker_stats(1).packets, 0u);
  std::map<int, int> next;  // flow -> next frame number expected
  for (const Collected& c : sink.got) {
    ASSERT_GE(c.header.size(), 43u);
    ASSERT_EQ(c.s.input_ifindex, (*src)->ifindex());
    const int f = c.header[35];
    EXPECT_EQ(c.header[42], next[f]) << "flow " << f;
    ++next[f];
  }
  ASSERT_EQ(next.size(), size_t{kFlows});
  for (const auto& [f, n] : next) EXPECT_EQ(n, kPerFlow) << "flow " << f;
}

TEST_F(FanoutPrivilegedTest, BadOptionsAndMissingInterfaceAreClearErrors) {
  FanoutOptions o;
  o.ifname = "xf-no-such-if";
  o.workers = 0;
  auto zero = FanoutSource::Create(o, clock_);
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.status().message().find("workers"), std::string::npos);
  o.workers = 2;
  auto missing = FanoutSource::Create(o, clock_);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("worker 0 of 2"), std::string::npos)
      << missing.status().ToString();
}

}  // namespace
}  // namespace xflowd::hal::afpacket
