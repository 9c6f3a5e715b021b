// -i IFACE on several cores: AF_PACKET fanout workers read and copy, the loop thread meters
// and exports (docs/decisions.md D53).
#include "agent/run/interface_fanout.h"

#include <pcap/pcap.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "hal/afpacket/fanout_source.h"
#include "hal/pcap/pcap_live_source.h"

namespace xflowd::agent::run {

using hal::base::LogLevel;

namespace {

// The one captured interface, naming it in the flow options data. No counters.
class FanoutPorts final : public hal::PortInventory, public hal::CounterSource {
 public:
  FanoutPorts(uint32_t ifindex, std::string name) {
    hal::PortInfo p;
    p.ifindex = ifindex;
    p.name = std::move(name);
    ports_.push_back(std::move(p));
  }
  hal::base::Result<std::vector<hal::PortInfo>> ListPorts() override { return ports_; }
  void SetListener(Listener) override {}
  hal::base::Result<hal::PortCounters> ReadCounters(uint32_t ifindex) override {
    return hal::base::UnimplementedError("-i: no counters for ifindex " + std::to_string(ifindex));
  }

 private:
  std::vector<hal::PortInfo> ports_;
};

// The libpcap exclusion filter of the one-thread probe (hal/pcap), compiled for Ethernet, so
// the probe's own export crossing the captured interface is not counted here either.
hal::base::Result<std::vector<sock_filter>> ExclusionProgram(const config::Config& config,
                                                             uint32_t snaplen) {
  std::vector<hal::base::Endpoint> collectors;
  for (const auto& c : config.flow.collectors) collectors.push_back(c.endpoint);
  const std::string f = hal::pcap::ExclusionFilter(collectors);
  std::vector<sock_filter> out;
  if (f.empty()) return out;
  pcap_t* dead = pcap_open_dead(DLT_EN10MB, static_cast<int>(snaplen));
  if (dead == nullptr) return hal::base::InternalError("pcap_open_dead failed");
  struct bpf_program prog;
  if (pcap_compile(dead, &prog, f.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    const std::string err = pcap_geterr(dead);
    pcap_close(dead);
    return hal::base::InvalidArgumentError("cannot compile filter '" + f + "': " + err);
  }
  for (u_int i = 0; i < prog.bf_len; ++i) {
    const bpf_insn& in = prog.bf_insns[i];
    out.push_back(sock_filter{in.code, in.jt, in.jf, in.k});
  }
  pcap_freecode(&prog);
  pcap_close(dead);
  return out;
}

}  // namespace

uint32_t FanoutWorkers(uint32_t threads) {
  if (threads != 0) return threads;
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

int RunInterfaceFanout(const config::Config& config, hal::base::Logger& logger,
                       const daemon::ConfigLoader& loader, const ServiceHooks& service) {
  namespace af = hal::afpacket;
  hal::base::SystemClock clock;
  const std::string& name = config.source.interface.name;
  if (name == "any") {
    return Fail(logger, hal::base::InvalidArgumentError("fanout needs one interface, not any"),
                "-i any with --threads " + std::to_string(config.source.interface.threads));
  }
  if (config.ports.sampling_rate.value_or(1) > 1) {
    return Fail(
        logger,
        hal::base::InvalidArgumentError(
            "fanout workers count every packet: use --threads 1 with --sampling"),
        "-i " + name + " with --threads " + std::to_string(config.source.interface.threads));
  }
  af::FanoutOptions fo;
  fo.ifname = name;
  fo.workers = FanoutWorkers(config.source.interface.threads);
  fo.snaplen = std::min<uint32_t>(config.source.interface.snaplen, af::FanoutSource::kMaxCopy);
  auto filter = ExclusionProgram(config, fo.snaplen);
  if (!filter.ok()) return Fail(logger, filter.status(), "-i " + name);
  fo.filter = std::move(filter.value());
  auto source = af::FanoutSource::Create(fo, clock);
  if (!source.ok()) return Fail(logger, source.status(), "-i " + name);
  af::FanoutSource& src = **source;
  FanoutPorts ports(src.ifindex(), name);

  daemon::Platform platform;
  platform.packets = &src;
  platform.counters = &ports;
  platform.ports = &ports;
  platform.description = "-i " + name + " (" + std::to_string(src.workers()) + " workers)";
  platform.flow_only = true;
  platform.flow_sampling_rate = 1;
  // The exit summary and SIGUSR1: totals, then each worker's ring.
  platform.summary = [&src, &name] {
    const af::FanoutWorkerStats t = src.total();
    char line[320];
    std::snprintf(line, sizeof(line),
                  "xflowd: captured %llu packets on %s with %u fanout workers (group %u), %llu "
                  "dropped by the kernel, %llu bad frames\n",
                  static_cast<unsigned long long>(t.packets), name.c_str(), src.workers(),
                  src.group(), static_cast<unsigned long long>(t.kernel_drops),
                  static_cast<unsigned long long>(t.bad_frames));
    std::string s = line;
    for (uint32_t i = 0; i < src.workers(); ++i) {
      const af::FanoutWorkerStats w = src.worker_stats(i);
      std::snprintf(line, sizeof(line), "xflowd:   worker %u: %llu packets, %llu kernel drops\n", i,
                    static_cast<unsigned long long>(w.packets),
                    static_cast<unsigned long long>(w.kernel_drops));
      s += line;
    }
    return s;
  };
  logger.Log(LogLevel::kInfo,
             "capturing on %s (ifindex %u) with %u AF_PACKET fanout workers (group %u); one "
             "flow cache of %u flows on the export thread%s",
             name.c_str(), src.ifindex(), src.workers(), src.group(),
             static_cast<unsigned>(config.flow.cache_size),
             fo.filter.empty() ? "" : ", own export excluded");
  return RunDaemon(config, platform, clock, logger, loader, service);
}

}  // namespace xflowd::agent::run
