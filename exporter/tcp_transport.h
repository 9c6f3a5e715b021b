// TcpTransport: IPFIX over TCP (RFC 7011 section 10.4) to one collector, without threads.
//
// Poll(now) drives everything: it starts a non-blocking connect when one is due, completes it,
// writes what is buffered, and notices a collector that closed the connection. A failed
// connect or a lost connection retries after a backoff that doubles from backoff_initial up to
// backoff_max (reset by a successful connect).
//
// Send() queues one whole message in a bounded buffer and writes as much as the socket takes at
// once. A message that does not fit in the buffer, or arrives while there is no connection, is
// dropped whole and counted. When a connection is lost the unsent rest of the buffer goes with
// it, so a new connection never starts in the middle of a message. Each established connection
// increments stats().sessions, which tells the exporter to send its templates at once.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "exporter/transport.h"
#include "hal/base/ip_address.h"
#include "hal/base/status.h"
#include "hal/base/time.h"

namespace xflowd::exporter {

struct TcpTransportOptions {
  size_t send_buffer_bytes = 256 * 1024;  // messages waiting for the socket
  hal::base::Duration backoff_initial = hal::base::seconds(1);
  hal::base::Duration backoff_max = hal::base::seconds(60);
};

struct TcpErrorStats {
  uint64_t connect_attempts = 0;
  uint64_t connect_failures = 0;
  uint64_t disconnects = 0;            // established connections lost (peer close, error)
  uint64_t dropped_not_connected = 0;  // messages sent while there was no connection
  uint64_t dropped_buffer_full = 0;    // messages that did not fit in the send buffer
  uint64_t bytes_discarded = 0;        // buffered bytes lost with a connection
  int last_errno = 0;
};

class TcpTransport final : public Transport {
 public:
  // Validates the collector (no port 0); does not connect (the first Poll does).
  static hal::base::Result<std::unique_ptr<TcpTransport>> Create(
      const hal::base::Endpoint& collector, const TcpTransportOptions& options = {});
  ~TcpTransport() override;
  TcpTransport(const TcpTransport&) = delete;
  TcpTransport& operator=(const TcpTransport&) = delete;

  // Data plane: queue the whole message or drop it (false, counted). Never blocks.
  bool Send(hal::base::ByteView message) override;
  const TransportStats& stats() const override { return stats_; }
  std::string Describe() const override;  // "tcp 192.0.2.1:4739"

  // Connect / reconnect when due, finish a pending connect, flush, detect a closed peer.
  void Poll(hal::base::MonoTime now);

  bool connected() const { return state_ == State::kConnected; }
  size_t buffered_bytes() const { return buffer_len_; }
  const TcpErrorStats& error_stats() const { return errors_; }
  int fd() const { return fd_; }

 private:
  enum class State { kIdle, kConnecting, kConnected };
  TcpTransport(const hal::base::Endpoint& collector, const TcpTransportOptions& options);
  void StartConnect(hal::base::MonoTime now);
  void Established();
  void Fail(hal::base::MonoTime now, int err, bool was_connected);
  void Flush(hal::base::MonoTime now);

  hal::base::Endpoint collector_;
  TcpTransportOptions options_;
  sockaddr_storage addr_ = {};
  socklen_t addr_len_ = 0;
  int fd_ = -1;
  State state_ = State::kIdle;
  hal::base::MonoTime next_attempt_;
  hal::base::Duration backoff_;
  hal::base::MonoTime last_now_;
  std::vector<uint8_t> buffer_;  // [head_, head_ + buffer_len_) is unsent
  size_t head_ = 0;
  size_t buffer_len_ = 0;
  TransportStats stats_;
  TcpErrorStats errors_;
};

}  // namespace xflowd::exporter
