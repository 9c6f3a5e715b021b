#include "agent/sflow/host_poller.h"

#include <cstring>
#include <string_view>

namespace xflowd::agent::sflow {
namespace {

uint32_t MachineType(std::string_view arch) {
  if (arch == "x86_64") return wire::kMachineX86_64;
  if (arch.size() == 4 && arch[0] == 'i' && arch.substr(2) == "86") return wire::kMachineX86;
  if (arch.substr(0, 3) == "arm" || arch == "aarch64") return wire::kMachineArm;
  if (arch.substr(0, 4) == "mips") return wire::kMachineMips;
  if (arch.substr(0, 3) == "ppc" || arch.substr(0, 7) == "powerpc") return wire::kMachinePowerpc;
  if (arch.substr(0, 4) == "s390") return wire::kMachineS390;
  if (arch == "ia64") return wire::kMachineIa64;
  if (arch.substr(0, 5) == "sparc") return wire::kMachineSparc;
  if (arch.substr(0, 5) == "alpha") return wire::kMachineAlpha;
  if (arch == "m68k") return wire::kMachineM68k;
  if (arch.substr(0, 4) == "parisc") return wire::kMachineHppa;
  return arch.empty() ? wire::kMachineUnknown : wire::kMachineOther;
}

hal::base::ByteView Bytes(const std::string& s, size_t max) {
  return hal::base::ByteView(s).Subview(0, max);
}

// The MIB-2 records' fields in order, from the reader's arrays (same order, kSnmp*Names).
#define XFLOWD_HOST_ASSIGN(name) r.name = v[i++];
wire::Mib2Ip Ip(const uint32_t* v) {
  wire::Mib2Ip r;
  size_t i = 0;
  XFLOWD_SFLOW_MIB2_IP(XFLOWD_HOST_ASSIGN)
  return r;
}
wire::Mib2Icmp Icmp(const uint32_t* v) {
  wire::Mib2Icmp r;
  size_t i = 0;
  XFLOWD_SFLOW_MIB2_ICMP(XFLOWD_HOST_ASSIGN)
  return r;
}
wire::Mib2Tcp Tcp(const uint32_t* v) {
  wire::Mib2Tcp r;
  size_t i = 0;
  XFLOWD_SFLOW_MIB2_TCP(XFLOWD_HOST_ASSIGN)
  return r;
}
wire::Mib2Udp Udp(const uint32_t* v) {
  wire::Mib2Udp r;
  size_t i = 0;
  XFLOWD_SFLOW_MIB2_UDP(XFLOWD_HOST_ASSIGN)
  return r;
}
#undef XFLOWD_HOST_ASSIGN

uint32_t U32(uint64_t x) { return static_cast<uint32_t>(x); }  // counters wrap at 2^32

}  // namespace

HostPoller::HostPoller(const HostPollerConfig& config, Receiver* receiver,
                       hal::host::HostReader& reader, uint32_t first_countdown,
                       hal::base::Logger* logger)
    : config_(config), receiver_(receiver), reader_(reader), logger_(logger), countdown_(0) {
  if (config_.interval_s != 0) {
    countdown_ = first_countdown < 1                    ? 1
                 : first_countdown > config_.interval_s ? config_.interval_s
                                                        : first_countdown;
  }
}

void HostPoller::Reconfigure(const HostPollerConfig& config) {
  const uint32_t old = config_.interval_s;
  config_ = config;
  if (config_.interval_s == 0) {
    countdown_ = 0;
  } else if (old == 0 || countdown_ == 0 || countdown_ > config_.interval_s) {
    countdown_ = config_.interval_s;
  }
}

uint32_t HostPoller::Utilisation(uint32_t seconds) const {
  if (filled_ == 0) return wire::kUnknown32;
  const CpuPoint& now = history_[(head_ + kHistory - 1) % kHistory];
  // With one reading (the first poll of a run) the average since boot is all there is.
  CpuPoint then;
  if (filled_ > 1) {
    const size_t back = seconds < filled_ - 1 ? seconds : filled_ - 1;
    then = history_[(head_ + kHistory - 1 - back) % kHistory];
  }
  const uint64_t total = now.total_ms - then.total_ms;
  if (total == 0 || now.busy_ms < then.busy_ms) return wire::kUnknown32;
  const uint64_t pct = (now.busy_ms - then.busy_ms) * 10000 / total;
  return static_cast<uint32_t>(pct > 10000 ? 10000 : pct);
}

void HostPoller::Tick(hal::base::MonoTime /*now*/) {
  if (config_.interval_s == 0) return;
  hal::host::CpuStat cpu;
  if (reader_.ReadCpu(&cpu).ok()) {
    history_[head_] = CpuPoint{cpu.busy_ms(), cpu.total_ms()};
    head_ = (head_ + 1) % kHistory;
    if (filled_ < kHistory) ++filled_;
  }
  if (countdown_ == 0 || receiver_ == nullptr) return;
  if (--countdown_ > 0) return;
  countdown_ = config_.interval_s;
  Poll();
}

void HostPoller::Poll() {
  reader_.Read(&snapshot_);
  const hal::host::HostSnapshot& s = snapshot_;
  stats_.read_errors += s.errors.size();
  if (logger_ != nullptr) {
    for (const std::string& e : s.errors) {
      logger_->Log(warned_ ? hal::base::LogLevel::kDebug : hal::base::LogLevel::kWarning,
                   "host counters: %s; the sample goes without its records", e.c_str());
    }
    if (!s.errors.empty()) warned_ = true;
  }

  wire::CounterRecord records[12];
  uint32_t n = 0;

  if (s.has_mem && s.has_cpu) {
    wire::ProcessorCounters p;
    p.cpu_5s = Utilisation(5);
    p.cpu_1m = Utilisation(60);
    p.cpu_5m = Utilisation(300);
    p.total_memory = s.mem.total;
    p.free_memory = s.mem.free;
    records[n++] = p;
  }

  wire::HostDescr d;
  d.hostname = Bytes(s.hostname, wire::kMaxHostnameBytes);
  if (s.uuid_known) std::memcpy(d.uuid, s.uuid, sizeof d.uuid);
  d.machine_type = MachineType(s.arch);
  d.os_name = wire::kOsLinux;
  d.os_release = Bytes(s.os_release, wire::kMaxOsReleaseBytes);
  records[n++] = d;

  const uint32_t adapters_at = n;
  if (s.has_net) {
    macs_.clear();
    adapters_.clear();
    macs_.reserve(s.adapters.size());
    adapters_.reserve(s.adapters.size());
    for (const hal::host::HostAdapterInfo& a : s.adapters) {
      wire::HostMac m;
      if (a.has_mac) std::memcpy(m.mac, a.mac, 6);
      macs_.push_back(m);
    }
    for (size_t i = 0; i < s.adapters.size(); ++i) {
      wire::HostAdapter a;
      a.if_index = s.adapters[i].ifindex;
      a.macs = wire::Span<wire::HostMac>{&macs_[i], s.adapters[i].has_mac ? 1u : 0u};
      adapters_.push_back(a);
    }
    wire::HostAdapters ha;
    ha.adapters =
        wire::Span<wire::HostAdapter>{adapters_.data(), static_cast<uint32_t>(adapters_.size())};
    records[n++] = ha;
  }

  if (s.has_cpu) {
    wire::HostCpu c;
    c.load_one = s.load.one;
    c.load_five = s.load.five;
    c.load_fifteen = s.load.fifteen;
    c.proc_run = s.load.running;
    c.proc_total = s.load.total;
    c.cpu_num = s.cpu.cpus;
    c.cpu_speed = s.cpu_mhz;
    c.uptime = U32(s.uptime_s);
    c.cpu_user = U32(s.cpu.user_ms);
    c.cpu_nice = U32(s.cpu.nice_ms);
    c.cpu_system = U32(s.cpu.system_ms);
    c.cpu_idle = U32(s.cpu.idle_ms);
    c.cpu_wio = U32(s.cpu.iowait_ms);
    c.cpu_intr = U32(s.cpu.irq_ms);
    c.cpu_sintr = U32(s.cpu.softirq_ms);
    c.interrupts = U32(s.cpu.interrupts);
    c.contexts = U32(s.cpu.contexts);
    records[n++] = c;
  }
  if (s.has_mem) {
    wire::HostMemory m;
    m.mem_total = s.mem.total;
    m.mem_free = s.mem.free;
    m.mem_shared = s.mem.shared;
    m.mem_buffers = s.mem.buffers;
    m.mem_cached = s.mem.cached;
    m.swap_total = s.mem.swap_total;
    m.swap_free = s.mem.swap_free;
    m.page_in = U32(s.vm.page_in);
    m.page_out = U32(s.vm.page_out);
    m.swap_in = U32(s.vm.swap_in);
    m.swap_out = U32(s.vm.swap_out);
    records[n++] = m;
  }
  if (s.has_disk) {
    wire::HostDiskIo k;
    k.disk_total = s.disk_total;
    k.disk_free = s.disk_free;
    k.part_max_used = static_cast<uint32_t>(s.part_max_used);  // -1: unknown
    k.reads = U32(s.disk_reads);
    k.bytes_read = s.disk_bytes_read;
    k.read_time = U32(s.disk_read_ms);
    k.writes = U32(s.disk_writes);
    k.bytes_written = s.disk_bytes_written;
    k.write_time = U32(s.disk_write_ms);
    records[n++] = k;
  }
  if (s.has_net) {
    wire::HostNetIo io;
    io.bytes_in = s.net_bytes_in;
    io.pkts_in = U32(s.net_pkts_in);
    io.errs_in = U32(s.net_errs_in);
    io.drops_in = U32(s.net_drops_in);
    io.bytes_out = s.net_bytes_out;
    io.pkts_out = U32(s.net_pkts_out);
    io.errs_out = U32(s.net_errs_out);
    io.drops_out = U32(s.net_drops_out);
    records[n++] = io;
  }
  if (s.has_mib2) {
    records[n++] = Ip(s.ip);
    records[n++] = Icmp(s.icmp);
    records[n++] = Tcp(s.tcp);
    records[n++] = Udp(s.udp);
  }

  wire::CounterSample cs;
  cs.sequence = sequence_ + 1;
  cs.source = wire::DataSource{kDataSourceType, kDataSourceIndex};
  cs.records = records;
  cs.record_count = n;
  // Many adapters (a switch's ports) can outgrow a datagram: leave the last ones out rather
  // than lose the sample.
  if (s.has_net) {
    auto& ha = std::get<wire::HostAdapters>(records[adapters_at]);
    while (wire::EncodedSize(cs) > receiver_->sample_room() && ha.adapters.count > 0) {
      --ha.adapters.count;
      ++stats_.adapters_left_out;
    }
  }
  if (!receiver_->Add(cs)) {
    ++stats_.oversize_drops;
    return;
  }
  sequence_ = cs.sequence;
  ++stats_.samples;
}

}  // namespace xflowd::agent::sflow
