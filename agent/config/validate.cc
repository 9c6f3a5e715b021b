#include "agent/config/validate.h"

#include <grp.h>
#include <pwd.h>

#include <set>
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

// A collector's send options, `at` naming it.
Status ValidateSend(const std::string& at, const hal::base::Endpoint& ep, const SendOptions& o) {
  if (o.dscp) {
    if (Status s = Range(at + ".dscp", *o.dscp, 0, 63); !s.ok()) return s;
  }
  if (o.source_address && o.source_address->family() != ep.address.family()) {
    return InvalidArgumentError(at + ".source_address: " + o.source_address->ToString() +
                                " is not of the family of the collector " + ep.ToString());
  }
  if (o.bind_device.size() > 15) {
    return InvalidArgumentError(at + ".bind_device: '" + o.bind_device +
                                "' is longer than an interface name (15 bytes)");
  }
  return Status::Ok();
}

Status ValidateAgent(const AgentConfig& a) {
  std::set<std::string> seen;
  for (size_t i = 0; i < a.collectors.size(); ++i) {
    const SflowCollector& c = a.collectors[i];
    if (c.port == 0)
      return InvalidArgumentError("agent.collectors: " + c.ToString() + " has port 0");
    const std::string at = "agent.collectors[" + std::to_string(i) + "]";
    if (Status s = ValidateSend(at, c, c.send); !s.ok()) return s;
    if (!seen.insert(c.ToString()).second) {
      return InvalidArgumentError(at + ": " + c.ToString() + " is given twice");
    }
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
    if (o.header_bytes) {
      if (Status s = Range(at + ".header_bytes", *o.header_bytes, 14, 256); !s.ok()) return s;
    }
  }
  return Status::Ok();
}

Status ValidateFlow(const FlowConfig& f) {
  std::set<std::string> seen;
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
    if (Status s = ValidateSend(at, c.endpoint, c.send); !s.ok()) return s;
    if (c.tcp && c.send != SendOptions{}) {
      return InvalidArgumentError(at +
                                  ": source address, VRF and DSCP are not supported for IPFIX "
                                  "over TCP yet (UDP only)");
    }
    if (!seen.insert(c.endpoint.ToString() + (c.tcp ? "/tcp" : "/udp")).second) {
      return InvalidArgumentError(at + ": " + c.endpoint.ToString() + " is given twice");
    }
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
    case SourceKind::kVendor:
      if (s.vendor.plugin.empty()) {
        return InvalidArgumentError("source.vendor.plugin: empty (the plugin's .so path)");
      }
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
    case SourceKind::kOvs:
      // sockaddr_un::sun_path holds 108 bytes with the terminating NUL.
      if (s.ovs.db_socket.empty() || s.ovs.db_socket[0] != '/' || s.ovs.db_socket.size() > 107) {
        return InvalidArgumentError("source.ovs.db_socket: '" + s.ovs.db_socket +
                                    "' is not an absolute path shorter than 108 bytes");
      }
      for (const std::string& b : s.ovs.bridges) {
        if (b.empty()) return InvalidArgumentError("source.ovs.bridges: an empty bridge name");
      }
      return Status::Ok();
  }
  return Status::Ok();
}

Status ValidateControl(const ControlConfig& c) {
  // sockaddr_un::sun_path holds 108 bytes with the terminating NUL.
  if (!c.socket.empty() && (c.socket[0] != '/' || c.socket.size() > 107)) {
    return InvalidArgumentError("control.socket: '" + c.socket +
                                "' must be an absolute path of at most 107 bytes (or \"\": none)");
  }
  for (char ch : c.group) {
    if (ch == ':' || ch == '\n' || ch == '/' || ch == ' ') {
      return InvalidArgumentError("control.group: '" + c.group + "' is not a group name");
    }
  }
  // Known here, so --check-config says so rather than the start-up.
  if (!c.group.empty() && getgrnam(c.group.c_str()) == nullptr) {
    return InvalidArgumentError("control.group: no group named '" + c.group + "' on this host");
  }
  return Status::Ok();
}

Status ValidateService(const ServiceConfig& c) {
  if (c.user) {
    if (c.user->empty() || c.user->find_first_of(":/ \n") != std::string::npos) {
      return InvalidArgumentError("service.user: '" + *c.user + "' is not a user name");
    }
    // The default user may be missing (a warning at start, xflowd stays root); one named
    // on purpose must exist.
    if (getpwnam(c.user->c_str()) == nullptr) {
      return InvalidArgumentError("service.user: no user named '" + *c.user +
                                  "' on this host (create it, or set \"root\" to keep root)");
    }
  }
  if (!c.pid_file.empty() && (c.pid_file[0] != '/' || c.pid_file.back() == '/')) {
    return InvalidArgumentError("service.pid-file: '" + c.pid_file +
                                "' must be an absolute file path (or \"\": none)");
  }
  return Status::Ok();
}

Status ValidateSnmp(const SnmpConfig& c) {
#ifndef XFLOWD_HAVE_SNMP
  if (c.enabled) {
    return InvalidArgumentError(
        "snmp.enabled: this xflowd was built without Net-SNMP (libsnmp-dev); the sFlow MIB is "
        "not available");
  }
#endif
  if (c.agentx_socket.empty()) {
    return InvalidArgumentError("snmp.agentx-socket: must not be empty");
  }
  if (Status s = Range("snmp.ping-interval", c.ping_interval_s, 1, 3600); !s.ok()) return s;
  return Range("snmp.receivers", c.receivers, 0, kSnmpReceiversMax);
}

// Egress needs a source that sees what a port sends; --ingress-only says the AF_PACKET
// sockets must not.
Status ValidateDirections(const Config& config) {
  if (config.source.kind != SourceKind::kLinux || !config.source.linux_ports.ingress_only) {
    return Status::Ok();
  }
  auto conflict = [](const std::string& at, SampleDirection d) {
    return InvalidArgumentError(at + ": \"" + SampleDirectionName(d) +
                                "\" samples egress, but source.linux.ingress-only "
                                "(--ingress-only) keeps the AF_PACKET sockets from seeing "
                                "sent frames; drop one of the two");
  };
  if (config.ports.direction != SampleDirection::kIngress) {
    return conflict("ports.direction", config.ports.direction);
  }
  for (size_t i = 0; i < config.ports.overrides.size(); ++i) {
    const PortOverride& o = config.ports.overrides[i];
    if (o.direction && *o.direction != SampleDirection::kIngress &&
        o.backend.value_or(SampleBackend::kAfPacket) == SampleBackend::kAfPacket) {
      return conflict("ports.overrides[" + std::to_string(i) + "].direction", *o.direction);
    }
  }
  return Status::Ok();
}

}  // namespace

Status Validate(const Config& config) {
  if (Status s = ValidateDirections(config); !s.ok()) return s;
  if (Status s = ValidateAgent(config.agent); !s.ok()) return s;
  if (Status s = ValidatePorts(config.ports); !s.ok()) return s;
  if (Status s = ValidateFlow(config.flow); !s.ok()) return s;
  if (Status s = ValidateSource(config.source); !s.ok()) return s;
  if (config.source.kind != SourceKind::kLinux) {
    for (size_t i = 0; i < config.ports.overrides.size(); ++i) {
      if (config.ports.overrides[i].backend) {
        return InvalidArgumentError("ports.overrides[" + std::to_string(i) +
                                    "].backend: applies to the Linux source only");
      }
    }
  }
  if (config.source.kind != SourceKind::kLinux) {
    // The routes come from the kernel of the host that forwards the packets.
    if (config.ports.extended_router) {
      return InvalidArgumentError(
          "ports.extended_router: applies to the Linux source only (source.type = \"linux\")");
    }
    for (size_t i = 0; i < config.ports.overrides.size(); ++i) {
      if (config.ports.overrides[i].extended_router.value_or(false)) {
        return InvalidArgumentError("ports.overrides[" + std::to_string(i) +
                                    "].extended_router: applies to the Linux source only");
      }
    }
  }
  if (config.source.kind == SourceKind::kLinux && config.source.linux_ports.route_table == 0) {
    return InvalidArgumentError("source.linux.route_table: 0 is not a routing table (1..2^32-1)");
  }
  if (Status s = ValidateControl(config.control); !s.ok()) return s;
  if (Status s = ValidateService(config.service); !s.ok()) return s;
  if (Status s = ValidateSnmp(config.snmp); !s.ok()) return s;
  if (config.host.polling_interval_s) {
    if (Status s = Range("host.polling-interval", *config.host.polling_interval_s, 0, 86400);
        !s.ok()) {
      return s;
    }
  }
  if (Status s = Range("self-check.window", config.self_check.window_s, 1, 86400); !s.ok()) {
    return s;
  }
  if (Status s = Range("self-check.flag-after", config.self_check.flag_after, 1, 1000); !s.ok()) {
    return s;
  }
  if (config.self_check.min_samples == 0) {
    return InvalidArgumentError("self-check.min-samples: must be at least 1");
  }
  if (config.duration_s && *config.duration_s == 0) {
    return InvalidArgumentError("duration_s: must be at least 1 (unset runs until stopped)");
  }
  return Status::Ok();
}

}  // namespace xflowd::agent::config
