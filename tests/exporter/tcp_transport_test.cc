// TcpTransport against a real listener on 127.0.0.1 (port 0). Time for backoff is passed in;
// socket events are awaited with poll() on the descriptors, never with sleeps.
#include "exporter/tcp_transport.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "exporter/netflow/flow_exporter.h"
#include "exporter/netflow/netflow_decoder.h"
#include "gtest/gtest.h"

namespace xflowd::exporter {
namespace {

using hal::base::ByteView;
using hal::base::Endpoint;
using hal::base::IpAddress;
using hal::base::MonoTime;
using hal::base::seconds;

constexpr int kWaitMs = 5000;  // upper bound for a local socket event; normally immediate

// Listening socket on 127.0.0.1; port 0 = any.
int Listen(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || listen(fd, 4) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

uint16_t PortOf(int fd) {
  sockaddr_in a = {};
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

bool WaitFor(int fd, short events) {
  pollfd p = {fd, events, 0};
  return poll(&p, 1, kWaitMs) == 1;
}

int Accept(int listener) {
  if (!WaitFor(listener, POLLIN)) return -1;
  return accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
}

// Polls the transport until it is connected (or gives up).
bool PollUntilConnected(TcpTransport& t, MonoTime now) {
  for (int i = 0; i < 100 && !t.connected(); ++i) {
    t.Poll(now);
    if (!t.connected() && t.fd() >= 0) WaitFor(t.fd(), POLLOUT);
  }
  return t.connected();
}

bool ReadFull(int fd, uint8_t* p, size_t n) {
  while (n > 0) {
    if (!WaitFor(fd, POLLIN)) return false;
    const ssize_t r = read(fd, p, n);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

// One IPFIX message from the stream (framed by its length field).
std::vector<uint8_t> ReadIpfixMessage(int fd) {
  std::vector<uint8_t> m(4);
  if (!ReadFull(fd, m.data(), 4)) return {};
  const size_t len = (size_t{m[2]} << 8) | m[3];
  if (len < 16) return {};
  m.resize(len);
  if (!ReadFull(fd, m.data() + 4, len - 4)) return {};
  return m;
}

netflow::FlowRecord Flow() {
  netflow::FlowRecord r;
  r.key.ip_version = 4;
  r.key.src_ip[0] = 10;
  r.key.dst_ip[0] = 10;
  r.key.dst_ip[3] = 2;
  r.key.protocol = 17;
  r.packets = 1;
  r.bytes = 100;
  return r;
}

Endpoint Local(uint16_t port) { return Endpoint{IpAddress::Parse("127.0.0.1").value(), port}; }

TEST(TcpTransportTest, CreateRejectsPortZero) {
  EXPECT_FALSE(TcpTransport::Create(Local(0)).ok());
  auto t = TcpTransport::Create(Local(4739));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)->Describe(), "tcp 127.0.0.1:4739");
  EXPECT_FALSE((*t)->connected());
  EXPECT_FALSE((*t)->Send(ByteView("abc")));  // not connected: dropped, counted
  EXPECT_EQ((*t)->error_stats().dropped_not_connected, 1u);
  EXPECT_EQ((*t)->stats().send_errors, 1u);
}

TEST(TcpTransportTest, ReconnectsAndResendsTemplates) {
  int listener = Listen(0);
  ASSERT_GE(listener, 0);
  const uint16_t port = PortOf(listener);
  auto created = TcpTransport::Create(Local(port));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  TcpTransport& t = **created;
  netflow::ExporterOptions o;
  o.version = netflow::Version::kIpfix;
  o.observation_domain = 1;
  netflow::FlowExporter exporter(o, t);

  MonoTime now = MonoTime::FromSeconds(100);
  t.Poll(now);
  int conn = Accept(listener);
  ASSERT_GE(conn, 0);
  ASSERT_TRUE(PollUntilConnected(t, now));
  EXPECT_EQ(t.stats().sessions, 1u);

  exporter.SetTime(1000);
  exporter.OnFlow(Flow());
  exporter.Flush(1000);
  exporter.OnFlow(Flow());
  exporter.Flush(1000);
  netflow::NetflowDecoder collector;
  auto m1 = ReadIpfixMessage(conn);
  auto m2 = ReadIpfixMessage(conn);
  ASSERT_FALSE(m1.empty());
  ASSERT_FALSE(m2.empty());
  auto d1 = collector.Decode(ByteView(m1.data(), m1.size()));
  auto d2 = collector.Decode(ByteView(m2.data(), m2.size()));
  ASSERT_TRUE(d1.ok() && d2.ok());
  EXPECT_EQ(d1->templates.size(), 6u);
  EXPECT_TRUE(d2->templates.empty());
  EXPECT_EQ(d2->flows.size(), 1u);

  // The collector goes away: the transport notices on Poll and backs off.
  close(conn);
  close(listener);
  ASSERT_TRUE(WaitFor(t.fd(), POLLIN));
  t.Poll(now);
  EXPECT_FALSE(t.connected());
  EXPECT_EQ(t.error_stats().disconnects, 1u);
  exporter.OnFlow(Flow());
  exporter.Flush(1000);  // no connection: dropped whole and counted
  EXPECT_EQ(exporter.stats().send_errors, 1u);

  listener = Listen(port);
  ASSERT_GE(listener, 0);
  t.Poll(now + hal::base::milliseconds(999));  // backoff 1 s not over
  EXPECT_EQ(t.error_stats().connect_attempts, 1u);
  now = now + seconds(1);
  t.Poll(now);
  EXPECT_EQ(t.error_stats().connect_attempts, 2u);
  conn = Accept(listener);
  ASSERT_GE(conn, 0);
  ASSERT_TRUE(PollUntilConnected(t, now));
  EXPECT_EQ(t.stats().sessions, 2u);

  // The first message of the new session starts with the templates, readable by a collector
  // that knows nothing of the first session, and restarts the IPFIX sequence.
  exporter.OnFlow(Flow());
  exporter.Flush(2000);
  netflow::NetflowDecoder fresh;
  auto m3 = ReadIpfixMessage(conn);
  ASSERT_FALSE(m3.empty());
  auto d3 = fresh.Decode(ByteView(m3.data(), m3.size()));
  ASSERT_TRUE(d3.ok()) << d3.status().ToString();
  EXPECT_EQ(d3->set_ids.front(), netflow::kIpfixTemplateSetId);
  EXPECT_EQ(d3->templates.size(), 6u);
  EXPECT_EQ(d3->sequence, 0u);
  EXPECT_EQ(d3->flows.size(), 1u);
  EXPECT_EQ(d3->skipped_sets, 0u);
  close(conn);
  close(listener);
}

TEST(TcpTransportTest, ConnectFailureBacksOffExponentially) {
  int listener = Listen(0);
  ASSERT_GE(listener, 0);
  const uint16_t port = PortOf(listener);
  close(listener);  // nothing listens there now: connections are refused
  TcpTransportOptions opts;
  opts.backoff_initial = seconds(1);
  opts.backoff_max = seconds(4);
  auto t = TcpTransport::Create(Local(port), opts);
  ASSERT_TRUE(t.ok());
  MonoTime now = MonoTime::FromSeconds(10);
  auto attempt_fails = [&](MonoTime at) {
    const uint64_t failures = (*t)->error_stats().connect_failures;
    for (int i = 0; i < 100 && (*t)->error_stats().connect_failures == failures; ++i) {
      (*t)->Poll(at);
      if ((*t)->fd() >= 0) WaitFor((*t)->fd(), POLLOUT);
    }
    return (*t)->error_stats().connect_failures == failures + 1;
  };
  ASSERT_TRUE(attempt_fails(now));
  // Next attempt after 1 s, then 2 s, then 4 s (the maximum), then 4 s again.
  for (int64_t wait_s : {1, 2, 4, 4}) {
    (*t)->Poll(now + seconds(wait_s) - hal::base::milliseconds(1));
    EXPECT_EQ((*t)->fd(), -1) << "attempt before the backoff of " << wait_s << " s";
    now = now + seconds(wait_s);
    ASSERT_TRUE(attempt_fails(now)) << wait_s;
  }
  EXPECT_EQ((*t)->error_stats().connect_attempts, 5u);
  EXPECT_EQ((*t)->stats().sessions, 0u);
}

TEST(TcpTransportTest, MessageLargerThanBufferIsDroppedWhole) {
  int listener = Listen(0);
  ASSERT_GE(listener, 0);
  TcpTransportOptions opts;
  opts.send_buffer_bytes = 64;
  auto t = TcpTransport::Create(Local(PortOf(listener)), opts);
  ASSERT_TRUE(t.ok());
  const MonoTime now = MonoTime::FromSeconds(1);
  (*t)->Poll(now);
  int conn = Accept(listener);
  ASSERT_GE(conn, 0);
  ASSERT_TRUE(PollUntilConnected(**t, now));
  std::vector<uint8_t> big(65, 0xab);
  std::vector<uint8_t> small(60, 0xcd);
  EXPECT_FALSE((*t)->Send(ByteView(big.data(), big.size())));
  EXPECT_EQ((*t)->error_stats().dropped_buffer_full, 1u);
  EXPECT_TRUE((*t)->Send(ByteView(small.data(), small.size())));
  std::vector<uint8_t> got(60);
  ASSERT_TRUE(ReadFull(conn, got.data(), got.size()));
  EXPECT_EQ(got, small);  // only the whole small message, nothing of the big one
  EXPECT_EQ((*t)->stats().bytes_sent, 60u);
  close(conn);
  close(listener);
}

}  // namespace
}  // namespace xflowd::exporter
