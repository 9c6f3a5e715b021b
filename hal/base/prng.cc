#include "hal/base/prng.h"

#include <cmath>

namespace xflowd::hal::base {

static uint64_t SplitMix64(uint64_t* x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static inline uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void Prng::Seed(uint64_t seed) {
  uint64_t x = seed;
  for (auto& s : s_) s = SplitMix64(&x);
}

uint64_t Prng::Next64() {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

uint64_t Prng::Uniform64(uint64_t lo, uint64_t hi) {
  uint64_t range = hi - lo;
  if (range == UINT64_MAX) return Next64();
  uint64_t n = range + 1;
  // Rejection sampling: reject the top partial bucket so every value is equally likely.
  uint64_t limit = UINT64_MAX - (UINT64_MAX % n);
  uint64_t x;
  do {
    x = Next64();
  } while (x >= limit);
  return lo + x % n;
}

uint32_t Prng::Uniform(uint32_t lo, uint32_t hi) {
  return static_cast<uint32_t>(Uniform64(lo, hi));
}

double Prng::Normal() {
  double u1 = NextDouble();
  double u2 = NextDouble();
  if (u1 < 1e-300) u1 = 1e-300;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

double Prng::Exponential(double mean) {
  double u = NextDouble();
  return -mean * std::log1p(-u);
}

}  // namespace xflowd::hal::base
