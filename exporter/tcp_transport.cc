#include "exporter/tcp_transport.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "exporter/socket_address.h"

namespace xflowd::exporter {

using hal::base::Endpoint;
using hal::base::InvalidArgumentError;
using hal::base::LogLevel;
using hal::base::MonoTime;
using hal::base::Result;

namespace {

// The smallest IPFIX message (a header): sizes the ring of message ends.
constexpr size_t kMinMessageBytes = 16;

long long Secs(hal::base::Duration d) { return static_cast<long long>(d.count() / 1000000000); }

}  // namespace

Result<std::unique_ptr<TcpTransport>> TcpTransport::Create(const Endpoint& collector,
                                                           const TcpTransportOptions& options) {
  const std::string what = "collector tcp " + collector.ToString();
  if (!collector.address.is_v4() && !collector.address.is_v6()) {
    return InvalidArgumentError(what + ": no address");
  }
  if (collector.port == 0) return InvalidArgumentError(what + ": port 0");
  if (options.send_buffer_bytes == 0) return InvalidArgumentError(what + ": send buffer of 0");
  return std::unique_ptr<TcpTransport>(new TcpTransport(collector, options));
}

TcpTransport::TcpTransport(const Endpoint& collector, const TcpTransportOptions& options)
    : collector_(collector),
      options_(options),
      backoff_(options.backoff_initial),
      buffer_(options.send_buffer_bytes),
      ends_(options.send_buffer_bytes / kMinMessageBytes + 16) {
  addr_len_ = ToSockaddr(collector.address, collector.port, &addr_);
}

TcpTransport::~TcpTransport() {
  if (fd_ >= 0) close(fd_);
}

std::string TcpTransport::Describe() const { return "tcp " + collector_.ToString(); }

void TcpTransport::Log(LogLevel level, const char* fmt, ...) {
  if (options_.logger == nullptr || !options_.logger->Enabled(level)) return;
  char buf[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  options_.logger->Log(level, "collector %s: %s", Describe().c_str(), buf);
}

TransportStatus TcpTransport::status() const {
  TransportStatus s;
  s.state = state_ == State::kConnected ? TransportState::kUp
            : failing_                  ? TransportState::kDown
                                        : TransportState::kConnecting;
  s.last_error = errors_.last_errno;
  s.stream = stream_;
  s.pending_bytes = buffer_len_;
  return s;
}

std::vector<std::pair<const char*, uint64_t>> TcpTransport::Counters() const {
  return {{"connect_attempts", errors_.connect_attempts},
          {"connect_failures", errors_.connect_failures},
          {"disconnects", errors_.disconnects},
          {"dropped_not_connected", errors_.dropped_not_connected},
          {"dropped_buffer_full", errors_.dropped_buffer_full},
          {"messages_discarded", errors_.messages_discarded},
          {"bytes_discarded", errors_.bytes_discarded},
          {"bytes_unsent", static_cast<uint64_t>(buffer_len_)}};
}

std::string TcpTransport::DescribeStats() const {
  char buf[320];
  std::snprintf(buf, sizeof(buf),
                "connect_attempts %" PRIu64 ", connect_failures %" PRIu64 ", disconnects %" PRIu64
                ", dropped_not_connected %" PRIu64 ", dropped_buffer_full %" PRIu64
                ", messages lost with a connection %" PRIu64 " (%" PRIu64
                " bytes), %zu bytes unsent",
                errors_.connect_attempts, errors_.connect_failures, errors_.disconnects,
                errors_.dropped_not_connected, errors_.dropped_buffer_full,
                errors_.messages_discarded, errors_.bytes_discarded, buffer_len_);
  return buf;
}

bool TcpTransport::Send(hal::base::ByteView message) {
  const bool connected = state_ == State::kConnected;
  if (message.size() > buffer_.size() - buffer_len_ || ends_count_ == ends_.size()) {
    ++(connected ? errors_.dropped_buffer_full : errors_.dropped_not_connected);
    ++stats_.send_errors;
    if (!dropping_) {
      // Once per connection state: a slow collector would otherwise flap it per message.
      dropping_ = true;
      Log(LogLevel::kWarning,
          "send buffer full (%zu bytes %s): messages that do not fit are dropped and counted",
          buffer_len_,
          connected ? "waiting for the collector to read" : "waiting for a connection");
    }
    return false;
  }
  if (head_ + buffer_len_ + message.size() > buffer_.size()) {
    std::memmove(buffer_.data(), buffer_.data() + head_, buffer_len_);
    head_ = 0;
  }
  std::memcpy(buffer_.data() + head_ + buffer_len_, message.data(), message.size());
  buffer_len_ += message.size();
  queued_total_ += message.size();
  ends_[(ends_head_ + ends_count_) % ends_.size()] = queued_total_;
  ++ends_count_;
  ++stats_.datagrams_sent;
  stats_.bytes_sent += message.size();
  if (!connected) return true;  // waits for the connection
  const uint64_t stream = stream_;
  const uint64_t discarded = errors_.bytes_discarded;
  Flush(last_now_);  // a failure here backs off from the last Poll time
  if (stream_ != stream) {
    // This message went with the connection, last in the buffer: a send error for the
    // caller, not an accepted message lost.
    const uint64_t unsent = errors_.bytes_discarded - discarded;
    errors_.bytes_discarded -= unsent < message.size() ? unsent : message.size();
    --errors_.messages_discarded;
    --stats_.lost;
    --stats_.datagrams_sent;
    stats_.bytes_sent -= message.size();
    ++stats_.send_errors;
    return false;
  }
  return true;
}

void TcpTransport::Poll(MonoTime now) {
  last_now_ = now;
  if (state_ == State::kIdle) {
    if (now < next_attempt_) return;
    StartConnect(now);
    if (state_ != State::kConnected) return;
  }
  if (state_ == State::kConnecting) {
    pollfd p = {fd_, POLLOUT, 0};
    if (poll(&p, 1, 0) <= 0) return;  // still connecting
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) {
      Fail(now, err, false);
      return;
    }
    Established();
  }
  // Connected: a collector does not talk back, so readable means closed (or reset).
  uint8_t scratch[256];
  for (;;) {
    const ssize_t n = recv(fd_, scratch, sizeof(scratch), MSG_DONTWAIT);
    if (n > 0) continue;
    if (n == 0) {
      Fail(now, 0, true);
      return;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    if (errno == EINTR) continue;
    Fail(now, errno, true);
    return;
  }
  Flush(now);
}

void TcpTransport::StartConnect(MonoTime now) {
  ++errors_.connect_attempts;
  Log(LogLevel::kDebug, "connect attempt %" PRIu64, errors_.connect_attempts);
  fd_ = socket(addr_.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    Fail(now, errno, false);
    return;
  }
  const int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (connect(fd_, reinterpret_cast<const sockaddr*>(&addr_), addr_len_) == 0) {
    Established();
    return;
  }
  if (errno == EINPROGRESS) {
    state_ = State::kConnecting;
    return;
  }
  Fail(now, errno, false);
}

void TcpTransport::Established() {
  state_ = State::kConnected;
  backoff_ = options_.backoff_initial;
  failing_ = false;
  dropping_ = false;
  if (buffer_len_ > 0) {
    Log(LogLevel::kInfo, "connected (stream %" PRIu64 "); sending %zu bytes that waited", stream_,
        buffer_len_);
  } else {
    Log(LogLevel::kInfo, "connected (stream %" PRIu64 ")", stream_);
  }
}

void TcpTransport::Fail(MonoTime now, int err, bool was_connected) {
  if (err != 0) errors_.last_errno = err;
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  state_ = State::kIdle;
  if (was_connected) dropping_ = false;
  next_attempt_ = now + backoff_;
  const hal::base::Duration wait = backoff_;
  backoff_ = backoff_ * 2 > options_.backoff_max ? options_.backoff_max : backoff_ * 2;
  if (!was_connected) {
    // Messages keep waiting for the next attempt.
    ++errors_.connect_failures;
    if (!failing_) {
      failing_ = true;
      Log(LogLevel::kWarning,
          "connect failed: %s; retrying with backoff up to %lld s, messages wait in the %zu "
          "byte send buffer",
          strerror(err), Secs(options_.backoff_max), buffer_.size());
    } else {
      Log(LogLevel::kDebug, "connect failed: %s; next attempt in %lld s", strerror(err),
          Secs(wait));
    }
    return;
  }
  ++errors_.disconnects;
  failing_ = true;
  errors_.messages_discarded += ends_count_;
  errors_.bytes_discarded += buffer_len_;
  stats_.lost += ends_count_;
  Log(LogLevel::kWarning,
      "connection lost (%s); %zu messages (%zu bytes) not yet written are lost; reconnecting "
      "in %lld s",
      err != 0 ? strerror(err) : "closed by the collector", ends_count_, buffer_len_, Secs(wait));
  // The next stream starts at a message boundary, with templates and sequence 0.
  ++stream_;
  head_ = 0;
  buffer_len_ = 0;
  ends_head_ = 0;
  ends_count_ = 0;
  queued_total_ = 0;
  written_total_ = 0;
}

void TcpTransport::Flush(MonoTime now) {
  while (state_ == State::kConnected && buffer_len_ > 0) {
    const ssize_t n = send(fd_, buffer_.data() + head_, buffer_len_, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      head_ += static_cast<size_t>(n);
      buffer_len_ -= static_cast<size_t>(n);
      written_total_ += static_cast<uint64_t>(n);
      while (ends_count_ > 0 && ends_[ends_head_] <= written_total_) {
        ends_head_ = (ends_head_ + 1) % ends_.size();
        --ends_count_;
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    Fail(now, n < 0 ? errno : 0, true);
  }
  if (buffer_len_ == 0) head_ = 0;
}

}  // namespace xflowd::exporter
