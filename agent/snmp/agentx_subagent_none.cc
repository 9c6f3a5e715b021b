// A build without Net-SNMP: validation refuses snmp.enabled already; this says it again should
// a caller get here.
#include "agent/snmp/agentx_subagent.h"

namespace xflowd::agent::snmp {

bool HaveSnmp() { return false; }

hal::base::Result<std::unique_ptr<AgentxSubagent>> StartAgentxSubagent(const config::SnmpConfig&,
                                                                       daemon::Daemon&,
                                                                       hal::base::Logger&) {
  return hal::base::InvalidArgumentError(
      "snmp.enabled: this xflowd was built without Net-SNMP (libsnmp-dev)");
}

}  // namespace xflowd::agent::snmp
