#include "agent/ovs/ovs_samples.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "hal/base/clock.h"
#include "hal/base/log.h"

namespace xflowd::agent::ovs {
namespace {

// Three datagrams ovs-vswitchd 3.1 sent (userspace datapath, bridge br0, sampling=10,
// header=128) while 300 UDP frames went from p1 (ifindex 4) to p2 (ifindex 5); the first
// sample is h2's ARP reply coming in on p2. Hex, one datagram per line.
std::vector<std::vector<uint8_t>> Datagrams() {
  std::ifstream in(std::string(XFLOWD_TESTDATA_DIR) + "/ovs/ovs_sflow_datagrams.hex");
  std::vector<std::vector<uint8_t>> out;
  for (std::string line; std::getline(in, line);) {
    std::vector<uint8_t> d;
    for (size_t i = 0; i + 1 < line.size(); i += 2) {
      d.push_back(static_cast<uint8_t>(std::stoul(line.substr(i, 2), nullptr, 16)));
    }
    out.push_back(d);
  }
  return out;
}

struct Sink final : hal::PacketSampleSink {
  std::vector<hal::PacketSample> samples;
  std::vector<std::vector<uint8_t>> headers;
  void OnSample(const hal::PacketSample& s) override {
    samples.push_back(s);
    headers.emplace_back(s.header.data(), s.header.data() + s.header.size());
  }
};

class OvsSamplesGoldenTest : public ::testing::Test {
 protected:
  hal::base::ManualClock clock_;
  hal::base::Logger logger_ = hal::base::Logger::Null();
  OvsSampleTranslator t_{clock_, logger_};
  Sink sink_;
};

TEST_F(OvsSamplesGoldenTest, EverySampleGoesToItsInputPortAtOvsRate) {
  t_.SetPorts({3, 4, 5});
  const auto d = Datagrams();
  ASSERT_EQ(d.size(), 3u);
  size_t n = 0;
  for (const auto& dg : d)
    n += t_.HandleDatagram(hal::base::ByteView(dg.data(), dg.size()), 1, sink_);
  EXPECT_EQ(n, 27u);
  ASSERT_EQ(sink_.samples.size(), 27u);
  EXPECT_EQ(sink_.samples[0].input_ifindex, 5u);  // the ARP reply from h2
  EXPECT_EQ(sink_.samples[0].output_ifindex, 4u);
  for (size_t i = 1; i < sink_.samples.size(); ++i) {
    const hal::PacketSample& s = sink_.samples[i];
    EXPECT_EQ(s.input_ifindex, 4u) << i;
    EXPECT_EQ(s.output_ifindex, 5u) << i;
    EXPECT_EQ(s.direction, hal::Direction::kIngress);
    EXPECT_EQ(s.sampling_rate, 10u);
    // Per-bridge numbering: not a port's sequence, so the samplers must not see it.
    EXPECT_FALSE(s.has_source_sequence);
    EXPECT_EQ(s.link_type, hal::LinkType::kEthernet);
    EXPECT_EQ(s.frame_length, 64u);  // 60 bytes + the 4 OVS counts as stripped (FCS)
    EXPECT_EQ(s.stripped, 4u);
    ASSERT_EQ(sink_.headers[i].size(), 60u);
    EXPECT_EQ(sink_.headers[i][12], 0x08);  // IPv4
    EXPECT_EQ(sink_.headers[i][23], 17);    // UDP
  }
  const OvsSampleStats& st = t_.stats();
  EXPECT_EQ(st.datagrams, 3u);
  EXPECT_EQ(st.flow_samples, 27u);
  EXPECT_EQ(st.lost_samples, 0u);
  EXPECT_EQ(st.unmapped_samples, 0u);
  EXPECT_EQ(t_.source_stats().samples, 27u);
}

TEST_F(OvsSamplesGoldenTest, GapsInOvsSequenceAreLossesAndUnknownPortsAreDropped) {
  t_.SetPorts({4});  // p2 (5) is not a port of ours
  const auto d = Datagrams();
  t_.HandleDatagram(hal::base::ByteView(d[0].data(), d[0].size()), 1, sink_);
  t_.HandleDatagram(hal::base::ByteView(d[2].data(), d[2].size()), 1, sink_);  // 9 lost
  EXPECT_EQ(t_.stats().unmapped_samples, 1u);
  EXPECT_EQ(t_.stats().lost_samples, 9u);
  EXPECT_EQ(t_.source_stats().source_drops, 9u);
  EXPECT_EQ(sink_.samples.size(), 17u);
  // Another agent (another bridge, another source port) numbers on its own; a restart
  // (the sequence going back) is not a loss.
  t_.HandleDatagram(hal::base::ByteView(d[1].data(), d[1].size()), 2, sink_);
  t_.HandleDatagram(hal::base::ByteView(d[0].data(), d[0].size()), 2, sink_);
  EXPECT_EQ(t_.stats().lost_samples, 9u);
}

TEST_F(OvsSamplesGoldenTest, TruncatedDatagramsAreCountedNotDecoded) {
  t_.SetPorts({4, 5});
  const auto d = Datagrams();
  for (size_t len : {size_t{0}, size_t{7}, size_t{100}, d[0].size() - 1}) {
    EXPECT_EQ(t_.HandleDatagram(hal::base::ByteView(d[0].data(), len), 1, sink_), 0u);
  }
  EXPECT_EQ(t_.stats().bad_datagrams, 4u);
  EXPECT_EQ(t_.source_stats().parse_errors, 4u);
  EXPECT_TRUE(sink_.samples.empty());
}

}  // namespace
}  // namespace xflowd::agent::ovs
