#include "agent/daemon/options.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string_view>
#include <utility>

#include "agent/config/config_file.h"
#include "agent/config/validate.h"

namespace xflowd::agent::daemon {

using hal::base::Endpoint;
using hal::base::InvalidArgumentError;
using hal::base::IpAddress;
using hal::base::LogLevel;
using hal::base::Result;
using hal::base::Status;
using hal::base::UnimplementedError;

namespace {

// "--name: expected ..., got 'text'".
Status Bad(const std::string& name, const std::string& expected, const std::string& text) {
  return InvalidArgumentError(name + ": expected " + expected + ", got '" + text + "'");
}

Result<uint64_t> ParseU64(const std::string& name, const std::string& text, uint64_t min,
                          uint64_t max) {
  const std::string expected =
      "a whole number from " + std::to_string(min) + " to " + std::to_string(max);
  if (text.empty() || text[0] < '0' || text[0] > '9') return Bad(name, expected, text);
  errno = 0;
  char* end = nullptr;
  unsigned long long v = strtoull(text.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || v < min || v > max) return Bad(name, expected, text);
  return static_cast<uint64_t>(v);
}

Result<uint32_t> ParseU32(const std::string& name, const std::string& text, uint32_t min,
                          uint32_t max) {
  Result<uint64_t> v = ParseU64(name, text, min, max);
  if (!v.ok()) return v.status();
  return static_cast<uint32_t>(*v);
}

// A fraction 0..1, or a percentage "20%".
Result<double> ParseFraction(const std::string& name, const std::string& text, bool allow_one) {
  const std::string expected =
      std::string("a fraction from 0 to 1") + (allow_one ? "" : " (not 1)") + " or a percentage";
  if (text.empty()) return Bad(name, expected, text);
  std::string num = text;
  double scale = 1.0;
  if (num.back() == '%') {
    num.pop_back();
    scale = 0.01;
  }
  if (num.empty() || !((num[0] >= '0' && num[0] <= '9') || num[0] == '.')) {
    return Bad(name, expected, text);
  }
  char* end = nullptr;
  double v = strtod(num.c_str(), &end) * scale;
  if (*end != '\0' || !std::isfinite(v) || v < 0.0 || v > 1.0 || (!allow_one && v >= 1.0)) {
    return Bad(name, expected, text);
  }
  return v;
}

enum class Opt {
  kSim,
  kPorts,
  kSpeed,
  kLoad,
  kSeed,
  kSampling,
  kPolling,
  kCollector,
  kAgentAddress,
  kSubAgentId,
  kMaxDatagram,
  kHeaderBytes,
  kMaxSamplesPerSecond,
  kExpandedSamples,
  kDuration,
  kSimSampleLoss,
  kSimPow2,
  kSimTruth,
  kSimLoseSamples,
  kSimDropSamples,
  kSimWrongRate,
  kSimVlanPort,
  kInterface,
  kReadFile,
  kNoPromisc,
  kSnaplen,
  kThreads,
  kReader,
  kNetflow,
  kNetflowVersion,
  kObservationDomain,
  kFlowCacheSize,
  kInactiveTimeout,
  kActiveTimeout,
  kTimeout,
  kNoTcpEnd,
  kTemplateRefreshPackets,
  kTemplateRefreshSeconds,
  kFlowKeyMacs,
  kFlowKeyMpls,
  kSample,
  kOvs,
  kOvsBridge,
  kPsampleGroup,
  kNflogGroup,
  kIngressOnly,
  kDirection,
  kExtendedRouter,
  kRouteTable,
  kVendorPlugin,
  kVendorOptions,
  kForeground,
  kVerbose,
  kQuiet,
  kControlSocket,
  kUser,
  kDaemon,
  kPidFile,
  kLogTarget,
  kConfig,
  kCheckConfig,
  kHelp,
  kVersion,
};

struct OptSpec {
  const char* long_name;  // without "--"
  char short_name;        // 0 = none
  bool takes_value;
  bool sim_only;
  Opt opt;
};

constexpr OptSpec kOpts[] = {
    {"sim", 0, false, false, Opt::kSim},
    {"ports", 0, true, true, Opt::kPorts},
    {"speed", 0, true, true, Opt::kSpeed},
    {"load", 0, true, true, Opt::kLoad},
    {"seed", 0, true, false, Opt::kSeed},
    {"sampling", 's', true, false, Opt::kSampling},
    {"polling", 0, true, false, Opt::kPolling},
    {"collector", 0, true, false, Opt::kCollector},
    {"agent-address", 0, true, false, Opt::kAgentAddress},
    {"sub-agent-id", 0, true, false, Opt::kSubAgentId},
    {"max-datagram", 0, true, false, Opt::kMaxDatagram},
    {"header-bytes", 0, true, false, Opt::kHeaderBytes},
    {"max-samples-per-second", 0, true, false, Opt::kMaxSamplesPerSecond},
    {"expanded-samples", 0, false, false, Opt::kExpandedSamples},
    {"duration", 0, true, false, Opt::kDuration},
    {"sim-sample-loss", 0, true, true, Opt::kSimSampleLoss},
    {"sim-pow2", 0, false, true, Opt::kSimPow2},
    {"sim-truth", 0, true, true, Opt::kSimTruth},
    {"sim-lose-samples", 0, true, true, Opt::kSimLoseSamples},
    {"sim-drop-samples", 0, true, true, Opt::kSimDropSamples},
    {"sim-wrong-rate", 0, true, true, Opt::kSimWrongRate},
    {"sim-vlan-port", 0, true, true, Opt::kSimVlanPort},
    {"interface", 'i', true, false, Opt::kInterface},
    {"read", 'r', true, false, Opt::kReadFile},
    {"no-promisc", 0, false, false, Opt::kNoPromisc},
    {"snaplen", 0, true, false, Opt::kSnaplen},
    {"threads", 0, true, false, Opt::kThreads},
    {"reader", 0, true, false, Opt::kReader},
    {"netflow", 'n', true, false, Opt::kNetflow},
    {"netflow-version", 'V', true, false, Opt::kNetflowVersion},
    {"observation-domain", 0, true, false, Opt::kObservationDomain},
    {"flow-cache-size", 'm', true, false, Opt::kFlowCacheSize},
    {"inactive-timeout", 0, true, false, Opt::kInactiveTimeout},
    {"active-timeout", 0, true, false, Opt::kActiveTimeout},
    {"timeout", 't', true, false, Opt::kTimeout},
    {"no-tcp-end", 0, false, false, Opt::kNoTcpEnd},
    {"template-refresh-packets", 0, true, false, Opt::kTemplateRefreshPackets},
    {"template-refresh-seconds", 0, true, false, Opt::kTemplateRefreshSeconds},
    {"flow-key-macs", 0, false, false, Opt::kFlowKeyMacs},
    {"flow-key-mpls", 0, false, false, Opt::kFlowKeyMpls},
    {"sample", 0, true, false, Opt::kSample},
    {"ovs", 0, false, false, Opt::kOvs},
    {"ovs-bridge", 0, true, false, Opt::kOvsBridge},
    {"psample-group", 0, true, false, Opt::kPsampleGroup},
    {"nflog-group", 0, true, false, Opt::kNflogGroup},
    {"ingress-only", 0, false, false, Opt::kIngressOnly},
    {"direction", 0, true, false, Opt::kDirection},
    {"extended-router", 0, false, false, Opt::kExtendedRouter},
    {"route-table", 0, true, false, Opt::kRouteTable},
    {"vendor-plugin", 0, true, false, Opt::kVendorPlugin},
    {"vendor-options", 0, true, false, Opt::kVendorOptions},
    {"foreground", 'd', false, false, Opt::kForeground},
    {"verbose", 'v', false, false, Opt::kVerbose},
    {"quiet", 'q', false, false, Opt::kQuiet},
    {"control-socket", 0, true, false, Opt::kControlSocket},
    {"user", 0, true, false, Opt::kUser},
    {"daemon", 0, false, false, Opt::kDaemon},
    {"pid-file", 0, true, false, Opt::kPidFile},
    {"log-target", 0, true, false, Opt::kLogTarget},
    {"config", 0, true, false, Opt::kConfig},
    {"check-config", 0, false, false, Opt::kCheckConfig},
    {"help", 'h', false, false, Opt::kHelp},
    {"version", 0, false, false, Opt::kVersion},
};

const OptSpec* FindLong(std::string_view name) {
  for (const OptSpec& s : kOpts) {
    if (name == s.long_name) return &s;
  }
  return nullptr;
}

const OptSpec* FindShort(char c) {
  for (const OptSpec& s : kOpts) {
    if (s.short_name != 0 && s.short_name == c) return &s;
  }
  return nullptr;
}

// "5", "9", "10" or "ipfix" -> 5, 9, 10.
Result<uint8_t> ParseFlowVersion(const std::string& name, const std::string& text) {
  if (text == "5" || text == "v5") return static_cast<uint8_t>(5);
  if (text == "9" || text == "v9") return static_cast<uint8_t>(9);
  if (text == "10" || text == "ipfix") return static_cast<uint8_t>(10);
  return Bad(name, "5, 9 or 10 (ipfix)", text);
}

// HOST[:PORT][/VERSION], VERSION = 5, 9, 10, ipfix or ipfix-tcp. The port defaults to 2055
// (4739 for IPFIX); the version, to --netflow-version (applied after parsing).
Result<FlowCollector> ParseFlowCollector(const std::string& name, const std::string& text,
                                         std::optional<uint8_t>* version) {
  std::string host = text;
  *version = std::nullopt;
  FlowCollector c;
  size_t slash = text.rfind('/');
  if (slash != std::string::npos) {
    host = text.substr(0, slash);
    std::string v = text.substr(slash + 1);
    if (v == "ipfix-tcp") {
      *version = 10;
      c.tcp = true;
    } else {
      Result<uint8_t> parsed = ParseFlowVersion(name + " " + text, v);
      if (!parsed.ok()) {
        return InvalidArgumentError(name + " '" + text +
                                    "': the version after '/' must be 5, 9, 10, ipfix or "
                                    "ipfix-tcp");
      }
      *version = *parsed;
    }
  }
  // Port 0 here means "none given": filled in once the version is known.
  Result<Endpoint> ep = Endpoint::Parse(host, 0);
  if (!ep.ok()) {
    return InvalidArgumentError(name + " '" + text + "': " + ep.status().message() +
                                " (give an IPv4 or IPv6 address, e.g. 127.0.0.1:2055, "
                                "[::1]:4739/ipfix or 192.0.2.1:2055/5; host names are not "
                                "resolved)");
  }
  c.endpoint = *ep;
  if (*version) c.version = **version;
  return c;
}

// softflowd's -t NAME=SECONDS: general (inactive), maxlife (active), tcp, udp, icmp.
Status ApplyTimeout(const std::string& name, const std::string& value, DaemonOptions* o) {
  size_t eq = value.find('=');
  const std::string expected =
      "NAME=SECONDS with NAME one of general (inactive), maxlife (active), tcp, udp, icmp";
  if (eq == std::string::npos) return Bad(name, expected, value);
  std::string key = value.substr(0, eq);
  Result<uint32_t> secs = ParseU32(name + " " + key, value.substr(eq + 1), 1, 1000000);
  if (!secs.ok()) return secs.status();
  if (key == "general" || key == "inactive") {
    o->inactive_timeout_s = *secs;
    o->given.insert("inactive-timeout");
  } else if (key == "maxlife" || key == "active") {
    o->active_timeout_s = *secs;
    o->given.insert("active-timeout");
  } else if (key == "tcp") {
    o->tcp_timeout_s = *secs;
    o->given.insert("tcp-timeout");
  } else if (key == "udp") {
    o->udp_timeout_s = *secs;
    o->given.insert("udp-timeout");
  } else if (key == "icmp") {
    o->icmp_timeout_s = *secs;
    o->given.insert("icmp-timeout");
  } else {
    return Bad(name, expected, value);
  }
  return Status::Ok();
}

// The options that set one whole number in a range, or one flag: a row each, not a case.
struct U32Setting {
  Opt opt;
  uint32_t DaemonOptions::*field;
  uint32_t min;
  uint32_t max;
};
constexpr U32Setting kU32Settings[] = {
    {Opt::kPorts, &DaemonOptions::sim_ports, 1, 4096},
    {Opt::kPolling, &DaemonOptions::polling_interval_s, 0, 86400},
    {Opt::kSubAgentId, &DaemonOptions::sub_agent_id, 0, std::numeric_limits<uint32_t>::max()},
    {Opt::kHeaderBytes, &DaemonOptions::header_bytes, 14, 256},
    {Opt::kMaxSamplesPerSecond, &DaemonOptions::max_samples_per_s, 0,
     std::numeric_limits<uint32_t>::max()},
    {Opt::kSnaplen, &DaemonOptions::snaplen, 64, 65535},
    {Opt::kThreads, &DaemonOptions::threads, 0, 64},
    {Opt::kObservationDomain, &DaemonOptions::observation_domain, 0,
     std::numeric_limits<uint32_t>::max()},
    {Opt::kFlowCacheSize, &DaemonOptions::flow_cache_size, 16, 1u << 26},
    {Opt::kInactiveTimeout, &DaemonOptions::inactive_timeout_s, 1, 1000000},
    {Opt::kActiveTimeout, &DaemonOptions::active_timeout_s, 1, 1000000},
    {Opt::kTemplateRefreshPackets, &DaemonOptions::template_refresh_packets, 0, 1000000},
    {Opt::kTemplateRefreshSeconds, &DaemonOptions::template_refresh_s, 0, 86400},
    {Opt::kPsampleGroup, &DaemonOptions::psample_group, 1, 0xFFFFFFFEu},
    {Opt::kNflogGroup, &DaemonOptions::nflog_group, 0, 65000},
    {Opt::kRouteTable, &DaemonOptions::route_table, 1, 0xFFFFFFFFu},
};
struct FlagSetting {
  Opt opt;
  bool DaemonOptions::*field;
  bool value;
};
constexpr FlagSetting kFlagSettings[] = {
    {Opt::kSim, &DaemonOptions::sim, true},
    {Opt::kExpandedSamples, &DaemonOptions::expanded_samples, true},
    {Opt::kSimPow2, &DaemonOptions::sim_pow2, true},
    {Opt::kNoPromisc, &DaemonOptions::promiscuous, false},
    {Opt::kNoTcpEnd, &DaemonOptions::tcp_end, false},
    {Opt::kFlowKeyMacs, &DaemonOptions::flow_key_macs, true},
    {Opt::kFlowKeyMpls, &DaemonOptions::flow_key_mpls, true},
    {Opt::kIngressOnly, &DaemonOptions::ingress_only, true},
    {Opt::kExtendedRouter, &DaemonOptions::extended_router, true},
};

// PORTS:VALUE, PORTS a list of port numbers (= ifindex) and ranges: "3", "2,5", "1-4,7".
// Several faults on one port add up to one entry.
Status ParseSimFault(Opt opt, const std::string& name, const std::string& text,
                     std::vector<config::SimPortFault>* faults) {
  const std::string expected =
      opt == Opt::kSimWrongRate ? "PORTS:FACTOR, e.g. 3,5-6:1.5 (FACTOR above 0, up to 1000)"
                                : "PORTS:FRACTION, e.g. 3,5-6:0.1 (FRACTION 0..1 or a percentage)";
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return Bad(name, expected, text);
  double v = 0;
  const std::string value = text.substr(colon + 1);
  if (opt == Opt::kSimWrongRate) {
    char* end = nullptr;
    v = value.empty() ? 0 : strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || !(v > 0 && v <= 1000)) return Bad(name, expected, text);
  } else {
    Result<double> f = ParseFraction(name, value, true);
    if (!f.ok()) return f.status();
    v = *f;
  }
  std::vector<uint32_t> ports;
  size_t start = 0;
  const std::string list = text.substr(0, colon);
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    const std::string item = list.substr(start, comma - start);
    const size_t dash = item.find('-');
    Result<uint32_t> lo = ParseU32(name, item.substr(0, dash), 1, 4096);
    Result<uint32_t> hi =
        dash == std::string::npos ? lo : ParseU32(name, item.substr(dash + 1), 1, 4096);
    if (!lo.ok() || !hi.ok() || *hi < *lo) return Bad(name, expected, text);
    for (uint32_t p = *lo; p <= *hi; ++p) ports.push_back(p);
    start = comma + 1;
  }
  for (uint32_t p : ports) {
    auto it = std::find_if(faults->begin(), faults->end(),
                           [p](const config::SimPortFault& f) { return f.ifindex == p; });
    if (it == faults->end()) it = faults->insert(faults->end(), config::SimPortFault{p});
    if (opt == Opt::kSimLoseSamples) it->hide_fraction = v;
    if (opt == Opt::kSimDropSamples) it->drop_fraction = v;
    if (opt == Opt::kSimWrongRate) it->rate_factor = v;
  }
  return Status::Ok();
}

Status Apply(const OptSpec& spec, const std::string& name, const std::string& value,
             DaemonOptions* o, bool* verbose, bool* quiet) {
  for (const U32Setting& row : kU32Settings) {
    if (row.opt != spec.opt) continue;
    Result<uint32_t> v = ParseU32(name, value, row.min, row.max);
    if (!v.ok()) return v.status();
    o->*row.field = *v;
    return Status::Ok();
  }
  for (const FlagSetting& row : kFlagSettings) {
    if (row.opt != spec.opt) continue;
    o->*row.field = row.value;
    return Status::Ok();
  }
  switch (spec.opt) {
    case Opt::kSpeed: {
      Result<uint64_t> v = ParseSpeed(value);
      if (!v.ok()) return v.status().WithContext(name);
      o->sim_speed_bps = *v;
      break;
    }
    case Opt::kLoad: {
      Result<double> v = ParseFraction(name, value, true);
      if (!v.ok()) return v.status();
      o->sim_load = *v;
      break;
    }
    case Opt::kSeed: {
      Result<uint64_t> v = ParseU64(name, value, 0, std::numeric_limits<uint64_t>::max());
      if (!v.ok()) return v.status();
      o->seed = *v;
      break;
    }
    case Opt::kSampling: {
      Result<uint32_t> v = ParseU32(name, value, 1, std::numeric_limits<uint32_t>::max());
      if (!v.ok()) return v.status();
      o->sampling_rate = *v;
      break;
    }
    case Opt::kCollector: {
      Result<Endpoint> ep = Endpoint::Parse(value, kDefaultSflowPort);
      if (!ep.ok()) {
        return InvalidArgumentError(
            name + " '" + value + "': " + ep.status().message() +
            " (give an IPv4 or IPv6 address, e.g. 127.0.0.1:6343 or [::1]:6343; host names "
            "are not resolved)");
      }
      for (const Endpoint& existing : o->collectors) {
        if (existing.address == ep->address && existing.port == ep->port) {
          return InvalidArgumentError(name + " " + ep->ToString() + " is given twice");
        }
      }
      o->collectors.push_back(*ep);
      break;
    }
    case Opt::kAgentAddress: {
      Result<IpAddress> a = IpAddress::Parse(value);
      if (!a.ok()) return InvalidArgumentError(name + ": " + a.status().message());
      o->agent_address = *a;
      break;
    }
    case Opt::kMaxDatagram: {
      Result<uint32_t> v = ParseU32(name, value, kDatagramBytesMin, kDatagramBytesMax);
      if (!v.ok()) {
        return InvalidArgumentError(v.status().message() +
                                    " (a smaller datagram cannot hold every counter sample "
                                    "or a NetFlow/IPFIX template set)");
      }
      o->max_datagram_bytes = *v;
      break;
    }
    case Opt::kDuration: {
      if (value == "0") {
        return InvalidArgumentError(name +
                                    ": must be at least 1 second (leave it out to run until "
                                    "stopped)");
      }
      Result<uint32_t> v = ParseU32(name, value, 1, std::numeric_limits<uint32_t>::max());
      if (!v.ok()) return v.status();
      o->duration_s = *v;
      break;
    }
    case Opt::kSimSampleLoss: {
      Result<double> v = ParseFraction(name, value, false);
      if (!v.ok()) return v.status();
      o->sim_sample_loss = *v;
      break;
    }
    case Opt::kSimTruth:
      if (value.empty()) return InvalidArgumentError(name + ": needs a file name");
      o->sim_truth_path = std::string(value);
      break;
    case Opt::kControlSocket:
      o->control_socket = value == "none" ? std::string() : value;
      break;
    case Opt::kSimLoseSamples:
    case Opt::kSimDropSamples:
    case Opt::kSimWrongRate:
      return ParseSimFault(spec.opt, name, value, &o->sim_faults);
    case Opt::kSimVlanPort: {
      const size_t colon = value.find(':');
      const std::string expected = "PORT:VLAN, e.g. 3:100 (VLAN 1..4094)";
      if (colon == std::string::npos) return Bad(name, expected, value);
      Result<uint32_t> port = ParseU32(name, value.substr(0, colon), 1, 4096);
      Result<uint32_t> vlan = ParseU32(name, value.substr(colon + 1), 1, 4094);
      if (!port.ok() || !vlan.ok()) return Bad(name, expected, value);
      for (const config::SimVlanPort& v : o->sim_vlan_ports) {
        if (v.ifindex == *port) {
          return InvalidArgumentError(name + ": port " + std::to_string(*port) + " is given twice");
        }
      }
      o->sim_vlan_ports.push_back({*port, static_cast<uint16_t>(*vlan)});
      break;
    }
    case Opt::kInterface:
      if (value.empty()) return InvalidArgumentError(name + ": needs an interface name");
      o->interface = value;
      break;
    case Opt::kReadFile:
      if (value.empty()) return InvalidArgumentError(name + ": needs a file name");
      o->read_file = value;
      break;
    case Opt::kVendorPlugin:
      if (value.empty()) return InvalidArgumentError(name + ": needs the plugin's .so path");
      o->vendor_plugin = value;
      break;
    case Opt::kVendorOptions:
      o->vendor_options = value;
      break;
    case Opt::kReader:
      if (value == "auto") {
        o->reader = config::FileReader::kAuto;
      } else if (value == "mmap") {
        o->reader = config::FileReader::kMmap;
      } else if (value == "libpcap") {
        o->reader = config::FileReader::kLibpcap;
      } else {
        return InvalidArgumentError(name + ": '" + std::string(value) +
                                    "' is not a reader (auto, mmap or libpcap)");
      }
      break;
    case Opt::kNetflow: {
      std::optional<uint8_t> version;
      Result<FlowCollector> c = ParseFlowCollector(name, value, &version);
      if (!c.ok()) return c.status();
      // Version 0 marks "not given": --netflow-version may come later on the line.
      if (!version) c->version = 0;
      o->flow_collectors.push_back(*c);
      break;
    }
    case Opt::kNetflowVersion: {
      Result<uint8_t> v = ParseFlowVersion(name, value);
      if (!v.ok()) return v.status();
      o->flow_version = *v;
      break;
    }
    case Opt::kTimeout:
      return ApplyTimeout(name, value, o);
    case Opt::kDirection: {
      std::optional<config::SampleDirection> d = config::ParseSampleDirection(std::string(value));
      if (!d) return Bad(name, "ingress, egress or both", value);
      o->direction = *d;
      break;
    }
    case Opt::kSample: {
      SamplePattern sp;
      sp.pattern = value;
      const size_t eq = value.rfind('=');
      if (eq != std::string::npos) {
        sp.pattern = value.substr(0, eq);
        const std::string backend = value.substr(eq + 1);
        if (backend == "afpacket") {
          sp.backend = SampleBackend::kAfPacket;
        } else if (backend == "psample") {
          sp.backend = SampleBackend::kPsample;
        } else if (backend == "nflog") {
          sp.backend = SampleBackend::kNflog;
        } else {
          return Bad(name, "PATTERN[=BACKEND] with BACKEND afpacket, psample or nflog", value);
        }
      }
      if (sp.pattern.empty() || sp.pattern.size() > 64) {
        return Bad(name, "a port name or shell pattern such as 'swp*' or eth0", value);
      }
      for (const SamplePattern& existing : o->sample_patterns) {
        if (existing.pattern == sp.pattern) {
          return InvalidArgumentError(name + " '" + sp.pattern + "' is given twice");
        }
      }
      o->sample_patterns.push_back(sp);
      break;
    }
    case Opt::kOvs:
      o->ovs = true;
      if (!value.empty()) {
        if (value[0] != '/') return Bad(name, "the absolute path of ovsdb-server's socket", value);
        o->ovs_db_socket = value;
      }
      break;
    case Opt::kOvsBridge:
      if (value.empty()) return Bad(name, "a bridge name", value);
      for (const std::string& b : o->ovs_bridges) {
        if (b == value) return InvalidArgumentError(name + " '" + value + "' is given twice");
      }
      o->ovs_bridges.push_back(value);
      break;
    case Opt::kConfig:
      if (value.empty()) return InvalidArgumentError(name + ": needs a file name");
      o->config_path = value;
      break;
    case Opt::kCheckConfig:
      o->check_config = true;
      if (!value.empty()) o->config_path = value;
      break;
    case Opt::kUser:
      if (value.empty() || value.find_first_of(":/ \n") != std::string::npos) {
        return InvalidArgumentError(name + ": '" + std::string(value) + "' is not a user name");
      }
      o->user = std::string(value);
      break;
    case Opt::kDaemon:
      o->daemonize = true;
      break;
    case Opt::kPidFile:
      if (value.empty() || value[0] != '/' || value.back() == '/') {
        return InvalidArgumentError(name + ": '" + std::string(value) +
                                    "' must be an absolute file path");
      }
      o->pid_file = std::string(value);
      break;
    case Opt::kLogTarget:
      if (value == "auto") {
        o->log_target = config::LogTarget::kAuto;
      } else if (value == "stderr") {
        o->log_target = config::LogTarget::kStderr;
      } else if (value == "syslog") {
        o->log_target = config::LogTarget::kSyslog;
      } else {
        return InvalidArgumentError(name + ": expected auto, stderr or syslog, got '" +
                                    std::string(value) + "'");
      }
      break;
    case Opt::kForeground:
      break;  // the foreground is the default (systemd, procd, a shell); --daemon detaches
    case Opt::kVerbose:
      *verbose = true;
      break;
    case Opt::kQuiet:
      *quiet = true;
      break;
    case Opt::kHelp:
      o->help = true;
      break;
    case Opt::kVersion:
      o->version = true;
      break;
    default:
      break;  // a row of kU32Settings or kFlagSettings
  }
  return Status::Ok();
}

}  // namespace

Result<uint64_t> ParseSpeed(const std::string& text) {
  std::optional<uint64_t> bps = config::ParseSpeedText(text);
  if (!bps) {
    return InvalidArgumentError(
        "expected a speed such as 1G, 10G, 25G, 40G, 100G, 100M or bit/s, got '" + text + "'");
  }
  return *bps;
}

uint32_t SamplingRateFor(const DaemonOptions& options, uint64_t port_speed_bps) {
  return options.sampling_rate ? *options.sampling_rate : DefaultSamplingRate(port_speed_bps);
}

Status ParseFlags(int argc, const char* const* argv, DaemonOptions* out) {
  DaemonOptions o;
  // --help and --version answer even when the rest of the line is wrong.
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--") break;
    if (a == "-h" || a == "--help") o.help = true;
    if (a == "--version") o.version = true;
  }
  if (o.help || o.version) {
    *out = o;
    return Status::Ok();
  }

  bool verbose = false;
  bool quiet = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    const OptSpec* spec = nullptr;
    std::string name;
    std::optional<std::string> value;
    if (arg.size() > 2 && arg[0] == '-' && arg[1] == '-') {
      std::string body = arg.substr(2);
      size_t eq = body.find('=');
      if (eq != std::string::npos) {
        value = body.substr(eq + 1);
        body = body.substr(0, eq);
      }
      spec = FindLong(body);
      name = "--" + body;
    } else if (arg.size() == 2 && arg[0] == '-' && arg[1] != '-') {
      spec = FindShort(arg[1]);
      name = arg;
    } else if (arg == "--") {
      if (i + 1 < argc) {
        return InvalidArgumentError(std::string("unexpected argument '") + argv[i + 1] + "'");
      }
      break;
    } else {
      std::string prev = i > 1 ? argv[i - 1] : "";
      if (prev == "-v" && (arg == "5" || arg == "9" || arg == "10")) {
        return InvalidArgumentError("unexpected argument '" + arg +
                                    "': -v is --verbose here; the export version is "
                                    "--netflow-version " +
                                    arg + " (or -V " + arg + ")");
      }
      return InvalidArgumentError("unexpected argument '" + arg + "' (options start with --)");
    }
    if (!spec) return InvalidArgumentError("unknown option '" + name + "'");

    if (spec->opt == Opt::kCheckConfig && !value && i + 1 < argc && argv[i + 1][0] != '-') {
      value = argv[++i];  // --check-config [FILE]: the file is optional
    } else if (spec->opt == Opt::kOvs && !value && i + 1 < argc && argv[i + 1][0] == '/') {
      value = argv[++i];  // --ovs [DB-SOCKET]: an absolute path, or nothing
    } else if (spec->takes_value) {
      if (!value) {
        std::string_view next = i + 1 < argc ? argv[i + 1] : "";
        if (i + 1 >= argc || (next.size() > 2 && next.substr(0, 2) == "--")) {
          return InvalidArgumentError(name + " needs a value");
        }
        value = argv[++i];
      }
    } else if (value && spec->opt != Opt::kCheckConfig && spec->opt != Opt::kOvs) {
      return InvalidArgumentError(name + " takes no value");
    }
    if (spec->opt != Opt::kTimeout) o.given.insert(spec->long_name);
    XFLOWD_RETURN_IF_ERROR(Apply(*spec, name, value.value_or(""), &o, &verbose, &quiet));
  }

  if (verbose && quiet) return InvalidArgumentError("--verbose and --quiet contradict each other");
  if (verbose) o.log_level = LogLevel::kDebug;
  if (quiet) {
    o.log_level = LogLevel::kWarning;
    o.quiet = true;
  }
  *out = o;
  return Status::Ok();
}

Status FinishOptions(DaemonOptions* out) {
  DaemonOptions o = *out;
  std::vector<std::string> sim_only_given;
  for (const OptSpec& spec : kOpts) {
    if (spec.sim_only && o.given.count(spec.long_name)) {
      sim_only_given.push_back(std::string("--") + spec.long_name);
    }
  }
  if (!o.sim && !sim_only_given.empty()) {
    return InvalidArgumentError(sim_only_given.front() +
                                " applies to the simulated switch only: "
                                "add --sim");
  }
  int modes = (o.sim ? 1 : 0) + (o.interface.empty() ? 0 : 1) + (o.read_file.empty() ? 0 : 1) +
              (o.sample_patterns.empty() ? 0 : 1) + (o.ovs ? 1 : 0) +
              (o.vendor_plugin.empty() ? 0 : 1);
  if (modes > 1) {
    return InvalidArgumentError(
        "--sim, -i/--interface, -r/--read, --sample, --ovs and --vendor-plugin exclude each "
        "other: pick one source of packets");
  }
  if (o.given.count("vendor-options") && o.vendor_plugin.empty()) {
    return InvalidArgumentError("--vendor-options applies to a vendor plugin: add --vendor-plugin");
  }
  for (FlowCollector& c : o.flow_collectors) {
    if (c.version == 0) c.version = o.flow_version;
    if (c.endpoint.port == 0)
      c.endpoint.port = c.version == 10 ? kDefaultIpfixPort : kDefaultNetflowPort;
  }
  for (size_t a = 0; a < o.flow_collectors.size(); ++a) {
    for (size_t b = 0; b < a; ++b) {
      const Endpoint& x = o.flow_collectors[a].endpoint;
      const Endpoint& y = o.flow_collectors[b].endpoint;
      if (x.address == y.address && x.port == y.port &&
          o.flow_collectors[a].tcp == o.flow_collectors[b].tcp) {
        return InvalidArgumentError("--netflow " + x.ToString() + " is given twice");
      }
    }
  }
  if (o.active_timeout_s < o.inactive_timeout_s) {
    return InvalidArgumentError("--active-timeout (" + std::to_string(o.active_timeout_s) +
                                " s) must not be shorter than --inactive-timeout (" +
                                std::to_string(o.inactive_timeout_s) + " s)");
  }
  if (!o.interface.empty() || !o.read_file.empty()) {
    const char* what = o.interface.empty() ? "-r/--read" : "-i/--interface";
    if (!o.collectors.empty()) {
      return InvalidArgumentError(
          std::string("--collector (sFlow) with ") + what +
          ": the host probe exports NetFlow/IPFIX (-n HOST:PORT); for sFlow from this host's "
          "interfaces use --sample IFACE --collector HOST[:PORT]");
    }
    if (o.flow_collectors.empty()) {
      return InvalidArgumentError(std::string("no collector: ") + what +
                                  " exports NetFlow/IPFIX: give -n HOST[:PORT], e.g. "
                                  "-n 127.0.0.1:2055");
    }
  } else if (o.collectors.empty() && o.flow_collectors.empty()) {
    return InvalidArgumentError(
        "no collector: give at least one --collector HOST[:PORT] (sFlow), e.g. "
        "--collector 127.0.0.1:6343, or -n HOST[:PORT] (NetFlow/IPFIX)");
  }
  if (!o.ovs && !o.ovs_bridges.empty()) {
    return InvalidArgumentError("--ovs-bridge applies to Open vSwitch only: add --ovs");
  }
  if ((o.sim || !o.sample_patterns.empty() || o.ovs || !o.vendor_plugin.empty()) &&
      !o.agent_address) {
    o.agent_address = *IpAddress::Parse("127.0.0.1");
  }
  *out = o;
  return Status::Ok();
}

Status ParseOptions(int argc, const char* const* argv, DaemonOptions* out) {
  DaemonOptions o;
  XFLOWD_RETURN_IF_ERROR(ParseFlags(argc, argv, &o));
  if (!o.help && !o.version) XFLOWD_RETURN_IF_ERROR(FinishOptions(&o));
  *out = o;
  return Status::Ok();
}

namespace {

using config::SourceKind;

// Where each flag lands in the configuration model, listed once: ToConfig applies every row,
// ApplyOptions only the rows of the flags given (over a config file). Rows apply in this
// order; a flag may have more than one row.
struct ModelRow {
  const char* flag;  // the long name, as in DaemonOptions::given
  void (*apply)(const DaemonOptions& o, config::Config* c);
};
using O = DaemonOptions;
using C = config::Config;

constexpr ModelRow kModelRows[] = {
    {"sim", [](const O&, C* c) { c->source.kind = SourceKind::kSim; }},
    {"interface",
     [](const O& o, C* c) {
       c->source.kind = SourceKind::kInterface;
       c->source.interface.name = o.interface;
     }},
    {"read",
     [](const O& o, C* c) {
       c->source.kind = SourceKind::kFile;
       c->source.file.path = o.read_file;
     }},
    {"sample",
     [](const O& o, C* c) {
       c->source.kind = SourceKind::kLinux;
       c->source.linux_ports.patterns = o.sample_patterns;
     }},
    {"ovs",
     [](const O& o, C* c) {
       c->source.kind = SourceKind::kOvs;
       c->source.ovs.db_socket = o.ovs_db_socket;
     }},
    {"ovs-bridge", [](const O& o, C* c) { c->source.ovs.bridges = o.ovs_bridges; }},
    {"vendor-plugin",
     [](const O& o, C* c) {
       c->source.kind = SourceKind::kVendor;
       c->source.vendor.plugin = o.vendor_plugin;
     }},
    {"vendor-options", [](const O& o, C* c) { c->source.vendor.options = o.vendor_options; }},
    {"ports", [](const O& o, C* c) { c->source.sim.ports = o.sim_ports; }},
    {"speed", [](const O& o, C* c) { c->source.sim.speed_bps = o.sim_speed_bps; }},
    {"load", [](const O& o, C* c) { c->source.sim.load = o.sim_load; }},
    {"sim-sample-loss", [](const O& o, C* c) { c->source.sim.sample_loss = o.sim_sample_loss; }},
    {"sim-pow2", [](const O& o, C* c) { c->source.sim.pow2 = o.sim_pow2; }},
    {"sim-truth", [](const O& o, C* c) { c->source.sim.truth_path = o.sim_truth_path; }},
    {"sim-lose-samples", [](const O& o, C* c) { c->source.sim.faults = o.sim_faults; }},
    {"sim-drop-samples", [](const O& o, C* c) { c->source.sim.faults = o.sim_faults; }},
    {"sim-wrong-rate", [](const O& o, C* c) { c->source.sim.faults = o.sim_faults; }},
    {"sim-vlan-port", [](const O& o, C* c) { c->source.sim.vlan_ports = o.sim_vlan_ports; }},
    {"seed", [](const O& o, C* c) { c->seed = o.seed; }},
    {"control-socket",
     [](const O& o, C* c) {
       if (o.control_socket) c->control.socket = *o.control_socket;
     }},

    {"sampling", [](const O& o, C* c) { c->ports.sampling_rate = o.sampling_rate; }},
    {"polling", [](const O& o, C* c) { c->ports.polling_interval_s = o.polling_interval_s; }},
    {"header-bytes", [](const O& o, C* c) { c->ports.header_bytes = o.header_bytes; }},
    {"max-samples-per-second",
     [](const O& o, C* c) { c->ports.max_samples_per_s = o.max_samples_per_s; }},
    {"expanded-samples", [](const O& o, C* c) { c->ports.expanded_samples = o.expanded_samples; }},
    {"direction", [](const O& o, C* c) { c->ports.direction = o.direction; }},
    {"extended-router", [](const O& o, C* c) { c->ports.extended_router = o.extended_router; }},

    {"collector",
     [](const O& o, C* c) {
       c->agent.collectors.assign(o.collectors.begin(), o.collectors.end());
     }},
    {"agent-address",
     [](const O& o, C* c) {
       c->agent.address = o.agent_address;
       c->agent.address_interface.clear();
     }},
    {"sub-agent-id", [](const O& o, C* c) { c->agent.sub_agent_id = o.sub_agent_id; }},
    {"max-datagram",
     [](const O& o, C* c) {
       c->agent.max_datagram_bytes = o.max_datagram_bytes;
       c->flow.max_datagram_bytes = o.max_datagram_bytes;
     }},

    {"no-promisc", [](const O& o, C* c) { c->source.interface.promiscuous = o.promiscuous; }},
    {"snaplen", [](const O& o, C* c) { c->source.interface.snaplen = o.snaplen; }},
    {"threads",
     [](const O& o, C* c) {
       c->source.file.threads = o.threads;
       // -i keeps one thread (libpcap, which follows link flaps) unless --threads is given.
       c->source.interface.threads = o.given.count("threads") ? o.threads : 1;
     }},
    {"reader", [](const O& o, C* c) { c->source.file.reader = o.reader; }},
    {"psample-group",
     [](const O& o, C* c) { c->source.linux_ports.psample_group = o.psample_group; }},
    {"nflog-group", [](const O& o, C* c) { c->source.linux_ports.nflog_group = o.nflog_group; }},
    {"ingress-only", [](const O& o, C* c) { c->source.linux_ports.ingress_only = o.ingress_only; }},
    {"route-table", [](const O& o, C* c) { c->source.linux_ports.route_table = o.route_table; }},

    {"netflow-version",
     [](const O& o, C* c) {
       c->flow.default_version = o.flow_version;
       // The file's collectors that named no protocol take the new default (and its port).
       for (FlowCollector& fc : c->flow.collectors) {
         if (!fc.version_defaulted) continue;
         fc.version = o.flow_version;
         fc.tcp = false;
         if (fc.port_defaulted) {
           fc.endpoint.port = fc.version == 10 ? kDefaultIpfixPort : kDefaultNetflowPort;
         }
       }
     }},
    {"netflow",
     [](const O& o, C* c) {
       c->flow.collectors = o.flow_collectors;
       for (FlowCollector& fc : c->flow.collectors) {
         // Version 0: -n without /VERSION takes the default, the file's or --netflow-version.
         if (fc.version == 0) fc.version = c->flow.default_version;
         if (fc.endpoint.port == 0) {
           fc.endpoint.port = fc.version == 10 ? kDefaultIpfixPort : kDefaultNetflowPort;
         }
       }
     }},
    {"observation-domain",
     [](const O& o, C* c) { c->flow.observation_domain = o.observation_domain; }},
    {"flow-cache-size", [](const O& o, C* c) { c->flow.cache_size = o.flow_cache_size; }},
    {"inactive-timeout",
     [](const O& o, C* c) { c->flow.inactive_timeout_s = o.inactive_timeout_s; }},
    {"active-timeout", [](const O& o, C* c) { c->flow.active_timeout_s = o.active_timeout_s; }},
    {"tcp-timeout", [](const O& o, C* c) { c->flow.tcp_timeout_s = o.tcp_timeout_s; }},
    {"udp-timeout", [](const O& o, C* c) { c->flow.udp_timeout_s = o.udp_timeout_s; }},
    {"icmp-timeout", [](const O& o, C* c) { c->flow.icmp_timeout_s = o.icmp_timeout_s; }},
    {"no-tcp-end", [](const O& o, C* c) { c->flow.tcp_end = o.tcp_end; }},
    {"template-refresh-packets",
     [](const O& o, C* c) { c->flow.template_refresh_packets = o.template_refresh_packets; }},
    {"template-refresh-seconds",
     [](const O& o, C* c) { c->flow.template_refresh_s = o.template_refresh_s; }},
    {"flow-key-macs", [](const O& o, C* c) { c->flow.key_macs = o.flow_key_macs; }},
    {"flow-key-mpls", [](const O& o, C* c) { c->flow.key_mpls = o.flow_key_mpls; }},

    {"duration", [](const O& o, C* c) { c->duration_s = o.duration_s; }},
    {"verbose", [](const O& o, C* c) { c->log.level = o.log_level; }},
    {"quiet",
     [](const O& o, C* c) {
       c->log.level = o.log_level;
       c->log.quiet = o.quiet;
     }},
    {"log-target", [](const O& o, C* c) { c->log.target = o.log_target; }},
    {"user", [](const O& o, C* c) { c->service.user = o.user; }},
    {"pid-file", [](const O& o, C* c) { c->service.pid_file = o.pid_file; }},
};

}  // namespace

Result<config::Config> ApplyOptions(const DaemonOptions& o, config::Config c) {
  auto given = [&o](const char* name) { return o.given.count(name) > 0; };
  const int modes = (given("sim") ? 1 : 0) + (given("interface") ? 1 : 0) +
                    (given("read") ? 1 : 0) + (given("sample") ? 1 : 0) + (given("ovs") ? 1 : 0) +
                    (given("vendor-plugin") ? 1 : 0);
  if (modes > 1) {
    return InvalidArgumentError(
        "--sim, -i/--interface, -r/--read, --sample, --ovs and --vendor-plugin exclude each "
        "other: pick one source of packets");
  }
  for (const ModelRow& row : kModelRows) {
    if (given(row.flag)) row.apply(o, &c);
  }
  if (given("vendor-options") && c.source.kind != SourceKind::kVendor) {
    return InvalidArgumentError(
        "--vendor-options applies to a vendor plugin, and the source is not one: add "
        "--vendor-plugin or set source.type = \"vendor\"");
  }
  for (const OptSpec& spec : kOpts) {
    if (spec.sim_only && given(spec.long_name) && c.source.kind != SourceKind::kSim) {
      return InvalidArgumentError(std::string("--") + spec.long_name +
                                  " applies to the simulated switch only, and the source is "
                                  "not the simulator");
    }
  }
  return c;
}

namespace {

// The checks FinishOptions makes on the command line alone, on a merged configuration.
Status CheckWhole(const std::string& path, config::Config* c) {
  using config::SourceKind;
  const bool probe =
      c->source.kind == SourceKind::kInterface || c->source.kind == SourceKind::kFile;
  if (probe) {
    const char* what =
        c->source.kind == SourceKind::kInterface ? "source interface (-i)" : "source file (-r)";
    if (!c->agent.collectors.empty()) {
      return InvalidArgumentError(
          path + ": sFlow collectors ([[agent.collector]], --collector) with the " + what +
          ": the host probe exports NetFlow/IPFIX ([[flow.collector]], -n)");
    }
    if (c->flow.collectors.empty()) {
      return InvalidArgumentError(path + ": no collector: the " + what +
                                  " exports NetFlow/IPFIX: add a [[flow.collector]] or give "
                                  "-n HOST[:PORT]");
    }
  } else if (c->agent.collectors.empty() && c->flow.collectors.empty() && !c->snmp.enabled) {
    // With SNMP, a manager may bring the collectors (docs/snmp.md).
    return InvalidArgumentError(path +
                                ": no collector: add an [[agent.collector]] (sFlow) or a "
                                "[[flow.collector]] (NetFlow/IPFIX), or give --collector / -n");
  }
  if (c->flow.active_timeout_s < c->flow.inactive_timeout_s) {
    return InvalidArgumentError(path + ": flow.active-timeout (" +
                                std::to_string(c->flow.active_timeout_s) +
                                " s) must not be shorter than flow.inactive-timeout (" +
                                std::to_string(c->flow.inactive_timeout_s) + " s)");
  }
  if (!probe && !c->agent.address) c->agent.address = *IpAddress::Parse("127.0.0.1");
  return Status::Ok();
}

}  // namespace

Result<config::Config> LoadEffectiveConfig(const std::string& path, const DaemonOptions& flags,
                                           const config::Config* previous,
                                           std::vector<std::string>* warnings) {
  if (path.empty()) {
    DaemonOptions o = flags;
    XFLOWD_RETURN_IF_ERROR(FinishOptions(&o));
    config::Config c = ToConfig(o);
    XFLOWD_RETURN_IF_ERROR(config::Validate(c));
    return c;
  }
  config::NameLookup lookup = config::SystemNameLookup();
  if (previous) {
    // At a reload a name that stops resolving keeps its address: a DNS hiccup must not stop
    // the export to a collector that still runs.
    lookup.resolve_host = [previous, warnings, system = lookup.resolve_host](
                              const std::string& host) -> Result<IpAddress> {
      Result<IpAddress> a = system(host);
      if (a.ok()) return a;
      std::optional<IpAddress> kept;
      for (const config::SflowCollector& c : previous->agent.collectors) {
        if (c.host == host) kept = c.address;
      }
      for (const config::FlowCollector& c : previous->flow.collectors) {
        if (c.host == host) kept = c.endpoint.address;
      }
      if (!kept) return a.status();
      if (warnings) {
        warnings->push_back("collector host '" + host + "' does not resolve (" +
                            a.status().message() + "): keeping its address " + kept->ToString());
      }
      return *kept;
    };
  }
  bool source_given = false;
  Result<config::Config> file =
      config::LoadConfigFile(path, config::Config{}, lookup, &source_given);
  if (!file.ok()) return file.status();
  const bool mode_flag = flags.given.count("sim") || flags.given.count("interface") ||
                         flags.given.count("read") || flags.given.count("sample") ||
                         flags.given.count("ovs") || flags.given.count("vendor-plugin");
  if (!source_given && !mode_flag) {
    return InvalidArgumentError(path +
                                ": no packet source: set source.type (\"sim\", \"linux\", "
                                "\"interface\", \"file\" or \"vendor\") or give --sim, "
                                "--sample, -i, -r or --vendor-plugin");
  }
  Result<config::Config> c = ApplyOptions(flags, *file);
  if (!c.ok()) return c.status();
  XFLOWD_RETURN_IF_ERROR(CheckWhole(path, &*c));
  Status valid = config::Validate(*c);
  if (!valid.ok()) return valid.WithContext(path);
  return c;
}

config::Config ToConfig(const DaemonOptions& o) {
  config::Config c;
  for (const ModelRow& row : kModelRows) row.apply(o, &c);
  c.source.kind = ModeOf(o);
  return c;
}

config::SourceKind ModeOf(const DaemonOptions& options) {
  if (!options.interface.empty()) return config::SourceKind::kInterface;
  if (!options.read_file.empty()) return config::SourceKind::kFile;
  if (!options.sample_patterns.empty()) return config::SourceKind::kLinux;
  if (options.ovs) return config::SourceKind::kOvs;
  if (!options.vendor_plugin.empty()) return config::SourceKind::kVendor;
  return config::SourceKind::kSim;
}

namespace {

// What this build lacks to run a source (UNIMPLEMENTED), in the words the user gave it:
// `flag` for the command line ("-i"), else the config file's source.type.
Status CheckBuildHas(config::SourceKind kind, bool sampled, bool flag, bool have_sim,
                     bool have_pcap, bool have_linux) {
  using config::SourceKind;
  auto missing = [flag](const char* option, const char* key, const char* what) {
    return UnimplementedError(std::string(flag ? option : key) + ": this xflowd " + what);
  };
  switch (kind) {
    case SourceKind::kOvs:
      break;  // run::RunOvs says so when the build lacks it
    case SourceKind::kLinux:
      if (have_linux) break;
      return missing("--sample", "source.type \"linux\"",
                     "was built without the Linux back-ends (rtnetlink and AF_PACKET need only "
                     "the kernel headers): configure with XFLOWD_WITH_RTNL=ON and "
                     "XFLOWD_WITH_AFPACKET=ON and rebuild");
    case SourceKind::kSim:
      if (have_sim) break;
      return missing("--sim", "source.type \"sim\"",
                     "is a minimal (firmware) build without the simulated switch");
    case SourceKind::kInterface:
      if (have_pcap) break;
      return missing("-i", "source.type \"interface\"",
                     "was built without libpcap (install libpcap-dev and rebuild)");
    case SourceKind::kVendor:
      break;  // RunVendor says so if the build left hal/vendor out (XFLOWD_WITH_VENDOR=OFF)
    case SourceKind::kFile:
      // Without libpcap, xflowd's own reader takes classic pcap files (not pcapng).
      if (have_pcap || !sampled) break;
      return missing("-r with --sampling", "source.type \"file\" with a sampling rate",
                     "was built without libpcap, whose file reader samples; replay every "
                     "packet, or rebuild with libpcap-dev");
  }
  return Status::Ok();
}

}  // namespace

Status CheckSupported(const DaemonOptions& options, bool have_sim, bool have_pcap,
                      bool have_linux) {
  const config::SourceKind kind = ModeOf(options);
  if (kind == config::SourceKind::kSim && !options.sim) {
    return UnimplementedError(
        "no packet source: give --sim (the simulated switch), --sample PATTERN (the ports "
        "of this Linux host or switch, through PSAMPLE, AF_PACKET or NFLOG), -i IFACE "
        "(capture on an interface), -r FILE (a capture file) or --vendor-plugin PATH (a "
        "switch ASIC through its vendor's plugin)");
  }
  const bool sampled = options.sampling_rate && *options.sampling_rate > 1;
  return CheckBuildHas(kind, sampled, true, have_sim, have_pcap, have_linux);
}

Status CheckSupported(const config::Config& c, bool have_sim, bool have_pcap, bool have_linux) {
  const bool sampled = c.ports.sampling_rate && *c.ports.sampling_rate > 1;
  return CheckBuildHas(c.source.kind, sampled, false, have_sim, have_pcap, have_linux);
}

// {P} is the program name, {V} the version.
constexpr char kHelpTemplate[] =
    R"({P} {V} - sFlow v5 agent and NetFlow/IPFIX flow exporter: samples
packets and polls interface counters on a switch (sFlow), or meters flows on a
host or from a capture file (NetFlow v5, v9, IPFIX).

Usage:
  {P} [--config FILE] [options]                      (the config file)
  {P} --check-config [FILE] [options]
  {P} --sample PATTERN[=BACKEND] --collector HOST[:PORT] [options]
  {P} --ovs [DB-SOCKET] --collector HOST[:PORT] [options]
  {P} --sim --collector HOST[:PORT] [-n HOST[:PORT][/VERSION]] [options]
  {P} --vendor-plugin PATH --collector HOST[:PORT] [options]
  {P} -i IFACE -n HOST[:PORT][/VERSION] [options]     (host probe)
  {P} -r FILE  -n HOST[:PORT][/VERSION] [options]     (replay a capture)
  {P} --help | --version

Configuration file (TOML, every key in docs/configuration.md):
  --config FILE               read FILE (default: /etc/xflowd/xflowd.toml if it
                              exists; without it, the command line alone). Each
                              option given on the command line overrides the
                              setting it names in the file, and only that one
  --check-config [FILE]       read FILE (or the default), apply the options
                              given, check everything and print the effective
                              configuration with every default filled in; exit
                              0 if valid, 2 with FILE:LINE:COLUMN: KEY: error

Packet sources (pick one):
  --sample PATTERN[=BACKEND]  sample the ports of this Linux host or switch
                              whose name matches PATTERN (shell glob, e.g.
                              'swp*'); repeat for several. BACKEND: afpacket
                              (default; in-kernel random filter), psample (tc
                              sample, offloaded by switch ASICs) or nflog
                              (nftables). Ports that appear, go or are
                              renamed are followed without a restart
  --psample-group G           PSAMPLE group G ingress, G+1 egress (default 1)
  --nflog-group G             first NFLOG group; one per nflog port (default 5)
  --ovs [DB-SOCKET]           the ports of Open vSwitch: inventory and counters
                              from OVSDB at DB-SOCKET (an absolute path; default
                              /var/run/openvswitch/db.sock), samples from OVS's
                              own sFlow, re-exported by xflowd (docs/ovs.md)
  --ovs-bridge NAME           sample this OVS bridge only; repeat for several
                              (default: every bridge)
  --ingress-only              afpacket: ignore frames the host itself sends
  --extended-router           add the extended router record (next hop, source
                              and destination prefix lengths) to every port's
                              samples, from the kernel's routing table
  --route-table N             the routing table it follows (default 254, main)
  --vendor-plugin PATH        sample a switch ASIC through its vendor's plugin,
                              a shared object implementing xflowd/vendor_abi.h
                              (docs/porting.md); e.g. the reference plugin over
                              a simulated ASIC, libxflowd_vendor_ref.so
  --vendor-options STRING     handed to the plugin's init as it is (the
                              reference plugin: 'ports=8,seed=1,pps=2000')
  --sim                       the simulated switch (software traffic, for demos)
  -i, --interface IFACE       capture every packet on IFACE (libpcap); flows go
                              to the -n collectors. Never counts its own export
  -r, --read FILE             read a pcap/pcapng file as fast as it reads, using
                              packet time for the flow timers; at the end every
                              flow is exported (end reason 4) and xflowd exits
  --no-promisc                with -i: do not put IFACE in promiscuous mode
  --snaplen BYTES             with -i: bytes captured per packet, 64..65535
                              (default 256; only headers are needed)
  --threads N                 with -r: 1 = read, parse and count on one thread;
                              2 = a reader/parser thread ahead of the cache and
                              export (same records); 0 = auto: 2 on a machine
                              with 2 or more cores (default 0).
                              With -i: 1 = libpcap on one thread (default);
                              N >= 2 = N AF_PACKET fanout workers (flow hash),
                              each metering into its own 1/N of the flow
                              cache, one exporter; 0 = one per core
  --reader auto|mmap|libpcap  with -r: mmap = xflowd's reader over the mapped
                              file (pcap, pcapng); libpcap = libpcap's; auto =
                              mmap for regular files, else libpcap (default)

sFlow collectors and agent:
  --collector HOST[:PORT]     send sFlow to this collector; repeat for several.
                              IPv4 or IPv6 address; [::1]:6343 for IPv6 with
                              a port (default port 6343; no name lookups)
  --agent-address IP          agent address in every datagram
                              (default with --sim, --sample or
                              --vendor-plugin: 127.0.0.1)
  --sub-agent-id N            sub-agent id (default 0)
  --max-datagram BYTES        largest datagram, sFlow and NetFlow/IPFIX alike,
                              512..9000 (default 1400)
  --expanded-samples          always send expanded flow and counter samples
                              (0:3, 0:4), as hsflowd does; otherwise only for
                              an ifindex above 16777215

Sampling and polling (every port):
  -s, --sampling N            sample 1 in N packets (default: by link speed,
                              speed / 1,000,000, at least 100: 1G -> 1000,
                              10G -> 10000, 100G -> 100000; with -i or -r:
                              every packet)
  --polling SECONDS           counter polling interval, 0 = off (default 20)
  --header-bytes N            bytes of each sampled header exported, 14..256
                              (default 128)
  --max-samples-per-second N  export budget per port: over it the sampling rate
                              doubles; 0 = no limit (default 0)
  --direction DIR             sample ingress, egress or both (default ingress);
                              each direction is a sampler of its own

NetFlow / IPFIX:
  -n, --netflow HOST[:PORT][/VERSION]
                              export flows to this collector; repeat for
                              several, each with its own version and sequence
                              numbers. VERSION: 5, 9, 10 (= ipfix) or ipfix-tcp
                              (default: --netflow-version). Default port 2055,
                              4739 for IPFIX. With --sim, the sFlow samples
                              feed the flow cache too (counts are not scaled;
                              the sampling rate goes in the options data)
  -V, --netflow-version V     5, 9 or 10/ipfix (default 9)
  --observation-domain N      v9 source id / IPFIX observation domain
                              (default 0)
  -m, --flow-cache-size N     flows held at once, 16..67108864 (default 262144;
                              when full the least recently used flow is
                              exported early, end reason 5)
  --inactive-timeout SECONDS  end a flow idle this long (default 15)
  --active-timeout SECONDS    export a long flow every SECONDS (default 1800)
  -t NAME=SECONDS             softflowd style: general (= inactive), maxlife
                              (= active), tcp, udp, icmp (per-protocol
                              inactive timeouts)
  --no-tcp-end                FIN and RST do not end a flow (timeouts only)
  --template-refresh-packets N  resend templates every N messages, 0 = never
                              (default 20)
  --template-refresh-seconds S  and every S seconds, 0 = never (default 600)
  --flow-key-macs             add source and destination MAC to the flow key
  --flow-key-mpls             add the top MPLS label to the flow key

Simulated switch:
  --ports N                   number of ports, 1..4096 (default 48)
  --speed SPEED               port speed: 1G, 10G, 25G, 40G, 100G or bit/s
                              (default 10G)
  --load FRACTION             mean offered load per port, 0..1 or 0%..100%
                              (default 0.2)
  --seed N                    seed of the traffic and of sampling: same seed,
                              same traffic (default 1)
  --sim-sample-loss P         probability that the ASIC loses a sample, 0..1
                              (default 0)
  --sim-pow2                  the ASIC rounds sampling rates to a power of two
  --sim-truth FILE            at exit, write what the simulated traffic was
                              (per port, CSV) to FILE, to check collectors
  --sim-lose-samples PORTS:F  ports that lie, to try the self-check: lose a
                              fraction F of their samples without a sequence gap
  --sim-drop-samples PORTS:F  lose a fraction F with sequence gaps (drops)
  --sim-wrong-rate PORTS:X    sample at X times the rate but announce the rate
                              (PORTS: port numbers and ranges, e.g. 3,5-6)
  --sim-vlan-port PORT:VLAN   the port is an 802.1Q VLAN device with this id:
                              its counter samples carry VLAN counters; repeat
                              for several

Running:
  --duration SECONDS          run this long, then flush and exit 0
                              (default: until SIGINT or SIGTERM)
  -d, --foreground            accepted for softflowd users: xflowd runs in the
                              foreground unless --daemon is given
  -v, --verbose               debug logging
  -q, --quiet                 warnings and errors only, no summary at exit
  --control-socket PATH       unix socket for xflowctl (default
                              /run/xflowd/xflowd.sock, mode 0600); '' or
                              none: no control socket
  --user USER                 started as root: after opening what needs root,
                              become USER, keeping only the capabilities the
                              mode needs (default xflowd; root: no switch)
  --daemon                    detach (fork, new session, stdio to /dev/null);
                              the parent exits 0 once xflowd runs, or with
                              its error status
  --pid-file FILE             write the process id to FILE (removed at exit)
  --log-target TARGET         auto, stderr or syslog (default auto: the
                              journal under systemd, syslog with --daemon,
                              else stderr)
  -h, --help                  show this help
  --version                   show the version

SIGINT/SIGTERM send what is pending (every flow in the cache too), print a
summary and exit 0. SIGHUP (or `xflowctl reload`) reads the config file
again and applies what changed (not with -r; docs/usage.md "Reload").
SIGUSR1 logs the summary's counters and goes on;
SIGUSR2 and SIGPIPE are ignored. Exit status: 0 ok, 1 runtime failure, 2 usage
error.

Examples:
  {P} --sample 'swp*=psample' --sample eth0 --collector 192.0.2.10 \
      --agent-address 192.0.2.1
      a Linux switch: front ports through the ASIC (PSAMPLE), the management
      port through AF_PACKET, 1-in-N by link speed
  {P} --sim --collector 127.0.0.1:6343
      the demo: 48 simulated 10G ports at 20% load, 1-in-10000 sampling, to a
      collector on this host (watch: tshark -i lo -f 'udp port 6343')
  {P} --sim --ports 8 --speed 1G --sampling 512 --polling 10 \
      --collector 127.0.0.1 --collector [::1]:6343
      8 x 1G ports, 1-in-512, counters every 10 s, to two collectors
  {P} -i eth0 -n 192.0.2.10:2055
      host probe: every packet on eth0 into NetFlow v9 flows (like
      softflowd -i eth0 -n 192.0.2.10:2055 -v 9)
  {P} -r trace.pcap -n 127.0.0.1:2055/5 -n 127.0.0.1:4739/ipfix
      one capture, exported as NetFlow v5 and IPFIX to two collectors
)";

std::string HelpText(const std::string& program) {
  std::string h = kHelpTemplate;
  for (auto [key, value] : {std::pair<std::string, std::string>{"{P}", program},
                            std::pair<std::string, std::string>{"{V}", kVersion}}) {
    for (size_t at = h.find(key); at != std::string::npos; at = h.find(key, at + value.size())) {
      h.replace(at, key.size(), value);
    }
  }
  return h;
}

}  // namespace xflowd::agent::daemon
