// Transport: sends one message to one collector (UDP v4/v6 datagrams, an IPFIX TCP stream, or a
// capture for tests).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "hal/base/byte_view.h"
#include "hal/base/time.h"

namespace xflowd::exporter {

struct TransportStats {
  uint64_t datagrams_sent = 0;  // messages accepted by Send
  uint64_t bytes_sent = 0;
  uint64_t send_errors = 0;  // counted, never fatal: the next datagram is tried as usual
  // Messages accepted by Send that are known not to have reached the collector: UDP datagrams
  // the collector refused (ICMP errors read back), TCP messages lost with a connection.
  uint64_t lost = 0;
};

enum class TransportState : uint8_t {
  kUp,          // messages go out (UDP: no refusal lately; TCP: connected)
  kConnecting,  // a stream is being set up; messages wait in its buffer
  kDown,        // UDP: the collector refuses datagrams; TCP: no connection, retry pending
};
const char* TransportStateName(TransportState state);  // "up", "connecting", "down"

struct TransportStatus {
  TransportState state = TransportState::kUp;
  int last_error = 0;  // errno of the most recent failure, 0 if none yet
  // Changes when a new stream starts (TCP: after a lost connection): the collector then has
  // no templates and IPFIX sequence numbers start again at 0. Constant for datagrams.
  uint64_t stream = 0;
  size_t pending_bytes = 0;  // accepted but not yet handed to the kernel
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Data plane: never blocks, never throws. False on error (counted in stats()).
  virtual bool Send(hal::base::ByteView datagram) = 0;
  // Control plane, about once a second (monotonic time): connect, flush and notice a closed
  // peer (TCP); read back the ICMP errors of earlier datagrams (UDP). Logs state changes.
  virtual void Poll(hal::base::MonoTime now) = 0;
  virtual TransportStatus status() const = 0;
  virtual const TransportStats& stats() const = 0;
  // For logs and xflowctl: "udp 192.0.2.1:6343".
  virtual std::string Describe() const = 0;
  // The mechanism's own counters for the exit summary: "refused 3, would block 0, ...".
  virtual std::string DescribeStats() const = 0;
  // The same counters by name, for `xflowctl stats` (docs/metrics.md). Empty by default.
  virtual std::vector<std::pair<const char*, uint64_t>> Counters() const { return {}; }
};

}  // namespace xflowd::exporter
