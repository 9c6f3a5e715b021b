// CounterSource: a port's counters, 64-bit, as the interface MIBs define them.
#pragma once

#include <cstdint>

#include "hal/base/status.h"

namespace xflowd::hal {

// Counters a source cannot provide stay at kUnknown32 / kUnknown64 and are exported as the
// sFlow "unknown" value (all ones).
struct PortCounters {
  static constexpr uint32_t kUnknown32 = 0xFFFFFFFFu;
  static constexpr uint64_t kUnknown64 = 0xFFFFFFFFFFFFFFFFull;

  uint64_t in_octets = kUnknown64;
  uint64_t in_ucast_pkts = kUnknown64;
  uint64_t in_multicast_pkts = kUnknown64;
  uint64_t in_broadcast_pkts = kUnknown64;
  uint64_t in_discards = kUnknown64;
  uint64_t in_errors = kUnknown64;
  uint64_t in_unknown_protos = kUnknown64;
  uint64_t out_octets = kUnknown64;
  uint64_t out_ucast_pkts = kUnknown64;
  uint64_t out_multicast_pkts = kUnknown64;
  uint64_t out_broadcast_pkts = kUnknown64;
  uint64_t out_discards = kUnknown64;
  uint64_t out_errors = kUnknown64;
  // dot3Stats (EtherLike-MIB); kUnknown32 when not available.
  bool has_ethernet = false;
  uint32_t dot3_alignment_errors = kUnknown32;
  uint32_t dot3_fcs_errors = kUnknown32;
  uint32_t dot3_single_collision_frames = kUnknown32;
  uint32_t dot3_multiple_collision_frames = kUnknown32;
  uint32_t dot3_sqe_test_errors = kUnknown32;
  uint32_t dot3_deferred_transmissions = kUnknown32;
  uint32_t dot3_late_collisions = kUnknown32;
  uint32_t dot3_excessive_collisions = kUnknown32;
  uint32_t dot3_internal_mac_transmit_errors = kUnknown32;
  uint32_t dot3_carrier_sense_errors = kUnknown32;
  uint32_t dot3_frame_too_longs = kUnknown32;
  uint32_t dot3_internal_mac_receive_errors = kUnknown32;
  uint32_t dot3_symbol_errors = kUnknown32;
};

class CounterSource {
 public:
  virtual ~CounterSource() = default;
  // Reads the port's counters now. NOT_FOUND if the port is gone.
  virtual base::Result<PortCounters> ReadCounters(uint32_t ifindex) = 0;
};

}  // namespace xflowd::hal
