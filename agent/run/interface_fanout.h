// -i IFACE with AF_PACKET fanout workers (source.interface.threads / --threads >= 2).
#pragma once

#include "agent/run/run.h"

namespace xflowd::agent::run {

// Workers for `threads` (0 = one per core).
uint32_t FanoutWorkers(uint32_t threads);
// Runs the daemon on a hal::afpacket::FanoutSource of FanoutWorkers(threads) workers.
int RunInterfaceFanout(const config::Config& config, hal::base::Logger& logger,
                       const daemon::ConfigLoader& loader, const ServiceHooks& service);

}  // namespace xflowd::agent::run
