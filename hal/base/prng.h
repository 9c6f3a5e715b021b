// Seeded PRNG (xoshiro256**, seeded through splitmix64). Every random draw in xflowd comes
// from an instance of this passed in by the owner: same seed, same sequence, on every
// architecture (no rand(), no std::random distributions, whose output is
// implementation-defined).
#pragma once

#include <cstdint>

namespace xflowd::hal::base {

class Prng {
 public:
  explicit Prng(uint64_t seed) { Seed(seed); }

  void Seed(uint64_t seed);
  uint64_t Next64();
  uint32_t Next32() { return static_cast<uint32_t>(Next64() >> 32); }
  // Uniform in [lo, hi], inclusive, unbiased. Requires lo <= hi.
  uint32_t Uniform(uint32_t lo, uint32_t hi);
  uint64_t Uniform64(uint64_t lo, uint64_t hi);
  // Uniform in [0, 1).
  double NextDouble() { return static_cast<double>(Next64() >> 11) * 0x1.0p-53; }
  // Standard normal (Box-Muller), for traffic models.
  double Normal();
  // Exponential with the given mean.
  double Exponential(double mean);
  // A fresh independent generator seeded from this one (for per-port streams).
  Prng Fork() { return Prng(Next64()); }

 private:
  uint64_t s_[4];
};

}  // namespace xflowd::hal::base
