// DiscardNotifier: turns drop events (hal::DropSource) into sFlow discard samples (0:5,
// sflow_drops.txt) for one Receiver. Per event, in this order:
//   1. the reason map (drop_reasons.h): control traps and teardown frees are ignored;
//   2. 1-in-N sampling (sampling_rate; skips drawn uniformly in [1, 2N-1] from a seeded PRNG,
//      like the software samplers), so a collector sees 1/N of the drops when N > 1;
//   3. the rate limit: at most max_per_s samples per tick second for the whole agent, so a
//      drop storm cannot flood the collector. What the limit holds back is counted
//      (stats().rate_limited) and reported in the next discard sample of the same data source
//      (its `drops` field), as the spec asks.
// Each data source keeps its own discard sequence number: the input port's ifIndex
// (0:ifIndex), or 0:0 (the agent itself) when the kernel names no input port. The sample
// carries the packet's first header_bytes as a sampled_header (0:1): Ethernet when the bytes
// start at a MAC header, IPv4/IPv6 when a software drop starts at the network header.
// Data plane: no allocation, no throw, no lock.
#pragma once

#include <array>
#include <cstdint>

#include "agent/sflow/drop_reasons.h"
#include "agent/sflow/receiver.h"
#include "hal/base/prng.h"
#include "hal/base/time.h"
#include "hal/drop_source.h"

namespace xflowd::agent::sflow {

struct DiscardConfig {
  uint32_t sampling_rate = 1;  // 1-in-N drops reported; 1 = every one
  uint32_t max_per_s = 100;    // discard samples per second at most; 0 = none
  uint32_t header_bytes = 128;
};

struct DiscardStats {
  uint64_t events = 0;        // drop events seen
  uint64_t software = 0;      // of which kernel (software) drops
  uint64_t hardware = 0;      // of which devlink trap (hardware) drops
  uint64_t ignored = 0;       // not drops (control traps, teardown), by the reason map
  uint64_t sampled_out = 0;   // skipped by 1-in-N sampling
  uint64_t rate_limited = 0;  // held back by max_per_s (reported as drops in later samples)
  uint64_t exported = 0;      // discard samples handed to the receiver
  uint64_t oversize = 0;      // the receiver refused the sample (too big for a datagram)
  uint64_t no_receiver = 0;   // no receiver attached: lost
  uint64_t untracked = 0;     // more data sources than the table holds: sent as 0:0
};

class DiscardNotifier final : public hal::DropEventSink {
 public:
  // `receiver` may be null (then events are counted in no_receiver). `seed` seeds the sampling.
  DiscardNotifier(const DiscardConfig& config, Receiver* receiver, uint64_t seed);

  void OnDrop(const hal::DropEvent& event) override;
  // Once a second: a new max_per_s budget.
  void Tick(hal::base::MonoTime now);
  // Control plane (reload): new settings; sequence numbers and pending drops are kept.
  void Reconfigure(const DiscardConfig& config);
  void SetReceiver(Receiver* receiver) { receiver_ = receiver; }

  const DiscardConfig& config() const { return config_; }
  const DiscardStats& stats() const { return stats_; }
  // The last discard sequence number sent for data source 0:ifindex (0: none yet).
  uint32_t sequence(uint32_t ifindex) const;

  static constexpr size_t kTableSize = 1024;  // power of two: ~1000 data sources

 private:
  struct Slot {
    bool used = false;
    uint32_t ifindex = 0;
    uint32_t sequence = 0;
    uint32_t pending_drops = 0;  // rate-limited since this source's last sample
  };
  Slot* SlotFor(uint32_t ifindex, bool create);
  const Slot* FindSlot(uint32_t ifindex) const;
  uint32_t NextSkip();

  DiscardConfig config_;
  Receiver* receiver_;
  hal::base::Prng prng_;
  DropReasonMap reasons_;
  uint32_t skip_ = 1;
  uint32_t budget_;
  uint32_t used_slots_ = 0;
  Slot device_;  // 0:0, and every source the table has no room for
  std::array<Slot, kTableSize> slots_{};
  DiscardStats stats_;
};

}  // namespace xflowd::agent::sflow
