#include "agent/sflow/agent.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "exporter/sflow/sflow_decoder.h"
#include "hal/base/byte_view.h"
#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "hal/base/prng.h"
#include "hal/base/status.h"
#include "hal/counter_source.h"
#include "hal/packet_sample.h"
#include "hal/port_inventory.h"
#include "hal/sampling_control.h"
#include "tests/agent/sflow/sflow_test_util.h"
#include "tests/support/capture_transport.h"

namespace xflowd::agent::sflow {
namespace {

using hal::Direction;
using hal::PacketSample;
using hal::PortCounters;
using hal::base::ByteView;
using hal::base::IpAddress;
using hal::base::ManualClock;
using hal::base::MonoTime;
using hal::base::Prng;
using testing::AllSamples;
using testing::DecodeAll;
using testing::FlowSamples;
using testing::SequenceOf;
using testing::SourceOf;
using xflowd::testing::CaptureTransport;

// Fakes that write what happened, in order, into one shared event log.
using EventLog = std::vector<std::string>;

class LoggingCounterSource final : public hal::CounterSource {
 public:
  explicit LoggingCounterSource(EventLog* log) : log_(log) {}
  hal::base::Result<PortCounters> ReadCounters(uint32_t ifindex) override {
    if (log_) log_->push_back("read " + std::to_string(ifindex));
    return PortCounters{};
  }

 private:
  EventLog* log_;
};

class LoggingSamplingControl final : public hal::SamplingControl {
 public:
  explicit LoggingSamplingControl(EventLog* log) : log_(log) {}
  hal::base::Result<uint32_t> SetSamplingRate(uint32_t ifindex, Direction, uint32_t rate,
                                              uint32_t) override {
    log_->push_back("set " + std::to_string(ifindex) + " " + std::to_string(rate));
    return rate;
  }

 private:
  EventLog* log_;
};

class LoggingTransport final : public exporter::Transport {
 public:
  explicit LoggingTransport(EventLog* log) : log_(log) {}
  bool Send(ByteView d) override {
    log_->push_back("send " + std::to_string(d.size()));
    return true;
  }
  const exporter::TransportStats& stats() const override { return stats_; }
  std::string Describe() const override { return "log"; }
  void Poll(hal::base::MonoTime) override {}
  exporter::TransportStatus status() const override { return {}; }
  std::string DescribeStats() const override { return ""; }

 private:
  EventLog* log_;
  exporter::TransportStats stats_;
};

const uint8_t kFrame[64] = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x06};  // ARP

PacketSample Sample(uint32_t in, uint32_t out, Direction dir, uint32_t rate = 1, uint32_t seq = 0) {
  PacketSample p;
  p.input_ifindex = in;
  p.output_ifindex = out;
  p.direction = dir;
  p.frame_length = 64;
  p.sampling_rate = rate;
  p.source_sequence = seq;
  p.has_source_sequence = rate > 1;
  p.header = ByteView(kFrame, sizeof(kFrame));
  return p;
}

hal::PortInfo Port(uint32_t ifindex) {
  hal::PortInfo p;
  p.ifindex = ifindex;
  p.name = "eth" + std::to_string(ifindex);
  return p;
}

class AgentTest : public ::testing::Test {
 protected:
  AgentTest() : agent_(Config(), clock_, prng_, logger_) {}
  static AgentConfig Config() {
    AgentConfig c;
    c.agent_address = IpAddress::V4(0xC0000201);
    c.sub_agent_id = 9;
    return c;
  }
  SamplerConfig EveryPacket() {
    SamplerConfig c;
    c.sampling_rate = 1;
    return c;
  }
  // Every sample sent since the last call, of any kind.
  std::vector<wire::DecodedSample> Samples() {
    std::vector<wire::DecodedSample> out = AllSamples(t_);
    t_.Clear();
    return out;
  }

  ManualClock clock_{MonoTime::FromSeconds(5000)};
  Prng prng_{2026};
  hal::base::Logger logger_ = hal::base::Logger::Null();
  CaptureTransport t_;
  LoggingCounterSource counters_{nullptr};
  Agent agent_;
};

TEST_F(AgentTest, RoutesByPortAndDirection) {
  Receiver& r = agent_.AddReceiver(ReceiverConfig{}, {&t_});
  agent_.AddSampler(1, Direction::kIngress, EveryPacket(), r, nullptr);
  agent_.AddSampler(2, Direction::kEgress, EveryPacket(), r, nullptr);

  agent_.OnSample(Sample(1, 2, Direction::kIngress));  // ingress sampler on 1
  agent_.OnSample(Sample(1, 2, Direction::kEgress));   // egress sampler on 2
  agent_.OnSample(Sample(2, 1, Direction::kIngress));  // no ingress sampler on 2
  agent_.OnSample(Sample(2, 1, Direction::kEgress));   // no egress sampler on 1
  agent_.OnSample(Sample(0, 0, Direction::kIngress));  // unknown port

  EXPECT_EQ(agent_.stats().samples_in, 5u);
  EXPECT_EQ(agent_.stats().no_sampler, 3u);
  EXPECT_EQ(agent_.FindSampler(1, Direction::kIngress)->stats().samples, 1u);
  EXPECT_EQ(agent_.FindSampler(2, Direction::kEgress)->stats().samples, 1u);
  EXPECT_EQ(agent_.FindSampler(1, Direction::kEgress), nullptr);

  agent_.Flush();
  const auto samples = FlowSamples(t_);
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0].source.index, 1u);
  EXPECT_EQ(samples[1].source.index, 2u);
  EXPECT_EQ(samples[1].input.value, 1u);
  EXPECT_EQ(samples[1].output.value, 2u);
}

TEST_F(AgentTest, TickRunsSamplersThenPollersThenFlushes) {
  EventLog log;
  LoggingTransport transport(&log);
  LoggingSamplingControl control(&log);
  LoggingCounterSource counters(&log);
  Receiver& r = agent_.AddReceiver(ReceiverConfig{}, {&transport});
  SamplerConfig sc;
  sc.sampling_rate = 64;
  sc.max_samples_per_s = 1;
  agent_.AddSampler(3, Direction::kIngress, sc, r, &control);
  PollerConfig pc;
  pc.interval_s = 1;
  agent_.AddPoller(Port(3), pc, r, counters);

  agent_.OnSample(Sample(3, 0, Direction::kIngress, 64, 1));
  agent_.OnSample(Sample(3, 0, Direction::kIngress, 64, 2));
  EXPECT_TRUE(log.empty());  // nothing is sent from the sample path while there is room
  agent_.Tick(clock_.Now());
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0], "set 3 128");           // sampler backoff
  EXPECT_EQ(log[1], "read 3");              // poller
  EXPECT_EQ(log[2].rfind("send ", 0), 0u);  // then one datagram with all of it
  agent_.Tick(clock_.Now());
  EXPECT_EQ(log.size(), 5u);  // read + send: no backoff, nothing sampled since
}

TEST_F(AgentTest, OneDatagramPerTickWithFlowAndCounterSamples) {
  Receiver& r = agent_.AddReceiver(ReceiverConfig{}, {&t_});
  agent_.AddSampler(4, Direction::kIngress, EveryPacket(), r, nullptr);
  PollerConfig pc;
  pc.interval_s = 1;
  agent_.AddPoller(Port(4), pc, r, counters_);
  for (int i = 0; i < 3; ++i) agent_.OnSample(Sample(4, 0, Direction::kIngress));
  clock_.Advance(hal::base::seconds(1));
  agent_.Tick(clock_.Now());

  const auto datagrams = DecodeAll(t_);
  ASSERT_EQ(datagrams.size(), 1u);
  EXPECT_EQ(datagrams[0].header.sequence, 1u);
  EXPECT_EQ(datagrams[0].header.sub_agent_id, 9u);
  EXPECT_EQ(datagrams[0].header.uptime_ms, 1000u);  // since the agent was built
  const auto& samples = datagrams[0].samples;
  ASSERT_EQ(samples.size(), 4u);
  EXPECT_EQ(wire::SampleTag(samples[0]), wire::kFlowSample);
  EXPECT_EQ(SequenceOf(samples[2]), 3u);
  EXPECT_EQ(wire::SampleTag(samples[3]), wire::kCounterSample);
  EXPECT_EQ(SequenceOf(samples[3]), 1u);
}

TEST_F(AgentTest, PollerFirstSamplesAreSpreadOverTheInterval) {
  Receiver& r = agent_.AddReceiver(ReceiverConfig{}, {&t_});
  constexpr uint32_t kPollers = 48;
  constexpr uint32_t kInterval = 20;
  PollerConfig pc;
  pc.interval_s = kInterval;
  for (uint32_t i = 1; i <= kPollers; ++i) agent_.AddPoller(Port(i), pc, r, counters_);

  const double mean = static_cast<double>(kPollers) / kInterval;
  std::vector<uint32_t> first_round;
  std::vector<uint32_t> seen(kPollers + 1, 0);
  for (uint32_t tick = 1; tick <= 2 * kInterval; ++tick) {
    clock_.Advance(hal::base::seconds(1));
    agent_.Tick(clock_.Now());
    const auto samples = Samples();
    EXPECT_LE(samples.size(), 2 * mean) << "second " << tick;
    if (tick <= kInterval) {
      first_round.push_back(static_cast<uint32_t>(samples.size()));
    } else {
      // Steady state: the same ports poll in the same second of every interval.
      EXPECT_EQ(samples.size(), first_round[tick - kInterval - 1]) << "second " << tick;
    }
    for (const auto& s : samples) ++seen[SourceOf(s).index];
  }
  for (uint32_t i = 1; i <= kPollers; ++i) EXPECT_EQ(seen[i], 2u) << "port " << i;
  for (const auto& p : agent_.pollers()) {
    EXPECT_GE(p->countdown(), 1u);
    EXPECT_LE(p->countdown(), kInterval);
  }
}

TEST_F(AgentTest, RemovePortStopsItsSamplesAndPolls) {
  Receiver& r = agent_.AddReceiver(ReceiverConfig{}, {&t_});
  agent_.AddSampler(5, Direction::kIngress, EveryPacket(), r, nullptr);
  agent_.AddSampler(5, Direction::kEgress, EveryPacket(), r, nullptr);
  agent_.AddSampler(6, Direction::kIngress, EveryPacket(), r, nullptr);
  PollerConfig pc;
  pc.interval_s = 1;
  agent_.AddPoller(Port(5), pc, r, counters_);
  agent_.AddPoller(Port(6), pc, r, counters_);

  agent_.RemovePort(5);
  EXPECT_EQ(agent_.FindSampler(5, Direction::kIngress), nullptr);
  EXPECT_EQ(agent_.FindSampler(5, Direction::kEgress), nullptr);
  EXPECT_EQ(agent_.FindPoller(5), nullptr);
  EXPECT_NE(agent_.FindSampler(6, Direction::kIngress), nullptr);
  EXPECT_NE(agent_.FindPoller(6), nullptr);
  EXPECT_EQ(agent_.samplers().size(), 1u);
  EXPECT_EQ(agent_.pollers().size(), 1u);

  agent_.OnSample(Sample(5, 6, Direction::kIngress));
  agent_.OnSample(Sample(6, 5, Direction::kEgress));
  agent_.OnSample(Sample(6, 5, Direction::kIngress));
  EXPECT_EQ(agent_.stats().no_sampler, 2u);
  agent_.Tick(clock_.Now());
  const auto samples = Samples();
  ASSERT_EQ(samples.size(), 2u);  // port 6's flow sample and its counter sample
  for (const auto& s : samples) EXPECT_EQ(SourceOf(s).index, 6u);
}

TEST_F(AgentTest, AddSamplerAndPollerReplaceTheExistingOnes) {
  Receiver& r = agent_.AddReceiver(ReceiverConfig{}, {&t_});
  Sampler& a = agent_.AddSampler(7, Direction::kIngress, EveryPacket(), r, nullptr);
  agent_.OnSample(Sample(7, 0, Direction::kIngress));
  EXPECT_EQ(a.sequence(), 1u);
  SamplerConfig sc = EveryPacket();
  sc.sampling_rate = 2;
  Sampler& b = agent_.AddSampler(7, Direction::kIngress, sc, r, nullptr);
  EXPECT_EQ(agent_.samplers().size(), 1u);
  EXPECT_EQ(agent_.FindSampler(7, Direction::kIngress), &b);
  EXPECT_EQ(b.sampling_rate(), 2u);
  EXPECT_EQ(b.sequence(), 0u);  // a new data source instance starts over

  PollerConfig pc;
  pc.interval_s = 10;
  agent_.AddPoller(Port(7), pc, r, counters_);
  pc.interval_s = 1;
  Poller& p = agent_.AddPoller(Port(7), pc, r, counters_);
  EXPECT_EQ(agent_.pollers().size(), 1u);
  EXPECT_EQ(agent_.FindPoller(7), &p);
  EXPECT_EQ(p.countdown(), 1u);
}

TEST_F(AgentTest, FlushSendsPendingAndEveryReceiverKeepsItsOwnSequence) {
  CaptureTransport other;
  Receiver& r1 = agent_.AddReceiver(ReceiverConfig{}, {&t_});
  ReceiverConfig second;
  second.name = "second";
  Receiver& r2 = agent_.AddReceiver(second, {&other});
  agent_.AddSampler(1, Direction::kIngress, EveryPacket(), r1, nullptr);
  agent_.AddSampler(2, Direction::kIngress, EveryPacket(), r2, nullptr);
  agent_.OnSample(Sample(1, 0, Direction::kIngress));
  agent_.Flush();
  agent_.OnSample(Sample(1, 0, Direction::kIngress));
  agent_.OnSample(Sample(2, 0, Direction::kIngress));
  agent_.Flush();
  agent_.Flush();  // nothing pending: nothing sent
  EXPECT_EQ(t_.datagrams().size(), 2u);
  ASSERT_EQ(other.datagrams().size(), 1u);
  const std::vector<uint8_t>& bytes = other.datagrams()[0];
  const auto d = wire::DecodeDatagram(ByteView(bytes.data(), bytes.size()));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->header.sequence, 1u);
  EXPECT_EQ(agent_.receivers().size(), 2u);
  EXPECT_EQ(r1.next_sequence(), 3u);
  EXPECT_EQ(r2.next_sequence(), 2u);
}

}  // namespace
}  // namespace xflowd::agent::sflow
