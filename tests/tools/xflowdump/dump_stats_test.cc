// Sequence-gap accounting and top talkers, fed with datagrams made by the encoder.
#include "tools/xflowdump/dump_stats.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/tools/xflowdump/dump_test_util.h"
#include "tools/xflowdump/sequence_tracker.h"

namespace xflowd::tools::xflowdump {
namespace {

namespace sf = exporter::sflow;
using testing::Bytes;
using testing::CounterSampleOn;
using testing::Datagram;
using testing::EmptyDatagram;
using testing::FlowSampleOn;
using Step = SequenceTracker::Step;

// ---------------------------------------------------------------- SequenceTracker

TEST(SequenceTrackerTest, ClassifiesEachStep) {
  SequenceTracker t;
  EXPECT_EQ(t.Observe(10, false).step, Step::kFirst);
  EXPECT_EQ(t.Observe(11, false).step, Step::kNext);
  auto gap = t.Observe(15, false);
  EXPECT_EQ(gap.step, Step::kGap);
  EXPECT_EQ(gap.missing, 3u);
  EXPECT_EQ(t.Observe(15, false).step, Step::kDuplicate);
  EXPECT_EQ(t.Observe(13, false).step, Step::kLate);
  EXPECT_EQ(t.last(), 15u);  // a late arrival does not move the stream back
  EXPECT_EQ(t.Observe(16, false).step, Step::kNext);
  EXPECT_EQ(t.Observe(1, false).step, Step::kReset);  // back to 1: restart
  EXPECT_EQ(t.Observe(2, false).step, Step::kNext);
  EXPECT_EQ(t.Observe(3, true).step, Step::kReset);  // the caller knows better
  EXPECT_EQ(t.Observe(3 + SequenceTracker::kMaxGap, false).step, Step::kReset);
  EXPECT_EQ(t.Observe(1000, false).step, Step::kReset);  // far behind: restart
}

TEST(SequenceTrackerTest, WrapsAround) {
  SequenceTracker t;
  t.Observe(0xFFFFFFFE, false);
  EXPECT_EQ(t.Observe(0xFFFFFFFF, false).step, Step::kNext);
  EXPECT_EQ(t.Observe(0, false).step, Step::kNext);
  auto gap = t.Observe(3, false);
  EXPECT_EQ(gap.step, Step::kGap);
  EXPECT_EQ(gap.missing, 2u);
}

TEST(SequenceTrackerTest, CountsLateArrivalsAgainstMissing) {
  SequenceTracker t;
  SequenceCounts c;
  for (uint32_t s : {1u, 2u, 4u, 3u, 5u}) Count(t.Observe(s, false), &c);  // reordered
  EXPECT_EQ(c.checked, 4u);
  EXPECT_EQ(c.gaps, 1u);
  EXPECT_EQ(c.missing, 0u);  // 3 was late, not lost
  EXPECT_EQ(c.late, 1u);
  EXPECT_EQ(c.resets, 0u);
}

// ---------------------------------------------------------------- DumpStats

void Feed(DumpStats& stats, const Bytes& d) {
  auto decoded = sf::DecodeDatagram(hal::base::ByteView(d.data(), d.size()));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  stats.AddDatagram(*decoded, d.size());
}

TEST(DumpStatsTest, NoGapsWhenEverythingArrives) {
  DumpStats stats;
  for (uint32_t seq = 1; seq <= 50; ++seq) Feed(stats, EmptyDatagram("192.0.2.1", 0, seq));
  const Counters& c = stats.total();
  EXPECT_EQ(c.datagrams, 50u);
  EXPECT_EQ(c.seq(SequenceKind::kDatagram).checked, 49u);
  EXPECT_EQ(c.total_gaps(), 0u);
}

TEST(DumpStatsTest, DatagramGapsArePerAgentAndSubAgent) {
  DumpStats stats;
  // Two agents and two sub-agents of one agent interleave; each has its own numbering.
  for (uint32_t seq : {1u, 2u, 3u, 4u}) {
    Feed(stats, EmptyDatagram("192.0.2.1", 0, seq));
    Feed(stats, EmptyDatagram("192.0.2.1", 1, seq * 10));  // 10, 20, 30, 40: 9 lost each time
    Feed(stats, EmptyDatagram("2001:db8::1", 0, seq == 3 ? 5 : seq));  // 3 lost, then 4 late
  }
  const auto& agents = stats.agents();
  ASSERT_EQ(agents.size(), 3u);
  const AgentStats& a0 = agents.at(AgentKey{testing::Ip("192.0.2.1"), 0, {}});
  const AgentStats& a1 = agents.at(AgentKey{testing::Ip("192.0.2.1"), 1, {}});
  const AgentStats& a6 = agents.at(AgentKey{testing::Ip("2001:db8::1"), 0, {}});
  EXPECT_EQ(a0.total.seq(SequenceKind::kDatagram).gaps, 0u);
  EXPECT_EQ(a1.total.seq(SequenceKind::kDatagram).gaps, 3u);
  EXPECT_EQ(a1.total.seq(SequenceKind::kDatagram).missing, 27u);
  EXPECT_EQ(a6.total.seq(SequenceKind::kDatagram).gaps, 1u);     // 2 -> 5
  EXPECT_EQ(a6.total.seq(SequenceKind::kDatagram).late, 1u);     // 4 after 5
  EXPECT_EQ(a6.total.seq(SequenceKind::kDatagram).missing, 1u);  // only 3 is really gone
  EXPECT_EQ(stats.total().seq(SequenceKind::kDatagram).gaps, 4u);
  EXPECT_EQ(stats.total().datagrams, 12u);
  EXPECT_EQ(AgentKey({testing::Ip("192.0.2.1"), 1, {}}).ToString(), "192.0.2.1/1");
}

TEST(DumpStatsTest, SampleGapsArePerSourceId) {
  DumpStats stats;
  const Bytes hdr = testing::TcpFrame("10.0.0.1", "10.0.0.2", 443, 50000);
  const sf::FlowRecord rec[] = {
      sf::SampledHeader{sf::kHeaderEthernet, 1000, 0, hal::base::ByteView(hdr.data(), hdr.size())}};
  // Port 1 samples 1, 2, 3 and port 2 samples 7, 9 (8 lost); counters on port 1: 1, 2, 4.
  uint32_t dseq = 0;
  auto send = [&](uint32_t port, uint32_t fseq, uint32_t cseq) {
    ++dseq;
    Feed(stats, Datagram("192.0.2.1", 0, dseq, 1000 * dseq, [&](sf::DatagramBuilder& b) {
           ASSERT_TRUE(b.Add(FlowSampleOn(port, fseq, 100, rec, 1)));
           if (cseq) {
             ASSERT_TRUE(b.Add(CounterSampleOn(port, cseq)));
           }
         }));
  };
  send(1, 1, 1);
  send(2, 7, 0);
  send(1, 2, 2);
  send(2, 9, 0);
  send(1, 3, 4);
  const Counters& c = stats.total();
  EXPECT_EQ(c.flow_samples, 5u);
  EXPECT_EQ(c.counter_samples, 3u);
  EXPECT_EQ(c.seq(SequenceKind::kDatagram).gaps, 0u);
  EXPECT_EQ(c.seq(SequenceKind::kFlowSample).checked, 3u);
  EXPECT_EQ(c.seq(SequenceKind::kFlowSample).gaps, 1u);
  EXPECT_EQ(c.seq(SequenceKind::kFlowSample).missing, 1u);
  EXPECT_EQ(c.seq(SequenceKind::kCounterSample).gaps, 1u);
  EXPECT_EQ(c.seq(SequenceKind::kCounterSample).missing, 1u);
  EXPECT_EQ(c.total_gaps(), 2u);
}

TEST(DumpStatsTest, OneAgentSendingToTwoCollectorsIsTwoStreams) {
  // A capture on a path that carries both: every datagram and sample appears twice, each
  // copy numbered in its receiver's sequence. Neither duplicates nor gaps.
  DumpStats stats;
  const hal::base::Endpoint c1{testing::Ip("192.0.2.100"), 6343};
  const hal::base::Endpoint c2{testing::Ip("2001:db8::100"), 6343};
  for (uint32_t seq = 1; seq <= 5; ++seq) {
    for (const auto* c : {&c1, &c2}) {
      const Bytes d = Datagram("192.0.2.1", 0, seq, 1000 * seq, [&](sf::DatagramBuilder& b) {
        ASSERT_TRUE(b.Add(CounterSampleOn(1, seq)));
      });
      auto decoded = sf::DecodeDatagram(hal::base::ByteView(d.data(), d.size()));
      ASSERT_TRUE(decoded.ok());
      stats.AddDatagram(*decoded, d.size(), *c);
    }
  }
  const Counters& c = stats.total();
  EXPECT_EQ(c.seq(SequenceKind::kDatagram).checked, 8u);
  EXPECT_EQ(c.seq(SequenceKind::kDatagram).duplicates, 0u);
  EXPECT_EQ(c.seq(SequenceKind::kCounterSample).duplicates, 0u);
  EXPECT_EQ(c.total_gaps(), 0u);
  ASSERT_EQ(stats.agents().size(), 2u);
  EXPECT_EQ(stats.agents().begin()->first.ToString(), "192.0.2.1 -> 192.0.2.100:6343");
}

TEST(DumpStatsTest, SameSourceIdOnTwoAgentsIsTwoStreams) {
  DumpStats stats;
  for (uint32_t i = 1; i <= 3; ++i) {
    for (const char* agent : {"192.0.2.1", "192.0.2.2"}) {
      Feed(stats, Datagram(agent, 0, i, 1000, [&](sf::DatagramBuilder& b) {
             ASSERT_TRUE(b.Add(CounterSampleOn(1, i)));
           }));
    }
  }
  EXPECT_EQ(stats.total().seq(SequenceKind::kCounterSample).checked, 4u);
  EXPECT_EQ(stats.total().total_gaps(), 0u);
}

TEST(DumpStatsTest, AgentRestartIsAResetNotAGap) {
  DumpStats stats;
  auto send = [&](uint32_t seq, uint32_t uptime, uint32_t cseq) {
    Feed(stats, Datagram("192.0.2.1", 0, seq, uptime, [&](sf::DatagramBuilder& b) {
           ASSERT_TRUE(b.Add(CounterSampleOn(1, cseq)));
         }));
  };
  send(1, 100000, 1);
  send(2, 130000, 2);
  send(3, 160000, 3);
  // Reboot: uptime and numbering start again. The collector missed the first datagram after
  // it, so the numbers (2) are only a little behind the old ones (3): without the uptime they
  // would look like late arrivals.
  send(2, 40000, 2);
  send(3, 70000, 3);
  const Counters& c = stats.total();
  EXPECT_EQ(c.seq(SequenceKind::kDatagram).resets, 1u);
  EXPECT_EQ(c.seq(SequenceKind::kDatagram).gaps, 0u);
  EXPECT_EQ(c.seq(SequenceKind::kCounterSample).resets, 1u);
  EXPECT_EQ(c.seq(SequenceKind::kCounterSample).late, 0u);
  EXPECT_EQ(c.total_gaps(), 0u);
}

TEST(DumpStatsTest, IntervalCountersStartAgain) {
  DumpStats stats;
  Feed(stats, EmptyDatagram("192.0.2.1", 0, 1));
  Feed(stats, EmptyDatagram("192.0.2.1", 0, 3));
  EXPECT_EQ(stats.interval().datagrams, 2u);
  EXPECT_EQ(stats.interval().total_gaps(), 1u);
  stats.ResetInterval();
  EXPECT_EQ(stats.interval().datagrams, 0u);
  EXPECT_EQ(stats.agents().begin()->second.interval.datagrams, 0u);
  Feed(stats, EmptyDatagram("192.0.2.1", 0, 4));  // continues the numbering: no gap
  EXPECT_EQ(stats.interval().total_gaps(), 0u);
  EXPECT_EQ(stats.total().total_gaps(), 1u);
  EXPECT_EQ(stats.total().datagrams, 3u);
}

TEST(DumpStatsTest, DecodeErrorsAreCountedAndTheFirstKept) {
  DumpStats stats(100, 2);
  hal::base::Endpoint from{testing::Ip("192.0.2.9"), 5555};
  stats.AddDecodeError(from, 10, "first");
  stats.AddDecodeError(from, 11, "second");
  stats.AddDecodeError(from, 12, "third");
  EXPECT_EQ(stats.total().decode_errors, 3u);
  EXPECT_EQ(stats.interval().decode_errors, 3u);
  ASSERT_EQ(stats.first_errors().size(), 2u);
  EXPECT_EQ(stats.first_errors()[1].message, "second");
  EXPECT_EQ(stats.last_error(), "192.0.2.9:5555 (12 bytes): third");
}

TEST(DumpStatsTest, TopTalkersByScaledBytes) {
  DumpStats stats;
  const Bytes a = testing::TcpFrame("10.0.0.1", "10.0.0.2", 443, 50000);
  const Bytes b = testing::TcpFrame("10.0.0.3", "10.0.0.4", 22, 50001);
  const sf::FlowRecord ra[] = {
      sf::SampledHeader{sf::kHeaderEthernet, 1500, 4, hal::base::ByteView(a.data(), a.size())}};
  const sf::FlowRecord rb[] = {
      sf::SampledHeader{sf::kHeaderEthernet, 100, 4, hal::base::ByteView(b.data(), b.size())}};
  sf::SampledIpv4 v4{1000, 17, {10, 9, 9, 9}, {10, 8, 8, 8}, 53, 5353, 0, 0};
  const sf::FlowRecord rc[] = {v4};
  uint32_t seq = 0;
  auto send = [&](const sf::FlowRecord* r, uint32_t rate) {
    ++seq;
    Feed(stats, Datagram("192.0.2.1", 0, seq, 1000, [&](sf::DatagramBuilder& bld) {
           ASSERT_TRUE(bld.Add(FlowSampleOn(1, seq, rate, r, 1)));
         }));
  };
  send(ra, 100);   // 150000 bytes
  send(rb, 1000);  // 100000 bytes
  send(rb, 1000);  // 200000 bytes in all
  send(rc, 10);    // 10000 bytes, from the sampled_ipv4 record
  const std::vector<Talker> top = stats.TopTalkers(10, false);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].key.ToString(), "tcp 10.0.0.3:22 -> 10.0.0.4:50001");
  EXPECT_EQ(top[0].totals.bytes, 200000u);
  EXPECT_EQ(top[0].totals.packets, 2000u);
  EXPECT_EQ(top[0].totals.samples, 2u);
  EXPECT_EQ(top[1].key.ToString(), "tcp 10.0.0.1:443 -> 10.0.0.2:50000");
  EXPECT_EQ(top[1].totals.bytes, 150000u);
  EXPECT_EQ(top[2].key.ToString(), "udp 10.9.9.9:53 -> 10.8.8.8:5353");
  EXPECT_EQ(top[2].totals.bytes, 10000u);
  EXPECT_EQ(stats.TopTalkers(1, false).size(), 1u);
  stats.ResetInterval();
  EXPECT_TRUE(stats.TopTalkers(10, true).empty());
  EXPECT_EQ(stats.TopTalkers(10, false).size(), 3u);
}

TEST(DumpStatsTest, TalkerTableIsBounded) {
  DumpStats stats(/*max_talkers=*/2);
  uint32_t seq = 0;
  for (uint16_t port = 1; port <= 4; ++port) {
    const Bytes h = testing::TcpFrame("10.0.0.1", "10.0.0.2", port, 80);
    const sf::FlowRecord r[] = {
        sf::SampledHeader{sf::kHeaderEthernet, 100, 0, hal::base::ByteView(h.data(), h.size())}};
    ++seq;
    Feed(stats, Datagram("192.0.2.1", 0, seq, 1000, [&](sf::DatagramBuilder& b) {
           ASSERT_TRUE(b.Add(FlowSampleOn(1, seq, 10, r, 1)));
         }));
  }
  EXPECT_EQ(stats.TopTalkers(10, false).size(), 2u);
  EXPECT_EQ(stats.other_talkers(false).samples, 2u);
  EXPECT_EQ(stats.other_talkers(false).bytes, 2000u);
}

TEST(DumpStatsTest, TalkerKeyText) {
  TalkerKey k;
  EXPECT_EQ(k.ToString(), "non-IP");
  k.ip_version = 6;
  k.protocol = 58;
  k.src[15] = 1;
  k.dst[15] = 2;
  EXPECT_EQ(k.ToString(), "icmpv6 ::1 -> ::2");
  k.protocol = 17;
  k.src_port = 53;
  k.dst_port = 1000;
  EXPECT_EQ(k.ToString(), "udp [::1]:53 -> [::2]:1000");
  k.protocol = 99;
  EXPECT_EQ(k.ToString(), "proto 99 ::1 -> ::2");
}

}  // namespace
}  // namespace xflowd::tools::xflowdump
