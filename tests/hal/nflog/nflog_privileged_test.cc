// Privileged: needs root, network namespaces and nft. Skips otherwise.
#include <gtest/gtest.h>
#include <net/if.h>
#include <poll.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "hal/base/clock.h"
#include "hal/nflog/nflog_source.h"
#include "hal/nflog/nft_sampling_rule.h"
#include "tests/support/netns.h"
#ifdef XFLOWD_HAVE_AFPACKET
#include "hal/afpacket/afpacket_source.h"
#include "tests/support/test_env.h"
#endif

namespace xflowd::hal::nflog {
namespace {

using xflowd::testing::Collected;
using xflowd::testing::Collector;
using xflowd::testing::DrainAll;
using xflowd::testing::EnterNetns;
using xflowd::testing::FrameSender;
using xflowd::testing::IsRoot;
using xflowd::testing::MakeUdpFrame;
using xflowd::testing::Sh;
using xflowd::testing::TestNetns;

const uint8_t kMacA0[6] = {0x02, 0, 0, 0, 0x07, 0xa0};
const uint8_t kMacA1[6] = {0x02, 0, 0, 0, 0x07, 0xa1};

class NflogPrivilegedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!IsRoot()) GTEST_SKIP() << "needs root (network namespaces, nftables)";
    XFLOWD_SKIP_UNDER_EMULATION("NFLOG and network namespaces");
    if (Sh("nft --version") != 0) GTEST_SKIP() << "nft not installed";
  }
  base::SystemClock clock_;
};

TEST_F(NflogPrivilegedTest, EveryPacketRuleMatchesAfPacketOnTheSamePort) {
  TestNetns ns("nflog_all");
  ASSERT_TRUE(ns.ok());
  ASSERT_TRUE(ns.AddVeth("a0", "a1", "02:00:00:00:07:a0", "02:00:00:00:07:a1"));
  EnterNetns in(ns.name());
  ASSERT_TRUE(in.ok());
  const uint32_t a0 = if_nametoindex("a0");

  NflogOptions no;
  no.group = 5;
  no.sampling_rate = 1;
  auto nfl = NflogSource::Create(no, clock_);
  ASSERT_TRUE(nfl.ok()) << nfl.status().ToString();
  // The group has one owner.
  EXPECT_EQ(NflogSource::Create(no, clock_).status().code(), base::StatusCode::kUnavailable);

  NftRuleOptions ro;
  ro.device = "a0";
  ro.sampling_rate = 1;
  ro.group = 5;
  auto rule = NftSamplingRule::Install(ro);
  ASSERT_TRUE(rule.ok()) << rule.status().ToString();
  EXPECT_EQ(Sh("ip netns exec " + ns.name() + " nft list table netdev xflowd_a0"), 0);
  // Installing again replaces the rule (one rule, not two).
  auto again = NftSamplingRule::Install(ro);
  ASSERT_TRUE(again.ok()) << again.status().ToString();

#ifdef XFLOWD_HAVE_AFPACKET
  afpacket::AfPacketOptions ao;
  ao.ifname = "a0";
  ao.ingress_only = true;
  auto afp = afpacket::AfPacketSource::Create(ao, clock_);
  ASSERT_TRUE(afp.ok()) << afp.status().ToString();
#endif

  FrameSender tx("a1");
  ASSERT_TRUE(tx.ok());
  std::vector<uint8_t> frame = MakeUdpFrame(kMacA0, kMacA1, 300);
  ASSERT_EQ(tx.Send(frame, 500), 500u);

  Collector ns_sink;
  DrainAll(**nfl, ns_sink, 300);
  ASSERT_EQ(ns_sink.got.size(), 500u);
  const NflogStats& st = (*nfl)->nflog_stats();
  EXPECT_EQ(st.seq_gap_drops, 0u);
  EXPECT_EQ(st.enobufs, 0u);
  EXPECT_EQ((*nfl)->stats().parse_errors, 0u);
  for (size_t i = 0; i < ns_sink.got.size(); ++i) {
    const Collected& c = ns_sink.got[i];
    ASSERT_EQ(c.s.input_ifindex, a0);
    ASSERT_EQ(c.s.output_ifindex, 0u);
    ASSERT_EQ(c.s.direction, Direction::kIngress);
    ASSERT_EQ(c.s.sampling_rate, 1u);
    ASSERT_TRUE(c.s.has_source_sequence);
    ASSERT_EQ(c.s.source_sequence, ns_sink.got[0].s.source_sequence + i);
    ASSERT_EQ(c.s.frame_length, frame.size() + 4);
    // Ethernet rebuilt from NFULA_HWHEADER + payload (copy range 128 bytes of L3).
    ASSERT_EQ(c.header.size(), 14u + 128);
    ASSERT_EQ(std::memcmp(c.header.data(), frame.data(), c.header.size()), 0);
  }

#ifdef XFLOWD_HAVE_AFPACKET
  Collector af_sink;
  DrainAll(**afp, af_sink, 100);
  ASSERT_EQ(af_sink.got.size(), 500u);
  for (const Collected& c : af_sink.got) {
    ASSERT_EQ(c.s.input_ifindex, ns_sink.got[0].s.input_ifindex);
    ASSERT_EQ(c.s.output_ifindex, ns_sink.got[0].s.output_ifindex);
    ASSERT_EQ(c.s.direction, ns_sink.got[0].s.direction);
    ASSERT_EQ(c.s.frame_length, ns_sink.got[0].s.frame_length);
    // AF_PACKET keeps snaplen (128) bytes of the frame; NFLOG's rebuilt frame starts the same.
    ASSERT_EQ(c.header.size(), 128u);
    ASSERT_EQ(std::memcmp(c.header.data(), ns_sink.got[0].header.data(), 128), 0);
  }
#endif
}

TEST_F(NflogPrivilegedTest, NumgenOneInTenIsBinomialAndRemoveStops) {
  TestNetns ns("nflog_rate");
  ASSERT_TRUE(ns.ok());
  ASSERT_TRUE(ns.AddVeth("a0", "a1", "02:00:00:00:07:a0", "02:00:00:00:07:a1"));
  EnterNetns in(ns.name());
  ASSERT_TRUE(in.ok());
  const uint32_t a0 = if_nametoindex("a0");
  NflogOptions no;
  no.group = 9;
  no.sampling_rate = 10;
  no.copy_range = 64;
  auto nfl = NflogSource::Create(no, clock_);
  ASSERT_TRUE(nfl.ok()) << nfl.status().ToString();
  NftRuleOptions ro;
  ro.device = "a0";
  ro.sampling_rate = 10;
  ro.group = 9;
  auto rule = NftSamplingRule::Install(ro);
  ASSERT_TRUE(rule.ok()) << rule.status().ToString();

  FrameSender tx("a1");
  ASSERT_TRUE(tx.ok());
  std::vector<uint8_t> frame = MakeUdpFrame(kMacA0, kMacA1, 100);
  const size_t kFrames = 20000;
  Collector sink;
  size_t sent = 0;
  while (sent < kFrames) {
    sent += tx.Send(frame, 2000);
    (*nfl)->Drain(sink, 100000);
  }
  DrainAll(**nfl, sink, 300);
  ASSERT_EQ(sent, kFrames);
  const NflogStats& st = (*nfl)->nflog_stats();
  const double k = static_cast<double>(sink.got.size() + st.seq_gap_drops);
  const double mean = kFrames / 10.0;
  const double sd = std::sqrt(kFrames * 0.1 * 0.9);
  std::printf("[ nflog ] frames=%zu samples=%zu seq_gap_drops=%llu enobufs=%llu z=%.2f\n", sent,
              sink.got.size(), static_cast<unsigned long long>(st.seq_gap_drops),
              static_cast<unsigned long long>(st.enobufs), (k - mean) / sd);
  EXPECT_LE(std::fabs(k - mean), 3.29 * sd);  // 99.9% interval
  for (const Collected& c : sink.got) {
    ASSERT_EQ(c.s.input_ifindex, a0);
    ASSERT_EQ(c.s.sampling_rate, 10u);
    ASSERT_EQ(c.header.size(), 14u + 64);
  }

  ASSERT_TRUE((*rule)->Remove().ok());
  EXPECT_NE(Sh("ip netns exec " + ns.name() + " nft list table netdev xflowd_a0"), 0);
  ASSERT_EQ(tx.Send(frame, 500), 500u);
  Collector after;
  DrainAll(**nfl, after, 200);
  EXPECT_EQ(after.got.size(), 0u);
}

TEST_F(NflogPrivilegedTest, SocketOverrunShowsAsSequenceGaps) {
  TestNetns ns("nflog_drop");
  ASSERT_TRUE(ns.ok());
  ASSERT_TRUE(ns.AddVeth("a0", "a1", "02:00:00:00:07:a0", "02:00:00:00:07:a1"));
  EnterNetns in(ns.name());
  ASSERT_TRUE(in.ok());
  NflogOptions no;
  no.group = 3;
  no.rcvbuf_bytes = 4096;  // tiny on purpose: batches are lost while nobody reads
  auto nfl = NflogSource::Create(no, clock_);
  ASSERT_TRUE(nfl.ok()) << nfl.status().ToString();
  NftRuleOptions ro;
  ro.device = "a0";
  ro.group = 3;
  auto rule = NftSamplingRule::Install(ro);
  ASSERT_TRUE(rule.ok()) << rule.status().ToString();
  FrameSender tx("a1");
  ASSERT_TRUE(tx.ok());
  std::vector<uint8_t> frame = MakeUdpFrame(kMacA0, kMacA1, 200);
  ASSERT_EQ(tx.Send(frame, 5000), 5000u);  // not drained meanwhile
  Collector sink;
  DrainAll(**nfl, sink, 300);
  ASSERT_EQ(tx.Send(frame, 1), 1u);  // one more, read in time: closes any trailing gap
  DrainAll(**nfl, sink, 300);
  const NflogStats& st = (*nfl)->nflog_stats();
  std::printf("[ nflog ] overrun: samples=%zu seq_gap_drops=%llu enobufs=%llu\n", sink.got.size(),
              static_cast<unsigned long long>(st.seq_gap_drops),
              static_cast<unsigned long long>(st.enobufs));
  EXPECT_GT(st.enobufs, 0u);
  EXPECT_GT(st.seq_gap_drops, 0u);
  EXPECT_EQ(sink.got.size() + st.seq_gap_drops, 5001u);  // every logged packet accounted for
  EXPECT_EQ((*nfl)->stats().source_drops, st.seq_gap_drops);
}

}  // namespace
}  // namespace xflowd::hal::nflog
