#include "hal/base/clock.h"

#include <time.h>

namespace xflowd::hal::base {

static int64_t ReadNs(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

MonoTime SystemClock::Now() const { return MonoTime::FromNs(ReadNs(CLOCK_MONOTONIC)); }
WallTime SystemClock::WallNow() const { return WallTime::FromNs(ReadNs(CLOCK_REALTIME)); }

}  // namespace xflowd::hal::base
