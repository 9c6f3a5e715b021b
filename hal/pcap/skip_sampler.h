// SkipSampler: software 1-in-N sampling for the pcap sources. Draws the number of packets to
// the next sample uniformly from [1, 2N-1] (mean N) with the caller's seeded PRNG, like the
// sFlow agent's software samplers; N = 1 takes every packet and draws nothing.
#pragma once

#include <cstdint>

#include "hal/base/prng.h"

namespace xflowd::hal::pcap {

class SkipSampler {
 public:
  // rate 0 is treated as 1.
  SkipSampler(uint32_t rate, uint64_t seed) : rate_(rate ? rate : 1), prng_(seed) {
    skip_ = NextSkip();
  }

  uint32_t rate() const { return rate_; }
  // True if this packet is taken. Never allocates.
  bool Take() {
    if (rate_ == 1) return true;
    if (--skip_ > 0) return false;
    skip_ = NextSkip();
    return true;
  }

 private:
  uint64_t NextSkip() {
    if (rate_ == 1) return 1;
    const uint64_t hi = 2 * uint64_t{rate_} - 1;  // <= 2^33 - 3: fits the 64-bit draw
    return prng_.Uniform64(1, hi);
  }

  uint32_t rate_;
  base::Prng prng_;
  uint64_t skip_ = 1;
};

}  // namespace xflowd::hal::pcap
