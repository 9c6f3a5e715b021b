// Top talkers: the key of a sample, scaling by the rate, the recent-interval rates, ranking
// and eviction from a full table.
#include "agent/daemon/top_talkers.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "agent/daemon/report_json.h"
#include "tests/support/frames.h"

namespace xflowd::agent::daemon {
namespace {

using hal::base::MonoTime;
using hal::base::seconds;
using testing::Bytes;

const MonoTime kT0 = MonoTime::FromSeconds(500);

Bytes Udp4(const char* src, const char* dst, uint16_t sport, uint16_t dport) {
  return testing::Ethernet(0x0800, testing::Ipv4Udp(src, dst, sport, dport, Bytes(18, 0)));
}

void Feed(TopTalkers& t, const Bytes& frame, uint32_t frame_length, uint32_t rate, int times = 1) {
  hal::PacketSample s;
  s.input_ifindex = 1;
  s.frame_length = frame_length;
  s.sampling_rate = rate;
  s.has_source_sequence = true;
  s.header = hal::base::ByteView(frame.data(), frame.size());
  for (int i = 0; i < times; ++i) t.OnSample(s);
}

TEST(TopTalkersTest, KeysScalingAndRanking) {
  TopTalkers t(TopTalkersConfig{});
  t.OnTick(kT0);
  const Bytes a = Udp4("10.0.0.1", "10.0.0.2", 1111, 53);
  const Bytes b = Udp4("10.0.0.3", "10.0.0.4", 2222, 443);
  const Bytes v6 = testing::Ethernet(
      0x86DD, testing::Ipv6Udp("2001:db8::1", "2001:db8::2", 5000, 6000, Bytes(10, 0)));
  Feed(t, a, 1000, 100, 10);  // 10 samples x 100 x 1000 bytes = 1,000,000 bytes
  Feed(t, b, 1500, 1000, 2);  // 3,000,000 bytes, 2,000 packets
  Feed(t, v6, 200, 10, 5);    // 10,000 bytes
  const Bytes arp = testing::Ethernet(0x0806, Bytes(28, 0));
  Feed(t, arp, 64, 10, 1);
  t.OnTick(kT0 + seconds(5));

  const auto top = t.Top(10, kT0 + seconds(5));
  ASSERT_EQ(top.size(), 4u);
  EXPECT_EQ(top[0].key.ToString(), "udp 10.0.0.3:2222 -> 10.0.0.4:443");
  EXPECT_DOUBLE_EQ(top[0].bytes_per_s, 3'000'000 / 5.0);
  EXPECT_DOUBLE_EQ(top[0].packets_per_s, 2'000 / 5.0);
  EXPECT_EQ(top[0].samples, 2u);
  EXPECT_EQ(top[1].key.ToString(), "udp 10.0.0.1:1111 -> 10.0.0.2:53");
  EXPECT_DOUBLE_EQ(top[1].bytes_per_s, 1'000'000 / 5.0);
  EXPECT_EQ(top[2].key.ToString(), "udp [2001:db8::1]:5000 -> [2001:db8::2]:6000");
  EXPECT_EQ(top[3].key.ToString(), "non-IP");
  EXPECT_EQ(t.stats().not_ip, 1u);
  EXPECT_EQ(t.stats().samples, 18u);
  EXPECT_EQ(t.Top(2, kT0 + seconds(5)).size(), 2u);

  const nlohmann::json j = TopTalkersJson(top, t.SpanSeconds(kT0 + seconds(5)));
  EXPECT_EQ(j["span_s"], 5.0);
  EXPECT_EQ(j["talkers"][0]["src"], "10.0.0.3");
  EXPECT_EQ(j["talkers"][0]["dst_port"], 443);
  EXPECT_EQ(j["talkers"][0]["protocol"], "udp");
  EXPECT_EQ(j["talkers"][3]["protocol"], "non-IP");
  EXPECT_FALSE(j["talkers"][3].contains("src"));
  const std::string table = TopTalkersTable(top, 5.0);
  EXPECT_NE(table.find("udp 10.0.0.3:2222 -> 10.0.0.4:443"), std::string::npos) << table;
  EXPECT_NE(table.find("4.8 Mb/s"), std::string::npos) << table;  // 600,000 bytes/s
  // The one-call forms the control socket uses.
  EXPECT_EQ(TopTalkersJson(t, 10, kT0 + seconds(5)), j);
  EXPECT_EQ(TopTalkersTable(t, 10, kT0 + seconds(5)), table);
}

// Rates cover the current and the previous interval; older bytes are gone.
TEST(TopTalkersTest, OldIntervalsAgeOut) {
  TopTalkersConfig c;
  c.interval = seconds(10);
  TopTalkers t(c);
  t.OnTick(kT0);
  const Bytes a = Udp4("10.0.0.1", "10.0.0.2", 1, 2);
  const Bytes b = Udp4("10.0.0.5", "10.0.0.6", 3, 4);
  Feed(t, a, 100, 1, 100);  // 10,000 bytes in interval 0
  t.OnTick(kT0 + seconds(12));
  Feed(t, b, 100, 1, 10);  // 1,000 bytes in interval 1
  // At 15 s: interval 1 (5 s of it) and interval 0 (10 s): 15 s of bytes.
  auto top = t.Top(10, kT0 + seconds(15));
  ASSERT_EQ(top.size(), 2u);
  EXPECT_DOUBLE_EQ(t.SpanSeconds(kT0 + seconds(15)), 15.0);
  EXPECT_DOUBLE_EQ(top[0].bytes_per_s, 10'000 / 15.0);
  EXPECT_DOUBLE_EQ(top[1].bytes_per_s, 1'000 / 15.0);
  // At 25 s interval 0 is gone: only b, over 15 s again.
  t.OnTick(kT0 + seconds(25));
  top = t.Top(10, kT0 + seconds(25));
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].key.ToString(), "udp 10.0.0.5:3 -> 10.0.0.6:4");
  // At 31 s nothing recent is left.
  EXPECT_TRUE(t.Top(10, kT0 + seconds(31)).empty());
}

// A full table keeps its heavy talkers: a stream of one-sample flows churns the light ways.
TEST(TopTalkersTest, HeavyTalkersSurviveAFloodOfSmallFlows) {
  TopTalkersConfig c;
  c.capacity = 64;  // 8 buckets of 8
  TopTalkers t(c);
  EXPECT_EQ(t.capacity(), 64u);
  t.OnTick(kT0);
  std::vector<Bytes> heavy;
  for (int i = 0; i < 16; ++i) {
    heavy.push_back(Udp4("10.1.0.1", "10.1.0.2", static_cast<uint16_t>(1000 + i), 80));
  }
  for (int round = 0; round < 20; ++round) {
    for (const Bytes& h : heavy) Feed(t, h, 1500, 100);
    for (int m = 0; m < 200; ++m) {  // 4,000 distinct mice in all, one sample each
      const Bytes mouse = Udp4("10.2.0.1", "10.2.0.2", static_cast<uint16_t>(round * 200 + m),
                               static_cast<uint16_t>(9));
      Feed(t, mouse, 64, 100);
    }
  }
  EXPECT_GT(t.stats().evictions, 3000u);
  const auto top = t.Top(16, kT0 + seconds(1));
  ASSERT_EQ(top.size(), 16u);
  for (const TopTalker& x : top) {
    EXPECT_EQ(x.key.dst_port, 80) << x.key.ToString();
    EXPECT_GE(x.samples, 19u) << x.key.ToString();  // the first round may race the mice
  }
}

// Egress samples are left out: the same packet was (or could be) sampled going in.
TEST(TopTalkersTest, EgressSamplesDoNotCount) {
  TopTalkers t(TopTalkersConfig{});
  t.OnTick(kT0);
  const Bytes a = Udp4("10.0.0.1", "10.0.0.2", 1, 2);
  hal::PacketSample s;
  s.output_ifindex = 2;
  s.direction = hal::Direction::kEgress;
  s.frame_length = 100;
  s.sampling_rate = 10;
  s.has_source_sequence = true;
  s.header = hal::base::ByteView(a.data(), a.size());
  t.OnSample(s);
  EXPECT_EQ(t.stats().not_ingress, 1u);
  EXPECT_EQ(t.stats().counted, 0u);
  EXPECT_TRUE(t.Top(10, kT0 + seconds(1)).empty());
}

// Software input (every packet, rate 1): counted 1 in software_rate and scaled by it.
TEST(TopTalkersTest, SoftwareInputIsSubsampledAndScaled) {
  TopTalkersConfig c;
  c.software_rate = 10;
  TopTalkers t(c);
  t.OnTick(kT0);
  const Bytes a = Udp4("10.0.0.1", "10.0.0.2", 1, 2);
  hal::PacketSample s;
  s.frame_length = 100;
  s.sampling_rate = 1;
  s.header = hal::base::ByteView(a.data(), a.size());
  for (int i = 0; i < 1000; ++i) t.OnSample(s);
  EXPECT_EQ(t.stats().samples, 1000u);
  EXPECT_EQ(t.stats().counted, 100u);
  const auto top = t.Top(1, kT0 + seconds(10));
  ASSERT_EQ(top.size(), 1u);
  EXPECT_DOUBLE_EQ(top[0].packets_per_s, 1000 / 10.0);
  EXPECT_DOUBLE_EQ(top[0].bytes_per_s, 100'000 / 10.0);
}

}  // namespace
}  // namespace xflowd::agent::daemon
