// FlowExporter: finished flows -> NetFlow v5, NetFlow v9 or IPFIX messages to one collector.
// ExporterSet: the same flows to several collectors.
//
// One FlowExporter per collector: it owns that collector's sequence numbers, template refresh
// state and message buffer (allocated once, in the constructor). Records are appended to the
// open message; it is sent when the next record would not fit, on Tick() and on Flush().
//
// Sequence numbers (design.md, "The NetFlow/IPFIX path"):
//   v5     flow_sequence = flows put in earlier datagrams;
//   v9     sequence = export packets sent before this one (per source id);
//   IPFIX  sequence = data records (flow records and options data records) sent before this
//          message in the observation domain, modulo 2^32; restarts at 0 with the first
//          message of each new TCP stream (RFC 7011 section 3.1), decided when the message is
//          handed to the transport.
// A message whose send fails still consumes its sequence numbers: the collector sees the gap.
//
// Templates (v9/IPFIX): the data templates, the two options templates and the options data
// (sampling, system init time, counters, interface names) go at the start of the first message,
// then again at the start of a message once template_refresh_packets messages were sent since
// the last refresh, once template_refresh_s passed (checked on every message start and Tick),
// after SetInterfaceNames()/SetSampling(), and at once when the transport reports a new stream
// (TransportStatus::stream, after a lost TCP connection): then the refresh is sent before
// anything else.
//
// Time: SetTime()/Tick()/Flush() take Unix ms; the owner passes wall time live and packet time
// when replaying a capture. Header times come from the last value passed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "exporter/netflow/flow_record.h"
#include "exporter/netflow/netflow_encoder.h"
#include "exporter/transport.h"
#include "hal/base/status.h"

namespace xflowd::exporter::netflow {

constexpr size_t kMinDatagramBytes = 512;  // fits the whole template set of every version
constexpr size_t kMaxDatagramBytes = 65535;

struct ExporterOptions {
  Version version = Version::kIpfix;
  // Largest message (UDP payload) sent, in bytes; clamped to [kMinDatagramBytes,
  // kMaxDatagramBytes] by the constructor (ValidateExporterOptions reports it).
  size_t max_datagram_bytes = 1400;
  uint32_t observation_domain = 0;         // v9 source id / IPFIX observation domain id
  uint32_t template_refresh_packets = 20;  // 0 = never by count
  uint32_t template_refresh_s = 600;       // 0 = never by time
  // Unix ms the agent started: the v5/v9 sysUptime base and IPFIX systemInitTimeMilliseconds.
  uint64_t system_init_unix_ms = 0;
  uint8_t engine_type = 0;  // v5 header only
  uint8_t engine_id = 0;    // v5 header only
  // The optional parts of the meter's flow key, carried by the v9/IPFIX data templates (v5 has
  // no field for them).
  KeyFields key_fields;
};

// Control plane: InvalidArgument naming the bad field, for config checks before construction.
hal::base::Status ValidateExporterOptions(const ExporterOptions& options);

struct InterfaceName {
  uint32_t ifindex = 0;
  std::string name;  // sent cut/padded to kIfNameBytes
};

// SAMPLING_ALGORITHM / samplingAlgorithm values. Every sampler xflowd has (the sFlow agent's,
// the ASICs', tc sample, the AF_PACKET filter, the simulator's) picks packets at random.
enum class SamplingAlgorithm : uint8_t { kDeterministic = 1, kRandom = 2 };

struct ExporterStats {
  uint64_t datagrams = 0;    // messages handed to the transport (sent or failed)
  uint64_t send_errors = 0;  // of those, the transport refused
  uint64_t flows_received = 0;
  uint64_t flows_exported = 0;        // flow records put in messages
  uint64_t flows_not_exportable = 0;  // v5: IPv6 flows; any version: IP version not 4/6
  uint64_t flows_lost = 0;            // in messages whose send failed
  uint64_t template_records = 0;
  uint64_t options_template_records = 0;
  uint64_t options_data_records = 0;
  uint64_t template_refreshes = 0;
  uint64_t v5_clamped_counters = 0;  // records whose packets or bytes exceeded 32 bits
  uint64_t v5_clamped_ifindex = 0;   // records with an ifindex above 65535
};

class FlowExporter final : public FlowRecordSink {
 public:
  // `transport` is not owned and must outlive the exporter.
  FlowExporter(const ExporterOptions& options, Transport& transport);
  FlowExporter(const FlowExporter&) = delete;
  FlowExporter& operator=(const FlowExporter&) = delete;

  // Header time of the next messages (Unix ms).
  void SetTime(uint64_t now_unix_ms);
  // Data plane: appends the record; sends the open message first if the record would not
  // fit. Never blocks, allocates or throws.
  void OnFlow(const FlowRecord& record) override;
  // SetTime, send the open message, and send a template refresh if one is due by time or by a
  // new transport session.
  void Tick(uint64_t now_unix_ms);
  // SetTime and send the open message, if any.
  void Flush(uint64_t now_unix_ms);

  // Control plane: options data for the next refresh (which they make due).
  void SetInterfaceNames(std::vector<InterfaceName> names);
  // Until called, the options data carry the sampling rate of the records: a record whose
  // rate differs from the one announced last is sent after fresh options data (so a stream
  // that mixes rates, e.g. ports of different speeds, refreshes at each change), sampled at
  // random. Interval 1 (every packet) is announced as deterministic whatever `algorithm`
  // says: no packet is left to chance.
  void SetSampling(uint32_t interval, SamplingAlgorithm algorithm);

  const ExporterStats& stats() const { return stats_; }
  const ExporterOptions& options() const { return options_; }
  const Transport& transport() const { return transport_; }

 private:
  void OnFlowV5(const FlowRecord& record);
  void SendV5();
  void StartMessage(bool allow_refresh);
  bool RefreshDue() const;
  void WriteRefresh(MessageBuilder& b, bool is_main);
  void SendMain();
  bool SendBuilder(MessageBuilder& b, uint32_t flows);

  ExporterOptions options_;
  Transport& transport_;
  std::vector<uint8_t> buffer_;
  std::vector<uint8_t> aux_buffer_;  // a refresh that must precede the open message
  MessageBuilder builder_;
  MessageBuilder aux_builder_;
  ByteWriter v5_writer_;
  uint64_t now_ms_ = 0;
  ExporterStats stats_;
  const TemplateSpec* data_templates_[kDataTemplateCount];

  // Open message state.
  bool open_ = false;
  bool open_has_templates_ = false;
  uint32_t open_flows_ = 0;
  uint16_t v5_count_ = 0;
  uint16_t v5_sampling_ = 0;
  size_t v5_max_records_ = kV5MaxRecords;

  // Sequence numbers.
  uint32_t v5_flow_sequence_ = 0;
  uint32_t v9_packets_ = 0;
  uint32_t ipfix_data_records_ = 0;

  // Refresh state.
  bool templates_sent_ = false;
  bool options_dirty_ = false;
  uint64_t messages_sent_ = 0;
  uint64_t last_refresh_message_ = 0;
  uint64_t last_refresh_ms_ = 0;
  uint64_t session_seen_ = 0;     // the stream the last refresh was written for
  uint64_t sequence_stream_ = 0;  // the stream ipfix_data_records_ counts

  // Options data.
  std::vector<InterfaceName> interfaces_;
  bool sampling_set_ = false;
  uint32_t sampling_interval_ = 1;
  SamplingAlgorithm sampling_algorithm_ = SamplingAlgorithm::kRandom;
  uint32_t last_record_rate_ = 1;
};

// Fans flows out to several exporters (one per collector). A collector whose transport fails
// only counts errors in its own exporter; the others go on as usual.
class ExporterSet final : public FlowRecordSink {
 public:
  // Not owned; each must outlive the set.
  explicit ExporterSet(std::vector<FlowExporter*> exporters);

  void OnFlow(const FlowRecord& record) override;
  void SetTime(uint64_t now_unix_ms);
  void Tick(uint64_t now_unix_ms);
  void Flush(uint64_t now_unix_ms);
  void SetInterfaceNames(const std::vector<InterfaceName>& names);
  void SetSampling(uint32_t interval, SamplingAlgorithm algorithm);
  // Control plane (reload): one exporter more or less; the others are not touched.
  void Add(FlowExporter* exporter) { exporters_.push_back(exporter); }
  void Remove(const FlowExporter* exporter);

  const std::vector<FlowExporter*>& exporters() const { return exporters_; }

 private:
  std::vector<FlowExporter*> exporters_;
};

}  // namespace xflowd::exporter::netflow
