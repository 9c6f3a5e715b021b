// PacketSource: where samples come from (PSAMPLE, AF_PACKET, NFLOG, the simulator).
#pragma once

#include <cstddef>
#include <cstdint>

#include "hal/packet_sample.h"

namespace xflowd::hal {

struct PacketSourceStats {
  uint64_t samples = 0;       // handed to the sink
  uint64_t source_drops = 0;  // lost before we saw them (kernel/ASIC/queue overrun)
  uint64_t parse_errors = 0;  // malformed input from the source, dropped
};

class PacketSource {
 public:
  virtual ~PacketSource() = default;
  // A file descriptor that becomes readable when samples are waiting (for epoll).
  virtual int fd() const = 0;
  // Hands up to `budget` waiting samples to `sink`, without blocking. Returns how many.
  virtual size_t Drain(PacketSampleSink& sink, size_t budget) = 0;
  virtual PacketSourceStats stats() const = 0;
};

}  // namespace xflowd::hal
