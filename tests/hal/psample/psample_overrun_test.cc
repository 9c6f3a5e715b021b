// ENOBUFS against the real kernel. The kernel has no psample here, so a NETLINK_ROUTE socket
// with the smallest receive buffer, subscribed to link events, stands in for the PSAMPLE
// socket: a burst of link changes overflows it exactly as a burst of samples would. The
// source must count the overrun, keep reading, count the foreign messages, and not crash.
#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "hal/psample/psample_source.h"
#include "tests/support/netns.h"
#include "tests/support/test_env.h"

namespace xflowd::hal::psample {
namespace {

class CountingSink final : public PacketSampleSink {
 public:
  void OnSample(const PacketSample&) override { ++samples; }
  size_t samples = 0;
};

TEST(PsamplePrivilegedTest, ReceiveBufferOverrunIsCountedAndReadingGoesOn) {
  if (!xflowd::testing::IsRoot()) GTEST_SKIP() << "needs root (network namespaces)";
  XFLOWD_SKIP_UNDER_EMULATION("netlink in network namespaces");
  xflowd::testing::TestNetns ns("ps_ovr");
  ASSERT_TRUE(ns.ok());
  xflowd::testing::EnterNetns in(ns.name());
  ASSERT_TRUE(in.ok());
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  ASSERT_GE(fd, 0);
  int tiny = 1;  // the kernel rounds it up to its minimum: a few messages
  ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &tiny, sizeof(tiny)), 0);
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = RTMGRP_LINK;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);

  base::SystemClock clock;
  base::Logger logger = base::Logger::Null();
  auto src = PsamplePacketSource::FromFd(fd, PsampleSourceOptions(), clock, logger);
  ASSERT_TRUE(src.ok()) << src.status().ToString();

  std::string batch;
  for (int i = 0; i < 40; ++i) {
    batch +=
        "link add pv" + std::to_string(i) + " type veth peer name pw" + std::to_string(i) + "\\n";
  }
  ASSERT_EQ(xflowd::testing::Sh("printf '" + batch + "' | ip -n " + ns.name() + " -batch -"), 0);

  CountingSink sink;
  (*src)->Drain(sink, 10000);
  EXPECT_GE((*src)->psample_stats().overruns, 1u);
  EXPECT_EQ(sink.samples, 0u);
  EXPECT_EQ((*src)->psample_stats().recv_errors, 0u);
  // What was read after the overrun is not PSAMPLE: counted, not taken for samples.
  EXPECT_GT((*src)->stats().parse_errors + (*src)->parse_stats().wrong_family, 0u);
  // Still readable afterwards: nothing more is waiting, no error.
  EXPECT_EQ((*src)->Drain(sink, 10000), 0u);
}

}  // namespace
}  // namespace xflowd::hal::psample
