// A build without the Linux back-ends (rtnetlink + AF_PACKET).
#include "agent/run/run.h"

namespace xflowd::agent::run {

bool HaveLinux() { return false; }

int RunLinux(const config::Config&, hal::base::Logger&, const daemon::ConfigLoader&,
             const ServiceHooks&) {
  return kExitUsage;  // CheckSupported refuses --sample first
}

}  // namespace xflowd::agent::run
