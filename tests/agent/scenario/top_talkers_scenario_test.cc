// Scenario: the top talkers against the simulator's ground truth. 8 x 10G at 20% load,
// 1-in-1000, Zipf flows; the samples go to the agent and the talkers, as the daemon tees them.
// After 15 s (one and a half intervals: the rates cover the whole run), the heaviest talkers
// are the simulator's heaviest flows and their bytes/s x 15 s match the flows' real bytes
// within sampling error.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include "agent/daemon/top_talkers.h"
#include "agent/sflow/agent.h"
#include "exporter/transport.h"
#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "hal/base/prng.h"
#include "sim/sim_switch.h"
#include "tests/support/null_transport.h"

namespace xflowd {
namespace {

using agent::daemon::TalkerKey;
using agent::daemon::TopTalker;
using agent::daemon::TopTalkers;
using agent::daemon::TopTalkersConfig;
using hal::base::milliseconds;
using hal::base::seconds;

using testing::NullTransport;

class Both final : public hal::PacketSampleSink {
 public:
  Both(hal::PacketSampleSink& a, hal::PacketSampleSink& b) : a_(a), b_(b) {}
  void OnSample(const hal::PacketSample& s) override {
    a_.OnSample(s);
    b_.OnSample(s);
  }

 private:
  hal::PacketSampleSink& a_;
  hal::PacketSampleSink& b_;
};

bool Less(const TalkerKey& a, const TalkerKey& b) {
  return std::memcmp(&a, &b, sizeof(TalkerKey)) < 0;
}

TEST(TopTalkersScenarioTest, HeaviestTalkersAreTheHeaviestFlowsScaledRight) {
  hal::base::ManualClock clock(hal::base::MonoTime::FromSeconds(100));
  sim::SimConfig config;
  config.num_ports = 8;
  config.seed = 31;
  auto sim = std::move(sim::SimSwitch::Create(config, clock.Now()).value());
  hal::base::Prng prng(3);
  hal::base::Logger logger = hal::base::Logger::Null();
  NullTransport transport;
  agent::sflow::Agent agent(agent::sflow::AgentConfig{*hal::base::IpAddress::Parse("192.0.2.1"), 0},
                            clock, prng, logger);
  auto& rx = agent.AddReceiver(agent::sflow::ReceiverConfig{}, {&transport});
  for (uint32_t i = 1; i <= config.num_ports; ++i) {
    ASSERT_TRUE(sim->SetSamplingRate(i, hal::Direction::kIngress, 1000, 128).ok());
    agent::sflow::SamplerConfig sc;
    sc.sampling_rate = 1000;
    agent.AddSampler(i, hal::Direction::kIngress, sc, rx, sim.get());
  }
  TopTalkers talkers(TopTalkersConfig{});
  Both both(agent, talkers);
  talkers.OnTick(clock.Now());
  for (int s = 0; s < 15; ++s) {
    for (int step = 0; step < 100; ++step) {
      clock.Advance(milliseconds(10));
      sim->AdvanceTo(clock.Now());
      while (sim->Drain(both, 4096) > 0) {
      }
    }
    agent.Tick(clock.Now());
    talkers.OnTick(clock.Now());
  }
  EXPECT_DOUBLE_EQ(talkers.SpanSeconds(clock.Now()), 15.0);

  // Ground truth by 5-tuple (as the talkers key it), heaviest first.
  std::map<TalkerKey, uint64_t, bool (*)(const TalkerKey&, const TalkerKey&)> truth(Less);
  for (const sim::FlowTruth& f : sim->flow_truth()) {
    TalkerKey k;
    k.ip_version = f.ip_version;
    k.protocol = f.protocol;
    k.src_port = f.src_port;
    k.dst_port = f.dst_port;
    const size_t n = f.ip_version == 6 ? 16 : 4;
    std::memcpy(k.src, f.src_ip, n);
    std::memcpy(k.dst, f.dst_ip, n);
    truth[k] += f.bytes;
  }
  std::vector<uint64_t> heaviest;
  for (const auto& kv : truth) heaviest.push_back(kv.second);
  std::sort(heaviest.rbegin(), heaviest.rend());

  const std::vector<TopTalker> top = talkers.Top(10, clock.Now());
  ASSERT_EQ(top.size(), 10u);
  for (size_t i = 0; i < top.size(); ++i) {
    const TopTalker& t = top[i];
    SCOPED_TRACE("#" + std::to_string(i + 1) + " " + t.key.ToString());
    auto it = truth.find(t.key);
    ASSERT_NE(it, truth.end()) << "a talker the simulator never sent";
    const double real = static_cast<double>(it->second);
    const double estimate = t.bytes_per_s * 15.0;
    ASSERT_GT(t.samples, 200u);
    // Scaled bytes: relative error about 1/sqrt(samples) (frame sizes vary a little more);
    // 5 of those.
    EXPECT_NEAR(estimate, real, 5.0 * real / std::sqrt(static_cast<double>(t.samples)));
    // And it is one of the heaviest flows: within the 20 heaviest in truth.
    EXPECT_GE(real, static_cast<double>(heaviest[19]));
  }
  EXPECT_EQ(talkers.stats().counted, sim->stats().samples);
}

}  // namespace
}  // namespace xflowd
