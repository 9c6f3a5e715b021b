// Time types. MonoTime is the monotonic clock (intervals, timers, sFlow uptime); WallTime is
// UTC since the Unix epoch (timestamps in records). Both are nanosecond counts in int64.
#pragma once

#include <chrono>
#include <cstdint>

namespace xflowd::hal::base {

using Duration = std::chrono::nanoseconds;
using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::nanoseconds;
using std::chrono::seconds;

namespace internal {
template <typename Tag>
class TimePoint {
 public:
  constexpr TimePoint() = default;
  constexpr explicit TimePoint(Duration since_origin) : d_(since_origin) {}
  static constexpr TimePoint FromNs(int64_t ns) { return TimePoint(Duration(ns)); }
  static constexpr TimePoint FromMs(int64_t ms) { return TimePoint(milliseconds(ms)); }
  static constexpr TimePoint FromSeconds(int64_t s) { return TimePoint(seconds(s)); }

  constexpr Duration since_origin() const { return d_; }
  constexpr int64_t ns() const { return d_.count(); }
  constexpr int64_t ms() const { return d_.count() / 1000000; }
  constexpr int64_t seconds_count() const { return d_.count() / 1000000000; }

  constexpr TimePoint operator+(Duration d) const { return TimePoint(d_ + d); }
  constexpr TimePoint operator-(Duration d) const { return TimePoint(d_ - d); }
  constexpr Duration operator-(TimePoint o) const { return d_ - o.d_; }
  TimePoint& operator+=(Duration d) {
    d_ += d;
    return *this;
  }
  constexpr bool operator<(TimePoint o) const { return d_ < o.d_; }
  constexpr bool operator<=(TimePoint o) const { return d_ <= o.d_; }
  constexpr bool operator>(TimePoint o) const { return d_ > o.d_; }
  constexpr bool operator>=(TimePoint o) const { return d_ >= o.d_; }
  constexpr bool operator==(TimePoint o) const { return d_ == o.d_; }
  constexpr bool operator!=(TimePoint o) const { return d_ != o.d_; }

 private:
  Duration d_{0};
};
}  // namespace internal

struct MonoTag {};
struct WallTag {};
using MonoTime = internal::TimePoint<MonoTag>;  // CLOCK_MONOTONIC (or sim time)
using WallTime = internal::TimePoint<WallTag>;  // CLOCK_REALTIME, UTC since 1970

inline constexpr int64_t ToMs(Duration d) {
  return std::chrono::duration_cast<milliseconds>(d).count();
}

}  // namespace xflowd::hal::base
