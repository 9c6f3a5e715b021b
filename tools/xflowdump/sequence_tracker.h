// Sequence-number accounting for one stream of sFlow sequence numbers (an agent's datagrams, a
// sampler's flow samples, a poller's counter samples, a notifier's discards).
//
//   next        last + 1
//   gap         last + 2 .. last + 2^24: (seq - last - 1) numbers missing
//   duplicate   == last
//   late        a little behind (less than kLateWindow): reordered on the way; it was counted
//               missing when the gap opened, so missing goes down by one
//   reset       the agent restarted (the caller says so: its uptime went backwards), the
//               number went back to 0 or 1, or it jumped too far either way to be loss
//
// All arithmetic is modulo 2^32, so wrapping from 0xffffffff to 0 is "next".
#pragma once

#include <cstdint>

namespace xflowd::tools::xflowdump {

struct SequenceCounts {
  uint64_t checked = 0;  // numbers compared with a predecessor
  uint64_t gaps = 0;     // forward jumps of more than one
  uint64_t missing = 0;  // numbers skipped by those jumps, less the late arrivals
  uint64_t late = 0;
  uint64_t duplicates = 0;
  uint64_t resets = 0;

  void Add(const SequenceCounts& o) {
    checked += o.checked;
    gaps += o.gaps;
    missing += o.missing;
    late += o.late;
    duplicates += o.duplicates;
    resets += o.resets;
  }
};

class SequenceTracker {
 public:
  enum class Step { kFirst, kNext, kGap, kDuplicate, kLate, kReset };
  struct Observation {
    Step step = Step::kFirst;
    uint32_t missing = 0;  // kGap: how many numbers were skipped
  };

  // Numbers further ahead than this are a restart, not loss (as in the agent's Sampler).
  static constexpr uint32_t kMaxGap = 1u << 24;
  // Numbers at most this far behind are late arrivals; further back is a restart.
  static constexpr uint32_t kLateWindow = 256;

  // `restarted`: the caller knows the source restarted (its agent's uptime went backwards).
  Observation Observe(uint32_t seq, bool restarted);

  bool started() const { return started_; }
  uint32_t last() const { return last_; }

 private:
  bool started_ = false;
  uint32_t last_ = 0;
};

// Adds one observation to `counts`.
void Count(const SequenceTracker::Observation& o, SequenceCounts* counts);

}  // namespace xflowd::tools::xflowdump
