#include "agent/config/diff.h"

#include <functional>
#include <map>
#include <tuple>

namespace xflowd::agent::config {
namespace {

bool Same(const hal::base::Endpoint& a, const hal::base::Endpoint& b) {
  return a.address == b.address && a.port == b.port;
}

// Keys each item, then compares the items that share a key with `same`.
template <typename T>
ListDiff DiffList(const std::vector<T>& before, const std::vector<T>& after,
                  const std::function<std::string(const T&)>& key,
                  const std::function<bool(const T&, const T&)>& same) {
  std::map<std::string, const T*> old_items;
  for (const T& item : before) old_items.emplace(key(item), &item);
  ListDiff d;
  std::map<std::string, bool> seen;
  for (const T& item : after) {
    const std::string k = key(item);
    if (!seen.emplace(k, true).second) continue;
    auto it = old_items.find(k);
    if (it == old_items.end()) {
      d.added.push_back(k);
    } else if (!same(*it->second, item)) {
      d.changed.push_back(k);
    }
  }
  for (const T& item : before) {
    const std::string k = key(item);
    if (seen.count(k) == 0) {
      d.removed.push_back(k);
      seen.emplace(k, true);
    }
  }
  return d;
}

bool SameAgent(const AgentConfig& a, const AgentConfig& b) {
  return a.address == b.address && a.sub_agent_id == b.sub_agent_id &&
         a.max_datagram_bytes == b.max_datagram_bytes;
}

bool SamePorts(const PortsConfig& a, const PortsConfig& b) {
  return a.sampling_rate == b.sampling_rate && a.polling_interval_s == b.polling_interval_s &&
         a.header_bytes == b.header_bytes && a.max_samples_per_s == b.max_samples_per_s &&
         a.expanded_samples == b.expanded_samples && a.direction == b.direction &&
         a.extended_router == b.extended_router;
}

bool SameCache(const FlowConfig& a, const FlowConfig& b) {
  auto tie = [](const FlowConfig& f) {
    return std::tie(f.default_version, f.observation_domain, f.max_datagram_bytes, f.cache_size,
                    f.inactive_timeout_s, f.active_timeout_s, f.tcp_timeout_s, f.udp_timeout_s,
                    f.icmp_timeout_s, f.tcp_end, f.template_refresh_packets, f.template_refresh_s,
                    f.key_macs, f.key_mpls);
  };
  return tie(a) == tie(b);
}

bool SameSource(const SourceConfig& a, const SourceConfig& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case SourceKind::kSim:
      return a.sim.ports == b.sim.ports && a.sim.speed_bps == b.sim.speed_bps &&
             a.sim.load == b.sim.load && a.sim.sample_loss == b.sim.sample_loss &&
             a.sim.pow2 == b.sim.pow2 && a.sim.truth_path == b.sim.truth_path &&
             a.sim.drops_per_s == b.sim.drops_per_s;
    case SourceKind::kInterface:
      return a.interface.name == b.interface.name &&
             a.interface.promiscuous == b.interface.promiscuous &&
             a.interface.snaplen == b.interface.snaplen &&
             a.interface.threads == b.interface.threads;
    case SourceKind::kFile:
      return a.file.path == b.file.path && a.file.reader == b.file.reader &&
             a.file.threads == b.file.threads;
    case SourceKind::kVendor:
      return a.vendor.plugin == b.vendor.plugin && a.vendor.options == b.vendor.options;
    case SourceKind::kLinux: {
      const LinuxSourceConfig& x = a.linux_ports;
      const LinuxSourceConfig& y = b.linux_ports;
      if (x.patterns.size() != y.patterns.size()) return false;
      for (size_t i = 0; i < x.patterns.size(); ++i) {
        if (x.patterns[i].pattern != y.patterns[i].pattern ||
            x.patterns[i].backend != y.patterns[i].backend) {
          return false;
        }
      }
      return x.psample_group == y.psample_group && x.nflog_group == y.nflog_group &&
             x.ingress_only == y.ingress_only && x.route_table == y.route_table;
    }
    case SourceKind::kOvs:
      return a.ovs.db_socket == b.ovs.db_socket && a.ovs.bridges == b.ovs.bridges;
  }
  return true;
}

}  // namespace

ConfigDiff Diff(const Config& before, const Config& after) {
  ConfigDiff d;
  d.collectors = DiffList<SflowCollector>(
      before.agent.collectors, after.agent.collectors,
      [](const SflowCollector& e) { return e.ToString(); },
      [](const SflowCollector& a, const SflowCollector& b) {
        return Same(a, b) && a.send == b.send;
      });
  d.exporters = DiffList<FlowCollector>(
      before.flow.collectors, after.flow.collectors,
      [](const FlowCollector& c) { return c.endpoint.ToString(); },
      [](const FlowCollector& a, const FlowCollector& b) {
        return a.version == b.version && a.tcp == b.tcp && a.send == b.send;
      });
  d.port_overrides = DiffList<PortOverride>(
      before.ports.overrides, after.ports.overrides,
      [](const PortOverride& o) { return o.pattern; },
      [](const PortOverride& a, const PortOverride& b) {
        return a.sampling_rate == b.sampling_rate && a.polling_interval_s == b.polling_interval_s &&
               a.header_bytes == b.header_bytes && a.enabled == b.enabled &&
               a.backend == b.backend && a.direction == b.direction &&
               a.extended_router == b.extended_router;
      });
  d.agent = !SameAgent(before.agent, after.agent);
  d.ports = !SamePorts(before.ports, after.ports);
  d.flow_cache = !SameCache(before.flow, after.flow);
  d.source = !SameSource(before.source, after.source);
  d.log = before.log.level != after.log.level || before.log.quiet != after.log.quiet;
  d.run = before.seed != after.seed || before.duration_s != after.duration_s;
  d.self_check = before.self_check.window_s != after.self_check.window_s ||
                 before.self_check.flag_after != after.self_check.flag_after ||
                 before.self_check.min_samples != after.self_check.min_samples;
  d.drops = before.drops.enabled != after.drops.enabled ||
            before.drops.sampling_rate != after.drops.sampling_rate ||
            before.drops.max_per_s != after.drops.max_per_s;
  return d;
}

}  // namespace xflowd::agent::config
