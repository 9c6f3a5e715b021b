// Builds without the AF_PACKET back-end: -i runs on libpcap only.
#include "agent/run/interface_fanout.h"

namespace xflowd::agent::run {

uint32_t FanoutWorkers(uint32_t) { return 1; }

int RunInterfaceFanout(const config::Config&, hal::base::Logger& logger,
                       const daemon::ConfigLoader&, const ServiceHooks&) {
  return Fail(logger, hal::base::UnimplementedError("built without AF_PACKET"),
              "-i with --threads 2 or more");
}

}  // namespace xflowd::agent::run
