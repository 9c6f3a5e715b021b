// -i IFACE: the live host probe, on the same daemon wiring as --sim and --sample (control
// socket, SIGHUP reload, SIGUSR1); monotonic time drives the flow timers.
#include <net/if.h>

#include <cstdio>
#include <utility>
#include <vector>

#include "agent/run/interface_fanout.h"
#include "agent/run/run.h"
#include "hal/pcap/pcap_live_source.h"

namespace xflowd::agent::run {

using hal::base::LogLevel;

namespace {

// The captured interface as the daemon's ports, which only name it in the flow options data:
// the one interface, or with -i any (ifindex 0, each sample carries its own) every interface
// there is at the start. A re-created interface comes back with a new ifindex: the port is
// removed and added again so the options data follow. No counters: nothing is polled.
class CapturePorts final : public hal::PortInventory, public hal::CounterSource {
 public:
  CapturePorts(hal::pcap::PcapLiveSource& source, std::string name)
      : source_(source), name_(std::move(name)), ports_(PortsFor(source.ifindex())) {}

  hal::base::Result<std::vector<hal::PortInfo>> ListPorts() override { return ports_; }
  void SetListener(Listener listener) override { listener_ = std::move(listener); }
  hal::base::Result<hal::PortCounters> ReadCounters(uint32_t ifindex) override {
    return hal::base::UnimplementedError("-i: no counters for ifindex " + std::to_string(ifindex));
  }

  // Once a second, off the sample path: the capture's link events, then a new ifindex.
  void Advance() {
    source_.ProcessLinkEvents();
    if (source_.ifindex() == ifindex_) return;
    std::vector<hal::PortInfo> next = PortsFor(source_.ifindex());
    if (listener_) {
      for (const hal::PortInfo& p : ports_) listener_(hal::PortEvent::kRemoved, p);
      for (const hal::PortInfo& p : next) listener_(hal::PortEvent::kAdded, p);
    }
    ports_ = std::move(next);
  }

 private:
  std::vector<hal::PortInfo> PortsFor(uint32_t ifindex) {
    ifindex_ = ifindex;
    std::vector<hal::PortInfo> ports;
    auto add = [&ports](uint32_t i, const char* n) {
      hal::PortInfo p;
      p.ifindex = i;
      p.name = n;
      ports.push_back(std::move(p));
    };
    if (ifindex != 0) {
      add(ifindex, name_.c_str());
    } else if (struct if_nameindex* all = if_nameindex()) {
      for (const struct if_nameindex* i = all; i->if_index != 0; ++i) add(i->if_index, i->if_name);
      if_freenameindex(all);
    }
    return ports;
  }

  hal::pcap::PcapLiveSource& source_;
  const std::string name_;
  uint32_t ifindex_ = 0;
  std::vector<hal::PortInfo> ports_;
  Listener listener_;
};

}  // namespace

bool HavePcap() { return true; }

int RunInterface(const config::Config& config, hal::base::Logger& logger,
                 const daemon::ConfigLoader& loader, const ServiceHooks& service) {
  namespace pc = hal::pcap;
  if (FanoutWorkers(config.source.interface.threads) >= 2) {
    return RunInterfaceFanout(config, logger, loader, service);
  }
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
  pc::PcapLiveSource& src = **source;
  CapturePorts ports(src, name);

  daemon::Platform platform;
  platform.packets = &src;
  platform.counters = &ports;
  platform.ports = &ports;
  platform.description = "-i " + name;
  platform.flow_only = true;
  platform.flow_sampling_rate = lo.sampling_rate;
  platform.advance_period = hal::base::seconds(1);
  platform.advance = [&ports](hal::base::MonoTime) { ports.Advance(); };
  // The exit summary and SIGUSR1 start with the capture's counters.
  platform.summary = [&src, &name] {
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
    return std::string(line);
  };
  logger.Log(LogLevel::kInfo, "capturing on %s (ifindex %u)%s", name.c_str(), src.ifindex(),
             src.filter().empty() ? "" : ", own export excluded");
  return RunDaemon(config, platform, clock, logger, loader, service);
}

}  // namespace xflowd::agent::run
