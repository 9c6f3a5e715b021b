// --sim: the simulated switch.
#include <cerrno>
#include <cstdio>
#include <map>
#include <memory>

#include "agent/daemon/sim_platform.h"
#include "agent/run/run.h"
#include "sim/sim_host_files.h"
#include "sim/sim_switch.h"

namespace xflowd::agent::run {
namespace {

using hal::base::Status;

// One line per port: what the simulated traffic really was, for checking collectors. `f` was
// opened at start (before a user switch could take the right to) and is closed here.
Status WriteSimTruth(sim::SimSwitch& sw, FILE* f, const std::string& path) {
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
  if (std::fclose(f) != 0) return hal::base::ErrnoError("--sim-truth " + path, errno);
  return Status::Ok();
}

}  // namespace

bool HaveSim() { return true; }

int RunSim(const config::Config& config, hal::base::Logger& logger,
           const daemon::ConfigLoader& loader, const ServiceHooks& service) {
  hal::base::SystemClock clock;
  const config::SimConfig& c = config.source.sim;
  sim::SimConfig sim_config;
  sim_config.num_ports = c.ports;
  sim_config.port_speed_bps = c.speed_bps;
  sim_config.load = c.load;
  sim_config.seed = config.seed;
  sim_config.header_bytes = config.ports.header_bytes;
  sim_config.round_rate_pow2 = c.pow2;
  sim_config.sample_loss = c.sample_loss;
  for (const config::SimPortFault& f : c.faults) {
    sim_config.faults.push_back(
        sim::PortFault{f.ifindex, f.hide_fraction, f.drop_fraction, f.rate_factor});
  }
  struct CloseFile {
    void operator()(FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<FILE, CloseFile> truth;
  if (!c.truth_path.empty()) {
    truth.reset(std::fopen(c.truth_path.c_str(), "w"));
    if (truth == nullptr) {
      return Fail(logger, hal::base::ErrnoError("--sim-truth " + c.truth_path, errno));
    }
  }
  auto sim = sim::SimSwitch::Create(sim_config, clock.Now());
  if (!sim.ok()) return Fail(logger, sim.status(), "cannot start the simulated switch");
  sim::SimSwitch& sw = **sim;
  daemon::Platform platform = daemon::SimPlatform(sw);
  // A made-up host's /proc: the demo shows host counters as a Linux switch sends them.
  sim::SimHostFiles host_files(clock, sw, clock.Now());
  platform.host_files = &host_files;
  char description[160];
  std::snprintf(description, sizeof(description), "simulated switch (%u x %s at %g%% load%s)",
                c.ports, config::FormatSpeed(c.speed_bps).c_str(), c.load * 100,
                c.pow2 ? ", power-of-two rates" : "");
  platform.description = description;
  return RunDaemon(config, platform, clock, logger, loader, service, [&]() -> Status {
    return truth == nullptr ? Status::Ok() : WriteSimTruth(sw, truth.release(), c.truth_path);
  });
}

}  // namespace xflowd::agent::run
