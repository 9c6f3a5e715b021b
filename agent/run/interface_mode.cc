// -i IFACE: the live host probe on the event loop; monotonic time drives the flow timers.
#include <net/if.h>

#include <cstdio>
#include <optional>
#include <vector>

#include "agent/daemon/event_loop.h"
#include "agent/daemon/flow_probe.h"
#include "agent/run/run.h"
#include "hal/pcap/pcap_live_source.h"

namespace xflowd::agent::run {

using hal::base::LogLevel;

namespace {

// Names for the options data: the captured interface, or with -i any (ifindex 0, each
// sample carries its own) every interface there is now.
std::vector<exporter::netflow::InterfaceName> NamesFor(uint32_t ifindex, const std::string& name) {
  if (ifindex != 0) return {{ifindex, name}};
  std::vector<exporter::netflow::InterfaceName> names;
  if (struct if_nameindex* all = if_nameindex()) {
    for (const struct if_nameindex* i = all; i->if_index != 0; ++i)
      names.push_back({i->if_index, i->if_name});
    if_freenameindex(all);
  }
  return names;
}

}  // namespace

bool HavePcap() { return true; }

int RunInterface(const config::Config& config, hal::base::Logger& logger,
                 const ServiceHooks& service) {
  namespace pc = hal::pcap;
  hal::base::SystemClock clock;
  const std::string& name = config.source.interface.name;
  pc::PcapLiveOptions lo;
  lo.interface = name;
  lo.snaplen = config.source.interface.snaplen;
  lo.promiscuous = config.source.interface.promiscuous;
  lo.sampling_rate = config.ports.sampling_rate.value_or(1);
  lo.seed = config.seed;
  for (const auto& c : config.flow.collectors) lo.exclude_collectors.push_back(c.endpoint);
  auto source = pc::PcapLiveSource::Create(lo, clock, logger);
  if (!source.ok()) return Fail(logger, source.status(), "-i " + name);
  daemon::FlowProbeSettings fs;
  const int64_t wall_ms = clock.WallNow().ms();
  fs.unix_offset_ms = wall_ms - clock.Now().ms();
  fs.system_init_unix_ms = static_cast<uint64_t>(wall_ms);
  fs.sampling_rate = lo.sampling_rate;
  fs.clock = &clock;
  auto probe = daemon::FlowProbe::Create(config.flow, fs, logger);
  if (!probe.ok()) return Fail(logger, probe.status());
  (*probe)->SetInterfaceNames(NamesFor((*source)->ifindex(), name));
  auto loop = daemon::EventLoop::Create({}, clock, logger);
  if (!loop.ok()) return Fail(logger, loop.status());
  hal::base::Status st = (*loop)->AddPacketSource(**source, **probe, "-i " + name);
  if (!st.ok()) return Fail(logger, st);
  daemon::FlowProbe& p = **probe;
  pc::PcapLiveSource& src = **source;
  uint32_t named_ifindex = src.ifindex();
  (*loop)->OnTick([&p, &src, &named_ifindex, &name](hal::base::MonoTime now) {
    src.ProcessLinkEvents();
    // A re-created interface comes back with a new ifindex: keep the options data in step.
    if (src.ifindex() != named_ifindex) {
      named_ifindex = src.ifindex();
      p.SetInterfaceNames(NamesFor(named_ifindex, name));
    }
    p.Tick(now);
  });
  // The exit summary; SIGUSR1 logs the same lines while running.
  auto summary = [&p, &src, &name, &logger] {
    const auto ps = src.stats();
    char line[320];
    std::snprintf(line, sizeof(line),
                  "xflowd: captured %llu packets on %s, %llu dropped by the kernel; link down "
                  "%llu times, capture lost %llu times, re-opened %llu times%s\n",
                  static_cast<unsigned long long>(src.packets_read()), name.c_str(),
                  static_cast<unsigned long long>(ps.source_drops),
                  static_cast<unsigned long long>(src.link_downs()),
                  static_cast<unsigned long long>(src.losses()),
                  static_cast<unsigned long long>(src.reopens()),
                  src.capturing() ? "" : " (lost now)");
    return line + p.Summary() + SuppressedNote(logger);
  };
  (*loop)->OnStatus([&summary, &logger] { LogLines(logger, "SIGUSR1: ", summary()); });
  logger.Log(LogLevel::kInfo, "capturing on %s (ifindex %u)%s", name.c_str(), src.ifindex(),
             src.filter().empty() ? "" : ", own export excluded");
  st = Started(config, service, logger, "capturing on " + name);
  if (!st.ok()) return Fail(logger, st);
  std::optional<hal::base::Duration> run_for;
  if (config.duration_s) run_for = hal::base::seconds(*config.duration_s);
  auto reason = (*loop)->Run(run_for);
  while (src.Drain(p, 4096) > 0) {
  }
  p.Finish(clock.Now());
  p.WaitForStreams(hal::base::seconds(2), true);
  if (service.stopping) service.stopping();
  if (!config.log.quiet) PrintSummary(logger, summary());
  if (!reason.ok()) return Fail(logger, reason.status());
  return kExitOk;
}

}  // namespace xflowd::agent::run
