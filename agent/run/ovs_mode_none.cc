// A build without the Open vSwitch back-end.
#include "agent/run/run.h"

namespace xflowd::agent::run {

bool HaveOvs() { return false; }

int RunOvs(const config::Config& config, hal::base::Logger& logger, const daemon::ConfigLoader&,
           const ServiceHooks&) {
  (void)config;
  logger.Log(hal::base::LogLevel::kError,
             "--ovs: this xflowd was built without the Open vSwitch back-end "
             "(XFLOWD_WITH_OVS=OFF)");
  return kExitUsage;
}

}  // namespace xflowd::agent::run
