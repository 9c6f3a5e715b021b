// Scenario: the simulated switch drives the real agent for an hour of simulated time, with a
// manual clock (no sleeps). A transport decodes every datagram as it is sent and checks it
// against the simulator: sequence numbers, counters (exactly), poll spread and the accuracy of
// the scaled byte estimates.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <vector>

#include "agent/sflow/agent.h"
#include "exporter/sflow/sflow_decoder.h"
#include "exporter/transport.h"
#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "hal/base/prng.h"
#include "sim/sim_switch.h"
#include "tests/support/test_env.h"

namespace xflowd {
namespace {

namespace wire = exporter::sflow;
using hal::base::ByteView;
using hal::base::ManualClock;
using hal::base::milliseconds;
using hal::base::seconds;

struct PortEstimate {
  uint64_t samples = 0;
  double scaled_bytes = 0;  // sum of rate x frame_length
  double variance = 0;      // sum of (rate x frame_length)^2
  uint32_t last_drops = 0;  // sFlow drops of the latest sample
  uint32_t last_seq = 0;
  std::vector<uint32_t> rates;  // each sampling rate the datagrams gave, in order
};

// Decodes each datagram on arrival and checks it against the simulator.
class CheckingTransport final : public exporter::Transport {
 public:
  CheckingTransport(sim::SimSwitch& sim, const ManualClock& clock) : sim_(sim), clock_(clock) {}

  bool Send(ByteView d) override {
    ++stats_.datagrams_sent;
    stats_.bytes_sent += d.size();
    max_datagram_ = std::max(max_datagram_, d.size());
    auto dg = wire::DecodeDatagram(d);
    if (!dg.ok()) {
      ADD_FAILURE() << dg.status().ToString();
      return true;
    }
    if (dg->header.sequence != last_datagram_seq_ + 1) ++datagram_gaps;
    last_datagram_seq_ = dg->header.sequence;
    int64_t second = clock_.Now().seconds_count();
    for (const auto& s : dg->samples) {
      if (auto* f = std::get_if<wire::DecodedFlowSample>(&s)) OnFlow(*f);
      if (auto* c = std::get_if<wire::DecodedCounterSample>(&s)) OnCounter(*c, second);
    }
    return true;
  }
  const exporter::TransportStats& stats() const override { return stats_; }
  std::string Describe() const override { return "checking"; }
  void Poll(hal::base::MonoTime) override {}
  exporter::TransportStatus status() const override { return {}; }
  std::string DescribeStats() const override { return ""; }

  uint64_t datagram_gaps = 0;
  uint64_t flow_seq_gaps = 0;
  uint64_t counter_seq_gaps = 0;
  uint64_t counter_samples = 0;
  uint64_t counter_mismatches = 0;
  std::map<uint32_t, PortEstimate> ports;
  std::map<uint32_t, PortEstimate> egress_ports;  // samples whose output is the data source
  uint64_t egress_without_output = 0;             // egress samples must name the port as output
  std::map<int64_t, uint32_t> counter_samples_per_second;
  size_t max_datagram_ = 0;

 private:
  void OnFlow(const wire::DecodedFlowSample& f) {
    // Both directions share the ifIndex data source; the sim never sends a frame back out of
    // the port it came in on, so the output interface tells egress samples apart.
    const bool egress = f.output.value == f.source.index && f.input.value != f.source.index;
    if (egress && f.output.format != 0) ++egress_without_output;
    PortEstimate& p = egress ? egress_ports[f.source.index] : ports[f.source.index];
    if (p.samples > 0 && f.sequence != p.last_seq + 1) ++flow_seq_gaps;
    p.last_seq = f.sequence;
    p.last_drops = f.drops;
    if (p.rates.empty() || p.rates.back() != f.sampling_rate) p.rates.push_back(f.sampling_rate);
    ++p.samples;
    for (const auto& r : f.records) {
      if (auto* h = std::get_if<wire::DecodedSampledHeader>(&r)) {
        double x = static_cast<double>(f.sampling_rate) * h->frame_length;
        p.scaled_bytes += x;
        p.variance += x * x;
      }
    }
  }

  void OnCounter(const wire::DecodedCounterSample& c, int64_t second) {
    ++counter_samples;
    ++counter_samples_per_second[second];
    uint32_t& last = counter_seq_[c.source.index];
    if (c.sequence != last + 1) ++counter_seq_gaps;
    last = c.sequence;
    auto truth = sim_.ReadCounters(c.source.index);
    ASSERT_TRUE(truth.ok());
    for (const auto& r : c.records) {
      auto* g = std::get_if<wire::GenericInterfaceCounters>(&r);
      if (g == nullptr) continue;
      bool same = g->in_octets == truth->in_octets && g->out_octets == truth->out_octets &&
                  g->in_ucast_pkts == static_cast<uint32_t>(truth->in_ucast_pkts) &&
                  g->in_multicast_pkts == static_cast<uint32_t>(truth->in_multicast_pkts) &&
                  g->in_broadcast_pkts == static_cast<uint32_t>(truth->in_broadcast_pkts) &&
                  g->out_ucast_pkts == static_cast<uint32_t>(truth->out_ucast_pkts) &&
                  g->out_multicast_pkts == static_cast<uint32_t>(truth->out_multicast_pkts) &&
                  g->out_broadcast_pkts == static_cast<uint32_t>(truth->out_broadcast_pkts) &&
                  g->if_index == c.source.index;
      if (!same) ++counter_mismatches;
    }
  }

  sim::SimSwitch& sim_;
  const ManualClock& clock_;
  exporter::TransportStats stats_;
  uint32_t last_datagram_seq_ = 0;
  std::map<uint32_t, uint32_t> counter_seq_;
};

struct Rig {
  ManualClock clock;
  hal::base::Prng prng{7};
  hal::base::Logger logger = hal::base::Logger::Null();
  std::unique_ptr<sim::SimSwitch> sim;
  std::unique_ptr<CheckingTransport> transport;
  std::unique_ptr<agent::sflow::Agent> agent;

  Rig(const sim::SimConfig& config, uint32_t rate, uint32_t polling_s, uint32_t budget = 0,
      bool egress_too = false) {
    sim = std::move(sim::SimSwitch::Create(config, clock.Now()).value());
    transport = std::make_unique<CheckingTransport>(*sim, clock);
    agent = std::make_unique<agent::sflow::Agent>(
        agent::sflow::AgentConfig{*hal::base::IpAddress::Parse("192.0.2.1"), 0}, clock, prng,
        logger);
    auto& rx = agent->AddReceiver(agent::sflow::ReceiverConfig{}, {transport.get()});
    auto listed = sim->ListPorts();
    std::vector<hal::PortInfo> ports = listed.ok() ? *listed : std::vector<hal::PortInfo>{};
    for (const auto& port : ports) {
      auto applied = sim->SetSamplingRate(port.ifindex, hal::Direction::kIngress, rate, 128);
      agent::sflow::SamplerConfig sc;
      sc.sampling_rate = applied.value();
      sc.max_samples_per_s = budget;
      agent->AddSampler(port.ifindex, hal::Direction::kIngress, sc, rx, sim.get());
      if (egress_too) {
        auto out = sim->SetSamplingRate(port.ifindex, hal::Direction::kEgress, rate, 128);
        sc.sampling_rate = out.value();
        agent->AddSampler(port.ifindex, hal::Direction::kEgress, sc, rx, sim.get());
      }
      agent::sflow::PollerConfig pc;
      pc.interval_s = polling_s;
      agent->AddPoller(port, pc, rx, *sim);
    }
  }

  // Runs for `duration_s` simulated seconds: traffic every 100 ms, the agent tick every second.
  void Run(int duration_s) {
    for (int s = 0; s < duration_s; ++s) {
      for (int step = 0; step < 10; ++step) {
        clock.Advance(milliseconds(100));
        sim->AdvanceTo(clock.Now());
        while (sim->Drain(*agent, 4096) > 0) {
        }
      }
      agent->Tick(clock.Now());
    }
    agent->Flush();
  }
};

TEST(SflowScenarioTest, OneHourOf48PortsMatchesTheSimulator) {
  sim::SimConfig config;  // 48 x 10G, 20% load
  config.seed = 11;
  // 1-in-100,000 keeps the hour at ~1.7M samples so the decoding checker stays quick.
  Rig rig(config, 100000, 20);
  // Under qemu-user ten simulated minutes (tests/test_env.h); natively the full hour.
  const int duration_s = xflowd::testing::ScenarioSeconds(3600, 600);
  rig.Run(duration_s);
  CheckingTransport& t = *rig.transport;

  EXPECT_EQ(t.datagram_gaps, 0u);
  EXPECT_EQ(t.flow_seq_gaps, 0u);
  EXPECT_EQ(t.counter_seq_gaps, 0u);
  EXPECT_LE(t.max_datagram_, 1400u);

  // Counters: every poll of every port, each equal to the simulator's counters exactly.
  EXPECT_EQ(t.counter_samples, 48u * duration_s / 20);
  EXPECT_EQ(t.counter_mismatches, 0u);

  // Polls spread over the interval: no second has more than twice the mean.
  double mean = static_cast<double>(t.counter_samples) / duration_s;
  uint32_t busiest = 0;
  for (const auto& kv : t.counter_samples_per_second) busiest = std::max(busiest, kv.second);
  EXPECT_LE(busiest, 2 * mean) << "mean " << mean;

  // Scaled bytes per port against ground truth. The bound uses the sample-based variance
  // sum (rate x size)^2, which over-estimates uniform-skip sampling's variance.
  int ports_checked = 0, inside95 = 0;
  for (const auto& kv : t.ports) {
    const PortEstimate& p = kv.second;
    ASSERT_EQ(p.last_drops, 0u);
    if (p.samples < 100) continue;
    ++ports_checked;
    double truth = static_cast<double>(rig.sim->port_truth(kv.first).in_bytes);
    double z = (p.scaled_bytes - truth) / std::sqrt(p.variance);
    if (std::fabs(z) <= 1.96) ++inside95;
    EXPECT_LE(std::fabs(z), 3.29) << "port " << kv.first << " samples " << p.samples;
  }
  EXPECT_EQ(ports_checked, 48);
  EXPECT_GE(inside95, 0.9 * ports_checked);
}

// Egress samplers beside the ingress ones on every port: each direction its own sequence and
// pool, and the scaled bytes of each direction within the 95% interval of that direction's
// ground truth (out_bytes for egress).
TEST(SflowScenarioTest, BothDirectionsEachMatchTheSimulator) {
  sim::SimConfig config;
  config.num_ports = 16;
  config.seed = 21;
  Rig rig(config, 20000, 20, 0, /*egress_too=*/true);
  rig.Run(xflowd::testing::ScenarioSeconds(600, 300));
  CheckingTransport& t = *rig.transport;
  EXPECT_EQ(t.datagram_gaps, 0u);
  EXPECT_EQ(t.flow_seq_gaps, 0u);  // per port and direction
  EXPECT_EQ(t.egress_without_output, 0u);
  ASSERT_EQ(t.ports.size(), 16u);
  ASSERT_EQ(t.egress_ports.size(), 16u);
  for (bool egress : {false, true}) {
    int checked = 0, inside95 = 0;
    for (const auto& kv : egress ? t.egress_ports : t.ports) {
      const PortEstimate& p = kv.second;
      ASSERT_EQ(p.last_drops, 0u);
      ASSERT_GE(p.samples, 100u) << "port " << kv.first << (egress ? " egress" : " ingress");
      ++checked;
      const sim::PortTruth& truth = rig.sim->port_truth(kv.first);
      const double bytes = static_cast<double>(egress ? truth.out_bytes : truth.in_bytes);
      const double z = (p.scaled_bytes - bytes) / std::sqrt(p.variance);
      if (std::fabs(z) <= 1.96) ++inside95;
      EXPECT_LE(std::fabs(z), 3.29) << "port " << kv.first << (egress ? " egress" : " ingress");
      // Each sampler's pool counts its own direction's packets.
      const agent::sflow::Sampler* s = rig.agent->FindSampler(
          kv.first, egress ? hal::Direction::kEgress : hal::Direction::kIngress);
      ASSERT_NE(s, nullptr);
      const double packets = static_cast<double>(egress ? truth.out_packets : truth.in_packets);
      // rate x samples: within 4 standard errors (1/sqrt(samples)) of the truth.
      EXPECT_NEAR(static_cast<double>(s->sample_pool()), packets,
                  4.0 * packets / std::sqrt(static_cast<double>(p.samples)));
      EXPECT_EQ(s->stats().samples, p.samples);
    }
    EXPECT_GE(inside95, 0.8 * checked) << (egress ? "egress" : "ingress");
  }
}

TEST(SflowScenarioTest, AsicSampleLossShowsAsDropsInSamples) {
  sim::SimConfig config;
  config.num_ports = 8;
  config.sample_loss = 0.02;
  config.seed = 5;
  Rig rig(config, 10000, 30);
  rig.Run(xflowd::testing::ScenarioSeconds(600, 300));
  for (const auto& kv : rig.transport->ports) {
    const auto& truth = rig.sim->port_truth(kv.first);
    ASSERT_GT(truth.samples_lost, 10u) << "port " << kv.first;
    // Losses after the last delivered sample cannot be seen yet: at most a few.
    EXPECT_LE(kv.second.last_drops, truth.samples_lost);
    EXPECT_GE(kv.second.last_drops + 5, truth.samples_lost);
    EXPECT_EQ(kv.second.samples, truth.samples_taken - truth.samples_lost);
  }
  EXPECT_EQ(rig.transport->flow_seq_gaps, 0u);  // the agent's own sequence never skips
}

// The same at 1-in-1: the ASIC numbers every sample, so its losses are drops and the pool
// counts every packet, as at any other rate.
TEST(SflowScenarioTest, AsicSampleLossAtOneInOneShowsAsDrops) {
  sim::SimConfig config;
  config.num_ports = 4;
  config.port_speed_bps = 1'000'000'000ull;
  config.load = 0.002;  // ~500 packets/s per port, every one sampled
  config.sample_loss = 0.02;
  config.seed = 9;
  Rig rig(config, 1, 0);
  rig.Run(xflowd::testing::ScenarioSeconds(60, 30));
  ASSERT_EQ(rig.transport->ports.size(), 4u);
  for (const auto& kv : rig.transport->ports) {
    const auto& truth = rig.sim->port_truth(kv.first);
    ASSERT_GT(truth.samples_lost, 10u) << "port " << kv.first;
    EXPECT_LE(kv.second.last_drops, truth.samples_lost);
    EXPECT_GE(kv.second.last_drops + 5, truth.samples_lost);
    EXPECT_EQ(kv.second.samples, truth.samples_taken - truth.samples_lost);
    const agent::sflow::Sampler* s = rig.agent->FindSampler(kv.first, hal::Direction::kIngress);
    ASSERT_NE(s, nullptr);
    // The pool is every packet up to the last delivered sample: a few short at most.
    EXPECT_LE(s->sample_pool(), truth.in_packets);
    EXPECT_GE(s->sample_pool() + 5, truth.in_packets);
  }
  EXPECT_EQ(rig.transport->flow_seq_gaps, 0u);
}

// Export budget both ways: a burst pushes every port's rate up (doubling per busy second);
// once the load drops back, the rate steps back down to the configured one (halving after 10
// calm seconds) and stays there. The datagrams give every rate on the way, the hardware is
// reprogrammed each time, and the scaled estimates stay true across the changes.
TEST(SflowScenarioTest, ExportBudgetBacksOffInABurstAndRecoversAfterIt) {
  sim::SimConfig config;
  config.num_ports = 8;
  config.port_speed_bps = 1'000'000'000ull;
  config.load = 0.02;     // ~5 samples/s per port at 1-in-1000
  config.burstiness = 0;  // the burst is ours
  config.seed = 21;
  Rig rig(config, 1000, 0, 20);  // at most 20 samples/s per port
  rig.Run(5);
  for (const auto& s : rig.agent->samplers()) EXPECT_EQ(s->sampling_rate(), 1000u);
  ASSERT_TRUE(rig.sim->SetLoad(0.5).ok());  // ~125 samples/s at 1-in-1000
  rig.Run(30);
  for (const auto& s : rig.agent->samplers()) {
    EXPECT_GE(s->sampling_rate(), 8000u) << "port " << s->ifindex();
    EXPECT_EQ(s->stats().recoveries, 0u);
  }
  ASSERT_TRUE(rig.sim->SetLoad(0.02).ok());
  rig.Run(150);

  int ports = 0;
  for (const auto& s : rig.agent->samplers()) {
    ++ports;
    EXPECT_EQ(s->sampling_rate(), 1000u) << "port " << s->ifindex();
    EXPECT_GE(s->stats().backoffs, 3u);
    EXPECT_EQ(s->stats().recoveries, s->stats().backoffs);
    EXPECT_EQ(s->stats().control_errors, 0u);
  }
  EXPECT_EQ(ports, 8);
  ASSERT_EQ(rig.transport->ports.size(), 8u);
  for (const auto& kv : rig.transport->ports) {
    const PortEstimate& p = kv.second;
    // 1000, doubling up to the peak, then halving back to 1000: each step in the datagrams.
    ASSERT_GE(p.rates.size(), 7u) << "port " << kv.first;
    EXPECT_EQ(p.rates.front(), 1000u);
    EXPECT_EQ(p.rates.back(), 1000u);
    size_t peak = 0;
    for (size_t i = 1; i < p.rates.size(); ++i) {
      if (p.rates[i] > p.rates[peak]) peak = i;
    }
    EXPECT_GE(p.rates[peak], 8000u);
    for (size_t i = 1; i < p.rates.size(); ++i) {
      const uint32_t want = i <= peak ? p.rates[i - 1] * 2 : p.rates[i - 1] / 2;
      EXPECT_EQ(p.rates[i], want) << "port " << kv.first << " step " << i;
    }
    EXPECT_EQ(p.last_drops, 0u);
    // The estimate follows the rate each sample carries, so it stays within sampling error.
    const double truth = static_cast<double>(rig.sim->port_truth(kv.first).in_bytes);
    const double z = (p.scaled_bytes - truth) / std::sqrt(p.variance);
    EXPECT_LE(std::fabs(z), 3.29) << "port " << kv.first;
  }
  EXPECT_EQ(rig.transport->flow_seq_gaps, 0u);
  EXPECT_EQ(rig.transport->datagram_gaps, 0u);
}

}  // namespace
}  // namespace xflowd
