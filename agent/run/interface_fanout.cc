// -i IFACE on several cores: AF_PACKET fanout workers read and meter, each into its own flow
// cache partition; the loop thread exports (docs/decisions.md D53, D58).
#include "agent/run/interface_fanout.h"

#include <pcap/pcap.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "agent/run/fanout_meters.h"
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
  FanoutMetersOptions fo;
  fo.ifname = name;
  fo.workers = FanoutWorkers(config.source.interface.threads);
  fo.snaplen = std::min<uint32_t>(config.source.interface.snaplen, 256);
  auto filter = ExclusionProgram(config, fo.snaplen);
  if (!filter.ok()) return Fail(logger, filter.status(), "-i " + name);
  fo.filter = std::move(filter.value());
  auto source = FanoutMeters::Create(fo, clock);
  if (!source.ok()) return Fail(logger, source.status(), "-i " + name);
  FanoutMeters& src = **source;
  FanoutPorts ports(src.ifindex(), name);

  daemon::Platform platform;
  platform.packets = &src;
  platform.flow_meters = &src;  // each worker meters its packets into its own partition (D58)
  platform.counters = &ports;
  platform.ports = &ports;
  platform.description = "-i " + name + " (" + std::to_string(src.workers()) + " workers)";
  platform.flow_only = true;
  platform.flow_sampling_rate = 1;
  // The exit summary and SIGUSR1: totals, then each worker and its cache partition.
  platform.summary = [&src, &name] {
    const hal::PacketSourceStats t = src.stats();
    char line[400];
    std::snprintf(line, sizeof(line),
                  "xflowd: captured %llu packets on %s with %u fanout workers (group %u), %llu "
                  "dropped by the kernel, %llu bad frames; flow cache %s\n",
                  static_cast<unsigned long long>(t.samples), name.c_str(), src.workers(),
                  src.group(), static_cast<unsigned long long>(t.source_drops),
                  static_cast<unsigned long long>(t.parse_errors), src.Describe().c_str());
    std::string s = line;
    for (uint32_t i = 0; i < src.workers(); ++i) {
      const FanoutWorkerCounters w = src.worker(i);
      const flow::FlowPartitionStats& p = w.partition;
      std::snprintf(line, sizeof(line),
                    "xflowd:   worker %u: %llu packets, %llu kernel drops, cache %u flows, %llu "
                    "active, %llu records, %llu ring waits, %llu records lost\n",
                    i, static_cast<unsigned long long>(p.meter.packets),
                    static_cast<unsigned long long>(w.kernel_drops), p.capacity,
                    static_cast<unsigned long long>(p.meter.active_flows),
                    static_cast<unsigned long long>(p.records),
                    static_cast<unsigned long long>(p.ring_waits),
                    static_cast<unsigned long long>(p.ring_lost));
      s += line;
    }
    return s;
  };
  // xflowctl stats: {"fanout": {"workers": N, "cache_flows": ..., "worker0_packets": ...}}.
  platform.stats_section = "fanout";
  platform.stats = [&src] {
    std::vector<std::pair<std::string, uint64_t>> out;
    out.emplace_back("workers", src.workers());
    out.emplace_back("cache_flows", src.capacity());
    for (uint32_t i = 0; i < src.workers(); ++i) {
      const FanoutWorkerCounters w = src.worker(i);
      const flow::FlowPartitionStats& p = w.partition;
      const std::string k = "worker" + std::to_string(i) + "_";
      out.emplace_back(k + "packets", p.meter.packets);
      out.emplace_back(k + "kernel_packets", w.kernel_packets);
      out.emplace_back(k + "kernel_drops", w.kernel_drops);
      out.emplace_back(k + "bad_frames", w.bad_frames);
      out.emplace_back(k + "cache_flows", p.capacity);
      out.emplace_back(k + "active_flows", p.meter.active_flows);
      out.emplace_back(k + "records", p.records);
      out.emplace_back(k + "ring_waits", p.ring_waits);
      out.emplace_back(k + "records_lost", p.ring_lost);
    }
    return out;
  };
  // The flow cache partitions' memory follows in the probe's "flow cache:" line.
  const double ring_mib = static_cast<double>(fo.ring_blocks * flow::FlowRecordRing::kBlockRecords *
                                              sizeof(exporter::netflow::FlowRecord)) /
                          (1024.0 * 1024.0);
  logger.Log(LogLevel::kInfo,
             "capturing on %s (ifindex %u) with %u AF_PACKET fanout workers (group %u), each "
             "metering into its own flow cache partition (per worker: kernel ring %u MiB, "
             "record ring %.1f MiB)%s",
             name.c_str(), src.ifindex(), src.workers(), src.group(),
             (fo.block_size >> 20) * fo.block_count, ring_mib,
             fo.filter.empty() ? "" : ", own export excluded");
  return RunDaemon(config, platform, clock, logger, loader, service);
}

}  // namespace xflowd::agent::run
