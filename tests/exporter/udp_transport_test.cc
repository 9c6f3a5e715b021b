// UdpTransport against real sockets on loopback only (127.0.0.0/8 and ::1, port 0).
#include "exporter/udp_transport.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "hal/base/log.h"
#include "tests/support/test_env.h"

namespace xflowd::exporter {
namespace {

using hal::base::ByteView;
using hal::base::Endpoint;
using hal::base::IpAddress;
using hal::base::MonoTime;

// A UDP socket bound on a loopback address, port 0 (or a given port): the collector.
class Listener {
 public:
  // Returns an unopened listener (ok() false) if the address family is unavailable.
  explicit Listener(const char* address, uint16_t port = 0) {
    addr_ = *IpAddress::Parse(address);
    fd_ = socket(addr_.is_v6() ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    sockaddr_storage ss = {};
    socklen_t len;
    if (addr_.is_v6()) {
      auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
      s6->sin6_family = AF_INET6;
      s6->sin6_port = htons(port);
      std::memcpy(&s6->sin6_addr, addr_.bytes(), 16);
      len = sizeof(*s6);
    } else {
      auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
      s4->sin_family = AF_INET;
      s4->sin_port = htons(port);
      std::memcpy(&s4->sin_addr, addr_.bytes(), 4);
      len = sizeof(*s4);
    }
    if (bind(fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
      close(fd_);
      fd_ = -1;
      return;
    }
    getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len);
    port_ = ntohs(addr_.is_v6() ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  }
  ~Listener() { Close(); }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  Endpoint endpoint() const { return Endpoint{addr_, port_}; }

  // Waits up to timeout_ms for one datagram; empty if none. `from` gets the sender's address.
  std::vector<uint8_t> Receive(int timeout_ms = 1000, std::string* from = nullptr) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) != 1) return {};
    std::vector<uint8_t> buf(65536);
    sockaddr_storage ss = {};
    socklen_t len = sizeof(ss);
    ssize_t n = recvfrom(fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&ss), &len);
    if (n < 0) return {};
    buf.resize(static_cast<size_t>(n));
    if (from) {
      if (ss.ss_family == AF_INET6) {
        *from = IpAddress::V6(reinterpret_cast<const uint8_t*>(
                                  &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr))
                    .ToString();
      } else {
        *from = IpAddress::V4(reinterpret_cast<const uint8_t*>(
                                  &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr))
                    .ToString();
      }
    }
    return buf;
  }
  // Number of datagrams waiting, read without blocking.
  int DrainCount() {
    int count = 0;
    while (!Receive(0).empty()) ++count;
    return count;
  }

 private:
  IpAddress addr_;
  uint16_t port_ = 0;
  int fd_ = -1;
};

std::vector<uint8_t> Bytes(const std::string& s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

TEST(UdpTransportTest, SendsToIpv4Collector) {
  Listener collector("127.0.0.1");
  ASSERT_TRUE(collector.ok());
  auto t = UdpTransport::Create(collector.endpoint());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE((*t)->Send(ByteView("hello sflow")));
  EXPECT_TRUE((*t)->Send(ByteView("second")));
  EXPECT_EQ(collector.Receive(), Bytes("hello sflow"));
  EXPECT_EQ(collector.Receive(), Bytes("second"));
  EXPECT_EQ((*t)->stats().datagrams_sent, 2u);
  EXPECT_EQ((*t)->stats().bytes_sent, 17u);
  EXPECT_EQ((*t)->stats().send_errors, 0u);
  EXPECT_EQ((*t)->Describe(), "udp " + collector.endpoint().ToString());
}

TEST(UdpTransportTest, SendsToIpv6Collector) {
  Listener collector("::1");
  if (!collector.ok()) GTEST_SKIP() << "::1 is not available on this host";
  auto t = UdpTransport::Create(collector.endpoint());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE((*t)->Send(ByteView("over ipv6")));
  EXPECT_EQ(collector.Receive(), Bytes("over ipv6"));
  EXPECT_EQ((*t)->stats().datagrams_sent, 1u);
  EXPECT_EQ((*t)->Describe(), "udp [::1]:" + std::to_string(collector.endpoint().port));
}

// The OVS failure mode: with a connected socket, the ICMP port-unreachable for datagram k
// makes send k+1 fail with ECONNREFUSED. Ours is unconnected: nothing is lost, and a collector
// that starts late gets the very next datagram.
TEST(UdpTransportTest, NoListenerDoesNotLoseLaterDatagrams) {
  Endpoint dead;
  {
    Listener tmp("127.0.0.1");
    ASSERT_TRUE(tmp.ok());
    dead = tmp.endpoint();
  }  // closed: the port now answers with ICMP port-unreachable
  auto t = UdpTransport::Create(dead);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  for (int i = 0; i < 20; ++i) {
    EXPECT_TRUE((*t)->Send(ByteView("into the void"))) << "send " << i;
  }
  EXPECT_EQ((*t)->stats().send_errors, 0u);
  EXPECT_EQ((*t)->stats().datagrams_sent, 20u);

  // The collector comes up on that port; the next datagram must arrive.
  Listener late("127.0.0.1", dead.port);
  if (!late.ok()) GTEST_SKIP() << "port " << dead.port << " was taken meanwhile";
  EXPECT_TRUE((*t)->Send(ByteView("first after start")));
  EXPECT_EQ(late.Receive(), Bytes("first after start"));
  late.Close();
  // And it goes away again: still no error, no loss of the one after.
  EXPECT_TRUE((*t)->Send(ByteView("lost, unavoidably")));
  Listener again("127.0.0.1", dead.port);
  if (!again.ok()) GTEST_SKIP() << "port " << dead.port << " was taken meanwhile";
  EXPECT_TRUE((*t)->Send(ByteView("arrives")));
  EXPECT_EQ(again.Receive(), Bytes("arrives"));
  EXPECT_EQ((*t)->stats().send_errors, 0u);
}

TEST(UdpTransportTest, OversizeDatagramIsACountedError) {
  Listener collector("127.0.0.1");
  ASSERT_TRUE(collector.ok());
  auto t = UdpTransport::Create(collector.endpoint());
  ASSERT_TRUE(t.ok());
  std::vector<uint8_t> huge(70000, 0xab);  // larger than any UDP datagram
  EXPECT_FALSE((*t)->Send(ByteView(huge.data(), huge.size())));
  EXPECT_EQ((*t)->stats().send_errors, 1u);
  EXPECT_EQ((*t)->error_stats().too_big, 1u);
  EXPECT_EQ((*t)->error_stats().last_errno, EMSGSIZE);
  // The error is not sticky.
  EXPECT_TRUE((*t)->Send(ByteView("fine")));
  EXPECT_EQ(collector.Receive(), Bytes("fine"));
  EXPECT_EQ((*t)->stats().datagrams_sent, 1u);
}

TEST(UdpTransportTest, SourceAddressIsUsed) {
  Listener collector("127.0.0.1");
  ASSERT_TRUE(collector.ok());
  UdpTransportOptions opt;
  opt.source_address = *IpAddress::Parse("127.0.0.2");  // all of 127/8 is local on lo
  auto t = UdpTransport::Create(collector.endpoint(), opt);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE((*t)->Send(ByteView("from .2")));
  std::string from;
  EXPECT_EQ(collector.Receive(1000, &from), Bytes("from .2"));
  EXPECT_EQ(from, "127.0.0.2");
  EXPECT_EQ((*t)->Describe(), "udp " + collector.endpoint().ToString() + " from 127.0.0.2");
}

TEST(UdpTransportTest, DscpIsSetOnIpv4) {
  Listener collector("127.0.0.1");
  ASSERT_TRUE(collector.ok());
  int on = 1;
  ASSERT_EQ(setsockopt(collector.fd(), IPPROTO_IP, IP_RECVTOS, &on, sizeof(on)), 0);
  UdpTransportOptions opt;
  opt.dscp = 46;  // EF
  auto t = UdpTransport::Create(collector.endpoint(), opt);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE((*t)->Send(ByteView("ef")));

  pollfd p{collector.fd(), POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 1000), 1);
  char data[16];
  char control[64];
  iovec iov{data, sizeof(data)};
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ASSERT_EQ(recvmsg(collector.fd(), &msg, 0), 2);
  int tos = -1;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS) {
      tos = *reinterpret_cast<unsigned char*>(CMSG_DATA(c));
    }
  }
  EXPECT_EQ(tos, 46 << 2);
}

TEST(UdpTransportTest, DscpIsSetOnIpv6) {
  // qemu-mips 7.2 hands the IPV6_TCLASS control message to the guest without converting its
  // byte order, so the receiving side reads 10 << 24; the datagram on the wire is right.
  if (xflowd::testing::Emulator() == "qemu-mips-static")
    GTEST_SKIP() << "qemu-mips does not byte-swap the IPV6_TCLASS control message";
  Listener collector("::1");
  if (!collector.ok()) GTEST_SKIP() << "::1 is not available on this host";
  int on = 1;
  ASSERT_EQ(setsockopt(collector.fd(), IPPROTO_IPV6, IPV6_RECVTCLASS, &on, sizeof(on)), 0);
  UdpTransportOptions opt;
  opt.dscp = 10;  // AF11
  auto t = UdpTransport::Create(collector.endpoint(), opt);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE((*t)->Send(ByteView("af11")));

  pollfd p{collector.fd(), POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 1000), 1);
  char data[16];
  char control[64];
  iovec iov{data, sizeof(data)};
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ASSERT_EQ(recvmsg(collector.fd(), &msg, 0), 4);
  int tclass = -1;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS) {
      std::memcpy(&tclass, CMSG_DATA(c), sizeof(tclass));
    }
  }
  EXPECT_EQ(tclass, 10 << 2);
}

TEST(UdpTransportTest, BindToLoopbackDevice) {
  Listener collector("127.0.0.1");
  ASSERT_TRUE(collector.ok());
  UdpTransportOptions opt;
  opt.bind_device = "lo";
  auto t = UdpTransport::Create(collector.endpoint(), opt);
  if (!t.ok() && t.status().code() == hal::base::StatusCode::kPermissionDenied) {
    GTEST_SKIP() << "SO_BINDTODEVICE needs CAP_NET_RAW: " << t.status().ToString();
  }
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE((*t)->Send(ByteView("via lo")));
  EXPECT_EQ(collector.Receive(), Bytes("via lo"));
  EXPECT_NE((*t)->Describe().find(" dev lo"), std::string::npos);
}

TEST(UdpTransportTest, CreateErrorsAreClear) {
  Endpoint v4 = *Endpoint::Parse("127.0.0.1:6343", 6343);

  UdpTransportOptions unknown_dev;
  unknown_dev.bind_device = "xf-nosuchdev0";
  auto t1 = UdpTransport::Create(v4, unknown_dev);
  ASSERT_FALSE(t1.ok());
  EXPECT_NE(t1.status().message().find("xf-nosuchdev0"), std::string::npos)
      << t1.status().ToString();
  EXPECT_NE(t1.status().message().find("127.0.0.1:6343"), std::string::npos);

  UdpTransportOptions wrong_family;
  wrong_family.source_address = *IpAddress::Parse("::1");
  auto t2 = UdpTransport::Create(v4, wrong_family);
  ASSERT_FALSE(t2.ok());
  EXPECT_NE(t2.status().message().find("address family"), std::string::npos);

  UdpTransportOptions not_local;
  not_local.source_address = *IpAddress::Parse("192.0.2.1");  // TEST-NET-1; bind only, no send
  auto t3 = UdpTransport::Create(v4, not_local);
  ASSERT_FALSE(t3.ok());
  EXPECT_NE(t3.status().message().find("192.0.2.1"), std::string::npos);

  Endpoint port0 = v4;
  port0.port = 0;
  auto t4 = UdpTransport::Create(port0);
  ASSERT_FALSE(t4.ok());
  EXPECT_NE(t4.status().message().find("port 0"), std::string::npos);

  UdpTransportOptions bad_dscp;
  bad_dscp.dscp = 64;
  auto t5 = UdpTransport::Create(v4, bad_dscp);
  ASSERT_FALSE(t5.ok());
  EXPECT_NE(t5.status().message().find("DSCP"), std::string::npos);

  auto t6 = UdpTransport::Create(Endpoint{});
  EXPECT_FALSE(t6.ok());
}
// A dead collector shows: the ICMP port unreachable of each datagram is read back from the
// socket's error queue on Poll, counted as refused and lost, and the state change is logged
// once; the socket stays unconnected, so no datagram is lost to an earlier one's error, and
// the collector is up again once it stops refusing.
TEST(UdpTransportTest, DeadCollectorIsCountedAsRefusedAndLoggedOnce) {
  XFLOWD_SKIP_UNDER_EMULATION("the socket error queue (IP_RECVERR, MSG_ERRQUEUE)");
  for (const char* address : {"127.0.0.1", "::1"}) {
    SCOPED_TRACE(address);
    Endpoint dead;
    {
      Listener tmp(address);
      if (!tmp.ok()) continue;  // no IPv6 here
      dead = tmp.endpoint();
    }
    std::vector<std::string> lines;
    hal::base::Logger logger(
        [&lines](hal::base::LogLevel, const std::string& l) { lines.push_back(l); });
    UdpTransportOptions opt;
    opt.logger = &logger;
    auto t = UdpTransport::Create(dead, opt);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    UdpTransport& u = **t;
    EXPECT_EQ(u.status().state, TransportState::kUp);
    MonoTime now = MonoTime::FromSeconds(100);
    for (int i = 0; i < 10; ++i) EXPECT_TRUE(u.Send(ByteView("refused"))) << i;
    for (int i = 0; i < 100 && u.error_stats().icmp_refused < 10; ++i) {
      u.Poll(now);
      pollfd p{u.fd(), 0, 0};
      poll(&p, 1, 10);  // POLLERR while the error queue holds something
    }
    EXPECT_EQ(u.error_stats().icmp_refused, 10u);
    EXPECT_EQ(u.stats().lost, 10u);
    EXPECT_EQ(u.stats().send_errors, 0u);
    EXPECT_EQ(u.stats().datagrams_sent, 10u);
    EXPECT_EQ(u.status().state, TransportState::kDown);
    EXPECT_EQ(u.status().last_error, ECONNREFUSED);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find(u.Describe() + " is down: ICMP port unreachable"), std::string::npos)
        << lines[0];
    EXPECT_NE(u.DescribeStats().find("refused 10"), std::string::npos) << u.DescribeStats();

    // Still refusing a second later: no new line.
    EXPECT_TRUE(u.Send(ByteView("refused again")));
    now += hal::base::seconds(1);
    for (int i = 0; i < 100 && u.error_stats().icmp_refused < 11; ++i) {
      u.Poll(now);
      pollfd p{u.fd(), 0, 0};
      poll(&p, 1, 10);
    }
    EXPECT_EQ(u.error_stats().icmp_refused, 11u);
    EXPECT_EQ(lines.size(), 1u);

    // The collector starts: up again after kRecoverAfter without an ICMP error.
    Listener late(address, dead.port);
    if (!late.ok()) GTEST_SKIP() << "port " << dead.port << " was taken meanwhile";
    EXPECT_TRUE(u.Send(ByteView("arrives")));
    EXPECT_EQ(late.Receive(), Bytes("arrives"));
    u.Poll(now + UdpTransport::kRecoverAfter - hal::base::milliseconds(1));
    EXPECT_EQ(u.status().state, TransportState::kDown);
    u.Poll(now + UdpTransport::kRecoverAfter);
    EXPECT_EQ(u.status().state, TransportState::kUp);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_NE(lines[1].find(u.Describe() + " is up again"), std::string::npos) << lines[1];
    EXPECT_EQ(u.stats().send_errors, 0u);
  }
}

// In a fresh network namespace, lo is down and there is no route at all: sendto() fails with
// ENETUNREACH. That must be counted, not fatal, and nothing leaves the namespace. Runs in a
// child process; skipped without the privilege to unshare.
TEST(UdpTransportTest, UnreachableCollectorIsACountedError) {
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(pipefd[0]);
    // 0 = ok, 1 = skip (no unshare), 2+ = failure step.
    auto finish = [&](char code) {
      (void)!write(pipefd[1], &code, 1);
      _exit(0);
    };
    if (unshare(CLONE_NEWNET) != 0) finish(1);
    for (const char* addr : {"127.0.0.1:6343", "[::1]:6343"}) {
      auto t = UdpTransport::Create(*Endpoint::Parse(addr, 6343));
      if (!t.ok()) finish(2);
      for (int i = 0; i < 3; ++i) {
        if ((*t)->Send(ByteView("nowhere"))) finish(3);
      }
      if ((*t)->stats().send_errors != 3 || (*t)->error_stats().unreachable != 3) finish(4);
      if ((*t)->stats().datagrams_sent != 0) finish(5);
    }
    finish(0);
  }
  close(pipefd[1]);
  char code = 9;
  ASSERT_EQ(read(pipefd[0], &code, 1), 1);
  close(pipefd[0]);
  int wstatus = 0;
  waitpid(pid, &wstatus, 0);
  if (code == 1) GTEST_SKIP() << "cannot unshare a network namespace here";
  EXPECT_EQ(code, 0) << "failed at step " << int{code};
}

}  // namespace
}  // namespace xflowd::exporter
