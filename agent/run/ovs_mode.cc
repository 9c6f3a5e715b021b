// --ovs: the ports of an Open vSwitch, from OVSDB, sampled by OVS itself (docs/ovs.md).
#include "agent/ovs/ovs_platform.h"
#include "agent/run/run.h"

namespace xflowd::agent::run {

bool HaveOvs() { return true; }

int RunOvs(const config::Config& config, hal::base::Logger& logger,
           const daemon::ConfigLoader& loader, const ServiceHooks& service) {
  hal::base::SystemClock clock;
  auto platform = ovs::OvsPlatform::Create(config.source.ovs, clock, logger);
  if (!platform.ok()) return Fail(logger, platform.status());
  return RunDaemon(config, (*platform)->platform(), clock, logger, loader, service);
}

}  // namespace xflowd::agent::run
