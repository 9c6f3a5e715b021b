#include "hal/host/host_reader.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace xflowd::hal::host {
namespace {

// Large enough for /proc/net/dev and /proc/diskstats of thousands of devices, and for
// /proc/cpuinfo of a few hundred CPUs; a file that fills it is reported, not cut silently.
constexpr size_t kBufBytes = 1 << 20;

const char* BuildArch() {
#if defined(__x86_64__)
  return "x86_64";
#elif defined(__i386__)
  return "i686";
#elif defined(__aarch64__)
  return "aarch64";
#elif defined(__arm__)
  return "arm";
#elif defined(__mips__)
  return "mips";
#elif defined(__powerpc__)
  return "ppc";
#elif defined(__s390__)
  return "s390";
#else
  return "";
#endif
}

}  // namespace

HostReader::HostReader(HostFiles& files, uint32_t clk_tck)
    : files_(files), clk_tck_(clk_tck ? clk_tck : 100), buf_(new char[kBufBytes]) {
  auto text = ReadFile("/proc/sys/kernel/arch");
  static_arch_ = text.ok() ? std::string(TrimLine(*text)) : BuildArch();
  text = ReadFile("/sys/class/dmi/id/product_uuid");
  if (text.ok()) uuid_known_ = ParseUuid(*text, uuid_);
  if (!uuid_known_) {
    text = ReadFile("/etc/machine-id");
    if (text.ok()) uuid_known_ = ParseUuid(*text, uuid_);
  }
  text = ReadFile("/proc/cpuinfo");
  if (text.ok()) cpu_mhz_ = ParseCpuMhz(*text);
  text = ReadFile("/proc/filesystems");
  if (text.ok()) filesystems_ = std::string(*text);
}

base::Result<std::string_view> HostReader::ReadFile(const char* path) {
  base::Result<size_t> n = files_.Read(path, buf_.get(), kBufBytes);
  if (!n.ok()) return n.status();
  if (*n == kBufBytes) {
    return base::ResourceExhaustedError(std::string(path) + ": larger than " +
                                        std::to_string(kBufBytes) + " bytes");
  }
  return std::string_view(buf_.get(), *n);
}

void HostReader::Error(HostSnapshot* out, const base::Status& st) {
  ++stats_.file_errors;
  out->errors.push_back(st.message());
}

base::Status HostReader::ReadCpu(CpuStat* out) {
  auto text = ReadFile("/proc/stat");
  if (!text.ok()) return text.status();
  return ParseStat(*text, clk_tck_, out);
}

void HostReader::ReadDescription(HostSnapshot* out) {
  auto text = ReadFile("/proc/sys/kernel/hostname");
  if (text.ok()) {
    out->hostname = std::string(TrimLine(*text));
  } else {
    Error(out, text.status());
  }
  text = ReadFile("/proc/sys/kernel/osrelease");
  if (text.ok()) {
    out->os_release = std::string(TrimLine(*text));
  } else {
    Error(out, text.status());
  }
  out->arch = static_arch_;
  out->uuid_known = uuid_known_;
  std::memcpy(out->uuid, uuid_, sizeof uuid_);
  out->cpu_mhz = cpu_mhz_;
}

void HostReader::ReadDisks(HostSnapshot* out) {
  auto text = ReadFile("/proc/diskstats");
  if (!text.ok()) {
    Error(out, text.status());
    return;
  }
  std::vector<std::string> names;  // checked after the parse: the buffer is reused
  struct Io {
    uint64_t reads, sread, rms, writes, swritten, wms;
  };
  std::vector<Io> io;
  base::Status st = ParseDiskStats(*text, [&](const DiskLine& d) {
    names.emplace_back(d.name);
    io.push_back(Io{d.reads, d.sectors_read, d.read_ms, d.writes, d.sectors_written, d.write_ms});
  });
  if (!st.ok()) {
    Error(out, st);
    return;
  }
  for (size_t i = 0; i < names.size(); ++i) {
    // Partitions are not under /sys/block; whole devices (disks, loop, dm, md) are.
    std::string name = names[i];
    std::replace(name.begin(), name.end(), '/', '!');
    if (!files_.Exists(("/sys/block/" + name).c_str())) continue;
    out->disk_reads += io[i].reads;
    out->disk_bytes_read += io[i].sread * 512;
    out->disk_read_ms += io[i].rms;
    out->disk_writes += io[i].writes;
    out->disk_bytes_written += io[i].swritten * 512;
    out->disk_write_ms += io[i].wms;
  }
  out->has_disk = true;

  text = ReadFile("/proc/mounts");
  if (!text.ok()) {
    Error(out, text.status());
    return;
  }
  struct Mount {
    std::string device, point;
  };
  std::vector<Mount> mounts;
  st = ParseMounts(*text, [&](const MountLine& m) {
    // Device file systems only (ext4, xfs, vfat, ...), each device once; mount points with
    // escaped characters (\040) are skipped rather than statted under the wrong name.
    if (!IsDeviceFs(filesystems_, m.fs_type)) return;
    if (m.mount_point.find('\\') != std::string_view::npos) return;
    for (const Mount& seen : mounts) {
      if (seen.device == m.device) return;
    }
    mounts.push_back(Mount{std::string(m.device), std::string(m.mount_point)});
  });
  if (!st.ok()) {
    Error(out, st);
    return;
  }
  for (const Mount& m : mounts) {
    base::Result<FsSpace> s = files_.StatFs(m.point.c_str());
    if (!s.ok() || s->total == 0) continue;  // gone since, or a pseudo file system
    out->disk_total += s->total;
    out->disk_free += s->avail;
    // psutil's percent: used / (used + avail), used = total - free.
    const uint64_t used = s->total - s->free;
    const uint64_t base = used + s->avail;
    const int32_t pct = base ? static_cast<int32_t>(used * 10000 / base) : 0;
    out->part_max_used = std::max(out->part_max_used, pct);
  }
}

void HostReader::ReadNet(HostSnapshot* out) {
  auto text = ReadFile("/proc/net/dev");
  if (!text.ok()) {
    Error(out, text.status());
    return;
  }
  std::vector<std::string> names;
  base::Status st = ParseNetDev(*text, [&](const NetDevLine& d) {
    if (d.name == "lo") return;
    out->net_bytes_in += d.rx_bytes;
    out->net_pkts_in += d.rx_packets;
    out->net_errs_in += d.rx_errs;
    out->net_drops_in += d.rx_drop;
    out->net_bytes_out += d.tx_bytes;
    out->net_pkts_out += d.tx_packets;
    out->net_errs_out += d.tx_errs;
    out->net_drops_out += d.tx_drop;
    names.emplace_back(d.name);
  });
  if (!st.ok()) {
    Error(out, st);
    return;
  }
  out->has_net = true;
  for (const std::string& name : names) {
    HostAdapterInfo a;
    a.name = name;
    const std::string dir = "/sys/class/net/" + name + "/";
    uint64_t ifindex = 0;
    auto t = ReadFile((dir + "ifindex").c_str());
    if (!t.ok() || !ParseDecimal(*t, &ifindex)) continue;  // gone since /proc/net/dev
    a.ifindex = static_cast<uint32_t>(ifindex);
    t = ReadFile((dir + "address").c_str());
    a.has_mac = t.ok() && ParseMac(*t, a.mac);
    out->adapters.push_back(std::move(a));
  }
}

void HostReader::Read(HostSnapshot* out) {
  *out = HostSnapshot{};
  ++stats_.reads;
  ReadDescription(out);

  auto text = ReadFile("/proc/loadavg");
  base::Status st = text.ok() ? ParseLoadAvg(*text, &out->load) : text.status();
  if (st.ok()) st = ReadCpu(&out->cpu);
  if (st.ok()) {
    text = ReadFile("/proc/uptime");
    st = text.ok() ? ParseUptime(*text, &out->uptime_s) : text.status();
  }
  out->has_cpu = st.ok();
  if (!st.ok()) Error(out, st);

  text = ReadFile("/proc/meminfo");
  st = text.ok() ? ParseMemInfo(*text, &out->mem) : text.status();
  if (st.ok()) {
    text = ReadFile("/proc/vmstat");
    st = text.ok() ? ParseVmStat(*text, &out->vm) : text.status();
  }
  out->has_mem = st.ok();
  if (!st.ok()) Error(out, st);

  ReadDisks(out);
  ReadNet(out);

  text = ReadFile("/proc/net/snmp");
  st = text.ok() ? ParseSnmpGroup(*text, "Ip", kSnmpIpNames, 19, out->ip) : text.status();
  if (st.ok()) st = ParseSnmpGroup(*text, "Icmp", kSnmpIcmpNames, 25, out->icmp);
  if (st.ok()) st = ParseSnmpGroup(*text, "Tcp", kSnmpTcpNames, 15, out->tcp);
  if (st.ok()) st = ParseSnmpGroup(*text, "Udp", kSnmpUdpNames, 7, out->udp);
  out->has_mib2 = st.ok();
  if (!st.ok()) Error(out, st);
}

}  // namespace xflowd::hal::host
