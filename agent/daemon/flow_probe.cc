#include "agent/daemon/flow_probe.h"

#include <time.h>

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <utility>

#include "agent/daemon/flow_pipeline.h"
#include "exporter/tcp_transport.h"
#include "exporter/udp_transport.h"

namespace xflowd::agent::daemon {

using exporter::netflow::ExporterOptions;
using exporter::netflow::FlowExporter;
using exporter::netflow::Version;
using hal::base::LogLevel;
using hal::base::MonoTime;
using hal::base::Result;
using hal::base::Status;

namespace {

constexpr size_t kFileDrainBudget = 4096;

unsigned long long U(uint64_t v) { return static_cast<unsigned long long>(v); }

Version VersionOf(uint8_t v) {
  switch (v) {
    case 5:
      return Version::kV5;
    case 9:
      return Version::kV9;
    default:
      return Version::kIpfix;
  }
}

Result<std::unique_ptr<exporter::Transport>> DefaultTransport(const config::FlowCollector& c,
                                                              hal::base::Logger& logger) {
  if (c.tcp) {
    exporter::TcpTransportOptions o;
    o.logger = &logger;
    auto t = exporter::TcpTransport::Create(c.endpoint, o);
    if (!t.ok()) return t.status();
    return std::unique_ptr<exporter::Transport>(std::move(t.value()));
  }
  exporter::UdpTransportOptions o;
  o.logger = &logger;
  o.source_address = c.send.source_address;
  o.bind_device = c.send.bind_device;
  o.dscp = c.send.dscp;
  auto t = exporter::UdpTransport::Create(c.endpoint, o);
  if (!t.ok()) return t.status();
  return std::unique_ptr<exporter::Transport>(std::move(t.value()));
}

const char* VersionName(uint8_t v) {
  return v == 10 ? "IPFIX" : (v == 5 ? "NetFlow v5" : "NetFlow v9");
}

agent::flow::FlowCacheOptions CacheOptions(const config::FlowConfig& config) {
  agent::flow::FlowCacheOptions o;
  o.capacity = config.cache_size;
  o.inactive_timeout_ms = config.inactive_timeout_s * 1000;
  o.active_timeout_ms = config.active_timeout_s * 1000;
  o.tcp_inactive_timeout_ms = config.tcp_timeout_s * 1000;
  o.udp_inactive_timeout_ms = config.udp_timeout_s * 1000;
  o.icmp_inactive_timeout_ms = config.icmp_timeout_s * 1000;
  o.tcp_end = config.tcp_end;
  return o;
}

bool SameTimeouts(const config::FlowConfig& a, const config::FlowConfig& b) {
  return a.inactive_timeout_s == b.inactive_timeout_s && a.active_timeout_s == b.active_timeout_s &&
         a.tcp_timeout_s == b.tcp_timeout_s && a.udp_timeout_s == b.udp_timeout_s &&
         a.icmp_timeout_s == b.icmp_timeout_s && a.tcp_end == b.tcp_end;
}

bool SameExporterOptions(const config::FlowConfig& a, const config::FlowConfig& b) {
  return a.max_datagram_bytes == b.max_datagram_bytes &&
         a.observation_domain == b.observation_domain &&
         a.template_refresh_packets == b.template_refresh_packets &&
         a.template_refresh_s == b.template_refresh_s && a.key_macs == b.key_macs &&
         a.key_mpls == b.key_mpls;
}

}  // namespace

FlowProbe::FlowProbe(const config::FlowConfig& config, const FlowProbeSettings& settings,
                     hal::base::Logger& logger)
    : config_(config), settings_(settings), logger_(logger) {}

Result<std::unique_ptr<exporter::Transport>> FlowProbe::MakeTransport(
    const config::FlowCollector& c) {
  if (settings_.make_transport) return settings_.make_transport(c);
  return DefaultTransport(c, logger_);
}

Result<std::unique_ptr<FlowExporter>> FlowProbe::MakeExporter(const config::FlowCollector& c,
                                                              const config::FlowConfig& config,
                                                              exporter::Transport& transport) {
  ExporterOptions eo;
  eo.version = VersionOf(c.version);
  eo.max_datagram_bytes = config.max_datagram_bytes;
  eo.observation_domain = config.observation_domain;
  eo.template_refresh_packets = config.template_refresh_packets;
  eo.template_refresh_s = config.template_refresh_s;
  eo.system_init_unix_ms = settings_.system_init_unix_ms;
  eo.key_fields.macs = config.key_macs;
  eo.key_fields.mpls = config.key_mpls;
  Status valid = exporter::netflow::ValidateExporterOptions(eo);
  if (!valid.ok()) return valid.WithContext("--netflow " + c.endpoint.ToString());
  auto e = std::make_unique<FlowExporter>(eo, transport);
  if (settings_.sampling_rate > 1) {
    e->SetSampling(settings_.sampling_rate, exporter::netflow::SamplingAlgorithm::kRandom);
  }
  if (!names_.empty()) e->SetInterfaceNames(names_);
  if (eo.version == Version::kV5 && (config.key_macs || config.key_mpls)) {
    logger_.Log(LogLevel::kWarning,
                "flow collector %s: NetFlow v5 has no MAC or MPLS fields; records that differ "
                "only in them look like duplicates (use v9 or IPFIX)",
                transport.Describe().c_str());
  }
  return e;
}

agent::flow::FlowMeterOptions FlowProbe::MeterOptions(const config::FlowConfig& config) {
  agent::flow::FlowMeterOptions mo;
  mo.cache = CacheOptions(config);
  mo.key.macs = config.key_macs;
  mo.key.mpls = config.key_mpls;
  mo.batch = 32;
  return mo;
}

std::unique_ptr<agent::flow::FlowMeter> FlowProbe::MakeMeter(
    const config::FlowConfig& config) const {
  const agent::flow::FlowMeterOptions mo = MeterOptions(config);
  auto meter = std::make_unique<agent::flow::FlowMeter>(mo, *set_);
  meter->set_unix_offset_ms(settings_.unix_offset_ms);
  return meter;
}

Result<std::unique_ptr<FlowProbe>> FlowProbe::Create(const config::FlowConfig& config,
                                                     const FlowProbeSettings& settings,
                                                     hal::base::Logger& logger) {
  if (config.collectors.empty()) {
    return hal::base::InvalidArgumentError("no NetFlow/IPFIX collector (-n HOST:PORT)");
  }
  std::unique_ptr<FlowProbe> p(new FlowProbe(config, settings, logger));
  std::vector<FlowExporter*> raw;
  for (const config::FlowCollector& c : config.collectors) {
    auto t = p->MakeTransport(c);
    if (!t.ok()) return t.status();
    auto e = p->MakeExporter(c, config, **t);
    if (!e.ok()) return e.status();
    logger.Log(LogLevel::kInfo, "flow collector %s, %s", (*t)->Describe().c_str(),
               VersionName(c.version));
    raw.push_back(e->get());
    p->collectors_.push_back(c);
    p->transports_.push_back(std::move(t.value()));
    p->exporters_.push_back(std::move(e.value()));
  }
  p->set_ = std::make_unique<exporter::netflow::ExporterSet>(raw);
  if (ExternalMeters* x = settings.external_meters) {
    Status st = x->Start(MeterOptions(config), settings.unix_offset_ms, p->export_sink_);
    if (!st.ok()) return st;
    logger.Log(LogLevel::kInfo,
               "flow cache: %s (%.1f MiB), inactive %u s, active %u s, TCP FIN/RST %s",
               x->Describe().c_str(), static_cast<double>(x->memory_bytes()) / (1024.0 * 1024.0),
               config.inactive_timeout_s, config.active_timeout_s,
               config.tcp_end ? "end flows" : "ignored");
    return p;
  }
  p->meter_ = p->MakeMeter(config);
  logger.Log(
      LogLevel::kInfo,
      "flow cache: %u flows (%.1f MiB), inactive %u s, active %u s, TCP FIN/RST %s",
      config.cache_size, static_cast<double>(p->meter_->cache().memory_bytes()) / (1024.0 * 1024.0),
      config.inactive_timeout_s, config.active_timeout_s, config.tcp_end ? "end flows" : "ignored");
  return p;
}

Status FlowProbe::Reload(const config::FlowConfig& next, MonoTime now,
                         std::vector<std::string>* changes) {
  if (next.collectors.empty()) {
    return hal::base::InvalidArgumentError("no NetFlow/IPFIX collector (-n HOST:PORT)");
  }
  auto same = [](const config::FlowCollector& a, const config::FlowCollector& b) {
    return a.endpoint.address == b.endpoint.address && a.endpoint.port == b.endpoint.port &&
           a.version == b.version && a.tcp == b.tcp && a.send == b.send;
  };
  auto find = [&](const std::vector<config::FlowCollector>& in, const config::FlowCollector& c) {
    for (const auto& x : in) {
      if (same(x, c)) return true;
    }
    return false;
  };
  // New transports first: a collector that cannot be reached leaves everything as it was.
  std::vector<std::pair<config::FlowCollector, std::unique_ptr<exporter::Transport>>> added;
  for (const config::FlowCollector& c : next.collectors) {
    if (find(collectors_, c)) continue;
    auto t = MakeTransport(c);
    if (!t.ok()) return t.status();
    added.emplace_back(c, std::move(t.value()));
  }
  const uint64_t unix_now = UnixMs(now);
  set_->SetTime(unix_now);

  // The cached flows were measured under the old configuration: a new cache exports them
  // first, to the old exporters.
  const bool new_cache = next.cache_size != config_.cache_size ||
                         next.key_macs != config_.key_macs || next.key_mpls != config_.key_mpls;
  if (new_cache) {
    if (meter_) meter_->FlushPending();  // batched packets count among the cached flows
    const uint64_t cached = cached_flows();
    if (ExternalMeters* x = settings_.external_meters) {
      Status st = x->Replace(now, MeterOptions(next));
      if (!st.ok()) return st;  // nothing changed: checked before any partition flushed
      set_->Flush(unix_now);
    } else {
      meter_->Flush(now);
      set_->Flush(unix_now);
      agent::flow::AddMeterStats(earlier_, meter_->stats());
      meter_ = MakeMeter(next);
    }
    char line[200];
    std::snprintf(line, sizeof(line),
                  "flow cache %u -> %u flows%s: the %llu cached flows were exported (forced "
                  "end), then a new cache was made",
                  config_.cache_size, next.cache_size,
                  next.key_macs != config_.key_macs || next.key_mpls != config_.key_mpls
                      ? " and new key fields"
                      : "",
                  U(cached));
    changes->push_back(line);
  } else if (!SameTimeouts(next, config_)) {
    if (settings_.external_meters != nullptr) {
      settings_.external_meters->SetTimeouts(CacheOptions(next));
    } else {
      meter_->SetTimeouts(CacheOptions(next));
    }
    char line[200];
    std::snprintf(line, sizeof(line),
                  "flow timeouts: inactive %u -> %u s, active %u -> %u s (TCP %u, UDP %u, ICMP "
                  "%u s; TCP FIN/RST %s), applied to the %llu cached flows",
                  config_.inactive_timeout_s, next.inactive_timeout_s, config_.active_timeout_s,
                  next.active_timeout_s, next.tcp_timeout_s, next.udp_timeout_s,
                  next.icmp_timeout_s, next.tcp_end ? "end flows" : "ignored", U(cached_flows()));
    changes->push_back(line);
  }

  // Collectors that go (or change): their pending records are sent, then they end.
  for (size_t i = 0; i < collectors_.size();) {
    if (find(next.collectors, collectors_[i])) {
      ++i;
      continue;
    }
    exporters_[i]->Flush(unix_now);
    set_->Remove(exporters_[i].get());
    changes->push_back("flow collector " + transports_[i]->Describe() + " (" +
                       VersionName(collectors_[i].version) + ") removed");
    exporters_.erase(exporters_.begin() + static_cast<long>(i));
    transports_.erase(transports_.begin() + static_cast<long>(i));
    collectors_.erase(collectors_.begin() + static_cast<long>(i));
  }

  if (!SameExporterOptions(next, config_)) {
    for (size_t i = 0; i < exporters_.size(); ++i) {
      auto e = MakeExporter(collectors_[i], next, *transports_[i]);
      if (!e.ok()) return e.status();  // validated config: not expected
      exporters_[i]->Flush(unix_now);
      set_->Remove(exporters_[i].get());
      exporters_[i] = std::move(e.value());
      exporters_[i]->SetTime(unix_now);
      set_->Add(exporters_[i].get());
    }
    changes->push_back(
        "flow export options (datagram size, observation domain, template refresh or key "
        "fields): every exporter restarted with fresh templates");
  }

  for (auto& [c, t] : added) {
    auto e = MakeExporter(c, next, *t);
    if (!e.ok()) return e.status();  // validated config: not expected
    (*e)->SetTime(unix_now);
    set_->Add(e->get());
    changes->push_back("flow collector " + t->Describe() + " (" + VersionName(c.version) +
                       ") added");
    collectors_.push_back(c);
    transports_.push_back(std::move(t));
    exporters_.push_back(std::move(e.value()));
  }
  config_ = next;
  return Status::Ok();
}

uint64_t FlowProbe::UnixMs(MonoTime flow_time) const {
  int64_t ms = flow_time.ms() + settings_.unix_offset_ms;
  return ms > 0 ? static_cast<uint64_t>(ms) : 0;
}

void FlowProbe::OnSample(const hal::PacketSample& sample) {
  // Message headers follow the newest packet, so records ended by this packet (a timeout
  // split, FIN) never carry a time later than their message.
  if (!seen_sample_) first_ = sample.timestamp;
  if (!seen_sample_ || sample.timestamp > latest_) {
    latest_ = sample.timestamp;
    seen_sample_ = true;
    set_->SetTime(UnixMs(latest_));
  }
  if (meter_) meter_->OnSample(sample);
}

void FlowProbe::ExportSink::OnFlow(const exporter::netflow::FlowRecord& r) {
  // As OnSample: a record never carries a time later than its message's header.
  if (r.last_ms > unix_ms_) {
    unix_ms_ = r.last_ms;
    p_.set_->SetTime(unix_ms_);
  }
  p_.set_->OnFlow(r);
}

void FlowProbe::Tick(MonoTime now) {
  if (!seen_sample_ || now > latest_) latest_ = now;
  set_->SetTime(UnixMs(now));
  if (meter_) {
    meter_->Tick(now);
  } else {
    settings_.external_meters->DrainRecords(SIZE_MAX);  // what the workers' ticks ended
  }
  const MonoTime real_now = settings_.clock ? settings_.clock->Now() : now;
  for (const auto& t : transports_) t->Poll(real_now);
  set_->Tick(UnixMs(now));
}

void FlowProbe::Finish(MonoTime now) { FlushAll(now, true); }

void FlowProbe::FlushAll(MonoTime now, bool stop) {
  set_->SetTime(UnixMs(now));
  if (meter_) {
    meter_->Flush(now);
  } else {
    settings_.external_meters->Flush(now, stop);
  }
  set_->Flush(UnixMs(now));
}

uint64_t FlowProbe::ExpireAll(MonoTime now) {
  auto records = [this] {
    const agent::flow::FlowMeterStats m = meter_stats();
    uint64_t n = 0;
    for (int r = 1; r <= 5; ++r) n += m.records_by_reason[r];
    return n;
  };
  const uint64_t before = records();
  ++flushes_;
  FlushAll(now, false);
  return records() - before;
}

FileRunStats FlowProbe::RunToEnd(hal::PacketSource& source, const std::function<bool()>& done) {
  FileRunStats st;
  MonoTime next_tick;
  bool started = false;
  while (!done()) {
    size_t n = source.Drain(*this, kFileDrainBudget);
    meter_->FlushPending();
    st.samples += n;
    if (!seen_sample_) continue;
    if (!started) {
      started = true;
      st.first = first_;
      next_tick = latest_ + hal::base::seconds(1);
    }
    // One tick per second of packet time, as the live loop would have run.
    while (latest_ >= next_tick) {
      Tick(next_tick);
      ++st.ticks;
      next_tick += hal::base::seconds(1);
    }
  }
  st.last = latest_;
  if (seen_sample_) Finish(latest_);
  return st;
}

FileRunStats FlowProbe::RunToEndPipelined(
    hal::PacketSource& source, const std::function<bool()>& source_done,
    const std::function<void()>& between,
    const std::function<void(std::function<uint64_t()>)>& progress) {
  FileRunStats st;
  MonoTime next_tick;
  bool started = false;
  agent::flow::FlowKeyOptions ko;
  ko.macs = config_.key_macs;
  ko.mpls = config_.key_mpls;
  FlowPipeline pipe(ko);
  if (progress) progress([&pipe] { return pipe.samples_so_far(); });
  auto consume = [&](const FlowPipeline::Block& b) {
    // As OnSample, a block at a time: headers follow the newest packet.
    const MonoTime latest = MonoTime::FromNs(b.latest_ns);
    if (!seen_sample_) first_ = MonoTime::FromNs(b.first_ns);
    if (!seen_sample_ || latest > latest_) {
      latest_ = latest;
      seen_sample_ = true;
      set_->SetTime(UnixMs(latest_));
    }
    meter_->AddKeyed(b.packets, b.rates, b.count);
    st.samples += b.samples;
    if (!started) {
      started = true;
      st.first = first_;
      next_tick = latest_ + hal::base::seconds(1);
    }
    while (latest_ >= next_tick) {
      Tick(next_tick);
      ++st.ticks;
      next_tick += hal::base::seconds(1);
    }
  };
  pipe.Run(source, source_done, consume, between);
  if (progress) progress(nullptr);
  agent::flow::AddMeterStats(earlier_, pipe.reader_stats().meter);
  st.last = latest_;
  if (seen_sample_) Finish(latest_);
  return st;
}

bool FlowProbe::WaitForStreams(hal::base::Duration timeout, bool until_empty) {
  const MonoTime start = settings_.clock ? settings_.clock->Now() : MonoTime();
  for (;;) {
    const MonoTime now = settings_.clock ? settings_.clock->Now() : MonoTime();
    bool all = true;
    for (const auto& t : transports_) {
      t->Poll(now);
      const exporter::TransportStatus st = t->status();
      all =
          all && (until_empty ? st.pending_bytes == 0 : st.state == exporter::TransportState::kUp);
    }
    if (all) return true;
    if (settings_.clock == nullptr || now - start >= timeout) return false;
    const timespec pause{0, 5 * 1000 * 1000};  // 5 ms
    nanosleep(&pause, nullptr);
  }
}

bool FlowProbe::RecordsLost() const {
  for (size_t i = 0; i < exporters_.size(); ++i) {
    const exporter::TransportStats& ts = transports_[i]->stats();
    if (exporters_[i]->stats().flows_lost > 0 || ts.lost > 0 ||
        transports_[i]->status().pending_bytes > 0) {
      return true;
    }
  }
  return false;
}

void FlowProbe::SetInterfaceNames(const std::vector<exporter::netflow::InterfaceName>& names) {
  names_ = names;
  set_->SetInterfaceNames(names);
}

agent::flow::FlowMeterStats FlowProbe::meter_stats() const {
  agent::flow::FlowMeterStats s = earlier_;
  agent::flow::AddMeterStats(s,
                             meter_ ? meter_->stats() : settings_.external_meters->meter_stats());
  return s;
}

uint64_t FlowProbe::cached_flows() const {
  return meter_ ? meter_->cache().size() : settings_.external_meters->meter_stats().active_flows;
}

uint64_t FlowProbe::cache_capacity() const {
  return meter_ ? meter_->cache().capacity() : settings_.external_meters->capacity();
}

size_t FlowProbe::cache_memory_bytes() const {
  return meter_ ? meter_->cache().memory_bytes() : settings_.external_meters->memory_bytes();
}

std::string FlowProbe::Summary() const {
  const agent::flow::FlowMeterStats m = meter_stats();
  char buf[512];
  std::snprintf(buf, sizeof(buf),
                "flows: %llu packets metered of %llu (not IP %llu, truncated %llu, bad length "
                "%llu, IPv6 length 0 %llu, fragments %llu); %llu records (idle %llu, active "
                "%llu, FIN/RST %llu, forced %llu, cache full %llu)",
                U(m.metered), U(m.packets), U(m.not_ip), U(m.truncated), U(m.bad_length),
                U(m.ipv6_zero_length), U(m.fragments),
                U(m.records_by_reason[1] + m.records_by_reason[2] + m.records_by_reason[3] +
                  m.records_by_reason[4] + m.records_by_reason[5]),
                U(m.records_by_reason[1]), U(m.records_by_reason[2]), U(m.records_by_reason[3]),
                U(m.records_by_reason[4]), U(m.records_by_reason[5]));
  std::string s = buf;
  if (m.rate_table_full > 0) {
    // Said only when it happened: past 4096 input ports a record may carry another's rate.
    std::snprintf(buf, sizeof(buf),
                  "; %llu packets from ports beyond the 4096 whose sampling rate is kept",
                  U(m.rate_table_full));
    s += buf;
  }
  for (size_t i = 0; i < exporters_.size(); ++i) {
    const auto& e = exporters_[i]->stats();
    const exporter::Transport& t = *transports_[i];
    std::snprintf(buf, sizeof(buf),
                  "\n  %s: %s, %llu records in %llu messages, %llu send errors, %llu records "
                  "lost with them, %llu messages lost after sending, %llu not exportable; ",
                  t.Describe().c_str(), exporter::TransportStateName(t.status().state),
                  U(e.flows_exported), U(e.datagrams), U(e.send_errors), U(e.flows_lost),
                  U(t.stats().lost), U(e.flows_not_exportable));
    s += buf;
    s += t.DescribeStats();
  }
  return s;
}

}  // namespace xflowd::agent::daemon
