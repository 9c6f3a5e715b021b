// The sFlow MIB served to snmpd over AgentX (docs/snmp.md). snmpd is the master and owns the
// security (communities, SNMPv3 users); xflowd registers sFlowAgent as a sub-agent. Net-SNMP runs
// on the daemon's event loop: its sockets are loop fds and its alarms (pings, reconnects) and
// the receivers' timeouts run on a short loop timer; there is no extra thread.
//
// This header includes nothing of Net-SNMP. A build without it (the minimal profile) links
// agentx_subagent_none.cc, whose Start says so.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "agent/config/config.h"
#include "agent/daemon/daemon.h"
#include "hal/base/log.h"
#include "hal/base/status.h"

namespace xflowd::agent::snmp {

class AgentxSubagent {
 public:
  virtual ~AgentxSubagent() = default;
  // One line for the exit summary (sets, claims, timeouts).
  virtual std::string Summary() const = 0;
  // The same as counters, for `xflowctl stats` ("snmp").
  virtual std::vector<std::pair<std::string, uint64_t>> Counters() const = 0;
};

// Whether this build has Net-SNMP.
bool HaveSnmp();

// Registers the MIB, connects to the master at config.agentx_socket (or keeps trying every
// ping interval: an absent snmpd is a warning, not an error) and hooks into the daemon's loop
// and reload. `daemon` and `logger` must outlive the result; only one may exist at a time
// (Net-SNMP's state is per process).
hal::base::Result<std::unique_ptr<AgentxSubagent>> StartAgentxSubagent(
    const config::SnmpConfig& config, daemon::Daemon& daemon, hal::base::Logger& logger);

}  // namespace xflowd::agent::snmp
