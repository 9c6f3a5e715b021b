// Scenario: the self-check against a simulated switch that lies. 8 ports x 10G at 20% load,
// 1-in-1000 (~500 samples/s per port), 10 s windows (~5,000 samples: +-2.8%), a manual clock
// and fixed seeds. Port 3 hides 10% of its samples, port 5 samples at 1.25 x the rate it
// announces, port 7 loses 5% of its samples with sequence gaps (hardware drops). The check
// must flag exactly those three, each for its own reason, and nothing in an honest run.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <set>
#include <vector>

#include "agent/daemon/report_json.h"
#include "agent/daemon/self_check.h"
#include "agent/sflow/agent.h"
#include "exporter/transport.h"
#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "hal/base/prng.h"
#include "sim/sim_switch.h"
#include "tests/support/null_transport.h"

namespace xflowd {
namespace {

using agent::daemon::PortCheck;
using agent::daemon::SelfCheck;
using agent::daemon::SelfCheckConfig;
using agent::daemon::SelfCheckVerdict;
using hal::base::ManualClock;
using hal::base::milliseconds;
using hal::base::seconds;

using testing::NullTransport;

struct Rig {
  ManualClock clock{hal::base::MonoTime::FromSeconds(100)};
  hal::base::Prng prng{11};
  hal::base::Logger logger = hal::base::Logger::Null();
  std::unique_ptr<sim::SimSwitch> sim;
  NullTransport transport;
  std::unique_ptr<agent::sflow::Agent> agent;
  std::unique_ptr<SelfCheck> check;

  explicit Rig(const sim::SimConfig& config, uint32_t budget = 0) {
    sim = std::move(sim::SimSwitch::Create(config, clock.Now()).value());
    agent = std::make_unique<agent::sflow::Agent>(
        agent::sflow::AgentConfig{*hal::base::IpAddress::Parse("192.0.2.1"), 0}, clock, prng,
        logger);
    auto& rx = agent->AddReceiver(agent::sflow::ReceiverConfig{}, {&transport});
    auto listed = sim->ListPorts();
    std::vector<hal::PortInfo> ports = listed.ok() ? *listed : std::vector<hal::PortInfo>{};
    for (const auto& port : ports) {
      auto applied = sim->SetSamplingRate(port.ifindex, hal::Direction::kIngress, 1000, 128);
      agent::sflow::SamplerConfig sc;
      sc.sampling_rate = applied.value();
      sc.max_samples_per_s = budget;
      agent->AddSampler(port.ifindex, hal::Direction::kIngress, sc, rx, sim.get());
      agent::sflow::PollerConfig pc;
      pc.interval_s = 20;
      agent->AddPoller(port, pc, rx, *sim);
    }
    SelfCheckConfig cc;
    cc.window = seconds(10);
    check = std::make_unique<SelfCheck>(cc, *agent, *sim);
    check->OnTick(clock.Now());  // as the daemon's first tick: the first window starts
  }

  // Traffic every 100 ms, the agent's tick and then the check's every second.
  void Run(int seconds_to_run) {
    for (int s = 0; s < seconds_to_run; ++s) {
      for (int step = 0; step < 10; ++step) {
        clock.Advance(milliseconds(100));
        sim->AdvanceTo(clock.Now());
        while (sim->Drain(*agent, 4096) > 0) {
        }
      }
      agent->Tick(clock.Now());
      check->OnTick(clock.Now());
    }
  }

  std::set<uint32_t> Flagged() const {
    std::set<uint32_t> out;
    for (const PortCheck& c : check->report().ports) {
      if (c.flagged) out.insert(c.ifindex);
    }
    return out;
  }
  const PortCheck& Port(uint32_t ifindex) const {
    for (const PortCheck& c : check->report().ports) {
      if (c.ifindex == ifindex) return c;
    }
    static const PortCheck kNone;
    ADD_FAILURE() << "no check for ifindex " << ifindex;
    return kNone;
  }
};

sim::SimConfig EightPorts() {
  sim::SimConfig c;
  c.num_ports = 8;
  c.seed = 29;
  return c;
}

TEST(SelfCheckScenarioTest, HonestSwitchIsInsideEveryWindowAndNothingIsFlagged) {
  Rig rig(EightPorts());
  rig.Run(40);
  const auto& report = rig.check->report();
  EXPECT_EQ(report.windows, 4u);
  ASSERT_EQ(report.ports.size(), 8u);
  EXPECT_EQ(report.flagged, 0u);
  for (const PortCheck& c : report.ports) {
    SCOPED_TRACE("ifindex " + std::to_string(c.ifindex));
    EXPECT_EQ(c.windows, 4u);
    EXPECT_EQ(c.judgement.verdict, SelfCheckVerdict::kInside);
    EXPECT_GT(c.last.samples, 1000u);  // ~5,000, bursty
    EXPECT_EQ(c.last.drops, 0u);
    // The interval is the one sampling theory gives for the samples expected.
    EXPECT_NEAR(c.judgement.interval, 1.96 / std::sqrt(c.judgement.expected_samples), 1e-12);
    EXPECT_NEAR(c.judgement.expected_samples, static_cast<double>(c.last.samples),
                5 * std::sqrt(static_cast<double>(c.last.samples)));
    EXPECT_EQ(c.name, "swp" + std::to_string(c.ifindex));
  }
  EXPECT_TRUE(rig.Flagged().empty());
}

TEST(SelfCheckScenarioTest, LyingPortsAndHardwareDropsAreFlaggedAndNoOther) {
  sim::SimConfig config = EightPorts();
  config.faults = {sim::PortFault{3, 0.10, 0, 1.0}, sim::PortFault{5, 0, 0, 1.25},
                   sim::PortFault{7, 0, 0.05, 1.0}};
  Rig rig(config);

  // One window: the liars are outside but not flagged yet (two in a row are needed); the
  // drops are a fact and flag at once.
  rig.Run(10);
  EXPECT_EQ(rig.check->report().windows, 1u);
  EXPECT_EQ(rig.Port(3).judgement.verdict, SelfCheckVerdict::kOutside);
  EXPECT_EQ(rig.Port(5).judgement.verdict, SelfCheckVerdict::kOutside);
  EXPECT_EQ(rig.Flagged(), (std::set<uint32_t>{7}));

  rig.Run(30);
  EXPECT_EQ(rig.check->report().windows, 4u);
  EXPECT_EQ(rig.Flagged(), (std::set<uint32_t>{3, 5, 7}));
  EXPECT_EQ(rig.check->report().flagged, 3u);

  const PortCheck& hidden = rig.Port(3);
  EXPECT_EQ(hidden.judgement.verdict, SelfCheckVerdict::kOutside);
  EXPECT_EQ(hidden.outside_in_a_row, 4u);
  EXPECT_NEAR(hidden.judgement.relative_difference, -0.10, 0.03);
  EXPECT_EQ(hidden.last.drops, 0u) << "hidden losses leave no gap";
  EXPECT_NE(hidden.reason.find("windows in a row"), std::string::npos) << hidden.reason;

  const PortCheck& wrong_rate = rig.Port(5);
  EXPECT_EQ(wrong_rate.judgement.verdict, SelfCheckVerdict::kOutside);
  EXPECT_NEAR(wrong_rate.judgement.relative_difference, 1 / 1.25 - 1, 0.03);
  EXPECT_EQ(wrong_rate.sampling_rate, 1000u) << "it announces the rate it was asked for";

  // Drops: (samples + drops) x rate still matches the counter; the flag is for the loss.
  const PortCheck& drops = rig.Port(7);
  EXPECT_EQ(drops.judgement.verdict, SelfCheckVerdict::kInside);
  EXPECT_GT(drops.last.drops, 100u);
  EXPECT_EQ(drops.last.source_drops, drops.last.drops);
  EXPECT_NE(drops.reason.find("samples lost"), std::string::npos) << drops.reason;

  for (uint32_t honest : {1u, 2u, 4u, 6u, 8u}) {
    EXPECT_EQ(rig.Port(honest).judgement.verdict, SelfCheckVerdict::kInside) << honest;
  }

  // The views the control socket serves.
  const nlohmann::json j = agent::daemon::SelfCheckJson(rig.check->report());
  EXPECT_EQ(j["flagged"], 3);
  EXPECT_EQ(j["window_s"], 10.0);
  ASSERT_EQ(j["ports"].size(), 8u);
  EXPECT_EQ(j["ports"][2]["ifindex"], 3);
  EXPECT_EQ(j["ports"][2]["verdict"], "outside");
  EXPECT_EQ(j["ports"][2]["flagged"], true);
  EXPECT_EQ(j["ports"][0]["flagged"], false);
  const std::string table = agent::daemon::SelfCheckTable(rig.check->report());
  EXPECT_NE(table.find("3 of 8 data sources flagged"), std::string::npos) << table;
  EXPECT_NE(table.find("swp5"), std::string::npos) << table;
}

// A port that loses every sample must not pass as idle: the interval is built on the samples
// the counter says there should be.
TEST(SelfCheckScenarioTest, PortThatLosesEverySampleIsOutsideNotTooFew) {
  sim::SimConfig config = EightPorts();
  config.faults = {sim::PortFault{2, 1.0, 0, 1.0}};
  Rig rig(config);
  rig.Run(20);
  EXPECT_EQ(rig.Port(2).last.samples, 0u);
  EXPECT_EQ(rig.Port(2).judgement.verdict, SelfCheckVerdict::kOutside);
  EXPECT_EQ(rig.Flagged(), (std::set<uint32_t>{2}));
}

// The export budget doubles the rate in the first seconds (1-in-1000 -> 1-in-4000 for a budget
// of 200 samples/s): each second's samples are weighed by the rate of that second, so an honest
// port stays inside although its rate changed inside the window.
TEST(SelfCheckScenarioTest, RateChangesOfTheExportBudgetAreNotALie) {
  Rig rig(EightPorts(), 200);
  rig.Run(10);  // the first window holds the backoff
  ASSERT_EQ(rig.check->report().windows, 1u);
  for (const PortCheck& c : rig.check->report().ports) {
    EXPECT_EQ(c.judgement.verdict, SelfCheckVerdict::kInside) << c.ifindex;
  }
  rig.Run(20);
  for (const PortCheck& c : rig.check->report().ports) {
    SCOPED_TRACE("ifindex " + std::to_string(c.ifindex));
    EXPECT_GE(c.sampling_rate, 4000u) << "the budget backed off";
    EXPECT_EQ(c.judgement.verdict, SelfCheckVerdict::kInside);
    EXPECT_EQ(c.outside_in_a_row, 0u);
  }
  EXPECT_TRUE(rig.Flagged().empty());
}

// An idle switch gives no verdict: too few samples for the interval to mean anything.
TEST(SelfCheckScenarioTest, IdlePortsHaveTooFewSamples) {
  sim::SimConfig config = EightPorts();
  config.load = 0.0001;  // ~0.25 samples/s per port
  Rig rig(config);
  rig.Run(20);
  for (const PortCheck& c : rig.check->report().ports) {
    EXPECT_EQ(c.judgement.verdict, SelfCheckVerdict::kTooFewSamples) << c.ifindex;
  }
  EXPECT_TRUE(rig.Flagged().empty());
}

}  // namespace
}  // namespace xflowd
