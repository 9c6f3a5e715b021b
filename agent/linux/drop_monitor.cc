#include "agent/linux/drop_monitor.h"

#ifdef XFLOWD_HAVE_DROPMON_GENL
#include "hal/dropmon_genl/dropmon_genl.h"
#endif

namespace xflowd::agent::os_linux {

std::unique_ptr<hal::DropSource> OpenDrops(const config::DropsConfig& config,
                                           const hal::base::Clock& clock,
                                           hal::base::Logger& logger) {
  if (!config.enabled) return nullptr;
#ifdef XFLOWD_HAVE_DROPMON_GENL
  hal::dropmon_genl::DropMonitorOptions o;
  auto source = hal::dropmon_genl::OpenDropMonitor(o, clock, logger);
  if (!source.ok()) {
    logger.Log(hal::base::LogLevel::kWarning, "%s; running on without discard samples",
               source.status().message().c_str());
    return nullptr;
  }
  logger.Log(hal::base::LogLevel::kInfo, "drop monitor (NET_DM) started, packet alert mode");
  return std::move(source.value());
#else
  (void)clock;
  logger.Log(hal::base::LogLevel::kWarning,
             "drops: this build has no drop monitor (built without libnl-genl); running on "
             "without discard samples");
  return nullptr;
#endif
}

}  // namespace xflowd::agent::os_linux
