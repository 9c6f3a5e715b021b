#include "exporter/tcp_transport.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "exporter/socket_address.h"

namespace xflowd::exporter {

using hal::base::Endpoint;
using hal::base::InvalidArgumentError;
using hal::base::MonoTime;
using hal::base::Result;

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
      buffer_(options.send_buffer_bytes) {
  addr_len_ = ToSockaddr(collector.address, collector.port, &addr_);
}

TcpTransport::~TcpTransport() {
  if (fd_ >= 0) close(fd_);
}

std::string TcpTransport::Describe() const { return "tcp " + collector_.ToString(); }

bool TcpTransport::Send(hal::base::ByteView message) {
  if (state_ != State::kConnected) {
    ++errors_.dropped_not_connected;
    ++stats_.send_errors;
    return false;
  }
  if (message.size() > buffer_.size() - buffer_len_) {
    ++errors_.dropped_buffer_full;
    ++stats_.send_errors;
    return false;
  }
  if (head_ + buffer_len_ + message.size() > buffer_.size()) {
    std::memmove(buffer_.data(), buffer_.data() + head_, buffer_len_);
    head_ = 0;
  }
  std::memcpy(buffer_.data() + head_ + buffer_len_, message.data(), message.size());
  buffer_len_ += message.size();
  ++stats_.datagrams_sent;
  stats_.bytes_sent += message.size();
  Flush(last_now_);  // a failure here backs off from the last Poll time
  return true;
}

void TcpTransport::Poll(MonoTime now) {
  last_now_ = now;
  if (state_ == State::kIdle) {
    if (now >= next_attempt_) StartConnect(now);
    return;
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
  head_ = 0;
  buffer_len_ = 0;
  ++stats_.sessions;
}

void TcpTransport::Fail(MonoTime now, int err, bool was_connected) {
  if (err != 0) errors_.last_errno = err;
  if (was_connected) {
    ++errors_.disconnects;
  } else {
    ++errors_.connect_failures;
  }
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  state_ = State::kIdle;
  errors_.bytes_discarded += buffer_len_;
  head_ = 0;
  buffer_len_ = 0;
  next_attempt_ = now + backoff_;
  backoff_ = backoff_ * 2 > options_.backoff_max ? options_.backoff_max : backoff_ * 2;
}

void TcpTransport::Flush(MonoTime now) {
  while (state_ == State::kConnected && buffer_len_ > 0) {
    const ssize_t n = send(fd_, buffer_.data() + head_, buffer_len_, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      head_ += static_cast<size_t>(n);
      buffer_len_ -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    Fail(now, n < 0 ? errno : 0, true);
  }
  if (buffer_len_ == 0) head_ = 0;
}

}  // namespace xflowd::exporter
