// Clock: the only way code reads time, so tests can drive time by hand.
#pragma once

#include "hal/base/time.h"

namespace xflowd::hal::base {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual MonoTime Now() const = 0;
  virtual WallTime WallNow() const = 0;
};

// CLOCK_MONOTONIC and CLOCK_REALTIME.
class SystemClock final : public Clock {
 public:
  MonoTime Now() const override;
  WallTime WallNow() const override;
};

// Time moves only when told. Wall time = wall_at_zero + monotonic time.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(MonoTime start = MonoTime(),
                       WallTime wall_at_zero = WallTime::FromSeconds(1767225600))  // 2026-01-01
      : now_(start), wall_at_zero_(wall_at_zero) {}

  MonoTime Now() const override { return now_; }
  WallTime WallNow() const override { return wall_at_zero_ + now_.since_origin(); }

  void Advance(Duration d) { now_ += d; }
  void Set(MonoTime t) { now_ = t; }

 private:
  MonoTime now_;
  WallTime wall_at_zero_;
};

}  // namespace xflowd::hal::base
