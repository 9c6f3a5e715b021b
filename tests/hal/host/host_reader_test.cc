// HostReader over the test machine's files (tests/testdata/host): what it sums and skips.
#include "hal/host/host_reader.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/support/golden_host_files.h"

namespace xflowd::hal::host {
namespace {

std::string Root() { return std::string(XFLOWD_TESTDATA_DIR) + "/host"; }

TEST(HostReaderGoldenTest, ReadsTheTestMachine) {
  testing::GoldenHostFiles files(Root());
  HostReader reader(files, 100);
  HostSnapshot s;
  reader.Read(&s);
  EXPECT_TRUE(s.errors.empty()) << s.errors.front();
  EXPECT_TRUE(s.has_cpu && s.has_mem && s.has_disk && s.has_net && s.has_mib2);
  EXPECT_EQ(s.hostname, "vm");
  EXPECT_EQ(s.os_release, "6.18.44-fc-v1272");
  EXPECT_EQ(s.arch, "x86_64");
  EXPECT_TRUE(s.uuid_known);  // /etc/machine-id: no product_uuid in the copy
  EXPECT_EQ(s.cpu_mhz, 2096u);
  EXPECT_EQ(s.cpu.cpus, 2u);
  EXPECT_EQ(s.uptime_s, 800u);
  // Whole devices only (all listed under /sys/block): vda has all the I/O.
  EXPECT_EQ(s.disk_reads, 39600u);
  EXPECT_EQ(s.disk_bytes_read, 2998890ull * 512);
  EXPECT_EQ(s.disk_writes, 53250u);
  EXPECT_EQ(s.disk_bytes_written, 6079328ull * 512);
  // Device file systems: /dev/vda mounted twice (/ and /run/netns) counts once.
  EXPECT_EQ(s.disk_total, 270553174016u);
  EXPECT_EQ(s.disk_free, 83548262400u);
  // used / (used + avail) = 19197018112 / 102745280512
  EXPECT_EQ(s.part_max_used, 1868);
  // Network without lo: eth0 alone has traffic.
  EXPECT_EQ(s.net_bytes_in, 260336640u);
  EXPECT_EQ(s.net_pkts_in, 7849u);
  EXPECT_EQ(s.net_bytes_out, 230493u);
  ASSERT_EQ(s.adapters.size(), 3u);  // ifb0, ifb1, eth0
  EXPECT_EQ(s.adapters[2].name, "eth0");
  EXPECT_EQ(s.adapters[2].ifindex, 4u);
  EXPECT_TRUE(s.adapters[2].has_mac);
  EXPECT_EQ(s.ip[2], 7875u);
  EXPECT_EQ(reader.stats().file_errors, 0u);
}

TEST(HostReaderGoldenTest, APartThatFailsIsLeftOutAndCounted) {
  testing::GoldenHostFiles files(Root());
  HostReader reader(files, 100);
  files.Override("/proc/meminfo", "MemTotal: lots kB\n");
  files.Override("/proc/net/snmp", "");
  HostSnapshot s;
  reader.Read(&s);
  EXPECT_FALSE(s.has_mem);
  EXPECT_FALSE(s.has_mib2);
  EXPECT_TRUE(s.has_cpu && s.has_disk && s.has_net);
  ASSERT_EQ(s.errors.size(), 2u);
  EXPECT_NE(s.errors[0].find("/proc/meminfo"), std::string::npos) << s.errors[0];
  EXPECT_NE(s.errors[1].find("/proc/net/snmp"), std::string::npos) << s.errors[1];
  EXPECT_EQ(reader.stats().file_errors, 2u);
}

TEST(HostReaderGoldenTest, MissingDescriptionFilesLeaveItEmpty) {
  testing::GoldenHostFiles files(Root() + "/nowhere");
  HostReader reader(files, 100);
  HostSnapshot s;
  reader.Read(&s);
  EXPECT_FALSE(s.has_cpu || s.has_mem || s.has_disk || s.has_net || s.has_mib2);
  EXPECT_FALSE(s.uuid_known);
  EXPECT_TRUE(s.hostname.empty());
  EXPECT_GE(reader.stats().file_errors, 5u);
}

}  // namespace
}  // namespace xflowd::hal::host
