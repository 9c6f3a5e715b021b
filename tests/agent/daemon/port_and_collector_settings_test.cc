// What the config file adds to the daemon: per-port enabled and header bytes, and each
// collector's source address handed to the UDP transport (sFlow and NetFlow alike).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "agent/daemon/daemon.h"
#include "agent/daemon/flow_probe.h"
#include "agent/daemon/sim_platform.h"
#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "sim/sim_switch.h"
#include "tests/support/capture_transport.h"

namespace xflowd::agent::daemon {
namespace {

using hal::base::Endpoint;
using hal::base::IpAddress;
using hal::base::Result;

class PortAndCollectorSettingsTest : public ::testing::Test {
 protected:
  PortAndCollectorSettingsTest() {
    sim::SimConfig sc;
    sc.num_ports = 3;
    auto sw = sim::SimSwitch::Create(sc, clock_.Now());
    EXPECT_TRUE(sw.ok());
    sw_ = std::move(sw.value());
    config_.agent.address = *IpAddress::Parse("192.0.2.10");
    config_.agent.collectors = {*Endpoint::Parse("127.0.0.1:6343", 6343)};
  }

  // A documentation address (RFC 5737) no host has: binding to it fails, which shows the
  // transport was asked to.
  static config::SendOptions UnboundSource() {
    config::SendOptions s;
    s.source_address = *IpAddress::Parse("192.0.2.77");
    return s;
  }

  hal::base::SystemClock clock_;
  hal::base::Logger logger_{[](hal::base::LogLevel, const std::string&) {}};
  std::unique_ptr<sim::SimSwitch> sw_;
  config::Config config_;
};

TEST_F(PortAndCollectorSettingsTest, DisabledPortGetsNoSamplerAndNoPoller) {
  config::PortOverride off;
  off.pattern = "swp2";
  off.enabled = false;
  config::PortOverride small;
  small.pattern = "swp3";
  small.header_bytes = 64;
  config_.ports.overrides = {off, small};
  DaemonSettings settings;
  settings.make_transport = [](const Endpoint&) -> Result<std::unique_ptr<exporter::Transport>> {
    return std::unique_ptr<exporter::Transport>(std::make_unique<testing::CaptureTransport>());
  };
  auto d = Daemon::Create(config_, SimPlatform(*sw_), clock_, logger_, settings);
  ASSERT_TRUE(d.ok()) << d.status().message();
  sflow::Agent& agent = (*d)->agent();
  EXPECT_NE(agent.FindSampler(1, hal::Direction::kIngress), nullptr);
  EXPECT_EQ(agent.FindSampler(2, hal::Direction::kIngress), nullptr);
  EXPECT_EQ(agent.FindPoller(2), nullptr);
  EXPECT_NE(agent.FindSampler(3, hal::Direction::kIngress), nullptr);
  EXPECT_EQ(agent.pollers().size(), 2u);
}

TEST_F(PortAndCollectorSettingsTest, SflowCollectorSourceAddressReachesTheTransport) {
  auto ok = Daemon::Create(config_, SimPlatform(*sw_), clock_, logger_);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  ok.value().reset();
  config_.agent.collectors[0].send = UnboundSource();
  auto d = Daemon::Create(config_, SimPlatform(*sw_), clock_, logger_);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("192.0.2.77"), std::string::npos) << d.status().message();
}

TEST_F(PortAndCollectorSettingsTest, FlowCollectorSourceAddressReachesTheTransport) {
  config::FlowConfig flow;
  config::FlowCollector c;
  c.endpoint = *Endpoint::Parse("127.0.0.1:2055", 2055);
  flow.collectors = {c};
  ASSERT_TRUE(FlowProbe::Create(flow, FlowProbeSettings{}, logger_).ok());
  flow.collectors[0].send = UnboundSource();
  auto p = FlowProbe::Create(flow, FlowProbeSettings{}, logger_);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("192.0.2.77"), std::string::npos) << p.status().message();
}

}  // namespace
}  // namespace xflowd::agent::daemon
