// A build without the simulated switch (the firmware profile, XFLOWD_BUILD_SIM=OFF).
#include "agent/run/run.h"

namespace xflowd::agent::run {

bool HaveSim() { return false; }

int RunSim(const config::Config&, hal::base::Logger&, const daemon::ConfigLoader&,
           const ServiceHooks&) {
  return kExitUsage;  // CheckSupported refuses --sim first
}

}  // namespace xflowd::agent::run
