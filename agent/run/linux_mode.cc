// --sample: the ports of this Linux host or switch, followed as links come and go.
#include "agent/linux/linux_platform.h"
#include "agent/run/run.h"

namespace xflowd::agent::run {

bool HaveLinux() { return true; }

int RunLinux(const config::Config& config, hal::base::Logger& logger,
             const daemon::ConfigLoader& loader, const ServiceHooks& service) {
  hal::base::SystemClock clock;
  auto platform = os_linux::LinuxPlatform::Create(config.source.linux_ports, clock, logger);
  if (!platform.ok()) return Fail(logger, platform.status());
  return RunDaemon(config, (*platform)->platform(), clock, logger, loader, service);
}

}  // namespace xflowd::agent::run
