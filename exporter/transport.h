// Transport: sends one datagram to one collector (UDP v4/v6, or a capture for tests).
#pragma once

#include <cstdint>
#include <string>

#include "hal/base/byte_view.h"

namespace xflowd::exporter {

struct TransportStats {
  uint64_t datagrams_sent = 0;
  uint64_t bytes_sent = 0;
  uint64_t send_errors = 0;  // counted, never fatal: the next datagram is tried as usual
  // Connections established so far by a stream transport (TCP); 0 for datagram transports.
  // A change tells an IPFIX exporter to send its templates again at once (RFC 7011 sec 8).
  uint64_t sessions = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Data plane: never blocks, never throws. False on error (counted in stats()).
  virtual bool Send(hal::base::ByteView datagram) = 0;
  virtual const TransportStats& stats() const = 0;
  // For logs and xflowctl: "udp 192.0.2.1:6343".
  virtual std::string Describe() const = 0;
};

}  // namespace xflowd::exporter
