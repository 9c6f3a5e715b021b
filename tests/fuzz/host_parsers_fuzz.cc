// libFuzzer target: the /proc and /sys parsers of the host counters (hal/host/host_parsers.h),
// every one on the same input. Must never crash, hang or read out of bounds, whatever a file
// holds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "hal/host/host_parsers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace xflowd::hal::host;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  uint64_t sink = 0;
  LoadAvg l;
  sink += ParseLoadAvg(text, &l).ok();
  CpuStat c;
  sink += ParseStat(text, 100, &c).ok() + c.busy_ms();
  sink += ParseStat(text, 1, &c).ok();
  MemInfo m;
  sink += ParseMemInfo(text, &m).ok();
  VmStat v;
  sink += ParseVmStat(text, &v).ok();
  uint64_t up = 0;
  sink += ParseUptime(text, &up).ok();
  sink += ParseCpuMhz(text);
  sink += ParseDiskStats(text, [&](const DiskLine& d) { sink += d.reads + d.name.size(); }).ok();
  sink += ParseNetDev(text, [&](const NetDevLine& d) { sink += d.rx_bytes + d.name.size(); }).ok();
  sink +=
      ParseMounts(text, [&](const MountLine& ml) { sink += IsDeviceFs(text, ml.fs_type); }).ok();
  uint32_t ip[19], icmp[25], tcp[15], udp[7];
  sink += ParseSnmpGroup(text, "Ip", kSnmpIpNames, 19, ip).ok();
  sink += ParseSnmpGroup(text, "Icmp", kSnmpIcmpNames, 25, icmp).ok();
  sink += ParseSnmpGroup(text, "Tcp", kSnmpTcpNames, 15, tcp).ok();
  sink += ParseSnmpGroup(text, "Udp", kSnmpUdpNames, 7, udp).ok();
  uint8_t mac[6], uuid[16];
  sink += ParseMac(text, mac) + ParseUuid(text, uuid);
  uint64_t x;
  sink += ParseDecimal(text, &x);
  return sink == 0xdeadbeef ? 1 : 0;
}
