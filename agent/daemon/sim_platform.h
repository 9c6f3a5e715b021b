// The simulated switch as a daemon Platform: how `xflowd --sim` wires it, shared with the
// tests so they run the same wiring. Header-only: only main and the tests (which link the
// simulator) include it; the daemon library itself does not depend on sim/.
#pragma once

#include "agent/daemon/daemon.h"
#include "sim/sim_switch.h"

namespace xflowd::agent::daemon {

// `sw` must outlive the Platform and the Daemon built on it.
inline Platform SimPlatform(sim::SimSwitch& sw) {
  Platform p;
  p.packets = &sw;
  p.sampling = &sw;
  p.counters = &sw;
  p.ports = &sw;
  p.advance = [&sw](hal::base::MonoTime now) { sw.AdvanceTo(now); };
  // Traffic starts when the loop does, not when the switch was made.
  p.start = [&sw](hal::base::MonoTime now) { sw.SkipTo(now); };
  return p;
}

}  // namespace xflowd::agent::daemon
