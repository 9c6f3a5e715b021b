// Reload of a 1,024-port simulated switch (docs/performance.md): how long Daemon::Reload takes
// to apply a new sampling rate on every port (each reprogrammed through SamplingControl, its
// sampler keeping sequence and pool), one port's override, and a reload that changes nothing.
// The target (issue 11): under 100 ms for 1,024 ports.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "agent/config/config.h"
#include "agent/daemon/daemon.h"
#include "agent/daemon/sim_platform.h"
#include "agent/flow/flow_cache.h"
#include "exporter/transport.h"
#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "sim/sim_switch.h"
#include "tests/support/null_transport.h"

namespace xflowd {
namespace {

using hal::base::ByteView;

using testing::NullTransport;

struct Switch {
  hal::base::ManualClock clock{hal::base::MonoTime::FromSeconds(1000)};
  hal::base::Logger logger = hal::base::Logger::Null();
  std::unique_ptr<sim::SimSwitch> sim;
  agent::daemon::Platform platform;
  agent::config::Config config;
  std::unique_ptr<agent::daemon::Daemon> daemon;

  explicit Switch(uint32_t ports) {
    sim::SimConfig sc;
    sc.num_ports = ports;
    sc.load = 0.01;
    sim = std::move(sim::SimSwitch::Create(sc, clock.Now()).value());
    platform = agent::daemon::SimPlatform(*sim);
    config.agent.address = *hal::base::IpAddress::Parse("192.0.2.1");
    config.agent.collectors = {*hal::base::Endpoint::Parse("192.0.2.100:6343", 6343)};
    config.ports.sampling_rate = 4096;
    agent::daemon::DaemonSettings settings;
    settings.loop.handle_signals = false;
    settings.make_transport =
        [](const hal::base::Endpoint&) -> hal::base::Result<std::unique_ptr<exporter::Transport>> {
      return std::unique_ptr<exporter::Transport>(std::make_unique<NullTransport>());
    };
    daemon =
        std::move(agent::daemon::Daemon::Create(config, platform, clock, logger, settings).value());
    // Some traffic first, so samplers have sequence numbers and pools to keep.
    for (int i = 0; i < 3; ++i) {
      clock.Advance(hal::base::seconds(1));
      daemon->Step(clock.Now());
    }
  }
};

void Check(benchmark::State& state, const hal::base::Status& st) {
  if (!st.ok()) state.SkipWithError(st.message().c_str());
}

// Every port to a new rate, alternating between two.
void BM_ReloadRateOnEveryPort(benchmark::State& state) {
  Switch sw(static_cast<uint32_t>(state.range(0)));
  agent::config::Config a = sw.config;
  agent::config::Config b = sw.config;
  b.ports.sampling_rate = 2048;
  bool flip = false;
  for (auto _ : state) {
    flip = !flip;
    Check(state, sw.daemon->Reload(flip ? b : a));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));  // ports reprogrammed
}
BENCHMARK(BM_ReloadRateOnEveryPort)->Arg(1024)->Unit(benchmark::kMillisecond);

// One port's override comes and goes: every port's settings are looked at, one changes.
void BM_ReloadOnePortOverride(benchmark::State& state) {
  Switch sw(static_cast<uint32_t>(state.range(0)));
  agent::config::Config a = sw.config;
  agent::config::Config b = sw.config;
  b.ports.overrides.push_back({"swp17", 512u, std::nullopt, std::nullopt});
  bool flip = false;
  for (auto _ : state) {
    flip = !flip;
    Check(state, sw.daemon->Reload(flip ? b : a));
  }
}
BENCHMARK(BM_ReloadOnePortOverride)->Arg(1024)->Unit(benchmark::kMillisecond);

// The same configuration again (what SIGHUP with an unchanged file does).
void BM_ReloadNoChange(benchmark::State& state) {
  Switch sw(static_cast<uint32_t>(state.range(0)));
  for (auto _ : state) Check(state, sw.daemon->Reload(sw.config));
}
BENCHMARK(BM_ReloadNoChange)->Arg(1024)->Unit(benchmark::kMillisecond);

// New flow timeouts on a full cache: every live flow goes back into the timer wheel at its
// new deadline (FlowCache::SetTimeouts), one walk of the flows.
class NullSink final : public exporter::netflow::FlowRecordSink {
 public:
  void OnFlow(const exporter::netflow::FlowRecord& r) override { benchmark::DoNotOptimize(&r); }
};

void BM_FlowTimeoutsOnFullCache(benchmark::State& state) {
  agent::flow::FlowCacheOptions o;
  o.capacity = static_cast<uint32_t>(state.range(0));
  agent::flow::FlowCache cache(o);
  NullSink sink;
  for (uint32_t i = 0; i < o.capacity; ++i) {
    exporter::netflow::FlowKey k;
    k.ip_version = 4;
    k.protocol = 17;
    k.src_ip[12] = static_cast<uint8_t>(i >> 24);
    k.src_ip[13] = static_cast<uint8_t>(i >> 16);
    k.src_ip[14] = static_cast<uint8_t>(i >> 8);
    k.src_ip[15] = static_cast<uint8_t>(i);
    cache.Add(k, 100, 0, 1000 + i / 64, sink);
  }
  bool flip = false;
  for (auto _ : state) {
    flip = !flip;
    o.inactive_timeout_ms = flip ? 30000 : 15000;
    cache.SetTimeouts(o);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(cache.size()));
}
BENCHMARK(BM_FlowTimeoutsOnFullCache)->Arg(262144)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace xflowd

BENCHMARK_MAIN();
