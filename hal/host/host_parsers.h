// Pure parsers of the /proc and /sys files the host counters come from (one function per file,
// no I/O; golden-tested on a real machine's files in tests/testdata/host and fuzzed). Each
// takes the file's text and fills a plain struct; a file whose layout is not what the kernel
// writes is an INVALID_ARGUMENT naming the file and what is wrong. Fields a kernel does not
// provide stay 0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "hal/base/status.h"

namespace xflowd::hal::host {

// /proc/loadavg: "0.20 0.18 0.12 1/80 11206".
struct LoadAvg {
  float one = 0, five = 0, fifteen = 0;
  uint32_t running = 0;  // runnable threads
  uint32_t total = 0;    // threads
};
base::Status ParseLoadAvg(std::string_view text, LoadAvg* out);

// /proc/stat: the aggregate "cpu" line (in ms, from ticks of 1/clk_tck s), the number of
// "cpuN" lines, the total of "intr" and "ctxt".
struct CpuStat {
  uint64_t user_ms = 0, nice_ms = 0, system_ms = 0, idle_ms = 0, iowait_ms = 0, irq_ms = 0,
           softirq_ms = 0, steal_ms = 0;
  uint32_t cpus = 0;
  uint64_t interrupts = 0;
  uint64_t contexts = 0;
  // Time not idle (idle and iowait are idle), and all time, for utilisation averages.
  uint64_t busy_ms() const { return total_ms() - idle_ms - iowait_ms; }
  uint64_t total_ms() const {
    return user_ms + nice_ms + system_ms + idle_ms + iowait_ms + irq_ms + softirq_ms + steal_ms;
  }
};
base::Status ParseStat(std::string_view text, uint32_t clk_tck, CpuStat* out);

// /proc/meminfo, bytes.
struct MemInfo {
  uint64_t total = 0, free = 0, shared = 0, buffers = 0, cached = 0, swap_total = 0, swap_free = 0;
};
base::Status ParseMemInfo(std::string_view text, MemInfo* out);

// /proc/vmstat: pages paged in/out (pgpgin/pgpgout are in KiB, as the kernel counts them)
// and swapped in/out.
struct VmStat {
  uint64_t page_in = 0, page_out = 0, swap_in = 0, swap_out = 0;
};
base::Status ParseVmStat(std::string_view text, VmStat* out);

// /proc/uptime: seconds since boot.
base::Status ParseUptime(std::string_view text, uint64_t* seconds);

// /proc/cpuinfo: the first "cpu MHz" (x86) or "BogoMIPS"-less architectures give 0.
uint32_t ParseCpuMhz(std::string_view text);

// One line of /proc/diskstats, as the callback sees it (sectors are 512 bytes whatever the
// device's own sector size, as the kernel documents).
struct DiskLine {
  std::string_view name;
  uint64_t reads = 0, sectors_read = 0, read_ms = 0;
  uint64_t writes = 0, sectors_written = 0, write_ms = 0;
};
// Calls visit(line) for every device line; INVALID_ARGUMENT on a malformed line.
template <typename Visit>
base::Status ParseDiskStats(std::string_view text, Visit&& visit);

// One interface of /proc/net/dev.
struct NetDevLine {
  std::string_view name;
  uint64_t rx_bytes = 0, rx_packets = 0, rx_errs = 0, rx_drop = 0;
  uint64_t tx_bytes = 0, tx_packets = 0, tx_errs = 0, tx_drop = 0;
};
template <typename Visit>
base::Status ParseNetDev(std::string_view text, Visit&& visit);

// One line of /proc/mounts: device, mount point (octal escapes such as \040 undone into
// `mount_point_buf`), file system type.
struct MountLine {
  std::string_view device;
  std::string_view mount_point;
  std::string_view fs_type;
};
template <typename Visit>
base::Status ParseMounts(std::string_view text, Visit&& visit);

// /proc/filesystems: whether `fs_type` is listed without "nodev" (backed by a device).
bool IsDeviceFs(std::string_view filesystems, std::string_view fs_type);

// /proc/net/snmp: the values of one group ("Ip", "Icmp", "Tcp", "Udp") named in `names`, in
// that order, into out[0..count). A name the kernel does not list leaves its value 0.
// Negative values (Tcp MaxConn -1) are kept as their 32-bit two's complement.
base::Status ParseSnmpGroup(std::string_view text, std::string_view group, const char* const* names,
                            size_t count, uint32_t* out);

// The kernel's names for the sFlow MIB-2 records' fields, in the records' order.
extern const char* const kSnmpIpNames[19];
extern const char* const kSnmpIcmpNames[25];
extern const char* const kSnmpTcpNames[15];
extern const char* const kSnmpUdpNames[7];

// "aa:bb:cc:dd:ee:ff" (/sys/class/net/X/address) into 6 bytes; false if it is not one.
bool ParseMac(std::string_view text, uint8_t (&mac)[6]);
// A UUID in text ("4c4c4544-0033-...", /sys/class/dmi/id/product_uuid) or 32 hex digits
// (/etc/machine-id) into 16 bytes; false if it is neither.
bool ParseUuid(std::string_view text, uint8_t (&uuid)[16]);
// A decimal number alone on its line ("/sys/class/net/X/ifindex"); false otherwise.
bool ParseDecimal(std::string_view text, uint64_t* value);
// The text without its trailing newline (and other trailing white space).
std::string_view TrimLine(std::string_view text);

// ---- the templates' helpers ----
namespace detail {
// Splits text into lines; calls f(line) for each, without the '\n'.
template <typename F>
void ForEachLine(std::string_view text, F&& f) {
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    f(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}
// Up to `max` fields split by spaces and tabs; the count found.
size_t SplitFields(std::string_view line, std::string_view* fields, size_t max);
// A decimal u64; false if the field is not one (or overflows).
bool ToU64(std::string_view s, uint64_t* v);
}  // namespace detail

template <typename Visit>
base::Status ParseDiskStats(std::string_view text, Visit&& visit) {
  base::Status st;
  size_t line_no = 0;
  detail::ForEachLine(text, [&](std::string_view line) {
    ++line_no;
    if (!st.ok()) return;
    std::string_view f[20];
    const size_t n = detail::SplitFields(line, f, 20);
    if (n == 0) return;
    // major minor name reads merged sectors ms writes merged sectors ms ...
    DiskLine d;
    uint64_t skip;
    if (n < 14 || !detail::ToU64(f[0], &skip) || !detail::ToU64(f[1], &skip) ||
        !detail::ToU64(f[3], &d.reads) || !detail::ToU64(f[5], &d.sectors_read) ||
        !detail::ToU64(f[6], &d.read_ms) || !detail::ToU64(f[7], &d.writes) ||
        !detail::ToU64(f[9], &d.sectors_written) || !detail::ToU64(f[10], &d.write_ms)) {
      st = base::InvalidArgumentError("/proc/diskstats line " + std::to_string(line_no) +
                                      ": expected major, minor, name and at least 11 counters");
      return;
    }
    d.name = f[2];
    visit(d);
  });
  return st;
}

template <typename Visit>
base::Status ParseNetDev(std::string_view text, Visit&& visit) {
  base::Status st;
  size_t line_no = 0;
  detail::ForEachLine(text, [&](std::string_view line) {
    ++line_no;
    if (!st.ok() || line_no <= 2) return;  // two header lines
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      if (line.find_first_not_of(" \t") != std::string_view::npos) {
        st = base::InvalidArgumentError("/proc/net/dev line " + std::to_string(line_no) +
                                        ": no ':' after the interface name");
      }
      return;
    }
    NetDevLine d;
    d.name = line.substr(0, colon);
    while (!d.name.empty() && (d.name.front() == ' ' || d.name.front() == '\t')) {
      d.name.remove_prefix(1);
    }
    std::string_view f[17];
    const size_t n = detail::SplitFields(line.substr(colon + 1), f, 17);
    // rx: bytes packets errs drop fifo frame compressed multicast; tx: bytes packets errs drop
    if (n < 16 || !detail::ToU64(f[0], &d.rx_bytes) || !detail::ToU64(f[1], &d.rx_packets) ||
        !detail::ToU64(f[2], &d.rx_errs) || !detail::ToU64(f[3], &d.rx_drop) ||
        !detail::ToU64(f[8], &d.tx_bytes) || !detail::ToU64(f[9], &d.tx_packets) ||
        !detail::ToU64(f[10], &d.tx_errs) || !detail::ToU64(f[11], &d.tx_drop)) {
      st = base::InvalidArgumentError("/proc/net/dev line " + std::to_string(line_no) +
                                      ": expected 16 counters after the interface name");
      return;
    }
    visit(d);
  });
  return st;
}

template <typename Visit>
base::Status ParseMounts(std::string_view text, Visit&& visit) {
  base::Status st;
  size_t line_no = 0;
  detail::ForEachLine(text, [&](std::string_view line) {
    ++line_no;
    if (!st.ok()) return;
    std::string_view f[6];
    const size_t n = detail::SplitFields(line, f, 6);
    if (n == 0) return;
    if (n < 3) {
      st = base::InvalidArgumentError("/proc/mounts line " + std::to_string(line_no) +
                                      ": expected device, mount point and type");
      return;
    }
    visit(MountLine{f[0], f[1], f[2]});
  });
  return st;
}

}  // namespace xflowd::hal::host
