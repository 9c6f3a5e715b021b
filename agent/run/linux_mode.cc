// --sample: the ports of this Linux host or switch, followed as links come and go.
#include "agent/linux/drop_monitor.h"
#include "agent/linux/linux_platform.h"
#include "agent/run/run.h"
#include "hal/host/proc_files.h"

namespace xflowd::agent::run {

bool HaveLinux() { return true; }

int RunLinux(const config::Config& config, hal::base::Logger& logger,
             const daemon::ConfigLoader& loader, const ServiceHooks& service) {
  hal::base::SystemClock clock;
  auto platform = os_linux::LinuxPlatform::Create(config.source.linux_ports, clock, logger);
  if (!platform.ok()) return Fail(logger, platform.status());
  daemon::Platform p = (*platform)->platform();
  std::unique_ptr<hal::DropSource> drops = os_linux::OpenDrops(config.drops, clock, logger);
  p.drops = drops.get();
  std::unique_ptr<hal::host::ProcFiles> host_files;
  // Opened whatever host.enabled says (it holds nothing open), so a reload can turn the host
  // counters on.
  auto files = hal::host::ProcFiles::Create();
  if (files.ok()) {
    host_files = std::move(files).value();
    p.host_files = host_files.get();
  } else {
    logger.Log(hal::base::LogLevel::kWarning, "%s; no host counters",
               files.status().message().c_str());
  }
  return RunDaemon(config, p, clock, logger, loader, service);
}

}  // namespace xflowd::agent::run
