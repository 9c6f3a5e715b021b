#include "agent/config/validate.h"

#include <string>

namespace xflowd::agent::config {
namespace {

using hal::base::InvalidArgumentError;
using hal::base::Status;

Status Range(const std::string& setting, uint64_t value, uint64_t min, uint64_t max) {
  if (value >= min && value <= max) return Status::Ok();
  return InvalidArgumentError(setting + ": " + std::to_string(value) + " is out of range " +
                              std::to_string(min) + ".." + std::to_string(max));
}

Status Fraction(const std::string& setting, double value) {
  if (value >= 0.0 && value <= 1.0) return Status::Ok();
  return InvalidArgumentError(setting + ": " + std::to_string(value) + " is out of range 0..1");
}

Status ValidateAgent(const AgentConfig& a) {
  for (const hal::base::Endpoint& c : a.collectors) {
    if (c.port == 0)
      return InvalidArgumentError("agent.collectors: " + c.ToString() + " has port 0");
  }
  return Range("agent.max_datagram_bytes", a.max_datagram_bytes, kDatagramBytesMin,
               kDatagramBytesMax);
}

Status ValidatePorts(const PortsConfig& p) {
  if (p.sampling_rate) {
    if (Status s = Range("ports.sampling_rate", *p.sampling_rate, 1, UINT32_MAX); !s.ok()) return s;
  }
  if (Status s = Range("ports.polling_interval_s", p.polling_interval_s, 0, 86400); !s.ok()) {
    return s;
  }
  if (Status s = Range("ports.header_bytes", p.header_bytes, 14, 256); !s.ok()) return s;
  for (size_t i = 0; i < p.overrides.size(); ++i) {
    const PortOverride& o = p.overrides[i];
    const std::string at = "ports.overrides[" + std::to_string(i) + "]";
    if (o.pattern.empty()) return InvalidArgumentError(at + ".pattern: empty");
    if (o.sampling_rate) {
      if (Status s = Range(at + ".sampling_rate", *o.sampling_rate, 1, UINT32_MAX); !s.ok()) {
        return s;
      }
    }
    if (o.polling_interval_s) {
      if (Status s = Range(at + ".polling_interval_s", *o.polling_interval_s, 0, 86400); !s.ok()) {
        return s;
      }
    }
  }
  return Status::Ok();
}

Status ValidateFlow(const FlowConfig& f) {
  for (size_t i = 0; i < f.collectors.size(); ++i) {
    const FlowCollector& c = f.collectors[i];
    const std::string at = "flow.collectors[" + std::to_string(i) + "]";
    if (c.version != 5 && c.version != 9 && c.version != 10) {
      return InvalidArgumentError(at + ".version: " + std::to_string(c.version) +
                                  " is not 5, 9 or 10");
    }
    if (c.tcp && c.version != 10) {
      return InvalidArgumentError(at + ".tcp: only IPFIX (version 10) runs over TCP");
    }
    if (c.endpoint.port == 0) return InvalidArgumentError(at + ".endpoint: port 0");
  }
  if (f.default_version != 5 && f.default_version != 9 && f.default_version != 10) {
    return InvalidArgumentError("flow.default_version: " + std::to_string(f.default_version) +
                                " is not 5, 9 or 10");
  }
  struct Check {
    const char* setting;
    uint64_t value, min, max;
  };
  const Check checks[] = {
      {"flow.max_datagram_bytes", f.max_datagram_bytes, kDatagramBytesMin, kDatagramBytesMax},
      {"flow.cache_size", f.cache_size, 16, 1u << 26},
      {"flow.inactive_timeout_s", f.inactive_timeout_s, 1, 1000000},
      {"flow.active_timeout_s", f.active_timeout_s, 1, 1000000},
      {"flow.tcp_timeout_s", f.tcp_timeout_s, 0, 1000000},
      {"flow.udp_timeout_s", f.udp_timeout_s, 0, 1000000},
      {"flow.icmp_timeout_s", f.icmp_timeout_s, 0, 1000000},
      {"flow.template_refresh_packets", f.template_refresh_packets, 0, 1000000},
      {"flow.template_refresh_s", f.template_refresh_s, 0, 86400},
  };
  for (const Check& c : checks) {
    if (Status s = Range(c.setting, c.value, c.min, c.max); !s.ok()) return s;
  }
  return Status::Ok();
}

Status ValidateSource(const SourceConfig& s) {
  switch (s.kind) {
    case SourceKind::kSim:
      if (Status st = Range("source.sim.ports", s.sim.ports, 1, 4096); !st.ok()) return st;
      if (s.sim.speed_bps == 0) return InvalidArgumentError("source.sim.speed_bps: must be > 0");
      if (Status st = Fraction("source.sim.load", s.sim.load); !st.ok()) return st;
      return Fraction("source.sim.sample_loss", s.sim.sample_loss);
    case SourceKind::kInterface:
      if (s.interface.name.empty()) return InvalidArgumentError("source.interface.name: empty");
      return Range("source.interface.snaplen", s.interface.snaplen, 64, 65535);
    case SourceKind::kFile:
      if (s.file.path.empty()) return InvalidArgumentError("source.file.path: empty");
      return Status::Ok();
    case SourceKind::kLinux:
      if (s.linux_ports.patterns.empty()) {
        return InvalidArgumentError("source.linux.patterns: no port pattern");
      }
      for (size_t i = 0; i < s.linux_ports.patterns.size(); ++i) {
        if (s.linux_ports.patterns[i].pattern.empty()) {
          return InvalidArgumentError("source.linux.patterns[" + std::to_string(i) +
                                      "].pattern: empty");
        }
      }
      if (Status st =
              Range("source.linux.psample_group", s.linux_ports.psample_group, 1, 0xFFFFFFFEu);
          !st.ok()) {
        return st;
      }
      return Range("source.linux.nflog_group", s.linux_ports.nflog_group, 0, 65000);
  }
  return Status::Ok();
}

}  // namespace

Status Validate(const Config& config) {
  if (Status s = ValidateAgent(config.agent); !s.ok()) return s;
  if (Status s = ValidatePorts(config.ports); !s.ok()) return s;
  if (Status s = ValidateFlow(config.flow); !s.ok()) return s;
  if (Status s = ValidateSource(config.source); !s.ok()) return s;
  if (config.duration_s && *config.duration_s == 0) {
    return InvalidArgumentError("duration_s: must be at least 1 (unset runs until stopped)");
  }
  return Status::Ok();
}

}  // namespace xflowd::agent::config
