// The control commands against a Daemon on the simulated switch, in simulated time (a
// ManualClock moved 10 ms per advance), with capture transports as collectors.
#include "agent/control/daemon_commands.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "agent/daemon/report_json.h"
#include "agent/daemon/sim_platform.h"
#include "sim/sim_switch.h"
#include "tests/support/capture_transport.h"

namespace xflowd::agent::control {
namespace {

using hal::base::Endpoint;
using hal::base::ManualClock;
using hal::base::milliseconds;
using hal::base::MonoTime;
using hal::base::Result;
using nlohmann::json;
using xflowd::testing::CaptureTransport;

class DaemonCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.agent.address = *hal::base::IpAddress::Parse("192.0.2.1");
    config_.agent.collectors = {*Endpoint::Parse("127.0.0.1:6343", 6343)};
    config_.ports.sampling_rate = 100;
    config_.ports.polling_interval_s = 1;
    config::FlowCollector fc;
    fc.endpoint = *Endpoint::Parse("127.0.0.1:4739", 4739);
    fc.version = 10;
    config_.flow.collectors = {fc};
    config_.flow.cache_size = 1024;
    sim::SimConfig sc;
    sc.num_ports = 4;
    sc.port_speed_bps = 1'000'000'000ull;
    sc.load = 0.2;
    sc.seed = 5;
    auto sw = sim::SimSwitch::Create(sc, clock_.Now());
    ASSERT_TRUE(sw.ok()) << sw.status().ToString();
    sw_ = std::move(sw.value());
    settings_.loop.tick_period = milliseconds(10);
    settings_.loop.handle_signals = false;
    settings_.make_transport =
        [this](const Endpoint&) -> Result<std::unique_ptr<exporter::Transport>> {
      auto t = std::make_unique<CaptureTransport>();
      sflow_ = t.get();
      return std::unique_ptr<exporter::Transport>(std::move(t));
    };
    settings_.make_flow_transport =
        [this](const config::FlowCollector&) -> Result<std::unique_ptr<exporter::Transport>> {
      auto t = std::make_unique<CaptureTransport>();
      ipfix_ = t.get();
      return std::unique_ptr<exporter::Transport>(std::move(t));
    };
  }

  // Runs `advances` simulated 10 ms steps; `at(n)` is called after step n.
  void Run(int advances, const std::function<void(int)>& at = {}) {
    daemon::Platform platform = daemon::SimPlatform(*sw_);
    platform.description = "simulated switch (test)";
    platform.advance_period = milliseconds(1);
    int n = 0;
    platform.advance = [&, advances](MonoTime) {
      clock_.Advance(milliseconds(10));
      sw_->AdvanceTo(clock_.Now());
      ++n;
      if (at) at(n);
      if (n == advances) daemon_->Stop();
    };
    auto d = daemon::Daemon::Create(config_, platform, clock_, logger_, settings_);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    daemon_ = std::move(d.value());
    commands_ = std::make_unique<DaemonCommands>(*daemon_, config_path_);
    if (before_run_) before_run_();
    ASSERT_TRUE(daemon_->Run().ok());
  }

  config::Config config_;
  daemon::DaemonSettings settings_;
  ManualClock clock_{MonoTime::FromSeconds(100)};
  hal::base::Logger logger_ = hal::base::Logger::Null();
  std::unique_ptr<sim::SimSwitch> sw_;
  std::unique_ptr<daemon::Daemon> daemon_;
  std::unique_ptr<DaemonCommands> commands_;
  std::string config_path_;
  std::function<void()> before_run_;
  CaptureTransport* sflow_ = nullptr;
  CaptureTransport* ipfix_ = nullptr;
};

TEST_F(DaemonCommandsTest, StatusPortsCollectorsFlowsAndStatsDescribeTheRun) {
  config_path_ = "/etc/xflowd/xflowd.toml";
  json status_mid;
  Run(300, [&](int n) {
    if (n == 200) status_mid = commands_->Status();
  });
  EXPECT_EQ(status_mid["mode"], "sim");
  EXPECT_EQ(status_mid["platform"], "simulated switch (test)");
  EXPECT_EQ(status_mid["config_file"], "/etc/xflowd/xflowd.toml");
  EXPECT_TRUE(status_mid["last_reload"].is_null());
  EXPECT_EQ(status_mid["ports"], 4);
  EXPECT_NEAR(status_mid["uptime_s"].get<double>(), 2.0, 0.05);  // 200 steps of 10 ms
  EXPECT_EQ(status_mid["agent_address"], "192.0.2.1");

  const json ports = commands_->Ports();
  ASSERT_EQ(ports.size(), 4u);
  uint64_t samples = 0;
  for (const json& p : ports) {
    EXPECT_EQ(p["requested_rate"], 100);
    EXPECT_EQ(p["rate"], 100);
    EXPECT_EQ(p["direction"], "ingress");  // the default
    EXPECT_TRUE(p["egress"].is_null());
    EXPECT_EQ(p["polling_interval_s"], 1);
    EXPECT_GT(p["counter_samples"].get<uint64_t>(), 0u);
    EXPECT_GT(p["counters"]["in_ucast_pkts"].get<uint64_t>(), 0u);
    EXPECT_EQ(p["name"].get<std::string>().rfind("swp", 0), 0u) << p.dump();
    samples += p["samples"].get<uint64_t>();
  }
  EXPECT_GT(samples, 100u);

  const json collectors = commands_->Collectors();
  ASSERT_EQ(collectors.size(), 2u);
  EXPECT_EQ(collectors[0]["protocol"], "sflow");
  EXPECT_EQ(collectors[0]["datagrams"], sflow_->stats().datagrams_sent);
  EXPECT_EQ(collectors[0]["transport"], "capture");
  EXPECT_EQ(collectors[0]["state"], "up");
  EXPECT_TRUE(collectors[0]["last_error"].is_null());
  EXPECT_EQ(collectors[1]["protocol"], "ipfix");
  EXPECT_EQ(collectors[1]["datagrams"], ipfix_->stats().datagrams_sent);
  EXPECT_GT(collectors[1]["records"].get<uint64_t>(), 0u);

  const json flows = commands_->Flows();
  EXPECT_EQ(flows["enabled"], true);
  EXPECT_EQ(flows["capacity"], 1024);
  EXPECT_EQ(flows["active"], 0);  // the run's end exported everything

  const json stats = commands_->Stats();
  EXPECT_EQ(stats["source"]["samples"], sw_->stats().samples);
  EXPECT_EQ(stats["receivers"][0]["flow_samples"], samples);
  EXPECT_EQ(stats["samplers"]["samples"], samples);
  EXPECT_EQ(stats["pollers"]["count"], 4);
  EXPECT_GT(stats["event_loop"]["ticks"].get<uint64_t>(), 0u);
  EXPECT_GT(stats["flow_meter"]["metered"].get<uint64_t>(), 0u);
  EXPECT_TRUE(stats["control"].is_null());  // no server in this test
}

TEST_F(DaemonCommandsTest, FlushExportsTheCacheNowAsForcedEnds) {
  config_.flow.inactive_timeout_s = 3600;  // nothing would leave on its own
  json flushed;
  json flows_before;
  json flows_after;
  size_t messages_before = 0;
  Run(150, [&](int n) {
    if (n != 100) return;
    flows_before = commands_->Flows();
    messages_before = ipfix_->datagrams().size();
    flushed = commands_->Flush();
    flows_after = commands_->Flows();
  });
  ASSERT_GT(flows_before["active"].get<uint64_t>(), 0u);
  EXPECT_EQ(flows_before["records_by_reason"]["forced"], 0);
  EXPECT_EQ(flushed["enabled"], true);
  EXPECT_GE(flushed["records"].get<uint64_t>(), flows_before["active"].get<uint64_t>());
  EXPECT_EQ(flows_after["active"], 0);
  EXPECT_EQ(flows_after["flushes"], 1);
  EXPECT_EQ(flows_after["records_by_reason"]["forced"], flushed["records"]);
  // Sent at once, not at the next tick.
  EXPECT_GT(ipfix_->datagrams().size(), messages_before);
}

TEST_F(DaemonCommandsTest, RequestsAreDispatchedToTheDaemon) {
  bool fail = true;
  settings_.loader = [&]() -> hal::base::Result<config::Config> {
    if (fail) return hal::base::InvalidArgumentError("/etc/x.toml:3:7: agent.bogus: unknown key");
    return config_;
  };
  config_path_ = "/etc/x.toml";
  Run(300);
  auto run = [&](const char* line) {
    bool ok = false;
    const std::string reply = commands_->HandleLine(line, &ok);
    json j = json::parse(reply);
    EXPECT_EQ(j["ok"], ok) << reply;
    return j;
  };
  EXPECT_EQ(run(R"({"command":"status"})")["result"]["mode"], "sim");
  EXPECT_EQ(run(R"({"command":"nope"})")["error"],
            "unknown command \"nope\" (status, ports, collectors, flows, top, check, reload, "
            "flush, stats, help)");
  EXPECT_EQ(run(R"({"command":"status","args":{"x":1}})")["error"],
            "\"status\" takes no arguments");
  EXPECT_EQ(run("not json")["ok"], false);

  // top and check come from the daemon's top talkers and self-check.
  const json top3 = run(R"({"command":"top","args":{"n":3}})");
  ASSERT_EQ(top3["ok"], true) << top3.dump();
  EXPECT_EQ(top3["result"], daemon::TopTalkersJson(daemon_->top_talkers(), 3, clock_.Now()));
  EXPECT_EQ(run(R"({"command":"top","args":{"n":0}})")["ok"], false);
  EXPECT_EQ(run(R"({"command":"top","args":{"m":3}})")["ok"], false);
  EXPECT_EQ(run(R"({"command":"check"})")["result"],
            daemon::SelfCheckJson(daemon_->self_check().report()));

  // reload goes through the daemon's loader: its error is the reply's, then a good one.
  EXPECT_TRUE(run(R"({"command":"status"})")["result"]["last_reload"].is_null());
  EXPECT_EQ(run(R"({"command":"reload"})")["error"], "/etc/x.toml:3:7: agent.bogus: unknown key");
  EXPECT_EQ(run(R"({"command":"status"})")["result"]["last_reload"]["ok"], false);
  fail = false;
  const json ok = run(R"({"command":"reload"})");
  EXPECT_EQ(ok["result"]["reloaded"], true);
  EXPECT_EQ(ok["result"]["config_file"], "/etc/x.toml");
  EXPECT_EQ(ok["result"]["last_reload"]["ok"], true);
  EXPECT_EQ(ok["result"]["last_reload"]["summary"], "ok: no change");
  EXPECT_EQ(run(R"({"command":"status"})")["result"]["last_reload"]["ok"], true);
}

TEST_F(DaemonCommandsTest, FlushWithoutFlowCollectorsSaysSo) {
  config_.flow.collectors.clear();
  Run(10);
  EXPECT_EQ(commands_->Flush(), json({{"enabled", false}, {"records", 0}}));
  EXPECT_EQ(commands_->Flows(), json({{"enabled", false}}));
  EXPECT_TRUE(commands_->Stats()["flow_meter"].is_null());
}

}  // namespace
}  // namespace xflowd::agent::control
