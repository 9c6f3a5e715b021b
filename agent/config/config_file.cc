#include "agent/config/config_file.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <toml.hpp>
#include <utility>

namespace xflowd::agent::config {
namespace {

using hal::base::Endpoint;
using hal::base::InvalidArgumentError;
using hal::base::IpAddress;
using hal::base::Result;
using hal::base::Status;
using Value = toml::value;

constexpr uint64_t kU32Max = std::numeric_limits<uint32_t>::max();

// Every key, dotted; array-of-tables members under the array's name ("port.match").
const char* const kKeys[] = {
    "agent",
    "agent.address",
    "agent.interface",
    "agent.sub-agent-id",
    "agent.max-datagram-bytes",
    "agent.collector",
    "agent.collector.host",
    "agent.collector.port",
    "agent.collector.source-address",
    "agent.collector.vrf",
    "agent.collector.dscp",
    "ports",
    "ports.sampling-rate",
    "ports.polling-interval",
    "ports.header-bytes",
    "ports.max-samples-per-second",
    "ports.expanded-samples",
    "ports.direction",
    "ports.extended-router",
    "port",
    "port.match",
    "port.sampling-rate",
    "port.polling-interval",
    "port.header-bytes",
    "port.direction",
    "port.backend",
    "port.enabled",
    "port.extended-router",
    "flow",
    "flow.default-protocol",
    "flow.observation-domain",
    "flow.max-datagram-bytes",
    "flow.cache-size",
    "flow.inactive-timeout",
    "flow.active-timeout",
    "flow.tcp-timeout",
    "flow.udp-timeout",
    "flow.icmp-timeout",
    "flow.tcp-end",
    "flow.template-refresh-packets",
    "flow.template-refresh-seconds",
    "flow.key-macs",
    "flow.key-mpls",
    "flow.collector",
    "flow.collector.host",
    "flow.collector.port",
    "flow.collector.protocol",
    "flow.collector.source-address",
    "flow.collector.vrf",
    "flow.collector.dscp",
    "source",
    "source.type",
    "source.sim",
    "source.sim.ports",
    "source.sim.speed",
    "source.sim.load",
    "source.sim.sample-loss",
    "source.sim.pow2",
    "source.sim.truth-file",
    "source.sim.drops-per-s",
    "source.sim.fault",
    "source.sim.fault.port",
    "source.sim.fault.lose-samples",
    "source.sim.fault.drop-samples",
    "source.sim.fault.wrong-rate",
    "source.sim.vlan-port",
    "source.sim.vlan-port.port",
    "source.sim.vlan-port.vlan",
    "source.interface",
    "source.interface.name",
    "source.interface.promiscuous",
    "source.interface.snaplen",
    "source.interface.threads",
    "source.file",
    "source.file.path",
    "source.file.reader",
    "source.file.threads",
    "source.linux",
    "source.linux.psample-group",
    "source.linux.nflog-group",
    "source.linux.ingress-only",
    "source.linux.route-table",
    "log",
    "log.level",
    "log.quiet",
    "log.target",
    "run",
    "run.seed",
    "run.duration",
    "control",
    "control.socket",
    "control.group",
    "service",
    "service.user",
    "service.pid-file",
    "self-check",
    "self-check.window",
    "self-check.flag-after",
    "self-check.min-samples",
    "snmp",
    "snmp.enabled",
    "snmp.agentx-socket",
    "snmp.ping-interval",
    "snmp.receivers",
    "drops",
    "drops.enabled",
    "drops.sampling-rate",
    "drops.max-per-s",
    "host",
    "host.enabled",
    "host.polling-interval",
};

// TOML nests arrays, inline tables and dotted keys; the parser recurses with them (and slows
// down quadratically on long dotted keys). Deeper nesting than any configuration needs is
// refused before parsing, so no input can exhaust the stack or the CPU.
constexpr int kMaxNesting = 32;

bool NestingTooDeep(const std::string& text) {
  int depth = 0;
  int key_dots = 0;  // on this line: dotted keys nest tables too (a.b.c = 1)
  char quote = 0;
  bool comment = false;
  auto digit = [&text](size_t i) { return i < text.size() && text[i] >= '0' && text[i] <= '9'; };
  for (size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (ch == '\n') key_dots = 0;
    if (comment) {
      if (ch == '\n') comment = false;
      continue;
    }
    if (quote) {
      if (ch == '\\' && quote == '"') {
        ++i;
      } else if (ch == quote || ch == '\n') {
        quote = 0;
      }
      continue;
    }
    if (ch == '#') {
      comment = true;
    } else if (ch == '"' || ch == '\'') {
      quote = ch;
    } else if (ch == '[' || ch == '{') {
      if (++depth > kMaxNesting) return true;
    } else if ((ch == ']' || ch == '}') && depth > 0) {
      --depth;
    } else if (ch == '.' && !(i > 0 && digit(i - 1) && digit(i + 1))) {
      // Not the point of a float or a time: a key separator.
      if (++key_dots > kMaxNesting) return true;
    }
  }
  return false;
}

// The offset of the first byte that is not part of well-formed UTF-8, or npos. TOML files are
// UTF-8; toml11 3.7 reads past the end of its buffer on some malformed sequences inside
// strings (found by config_file_fuzz), so they are refused before it sees them.
size_t InvalidUtf8(const std::string& text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char b = p[i];
    size_t len = 0;
    uint32_t min = 0;
    if (b < 0x80) {
      ++i;
      continue;
    } else if ((b & 0xE0) == 0xC0) {
      len = 2;
      min = 0x80;
    } else if ((b & 0xF0) == 0xE0) {
      len = 3;
      min = 0x800;
    } else if ((b & 0xF8) == 0xF0) {
      len = 4;
      min = 0x10000;
    } else {
      return i;
    }
    if (i + len > n) return i;
    uint32_t cp = b & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::string::npos;
}

std::string TypeName(const Value& v) {
  switch (v.type()) {
    case toml::value_t::boolean:
      return "a boolean";
    case toml::value_t::integer:
      return "an integer";
    case toml::value_t::floating:
      return "a float";
    case toml::value_t::string:
      return "a string";
    case toml::value_t::array:
      return "an array";
    case toml::value_t::table:
      return "a table";
    case toml::value_t::empty:
      return "nothing";
    default:
      return "a date or time";
  }
}

const char* ProtocolName(uint8_t version, bool tcp) {
  if (tcp) return "ipfix-tcp";
  if (version == 5) return "netflow-v5";
  if (version == 9) return "netflow-v9";
  return "ipfix";
}

// One collector table as written, before defaults that depend on other keys are applied.
struct CollectorEntry {
  const Value* table = nullptr;
  const Value* host_value = nullptr;
  std::string host;
  Endpoint endpoint;  // port 0 = not given
  std::optional<uint8_t> version;
  bool tcp = false;
  const Value* protocol_value = nullptr;
  const Value* send_value = nullptr;  // the first of source-address, vrf, dscp
  SendOptions send;
  bool host_is_name = false;
};

class Parser {
 public:
  Parser(std::string file, const NameLookup& lookup) : file_(std::move(file)), lookup_(lookup) {}

  // Whether the file chose the packet source (after Parse).
  bool source_given() const { return source_given_; }

  Status Parse(const Value& root, Config* c) {
    c_ = c;
    XFLOWD_RETURN_IF_ERROR(Walk(
        root, "",
        {
            {"agent", [this](const std::string& k, const Value& v) { return Agent(k, v); }},
            {"ports", [this](const std::string& k, const Value& v) { return Ports(k, v); }},
            {"port", [this](const std::string& k, const Value& v) { return PortList(k, v); }},
            {"flow", [this](const std::string& k, const Value& v) { return Flow(k, v); }},
            {"source", [this](const std::string& k, const Value& v) { return Source(k, v); }},
            {"log", [this](const std::string& k, const Value& v) { return Log(k, v); }},
            {"run", [this](const std::string& k, const Value& v) { return Run(k, v); }},
            {"control", [this](const std::string& k, const Value& v) { return Control(k, v); }},
            {"service", [this](const std::string& k, const Value& v) { return Service(k, v); }},
            {"self-check",
             [this](const std::string& k, const Value& v) {
               XFLOWD_RETURN_IF_ERROR(Table(k, v));
               SelfCheckSettings& c = c_->self_check;
               return Walk(v, k,
                           {
                               {"window", U(&c.window_s, 1, 86400)},
                               {"flag-after", U(&c.flag_after, 1, 1000)},
                               {"min-samples", U(&c.min_samples, 1, kU32Max)},
                           });
             }},
            {"snmp",
             [this](const std::string& k, const Value& v) {
               XFLOWD_RETURN_IF_ERROR(Table(k, v));
               SnmpConfig& c = c_->snmp;
               return Walk(v, k,
                           {
                               {"enabled", B(&c.enabled)},
                               {"agentx-socket",
                                [this, &c](const std::string& kk, const Value& x) {
                                  return Str(kk, x, &c.agentx_socket, false);
                                }},
                               {"ping-interval", U(&c.ping_interval_s, 1, 3600)},
                               {"receivers", U(&c.receivers, 0, kSnmpReceiversMax)},
                           });
             }},
            {"drops",
             [this](const std::string& k, const Value& v) {
               XFLOWD_RETURN_IF_ERROR(Table(k, v));
               DropsConfig& c = c_->drops;
               return Walk(v, k,
                           {
                               {"enabled", B(&c.enabled)},
                               {"sampling-rate", U(&c.sampling_rate, 1, 1u << 24)},
                               {"max-per-s", U(&c.max_per_s, 0, 1000000)},
                           });
             }},
            {"host",
             [this](const std::string& k, const Value& v) {
               XFLOWD_RETURN_IF_ERROR(Table(k, v));
               HostCountersConfig& c = c_->host;
               return Walk(v, k,
                           {
                               {"enabled", B(&c.enabled)},
                               {"polling-interval",
                                [this, &c](const std::string& kk, const Value& x) {
                                  uint64_t s = 0;
                                  XFLOWD_RETURN_IF_ERROR(Uint(kk, x, 0, 86400, &s));
                                  c.polling_interval_s = static_cast<uint32_t>(s);
                                  return Status::Ok();
                                }},
                           });
             }},
        }));
    // Keys whose meaning depends on another section, checked once every section is read.
    if (c_->source.kind != SourceKind::kLinux) {
      if (!backend_values_.empty()) {
        return Fail(*backend_values_.front(), "port.backend",
                    "applies to the Linux source only (source.type = \"linux\")");
      }
    } else if (ports_given_) {
      c_->source.linux_ports.patterns.clear();
      for (PortOverride& o : c_->ports.overrides) {
        if (!o.backend) o.backend = SampleBackend::kAfPacket;  // the default, written out
        c_->source.linux_ports.patterns.push_back(
            {o.pattern, o.backend.value_or(SampleBackend::kAfPacket)});
      }
    }
    return FinishFlowCollectors();
  }

 private:
  using Handler = std::function<Status(const std::string& key, const Value& v)>;
  struct Field {
    const char* name;
    Handler handle;
  };

  std::string Where(const Value& v) const {
    const toml::source_location l = v.location();
    return file_ + ":" + std::to_string(l.line()) + ":" + std::to_string(l.column());
  }
  Status Fail(const Value& v, const std::string& key, const std::string& message) const {
    return InvalidArgumentError(Where(v) + ": " + key + ": " + message);
  }

  // Calls the field's handler for every key of `table`; an unknown key fails.
  Status Walk(const Value& table, const std::string& prefix, const std::vector<Field>& fields) {
    std::vector<std::pair<std::string, const Value*>> items;
    for (const auto& kv : table.as_table()) items.emplace_back(kv.first, &kv.second);
    // By name, for a deterministic first error: a value's location costs a scan of the file
    // up to it (toml11 counts the lines), so it is asked for only to report an error.
    std::sort(items.begin(), items.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [name, value] : items) {
      const std::string key = prefix.empty() ? name : prefix + "." + name;
      const Field* field = nullptr;
      for (const Field& f : fields) {
        if (name == f.name) field = &f;
      }
      if (!field) {
        std::string known;
        for (const Field& f : fields) known += std::string(known.empty() ? "" : ", ") + f.name;
        return Fail(*value, key, "unknown key (known here: " + known + ")");
      }
      XFLOWD_RETURN_IF_ERROR(field->handle(key, *value));
    }
    return Status::Ok();
  }

  Status Table(const std::string& key, const Value& v) const {
    if (!v.is_table()) return Fail(v, key, "expected a table, got " + TypeName(v));
    return Status::Ok();
  }

  Status Uint(const std::string& key, const Value& v, uint64_t min, uint64_t max,
              uint64_t* out) const {
    if (!v.is_integer()) return Fail(v, key, "expected an integer, got " + TypeName(v));
    const int64_t i = v.as_integer();
    if (i < 0 || static_cast<uint64_t>(i) < min || static_cast<uint64_t>(i) > max) {
      return Fail(v, key,
                  std::to_string(i) + " is out of range " + std::to_string(min) + ".." +
                      std::to_string(max));
    }
    *out = static_cast<uint64_t>(i);
    return Status::Ok();
  }
  template <typename T>
  Handler U(T* out, uint64_t min, uint64_t max) {
    return [this, out, min, max](const std::string& key, const Value& v) {
      uint64_t x = 0;
      XFLOWD_RETURN_IF_ERROR(Uint(key, v, min, max, &x));
      *out = static_cast<T>(x);
      return Status::Ok();
    };
  }
  template <typename T>
  Handler OptU(std::optional<T>* out, uint64_t min, uint64_t max) {
    return [this, out, min, max](const std::string& key, const Value& v) {
      uint64_t x = 0;
      XFLOWD_RETURN_IF_ERROR(Uint(key, v, min, max, &x));
      *out = static_cast<T>(x);
      return Status::Ok();
    };
  }
  Handler B(bool* out) {
    return [this, out](const std::string& key, const Value& v) {
      if (!v.is_boolean()) return Fail(v, key, "expected true or false, got " + TypeName(v));
      *out = v.as_boolean();
      return Status::Ok();
    };
  }
  Status Str(const std::string& key, const Value& v, std::string* out, bool allow_empty) const {
    if (!v.is_string()) return Fail(v, key, "expected a string, got " + TypeName(v));
    *out = v.as_string().str;
    if (!allow_empty && out->empty()) return Fail(v, key, "must not be empty");
    return Status::Ok();
  }
  Handler S(std::string* out, bool allow_empty = false) {
    return [this, out, allow_empty](const std::string& key, const Value& v) {
      return Str(key, v, out, allow_empty);
    };
  }
  Handler Frac(double* out, bool allow_one) {
    return [this, out, allow_one](const std::string& key, const Value& v) {
      double d = 0;
      if (v.is_floating()) {
        d = v.as_floating();
      } else if (v.is_integer()) {
        d = static_cast<double>(v.as_integer());
      } else {
        return Fail(v, key, "expected a number from 0 to 1, got " + TypeName(v));
      }
      if (!std::isfinite(d) || d < 0.0 || d > 1.0 || (!allow_one && d >= 1.0)) {
        return Fail(v, key, std::string("out of range 0..1") + (allow_one ? "" : " (1 excluded)"));
      }
      *out = d;
      return Status::Ok();
    };
  }
  // One of `names`; its index in *out.
  Status Choice(const std::string& key, const Value& v, const std::vector<const char*>& names,
                size_t* out) const {
    std::string s;
    XFLOWD_RETURN_IF_ERROR(Str(key, v, &s, true));
    std::string list;
    for (size_t i = 0; i < names.size(); ++i) {
      if (s == names[i]) {
        *out = i;
        return Status::Ok();
      }
      list += std::string(i == 0 ? "" : ", ") + "\"" + names[i] + "\"";
    }
    return Fail(v, key, "\"" + s + "\" is not one of " + list);
  }
  Status Ip(const std::string& key, const Value& v, IpAddress* out) const {
    std::string s;
    XFLOWD_RETURN_IF_ERROR(Str(key, v, &s, false));
    Result<IpAddress> a = IpAddress::Parse(s);
    if (!a.ok()) return Fail(v, key, "'" + s + "' is not an IPv4 or IPv6 address");
    *out = *a;
    return Status::Ok();
  }

  Status Agent(const std::string& key, const Value& v) {
    XFLOWD_RETURN_IF_ERROR(Table(key, v));
    AgentConfig& a = c_->agent;
    const Value* address = nullptr;
    const Value* interface = nullptr;
    IpAddress addr;
    std::string ifname;
    XFLOWD_RETURN_IF_ERROR(Walk(
        v, key,
        {
            {"address",
             [&](const std::string& k, const Value& x) {
               address = &x;
               return Ip(k, x, &addr);
             }},
            {"interface",
             [&](const std::string& k, const Value& x) {
               interface = &x;
               return Str(k, x, &ifname, false);
             }},
            {"sub-agent-id", U(&a.sub_agent_id, 0, kU32Max)},
            {"max-datagram-bytes", U(&a.max_datagram_bytes, kDatagramBytesMin, kDatagramBytesMax)},
            {"collector",
             [&](const std::string& k, const Value& x) {
               std::vector<CollectorEntry> entries;
               XFLOWD_RETURN_IF_ERROR(Collectors(k, x, false, &entries));
               a.collectors.clear();
               std::set<std::string> seen;
               for (const CollectorEntry& e : entries) {
                 SflowCollector c(e.endpoint);
                 if (c.port == 0) c.port = kDefaultSflowPort;
                 if (!seen.insert(c.ToString()).second) {
                   return Fail(*e.host_value, k + ".host",
                               "collector " + c.ToString() + " is given twice");
                 }
                 if (e.host_is_name) c.host = e.host;
                 c.send = e.send;
                 a.collectors.push_back(c);
               }
               return Status::Ok();
             }},
        }));
    if (address && interface) {
      return Fail(*interface, key + ".interface",
                  "give agent.address or agent.interface, not both");
    }
    if (address) {
      a.address = addr;
      a.address_interface.clear();
    }
    if (interface) {
      Result<IpAddress> found = lookup_.interface_address(ifname);
      if (!found.ok()) return Fail(*interface, key + ".interface", found.status().message());
      a.address = *found;
      a.address_interface = ifname;
    }
    return Status::Ok();
  }

  // The tables of an [[agent.collector]] or [[flow.collector]] array, host names resolved.
  Status Collectors(const std::string& key, const Value& v, bool flow,
                    std::vector<CollectorEntry>* out) {
    if (!v.is_array()) return Fail(v, key, "expected an array of tables, got " + TypeName(v));
    for (const Value& t : v.as_array()) {
      if (!t.is_table()) return Fail(t, key, "expected a table, got " + TypeName(t));
      CollectorEntry e;
      e.table = &t;
      std::vector<Field> fields = {
          {"host",
           [&](const std::string& k, const Value& x) {
             e.host_value = &x;
             return Str(k, x, &e.host, false);
           }},
          {"port",
           [&](const std::string& k, const Value& x) {
             uint64_t port = 0;
             XFLOWD_RETURN_IF_ERROR(Uint(k, x, 1, 65535, &port));
             e.endpoint.port = static_cast<uint16_t>(port);
             return Status::Ok();
           }},
          {"source-address",
           [&](const std::string& k, const Value& x) {
             if (!e.send_value) e.send_value = &x;
             IpAddress a;
             XFLOWD_RETURN_IF_ERROR(Ip(k, x, &a));
             e.send.source_address = a;
             return Status::Ok();
           }},
          {"vrf",
           [&](const std::string& k, const Value& x) {
             if (!e.send_value) e.send_value = &x;
             XFLOWD_RETURN_IF_ERROR(Str(k, x, &e.send.bind_device, false));
             if (e.send.bind_device.size() > 15) {
               return Fail(
                   x, k,
                   "'" + e.send.bind_device + "' is longer than an interface name (15 bytes)");
             }
             return Status::Ok();
           }},
          {"dscp",
           [&](const std::string& k, const Value& x) {
             if (!e.send_value) e.send_value = &x;
             return OptU(&e.send.dscp, 0, 63)(k, x);
           }},
      };
      if (flow) {
        fields.push_back({"protocol", [&](const std::string& k, const Value& x) {
                            e.protocol_value = &x;
                            size_t i = 0;
                            XFLOWD_RETURN_IF_ERROR(Choice(
                                k, x, {"netflow-v5", "netflow-v9", "ipfix", "ipfix-tcp"}, &i));
                            const uint8_t versions[] = {5, 9, 10, 10};
                            e.version = versions[i];
                            e.tcp = i == 3;
                            return Status::Ok();
                          }});
      }
      XFLOWD_RETURN_IF_ERROR(Walk(t, key, fields));
      if (!e.host_value) return Fail(t, key + ".host", "missing: every collector needs a host");
      Result<IpAddress> literal = IpAddress::Parse(e.host);
      if (literal.ok()) {
        e.endpoint.address = *literal;
      } else {
        Result<IpAddress> resolved = lookup_.resolve_host(e.host);
        if (!resolved.ok()) {
          return Fail(*e.host_value, key + ".host",
                      "'" + e.host + "' does not resolve: " + resolved.status().message());
        }
        e.endpoint.address = *resolved;
        e.host_is_name = true;
      }
      if (e.send.source_address && e.send.source_address->family() != e.endpoint.address.family()) {
        return Fail(*e.send_value, key + ".source-address",
                    e.send.source_address->ToString() + " is not of the family of " + e.host +
                        " (" + e.endpoint.address.ToString() + ")");
      }
      out->push_back(e);
    }
    return Status::Ok();
  }

  Status Ports(const std::string& key, const Value& v) {
    XFLOWD_RETURN_IF_ERROR(Table(key, v));
    PortsConfig& p = c_->ports;
    return Walk(v, key,
                {
                    {"sampling-rate", OptU(&p.sampling_rate, 1, kU32Max)},
                    {"polling-interval", U(&p.polling_interval_s, 0, 86400)},
                    {"header-bytes", U(&p.header_bytes, 14, 256)},
                    {"max-samples-per-second", U(&p.max_samples_per_s, 0, kU32Max)},
                    {"expanded-samples", B(&p.expanded_samples)},
                    {"direction",
                     [&](const std::string& k, const Value& x) {
                       std::optional<SampleDirection> d;
                       XFLOWD_RETURN_IF_ERROR(Direction(&d)(k, x));
                       p.direction = *d;
                       return Status::Ok();
                     }},
                    {"extended-router", B(&p.extended_router)},
                });
  }

  // "ingress", "egress" or "both" (config::ParseSampleDirection's words, in that order).
  Handler Direction(std::optional<SampleDirection>* out) {
    return [this, out](const std::string& k, const Value& x) -> Status {
      size_t i = 0;
      XFLOWD_RETURN_IF_ERROR(Choice(k, x, {"ingress", "egress", "both"}, &i));
      const SampleDirection d[] = {SampleDirection::kIngress, SampleDirection::kEgress,
                                   SampleDirection::kBoth};
      *out = d[i];
      return Status::Ok();
    };
  }

  Status PortList(const std::string& key, const Value& v) {
    if (!v.is_array()) return Fail(v, key, "expected an array of tables, got " + TypeName(v));
    ports_given_ = true;
    std::vector<PortOverride> overrides;
    std::set<std::string> patterns;
    for (const Value& t : v.as_array()) {
      if (!t.is_table()) return Fail(t, key, "expected a table, got " + TypeName(t));
      PortOverride o;
      const Value* match = nullptr;
      XFLOWD_RETURN_IF_ERROR(
          Walk(t, key,
               {
                   {"match",
                    [&](const std::string& k, const Value& x) {
                      match = &x;
                      XFLOWD_RETURN_IF_ERROR(Str(k, x, &o.pattern, false));
                      if (o.pattern.size() > 64) return Fail(x, k, "longer than 64 bytes");
                      return Status::Ok();
                    }},
                   {"sampling-rate", OptU(&o.sampling_rate, 1, kU32Max)},
                   {"polling-interval", OptU(&o.polling_interval_s, 0, 86400)},
                   {"header-bytes", OptU(&o.header_bytes, 14, 256)},
                   {"direction", Direction(&o.direction)},
                   {"backend",
                    [&](const std::string& k, const Value& x) {
                      size_t i = 0;
                      XFLOWD_RETURN_IF_ERROR(Choice(k, x, {"afpacket", "psample", "nflog"}, &i));
                      const SampleBackend b[] = {SampleBackend::kAfPacket, SampleBackend::kPsample,
                                                 SampleBackend::kNflog};
                      o.backend = b[i];
                      backend_values_.push_back(&x);
                      return Status::Ok();
                    }},
                   {"enabled", B(&o.enabled)},
                   {"extended-router",
                    [&](const std::string& k, const Value& x) {
                      bool b = false;
                      XFLOWD_RETURN_IF_ERROR(B(&b)(k, x));
                      o.extended_router = b;
                      return Status::Ok();
                    }},
               }));
      if (!match) return Fail(t, key + ".match", "missing: every [[port]] needs a match pattern");
      if (!patterns.insert(o.pattern).second) {
        return Fail(*match, key + ".match", "'" + o.pattern + "' is given twice");
      }
      overrides.push_back(o);
    }
    c_->ports.overrides = overrides;
    return Status::Ok();
  }

  Status Flow(const std::string& key, const Value& v) {
    XFLOWD_RETURN_IF_ERROR(Table(key, v));
    FlowConfig& f = c_->flow;
    return Walk(
        v, key,
        {
            {"default-protocol",
             [&](const std::string& k, const Value& x) {
               size_t i = 0;
               XFLOWD_RETURN_IF_ERROR(Choice(k, x, {"netflow-v5", "netflow-v9", "ipfix"}, &i));
               const uint8_t versions[] = {5, 9, 10};
               f.default_version = versions[i];
               return Status::Ok();
             }},
            {"observation-domain", U(&f.observation_domain, 0, kU32Max)},
            {"max-datagram-bytes", U(&f.max_datagram_bytes, kDatagramBytesMin, kDatagramBytesMax)},
            {"cache-size", U(&f.cache_size, 16, 1u << 26)},
            {"inactive-timeout", U(&f.inactive_timeout_s, 1, 1000000)},
            {"active-timeout", U(&f.active_timeout_s, 1, 1000000)},
            {"tcp-timeout", U(&f.tcp_timeout_s, 0, 1000000)},
            {"udp-timeout", U(&f.udp_timeout_s, 0, 1000000)},
            {"icmp-timeout", U(&f.icmp_timeout_s, 0, 1000000)},
            {"tcp-end", B(&f.tcp_end)},
            {"template-refresh-packets", U(&f.template_refresh_packets, 0, 1000000)},
            {"template-refresh-seconds", U(&f.template_refresh_s, 0, 86400)},
            {"key-macs", B(&f.key_macs)},
            {"key-mpls", B(&f.key_mpls)},
            {"collector",
             [&](const std::string& k, const Value& x) {
               flow_collectors_given_ = true;
               flow_collectors_.clear();
               return Collectors(k, x, true, &flow_collectors_);
             }},
        });
  }

  // Flow collectors need flow.default-protocol, which may come after them.
  Status FinishFlowCollectors() {
    if (!flow_collectors_given_) return Status::Ok();
    FlowConfig& f = c_->flow;
    f.collectors.clear();
    std::set<std::string> seen;
    for (const CollectorEntry& e : flow_collectors_) {
      FlowCollector c;
      c.endpoint = e.endpoint;
      c.version = e.version.value_or(f.default_version);
      c.version_defaulted = !e.version;
      c.tcp = e.tcp;
      if (c.endpoint.port == 0) {
        c.endpoint.port = c.version == 10 ? kDefaultIpfixPort : kDefaultNetflowPort;
        c.port_defaulted = true;
      }
      if (e.host_is_name) c.host = e.host;
      c.send = e.send;
      if (c.tcp && e.send_value) {
        return Fail(*e.send_value, "flow.collector",
                    "source-address, vrf and dscp are not supported for ipfix-tcp yet (UDP "
                    "only)");
      }
      if (!seen.insert(c.endpoint.ToString() + (c.tcp ? "/tcp" : "/udp")).second) {
        return Fail(*e.host_value, "flow.collector.host",
                    "collector " + c.endpoint.ToString() + " is given twice");
      }
      f.collectors.push_back(c);
    }
    return Status::Ok();
  }

  Status Source(const std::string& key, const Value& v) {
    XFLOWD_RETURN_IF_ERROR(Table(key, v));
    SourceConfig& s = c_->source;
    const Value* type = nullptr;
    std::optional<SourceKind> kind;
    std::vector<std::pair<SourceKind, const Value*>> tables;
    auto table = [&](SourceKind k, std::vector<Field> (Parser::*fields)(SourceConfig&)) {
      return [this, &tables, &s, k, fields](const std::string& name, const Value& x) {
        XFLOWD_RETURN_IF_ERROR(Table(name, x));
        tables.emplace_back(k, &x);
        return Walk(x, name, (this->*fields)(s));
      };
    };
    XFLOWD_RETURN_IF_ERROR(
        Walk(v, key,
             {
                 {"type",
                  [&](const std::string& k, const Value& x) {
                    type = &x;
                    size_t i = 0;
                    XFLOWD_RETURN_IF_ERROR(
                        Choice(k, x, {"sim", "linux", "interface", "file", "ovs", "vendor"}, &i));
                    const SourceKind kinds[] = {SourceKind::kSim,       SourceKind::kLinux,
                                                SourceKind::kInterface, SourceKind::kFile,
                                                SourceKind::kOvs,       SourceKind::kVendor};
                    kind = kinds[i];
                    return Status::Ok();
                  }},
                 {"sim", table(SourceKind::kSim, &Parser::SimFields)},
                 {"interface", table(SourceKind::kInterface, &Parser::InterfaceFields)},
                 {"file", table(SourceKind::kFile, &Parser::FileFields)},
                 {"linux", table(SourceKind::kLinux, &Parser::LinuxFields)},
                 {"ovs", table(SourceKind::kOvs, &Parser::OvsFields)},
                 {"vendor", table(SourceKind::kVendor, &Parser::VendorFields)},
             }));
    for (const auto& [k, t] : tables) {
      if (kind && *kind != k) {
        const std::string table_name = "source." + std::string(KindName(k));
        if (!type) {
          return Fail(*t, table_name,
                      "several source tables: set source.type to the one that runs");
        }
        return Fail(*t, table_name,
                    "this table is for source.type = \"" + std::string(KindName(k)) +
                        "\", but source.type is \"" + KindName(*kind) + "\"");
      }
      if (!kind) kind = k;
    }
    if (kind) {
      s.kind = *kind;
      source_given_ = true;
    }
    return Status::Ok();
  }
  static const char* KindName(SourceKind k) {
    switch (k) {
      case SourceKind::kSim:
        return "sim";
      case SourceKind::kLinux:
        return "linux";
      case SourceKind::kInterface:
        return "interface";
      case SourceKind::kFile:
        return "file";
      case SourceKind::kOvs:
        return "ovs";
      case SourceKind::kVendor:
        return "vendor";
    }
    return "?";
  }
  std::vector<Field> SimFields(SourceConfig& s) {
    return {
        {"ports", U(&s.sim.ports, 1, 4096)},
        {"speed",
         [this, &s](const std::string& k, const Value& x) {
           if (x.is_integer()) {
             uint64_t bps = 0;
             XFLOWD_RETURN_IF_ERROR(Uint(k, x, 1, 10'000'000'000'000ull, &bps));
             s.sim.speed_bps = bps;
             return Status::Ok();
           }
           std::string text;
           if (!x.is_string()) {
             return Fail(x, k, "expected a speed such as \"10G\" or bit/s, got " + TypeName(x));
           }
           text = x.as_string().str;
           std::optional<uint64_t> bps = ParseSpeedText(text);
           if (!bps) {
             return Fail(x, k,
                         "'" + text +
                             "' is not a speed such as \"1G\", \"10G\", \"100M\" or "
                             "a number of bit/s");
           }
           s.sim.speed_bps = *bps;
           return Status::Ok();
         }},
        {"load", Frac(&s.sim.load, true)},
        {"sample-loss", Frac(&s.sim.sample_loss, false)},
        {"pow2", B(&s.sim.pow2)},
        {"drops-per-s", U(&s.sim.drops_per_s, 0, 1000000)},
        {"truth-file", S(&s.sim.truth_path, true)},
        {"fault",
         [this, &s](const std::string& k, const Value& x) { return Faults(k, x, &s.sim); }},
        {"vlan-port",
         [this, &s](const std::string& k, const Value& x) { return VlanPorts(k, x, &s.sim); }},
    };
  }
  // [[source.sim.vlan-port]]: a simulated port that is a VLAN device.
  Status VlanPorts(const std::string& key, const Value& v, SimConfig* sim) {
    if (!v.is_array()) return Fail(v, key, "expected an array of tables, got " + TypeName(v));
    sim->vlan_ports.clear();
    for (const Value& t : v.as_array()) {
      if (!t.is_table()) return Fail(t, key, "expected a table, got " + TypeName(t));
      SimVlanPort p;
      uint32_t vlan = 0;
      XFLOWD_RETURN_IF_ERROR(Walk(t, key,
                                  {
                                      {"port", U(&p.ifindex, 1, 4096)},
                                      {"vlan", U(&vlan, 1, 4094)},
                                  }));
      if (p.ifindex == 0 || vlan == 0) return Fail(t, key, "needs \"port\" and \"vlan\"");
      p.vlan_id = static_cast<uint16_t>(vlan);
      for (const SimVlanPort& q : sim->vlan_ports) {
        if (q.ifindex == p.ifindex) {
          return Fail(t, key, "port " + std::to_string(p.ifindex) + " is listed twice");
        }
      }
      sim->vlan_ports.push_back(p);
    }
    return Status::Ok();
  }
  // [[source.sim.fault]]: a simulated port that lies, to try the self-check.
  Status Faults(const std::string& key, const Value& v, SimConfig* sim) {
    if (!v.is_array()) return Fail(v, key, "expected an array of tables, got " + TypeName(v));
    sim->faults.clear();
    for (const Value& t : v.as_array()) {
      if (!t.is_table()) return Fail(t, key, "expected a table, got " + TypeName(t));
      SimPortFault f;
      XFLOWD_RETURN_IF_ERROR(
          Walk(t, key,
               {
                   {"port", U(&f.ifindex, 1, 4096)},
                   {"lose-samples", Frac(&f.hide_fraction, true)},
                   {"drop-samples", Frac(&f.drop_fraction, true)},
                   {"wrong-rate",
                    [this, &f](const std::string& k, const Value& x) {
                      if (!x.is_floating() && !x.is_integer()) {
                        return Fail(x, k, "expected a number, got " + TypeName(x));
                      }
                      const double d =
                          x.is_floating() ? x.as_floating() : static_cast<double>(x.as_integer());
                      if (!(d > 0.0 && d <= 1000.0)) {
                        return Fail(x, k, "out of range (0, 1000]");
                      }
                      f.rate_factor = d;
                      return Status::Ok();
                    }},
               }));
      if (f.ifindex == 0) return Fail(t, key, "needs \"port\"");
      for (const SimPortFault& g : sim->faults) {
        if (g.ifindex == f.ifindex) {
          return Fail(t, key, "port " + std::to_string(f.ifindex) + " is listed twice");
        }
      }
      sim->faults.push_back(f);
    }
    return Status::Ok();
  }
  std::vector<Field> InterfaceFields(SourceConfig& s) {
    return {
        {"name", S(&s.interface.name)},
        {"promiscuous", B(&s.interface.promiscuous)},
        {"snaplen", U(&s.interface.snaplen, 64, 65535)},
        {"threads", U(&s.interface.threads, 0, 64)},
    };
  }
  std::vector<Field> FileFields(SourceConfig& s) {
    return {
        {"path", S(&s.file.path)},
        {"reader",
         [this, &s](const std::string& k, const Value& x) {
           size_t i = 0;
           XFLOWD_RETURN_IF_ERROR(Choice(k, x, {"auto", "mmap", "libpcap"}, &i));
           s.file.reader = static_cast<FileReader>(i);
           return Status::Ok();
         }},
        {"threads", U(&s.file.threads, 0, 64)},
    };
  }
  std::vector<Field> OvsFields(SourceConfig& s) {
    return {
        {"db-socket",
         [this, &s](const std::string& k, const Value& x) {
           XFLOWD_RETURN_IF_ERROR(Str(k, x, &s.ovs.db_socket, false));
           if (s.ovs.db_socket[0] != '/') return Fail(x, k, "must be an absolute path");
           return Status::Ok();
         }},
        {"bridges",
         [this, &s](const std::string& k, const Value& x) {
           if (!x.is_array()) return Fail(x, k, "expected an array of bridge names");
           s.ovs.bridges.clear();
           for (const Value& e : x.as_array()) {
             std::string name;
             XFLOWD_RETURN_IF_ERROR(Str(k, e, &name, false));
             s.ovs.bridges.push_back(name);
           }
           return Status::Ok();
         }},
    };
  }

  std::vector<Field> VendorFields(SourceConfig& s) {
    return {{"plugin", S(&s.vendor.plugin)}, {"options", S(&s.vendor.options, true)}};
  }
  std::vector<Field> LinuxFields(SourceConfig& s) {
    return {
        {"psample-group", U(&s.linux_ports.psample_group, 1, 0xFFFFFFFEu)},
        {"nflog-group", U(&s.linux_ports.nflog_group, 0, 65000)},
        {"ingress-only", B(&s.linux_ports.ingress_only)},
        {"route-table", U(&s.linux_ports.route_table, 1, 0xFFFFFFFFu)},
    };
  }

  Status Log(const std::string& key, const Value& v) {
    XFLOWD_RETURN_IF_ERROR(Table(key, v));
    return Walk(
        v, key,
        {
            {"level",
             [this](const std::string& k, const Value& x) {
               size_t i = 0;
               XFLOWD_RETURN_IF_ERROR(Choice(k, x, {"debug", "info", "warning", "error"}, &i));
               c_->log.level = static_cast<hal::base::LogLevel>(i);
               return Status::Ok();
             }},
            {"quiet", B(&c_->log.quiet)},
            {"target",
             [this](const std::string& k, const Value& x) {
               size_t i = 0;
               XFLOWD_RETURN_IF_ERROR(Choice(k, x, {"auto", "stderr", "syslog"}, &i));
               c_->log.target = static_cast<LogTarget>(i);
               return Status::Ok();
             }},
        });
  }

  Status Service(const std::string& key, const Value& v) {
    XFLOWD_RETURN_IF_ERROR(Table(key, v));
    ServiceConfig& c = c_->service;
    return Walk(
        v, key,
        {
            {"user",
             [this, &c](const std::string& k, const Value& x) {
               std::string user;
               XFLOWD_RETURN_IF_ERROR(Str(k, x, &user, false));
               if (user.find_first_of(":/ \n") != std::string::npos) {
                 return Fail(x, k, "'" + user + "' is not a user name");
               }
               c.user = user;
               return Status::Ok();
             }},
            {"pid-file",
             [this, &c](const std::string& k, const Value& x) {
               XFLOWD_RETURN_IF_ERROR(Str(k, x, &c.pid_file, true));
               if (!c.pid_file.empty() && (c.pid_file[0] != '/' || c.pid_file.back() == '/')) {
                 return Fail(x, k, "must be an absolute file path (or \"\": none)");
               }
               return Status::Ok();
             }},
        });
  }

  Status Run(const std::string& key, const Value& v) {
    XFLOWD_RETURN_IF_ERROR(Table(key, v));
    return Walk(v, key,
                {
                    {"seed",
                     [this](const std::string& k, const Value& x) {
                       // TOML integers are signed 64-bit: larger seeds are written as strings.
                       if (x.is_string()) {
                         const std::string& t = x.as_string().str;
                         char* end = nullptr;
                         errno = 0;
                         const unsigned long long s = strtoull(t.c_str(), &end, 10);
                         if (t.empty() || t[0] < '0' || t[0] > '9' || *end != '\0' || errno != 0) {
                           return Fail(x, k, "'" + t + "' is not a whole number");
                         }
                         c_->seed = s;
                         return Status::Ok();
                       }
                       return Uint(k, x, 0, std::numeric_limits<int64_t>::max(), &c_->seed);
                     }},
                    {"duration", OptU(&c_->duration_s, 1, kU32Max)},
                });
  }

  Status Control(const std::string& key, const Value& v) {
    XFLOWD_RETURN_IF_ERROR(Table(key, v));
    ControlConfig& c = c_->control;
    return Walk(v, key,
                {
                    {"socket",
                     [this, &c](const std::string& k, const Value& x) {
                       XFLOWD_RETURN_IF_ERROR(Str(k, x, &c.socket, true));
                       if (!c.socket.empty() && (c.socket[0] != '/' || c.socket.size() > 107)) {
                         return Fail(x, k,
                                     "must be an absolute path of at most 107 bytes (or \"\": "
                                     "none)");
                       }
                       return Status::Ok();
                     }},
                    {"group",
                     [this, &c](const std::string& k, const Value& x) {
                       XFLOWD_RETURN_IF_ERROR(Str(k, x, &c.group, false));
                       if (c.group.find_first_of(":/ \n") != std::string::npos) {
                         return Fail(x, k, "'" + c.group + "' is not a group name");
                       }
                       return Status::Ok();
                     }},
                });
  }

  std::string file_;
  const NameLookup& lookup_;
  bool source_given_ = false;
  Config* c_ = nullptr;
  bool ports_given_ = false;
  std::vector<const Value*> backend_values_;
  bool flow_collectors_given_ = false;
  std::vector<CollectorEntry> flow_collectors_;
};

// The key a syntax error is on, if its line reads "key = ...".
std::string KeyOfLine(const std::string& line) {
  const size_t eq = line.find('=');
  if (eq == std::string::npos) return "";
  std::string key = line.substr(0, eq);
  const size_t b = key.find_first_not_of(" \t");
  const size_t e = key.find_last_not_of(" \t");
  if (b == std::string::npos) return "";
  key = key.substr(b, e - b + 1);
  for (char ch : key) {
    if (!(isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.')) {
      return "";
    }
  }
  return key;
}

// toml11's message is several lines ("[error] toml::parse_x: what\n --> file\n  | ..."): the
// first, without its prefix, says what is wrong; the location is given separately.
std::string FirstLine(const std::string& what) {
  std::string s = what.substr(0, what.find('\n'));
  const std::string prefix = "[error] ";
  if (s.compare(0, prefix.size(), prefix) == 0) s = s.substr(prefix.size());
  if (s.compare(0, 6, "toml::") == 0) {
    const size_t colon = s.find(": ");
    if (colon != std::string::npos) s = s.substr(colon + 2);
  }
  return s;
}

// A float written so that it reads back as the same double, always with a '.' or exponent.
std::string FormatDouble(double d) {
  char buf[64];
  for (int precision = 1; precision <= 17; ++precision) {
    snprintf(buf, sizeof(buf), "%.*g", precision, d);
    if (strtod(buf, nullptr) == d) break;
  }
  std::string s = buf;
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char ch : s) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += static_cast<char>(ch);
    } else if (ch < 0x20 || ch == 0x7f) {
      char buf[8];
      snprintf(buf, sizeof(buf), "\\u%04x", ch);
      out += buf;
    } else {
      out += static_cast<char>(ch);
    }
  }
  return out + "\"";
}

std::string Bool(bool b) { return b ? "true" : "false"; }

void WriteSend(std::ostringstream& o, const SendOptions& s) {
  if (s.source_address) o << "source-address = " << Quote(s.source_address->ToString()) << "\n";
  if (!s.bind_device.empty()) o << "vrf = " << Quote(s.bind_device) << "\n";
  if (s.dscp) o << "dscp = " << unsigned{*s.dscp} << "\n";
}

Result<IpAddress> SystemInterfaceAddress(const std::string& name) {
  struct ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return hal::base::ErrnoError("getifaddrs", errno);
  std::unique_ptr<struct ifaddrs, void (*)(struct ifaddrs*)> guard(list, freeifaddrs);
  bool exists = false;
  std::optional<IpAddress> v4, v6;
  for (struct ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_name || name != i->ifa_name) continue;
    exists = true;
    if (!i->ifa_addr) continue;
    if (i->ifa_addr->sa_family == AF_INET && !v4) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
      v4 = IpAddress::V4(reinterpret_cast<const uint8_t*>(&sin->sin_addr));
    } else if (i->ifa_addr->sa_family == AF_INET6 && !v6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
      v6 = IpAddress::V6(sin6->sin6_addr.s6_addr);
    }
  }
  if (v4) return *v4;
  if (v6) return *v6;
  if (!exists) return hal::base::NotFoundError("no interface named '" + name + "'");
  return hal::base::NotFoundError("interface '" + name + "' has no IPv4 or IPv6 address");
}

Result<IpAddress> SystemResolveHost(const std::string& host) {
  struct addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  struct addrinfo* res = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) return hal::base::NotFoundError(gai_strerror(rc));
  std::unique_ptr<struct addrinfo, void (*)(struct addrinfo*)> guard(res, freeaddrinfo);
  for (struct addrinfo* a = res; a; a = a->ai_next) {
    if (a->ai_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(a->ai_addr);
      return IpAddress::V4(reinterpret_cast<const uint8_t*>(&sin->sin_addr));
    }
    if (a->ai_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(a->ai_addr);
      return IpAddress::V6(sin6->sin6_addr.s6_addr);
    }
  }
  return hal::base::NotFoundError("no IPv4 or IPv6 address");
}

}  // namespace

NameLookup SystemNameLookup() { return NameLookup{SystemInterfaceAddress, SystemResolveHost}; }

const std::vector<std::string>& KnownConfigKeys() {
  static const std::vector<std::string> keys(std::begin(kKeys), std::end(kKeys));
  return keys;
}

Result<Config> ParseConfigText(const std::string& text, const std::string& file_name,
                               const Config& base, const NameLookup& lookup, bool* source_given) {
  if (source_given) *source_given = false;
  if (text.size() > kMaxConfigFileBytes) {
    return InvalidArgumentError(file_name + ": larger than " + std::to_string(kMaxConfigFileBytes) +
                                " bytes");
  }
  if (NestingTooDeep(text)) {
    return InvalidArgumentError(file_name + ": arrays, tables or dotted keys nested more than " +
                                std::to_string(kMaxNesting) + " deep");
  }
  if (const size_t bad = InvalidUtf8(text); bad != std::string::npos) {
    const size_t line_start = text.rfind('\n', bad == 0 ? 0 : bad - 1);
    const size_t line = 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + bad, '\n'));
    const size_t column = line_start == std::string::npos || bad == 0 ? bad + 1 : bad - line_start;
    return InvalidArgumentError(file_name + ":" + std::to_string(line) + ":" +
                                std::to_string(column) +
                                ": not UTF-8 (a TOML file must be UTF-8 text)");
  }
  Config c = base;
  try {
    std::istringstream in(text);
    const Value root = toml::parse(in, file_name);
    Parser parser(file_name, lookup);
    XFLOWD_RETURN_IF_ERROR(parser.Parse(root, &c));
    if (source_given) *source_given = parser.source_given();
  } catch (const toml::exception& e) {
    const toml::source_location& l = e.location();
    const std::string key = KeyOfLine(l.line_str());
    return InvalidArgumentError(
        file_name + ":" + std::to_string(l.line()) + ":" + std::to_string(l.column()) + ": " +
        (key.empty() ? "" : key + ": ") + "syntax error: " + FirstLine(e.what()));
  } catch (const std::exception& e) {
    return InvalidArgumentError(file_name + ": cannot parse: " + FirstLine(e.what()));
  }
  return c;
}

Result<Config> LoadConfigFile(const std::string& path, const Config& base, const NameLookup& lookup,
                              bool* source_given) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return hal::base::ErrnoError("config file " + path, errno);
  std::string text;
  char buf[4096];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxConfigFileBytes) break;
  }
  if (in.bad()) return hal::base::ErrnoError("reading config file " + path, errno);
  return ParseConfigText(text, path, base, lookup, source_given);
}

std::string FormatConfig(const Config& c) {
  std::ostringstream o;
  o << "# xflowd configuration (docs/configuration.md): every setting, defaults included.\n";
  o << "\n[agent]\n";
  if (!c.agent.address_interface.empty()) {
    o << "interface = " << Quote(c.agent.address_interface) << "  # address "
      << (c.agent.address ? c.agent.address->ToString() : std::string("none")) << "\n";
  } else if (c.agent.address) {
    o << "address = " << Quote(c.agent.address->ToString()) << "\n";
  } else {
    o << "# address: unset\n";
  }
  o << "sub-agent-id = " << c.agent.sub_agent_id << "\n";
  o << "max-datagram-bytes = " << c.agent.max_datagram_bytes << "\n";
  for (const SflowCollector& s : c.agent.collectors) {
    o << "\n[[agent.collector]]\n";
    o << "host = " << Quote(s.host.empty() ? s.address.ToString() : s.host) << "\n";
    o << "port = " << s.port << "\n";
    WriteSend(o, s.send);
  }

  o << "\n[ports]\n";
  if (c.ports.sampling_rate) {
    o << "sampling-rate = " << *c.ports.sampling_rate << "\n";
  } else {
    o << "# sampling-rate: unset, by link speed\n";
  }
  o << "polling-interval = " << c.ports.polling_interval_s << "\n";
  o << "header-bytes = " << c.ports.header_bytes << "\n";
  o << "max-samples-per-second = " << c.ports.max_samples_per_s << "\n";
  o << "expanded-samples = " << Bool(c.ports.expanded_samples) << "\n";
  o << "direction = " << Quote(SampleDirectionName(c.ports.direction)) << "\n";
  o << "extended-router = " << Bool(c.ports.extended_router) << "\n";

  const bool linux_source = c.source.kind == SourceKind::kLinux;
  std::set<std::string> written;
  for (const PortOverride& p : c.ports.overrides) {
    o << "\n[[port]]\nmatch = " << Quote(p.pattern) << "\n";
    written.insert(p.pattern);
    if (p.sampling_rate) o << "sampling-rate = " << *p.sampling_rate << "\n";
    if (p.polling_interval_s) o << "polling-interval = " << *p.polling_interval_s << "\n";
    if (p.header_bytes) o << "header-bytes = " << *p.header_bytes << "\n";
    if (p.direction) o << "direction = " << Quote(SampleDirectionName(*p.direction)) << "\n";
    if (linux_source) {
      // The Linux source's back-end for these ports is its pattern's.
      SampleBackend b = p.backend.value_or(SampleBackend::kAfPacket);
      for (const SamplePattern& sp : c.source.linux_ports.patterns) {
        if (sp.pattern == p.pattern) {
          b = sp.backend;
          break;
        }
      }
      o << "backend = " << Quote(SampleBackendName(b)) << "\n";
    }
    o << "enabled = " << Bool(p.enabled) << "\n";
    if (p.extended_router) o << "extended-router = " << Bool(*p.extended_router) << "\n";
  }
  if (linux_source) {
    for (const SamplePattern& sp : c.source.linux_ports.patterns) {
      if (written.count(sp.pattern)) continue;
      o << "\n[[port]]\nmatch = " << Quote(sp.pattern)
        << "\nbackend = " << Quote(SampleBackendName(sp.backend)) << "\nenabled = true\n";
    }
  }

  const FlowConfig& f = c.flow;
  o << "\n[flow]\n";
  o << "default-protocol = " << Quote(ProtocolName(f.default_version, false)) << "\n";
  o << "observation-domain = " << f.observation_domain << "\n";
  o << "max-datagram-bytes = " << f.max_datagram_bytes << "\n";
  o << "cache-size = " << f.cache_size << "\n";
  o << "inactive-timeout = " << f.inactive_timeout_s << "\n";
  o << "active-timeout = " << f.active_timeout_s << "\n";
  o << "tcp-timeout = " << f.tcp_timeout_s << "\n";
  o << "udp-timeout = " << f.udp_timeout_s << "\n";
  o << "icmp-timeout = " << f.icmp_timeout_s << "\n";
  o << "tcp-end = " << Bool(f.tcp_end) << "\n";
  o << "template-refresh-packets = " << f.template_refresh_packets << "\n";
  o << "template-refresh-seconds = " << f.template_refresh_s << "\n";
  o << "key-macs = " << Bool(f.key_macs) << "\n";
  o << "key-mpls = " << Bool(f.key_mpls) << "\n";
  for (const FlowCollector& fc : f.collectors) {
    o << "\n[[flow.collector]]\n";
    o << "host = " << Quote(fc.host.empty() ? fc.endpoint.address.ToString() : fc.host) << "\n";
    o << "port = " << fc.endpoint.port << "\n";
    o << "protocol = " << Quote(ProtocolName(fc.version, fc.tcp)) << "\n";
    WriteSend(o, fc.send);
  }

  const SourceConfig& s = c.source;
  o << "\n[source]\n";
  switch (s.kind) {
    case SourceKind::kSim:
      o << "type = \"sim\"\n\n[source.sim]\n";
      o << "ports = " << s.sim.ports << "\n";
      o << "speed = " << Quote(FormatSpeed(s.sim.speed_bps)) << "\n";
      o << "load = " << FormatDouble(s.sim.load) << "\n";
      o << "sample-loss = " << FormatDouble(s.sim.sample_loss) << "\n";
      o << "drops-per-s = " << s.sim.drops_per_s << "\n";
      o << "pow2 = " << Bool(s.sim.pow2) << "\n";
      o << "truth-file = " << Quote(s.sim.truth_path) << "\n";
      for (const SimPortFault& f : s.sim.faults) {
        o << "\n[[source.sim.fault]]\nport = " << f.ifindex << "\n";
        o << "lose-samples = " << FormatDouble(f.hide_fraction) << "\n";
        o << "drop-samples = " << FormatDouble(f.drop_fraction) << "\n";
        o << "wrong-rate = " << FormatDouble(f.rate_factor) << "\n";
      }
      for (const SimVlanPort& v : s.sim.vlan_ports) {
        o << "\n[[source.sim.vlan-port]]\nport = " << v.ifindex << "\nvlan = " << v.vlan_id << "\n";
      }
      break;
    case SourceKind::kLinux:
      o << "type = \"linux\"\n\n[source.linux]\n";
      o << "psample-group = " << s.linux_ports.psample_group << "\n";
      o << "nflog-group = " << s.linux_ports.nflog_group << "\n";
      o << "ingress-only = " << Bool(s.linux_ports.ingress_only) << "\n";
      o << "route-table = " << s.linux_ports.route_table << "\n";
      break;
    case SourceKind::kInterface:
      o << "type = \"interface\"\n\n[source.interface]\n";
      o << "name = " << Quote(s.interface.name) << "\n";
      o << "promiscuous = " << Bool(s.interface.promiscuous) << "\n";
      o << "snaplen = " << s.interface.snaplen << "\n";
      o << "threads = " << s.interface.threads << "\n";
      break;
    case SourceKind::kFile:
      o << "type = \"file\"\n\n[source.file]\n";
      o << "path = " << Quote(s.file.path) << "\n";
      o << "reader = "
        << Quote(s.file.reader == FileReader::kMmap
                     ? "mmap"
                     : (s.file.reader == FileReader::kLibpcap ? "libpcap" : "auto"))
        << "\n";
      o << "threads = " << s.file.threads << "\n";
      break;
    case SourceKind::kOvs: {
      o << "type = \"ovs\"\n\n[source.ovs]\n";
      o << "db-socket = " << Quote(s.ovs.db_socket) << "\n";
      o << "bridges = [";
      for (size_t i = 0; i < s.ovs.bridges.size(); ++i) {
        o << (i ? ", " : "") << Quote(s.ovs.bridges[i]);
      }
      o << "]\n";
      break;
    }
    case SourceKind::kVendor:
      o << "type = \"vendor\"\n\n[source.vendor]\n";
      o << "plugin = " << Quote(s.vendor.plugin) << "\n";
      o << "options = " << Quote(s.vendor.options) << "\n";
      break;
  }

  o << "\n[log]\n";
  o << "level = " << Quote(hal::base::LogLevelName(c.log.level)) << "\n";
  o << "quiet = " << Bool(c.log.quiet) << "\n";
  o << "target = " << Quote(LogTargetName(c.log.target)) << "\n";

  o << "\n[run]\n";
  if (c.seed > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    o << "seed = " << Quote(std::to_string(c.seed)) << "\n";
  } else {
    o << "seed = " << c.seed << "\n";
  }
  if (c.duration_s) {
    o << "duration = " << *c.duration_s << "\n";
  } else {
    o << "# duration: unset, runs until stopped\n";
  }

  o << "\n[control]\n";
  o << "socket = " << Quote(c.control.socket) << "\n";
  if (c.control.group.empty()) {
    o << "# group: unset, the socket is mode 0600\n";
  } else {
    o << "group = " << Quote(c.control.group) << "\n";
  }

  o << "\n[service]\n";
  if (c.service.user) {
    o << "user = " << Quote(*c.service.user) << "\n";
  } else {
    o << "# user: unset, \"" << kDefaultServiceUser
      << "\" if that user exists (else xflowd stays root)\n";
  }
  if (c.service.pid_file.empty()) {
    o << "# pid-file: unset, no pid file\n";
  } else {
    o << "pid-file = " << Quote(c.service.pid_file) << "\n";
  }

  o << "\n[self-check]\n";
  o << "window = " << c.self_check.window_s << "\n";
  o << "flag-after = " << c.self_check.flag_after << "\n";
  o << "min-samples = " << c.self_check.min_samples << "\n";

  o << "\n[snmp]\n";
  o << "enabled = " << Bool(c.snmp.enabled) << "\n";
  o << "agentx-socket = " << Quote(c.snmp.agentx_socket) << "\n";
  o << "ping-interval = " << c.snmp.ping_interval_s << "\n";
  o << "receivers = " << c.snmp.receivers << "\n";

  o << "\n[drops]\n";
  o << "enabled = " << Bool(c.drops.enabled) << "\n";
  o << "sampling-rate = " << c.drops.sampling_rate << "\n";
  o << "max-per-s = " << c.drops.max_per_s << "\n";
  o << "\n[host]\n";
  o << "enabled = " << Bool(c.host.enabled) << "\n";
  if (c.host.polling_interval_s) {
    o << "polling-interval = " << *c.host.polling_interval_s << "\n";
  } else {
    o << "# polling-interval: the ports' polling interval\n";
  }
  return o.str();
}

}  // namespace xflowd::agent::config
