#include "sim/sim_host_files.h"

#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <vector>

namespace xflowd::sim {
namespace {

std::string Format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string Format(const char* fmt, ...) {
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return buf;
}

constexpr uint64_t kCpus = 4;
constexpr uint64_t kBootSeconds = 86400;  // the made-up host booted a day before the run

}  // namespace

bool SimHostFiles::Text(const std::string& path, std::string* out) {
  const uint64_t ms = static_cast<uint64_t>(hal::base::ToMs(clock_.Now() - start_));
  const uint64_t s = ms / 1000;
  const uint64_t up_ms = kBootSeconds * 1000 + ms;
  // 1/100 s ticks over all CPUs: 15% user, 1% nice, 6% system, 3% softirq, 75% idle.
  const uint64_t ticks = up_ms / 10 * kCpus;
  if (path == "/proc/sys/kernel/hostname") {
    *out = "xflowd-sim\n";
  } else if (path == "/proc/sys/kernel/osrelease") {
    *out = "6.1.0-sim\n";
  } else if (path == "/etc/machine-id") {
    *out = "5c1d0a2f7e3b4c8d9a6f1e2d3c4b5a69\n";
  } else if (path == "/proc/loadavg") {
    *out = Format("1.%02u 0.95 0.90 2/180 %u\n", static_cast<unsigned>(s % 50),
                  static_cast<unsigned>(1000 + s));
  } else if (path == "/proc/uptime") {
    *out = Format("%" PRIu64 ".%02u %" PRIu64 ".00\n", up_ms / 1000,
                  static_cast<unsigned>(up_ms % 1000 / 10), up_ms / 1000 * 3);
  } else if (path == "/proc/stat") {
    std::string t =
        Format("cpu  %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " 0 0 %" PRIu64 " 0 0 0\n",
               ticks * 15 / 100, ticks / 100, ticks * 6 / 100, ticks * 75 / 100, ticks * 3 / 100);
    for (uint64_t i = 0; i < kCpus; ++i) t += Format("cpu%" PRIu64 " 0 0 0 0 0 0 0 0 0 0\n", i);
    t += Format("intr %" PRIu64 " 0\nctxt %" PRIu64 "\n", up_ms * 2, up_ms * 5);
    *out = t;
  } else if (path == "/proc/cpuinfo") {
    *out = "processor\t: 0\ncpu MHz\t\t: 2200.000\n";
  } else if (path == "/proc/meminfo") {
    *out =
        "MemTotal:        8155648 kB\nMemFree:         5242880 kB\nBuffers:           65536 kB\n"
        "Cached:          1048576 kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\n"
        "Shmem:             16384 kB\n";
  } else if (path == "/proc/vmstat") {
    *out =
        Format("pgpgin %" PRIu64 "\npgpgout %" PRIu64 "\npswpin 0\npswpout 0\n", s * 40, s * 120);
  } else if (path == "/proc/diskstats") {
    *out = Format("   8       0 sda %" PRIu64 " 0 %" PRIu64 " %" PRIu64 " %" PRIu64 " 0 %" PRIu64
                  " %" PRIu64 " 0 0 0\n",
                  s * 10, s * 80, s * 5, s * 30, s * 240, s * 12);
  } else if (path == "/proc/mounts") {
    *out = "/dev/sda1 / ext4 rw,relatime 0 0\nproc /proc proc rw 0 0\n";
  } else if (path == "/proc/filesystems") {
    *out = "nodev\tproc\n\text4\n";
  } else if (path == "/proc/net/dev") {
    std::string t =
        "Inter-|   Receive                                                |  Transmit\n"
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets "
        "errs drop fifo colls carrier compressed\n";
    auto ports = sw_.ListPorts();
    if (ports.ok()) {
      for (const hal::PortInfo& p : *ports) {
        auto c = sw_.ReadCounters(p.ifindex);
        if (!c.ok()) continue;
        const uint64_t in_pkts = c->in_ucast_pkts + c->in_multicast_pkts + c->in_broadcast_pkts;
        const uint64_t out_pkts = c->out_ucast_pkts + c->out_multicast_pkts + c->out_broadcast_pkts;
        t +=
            Format("%6s: %" PRIu64 " %" PRIu64 " 0 0 0 0 0 0 %" PRIu64 " %" PRIu64 " 0 0 0 0 0 0\n",
                   p.name.c_str(), c->in_octets, in_pkts, c->out_octets, out_pkts);
      }
    }
    *out = t;
  } else if (path == "/proc/net/snmp") {
    *out = Format(
        "Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams "
        "InUnknownProtos InDiscards InDelivers OutRequests OutDiscards OutNoRoutes ReasmTimeout "
        "ReasmReqds ReasmOKs ReasmFails FragOKs FragFails FragCreates\n"
        "Ip: 1 64 %" PRIu64 " 0 0 0 0 0 %" PRIu64 " %" PRIu64
        " 0 0 0 0 0 0 0 0 0\n"
        "Icmp: InMsgs InErrors InCsumErrors InDestUnreachs InTimeExcds InParmProbs InSrcQuenchs "
        "InRedirects InEchos InEchoReps InTimestamps InTimestampReps InAddrMasks InAddrMaskReps "
        "OutMsgs OutErrors OutRateLimitGlobal OutRateLimitHost OutDestUnreachs OutTimeExcds "
        "OutParmProbs OutSrcQuenchs OutRedirects OutEchos OutEchoReps OutTimestamps "
        "OutTimestampReps OutAddrMasks OutAddrMaskReps\n"
        "Icmp: %" PRIu64 " 0 0 0 0 0 0 0 %" PRIu64 " 0 0 0 0 0 %" PRIu64
        " 0 0 0 0 0 0 0 0 0 %" PRIu64
        " 0 0 0 0\n"
        "Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails "
        "EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors\n"
        "Tcp: 1 200 120000 -1 %" PRIu64 " %" PRIu64 " 0 0 4 %" PRIu64 " %" PRIu64
        " 0 0 0 0\n"
        "Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors "
        "IgnoredMulti MemErrors\n"
        "Udp: %" PRIu64 " 0 0 %" PRIu64 " 0 0 0 0 0\n",
        s * 50, s * 50, s * 60, s / 5, s / 5, s / 5, s / 5, s / 30, s / 30, s * 30, s * 35, s * 10,
        s * 25);
  } else if (path.rfind("/sys/class/net/", 0) == 0) {
    const std::string rest = path.substr(15);
    const size_t slash = rest.find('/');
    if (slash == std::string::npos) return false;
    const std::string name = rest.substr(0, slash), file = rest.substr(slash + 1);
    auto ports = sw_.ListPorts();
    if (!ports.ok()) return false;
    for (const hal::PortInfo& p : *ports) {
      if (p.name != name) continue;
      if (file == "ifindex") {
        *out = Format("%u\n", p.ifindex);
      } else if (file == "address") {
        *out = Format("%02x:%02x:%02x:%02x:%02x:%02x\n", p.mac[0], p.mac[1], p.mac[2], p.mac[3],
                      p.mac[4], p.mac[5]);
      } else {
        return false;
      }
      return true;
    }
    return false;
  } else {
    return false;
  }
  return true;
}

hal::base::Result<size_t> SimHostFiles::Read(const char* path, char* buf, size_t cap) {
  std::string text;
  if (!Text(path, &text)) return hal::base::NotFoundError(std::string(path) + ": no such file");
  const size_t n = text.size() < cap ? text.size() : cap;
  std::memcpy(buf, text.data(), n);
  return n;
}

bool SimHostFiles::Exists(const char* path) { return std::strcmp(path, "/sys/block/sda") == 0; }

hal::base::Result<hal::host::FsSpace> SimHostFiles::StatFs(const char* mount_point) {
  if (std::strcmp(mount_point, "/") != 0) {
    return hal::base::NotFoundError(std::string(mount_point) + ": not mounted");
  }
  hal::host::FsSpace s;
  s.total = 64ull << 30;
  s.free = 40ull << 30;
  s.avail = 37ull << 30;
  return s;
}

}  // namespace xflowd::sim
