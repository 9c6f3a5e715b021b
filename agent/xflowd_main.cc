// xflowd: parses the command line, builds the platform (the simulated switch for now) and the
// daemon, runs it. Exit status: 0 ok, 1 runtime failure, 2 usage error.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>

#include "agent/daemon/daemon.h"
#include "agent/daemon/options.h"
#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "hal/base/status.h"

#ifdef XFLOWD_HAVE_SIM
#include "sim/sim_switch.h"
#endif

namespace {

using xflowd::agent::daemon::Daemon;
using xflowd::agent::daemon::DaemonOptions;
using xflowd::agent::daemon::Platform;
using xflowd::hal::base::Logger;
using xflowd::hal::base::LogLevel;
using xflowd::hal::base::Status;

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

std::string ProgramName(const char* argv0) {
  const char* slash = argv0 ? std::strrchr(argv0, '/') : nullptr;
  return slash ? slash + 1 : (argv0 && *argv0 ? argv0 : "xflowd");
}

int UsageError(const std::string& program, const Status& status) {
  std::fprintf(stderr, "%s: %s\nTry '%s --help' for more information.\n", program.c_str(),
               status.message().c_str(), program.c_str());
  return kExitUsage;
}

#ifdef XFLOWD_HAVE_SIM
// One line per port: what the simulated traffic really was, for checking collectors.
Status WriteSimTruth(xflowd::sim::SimSwitch& sw, const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return xflowd::hal::base::ErrnoError("--sim-truth " + path, errno);
  std::fprintf(f,
               "ifindex,name,in_packets,in_bytes,out_packets,out_bytes,samples_taken,"
               "samples_lost,in_qinq_packets,in_qinq_bytes\n");
  // Double-tagged traffic per input port: some collectors cannot decode it (see
  // docs/interop.md), so checks against them need it apart.
  std::map<uint32_t, std::pair<uint64_t, uint64_t>> qinq;
  for (const auto& flow : sw.flow_truth()) {
    if (flow.vlan_tags < 2) continue;
    qinq[flow.input_ifindex].first += flow.packets;
    qinq[flow.input_ifindex].second += flow.bytes;
  }
  auto ports = sw.ListPorts();
  if (ports.ok()) {
    for (const auto& p : *ports) {
      const auto& t = sw.port_truth(p.ifindex);
      std::fprintf(f, "%u,%s,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu\n", p.ifindex, p.name.c_str(),
                   static_cast<unsigned long long>(t.in_packets),
                   static_cast<unsigned long long>(t.in_bytes),
                   static_cast<unsigned long long>(t.out_packets),
                   static_cast<unsigned long long>(t.out_bytes),
                   static_cast<unsigned long long>(t.samples_taken),
                   static_cast<unsigned long long>(t.samples_lost),
                   static_cast<unsigned long long>(qinq[p.ifindex].first),
                   static_cast<unsigned long long>(qinq[p.ifindex].second));
    }
  }
  if (std::fclose(f) != 0) return xflowd::hal::base::ErrnoError("--sim-truth " + path, errno);
  return Status::Ok();
}
#endif

int Run(const DaemonOptions& options, Logger& logger) {
  xflowd::hal::base::SystemClock clock;
  Platform platform;
#ifdef XFLOWD_HAVE_SIM
  xflowd::sim::SimConfig sim_config;
  sim_config.num_ports = options.sim_ports;
  sim_config.port_speed_bps = options.sim_speed_bps;
  sim_config.load = options.sim_load;
  sim_config.seed = options.seed;
  sim_config.header_bytes = options.header_bytes;
  sim_config.round_rate_pow2 = options.sim_pow2;
  sim_config.sample_loss = options.sim_sample_loss;
  auto sim = xflowd::sim::SimSwitch::Create(sim_config, clock.Now());
  if (!sim.ok()) {
    logger.Log(LogLevel::kError, "cannot start the simulated switch: %s",
               sim.status().message().c_str());
    return kExitFailure;
  }
  xflowd::sim::SimSwitch& sw = **sim;
  platform.packets = &sw;
  platform.sampling = &sw;
  platform.counters = &sw;
  platform.ports = &sw;
  platform.advance = [&sw](xflowd::hal::base::MonoTime now) { sw.AdvanceTo(now); };
  char description[160];
  std::snprintf(description, sizeof(description), "simulated switch (%u x %s at %g%% load%s)",
                options.sim_ports,
                xflowd::agent::daemon::FormatSpeed(options.sim_speed_bps).c_str(),
                options.sim_load * 100, options.sim_pow2 ? ", power-of-two rates" : "");
  platform.description = description;
#else
  logger.Log(LogLevel::kError,
             "this xflowd was built without the simulated switch "
             "(XFLOWD_BUILD_SIM=OFF), and it has no live back-end yet");
  return kExitUsage;
#endif

  auto daemon = Daemon::Create(options, platform, clock, logger);
  if (!daemon.ok()) {
    logger.Log(LogLevel::kError, "%s", daemon.status().message().c_str());
    return kExitFailure;
  }
  auto reason = (*daemon)->Run();
  if (!options.quiet) std::fprintf(stderr, "%s\n", (*daemon)->Summary().c_str());
#ifdef XFLOWD_HAVE_SIM
  if (!options.sim_truth_path.empty()) {
    Status written = WriteSimTruth(sw, options.sim_truth_path);
    if (!written.ok()) {
      logger.Log(LogLevel::kError, "%s", written.message().c_str());
      return kExitFailure;
    }
  }
#endif
  if (!reason.ok()) {
    logger.Log(LogLevel::kError, "%s", reason.status().message().c_str());
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string program = ProgramName(argc > 0 ? argv[0] : nullptr);
  DaemonOptions options;
  Status st = xflowd::agent::daemon::ParseOptions(argc, argv, &options);
  if (!st.ok()) return UsageError(program, st);
  if (options.help) {
    std::fputs(xflowd::agent::daemon::HelpText(program).c_str(), stdout);
    return kExitOk;
  }
  if (options.version) {
    std::printf("%s %s\n", program.c_str(), xflowd::agent::daemon::kVersion);
    return kExitOk;
  }
  st = xflowd::agent::daemon::CheckSupported(options);
  if (!st.ok()) return UsageError(program, st);

  Logger logger;
  logger.set_min_level(options.log_level);
  return Run(options, logger);
}
