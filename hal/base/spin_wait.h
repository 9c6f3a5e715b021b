// Waiting for the other side of a lock-free ring without burning a core.
#pragma once

#include <sched.h>
#include <time.h>

namespace xflowd::hal::base {

// Nothing to do: yield the core a few times (the other side is usually a block away), then
// sleep 20 us at a time, so a waiting side costs nothing on a busy host. `spins` counts the
// calls since the last progress; the caller resets it to 0 when there is work.
inline void SpinWait(unsigned* spins) {
  if (++*spins < 64) {
    sched_yield();
    return;
  }
  const timespec t{0, 20 * 1000};
  nanosleep(&t, nullptr);
}

}  // namespace xflowd::hal::base
