#include "exporter/netflow/flow_exporter.h"

#include <algorithm>
#include <utility>

namespace xflowd::exporter::netflow {

using hal::base::InvalidArgumentError;
using hal::base::Status;

namespace {

size_t ClampSize(size_t n) {
  if (n < kMinDatagramBytes) return kMinDatagramBytes;
  if (n > kMaxDatagramBytes) return kMaxDatagramBytes;
  return n;
}

ExporterOptions Clamped(ExporterOptions o) {
  o.max_datagram_bytes = ClampSize(o.max_datagram_bytes);
  return o;
}

}  // namespace

Status ValidateExporterOptions(const ExporterOptions& o) {
  if (o.version != Version::kV5 && o.version != Version::kV9 && o.version != Version::kIpfix) {
    return InvalidArgumentError("netflow version must be 5, 9 or 10 (IPFIX), not " +
                                std::to_string(static_cast<int>(o.version)));
  }
  if (o.max_datagram_bytes < kMinDatagramBytes || o.max_datagram_bytes > kMaxDatagramBytes) {
    return InvalidArgumentError("max datagram size " + std::to_string(o.max_datagram_bytes) +
                                " is outside [" + std::to_string(kMinDatagramBytes) + ", " +
                                std::to_string(kMaxDatagramBytes) + "] bytes");
  }
  return Status::Ok();
}

FlowExporter::FlowExporter(const ExporterOptions& options, Transport& transport)
    : options_(Clamped(options)),
      transport_(transport),
      buffer_(options_.max_datagram_bytes),
      aux_buffer_(options_.version == Version::kV5 ? 0 : options_.max_datagram_bytes),
      builder_(options_.version, buffer_.data(), buffer_.size()),
      aux_builder_(options_.version, aux_buffer_.data(), aux_buffer_.size()),
      v5_writer_(buffer_.data(), buffer_.size()) {
  const size_t fit = (options_.max_datagram_bytes - kV5HeaderSize) / kV5RecordSize;
  v5_max_records_ = fit < kV5MaxRecords ? fit : kV5MaxRecords;
  session_seen_ = transport_.status().stream;
  sequence_stream_ = session_seen_;
  for (int i = 0; i < kDataTemplateCount; ++i) {
    data_templates_[i] =
        &DataTemplate(options_.version, static_cast<TemplateKind>(i), options_.key_fields);
  }
}

void FlowExporter::SetTime(uint64_t now_unix_ms) { now_ms_ = now_unix_ms; }

void FlowExporter::OnFlow(const FlowRecord& record) {
  ++stats_.flows_received;
  if (options_.version == Version::kV5) {
    OnFlowV5(record);
    return;
  }
  TemplateKind kind;
  if (!TemplateKindOf(record, &kind)) {
    ++stats_.flows_not_exportable;
    return;
  }
  if (!sampling_set_ && record.sampling_rate != last_record_rate_) {
    // Collectors scale by the latest options data: the records so far go out under the old
    // rate, and the new rate is announced before this record.
    SendMain();
    last_record_rate_ = record.sampling_rate;
    options_dirty_ = true;
  }
  const TemplateSpec& t = *data_templates_[static_cast<int>(kind)];
  if (!open_) StartMessage(true);
  // Up to three tries: the open message; a new one (which may start with a refresh); a new one
  // without refresh, where any record fits (max_datagram_bytes >= kMinDatagramBytes).
  for (int attempt = 0; !builder_.BeginRecord(t.id, t.record_length); ++attempt) {
    if (attempt == 2) {
      ++stats_.flows_not_exportable;  // cannot happen; never lose a record silently
      return;
    }
    SendMain();
    StartMessage(attempt == 0);
  }
  WriteDataRecord(options_.version, t, record, options_.system_init_unix_ms, builder_.writer());
  builder_.EndRecord(true);
  ++open_flows_;
  ++stats_.flows_exported;
}

void FlowExporter::OnFlowV5(const FlowRecord& record) {
  if (record.key.ip_version != 4) {
    ++stats_.flows_not_exportable;
    return;
  }
  const uint16_t sampling = V5SamplingField(record.sampling_rate);
  // One header carries the sampling interval: a record sampled at another rate starts a new
  // datagram.
  if (v5_count_ > 0 && (v5_count_ >= v5_max_records_ || sampling != v5_sampling_)) SendV5();
  if (v5_count_ == 0) {
    v5_writer_.Reset();
    v5_writer_.Zeros(kV5HeaderSize);
    v5_sampling_ = sampling;
  }
  const V5Clamps c = WriteV5Record(record, options_.system_init_unix_ms, v5_writer_);
  if (c.counters) ++stats_.v5_clamped_counters;
  if (c.ifindex) ++stats_.v5_clamped_ifindex;
  ++v5_count_;
  ++stats_.flows_exported;
}

void FlowExporter::SendV5() {
  if (v5_count_ == 0) return;
  V5Header h;
  h.count = v5_count_;
  h.sys_uptime_ms = UptimeMs(now_ms_, options_.system_init_unix_ms);
  h.unix_secs = static_cast<uint32_t>(now_ms_ / 1000);
  h.unix_nsecs = static_cast<uint32_t>(now_ms_ % 1000 * 1000000);
  h.flow_sequence = v5_flow_sequence_;
  h.engine_type = options_.engine_type;
  h.engine_id = options_.engine_id;
  h.sampling_interval = v5_sampling_;
  ByteWriter header(buffer_.data(), kV5HeaderSize);
  WriteV5Header(h, header);
  const bool ok = transport_.Send(v5_writer_.view());
  ++stats_.datagrams;
  ++messages_sent_;
  if (!ok) {
    ++stats_.send_errors;
    stats_.flows_lost += v5_count_;
  }
  v5_flow_sequence_ += v5_count_;
  v5_count_ = 0;
}

bool FlowExporter::RefreshDue() const {
  if (!templates_sent_ || options_dirty_) return true;
  if (transport_.status().stream != session_seen_) return true;
  if (options_.template_refresh_packets != 0 &&
      messages_sent_ - last_refresh_message_ >= options_.template_refresh_packets) {
    return true;
  }
  if (options_.template_refresh_s != 0 && now_ms_ >= last_refresh_ms_ &&
      now_ms_ - last_refresh_ms_ >= uint64_t{options_.template_refresh_s} * 1000) {
    return true;
  }
  return false;
}

void FlowExporter::StartMessage(bool allow_refresh) {
  builder_.Reset();
  open_ = true;
  open_has_templates_ = false;
  open_flows_ = 0;
  if (allow_refresh && RefreshDue()) WriteRefresh(builder_, true);
}

// Templates, options templates, then options data. Spills into further messages when the
// options data do not fit in one (many interfaces); `b` is left open with the last part.
void FlowExporter::WriteRefresh(MessageBuilder& b, bool is_main) {
  const Version v = options_.version;
  session_seen_ = transport_.status().stream;
  templates_sent_ = true;
  options_dirty_ = false;
  last_refresh_message_ = messages_sent_;
  last_refresh_ms_ = now_ms_;
  ++stats_.template_refreshes;
  if (is_main) open_has_templates_ = true;

  const uint16_t template_set = v == Version::kIpfix ? kIpfixTemplateSetId : kV9TemplateSetId;
  const uint16_t options_set =
      v == Version::kIpfix ? kIpfixOptionsTemplateSetId : kV9OptionsTemplateSetId;
  auto begin = [&](uint16_t set_id, size_t len) {
    if (b.BeginRecord(set_id, len)) return true;
    SendBuilder(b, is_main ? open_flows_ : 0);
    b.Reset();
    if (is_main) {
      open_flows_ = 0;
      open_has_templates_ = false;
    }
    return b.BeginRecord(set_id, len);
  };
  for (int i = 0; i < kDataTemplateCount; ++i) {
    const TemplateSpec& t = *data_templates_[i];
    if (!begin(template_set, TemplateRecordSize(v, t))) return;
    WriteTemplateRecord(v, t, b.writer());
    b.EndRecord(false);
    ++stats_.template_records;
  }
  for (const TemplateSpec* t : {&SystemOptionsTemplate(v), &InterfaceOptionsTemplate(v)}) {
    if (!begin(options_set, TemplateRecordSize(v, *t))) return;
    WriteTemplateRecord(v, *t, b.writer());
    b.EndRecord(false);
    // One options template per set: pmacct (1.7.7) steps to the next options template by a
    // length that is wrong for IPFIX and v9, and drops the rest of the message when it does.
    b.EndSet();
    ++stats_.options_template_records;
  }
  SystemOptionsValues values;
  values.scope_id = options_.observation_domain;
  values.system_init_unix_ms = options_.system_init_unix_ms;
  values.sampling_interval = sampling_set_ ? sampling_interval_ : last_record_rate_;
  values.sampling_algorithm = static_cast<uint8_t>(
      values.sampling_interval <= 1 ? SamplingAlgorithm::kDeterministic : sampling_algorithm_);
  values.exported_flows = stats_.flows_exported;
  values.not_sent_flows = stats_.flows_not_exportable + stats_.flows_lost;
  const TemplateSpec& sys = SystemOptionsTemplate(v);
  if (!begin(sys.id, sys.record_length)) return;
  WriteSystemOptionsRecord(v, values, b.writer());
  b.EndRecord(true);
  ++stats_.options_data_records;
  const TemplateSpec& ifs = InterfaceOptionsTemplate(v);
  for (const InterfaceName& i : interfaces_) {
    if (!begin(ifs.id, ifs.record_length)) return;
    WriteInterfaceOptionsRecord(v, i.ifindex, i.name, b.writer());
    b.EndRecord(true);
    ++stats_.options_data_records;
  }
}

bool FlowExporter::SendBuilder(MessageBuilder& b, uint32_t flows) {
  const Version v = options_.version;
  // The sequence counts the records of the stream this message goes into (RFC 7011 sec 3.1),
  // whenever its templates were written.
  const uint64_t stream = transport_.status().stream;
  if (stream != sequence_stream_) {
    sequence_stream_ = stream;
    if (v == Version::kIpfix) ipfix_data_records_ = 0;
  }
  const uint32_t sequence = v == Version::kIpfix ? ipfix_data_records_ : v9_packets_;
  // The v9 header says unix_secs without the milliseconds: its sysUptime is taken at that
  // whole second, so a collector's unix_secs * 1000 - sysUptime + FIRST_SWITCHED gives the
  // flow's time to the millisecond.
  const uint64_t header_ms = v == Version::kV9 ? now_ms_ / 1000 * 1000 : now_ms_;
  const ByteView message =
      b.Finish(sequence, UptimeMs(header_ms, options_.system_init_unix_ms),
               static_cast<uint32_t>(now_ms_ / 1000), options_.observation_domain);
  const bool ok = transport_.Send(message);
  ++stats_.datagrams;
  ++messages_sent_;
  if (!ok) {
    ++stats_.send_errors;
    stats_.flows_lost += flows;
  }
  ++v9_packets_;
  ipfix_data_records_ += b.data_record_count();
  return ok;
}

void FlowExporter::SendMain() {
  if (!open_) return;
  open_ = false;
  if (builder_.empty()) return;
  // A new session since this message started: the collector must get templates first.
  if (!open_has_templates_ && transport_.status().stream != session_seen_) {
    aux_builder_.Reset();
    WriteRefresh(aux_builder_, false);
    if (!aux_builder_.empty()) SendBuilder(aux_builder_, 0);
  }
  SendBuilder(builder_, open_flows_);
  open_flows_ = 0;
}

void FlowExporter::Tick(uint64_t now_unix_ms) {
  SetTime(now_unix_ms);
  if (options_.version == Version::kV5) {
    SendV5();
    return;
  }
  SendMain();
  if (RefreshDue()) {
    StartMessage(true);
    SendMain();
  }
}

void FlowExporter::Flush(uint64_t now_unix_ms) {
  SetTime(now_unix_ms);
  if (options_.version == Version::kV5) {
    SendV5();
  } else {
    SendMain();
  }
}

void FlowExporter::SetInterfaceNames(std::vector<InterfaceName> names) {
  interfaces_ = std::move(names);
  options_dirty_ = true;
}

void FlowExporter::SetSampling(uint32_t interval, SamplingAlgorithm algorithm) {
  sampling_set_ = true;
  sampling_interval_ = interval;
  sampling_algorithm_ = algorithm;
  options_dirty_ = true;
}

// ---- ExporterSet ----

ExporterSet::ExporterSet(std::vector<FlowExporter*> exporters) : exporters_(std::move(exporters)) {}

void ExporterSet::OnFlow(const FlowRecord& record) {
  for (FlowExporter* e : exporters_) e->OnFlow(record);
}
void ExporterSet::SetTime(uint64_t now_unix_ms) {
  for (FlowExporter* e : exporters_) e->SetTime(now_unix_ms);
}
void ExporterSet::Tick(uint64_t now_unix_ms) {
  for (FlowExporter* e : exporters_) e->Tick(now_unix_ms);
}
void ExporterSet::Flush(uint64_t now_unix_ms) {
  for (FlowExporter* e : exporters_) e->Flush(now_unix_ms);
}
void ExporterSet::SetInterfaceNames(const std::vector<InterfaceName>& names) {
  for (FlowExporter* e : exporters_) e->SetInterfaceNames(names);
}
void ExporterSet::Remove(const FlowExporter* exporter) {
  exporters_.erase(std::remove(exporters_.begin(), exporters_.end(), exporter), exporters_.end());
}
void ExporterSet::SetSampling(uint32_t interval, SamplingAlgorithm algorithm) {
  for (FlowExporter* e : exporters_) e->SetSampling(interval, algorithm);
}

}  // namespace xflowd::exporter::netflow
