// TcpTransport: IPFIX over TCP (RFC 7011 section 10.4) to one collector, without threads.
//
// Poll(now) drives everything: it starts a non-blocking connect when one is due, completes it,
// writes what is buffered, and notices a collector that closed the connection. A failed
// connect or a lost connection retries after a backoff that doubles from backoff_initial up to
// backoff_max (reset by a successful connect).
//
// Send() queues one whole message in a bounded buffer and writes as much as the socket takes at
// once. While there is no connection (before the first connect, between retries) messages wait
// in the buffer and go out when the connection is up; a message that does not fit is dropped
// whole and counted. When a connection is lost the unsent rest of the buffer goes with it
// (counted in stats().lost), so a new connection never starts in the middle of a message, and
// a new stream begins (status().stream changes): the exporter then sends its templates first
// and restarts its IPFIX sequence numbers. Each change of state is logged once, with the
// collector's address; retries after the first failure are logged at debug level.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "exporter/transport.h"
#include "hal/base/ip_address.h"
#include "hal/base/log.h"
#include "hal/base/status.h"
#include "hal/base/time.h"

namespace xflowd::exporter {

struct TcpTransportOptions {
  size_t send_buffer_bytes = 256 * 1024;  // messages waiting for the socket or a connection
  hal::base::Duration backoff_initial = hal::base::seconds(1);
  hal::base::Duration backoff_max = hal::base::seconds(60);
  // Where state changes are logged. Null: not logged. Must outlive the transport.
  hal::base::Logger* logger = nullptr;
};

struct TcpErrorStats {
  uint64_t connect_attempts = 0;
  uint64_t connect_failures = 0;
  uint64_t disconnects = 0;  // established connections lost (peer close, error)
  // Messages that did not fit in the send buffer, while there was no connection (the buffer
  // full of waiting messages) and while connected (the collector reads too slowly).
  uint64_t dropped_not_connected = 0;
  uint64_t dropped_buffer_full = 0;
  uint64_t messages_discarded = 0;  // accepted messages lost with a connection (stats().lost)
  uint64_t bytes_discarded = 0;     // their unsent bytes
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

  // Data plane: queue the whole message or drop it (false, counted). Never blocks. False too
  // when the connection is lost while writing it (the message went with it).
  bool Send(hal::base::ByteView message) override;
  // Connect / reconnect when due, finish a pending connect, flush, detect a closed peer.
  void Poll(hal::base::MonoTime now) override;
  TransportStatus status() const override;
  const TransportStats& stats() const override { return stats_; }
  std::string Describe() const override;  // "tcp 192.0.2.1:4739"
  std::string DescribeStats() const override;
  std::vector<std::pair<const char*, uint64_t>> Counters() const override;

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
  void Log(hal::base::LogLevel level, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

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
  // End offsets (bytes queued in this stream) of the messages not fully written, a ring
  // allocated once: how many messages a lost connection takes with it.
  std::vector<uint64_t> ends_;
  size_t ends_head_ = 0;
  size_t ends_count_ = 0;
  uint64_t queued_total_ = 0;
  uint64_t written_total_ = 0;
  uint64_t stream_ = 1;
  bool failing_ = false;   // the last connect failed: logged once until connected
  bool dropping_ = false;  // the buffer was full: logged once per connection state
  TransportStats stats_;
  TcpErrorStats errors_;
};

}  // namespace xflowd::exporter
