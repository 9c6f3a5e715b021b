// --sim: the simulated switch.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <map>
#include <memory>

#include "agent/daemon/sim_platform.h"
#include "agent/run/run.h"
#include "hal/dropmon/dropmon_source.h"
#include "sim/dropmon_emitter.h"
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

// Closes an fd at scope exit.
struct CloseFd {
  int fd;
  ~CloseFd() {
    if (fd >= 0) close(fd);
  }
};

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
  for (const config::SimVlanPort& v : c.vlan_ports) {
    sim_config.vlan_ports.emplace_back(v.ifindex, v.vlan_id);
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
  // The simulator's drops go through a socketpair as NET_DM messages into the real read path.
  CloseFd drop_sender{-1};  // declared first: closed after SimDrops stops writing to it
  std::unique_ptr<sim::SimDrops> drops;
  std::unique_ptr<hal::dropmon::DropmonSource> drop_source;
  if (config.drops.enabled && c.drops_per_s > 0) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
      return Fail(logger, hal::base::ErrnoError("sim drops: socketpair", errno));
    }
    drop_sender.fd = sv[0];
    int bytes = 4 << 20;
    (void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
    (void)setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
    sim::SimDropsConfig dc;
    dc.drops_per_s = c.drops_per_s;
    dc.num_ports = c.ports;
    dc.seed = config.seed;
    dc.truncate_bytes = config.ports.header_bytes;
    dc.mono_to_wall_ns = clock.WallNow().ns() - clock.Now().ns();
    auto source = hal::dropmon::DropmonSource::FromFd(sv[1], dc.family_id, nullptr, clock, logger);
    if (!source.ok()) return Fail(logger, source.status());
    drop_source = std::move(source.value());
    drops = std::make_unique<sim::SimDrops>(dc, sv[0], clock.Now());
    sim::SimDrops* d = drops.get();
    const auto advance = platform.advance;
    platform.advance = [advance, d](hal::base::MonoTime now) {
      advance(now);
      d->AdvanceTo(now);
    };
    const auto start = platform.start;
    platform.start = [start, d](hal::base::MonoTime now) {
      start(now);
      d->SkipTo(now);
    };
    platform.summary = [d] {
      char line[200];
      std::snprintf(line, sizeof(line),
                    "Simulated drops: %llu made, %llu sent to the drop monitor socket, %llu "
                    "lost there (full).\n",
                    static_cast<unsigned long long>(d->stats().drops),
                    static_cast<unsigned long long>(d->stats().sent),
                    static_cast<unsigned long long>(d->stats().send_failures));
      return std::string(line);
    };
    platform.drops = drop_source.get();
  } else if (config.drops.enabled) {
    logger.Log(hal::base::LogLevel::kWarning,
               "drops: the simulated switch drops nothing (set [source.sim] drops-per-s)");
  }
  return RunDaemon(config, platform, clock, logger, loader, service, [&]() -> Status {
    return truth == nullptr ? Status::Ok() : WriteSimTruth(sw, truth.release(), c.truth_path);
  });
}

}  // namespace xflowd::agent::run
