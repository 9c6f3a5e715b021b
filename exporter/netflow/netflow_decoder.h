// Strict NetFlow v5 / v9 (RFC 3954) / IPFIX (RFC 7011) message decoder for tests and tools
// (round trips, xflowdump, interop checks). Not on the agent's data path: results own their
// memory and nothing points back into the message.
//
// Templates (and the sampling interval from options data) are cached per (version, source id /
// observation domain) across Decode() calls, like a collector. Strict: every read is bounds
// checked; truncated messages, set lengths that overrun, reserved set ids, template ids below
// 256, zero-length templates, a v9 header count that disagrees with the records, an IPFIX
// length that disagrees with the message, and a v5 size that disagrees with its count are
// rejected with InvalidArgument "offset N: ...". A data set whose template is unknown is
// skipped and counted (a collector that joined late), not an error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "exporter/netflow/flow_record.h"
#include "exporter/netflow/netflow_encoder.h"
#include "hal/base/byte_view.h"
#include "hal/base/status.h"

namespace xflowd::exporter::netflow {

struct DecodedTemplate {
  uint16_t id = 0;
  bool options = false;
  uint16_t scope_count = 0;  // leading scope fields (options templates)
  std::vector<FieldSpec> fields;
  std::vector<uint32_t> enterprises;  // per field; 0 = IANA (IPFIX enterprise bit clear)
  bool withdrawal = false;            // IPFIX template withdrawal (field count 0)
};

struct DecodedFlow {
  uint16_t template_id = 0;  // 0 for v5
  // Fields the message carried, the rest default. first_ms/last_ms: IPFIX flowStart/End
  // milliseconds as sent; v5/v9: Unix ms derived from the header (unix_secs * 1000 -
  // sysUptime + FIRST/LAST_SWITCHED). sampling_rate: v5 header interval; v9/IPFIX the
  // samplingInterval of the latest options data from this source, else 1.
  FlowRecord record;
  bool has_uptime = false;  // v5/v9: the raw sysUptime-relative times below are valid
  uint32_t first_uptime_ms = 0;
  uint32_t last_uptime_ms = 0;
};

struct DecodedOptionValue {
  uint16_t type = 0;  // v9 scope fields: RFC 3954 scope type; otherwise field type / IE id
  bool scope = false;
  std::vector<uint8_t> value;
  uint64_t AsUint() const;       // big-endian, the last 8 bytes if longer
  std::string AsString() const;  // up to the first NUL
};

struct DecodedOptionsRecord {
  uint16_t template_id = 0;
  std::vector<DecodedOptionValue> values;  // template order, scope fields first
  // The first value of `type` (with the given scope flag), or nullptr.
  const DecodedOptionValue* Find(uint16_t type, bool scope = false) const;
};

struct DecodedMessage {
  Version version = Version::kIpfix;
  uint16_t count = 0;          // v5/v9 header count
  uint16_t length = 0;         // IPFIX header length
  uint32_t sys_uptime_ms = 0;  // v5/v9
  uint32_t unix_secs = 0;      // v5/v9 header time; IPFIX export time
  uint32_t unix_nsecs = 0;     // v5
  uint32_t sequence = 0;
  uint32_t source_id = 0;                     // v9 source id / IPFIX observation domain
  uint8_t engine_type = 0;                    // v5
  uint8_t engine_id = 0;                      // v5
  uint16_t sampling_field = 0;                // v5 raw: mode << 14 | interval
  std::vector<DecodedTemplate> templates;     // template and options template records, in order
  std::vector<DecodedFlow> flows;             // data records of data templates
  std::vector<DecodedOptionsRecord> options;  // data records of options templates
  uint32_t record_count = 0;                  // every record decoded (templates included)
  uint32_t data_record_count = 0;             // flows + options data records
  uint32_t skipped_sets = 0;                  // data sets with an unknown template
  std::vector<uint16_t> set_ids;              // every set/FlowSet id in order (for tests)
};

class NetflowDecoder {
 public:
  // Decodes one message (a UDP payload or one IPFIX message from a stream).
  hal::base::Result<DecodedMessage> Decode(hal::base::ByteView message);

  size_t template_count() const { return templates_.size(); }
  // A cached template, or nullptr.
  const DecodedTemplate* FindTemplate(Version v, uint32_t source_id, uint16_t id) const;

  static constexpr size_t kMaxTemplates = 4096;

 private:
  using Key = std::tuple<uint16_t, uint32_t, uint16_t>;  // version, source, template id
  hal::base::Status DecodeV5(hal::base::ByteView m, DecodedMessage* out);
  hal::base::Status DecodeV9OrIpfix(hal::base::ByteView m, DecodedMessage* out);
  hal::base::Status DecodeTemplateSet(hal::base::ByteView m, size_t begin, size_t end, bool options,
                                      DecodedMessage* out);
  hal::base::Status DecodeDataSet(hal::base::ByteView m, size_t begin, size_t end,
                                  const DecodedTemplate& t, DecodedMessage* out);

  std::map<Key, DecodedTemplate> templates_;
  std::map<std::pair<uint16_t, uint32_t>, uint32_t> sampling_;  // (version, source) -> interval
};

}  // namespace xflowd::exporter::netflow
