// A build without libpcap: no live capture (-r uses xflowd's own file reader).
#include "agent/run/run.h"

namespace xflowd::agent::run {

bool HavePcap() { return false; }

int RunInterface(const config::Config&, hal::base::Logger&, const daemon::ConfigLoader&,
                 const ServiceHooks&) {
  return kExitUsage;  // CheckSupported refuses -i first
}

}  // namespace xflowd::agent::run
