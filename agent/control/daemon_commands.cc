#include "agent/control/daemon_commands.h"

#include <unistd.h>

#include <cstring>
#include <map>
#include <utility>

#include "agent/daemon/report_json.h"

namespace xflowd::agent::control {

using hal::base::Result;
using nlohmann::json;

namespace {

#ifdef XFLOWD_VERSION
constexpr char kVersion[] = XFLOWD_VERSION;
#else
constexpr char kVersion[] = "0.1.0";
#endif

constexpr uint32_t kDefaultTop = 10;
constexpr uint32_t kMaxTop = 1000;

const char* ModeName(config::SourceKind kind) {
  switch (kind) {
    case config::SourceKind::kSim:
      return "sim";
    case config::SourceKind::kInterface:
      return "interface";
    case config::SourceKind::kFile:
      return "file";
    case config::SourceKind::kLinux:
      return "linux";
    case config::SourceKind::kOvs:
      return "ovs";
    case config::SourceKind::kVendor:
      return "vendor";
  }
  return "?";
}

// A counter the source does not have (all ones) is null.
json Counter(uint64_t v) { return v == hal::PortCounters::kUnknown64 ? json(nullptr) : json(v); }

json TransportJson(const exporter::Transport& t) {
  const exporter::TransportStats& ts = t.stats();
  const exporter::TransportStatus st = t.status();
  json j = json::object();
  j["transport"] = t.Describe();
  j["state"] = exporter::TransportStateName(st.state);
  j["datagrams"] = ts.datagrams_sent;
  j["bytes"] = ts.bytes_sent;
  j["send_errors"] = ts.send_errors;
  j["lost"] = ts.lost;
  j["pending_bytes"] = st.pending_bytes;
  j["stream"] = st.stream;
  j["last_error"] = st.last_error != 0 ? json(std::strerror(st.last_error)) : json(nullptr);
  j["details"] = t.DescribeStats();
  json counters = json::object();
  for (const auto& [name, value] : t.Counters()) counters[name] = value;
  j["counters"] = std::move(counters);
  return j;
}

const char* VersionName(exporter::netflow::Version v) {
  switch (v) {
    case exporter::netflow::Version::kV5:
      return "netflow-v5";
    case exporter::netflow::Version::kV9:
      return "netflow-v9";
    case exporter::netflow::Version::kIpfix:
      return "ipfix";
  }
  return "?";
}

json ExporterJson(const exporter::netflow::ExporterStats& e) {
  return json{{"datagrams", e.datagrams},
              {"send_errors", e.send_errors},
              {"flows_received", e.flows_received},
              {"flows_exported", e.flows_exported},
              {"flows_not_exportable", e.flows_not_exportable},
              {"flows_lost", e.flows_lost},
              {"template_records", e.template_records},
              {"options_template_records", e.options_template_records},
              {"options_data_records", e.options_data_records},
              {"template_refreshes", e.template_refreshes},
              {"v5_clamped_counters", e.v5_clamped_counters},
              {"v5_clamped_ifindex", e.v5_clamped_ifindex}};
}

json RecordsByReason(const uint64_t (&r)[6]) {
  return json{{"idle", r[1]},
              {"active", r[2]},
              {"end", r[3]},
              {"forced", r[4]},
              {"lack_of_resources", r[5]}};
}

// The last reload: null before the first.
json ReloadJson(const daemon::ReloadResult& r) {
  if (!r.attempted) return json(nullptr);
  json j = json::object();
  j["ok"] = r.status.ok();
  j["unix_ms"] = r.unix_ms;
  j["summary"] = r.Summary();
  if (!r.status.ok()) j["error"] = r.status.message();
  j["changes"] = r.changes;
  return j;
}

}  // namespace

DaemonCommands::DaemonCommands(daemon::Daemon& daemon, std::string config_path)
    : daemon_(daemon), config_path_(std::move(config_path)) {}

std::string DaemonCommands::HandleLine(std::string_view line, bool* ok) {
  Result<Request> req = ParseRequest(line);
  if (!req.ok()) {
    *ok = false;
    return EncodeError(req.status().message());
  }
  Result<json> r = Run(*req);
  if (!r.ok()) {
    *ok = false;
    return EncodeError(r.status().message());
  }
  *ok = true;
  return EncodeOk(*r);
}

Result<json> DaemonCommands::Run(const Request& request) {
  const std::string& c = request.command;
  const json& args = request.args;
  auto no_args = [&]() -> hal::base::Status {
    if (!args.empty()) {
      return hal::base::InvalidArgumentError("\"" + c + "\" takes no arguments");
    }
    return hal::base::Status::Ok();
  };
  if (c == "status" || c == "ports" || c == "collectors" || c == "flows" || c == "stats" ||
      c == "flush" || c == "check" || c == "reload" || c == "help") {
    XFLOWD_RETURN_IF_ERROR(no_args());
  }
  if (c == "status") return Status();
  if (c == "ports") return Ports();
  if (c == "collectors") return Collectors();
  if (c == "flows") return Flows();
  if (c == "stats") return Stats();
  if (c == "flush") return Flush();
  if (c == "help") {
    return json{"status", "ports",  "collectors", "flows", "top",
                "check",  "reload", "flush",      "stats", "help"};
  }
  if (c == "top") {
    for (auto it = args.begin(); it != args.end(); ++it) {
      if (it.key() != "n") {
        return hal::base::InvalidArgumentError("\"top\" takes only \"n\", not \"" + it.key() +
                                               "\"");
      }
    }
    Result<uint64_t> n = UintArg(args, "n", kDefaultTop, 1, kMaxTop);
    if (!n.ok()) return n.status();
    return daemon::TopTalkersJson(daemon_.top_talkers(), static_cast<size_t>(*n),
                                  daemon_.clock().Now());
  }
  if (c == "check") {
    return daemon::SelfCheckJson(daemon_.self_check().report());
  }
  if (c == "reload") {
    hal::base::Status st = daemon_.ReloadFromLoader();
    if (!st.ok()) return st;
    json j = json::object();
    j["reloaded"] = true;
    j["config_file"] = config_path_;
    j["last_reload"] = ReloadJson(daemon_.last_reload());
    return j;
  }
  return hal::base::InvalidArgumentError(
      "unknown command \"" + c +
      "\" (status, ports, collectors, flows, top, check, reload, flush, stats, help)");
}

json DaemonCommands::Status() const {
  const config::Config& cfg = daemon_.config();
  json j = json::object();
  j["version"] = kVersion;
  j["pid"] = static_cast<int64_t>(getpid());
  j["mode"] = ModeName(cfg.source.kind);
  j["platform"] = daemon_.platform().description;
  j["agent_address"] = cfg.agent.address ? json(cfg.agent.address->ToString()) : json(nullptr);
  j["uptime_s"] = daemon_.uptime_s();
  j["ports"] = daemon_.agent().pollers().size();
  j["sflow_collectors"] = daemon_.transports().size();
  j["flow_collectors"] = daemon_.flow_probe() ? daemon_.flow_probe()->transports().size() : 0;
  j["config_file"] = config_path_;
  j["last_reload"] = ReloadJson(daemon_.last_reload());
  return j;
}

namespace {

// The receiver a data source sends to: "config", "snmp-<row>" or "none" (idle).
std::string ReceiverName(uint32_t id, const sflow::Receiver* attached) {
  if (attached == nullptr || id == 0) return "none";
  if (id == daemon::Daemon::kConfigReceiver) return "config";
  return "snmp-" + std::to_string(id);
}

}  // namespace

json DaemonCommands::Ports() const {
  const config::Config& cfg = daemon_.config();
  const sflow::Agent& agent = daemon_.agent();
  std::map<uint32_t, const sflow::Sampler*> samplers;
  std::map<uint32_t, const sflow::Sampler*> egress;
  for (const auto& s : agent.samplers()) {
    (s->direction() == hal::Direction::kIngress ? samplers : egress)[s->ifindex()] = s.get();
  }
  json ports = json::array();
  for (const auto& p : agent.pollers()) {
    const hal::PortInfo& port = p->port();
    const config::PortSettings want = config::SettingsFor(cfg.ports, port.name, port.speed_bps);
    json j = json::object();
    j["ifindex"] = port.ifindex;
    j["name"] = port.name;
    j["speed_bps"] = port.speed_bps;
    j["oper_up"] = port.oper_up;
    j["requested_rate"] = want.sampling_rate;
    auto it = samplers.find(port.ifindex);
    if (it != samplers.end()) {
      const sflow::Sampler& s = *it->second;
      j["rate"] = s.sampling_rate();
      j["samples"] = s.stats().samples;
      j["pool"] = s.sample_pool();
      j["drops"] = s.drops();
      j["source_drops"] = s.stats().source_drops;
      j["backoffs"] = s.stats().backoffs;
      j["header_errors"] = s.stats().header_errors;
      j["router_records"] = s.stats().router_records;
      j["no_route"] = s.stats().no_route;
    } else {
      j["rate"] = nullptr;  // sampling could not be programmed: counters only
      j["samples"] = nullptr;
      j["pool"] = nullptr;
      j["drops"] = nullptr;
    }
    // The directions sampled now ("ingress", "egress", "both"; null: none), and the egress
    // sampler's own numbers (the fields above are ingress's).
    auto eg = egress.find(port.ifindex);
    const bool in = it != samplers.end();
    const bool out = eg != egress.end();
    j["direction"] = in && out ? json("both")
                     : in      ? json("ingress")
                     : out     ? json("egress")
                               : json(nullptr);
    if (out) {
      const sflow::Sampler& s = *eg->second;
      j["egress"] = json{{"rate", s.sampling_rate()},
                         {"samples", s.stats().samples},
                         {"pool", s.sample_pool()},
                         {"drops", s.drops()},
                         {"source_drops", s.stats().source_drops},
                         {"backoffs", s.stats().backoffs}};
    } else {
      j["egress"] = nullptr;
    }
    const auto ids = daemon_.PortReceivers(port.ifindex);
    j["receiver"] = it != samplers.end() ? json(ReceiverName(ids.first, it->second->receiver()))
                                         : json(nullptr);
    j["poller_receiver"] = ReceiverName(ids.second, p->receiver());
    j["polling_interval_s"] = p->config().interval_s;
    j["counter_samples"] = p->stats().samples;
    j["counter_read_errors"] = p->stats().read_errors;
    // The interface's counters now, as the next counter sample would carry them.
    auto counters = daemon_.platform().counters->ReadCounters(port.ifindex);
    if (counters.ok()) {
      const hal::PortCounters& c = *counters;
      j["counters"] = json{
          {"in_octets", Counter(c.in_octets)},       {"in_ucast_pkts", Counter(c.in_ucast_pkts)},
          {"in_discards", Counter(c.in_discards)},   {"in_errors", Counter(c.in_errors)},
          {"out_octets", Counter(c.out_octets)},     {"out_ucast_pkts", Counter(c.out_ucast_pkts)},
          {"out_discards", Counter(c.out_discards)}, {"out_errors", Counter(c.out_errors)}};
    } else {
      j["counters"] = nullptr;
    }
    ports.push_back(std::move(j));
  }
  return ports;
}

json DaemonCommands::Collectors() const {
  json list = json::array();
  for (const auto& t : daemon_.transports()) {
    json j = TransportJson(*t);
    j["protocol"] = "sflow";
    j["receiver"] = "config";
    list.push_back(std::move(j));
  }
  for (const auto& [id, x] : daemon_.extra_receivers()) {
    json j = TransportJson(*x.transport);
    j["protocol"] = "sflow";
    j["receiver"] = "snmp-" + std::to_string(id);
    j["max_datagram_bytes"] = x.receiver->config().max_datagram_bytes;
    j["next_sequence"] = x.receiver->next_sequence();
    list.push_back(std::move(j));
  }
  if (const daemon::FlowProbe* probe = daemon_.flow_probe()) {
    for (const auto& e : probe->exporters()) {
      json j = TransportJson(e->transport());
      j["protocol"] = VersionName(e->options().version);
      j["records"] = e->stats().flows_exported;
      j["records_lost"] = e->stats().flows_lost;
      j["exporter"] = ExporterJson(e->stats());
      list.push_back(std::move(j));
    }
  }
  return list;
}

json DaemonCommands::Flows() const {
  const daemon::FlowProbe* probe = daemon_.flow_probe();
  json j = json::object();
  j["enabled"] = probe != nullptr;
  if (probe == nullptr) return j;
  // With fanout workers (D58) the partitions' counters, added up.
  const agent::flow::FlowMeterStats m =
      probe->has_meter() ? probe->meter().stats() : probe->meter_stats();
  j["active"] = m.active_flows;
  j["capacity"] = probe->cache_capacity();
  j["memory_bytes"] = probe->cache_memory_bytes();
  j["created"] = m.flows_created;
  j["records_by_reason"] = RecordsByReason(m.records_by_reason);
  j["evictions"] = m.evictions;
  j["flushes"] = probe->flushes();
  return j;
}

json DaemonCommands::Flush() {
  const daemon::FlowProbe* probe = daemon_.flow_probe();
  json j = json::object();
  j["enabled"] = probe != nullptr;
  j["records"] = daemon_.FlushFlows();
  return j;
}

json DaemonCommands::Stats() const {
  json j = json::object();
  j["uptime_s"] = daemon_.uptime_s();
  const hal::PacketSourceStats src = daemon_.platform().packets->stats();
  j["source"] = json{{"samples", src.samples},
                     {"source_drops", src.source_drops},
                     {"parse_errors", src.parse_errors}};
  const sflow::Agent& agent = daemon_.agent();
  j["agent"] =
      json{{"samples_in", agent.stats().samples_in}, {"no_sampler", agent.stats().no_sampler}};
  sflow::SamplerStats ss;
  for (const auto& s : agent.samplers()) {
    const sflow::SamplerStats& x = s->stats();
    ss.samples += x.samples;
    ss.source_drops += x.source_drops;
    ss.backoffs += x.backoffs;
    ss.recoveries += x.recoveries;
    ss.header_errors += x.header_errors;
    ss.headers_trimmed += x.headers_trimmed;
    ss.oversize_drops += x.oversize_drops;
    ss.control_errors += x.control_errors;
    ss.router_records += x.router_records;
    ss.no_route += x.no_route;
  }
  j["samplers"] = json{{"count", agent.samplers().size()},
                       {"samples", ss.samples},
                       {"source_drops", ss.source_drops},
                       {"backoffs", ss.backoffs},
                       {"recoveries", ss.recoveries},
                       {"header_errors", ss.header_errors},
                       {"headers_trimmed", ss.headers_trimmed},
                       {"oversize_drops", ss.oversize_drops},
                       {"control_errors", ss.control_errors},
                       {"router_records", ss.router_records},
                       {"no_route", ss.no_route},
                       {"ports_without_sampling", daemon_.ports_without_sampling()}};
  sflow::PollerStats ps;
  for (const auto& p : agent.pollers()) {
    ps.samples += p->stats().samples;
    ps.read_errors += p->stats().read_errors;
    ps.oversize_drops += p->stats().oversize_drops;
  }
  j["pollers"] = json{{"count", agent.pollers().size()},
                      {"samples", ps.samples},
                      {"read_errors", ps.read_errors},
                      {"oversize_drops", ps.oversize_drops}};
  if (const sflow::HostPoller* h = agent.host_poller()) {
    const sflow::HostPollerStats& hs = h->stats();
    j["host"] = json{{"interval_s", h->config().interval_s},
                     {"samples", hs.samples},
                     {"read_errors", hs.read_errors},
                     {"adapters_left_out", hs.adapters_left_out},
                     {"oversize_drops", hs.oversize_drops}};
  } else {
    j["host"] = nullptr;
  }
  json receivers = json::array();
  for (const auto& r : agent.receivers()) {
    const sflow::ReceiverStats& rs = r->stats();
    receivers.push_back(json{{"name", r->config().name},
                             {"datagrams", rs.datagrams},
                             {"flow_samples", rs.flow_samples},
                             {"counter_samples", rs.counter_samples},
                             {"discard_samples", rs.discard_samples},
                             {"oversize_drops", rs.oversize_drops},
                             {"send_errors", rs.send_errors}});
  }
  j["receivers"] = std::move(receivers);
  if (const sflow::DiscardNotifier* dn = daemon_.discards()) {
    const sflow::DiscardStats& d = dn->stats();
    const hal::DropSourceStats src = daemon_.platform().drops->stats();
    j["discards"] = json{{"events", d.events},
                         {"software", d.software},
                         {"hardware", d.hardware},
                         {"source_lost", src.lost},
                         {"source_parse_errors", src.parse_errors},
                         {"ignored", d.ignored},
                         {"sampled_out", d.sampled_out},
                         {"rate_limited", d.rate_limited},
                         {"exported", d.exported},
                         {"oversize", d.oversize},
                         {"no_receiver", d.no_receiver},
                         {"untracked_sources", d.untracked},
                         {"sampling_rate", dn->config().sampling_rate},
                         {"max_per_s", dn->config().max_per_s}};
  }
  j["collectors"] = Collectors();
  const daemon::EventLoopStats& ls = daemon_.loop().stats();
  j["event_loop"] = json{{"ticks", ls.ticks},
                         {"missed_ticks", ls.missed_ticks},
                         {"late_ticks", ls.late_ticks},
                         {"drains", ls.drains},
                         {"samples", ls.samples},
                         {"timer_runs", ls.timer_runs},
                         {"reloads", ls.reloads},
                         {"status_requests", ls.status_requests},
                         {"ignored_signals", ls.ignored_signals}};
  for (const auto& [section, counters] : extra_stats_) {
    json o = json::object();
    for (const auto& [name, value] : counters()) o[name] = value;
    j[section] = std::move(o);
  }
  if (const daemon::FlowProbe* probe = daemon_.flow_probe()) {
    const agent::flow::FlowMeterStats m =
        probe->has_meter() ? probe->meter().stats() : probe->meter_stats();
    j["flow_meter"] = json{{"packets", m.packets},
                           {"metered", m.metered},
                           {"not_ip", m.not_ip},
                           {"truncated", m.truncated},
                           {"bad_length", m.bad_length},
                           {"ipv6_zero_length", m.ipv6_zero_length},
                           {"fragments", m.fragments},
                           {"flows_created", m.flows_created},
                           {"active_flows", m.active_flows},
                           {"bytes", m.bytes},
                           {"records_by_reason", RecordsByReason(m.records_by_reason)},
                           {"evictions", m.evictions},
                           {"rate_table_full", m.rate_table_full},
                           {"flushes", probe->flushes()}};
  } else {
    j["flow_meter"] = nullptr;
  }
  if (server_ != nullptr) {
    const ControlServerStats& cs = server_->stats();
    j["control"] = json{{"accepted", cs.accepted},
                        {"rejected", cs.rejected},
                        {"dropped_slow", cs.dropped_slow},
                        {"dropped_long", cs.dropped_long},
                        {"dropped_idle", cs.dropped_idle},
                        {"requests", cs.requests},
                        {"errors", cs.errors},
                        {"clients", cs.clients}};
  } else {
    j["control"] = nullptr;
  }
  const daemon::TopTalkersStats& tt = daemon_.top_talkers().stats();
  j["top_talkers"] = json{{"samples", tt.samples},
                          {"not_ingress", tt.not_ingress},
                          {"counted", tt.counted},
                          {"not_ip", tt.not_ip},
                          {"evictions", tt.evictions}};
  // Lines the rate-limited logs of the sample path held back (docs/metrics.md).
  j["log"] = json{{"suppressed", daemon_.logger().suppressed()}};
  const daemon::SelfCheckReport& sc = daemon_.self_check().report();
  j["self_check"] =
      json{{"windows", sc.windows}, {"data_sources", sc.ports.size()}, {"flagged", sc.flagged}};
  return j;
}

Result<std::unique_ptr<ControlServer>> StartControlServer(const ControlServerOptions& options,
                                                          daemon::Daemon& daemon,
                                                          DaemonCommands& commands,
                                                          hal::base::Logger& logger) {
  auto server = ControlServer::Create(
      options, daemon.loop(), daemon.clock(), logger,
      [&commands](std::string_view line, bool* ok) { return commands.HandleLine(line, ok); },
      [](const std::string& message) { return EncodeError(message); });
  if (!server.ok()) return server.status();
  commands.set_server(server->get());
  return server;
}

}  // namespace xflowd::agent::control
