// Host counters (docs/performance.md): the CPU one poll costs on the machine it runs on,
// reading the real /proc and /sys (hal/host ProcFiles). The target (issue 12): under 1 ms of
// CPU per poll. BM_HostRead is the reading and parsing alone; BM_HostPoll the whole sample
// (read, the records, the encoding into a datagram, sent to a null collector); BM_HostCpuTick
// the per-second /proc/stat read behind the processor averages.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "agent/sflow/host_poller.h"
#include "agent/sflow/receiver.h"
#include "hal/base/clock.h"
#include "hal/host/host_reader.h"
#include "hal/host/proc_files.h"
#include "tests/support/null_transport.h"

namespace xflowd {
namespace {

uint32_t ClkTck() { return static_cast<uint32_t>(::sysconf(_SC_CLK_TCK)); }

std::unique_ptr<hal::host::ProcFiles> Files(benchmark::State& state) {
  auto f = hal::host::ProcFiles::Create();
  if (!f.ok()) {
    state.SkipWithError(f.status().message().c_str());
    return nullptr;
  }
  return std::move(f).value();
}

void BM_HostRead(benchmark::State& state) {
  auto files = Files(state);
  if (!files) return;
  hal::host::HostReader reader(*files, ClkTck());
  hal::host::HostSnapshot s;
  for (auto _ : state) {
    reader.Read(&s);
    benchmark::DoNotOptimize(s.cpu.user_ms);
  }
  state.counters["adapters"] = static_cast<double>(s.adapters.size());
  state.counters["file_errors"] = static_cast<double>(reader.stats().file_errors);
}
BENCHMARK(BM_HostRead)->Unit(benchmark::kMicrosecond);

void BM_HostPoll(benchmark::State& state) {
  auto files = Files(state);
  if (!files) return;
  hal::host::HostReader reader(*files, ClkTck());
  hal::base::ManualClock clock;
  testing::NullTransport t;
  agent::sflow::Receiver receiver(agent::sflow::ReceiverConfig{}, hal::base::IpAddress::V4(1), 0,
                                  clock, hal::base::MonoTime(), {&t});
  // Interval 1: every tick reads /proc/stat and polls.
  agent::sflow::HostPoller poller(agent::sflow::HostPollerConfig{1}, &receiver, reader, 1);
  for (auto _ : state) {
    poller.Tick(clock.Now());
    receiver.Flush();
  }
  state.counters["samples"] = static_cast<double>(poller.stats().samples);
  state.counters["bytes_per_poll"] =
      static_cast<double>(t.stats().bytes_sent) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_HostPoll)->Unit(benchmark::kMicrosecond);

void BM_HostCpuTick(benchmark::State& state) {
  auto files = Files(state);
  if (!files) return;
  hal::host::HostReader reader(*files, ClkTck());
  hal::host::CpuStat c;
  for (auto _ : state) {
    benchmark::DoNotOptimize(reader.ReadCpu(&c).ok());
  }
}
BENCHMARK(BM_HostCpuTick)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace xflowd

BENCHMARK_MAIN();
