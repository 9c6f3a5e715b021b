// What changed between two configuration models, for a reload: which sFlow collectors,
// NetFlow/IPFIX exporters and port overrides come, go or change, and which whole sections
// differ (those a reload rebuilds).
#pragma once

#include <string>
#include <vector>

#include "agent/config/config.h"

namespace xflowd::agent::config {

// Items are named by their key: a collector by "address:port", an exporter by
// "address:port" (its protocol and version are what may change), an override by its pattern.
struct ListDiff {
  std::vector<std::string> added;
  std::vector<std::string> removed;
  std::vector<std::string> changed;
  bool empty() const { return added.empty() && removed.empty() && changed.empty(); }
};

struct ConfigDiff {
  ListDiff collectors;      // agent.collectors (sFlow receivers)
  ListDiff exporters;       // flow.collectors
  ListDiff port_overrides;  // ports.overrides
  bool agent = false;       // agent address, sub-agent id or datagram size
  bool ports = false;       // the settings every port shares
  bool flow_cache = false;  // cache size, timeouts, key fields, templates, observation domain
  bool source = false;      // where packets come from (a restart, not a reload)
  bool log = false;
  bool run = false;         // seed or duration
  bool self_check = false;  // window, flag-after, min-samples
  bool drops = false;       // [drops] enabled, sampling-rate, max-per-s
  bool empty() const {
    return collectors.empty() && exporters.empty() && port_overrides.empty() && !agent && !ports &&
           !flow_cache && !source && !log && !run && !self_check;
  }
};

ConfigDiff Diff(const Config& before, const Config& after);

}  // namespace xflowd::agent::config
