// HostReader: reads the host counters (CPU, memory, disks, network, the MIB-2 TCP/IP groups,
// the host's name and adapters) from /proc and /sys through HostFiles, with the parsers of
// host_parsers.h. Plain data out; the agent turns it into sFlow records (agent/sflow).
//
// Where things come from (all Linux files; the same ones psutil and hsflowd read):
//   name, release     /proc/sys/kernel/hostname, /proc/sys/kernel/osrelease
//   uuid              /sys/class/dmi/id/product_uuid (root only: read at start), else
//                     /etc/machine-id
//   machine           /proc/sys/kernel/arch (6.1+), else the build's architecture
//   CPU               /proc/loadavg, /proc/stat, /proc/uptime, /proc/cpuinfo (speed, at start)
//   memory            /proc/meminfo, /proc/vmstat
//   disks             /proc/diskstats: whole devices only (those under /sys/block, as psutil
//                     counts them); space: statvfs of every mount of a device file system
//                     (/proc/mounts, /proc/filesystems), each device once
//   network, adapters /proc/net/dev without "lo"; /sys/class/net/<name>/{ifindex,address}
//   MIB-2             /proc/net/snmp
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hal/base/status.h"
#include "hal/host/host_files.h"
#include "hal/host/host_parsers.h"

namespace xflowd::hal::host {

struct HostAdapterInfo {
  std::string name;
  uint32_t ifindex = 0;
  bool has_mac = false;
  uint8_t mac[6] = {};
};

struct HostSnapshot {
  // Description.
  std::string hostname;
  std::string os_release;
  std::string arch;  // "x86_64", "aarch64", "mips", ...
  bool uuid_known = false;
  uint8_t uuid[16] = {};
  // CPU.
  LoadAvg load;
  CpuStat cpu;
  uint32_t cpu_mhz = 0;
  uint64_t uptime_s = 0;
  // Memory.
  MemInfo mem;
  VmStat vm;
  // Disks: I/O summed over whole devices; space summed over device file systems.
  uint64_t disk_reads = 0, disk_bytes_read = 0, disk_read_ms = 0;
  uint64_t disk_writes = 0, disk_bytes_written = 0, disk_write_ms = 0;
  uint64_t disk_total = 0, disk_free = 0;  // free: what users can write (f_bavail)
  int32_t part_max_used = -1;              // percent x 100 of the fullest file system; -1 none
  // Network, summed over the adapters.
  uint64_t net_bytes_in = 0, net_pkts_in = 0, net_errs_in = 0, net_drops_in = 0;
  uint64_t net_bytes_out = 0, net_pkts_out = 0, net_errs_out = 0, net_drops_out = 0;
  std::vector<HostAdapterInfo> adapters;
  // MIB-2, in the sFlow records' field order (kSnmp*Names).
  bool has_mib2 = false;
  uint32_t ip[19] = {}, icmp[25] = {}, tcp[15] = {}, udp[7] = {};
  // Which parts were read; a part that failed keeps its zeros and says why in `errors`.
  bool has_cpu = false, has_mem = false, has_disk = false, has_net = false;
  std::vector<std::string> errors;
};

struct HostReaderStats {
  uint64_t reads = 0;        // Read() calls
  uint64_t file_errors = 0;  // files missing, unreadable or malformed (one per file and read)
};

class HostReader {
 public:
  // `files` is not owned and must outlive the reader. `clk_tck`: /proc/stat's ticks per
  // second (sysconf(_SC_CLK_TCK), 100 on Linux). Reads what does not change (uuid, CPU
  // speed) now, while the process may still be root.
  HostReader(HostFiles& files, uint32_t clk_tck);

  // Reads everything. Never fails as a whole: a part that cannot be read is left out (its
  // has_* false) with a line in out->errors, and counted.
  void Read(HostSnapshot* out);
  // /proc/stat alone (once a second, for the processor record's 5 s / 1 min / 5 min averages).
  base::Status ReadCpu(CpuStat* out);

  const HostReaderStats& stats() const { return stats_; }

 private:
  // The file's text in buf_ (valid until the next read); an error if missing, unreadable,
  // or larger than the buffer.
  base::Result<std::string_view> ReadFile(const char* path);
  void Error(HostSnapshot* out, const base::Status& st);
  void ReadDescription(HostSnapshot* out);
  void ReadDisks(HostSnapshot* out);
  void ReadNet(HostSnapshot* out);

  HostFiles& files_;
  uint32_t clk_tck_;
  std::unique_ptr<char[]> buf_;
  std::string filesystems_;  // /proc/filesystems, read at start
  std::string static_arch_;
  bool uuid_known_ = false;
  uint8_t uuid_[16] = {};
  uint32_t cpu_mhz_ = 0;
  HostReaderStats stats_;
};

}  // namespace xflowd::hal::host
