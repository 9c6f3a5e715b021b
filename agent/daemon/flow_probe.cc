#include "agent/daemon/flow_probe.h"

#include <time.h>

#include <cinttypes>
#include <cstdio>
#include <utility>

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

}  // namespace

FlowProbe::FlowProbe(const FlowProbeSettings& settings, hal::base::Logger& logger)
    : settings_(settings), logger_(logger) {}

Result<std::unique_ptr<FlowProbe>> FlowProbe::Create(const config::FlowConfig& config,
                                                     const FlowProbeSettings& settings,
                                                     hal::base::Logger& logger) {
  if (config.collectors.empty()) {
    return hal::base::InvalidArgumentError("no NetFlow/IPFIX collector (-n HOST:PORT)");
  }
  std::unique_ptr<FlowProbe> p(new FlowProbe(settings, logger));
  FlowTransportFactory make = settings.make_transport;
  if (!make)
    make = [&logger](const config::FlowCollector& c) { return DefaultTransport(c, logger); };
  std::vector<FlowExporter*> raw;
  for (const config::FlowCollector& c : config.collectors) {
    auto t = make(c);
    if (!t.ok()) return t.status();
    ExporterOptions eo;
    eo.version = VersionOf(c.version);
    eo.max_datagram_bytes = config.max_datagram_bytes;
    eo.observation_domain = config.observation_domain;
    eo.template_refresh_packets = config.template_refresh_packets;
    eo.template_refresh_s = config.template_refresh_s;
    eo.system_init_unix_ms = settings.system_init_unix_ms;
    eo.key_fields.macs = config.key_macs;
    eo.key_fields.mpls = config.key_mpls;
    Status valid = exporter::netflow::ValidateExporterOptions(eo);
    if (!valid.ok()) return valid.WithContext("--netflow " + c.endpoint.ToString());
    auto e = std::make_unique<FlowExporter>(eo, **t);
    if (settings.sampling_rate > 1) {
      e->SetSampling(settings.sampling_rate, exporter::netflow::SamplingAlgorithm::kRandom);
    }
    logger.Log(LogLevel::kInfo, "flow collector %s, %s", (*t)->Describe().c_str(),
               c.version == 10 ? "IPFIX" : (c.version == 5 ? "NetFlow v5" : "NetFlow v9"));
    if (eo.version == Version::kV5 && (config.key_macs || config.key_mpls)) {
      logger.Log(LogLevel::kWarning,
                 "flow collector %s: NetFlow v5 has no MAC or MPLS fields; records that differ "
                 "only in them look like duplicates (use v9 or IPFIX)",
                 (*t)->Describe().c_str());
    }
    raw.push_back(e.get());
    p->transports_.push_back(std::move(t.value()));
    p->exporters_.push_back(std::move(e));
  }
  p->set_ = std::make_unique<exporter::netflow::ExporterSet>(raw);

  agent::flow::FlowMeterOptions mo;
  mo.cache.capacity = config.cache_size;
  mo.cache.inactive_timeout_ms = config.inactive_timeout_s * 1000;
  mo.cache.active_timeout_ms = config.active_timeout_s * 1000;
  mo.cache.tcp_inactive_timeout_ms = config.tcp_timeout_s * 1000;
  mo.cache.udp_inactive_timeout_ms = config.udp_timeout_s * 1000;
  mo.cache.icmp_inactive_timeout_ms = config.icmp_timeout_s * 1000;
  mo.cache.tcp_end = config.tcp_end;
  mo.key.macs = config.key_macs;
  mo.key.mpls = config.key_mpls;
  mo.batch = 32;
  p->meter_ = std::make_unique<agent::flow::FlowMeter>(mo, *p->set_);
  p->meter_->set_unix_offset_ms(settings.unix_offset_ms);
  logger.Log(
      LogLevel::kInfo,
      "flow cache: %u flows (%.1f MiB), inactive %u s, active %u s, TCP FIN/RST %s",
      config.cache_size, static_cast<double>(p->meter_->cache().memory_bytes()) / (1024.0 * 1024.0),
      config.inactive_timeout_s, config.active_timeout_s, config.tcp_end ? "end flows" : "ignored");
  return p;
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
  meter_->OnSample(sample);
}

void FlowProbe::Tick(MonoTime now) {
  if (!seen_sample_ || now > latest_) latest_ = now;
  set_->SetTime(UnixMs(now));
  meter_->Tick(now);
  const MonoTime real_now = settings_.clock ? settings_.clock->Now() : now;
  for (const auto& t : transports_) t->Poll(real_now);
  set_->Tick(UnixMs(now));
}

void FlowProbe::Finish(MonoTime now) {
  set_->SetTime(UnixMs(now));
  meter_->Flush(now);
  set_->Flush(UnixMs(now));
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
  set_->SetInterfaceNames(names);
}

std::string FlowProbe::Summary() const {
  const agent::flow::FlowMeterStats m = meter_->stats();
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
