#include "agent/daemon/daemon.h"

#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <map>
#include <utility>

#include "agent/config/diff.h"
#include "exporter/udp_transport.h"

namespace xflowd::agent::daemon {

using hal::base::InvalidArgumentError;
using hal::base::LogLevel;
using hal::base::MonoTime;
using hal::base::Result;
using hal::base::Status;

namespace {

// Seeds the agent's PRNG apart from the simulator's, which is seeded with the same --seed.
constexpr uint64_t kAgentSeedSalt = 0x78666c6f77642d61ull;  // "xflowd-a"

// Most samples a stop drains from the source before the final flush (bounded, so a source
// that never runs dry cannot hold up the exit).
constexpr size_t kMaxDrainRoundsAtStop = 256;

std::string Printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string Printf(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  return buf;
}

unsigned long long U(uint64_t v) { return static_cast<unsigned long long>(v); }

SelfCheckConfig SelfCheckConfigFor(const config::SelfCheckSettings& s) {
  SelfCheckConfig c;
  c.window = hal::base::seconds(s.window_s);
  c.flag_after_windows = s.flag_after;
  c.min_samples = s.min_samples;
  return c;
}

// A collector's identity for a reload: its endpoint and how datagrams leave for it, so a new
// DSCP, source address or VRF makes a new transport.
std::string CollectorKey(const config::SflowCollector& c) {
  std::string key = c.ToString();
  if (c.send.source_address) key += " from " + c.send.source_address->ToString();
  if (!c.send.bind_device.empty()) key += " via " + c.send.bind_device;
  if (c.send.dscp) key += " dscp " + std::to_string(*c.send.dscp);
  return key;
}

void LogEachLine(hal::base::Logger& logger, const char* prefix, const std::string& text) {
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    logger.Log(LogLevel::kInfo, "%s%s", prefix, text.substr(start, end - start).c_str());
    start = end + 1;
  }
}

}  // namespace

Daemon::Daemon(const config::Config& config, const Platform& platform,
               const hal::base::Clock& clock, hal::base::Logger& logger)
    : config_(config),
      platform_(platform),
      clock_(clock),
      logger_(logger),
      send_error_log_(logger, hal::base::seconds(60), 3),
      prng_(config.seed ^ kAgentSeedSalt) {}

Daemon::~Daemon() {
  // The platform outlives us: it must not call back into a dead daemon.
  if (listening_) platform_.ports->SetListener(nullptr);
}

Result<std::unique_ptr<Daemon>> Daemon::Create(const config::Config& config,
                                               const Platform& platform,
                                               const hal::base::Clock& clock,
                                               hal::base::Logger& logger, DaemonSettings settings) {
  if (!platform.packets || !platform.counters || !platform.ports) {
    return InvalidArgumentError(
        "platform: packet source, counter source and port inventory "
        "are required");
  }
  if (!config.agent.address && !platform.flow_only) {
    return InvalidArgumentError("no agent address: give --agent-address IP");
  }
  // With SNMP, managers may bring every collector (claimed receivers, docs/snmp.md).
  if (config.agent.collectors.empty() && config.flow.collectors.empty() && !config.snmp.enabled) {
    return InvalidArgumentError("no collector configured");
  }
  std::unique_ptr<Daemon> d(new Daemon(config, platform, clock, logger));
  Status st = d->Init(std::move(settings));
  if (!st.ok()) return st;
  return d;
}

Status Daemon::Init(DaemonSettings settings) {
  loader_ = std::move(settings.loader);
  make_flow_transport_ = std::move(settings.make_flow_transport);
  flow_clock_ = settings.flow_clock;
  // Collectors first: a bad one is the likeliest start-up error and costs nothing to find.
  make_transport_ = std::move(settings.make_transport);
  if (!make_transport_) {
    make_transport_ =
        [this](const config::SflowCollector& c) -> Result<std::unique_ptr<exporter::Transport>> {
      exporter::UdpTransportOptions o;
      o.logger = &logger_;
      o.source_address = c.send.source_address;
      o.bind_device = c.send.bind_device;
      o.dscp = c.send.dscp;
      auto t = exporter::UdpTransport::Create(c, o);
      if (!t.ok()) return t.status();
      return std::unique_ptr<exporter::Transport>(std::move(t.value()));
    };
  }
  std::vector<exporter::Transport*> raw;
  for (const config::SflowCollector& c : config_.agent.collectors) {
    auto t = make_transport_(c);
    if (!t.ok()) return t.status();
    logger_.Log(LogLevel::kInfo, "collector %s", (*t)->Describe().c_str());
    raw.push_back(t->get());
    transports_.push_back(std::move(t.value()));
    transport_keys_.push_back(CollectorKey(c));
  }
  errors_seen_.assign(transports_.size(), 0);

  sflow::AgentConfig ac;
  ac.agent_address = config_.agent.address.value_or(hal::base::IpAddress());  // flow-only: none
  ac.sub_agent_id = config_.agent.sub_agent_id;
  agent_ = std::make_unique<sflow::Agent>(ac, clock_, prng_, logger_);
  sflow::ReceiverConfig rc;
  rc.max_datagram_bytes = config_.agent.max_datagram_bytes;
  receiver_ = &agent_->AddReceiver(rc, raw);
  ApplyHostCounters(nullptr);

  auto ports = platform_.ports->ListPorts();
  if (!ports.ok()) return ports.status().WithContext("listing ports");
  // Neither is fatal: on a switch the ports may come after the daemon (the inventory reports
  // them as they appear), and a port that cannot be sampled is still polled for counters.
  if (ports->empty()) {
    logger_.Log(LogLevel::kWarning,
                "no ports on %s yet; waiting for them (each is added as it appears)",
                platform_.description.empty() ? "this platform" : platform_.description.c_str());
  }
  Status first_error;
  for (const hal::PortInfo& port : *ports) {
    ports_[port.ifindex] = port;
    Status st = AddPort(port);
    if (!st.ok() && first_error.ok()) first_error = st;
  }
  AttachPorts();

  if (!ports->empty() && ports_without_sampling_ == ports->size()) {
    logger_.Log(LogLevel::kWarning,
                "could not program sampling on any port (first: %s); running on, their counters "
                "are polled",
                first_error.message().c_str());
  }
  platform_.ports->SetListener(
      [this](hal::PortEvent event, const hal::PortInfo& port) { OnPortEvent(event, port); });
  listening_ = true;

  self_check_ = std::make_unique<SelfCheck>(SelfCheckConfigFor(config_.self_check), *agent_,
                                            *platform_.counters, &logger_);
  TopTalkersConfig tc = settings.top_talkers;
  if (tc.software_rate == 0) tc.software_rate = config_.ports.sampling_rate.value_or(1000);
  top_talkers_ = std::make_unique<TopTalkers>(tc);
  fanout_ = std::make_unique<Fanout>(platform_.flow_only ? nullptr : agent_.get(), *top_talkers_);
  if (!config_.flow.collectors.empty()) XFLOWD_RETURN_IF_ERROR(StartFlowProbe());

  auto loop = EventLoop::Create(settings.loop, clock_, logger_);
  if (!loop.ok()) return loop.status();
  loop_ = std::move(loop.value());
  XFLOWD_RETURN_IF_ERROR(
      loop_->AddPacketSource(*platform_.packets, *fanout_, platform_.description));
  XFLOWD_RETURN_IF_ERROR(StartDiscards());
  loop_->OnTick([this](MonoTime now) { OnTick(now); });
  loop_->OnReload([this] { (void)ReloadFromLoader(); });
  // SIGUSR1: the exit summary's counters, now, one log line per summary line.
  loop_->OnStatus([this] {
    const std::string s = Summary();
    for (size_t start = 0; start < s.size();) {
      size_t end = s.find('\n', start);
      if (end == std::string::npos) end = s.size();
      logger_.Log(LogLevel::kInfo, "SIGUSR1: %s", s.substr(start, end - start).c_str());
      start = end + 1;
    }
  });
  if (platform_.advance) {
    XFLOWD_RETURN_IF_ERROR(
        loop_->AddTimer(platform_.advance_period, [this] { platform_.advance(clock_.Now()); }));
  }

  if (platform_.flow_only) return Status::Ok();  // the run mode said what it captures
  std::string rate = "no sampling";
  for (const hal::PortInfo& p : *ports) {
    const sflow::Sampler* s = agent_->FindSampler(p.ifindex, hal::Direction::kIngress);
    const sflow::Sampler* e = agent_->FindSampler(p.ifindex, hal::Direction::kEgress);
    if (s != nullptr || e != nullptr) {
      rate = Printf("1-in-%u %s sampling on %s", (s != nullptr ? s : e)->sampling_rate(),
                    s == nullptr   ? "egress"
                    : e == nullptr ? "ingress"
                                   : "ingress and egress",
                    p.name.c_str());
      break;
    }
  }
  const std::string polling = config_.ports.polling_interval_s == 0
                                  ? std::string("no counter polling")
                                  : Printf("polling every %u s", config_.ports.polling_interval_s);
  logger_.Log(LogLevel::kInfo, "sFlow agent %s: %zu ports on %s, %s, %s, datagrams up to %u bytes",
              config_.agent.address->ToString().c_str(), ports->size(),
              platform_.description.empty() ? "this platform" : platform_.description.c_str(),
              rate.c_str(), polling.c_str(), config_.agent.max_datagram_bytes);
  if (ports_rounded_ > 0) {
    logger_.Log(LogLevel::kInfo, "the platform rounded the sampling rate on %u ports (%s)",
                ports_rounded_, rounded_example_.c_str());
  }
  return Status::Ok();
}

Status Daemon::StartFlowProbe() {
  FlowProbeSettings fs;
  const int64_t wall_ms = clock_.WallNow().ms();
  fs.unix_offset_ms = wall_ms - clock_.Now().ms();
  fs.system_init_unix_ms = static_cast<uint64_t>(wall_ms);
  fs.sampling_rate = platform_.flow_sampling_rate;
  fs.make_transport = make_flow_transport_;
  fs.clock = flow_clock_;
  fs.external_meters = platform_.flow_meters;
  auto probe = FlowProbe::Create(config_.flow, fs, logger_);
  if (!probe.ok()) return probe.status();
  flow_probe_ = std::move(probe.value());
  NameFlowInterfaces();
  fanout_->set_probe(flow_probe_.get());
  return Status::Ok();
}

void Daemon::NameFlowInterfaces() {
  if (!flow_probe_) return;
  std::vector<exporter::netflow::InterfaceName> names;
  for (const auto& kv : ports_) names.push_back({kv.first, kv.second.name});
  flow_probe_->SetInterfaceNames(names);
}

sflow::SamplerConfig Daemon::SamplerConfigFor(const hal::PortInfo& port,
                                              const config::PortSettings& settings,
                                              uint32_t rate) const {
  sflow::SamplerConfig sc;
  sc.sampling_rate = rate;
  sc.header_bytes = settings.header_bytes;
  sc.max_samples_per_s = config_.ports.max_samples_per_s;
  sc.expanded = config_.ports.expanded_samples;
  sc.extended_router = settings.extended_router;
  sc.external_pool = platform_.pool_from_counters && platform_.pool_from_counters(port.ifindex);
  return sc;
}

sflow::PollerConfig Daemon::PollerConfigFor(const config::PortSettings& settings) const {
  sflow::PollerConfig pc;
  pc.interval_s = settings.polling_interval_s;
  pc.expanded = config_.ports.expanded_samples;
  return pc;
}

Result<uint32_t> Daemon::ProgramRate(const hal::PortInfo& port, uint32_t wanted,
                                     uint32_t header_bytes, hal::Direction direction) {
  if (!platform_.sampling) return wanted;
  auto r = platform_.sampling->SetSamplingRate(port.ifindex, direction, wanted, header_bytes);
  const char* dir = direction == hal::Direction::kIngress ? "ingress" : "egress";
  if (!r.ok()) {
    return r.status().WithContext(Printf("port %s (ifindex %u): setting 1-in-%u %s sampling",
                                         port.name.c_str(), port.ifindex, wanted, dir));
  }
  const uint32_t applied = *r;
  if (applied != wanted) {
    if (ports_rounded_++ == 0) {
      rounded_example_ = Printf("%s: 1-in-%u -> 1-in-%u", port.name.c_str(), wanted, applied);
    }
    logger_.Log(LogLevel::kDebug, "port %s %s: asked for 1-in-%u, the platform applied 1-in-%u",
                port.name.c_str(), dir, wanted, applied);
  }
  return applied;
}

bool Daemon::EnsureRouteTable() {
  if (agent_->route_table() != nullptr) return true;
  if (route_table_failed_) return false;
  route_table_failed_ = true;
  if (!platform_.route_table) {
    logger_.Log(LogLevel::kWarning,
                "extended-router: this platform has no routing table; samples go without the "
                "extended router record");
    return false;
  }
  auto table = platform_.route_table();
  if (!table.ok()) {
    logger_.Log(LogLevel::kWarning,
                "extended-router: %s; samples go without the extended router record",
                table.status().message().c_str());
    return false;
  }
  route_table_failed_ = false;
  agent_->SetRouteTable(*table);
  logger_.Log(LogLevel::kInfo, "extended-router: %zu routes (%zu IPv4, %zu IPv6 prefixes)",
              (*table)->size(), (*table)->prefixes_v4(), (*table)->prefixes_v6());
  return true;
}

Status Daemon::StartSampler(const hal::PortInfo& port, const config::PortSettings& settings) {
  if (settings.extended_router) (void)EnsureRouteTable();
  Status first;
  for (hal::Direction d : {hal::Direction::kIngress, hal::Direction::kEgress}) {
    if (!settings.Samples(d == hal::Direction::kEgress)) continue;
    if (agent_->FindSampler(port.ifindex, d) != nullptr) continue;
    Status st = StartSamplerIn(port, settings, d);
    if (!st.ok() && first.ok()) first = st;
  }
  return first;
}

Status Daemon::StartSamplerIn(const hal::PortInfo& port, const config::PortSettings& settings,
                              hal::Direction direction) {
  const char* dir = direction == hal::Direction::kIngress ? "ingress" : "egress";
  auto applied = ProgramRate(port, settings.sampling_rate, settings.header_bytes, direction);
  if (!applied.ok()) {
    logger_.Log(LogLevel::kWarning, "%s; the port is not sampled %s",
                applied.status().message().c_str(), dir);
    return applied.status();
  }
  agent_->AddSampler(port.ifindex, direction, SamplerConfigFor(port, settings, *applied),
                     *receiver_, platform_.sampling);
  logger_.Log(LogLevel::kDebug, "port %s (ifindex %u, %" PRIu64 " bit/s): %s 1-in-%u, poll %u s",
              port.name.c_str(), port.ifindex, port.speed_bps, dir, *applied,
              settings.polling_interval_s);
  return Status::Ok();
}

void Daemon::StopSampler(const hal::PortInfo& port, hal::Direction direction) {
  agent_->RemoveSampler(port.ifindex, direction);
  if (!platform_.sampling) return;
  auto r =
      platform_.sampling->SetSamplingRate(port.ifindex, direction, 0, config_.ports.header_bytes);
  if (!r.ok()) {
    logger_.Log(LogLevel::kWarning,
                "port %s (ifindex %u): turning %s sampling off: %s; its samples are dropped "
                "(counted as samples for unsampled ports)",
                port.name.c_str(), port.ifindex,
                direction == hal::Direction::kIngress ? "ingress" : "egress",
                r.status().message().c_str());
  }
}

Status Daemon::AddPort(const hal::PortInfo& port) {
  if (platform_.flow_only) return Status::Ok();  // only named in the flow options data
  const config::PortSettings settings =
      config::SettingsFor(config_.ports, port.name, port.speed_bps);
  if (!settings.enabled) {
    logger_.Log(LogLevel::kDebug, "port %s (ifindex %u): disabled by the configuration",
                port.name.c_str(), port.ifindex);
    return Status::Ok();
  }
  Status st = StartSampler(port, settings);
  // Counters are worth polling even when the port cannot be sampled.
  // (A port that samples one of its two directions is sampled.)
  if (!st.ok() && agent_->FindSampler(port.ifindex, hal::Direction::kIngress) == nullptr &&
      agent_->FindSampler(port.ifindex, hal::Direction::kEgress) == nullptr) {
    ++ports_without_sampling_;
  }
  agent_->AddPoller(port, PollerConfigFor(settings), *receiver_, *platform_.counters);
  return st;
}

void Daemon::StopPort(const hal::PortInfo& port) {
  // Both directions: the platform may sample one this configuration no longer asks for.
  const bool had_egress = agent_->FindSampler(port.ifindex, hal::Direction::kEgress) != nullptr;
  agent_->RemovePort(port.ifindex);
  StopSampler(port, hal::Direction::kIngress);
  if (had_egress) StopSampler(port, hal::Direction::kEgress);
}

void Daemon::OnPortEvent(hal::PortEvent event, const hal::PortInfo& port) {
  switch (event) {
    case hal::PortEvent::kAdded:
      logger_.Log(LogLevel::kInfo, "port %s (ifindex %u) added", port.name.c_str(), port.ifindex);
      ports_[port.ifindex] = port;
      (void)AddPort(port);  // logged inside
      AttachPorts();
      break;
    case hal::PortEvent::kRemoved:
      logger_.Log(LogLevel::kInfo, "port %s (ifindex %u) removed", port.name.c_str(), port.ifindex);
      agent_->RemovePort(port.ifindex);
      ports_.erase(port.ifindex);
      break;
    case hal::PortEvent::kChanged: {
      const bool renamed = ports_[port.ifindex].name != port.name;
      ports_[port.ifindex] = port;
      sflow::Poller* poller = agent_->FindPoller(port.ifindex);
      if (poller) poller->UpdatePort(port);
      if (!renamed) return;  // the options data stay as they are
      break;
    }
  }
  NameFlowInterfaces();
}

void Daemon::OnTick(MonoTime now) {
  if (discards_) discards_->Tick(now);
  agent_->Tick(now);
  self_check_->OnTick(now);  // after the agent: the rates read are those in force till the next
  top_talkers_->OnTick(now);
  if (flow_probe_) flow_probe_->Tick(now);
  // Send errors are counted on the data path; report them here, at a limited rate. Poll reads
  // back what the collectors refused and logs a change of state itself.
  for (size_t i = 0; i < transports_.size(); ++i) {
    PollTransport(now, *transports_[i], &errors_seen_[i]);
  }
  for (auto& [id, x] : extra_) PollTransport(now, *x.transport, &x.errors_seen);
}

void Daemon::PollTransport(MonoTime now, exporter::Transport& transport, uint64_t* errors_seen) {
  transport.Poll(now);
  const uint64_t errors = transport.stats().send_errors;
  if (errors == *errors_seen) return;
  const int last = transport.status().last_error;
  send_error_log_.Log(now, LogLevel::kWarning, "%s: %llu send errors (last: %s)",
                      transport.Describe().c_str(), U(errors - *errors_seen),
                      last != 0 ? strerror(last) : "unknown");
  *errors_seen = errors;
}

Status Daemon::SetExtraReceiver(uint32_t id, const config::SflowCollector& collector,
                                uint32_t max_datagram_bytes) {
  if (id == 0 || id == kConfigReceiver || platform_.flow_only) {
    return InvalidArgumentError("no such receiver");
  }
  auto it = extra_.find(id);
  const bool same_collector =
      it != extra_.end() && CollectorKey(it->second.collector) == CollectorKey(collector);
  std::unique_ptr<exporter::Transport> made;
  if (!same_collector) {
    auto t = make_transport_(collector);
    if (!t.ok()) return t.status().WithContext("sFlow collector " + collector.ToString());
    made = std::move(t.value());
  }
  sflow::ReceiverConfig rc;
  rc.name = Printf("snmp-%u", id);
  rc.max_datagram_bytes = max_datagram_bytes;
  if (it == extra_.end()) {
    ExtraReceiver x;
    x.collector = collector;
    x.transport = std::move(made);
    x.receiver = &agent_->AddReceiver(rc, {x.transport.get()});
    logger_.Log(LogLevel::kInfo, "receiver %u: collector %s, datagrams up to %u bytes", id,
                x.transport->Describe().c_str(), max_datagram_bytes);
    extra_.emplace(id, std::move(x));
    AttachPorts();
    return Status::Ok();
  }
  ExtraReceiver& x = it->second;
  if (made) {
    x.receiver->SetTransports({made.get()});  // the pending datagram goes to the old one
    logger_.Log(LogLevel::kInfo, "receiver %u: collector %s -> %s", id,
                x.transport->Describe().c_str(), made->Describe().c_str());
    x.transport = std::move(made);
    x.collector = collector;
    x.errors_seen = 0;
  }
  if (x.receiver->config().max_datagram_bytes != max_datagram_bytes) {
    x.receiver->Reconfigure(rc, agent_->config().agent_address, agent_->config().sub_agent_id);
    logger_.Log(LogLevel::kInfo, "receiver %u: datagrams up to %u bytes", id, max_datagram_bytes);
  }
  return Status::Ok();
}

void Daemon::RemoveExtraReceiver(uint32_t id) {
  auto it = extra_.find(id);
  if (it == extra_.end()) return;
  agent_->RemoveReceiver(it->second.receiver);  // sends what is pending
  it->second.transport->Poll(clock_.Now());
  const exporter::TransportStats& ts = it->second.transport->stats();
  logger_.Log(LogLevel::kInfo,
              "receiver %u: collector %s removed (it had %llu datagrams, %llu "
              "errors)",
              id, it->second.transport->Describe().c_str(), U(ts.datagrams_sent),
              U(ts.send_errors));
  extra_.erase(it);
}

void Daemon::SetPortReceivers(uint32_t ifindex, uint32_t sampler_id, uint32_t poller_id) {
  if (sampler_id == kConfigReceiver && poller_id == kConfigReceiver) {
    port_receivers_.erase(ifindex);
  } else {
    port_receivers_[ifindex] = {sampler_id, poller_id};
  }
  if (platform_.flow_only) return;
  agent_->SetSamplerReceiver(ifindex, hal::Direction::kIngress, ReceiverById(sampler_id));
  agent_->SetSamplerReceiver(ifindex, hal::Direction::kEgress, ReceiverById(sampler_id));
  agent_->SetPollerReceiver(ifindex, ReceiverById(poller_id));
}

std::pair<uint32_t, uint32_t> Daemon::PortReceivers(uint32_t ifindex) const {
  auto it = port_receivers_.find(ifindex);
  return it == port_receivers_.end() ? std::make_pair(kConfigReceiver, kConfigReceiver)
                                     : it->second;
}

sflow::Receiver* Daemon::ReceiverById(uint32_t id) {
  if (id == kConfigReceiver) return config_.agent.collectors.empty() ? nullptr : receiver_;
  auto it = extra_.find(id);
  return it == extra_.end() ? nullptr : it->second.receiver;
}

void Daemon::AttachPorts() {
  if (platform_.flow_only) return;
  for (const auto& s : agent_->samplers()) {
    agent_->SetSamplerReceiver(s->ifindex(), s->direction(),
                               ReceiverById(PortReceivers(s->ifindex()).first));
  }
  for (const auto& p : agent_->pollers()) {
    agent_->SetPollerReceiver(p->ifindex(), ReceiverById(PortReceivers(p->ifindex()).second));
  }
  // The host's counters go with the configuration's collectors.
  if (sflow::HostPoller* h = agent_->host_poller()) h->set_receiver(ReceiverById(kConfigReceiver));
}

void Daemon::DrainAll() {
  const size_t budget = 256;
  for (size_t round = 0; round < kMaxDrainRoundsAtStop; ++round) {
    if (platform_.packets->Drain(*fanout_, budget) < budget) break;
  }
  DrainDiscards();
}

Result<StopReason> Daemon::Run() {
  started_ = clock_.Now();
  ran_ = true;
  running_ = true;
  std::optional<hal::base::Duration> run_for;
  if (config_.duration_s) run_for = hal::base::seconds(*config_.duration_s);
  if (platform_.start) platform_.start(started_);
  Result<StopReason> reason = loop_->Run(run_for);
  // Whatever happened, send what we have: samples made up to now, then the pending datagram.
  if (platform_.advance) platform_.advance(clock_.Now());
  DrainAll();
  agent_->Flush();
  if (flow_probe_) {
    flow_probe_->Finish(clock_.Now());
    if (flow_clock_ != nullptr) flow_probe_->WaitForStreams(hal::base::seconds(2), true);
  }
  for (const auto& t : transports_) t->Poll(clock_.Now());  // refusals so far, for the summary
  for (const auto& [id, x] : extra_) x.transport->Poll(clock_.Now());
  stopped_ = clock_.Now();
  running_ = false;
  if (reason.ok()) {
    logger_.Log(LogLevel::kDebug, "event loop ended: %s", StopReasonName(*reason));
  }
  return reason;
}

double Daemon::uptime_s() const {
  if (!ran_) return 0.0;
  const MonoTime end = running_ ? clock_.Now() : stopped_;
  return static_cast<double>((end - started_).count()) / 1e9;
}

uint64_t Daemon::FlushFlows() { return flow_probe_ ? flow_probe_->ExpireAll(clock_.Now()) : 0; }

std::string Daemon::Summary() const {
  std::string s = platform_.summary ? platform_.summary() : "";
  if (platform_.flow_only) {
    return (flow_probe_ ? s + flow_probe_->Summary() : s) + logger_.SuppressedNote();
  }
  const MonoTime end = running_ ? clock_.Now() : stopped_;
  const double secs = ran_ ? static_cast<double>((end - started_).count()) / 1e9 : 0.0;
  const double per_s = secs > 0 ? 1.0 / secs : 0.0;
  const hal::PacketSourceStats src = platform_.packets->stats();
  const sflow::ReceiverStats& rs = receiver_->stats();
  uint64_t backoffs = 0;
  uint64_t recoveries = 0;
  uint64_t seq_drops = 0;
  for (const auto& s : agent_->samplers()) {
    backoffs += s->stats().backoffs;
    recoveries += s->stats().recoveries;
    seq_drops += s->stats().source_drops;
  }
  uint64_t send_errors = 0;
  uint64_t lost = 0;
  for (const auto& t : transports_) {
    send_errors += t->stats().send_errors;
    lost += t->stats().lost;
  }

  s += Printf("xflowd: ran %.1f s on %zu ports", secs, agent_->pollers().size());
  if (!platform_.description.empty()) s += " of the " + platform_.description;
  s += Printf(
      ". The source delivered %llu samples (%.0f/s) and lost %llu before the agent (%llu seen "
      "as sequence gaps). Exported %llu flow samples (%.0f/s) and %llu counter samples in %llu "
      "datagrams (%.1f/s)",
      U(src.samples), static_cast<double>(src.samples) * per_s, U(src.source_drops), U(seq_drops),
      U(rs.flow_samples), static_cast<double>(rs.flow_samples) * per_s, U(rs.counter_samples),
      U(rs.datagrams), static_cast<double>(rs.datagrams) * per_s);
  s += Printf(
      "; %llu oversize samples dropped, %llu samples for unsampled ports, %llu "
      "rate backoffs, %llu rate recoveries, %llu send errors, %llu datagrams lost at "
      "collectors (ICMP errors).",
      U(rs.oversize_drops), U(agent_->stats().no_sampler), U(backoffs), U(recoveries),
      U(send_errors), U(lost));
  if (const sflow::HostPoller* h = agent_->host_poller()) {
    const sflow::HostPollerStats& hs = h->stats();
    s += Printf(
        " Host counters: %llu samples every %u s, %llu read errors, %llu adapters left "
        "out.",
        U(hs.samples), h->config().interval_s, U(hs.read_errors), U(hs.adapters_left_out));
  }
  s += transports_.empty() ? " No sFlow collector." : " Collectors:";
  for (size_t i = 0; i < transports_.size(); ++i) {
    const exporter::Transport& t = *transports_[i];
    const exporter::TransportStats& ts = t.stats();
    s +=
        Printf("%s %s: %s, %llu datagrams, %llu bytes, %llu errors, %llu lost (", i == 0 ? "" : ";",
               t.Describe().c_str(), exporter::TransportStateName(t.status().state),
               U(ts.datagrams_sent), U(ts.bytes_sent), U(ts.send_errors), U(ts.lost));
    s += t.DescribeStats() + ")";
  }
  if (!transports_.empty()) s += ".";
  for (const auto& [id, x] : extra_) {
    const exporter::TransportStats& ts = x.transport->stats();
    s += Printf(
        " Receiver %u (SNMP) %s: %llu datagrams, %llu flow and %llu counter samples, "
        "%llu errors.",
        id, x.transport->Describe().c_str(), U(ts.datagrams_sent),
        U(x.receiver->stats().flow_samples), U(x.receiver->stats().counter_samples),
        U(ts.send_errors));
  }
  const SelfCheckReport& check = self_check_->report();
  if (check.windows > 0) {
    s += Printf(" Self-check (%llu windows): %u of %zu data sources flagged", U(check.windows),
                check.flagged, check.ports.size());
    std::string names;
    for (const PortCheck& c : check.ports) {
      if (!c.flagged) continue;
      names += names.empty() ? " (" : ", ";
      names += c.name.empty() ? std::to_string(c.ifindex) : c.name;
    }
    s += names.empty() ? "." : names + ").";
  }
  s += DiscardSummary();
  uint64_t router_records = 0;
  uint64_t no_route = 0;
  for (const auto& sp : agent_->samplers()) {
    router_records += sp->stats().router_records;
    no_route += sp->stats().no_route;
  }
  if (router_records + no_route > 0) {
    s += Printf(" Extended router: %llu records, %llu IP samples without a route (no record).",
                U(router_records), U(no_route));
  }
  if (flow_probe_) s += "\n" + flow_probe_->Summary();
  s += logger_.SuppressedNote();
  return s;
}

std::string ReloadResult::Summary() const {
  if (!attempted) return "no reload yet";
  if (!status.ok()) return "failed: " + status.message();
  if (changes.empty()) return "ok: no change";
  std::string s = "ok: ";
  for (size_t i = 0; i < changes.size(); ++i) s += (i == 0 ? "" : "; ") + changes[i];
  return s;
}

void Daemon::Step(MonoTime now) {
  if (platform_.advance) platform_.advance(now);
  DrainAll();
  OnTick(now);
}

Status Daemon::ReloadFromLoader() {
  if (reload_observer_) reload_observer_(true);
  Status st = ReloadFromLoaderNow();
  if (reload_observer_) reload_observer_(false);
  return st;
}

Status Daemon::ReloadFromLoaderNow() {
  if (!loader_) {
    Status st = InvalidArgumentError("this run has no configuration to reload from");
    RecordReload(st, {});
    return st;
  }
  auto next = loader_();
  if (!next.ok()) {
    RecordReload(next.status(), {});
    return next.status();
  }
  if (overlay_) overlay_(&*next);
  return Reload(*next);
}

Status Daemon::Reload(const config::Config& next) {
  std::vector<std::string> changes;
  Status st = ApplyReload(next, &changes);
  RecordReload(st, std::move(changes));
  return st;
}

void Daemon::RecordReload(Status status, std::vector<std::string> changes) {
  last_reload_.attempted = true;
  last_reload_.time = clock_.Now();
  last_reload_.unix_ms = clock_.WallNow().ms();
  last_reload_.status = std::move(status);
  last_reload_.changes = std::move(changes);
  if (!last_reload_.status.ok()) {
    logger_.Log(LogLevel::kError, "reload failed, still running the previous configuration: %s",
                last_reload_.status.message().c_str());
  } else if (last_reload_.changes.empty()) {
    logger_.Log(LogLevel::kInfo, "reload: no change");
  } else {
    for (const std::string& c : last_reload_.changes) {
      logger_.Log(LogLevel::kInfo, "reload: %s", c.c_str());
    }
  }
}

namespace {

// The first setting that differs between two sources, by its model path; empty if none.
std::string SourceChange(const config::SourceConfig& a, const config::SourceConfig& b) {
  if (a.kind != b.kind)
    return "source (the packet source: --sim, --linux, -i, -r or --vendor-plugin)";
  switch (a.kind) {
    case config::SourceKind::kSim:
      if (a.sim.ports != b.sim.ports) return "source.sim.ports";
      if (a.sim.speed_bps != b.sim.speed_bps) return "source.sim.speed";
      if (a.sim.load != b.sim.load) return "source.sim.load";
      if (a.sim.sample_loss != b.sim.sample_loss) return "source.sim.sample-loss";
      if (a.sim.pow2 != b.sim.pow2) return "source.sim.pow2";
      if (a.sim.truth_path != b.sim.truth_path) return "source.sim.truth-file";
      if (a.sim.faults.size() != b.sim.faults.size() ||
          !std::equal(a.sim.faults.begin(), a.sim.faults.end(), b.sim.faults.begin(),
                      [](const config::SimPortFault& x, const config::SimPortFault& y) {
                        return x.ifindex == y.ifindex && x.hide_fraction == y.hide_fraction &&
                               x.drop_fraction == y.drop_fraction && x.rate_factor == y.rate_factor;
                      })) {
        return "source.sim.fault";
      }
      if (a.sim.vlan_ports.size() != b.sim.vlan_ports.size() ||
          !std::equal(a.sim.vlan_ports.begin(), a.sim.vlan_ports.end(), b.sim.vlan_ports.begin(),
                      [](const config::SimVlanPort& x, const config::SimVlanPort& y) {
                        return x.ifindex == y.ifindex && x.vlan_id == y.vlan_id;
                      })) {
        return "source.sim.vlan-port";
      }
      break;
    case config::SourceKind::kInterface:
      if (a.interface.name != b.interface.name) return "source.interface.name";
      if (a.interface.promiscuous != b.interface.promiscuous) {
        return "source.interface.promiscuous";
      }
      if (a.interface.snaplen != b.interface.snaplen) return "source.interface.snaplen";
      break;
    case config::SourceKind::kFile:
      if (a.file.path != b.file.path) return "source.file.path";
      break;
    case config::SourceKind::kLinux:
    case config::SourceKind::kOvs:
      break;
    case config::SourceKind::kVendor:
      if (a.vendor.plugin != b.vendor.plugin) return "source.vendor.plugin";
      if (a.vendor.options != b.vendor.options) return "source.vendor.options";
      break;
  }
  // Whatever else config::Diff sees (the Linux ports' back-ends and groups).
  config::Config x, y;
  x.source = a;
  y.source = b;
  if (config::Diff(x, y).source) {
    if (a.kind == config::SourceKind::kOvs) return "source.ovs";
    return a.kind == config::SourceKind::kLinux ? "source.linux" : "source";
  }
  return "";
}

std::string Join(const std::vector<std::string>& items, size_t max_items) {
  std::string s;
  for (size_t i = 0; i < items.size() && i < max_items; ++i) s += (i == 0 ? "" : ", ") + items[i];
  if (items.size() > max_items) s += Printf(", ... (%zu more)", items.size() - max_items);
  return s;
}

}  // namespace

Status Daemon::ApplyReload(const config::Config& next, std::vector<std::string>* changes) {
  // Refused: what a running daemon cannot change. Nothing is applied.
  auto refuse = [](const std::string& setting) {
    return InvalidArgumentError(setting +
                                " cannot change while xflowd runs; restart it to apply that");
  };
  const std::string source = SourceChange(config_.source, next.source);
  if (!source.empty()) return refuse(source);
  if (next.seed != config_.seed) return refuse("run.seed");
  if (next.duration_s != config_.duration_s) return refuse("run.duration");
  // The socket is made once, before the daemon runs.
  if (next.control.socket != config_.control.socket) return refuse("control.socket");
  if (next.control.group != config_.control.group) return refuse("control.group");
  // Set up once at start: the user switched to, the pid file, where the log goes.
  if (next.service.effective_user() != config_.service.effective_user()) {
    return refuse("service.user");
  }
  if (next.service.pid_file != config_.service.pid_file) return refuse("service.pid-file");
  if (next.log.target != config_.log.target) return refuse("log.target");
  if (reload_check_) XFLOWD_RETURN_IF_ERROR(reload_check_(next));
  if (!next.agent.address && !platform_.flow_only) {
    return InvalidArgumentError("no agent address: give --agent-address IP");
  }
  // A flow-only platform (-i) samples in its capture, made once.
  if (platform_.flow_only && next.ports.sampling_rate != config_.ports.sampling_rate) {
    return refuse("ports.sampling_rate (the capture's sampling with -i)");
  }
  // The sub-agent is connected once, at start.
  if (next.snmp.enabled != config_.snmp.enabled) return refuse("snmp.enabled");
  if (next.snmp.agentx_socket != config_.snmp.agentx_socket) return refuse("snmp.agentx-socket");
  if (next.snmp.ping_interval_s != config_.snmp.ping_interval_s)
    return refuse("snmp.ping-interval");
  if (next.snmp.receivers != config_.snmp.receivers) return refuse("snmp.receivers");
  if (next.agent.collectors.empty() && next.flow.collectors.empty() && !next.snmp.enabled) {
    return InvalidArgumentError("no collector configured");
  }
  const MonoTime now = clock_.Now();

  // What can fail comes first: new collectors' transports, then the flow side (which makes
  // its own first). After that nothing fails.
  std::map<std::string, std::unique_ptr<exporter::Transport>> made;
  for (const config::SflowCollector& c : next.agent.collectors) {
    const std::string key = CollectorKey(c);
    if (made.count(key) > 0 ||
        std::find(transport_keys_.begin(), transport_keys_.end(), key) != transport_keys_.end()) {
      continue;
    }
    auto t = make_transport_(c);
    if (!t.ok()) return t.status().WithContext("sFlow collector " + c.ToString());
    made.emplace(key, std::move(t.value()));
  }
  if (flow_probe_ && !next.flow.collectors.empty()) {
    XFLOWD_RETURN_IF_ERROR(flow_probe_->Reload(next.flow, now, changes));
  } else if (!flow_probe_ && !next.flow.collectors.empty()) {
    const config::FlowConfig running = config_.flow;
    config_.flow = next.flow;  // what StartFlowProbe builds from
    Status st = StartFlowProbe();
    if (!st.ok()) {
      config_.flow = running;
      return st;
    }
    changes->push_back(
        Printf("flow export started: %zu flow collectors", next.flow.collectors.size()));
  } else if (flow_probe_ && next.flow.collectors.empty()) {
    fanout_->set_probe(nullptr);
    const uint64_t cached = flow_probe_->cached_flows();
    flow_probe_->Finish(now);
    changes->push_back(
        Printf("flow export stopped (no flow collector left): the %llu cached flows were exported "
               "first (forced end)",
               U(cached)));
    // Its counters leave with it: say what it did.
    LogEachLine(logger_, "reload: ", flow_probe_->Summary());
    flow_probe_.reset();
  }

  // The agent's identity and datagram size, in place: pending samples go out first, the
  // sequence numbers continue.
  const bool sflow = !platform_.flow_only;
  if (sflow && (next.agent.address != config_.agent.address ||
                next.agent.sub_agent_id != config_.agent.sub_agent_id)) {
    sflow::AgentConfig ac;
    ac.agent_address = *next.agent.address;
    ac.sub_agent_id = next.agent.sub_agent_id;
    agent_->SetIdentity(ac);
    changes->push_back(Printf("agent address %s sub-agent %u -> %s sub-agent %u",
                              config_.agent.address->ToString().c_str(), config_.agent.sub_agent_id,
                              next.agent.address->ToString().c_str(), next.agent.sub_agent_id));
  }
  if (sflow && next.agent.max_datagram_bytes != config_.agent.max_datagram_bytes) {
    sflow::ReceiverConfig rc = receiver_->config();
    rc.max_datagram_bytes = next.agent.max_datagram_bytes;
    receiver_->Reconfigure(rc, *next.agent.address, next.agent.sub_agent_id);
    changes->push_back(Printf("sFlow datagrams up to %u -> %u bytes",
                              config_.agent.max_datagram_bytes, next.agent.max_datagram_bytes));
  }
  ReloadCollectors(next, std::move(made), changes);

  const config::Config old = config_;
  config_ = next;
  ReloadPorts(old, changes);
  AttachPorts();  // restarted ports, or the configuration's collectors came or went
  if (std::string host = ApplyHostCounters(&old); !host.empty()) changes->push_back(host);

  if (config::Diff(old, next).self_check) {
    const config::SelfCheckSettings& sb = next.self_check;
    self_check_ =
        std::make_unique<SelfCheck>(SelfCheckConfigFor(sb), *agent_, *platform_.counters, &logger_);
    changes->push_back(
        Printf("self-check restarted: %u s windows, flagged after %u, at least %u "
               "samples",
               sb.window_s, sb.flag_after, sb.min_samples));
  }
  ReloadDiscards(old, changes);
  if (next.log.level != old.log.level) {
    logger_.set_min_level(next.log.level);
    changes->push_back(Printf("log level %s -> %s", hal::base::LogLevelName(old.log.level),
                              hal::base::LogLevelName(next.log.level)));
  }
  return Status::Ok();
}

std::string Daemon::ApplyHostCounters(const config::Config* old) {
  if (platform_.host_files == nullptr || platform_.flow_only) return "";
  const uint32_t interval = config_.host.EffectiveInterval(config_.ports.polling_interval_s);
  const uint32_t before =
      old ? old->host.EffectiveInterval(old->ports.polling_interval_s) : interval + 1;
  if (old && before == interval) return "";
  sflow::HostPoller* poller = agent_->host_poller();
  if (interval == 0) {
    agent_->SetHostPoller({}, nullptr, nullptr);  // the reader stays: it read the uuid as root
    if (old) return Printf("host counters every %u s -> off", before);
    logger_.Log(LogLevel::kInfo, "host counters: off");
    return "";
  }
  sflow::HostPollerConfig hc;
  hc.interval_s = interval;
  if (poller != nullptr) {
    poller->Reconfigure(hc);
    return Printf("host counters every %u s -> %u s", before, interval);
  }
  if (!host_reader_) {
    const long tck = ::sysconf(_SC_CLK_TCK);
    host_reader_ = std::make_unique<hal::host::HostReader>(
        *platform_.host_files, tck > 0 ? static_cast<uint32_t>(tck) : 100);
  }
  agent_->SetHostPoller(hc, ReceiverById(kConfigReceiver), host_reader_.get());
  if (old) return Printf("host counters off -> every %u s", interval);
  logger_.Log(LogLevel::kInfo, "host counters: every %u s (data source 2:1)", interval);
  return "";
}

void Daemon::ReloadCollectors(const config::Config& next,
                              std::map<std::string, std::unique_ptr<exporter::Transport>> made,
                              std::vector<std::string>* changes) {
  std::vector<std::unique_ptr<exporter::Transport>> transports;
  std::vector<std::string> keys;
  std::vector<uint64_t> errors_seen;
  std::vector<exporter::Transport*> raw;
  bool same = next.agent.collectors.size() == transport_keys_.size();
  for (size_t i = 0; i < next.agent.collectors.size(); ++i) {
    const std::string key = CollectorKey(next.agent.collectors[i]);
    same = same && key == transport_keys_[i];
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) continue;  // listed twice
    auto old = std::find(transport_keys_.begin(), transport_keys_.end(), key);
    if (old != transport_keys_.end()) {
      const size_t j = static_cast<size_t>(old - transport_keys_.begin());
      transports.push_back(std::move(transports_[j]));
      errors_seen.push_back(errors_seen_[j]);
    } else {
      auto it = made.find(key);
      if (it == made.end()) continue;  // made above; cannot happen
      logger_.Log(LogLevel::kInfo, "collector %s", it->second->Describe().c_str());
      changes->push_back("sFlow collector " + it->second->Describe() + " added");
      transports.push_back(std::move(it->second));
      errors_seen.push_back(0);
    }
    keys.push_back(key);
    raw.push_back(transports.back().get());
  }
  if (same) {
    // Nothing moved: the vectors were taken apart for nothing; put them back as they were.
    transports_ = std::move(transports);
    errors_seen_ = std::move(errors_seen);
    return;
  }
  // The pending datagram goes to the old set; then the removed ones end.
  receiver_->SetTransports(raw);
  for (size_t j = 0; j < transports_.size(); ++j) {
    if (!transports_[j]) continue;  // kept
    transports_[j]->Poll(clock_.Now());
    const exporter::TransportStats& ts = transports_[j]->stats();
    changes->push_back(Printf("sFlow collector %s removed (it had %llu datagrams, %llu errors)",
                              transports_[j]->Describe().c_str(), U(ts.datagrams_sent),
                              U(ts.send_errors)));
  }
  transports_ = std::move(transports);
  transport_keys_ = std::move(keys);
  errors_seen_ = std::move(errors_seen);
}

void Daemon::ReloadPorts(const config::Config& old, std::vector<std::string>* changes) {
  if (platform_.flow_only) return;  // no samplers or pollers to change
  const config::ConfigDiff d = config::Diff(old, config_);
  if (!d.ports && d.port_overrides.empty()) return;
  const config::PortsConfig& a = old.ports;
  const config::PortsConfig& b = config_.ports;
  const bool sampler_shared = a.header_bytes != b.header_bytes ||
                              a.max_samples_per_s != b.max_samples_per_s ||
                              a.expanded_samples != b.expanded_samples;
  const bool poller_shared = a.expanded_samples != b.expanded_samples;
  std::vector<std::string> rates, polls, started, stopped, refused, routers;
  route_table_failed_ = false;  // a reload may ask the platform again
  for (const auto& [ifindex, port] : ports_) {
    const config::PortSettings was = config::SettingsFor(a, port.name, port.speed_bps);
    const config::PortSettings now = config::SettingsFor(b, port.name, port.speed_bps);
    if (!now.enabled) {
      if (was.enabled) {
        StopPort(port);
        stopped.push_back(port.name);
      }
      continue;
    }
    if (!was.enabled) {
      (void)AddPort(port);  // a platform refusal is logged inside
      started.push_back(port.name);
      continue;
    }
    if (now.extended_router) (void)EnsureRouteTable();
    for (hal::Direction d : {hal::Direction::kIngress, hal::Direction::kEgress}) {
      ReloadSampler(port, was, now, d, sampler_shared, &rates, &refused);
    }
    if (was.extended_router != now.extended_router) {
      routers.push_back(Printf("%s %s", port.name.c_str(), now.extended_router ? "on" : "off"));
    }
    if (was.polling_interval_s != now.polling_interval_s || poller_shared) {
      agent_->ReconfigurePoller(ifindex, PollerConfigFor(now));
      if (was.polling_interval_s != now.polling_interval_s) {
        polls.push_back(Printf("%s %u -> %u s", port.name.c_str(), was.polling_interval_s,
                               now.polling_interval_s));
      }
    }
  }
  constexpr size_t kNamed = 4;
  if (!rates.empty()) {
    changes->push_back(
        Printf("sampling rate of %zu ports: %s", rates.size(), Join(rates, kNamed).c_str()));
  }
  if (!polls.empty()) {
    changes->push_back(
        Printf("polling interval of %zu ports: %s", polls.size(), Join(polls, kNamed).c_str()));
  }
  if (!started.empty()) {
    changes->push_back(
        Printf("%zu ports started: %s", started.size(), Join(started, kNamed).c_str()));
  }
  if (!stopped.empty()) {
    changes->push_back(
        Printf("%zu ports stopped (disabled): %s", stopped.size(), Join(stopped, kNamed).c_str()));
  }
  if (sampler_shared || poller_shared) {
    changes->push_back(Printf("every port: %u header bytes, %u samples/s budget, %s samples",
                              b.header_bytes, b.max_samples_per_s,
                              b.expanded_samples ? "expanded" : "compact when possible"));
  }
  if (!routers.empty()) {
    changes->push_back(Printf("extended router record of %zu ports: %s", routers.size(),
                              Join(routers, kNamed).c_str()));
  }
  if (!refused.empty()) {
    changes->push_back(Printf("%zu ports refused the new rate (see the warnings): %s",
                              refused.size(), Join(refused, kNamed).c_str()));
  }
}

void Daemon::ReloadSampler(const hal::PortInfo& port, const config::PortSettings& was,
                           const config::PortSettings& now, hal::Direction direction, bool shared,
                           std::vector<std::string>* rates, std::vector<std::string>* refused) {
  const bool egress = direction == hal::Direction::kEgress;
  const char* dir = egress ? " egress" : "";
  sflow::Sampler* sampler = agent_->FindSampler(port.ifindex, direction);
  if (!now.Samples(egress)) {
    if (sampler != nullptr) {
      StopSampler(port, direction);
      rates->push_back(Printf("%s%s off", port.name.c_str(), egress ? " egress" : " ingress"));
    }
    return;
  }
  const bool changed =
      was.sampling_rate != now.sampling_rate || was.header_bytes != now.header_bytes || shared;
  if (sampler == nullptr) {
    // A direction just asked for, or one the platform refused before: try it now.
    if (!was.Samples(egress) || changed) {
      const bool had_none =
          agent_->FindSampler(
              port.ifindex, egress ? hal::Direction::kIngress : hal::Direction::kEgress) == nullptr;
      if (StartSamplerIn(port, now, direction).ok()) {
        if (had_none && ports_without_sampling_ > 0) --ports_without_sampling_;
        rates->push_back(Printf("%s%s now 1-in-%u", port.name.c_str(), dir, now.sampling_rate));
      } else {
        refused->push_back(port.name + dir);
      }
    }
    return;
  }
  if (!changed) {
    if (was.extended_router != now.extended_router) {
      sampler->Reconfigure(SamplerConfigFor(port, now, sampler->config().sampling_rate));
    }
    return;
  }
  auto applied = ProgramRate(port, now.sampling_rate, now.header_bytes, direction);
  if (!applied.ok()) {
    // The platform keeps what it had; so does the sampler.
    logger_.Log(LogLevel::kWarning, "%s; the port keeps 1-in-%u",
                applied.status().message().c_str(), sampler->sampling_rate());
    refused->push_back(port.name + dir);
    return;
  }
  if (was.sampling_rate != now.sampling_rate) {
    rates->push_back(
        Printf("%s%s 1-in-%u -> 1-in-%u", port.name.c_str(), dir, was.sampling_rate, *applied));
  }
  sampler->Reconfigure(SamplerConfigFor(port, now, *applied));
}

}  // namespace xflowd::agent::daemon
