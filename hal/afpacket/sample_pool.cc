#include "hal/afpacket/sample_pool.h"

namespace xflowd::hal::afpacket {

uint64_t PacketsInDirection(const PortCounters& c, Direction direction) {
  const uint64_t* f[3];
  if (direction == Direction::kIngress) {
    f[0] = &c.in_ucast_pkts;
    f[1] = &c.in_multicast_pkts;
    f[2] = &c.in_broadcast_pkts;
  } else {
    f[0] = &c.out_ucast_pkts;
    f[1] = &c.out_multicast_pkts;
    f[2] = &c.out_broadcast_pkts;
  }
  bool any = false;
  uint64_t sum = 0;
  for (const uint64_t* p : f) {
    if (*p == PortCounters::kUnknown64) continue;
    any = true;
    sum += *p;
  }
  return any ? sum : PortCounters::kUnknown64;
}

void InterfacePool::Reset(const PortCounters& now) {
  uint64_t v = PacketsInDirection(now, direction_);
  have_last_ = v != PortCounters::kUnknown64;
  last_ = have_last_ ? v : 0;
}

uint64_t InterfacePool::Advance(const PortCounters& now) {
  uint64_t v = PacketsInDirection(now, direction_);
  if (v == PortCounters::kUnknown64) return 0;
  if (!have_last_ || v < last_) {
    have_last_ = true;
    last_ = v;
    return 0;
  }
  uint64_t d = v - last_;
  last_ = v;
  total_ += d;
  return d;
}

}  // namespace xflowd::hal::afpacket
