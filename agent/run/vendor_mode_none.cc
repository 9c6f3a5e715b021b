// A build without hal/vendor (XFLOWD_WITH_VENDOR=OFF).
#include "agent/run/run.h"

namespace xflowd::agent::run {

bool HaveVendor() { return false; }

int RunVendor(const config::Config&, hal::base::Logger& logger, const daemon::ConfigLoader&,
              const ServiceHooks&) {
  logger.Log(hal::base::LogLevel::kError,
             "source.vendor: this xflowd was built without vendor plugin support "
             "(XFLOWD_WITH_VENDOR=OFF): rebuild with it on");
  return kExitUsage;
}

}  // namespace xflowd::agent::run
