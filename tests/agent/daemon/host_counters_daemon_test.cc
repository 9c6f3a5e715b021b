// The daemon with host counters on the simulated switch and its made-up host
// (sim/sim_host_files.h), as `xflowd --sim` wires them: samples of entPhysicalEntry 1 at the
// ports' interval or their own, off by host.enabled, and a reload that turns them off and on.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/daemon/daemon.h"
#include "agent/daemon/sim_platform.h"
#include "exporter/sflow/sflow_decoder.h"
#include "sim/sim_host_files.h"
#include "sim/sim_switch.h"
#include "tests/support/capture_transport.h"

namespace xflowd::agent::daemon {
namespace {

using hal::base::Endpoint;
using hal::base::IpAddress;
using hal::base::ManualClock;
using hal::base::MonoTime;
using hal::base::Result;
using hal::base::seconds;
using xflowd::testing::CaptureTransport;
namespace wire = ::xflowd::exporter::sflow;

class HostCountersDaemonTest : public ::testing::Test {
 protected:
  HostCountersDaemonTest() {
    sim::SimConfig sc;
    sc.num_ports = 4;
    sc.seed = 3;
    sim_ = std::move(sim::SimSwitch::Create(sc, clock_.Now()).value());
    host_ = std::make_unique<sim::SimHostFiles>(clock_, *sim_, clock_.Now());
    config_.agent.address = *IpAddress::Parse("192.0.2.1");
    config_.agent.collectors = {*Endpoint::Parse("192.0.2.100:6343", 6343)};
    config_.ports.polling_interval_s = 5;
    config_.host.enabled = true;
    settings_.loop.handle_signals = false;
    settings_.make_transport =
        [this](const Endpoint&) -> Result<std::unique_ptr<exporter::Transport>> {
      auto t = std::make_unique<CaptureTransport>();
      capture_ = t.get();
      return std::unique_ptr<exporter::Transport>(std::move(t));
    };
  }

  void Start() {
    platform_ = SimPlatform(*sim_);
    platform_.host_files = host_.get();
    auto d = Daemon::Create(config_, platform_, clock_, logger_, settings_);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    daemon_ = std::move(d.value());
  }
  void Run(int s) {
    for (int i = 0; i < s; ++i) {
      clock_.Advance(seconds(1));
      daemon_->Step(clock_.Now());
    }
  }
  // The host samples (2:1) sent so far, with their record counts.
  std::vector<wire::DecodedCounterSample> HostSamples() {
    std::vector<wire::DecodedCounterSample> out;
    for (const auto& bytes : capture_->datagrams()) {
      auto d = wire::DecodeDatagram(hal::base::ByteView(bytes.data(), bytes.size()));
      EXPECT_TRUE(d.ok()) << d.status().ToString();
      if (!d.ok()) continue;
      for (const auto& s : d->samples) {
        const auto* cs = std::get_if<wire::DecodedCounterSample>(&s);
        if (cs != nullptr && cs->source.type == 2 && cs->source.index == 1) out.push_back(*cs);
      }
    }
    return out;
  }

  ManualClock clock_{MonoTime::FromSeconds(1000)};
  hal::base::Logger logger_ = hal::base::Logger::Null();
  std::unique_ptr<sim::SimSwitch> sim_;
  std::unique_ptr<sim::SimHostFiles> host_;
  Platform platform_;
  config::Config config_;
  DaemonSettings settings_;
  CaptureTransport* capture_ = nullptr;
  std::unique_ptr<Daemon> daemon_;
};

TEST_F(HostCountersDaemonTest, EveryPortsIntervalByDefault) {
  Start();
  Run(20);
  const auto samples = HostSamples();
  ASSERT_EQ(samples.size(), 4u);  // every 5 s
  for (size_t i = 0; i < samples.size(); ++i) {
    EXPECT_EQ(samples[i].sequence, i + 1);
    EXPECT_EQ(samples[i].records.size(), 11u);  // the made-up host has every file
  }
  ASSERT_NE(daemon_->agent().host_poller(), nullptr);
  EXPECT_EQ(daemon_->agent().host_poller()->stats().read_errors, 0u);
  // The made-up host's network totals are the switch ports' counters.
  const auto* net = std::get_if<wire::HostNetIo>(&samples[3].records[6]);
  ASSERT_NE(net, nullptr);
  EXPECT_GT(net->bytes_in, 0u);
  const auto* a = std::get_if<wire::DecodedHostAdapters>(&samples[3].records[2]);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->adapters.size(), 4u);
  EXPECT_NE(daemon_->Summary().find("Host counters: 4 samples every 5 s"), std::string::npos)
      << daemon_->Summary();
}

TEST_F(HostCountersDaemonTest, OwnIntervalOffAndReload) {
  config_.host.polling_interval_s = 2;
  Start();
  Run(10);
  EXPECT_EQ(HostSamples().size(), 5u);

  config::Config off = config_;
  off.host.enabled = false;
  ASSERT_TRUE(daemon_->Reload(off).ok());
  EXPECT_EQ(daemon_->agent().host_poller(), nullptr);
  Run(10);
  EXPECT_EQ(HostSamples().size(), 5u);

  ASSERT_TRUE(daemon_->Reload(config_).ok());
  Run(10);
  const auto samples = HostSamples();
  EXPECT_GE(samples.size(), 9u);  // the first poll of the new poller is spread over 2 s
  EXPECT_EQ(samples.back().sequence, samples.size() - 5);  // a new poller numbers from 1
}

TEST_F(HostCountersDaemonTest, DisabledFromTheStart) {
  config_.host.enabled = false;
  Start();
  Run(12);
  EXPECT_TRUE(HostSamples().empty());
  EXPECT_EQ(daemon_->agent().host_poller(), nullptr);
}

}  // namespace
}  // namespace xflowd::agent::daemon
