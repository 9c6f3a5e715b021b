// HostPoller: the host counters of the sFlow Host Structures (sflow_host.txt) as periodic
// counter samples of the physical host, data source entPhysicalEntry 1 (type 2, index 1, as
// hsflowd sends them): processor (0:1001), host_descr (0:2000), host_adapters (0:2001),
// host_cpu (0:2003), host_memory (0:2004), host_disk_io (0:2005), host_net_io (0:2006) and the
// MIB-2 IP, ICMP, TCP and UDP groups (0:2007..2010), read through hal::host::HostReader.
// Polled like a port: a countdown of the interval, its own sequence number. Once a second it
// also reads /proc/stat alone, for the processor record's 5 s, 1 min and 5 min averages.
#pragma once

#include <cstdint>
#include <vector>

#include "agent/sflow/receiver.h"
#include "hal/base/log.h"
#include "hal/base/time.h"
#include "hal/host/host_reader.h"

namespace xflowd::agent::sflow {

struct HostPollerConfig {
  uint32_t interval_s = 20;  // 0 disables
};

struct HostPollerStats {
  uint64_t samples = 0;
  // Host files missing, unreadable or malformed (a sample goes without those records).
  uint64_t read_errors = 0;
  // Adapters left out of host_adapters because the sample would not fit the datagram.
  uint64_t adapters_left_out = 0;
  uint64_t oversize_drops = 0;  // samples the receiver could never send
};

class HostPoller {
 public:
  // entPhysicalEntry index of the host (hsflowd's).
  static constexpr uint32_t kDataSourceType = 2;
  static constexpr uint32_t kDataSourceIndex = 1;

  // `reader` is not owned and must outlive the poller; `receiver` may be null (idle).
  // `first_countdown`: ticks to the first poll, in [1, interval].
  // `logger` (may be null): a file that fails is a warning the first time, debug after.
  HostPoller(const HostPollerConfig& config, Receiver* receiver, hal::host::HostReader& reader,
             uint32_t first_countdown, hal::base::Logger* logger = nullptr);

  // Once a second: the CPU history, then a sample when the countdown reaches zero.
  void Tick(hal::base::MonoTime now);
  // A new interval (the countdown is kept when it fits, as Poller::Reconfigure does).
  void Reconfigure(const HostPollerConfig& config);
  void set_receiver(Receiver* receiver) { receiver_ = receiver; }

  const HostPollerConfig& config() const { return config_; }
  Receiver* receiver() const { return receiver_; }
  uint32_t sequence() const { return sequence_; }
  uint32_t countdown() const { return countdown_; }
  const HostPollerStats& stats() const { return stats_; }
  const hal::host::HostSnapshot& last() const { return snapshot_; }

 private:
  void Poll();
  // Utilisation over the last `seconds` (percent x 100), from the CPU history: the oldest
  // history there is when less is known, the average since boot with one reading, -1 (all
  // ones) with none.
  uint32_t Utilisation(uint32_t seconds) const;

  HostPollerConfig config_;
  Receiver* receiver_;
  hal::host::HostReader& reader_;
  hal::base::Logger* logger_;
  bool warned_ = false;
  uint32_t countdown_;
  uint32_t sequence_ = 0;
  HostPollerStats stats_;
  hal::host::HostSnapshot snapshot_;
  // (busy, total) ms of /proc/stat, one a second, newest at history_[head_ - 1].
  static constexpr size_t kHistory = 301;
  struct CpuPoint {
    uint64_t busy_ms = 0;
    uint64_t total_ms = 0;
  };
  CpuPoint history_[kHistory];
  size_t head_ = 0;
  size_t filled_ = 0;
  // Record storage for the sample being built (the wire records point into it).
  std::vector<wire::HostAdapter> adapters_;
  std::vector<wire::HostMac> macs_;
};

}  // namespace xflowd::agent::sflow
