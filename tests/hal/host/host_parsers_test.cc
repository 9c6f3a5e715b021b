// The /proc parsers on the test machine's own files (tests/testdata/host), and on the broken
// inputs a parser must refuse with a message rather than misread.
#include "hal/host/host_parsers.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace xflowd::hal::host {
namespace {

std::string Golden(const std::string& path) {
  std::ifstream f(std::string(XFLOWD_TESTDATA_DIR) + "/host" + path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(HostParsersGoldenTest, LoadAvg) {
  LoadAvg l;
  ASSERT_TRUE(ParseLoadAvg(Golden("/proc/loadavg"), &l).ok());  // "16.39 12.00 6.00 18/224"
  EXPECT_FLOAT_EQ(l.one, 16.39f);
  EXPECT_FLOAT_EQ(l.five, 12.0f);
  EXPECT_FLOAT_EQ(l.fifteen, 6.0f);
  EXPECT_EQ(l.running, 18u);
  EXPECT_EQ(l.total, 224u);
}

TEST(HostParsersGoldenTest, Stat) {
  CpuStat c;
  // cpu  102601 0 30557 25196 477 0 260 0 0 0, at 100 ticks a second.
  ASSERT_TRUE(ParseStat(Golden("/proc/stat"), 100, &c).ok());
  EXPECT_EQ(c.user_ms, 1026010u);
  EXPECT_EQ(c.nice_ms, 0u);
  EXPECT_EQ(c.system_ms, 305570u);
  EXPECT_EQ(c.idle_ms, 251960u);
  EXPECT_EQ(c.iowait_ms, 4770u);
  EXPECT_EQ(c.softirq_ms, 2600u);
  EXPECT_EQ(c.cpus, 2u);
  EXPECT_EQ(c.interrupts, 609627u);
  EXPECT_EQ(c.contexts, 1057792u);
  EXPECT_EQ(c.busy_ms(), 1026010u + 305570u + 2600u);
}

TEST(HostParsersGoldenTest, MemInfoAndVmStat) {
  MemInfo m;
  ASSERT_TRUE(ParseMemInfo(Golden("/proc/meminfo"), &m).ok());
  EXPECT_EQ(m.total, 24683748ull * 1024);
  EXPECT_EQ(m.free, 19751576ull * 1024);
  EXPECT_EQ(m.shared, 10152ull * 1024);
  EXPECT_EQ(m.buffers, 15548ull * 1024);
  EXPECT_EQ(m.cached, 1508192ull * 1024);
  EXPECT_EQ(m.swap_total, 0u);
  VmStat v;
  ASSERT_TRUE(ParseVmStat(Golden("/proc/vmstat"), &v).ok());
  EXPECT_EQ(v.page_in, 1499437u);
  EXPECT_EQ(v.page_out, 3038248u);
  EXPECT_EQ(v.swap_in, 0u);
}

TEST(HostParsersGoldenTest, UptimeAndCpuInfo) {
  uint64_t up = 0;
  ASSERT_TRUE(ParseUptime(Golden("/proc/uptime"), &up).ok());
  EXPECT_EQ(up, 800u);
  EXPECT_EQ(ParseCpuMhz(Golden("/proc/cpuinfo")), 2096u);
}

TEST(HostParsersGoldenTest, DiskStats) {
  std::vector<DiskLine> lines;
  const std::string text = Golden("/proc/diskstats");  // the lines' names point into it
  ASSERT_TRUE(ParseDiskStats(text, [&](const DiskLine& d) { lines.push_back(d); }).ok());
  ASSERT_EQ(lines.size(), 10u);  // loop0..7, vda, zram0
  const DiskLine* vda = nullptr;
  for (const DiskLine& d : lines) {
    if (d.name == "vda") vda = &d;
  }
  ASSERT_NE(vda, nullptr);
  EXPECT_EQ(vda->reads, 39600u);
  EXPECT_EQ(vda->sectors_read, 2998890u);
  EXPECT_EQ(vda->read_ms, 11717u);
  EXPECT_EQ(vda->writes, 53250u);
  EXPECT_EQ(vda->sectors_written, 6079328u);
  EXPECT_EQ(vda->write_ms, 38817u);
}

TEST(HostParsersGoldenTest, NetDev) {
  std::vector<NetDevLine> lines;
  const std::string text = Golden("/proc/net/dev");  // the lines' names point into it
  ASSERT_TRUE(ParseNetDev(text, [&](const NetDevLine& d) { lines.push_back(d); }).ok());
  ASSERT_EQ(lines.size(), 4u);  // lo, ifb0, ifb1, eth0
  EXPECT_EQ(lines[0].name, "lo");
  EXPECT_EQ(lines[3].name, "eth0");
  EXPECT_EQ(lines[3].rx_bytes, 260336640u);
  EXPECT_EQ(lines[3].rx_packets, 7849u);
  EXPECT_EQ(lines[3].tx_bytes, 230493u);
  EXPECT_EQ(lines[3].tx_packets, 2859u);
}

TEST(HostParsersGoldenTest, MountsAndFilesystems) {
  const std::string fs = Golden("/proc/filesystems");
  EXPECT_TRUE(IsDeviceFs(fs, "ext4"));
  EXPECT_FALSE(IsDeviceFs(fs, "tmpfs"));
  EXPECT_FALSE(IsDeviceFs(fs, "ext"));
  std::vector<std::string> device_mounts;
  ASSERT_TRUE(ParseMounts(Golden("/proc/mounts"), [&](const MountLine& m) {
                if (IsDeviceFs(fs, m.fs_type)) device_mounts.emplace_back(m.mount_point);
              }).ok());
  EXPECT_EQ(device_mounts, (std::vector<std::string>{"/", "/run/netns"}));
}

TEST(HostParsersGoldenTest, Snmp) {
  const std::string snmp = Golden("/proc/net/snmp");
  uint32_t ip[19], icmp[25], tcp[15], udp[7];
  ASSERT_TRUE(ParseSnmpGroup(snmp, "Ip", kSnmpIpNames, 19, ip).ok());
  ASSERT_TRUE(ParseSnmpGroup(snmp, "Icmp", kSnmpIcmpNames, 25, icmp).ok());
  ASSERT_TRUE(ParseSnmpGroup(snmp, "Tcp", kSnmpTcpNames, 15, tcp).ok());
  ASSERT_TRUE(ParseSnmpGroup(snmp, "Udp", kSnmpUdpNames, 7, udp).ok());
  EXPECT_EQ(ip[0], 2u);            // Forwarding: not a router
  EXPECT_EQ(ip[1], 64u);           // DefaultTTL
  EXPECT_EQ(ip[2], 7875u);         // InReceives
  EXPECT_EQ(ip[9], 2877u);         // OutRequests
  EXPECT_EQ(icmp[0], 1u);          // InMsgs
  EXPECT_EQ(icmp[2], 1u);          // InDestUnreachs (the kernel's InCsumErrors sits before it)
  EXPECT_EQ(tcp[3], 0xFFFFFFFFu);  // MaxConn -1
  EXPECT_EQ(tcp[4], 17u);          // ActiveOpens
  EXPECT_EQ(tcp[9], 7836u);        // InSegs
  EXPECT_EQ(tcp[13], 2u);          // OutRsts
}

TEST(HostParsersGoldenTest, SysfsValues) {
  uint8_t mac[6];
  ASSERT_TRUE(ParseMac(Golden("/sys/class/net/eth0/address"), mac));
  EXPECT_EQ(mac[0], 0x02);
  EXPECT_EQ(mac[1], 0xfc);
  EXPECT_EQ(mac[5], 0x01);
  uint64_t ifindex = 0;
  ASSERT_TRUE(ParseDecimal(Golden("/sys/class/net/eth0/ifindex"), &ifindex));
  EXPECT_EQ(ifindex, 4u);
  uint8_t uuid[16];
  EXPECT_TRUE(ParseUuid(Golden("/etc/machine-id"), uuid));
  EXPECT_TRUE(ParseUuid("4c4c4544-0033-3010-8053-b4c04f4b4d32\n", uuid));
  EXPECT_EQ(uuid[0], 0x4c);
  EXPECT_EQ(uuid[15], 0x32);
}

TEST(HostParsersTest, RefusesBrokenFiles) {
  LoadAvg l;
  EXPECT_FALSE(ParseLoadAvg("", &l).ok());
  EXPECT_FALSE(ParseLoadAvg("0.1 0.2 0.3 x/y 1", &l).ok());
  CpuStat c;
  EXPECT_FALSE(ParseStat("intr 1\n", 100, &c).ok());
  EXPECT_FALSE(ParseStat("cpu 1 2 x 4\n", 100, &c).ok());
  EXPECT_FALSE(ParseStat("cpu 1 2 3 4\n", 0, &c).ok());
  EXPECT_NE(ParseStat("cpu 1 2 x 4\n", 100, &c).message().find("/proc/stat"), std::string::npos);
  MemInfo m;
  EXPECT_FALSE(ParseMemInfo("MemFree: 1 kB\n", &m).ok());
  EXPECT_FALSE(ParseMemInfo("MemTotal: lots kB\n", &m).ok());
  int lines = 0;
  EXPECT_FALSE(ParseDiskStats("8 0 sda 1 2\n", [&](const DiskLine&) { ++lines; }).ok());
  EXPECT_FALSE(ParseNetDev("h1\nh2\n eth0: 1 2 3\n", [&](const NetDevLine&) { ++lines; }).ok());
  EXPECT_FALSE(ParseNetDev("h1\nh2\n eth0 1 2 3\n", [&](const NetDevLine&) { ++lines; }).ok());
  EXPECT_EQ(lines, 0);
  uint32_t v[2];
  const char* const names[2] = {"A", "B"};
  EXPECT_FALSE(ParseSnmpGroup("X: A B\n", "X", names, 2, v).ok());        // no values line
  EXPECT_FALSE(ParseSnmpGroup("X: A B\nX: 1\n", "X", names, 2, v).ok());  // counts differ
  EXPECT_FALSE(ParseSnmpGroup("X: A B\nX: 1 z\n", "X", names, 2, v).ok());
  ASSERT_TRUE(ParseSnmpGroup("X: B C\nX: 7 8\n", "X", names, 2, v).ok());
  EXPECT_EQ(v[0], 0u);  // A: not listed by this kernel
  EXPECT_EQ(v[1], 7u);
  uint8_t mac[6];
  EXPECT_FALSE(ParseMac("02:fc:00:00:00", mac));
  EXPECT_FALSE(ParseMac("02:fc:00:00:00:0g", mac));
  uint8_t uuid[16];
  EXPECT_FALSE(ParseUuid("1234", uuid));
  uint64_t x;
  EXPECT_FALSE(ParseDecimal("99999999999999999999999", &x));
}

}  // namespace
}  // namespace xflowd::hal::host
