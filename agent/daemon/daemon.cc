#include "agent/daemon/daemon.h"

#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <utility>

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
  if (!config.agent.address) {
    return InvalidArgumentError("no agent address: give --agent-address IP");
  }
  if (config.agent.collectors.empty() && config.flow.collectors.empty()) {
    return InvalidArgumentError("no collector configured");
  }
  std::unique_ptr<Daemon> d(new Daemon(config, platform, clock, logger));
  Status st = d->Init(std::move(settings));
  if (!st.ok()) return st;
  return d;
}

Status Daemon::Init(DaemonSettings settings) {
  // Collectors first: a bad one is the likeliest start-up error and costs nothing to find.
  TransportFactory make = std::move(settings.make_transport);
  if (!make) {
    make = [this](const hal::base::Endpoint& ep) -> Result<std::unique_ptr<exporter::Transport>> {
      exporter::UdpTransportOptions o;
      o.logger = &logger_;
      if (const config::SflowCollector* c = config::FindCollector(config_.agent.collectors, ep)) {
        o.source_address = c->send.source_address;
        o.bind_device = c->send.bind_device;
        o.dscp = c->send.dscp;
      }
      auto t = exporter::UdpTransport::Create(ep, o);
      if (!t.ok()) return t.status();
      return std::unique_ptr<exporter::Transport>(std::move(t.value()));
    };
  }
  std::vector<exporter::Transport*> raw;
  for (const hal::base::Endpoint& ep : config_.agent.collectors) {
    auto t = make(ep);
    if (!t.ok()) return t.status();
    logger_.Log(LogLevel::kInfo, "collector %s", (*t)->Describe().c_str());
    raw.push_back(t->get());
    transports_.push_back(std::move(t.value()));
  }
  errors_seen_.assign(transports_.size(), 0);

  sflow::AgentConfig ac;
  ac.agent_address = *config_.agent.address;
  ac.sub_agent_id = config_.agent.sub_agent_id;
  agent_ = std::make_unique<sflow::Agent>(ac, clock_, prng_, logger_);
  sflow::ReceiverConfig rc;
  rc.max_datagram_bytes = config_.agent.max_datagram_bytes;
  receiver_ = &agent_->AddReceiver(rc, raw);

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
    Status st = AddPort(port);
    if (!st.ok() && first_error.ok()) first_error = st;
  }
  if (!ports->empty() && ports_without_sampling_ == ports->size()) {
    logger_.Log(LogLevel::kWarning,
                "could not program sampling on any port (first: %s); running on, their counters "
                "are polled",
                first_error.message().c_str());
  }
  platform_.ports->SetListener(
      [this](hal::PortEvent event, const hal::PortInfo& port) { OnPortEvent(event, port); });
  listening_ = true;

  sink_ = agent_.get();
  if (!config_.flow.collectors.empty()) {
    FlowProbeSettings fs;
    const int64_t wall_ms = clock_.WallNow().ms();
    fs.unix_offset_ms = wall_ms - clock_.Now().ms();
    fs.system_init_unix_ms = static_cast<uint64_t>(wall_ms);
    fs.make_transport = std::move(settings.make_flow_transport);
    auto probe = FlowProbe::Create(config_.flow, fs, logger_);
    if (!probe.ok()) return probe.status();
    flow_probe_ = std::move(probe.value());
    std::vector<exporter::netflow::InterfaceName> names;
    for (const hal::PortInfo& p : *ports) names.push_back({p.ifindex, p.name});
    flow_probe_->SetInterfaceNames(names);
    tee_ = std::make_unique<Tee>(*agent_, *flow_probe_);
    sink_ = tee_.get();
  }

  auto loop = EventLoop::Create(settings.loop, clock_, logger_);
  if (!loop.ok()) return loop.status();
  loop_ = std::move(loop.value());
  XFLOWD_RETURN_IF_ERROR(loop_->AddPacketSource(*platform_.packets, *sink_));
  loop_->OnTick([this](MonoTime now) { OnTick(now); });
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

  std::string rate = "no sampling";
  for (const hal::PortInfo& p : *ports) {
    if (const sflow::Sampler* s = agent_->FindSampler(p.ifindex, hal::Direction::kIngress)) {
      rate = Printf("1-in-%u sampling on %s", s->sampling_rate(), p.name.c_str());
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

Status Daemon::AddPort(const hal::PortInfo& port) {
  const config::PortSettings settings =
      config::SettingsFor(config_.ports, port.name, port.speed_bps);
  if (!settings.enabled) {
    logger_.Log(LogLevel::kInfo, "port %s (ifindex %u): disabled by the configuration",
                port.name.c_str(), port.ifindex);
    return Status::Ok();
  }
  const uint32_t wanted = settings.sampling_rate;
  uint32_t applied = wanted;
  if (platform_.sampling) {
    auto r = platform_.sampling->SetSamplingRate(port.ifindex, hal::Direction::kIngress, wanted,
                                                 settings.header_bytes);
    if (!r.ok()) {
      ++ports_without_sampling_;
      Status st = r.status().WithContext(Printf("port %s (ifindex %u): setting 1-in-%u sampling",
                                                port.name.c_str(), port.ifindex, wanted));
      logger_.Log(LogLevel::kWarning, "%s; the port is not sampled", st.message().c_str());
      // Counters are still worth polling.
      sflow::PollerConfig pc;
      pc.interval_s = settings.polling_interval_s;
      pc.expanded = config_.ports.expanded_samples;
      agent_->AddPoller(port, pc, *receiver_, *platform_.counters);
      return st;
    }
    applied = *r;
    if (applied != wanted) {
      if (ports_rounded_++ == 0) {
        rounded_example_ = Printf("%s: 1-in-%u -> 1-in-%u", port.name.c_str(), wanted, applied);
      }
      logger_.Log(LogLevel::kDebug, "port %s: asked for 1-in-%u, the platform applied 1-in-%u",
                  port.name.c_str(), wanted, applied);
    }
  }
  sflow::SamplerConfig sc;
  sc.sampling_rate = applied;
  sc.header_bytes = settings.header_bytes;
  sc.max_samples_per_s = config_.ports.max_samples_per_s;
  sc.expanded = config_.ports.expanded_samples;
  sc.external_pool = platform_.pool_from_counters && platform_.pool_from_counters(port.ifindex);
  agent_->AddSampler(port.ifindex, hal::Direction::kIngress, sc, *receiver_, platform_.sampling);
  sflow::PollerConfig pc;
  pc.interval_s = settings.polling_interval_s;
  pc.expanded = config_.ports.expanded_samples;
  agent_->AddPoller(port, pc, *receiver_, *platform_.counters);
  logger_.Log(LogLevel::kDebug, "port %s (ifindex %u, %" PRIu64 " bit/s): 1-in-%u, poll %u s",
              port.name.c_str(), port.ifindex, port.speed_bps, applied, pc.interval_s);
  return Status::Ok();
}

void Daemon::OnPortEvent(hal::PortEvent event, const hal::PortInfo& port) {
  switch (event) {
    case hal::PortEvent::kAdded:
      logger_.Log(LogLevel::kInfo, "port %s (ifindex %u) added", port.name.c_str(), port.ifindex);
      (void)AddPort(port);  // logged inside
      break;
    case hal::PortEvent::kRemoved:
      logger_.Log(LogLevel::kInfo, "port %s (ifindex %u) removed", port.name.c_str(), port.ifindex);
      agent_->RemovePort(port.ifindex);
      break;
    case hal::PortEvent::kChanged: {
      sflow::Poller* poller = agent_->FindPoller(port.ifindex);
      if (poller) poller->UpdatePort(port);
      break;
    }
  }
}

void Daemon::OnTick(MonoTime now) {
  agent_->Tick(now);
  if (flow_probe_) flow_probe_->Tick(now);
  // Send errors are counted on the data path; report them here, at a limited rate. Poll reads
  // back what the collectors refused and logs a change of state itself.
  for (size_t i = 0; i < transports_.size(); ++i) {
    transports_[i]->Poll(now);
    const uint64_t errors = transports_[i]->stats().send_errors;
    if (errors == errors_seen_[i]) continue;
    const int last = transports_[i]->status().last_error;
    send_error_log_.Log(now, LogLevel::kWarning, "%s: %llu send errors (last: %s)",
                        transports_[i]->Describe().c_str(), U(errors - errors_seen_[i]),
                        last != 0 ? strerror(last) : "unknown");
    errors_seen_[i] = errors;
  }
}

void Daemon::DrainAll() {
  const size_t budget = 256;
  for (size_t round = 0; round < kMaxDrainRoundsAtStop; ++round) {
    if (platform_.packets->Drain(*sink_, budget) < budget) break;
  }
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
  if (flow_probe_) flow_probe_->Finish(clock_.Now());
  for (const auto& t : transports_) t->Poll(clock_.Now());  // refusals so far, for the summary
  stopped_ = clock_.Now();
  running_ = false;
  if (reason.ok()) {
    logger_.Log(LogLevel::kDebug, "event loop ended: %s", StopReasonName(*reason));
  }
  return reason;
}

std::string Daemon::Summary() const {
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

  std::string s = Printf("xflowd: ran %.1f s on %zu ports", secs, agent_->pollers().size());
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
  if (flow_probe_) s += "\n" + flow_probe_->Summary();
  return s;
}

}  // namespace xflowd::agent::daemon
