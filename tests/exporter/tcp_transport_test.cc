// TcpTransport against a real listener on 127.0.0.1 (port 0). Time for backoff is passed in;
// socket events are awaited with poll() on the descriptors, never with sleeps.
#include "exporter/tcp_transport.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "exporter/netflow/flow_exporter.h"
#include "exporter/netflow/netflow_decoder.h"
#include "gtest/gtest.h"
#include "hal/base/log.h"
#include "tests/support/test_env.h"

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

// Starts the transport's connect, accepts it on `listener` and polls until the transport
// says connected: the accepted fd, or -1.
int AcceptConnected(TcpTransport& t, int listener, MonoTime now) {
  t.Poll(now);
  const int conn = Accept(listener);
  if (conn < 0) return -1;
  if (!PollUntilConnected(t, now)) {
    close(conn);
    return -1;
  }
  return conn;
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
  EXPECT_EQ((*t)->status().state, TransportState::kConnecting);
}

// Before a connection, messages wait in the send buffer up to its size; what does not fit is
// dropped whole, counted, and said once.
TEST(TcpTransportTest, MessagesWaitForTheConnectionUpToTheBuffer) {
  std::vector<std::string> lines;
  hal::base::Logger logger(
      [&lines](hal::base::LogLevel, const std::string& l) { lines.push_back(l); });
  TcpTransportOptions opts;
  opts.send_buffer_bytes = 100;
  opts.logger = &logger;
  auto t = TcpTransport::Create(Local(4739), opts);
  ASSERT_TRUE(t.ok());
  std::vector<uint8_t> m(40, 0x11);
  EXPECT_TRUE((*t)->Send(ByteView(m.data(), m.size())));
  EXPECT_TRUE((*t)->Send(ByteView(m.data(), m.size())));
  EXPECT_FALSE((*t)->Send(ByteView(m.data(), m.size())));
  EXPECT_FALSE((*t)->Send(ByteView(m.data(), m.size())));
  EXPECT_EQ((*t)->status().pending_bytes, 80u);
  EXPECT_EQ((*t)->stats().datagrams_sent, 2u);
  EXPECT_EQ((*t)->error_stats().dropped_not_connected, 2u);
  EXPECT_EQ((*t)->stats().send_errors, 2u);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("tcp 127.0.0.1:4739"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("send buffer full"), std::string::npos) << lines[0];
}

// What an exporter sends before the first connect reaches the collector once connected, as the
// start of the stream: templates first, sequence from 0, no message lost.
TEST(TcpTransportTest, FirstMessagesWaitForTheFirstConnect) {
  int listener = Listen(0);
  ASSERT_GE(listener, 0);
  auto created = TcpTransport::Create(Local(PortOf(listener)));
  ASSERT_TRUE(created.ok());
  TcpTransport& t = **created;
  netflow::ExporterOptions o;
  o.version = netflow::Version::kIpfix;
  netflow::FlowExporter exporter(o, t);
  exporter.SetTime(1000);
  exporter.OnFlow(Flow());
  exporter.Flush(1000);  // before any Poll: no connection yet
  exporter.OnFlow(Flow());
  exporter.Flush(1000);
  EXPECT_EQ(exporter.stats().send_errors, 0u);
  const MonoTime now = MonoTime::FromSeconds(5);
  t.Poll(now);
  int conn = Accept(listener);
  ASSERT_GE(conn, 0);
  ASSERT_TRUE(PollUntilConnected(t, now));
  exporter.OnFlow(Flow());
  exporter.Flush(2000);
  netflow::NetflowDecoder collector;
  uint32_t expected = 0;
  for (int i = 0; i < 3; ++i) {
    auto bytes = ReadIpfixMessage(conn);
    ASSERT_FALSE(bytes.empty()) << i;
    auto m = collector.Decode(ByteView(bytes.data(), bytes.size()));
    ASSERT_TRUE(m.ok()) << i << ": " << m.status().ToString();
    EXPECT_EQ(m->templates.size(), i == 0 ? 6u : 0u) << i;
    EXPECT_EQ(m->flows.size(), 1u) << i;
    EXPECT_EQ(m->skipped_sets, 0u) << i;
    EXPECT_EQ(m->sequence, expected) << i;
    expected += m->data_record_count;
  }
  EXPECT_EQ(t.stats().lost, 0u);
  close(conn);
  close(listener);
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
  const uint64_t first_stream = t.status().stream;

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
  EXPECT_EQ(t.status().state, TransportState::kDown);
  EXPECT_EQ(t.error_stats().disconnects, 1u);
  EXPECT_NE(t.status().stream, first_stream);
  exporter.OnFlow(Flow());
  exporter.Flush(1000);  // no connection: waits for the next one
  EXPECT_EQ(exporter.stats().send_errors, 0u);
  EXPECT_GT(t.status().pending_bytes, 0u);

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

  // The first message of the new stream (the one that waited) starts with the templates,
  // readable by a collector that knows nothing of the first session, and restarts the IPFIX
  // sequence.
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
  exporter.OnFlow(Flow());
  exporter.Flush(2000);
  auto m4 = ReadIpfixMessage(conn);
  ASSERT_FALSE(m4.empty());
  auto d4 = fresh.Decode(ByteView(m4.data(), m4.size()));
  ASSERT_TRUE(d4.ok()) << d4.status().ToString();
  EXPECT_EQ(d4->sequence, d3->data_record_count);
  close(conn);
  close(listener);
}

// A refused connect as the transport reports it. qemu-user for mips hands SO_ERROR back
// untranslated, as the host's ECONNREFUSED (111, where mips has 146); natively it is exact.
bool IsRefused(int error) {
  return error == ECONNREFUSED || (xflowd::testing::UnderEmulation() && error == 111);
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
  EXPECT_EQ((*t)->status().state, TransportState::kDown);
  EXPECT_TRUE(IsRefused((*t)->status().last_error)) << (*t)->status().last_error;
}

// Each change of state is logged once, naming the collector: the first connect failure (not
// each retry, those are debug), the connection, its loss.
TEST(TcpTransportTest, StateChangesAreLoggedOnce) {
  int listener = Listen(0);
  ASSERT_GE(listener, 0);
  const uint16_t port = PortOf(listener);
  close(listener);
  std::vector<std::string> lines;
  hal::base::Logger logger([&lines](hal::base::LogLevel level, const std::string& l) {
    lines.push_back(std::string(hal::base::LogLevelName(level)) + " " + l);
  });
  TcpTransportOptions opts;
  opts.logger = &logger;
  opts.backoff_max = seconds(1);
  auto t = TcpTransport::Create(Local(port), opts);
  ASSERT_TRUE(t.ok());
  MonoTime now = MonoTime::FromSeconds(10);
  for (int attempt = 0; attempt < 3; ++attempt) {
    const uint64_t failures = (*t)->error_stats().connect_failures;
    for (int i = 0; i < 100 && (*t)->error_stats().connect_failures == failures; ++i) {
      (*t)->Poll(now);
      if ((*t)->fd() >= 0) WaitFor((*t)->fd(), POLLOUT);
    }
    ASSERT_EQ((*t)->error_stats().connect_failures, failures + 1);
    now = now + seconds(1);
  }
  const std::string name = "tcp 127.0.0.1:" + std::to_string(port);
  ASSERT_EQ(lines.size(), 1u);  // the default level hides the retries
  EXPECT_NE(lines[0].find(name + ": connect failed: "), std::string::npos) << lines[0];
  if (!xflowd::testing::UnderEmulation()) {
    EXPECT_NE(lines[0].find("Connection refused"), std::string::npos) << lines[0];
  }

  listener = Listen(port);
  ASSERT_GE(listener, 0);
  int conn = AcceptConnected(**t, listener, now);
  ASSERT_GE(conn, 0);
  (*t)->Poll(now);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[1].find(name + ": connected"), std::string::npos) << lines[1];
  close(conn);
  ASSERT_TRUE(WaitFor((*t)->fd(), POLLIN));
  (*t)->Poll(now);
  (*t)->Poll(now);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[2].find(name + ": connection lost"), std::string::npos) << lines[2];
  close(listener);
}

// A connection lost with messages still in the buffer: they are counted as lost, and the
// next stream starts empty.
TEST(TcpTransportTest, MessagesLostWithAConnectionAreCounted) {
  int listener = Listen(0);
  ASSERT_GE(listener, 0);
  TcpTransportOptions opts;
  opts.send_buffer_bytes = 1 << 20;
  auto t = TcpTransport::Create(Local(PortOf(listener)), opts);
  ASSERT_TRUE(t.ok());
  const MonoTime now = MonoTime::FromSeconds(1);
  int conn = AcceptConnected(**t, listener, now);
  ASSERT_GE(conn, 0);
  // The collector does not read: the kernel's buffers fill, then ours.
  std::vector<uint8_t> m(32 * 1024, 0x5a);
  uint64_t accepted = 0;
  for (int i = 0; i < 10000 && (*t)->Send(ByteView(m.data(), m.size())); ++i) ++accepted;
  ASSERT_GT((*t)->status().pending_bytes, 0u);
  const uint64_t waiting = ((*t)->status().pending_bytes + m.size() - 1) / m.size();
  // Unread data makes the close a reset.
  close(conn);
  for (int i = 0; i < 100 && (*t)->connected(); ++i) {
    WaitFor((*t)->fd(), POLLIN);
    (*t)->Poll(now);
  }
  ASSERT_FALSE((*t)->connected());
  EXPECT_EQ((*t)->error_stats().disconnects, 1u);
  EXPECT_EQ((*t)->error_stats().messages_discarded, waiting);
  EXPECT_EQ((*t)->stats().lost, waiting);
  EXPECT_EQ((*t)->stats().datagrams_sent, accepted);
  EXPECT_EQ((*t)->status().pending_bytes, 0u);
  close(listener);
}

// A message whose own write finds the connection reset went with it: a send error for the
// caller (who counts its records), not an accepted message; the next one waits for the next
// connection, in a new stream.
TEST(TcpTransportTest, MessageSentIntoAResetIsASendError) {
  int listener = Listen(0);
  ASSERT_GE(listener, 0);
  auto t = TcpTransport::Create(Local(PortOf(listener)));
  ASSERT_TRUE(t.ok());
  const MonoTime now = MonoTime::FromSeconds(1);
  int conn = AcceptConnected(**t, listener, now);
  ASSERT_GE(conn, 0);
  const uint64_t stream = (*t)->status().stream;
  const linger reset = {1, 0};
  setsockopt(conn, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
  close(conn);
  ASSERT_TRUE(WaitFor((*t)->fd(), POLLIN));
  std::vector<uint8_t> m(100, 0x42);
  EXPECT_FALSE((*t)->Send(ByteView(m.data(), m.size())));
  EXPECT_EQ((*t)->stats().send_errors, 1u);
  EXPECT_EQ((*t)->stats().datagrams_sent, 0u);
  EXPECT_EQ((*t)->stats().bytes_sent, 0u);
  EXPECT_EQ((*t)->stats().lost, 0u);
  EXPECT_EQ((*t)->error_stats().messages_discarded, 0u);
  EXPECT_EQ((*t)->error_stats().bytes_discarded, 0u);
  EXPECT_EQ((*t)->error_stats().disconnects, 1u);
  EXPECT_EQ((*t)->status().state, TransportState::kDown);
  EXPECT_NE((*t)->status().stream, stream);
  EXPECT_TRUE((*t)->Send(ByteView(m.data(), m.size())));
  EXPECT_EQ((*t)->status().pending_bytes, m.size());
  close(listener);
}

TEST(TcpTransportTest, MessageLargerThanBufferIsDroppedWhole) {
  int listener = Listen(0);
  ASSERT_GE(listener, 0);
  TcpTransportOptions opts;
  opts.send_buffer_bytes = 64;
  auto t = TcpTransport::Create(Local(PortOf(listener)), opts);
  ASSERT_TRUE(t.ok());
  const MonoTime now = MonoTime::FromSeconds(1);
  int conn = AcceptConnected(**t, listener, now);
  ASSERT_GE(conn, 0);
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
