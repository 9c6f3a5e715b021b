// Sample pool for AF_PACKET (and NFLOG) sampling.
//
// sFlow's sample_pool is "the total number of packets that could have been sampled": for a
// kernel filter that draws a random number per packet, that is every packet the interface
// received (ingress) and/or sent (egress) while the sampler ran. The socket itself cannot say
// (PACKET_STATISTICS counts only packets the filter *accepted*), so the pool comes from the
// interface's own packet counters, read through the CounterSource (rtnetlink IFLA_STATS64):
//
//   InterfacePool pool(Direction::kIngress);      // per sampler (ifindex + direction)
//   pool.Reset(counters.ReadCounters(ifindex));     // when sampling starts
//   ... on every poll tick, before exporting samples:
//   sampler.sample_pool += pool.Advance(counters.ReadCounters(ifindex));
//
// Between ticks the agent may estimate the pool as samples x rate; Advance() gives the true
// value. Kernel drops (tp_drops) do *not* come out of the pool: dropped samples were still
// drawn from it; they are reported as sFlow `drops`.
#pragma once

#include <cstdint>

#include "hal/counter_source.h"
#include "hal/packet_sample.h"

namespace xflowd::hal::afpacket {

// Packets an interface handled in one direction, from its MIB counters: ingress = in_ucast +
// in_multicast + in_broadcast, egress = out_*, each counter that is unknown (all ones)
// counting as 0. Returns PortCounters::kUnknown64 if every one of them is unknown.
uint64_t PacketsInDirection(const PortCounters& c, Direction direction);

class InterfacePool {
 public:
  explicit InterfacePool(Direction direction) : direction_(direction) {}
  // Starts counting from these counters (no packets reported).
  void Reset(const PortCounters& now);
  // Packets since the last Reset/Advance. A counter that went backwards (the device was
  // re-created, or counters were cleared) restarts from the new value and reports 0 for that
  // interval; unknown counters report 0.
  uint64_t Advance(const PortCounters& now);
  uint64_t total() const { return total_; }

 private:
  Direction direction_;
  bool have_last_ = false;
  uint64_t last_ = 0;
  uint64_t total_ = 0;
};

}  // namespace xflowd::hal::afpacket
