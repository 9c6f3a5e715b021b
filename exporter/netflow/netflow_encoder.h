// NetFlow v5, NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) encoding into a caller-owned buffer.
// Big-endian throughout. Nothing here allocates; every size is known before a byte is written,
// so the exporter decides to send a message *before* a record would overflow it.
//
// The templates are fixed tables (below): a record picks one by IP version and protocol, and an
// exporter whose flow key has MACs or the top MPLS entry appends their fields (KeyFields). Field
// numbers are shared by v9 and IPFIX (IANA "IPFIX Information Elements"; v9 types < 128 are the
// same numbers), except where noted; v9 options templates use the RFC 3954 scope types.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "exporter/netflow/flow_record.h"
#include "hal/base/byte_view.h"

namespace xflowd::exporter::netflow {

using hal::base::ByteView;
using hal::base::ByteWriter;

enum class Version : uint16_t { kV5 = 5, kV9 = 9, kIpfix = 10 };

// Field types / Information Element ids used by our templates and understood by the decoder.
namespace field {
constexpr uint16_t kBytes = 1;                // IN_BYTES / octetDeltaCount
constexpr uint16_t kPackets = 2;              // IN_PKTS / packetDeltaCount
constexpr uint16_t kProtocol = 4;             // PROTOCOL / protocolIdentifier
constexpr uint16_t kTos = 5;                  // SRC_TOS / ipClassOfService
constexpr uint16_t kTcpFlags = 6;             // TCP_FLAGS (1 byte in v9) / tcpControlBits (2)
constexpr uint16_t kSrcPort = 7;              // L4_SRC_PORT / sourceTransportPort
constexpr uint16_t kSrcIpv4 = 8;              // IPV4_SRC_ADDR / sourceIPv4Address
constexpr uint16_t kInputIf = 10;             // INPUT_SNMP / ingressInterface
constexpr uint16_t kDstPort = 11;             // L4_DST_PORT / destinationTransportPort
constexpr uint16_t kDstIpv4 = 12;             // IPV4_DST_ADDR / destinationIPv4Address
constexpr uint16_t kOutputIf = 14;            // OUTPUT_SNMP / egressInterface
constexpr uint16_t kLastSwitched = 21;        // v9 LAST_SWITCHED: sysUptime ms of the last packet
constexpr uint16_t kFirstSwitched = 22;       // v9 FIRST_SWITCHED
constexpr uint16_t kSrcIpv6 = 27;             // IPV6_SRC_ADDR / sourceIPv6Address
constexpr uint16_t kDstIpv6 = 28;             // IPV6_DST_ADDR / destinationIPv6Address
constexpr uint16_t kIcmpType = 32;            // ICMP_TYPE / icmpTypeCodeIPv4: type * 256 + code
constexpr uint16_t kSamplingInterval = 34;    // SAMPLING_INTERVAL / samplingInterval
constexpr uint16_t kSamplingAlgorithm = 35;   // 1 = deterministic, 2 = random
constexpr uint16_t kTotalFlowsExp = 42;       // TOTAL_FLOWS_EXP / exportedFlowRecordTotalCount
constexpr uint16_t kSrcMac = 56;              // IN_SRC_MAC / sourceMacAddress
constexpr uint16_t kVlan = 58;                // SRC_VLAN / vlanId (outer VLAN)
constexpr uint16_t kIpVersion = 60;           // IP_PROTOCOL_VERSION / ipVersion
constexpr uint16_t kMplsTopLabel = 70;        // MPLS_LABEL_1 / mplsTopLabelStackSection: 3 bytes
constexpr uint16_t kDstMac = 80;              // IN_DST_MAC / destinationMacAddress
constexpr uint16_t kIfName = 82;              // IF_NAME / interfaceName
constexpr uint16_t kIcmpTypeV6 = 139;         // icmpTypeCodeIPv6 (IPFIX only)
constexpr uint16_t kEndReason = 136;          // flowEndReason (IPFIX only)
constexpr uint16_t kObservationDomain = 149;  // observationDomainId (IPFIX options scope)
constexpr uint16_t kFlowStartMs = 152;        // flowStartMilliseconds (IPFIX, Unix ms)
constexpr uint16_t kFlowEndMs = 153;          // flowEndMilliseconds
constexpr uint16_t kSystemInitMs = 160;       // systemInitTimeMilliseconds (IPFIX)
constexpr uint16_t kNotSentFlows = 166;       // notSentFlowTotalCount (IPFIX)
constexpr uint16_t kCustomerVlan = 245;       // dot1qCustomerVlanId (QinQ inner VLAN)
// RFC 5477 (PSAMP) selector description, IPFIX only.
constexpr uint16_t kSelectorAlgorithm = 304;   // 1 = systematic count-based, 3 = random n-of-N
constexpr uint16_t kSamplingSize = 309;        // n of random n-out-of-N
constexpr uint16_t kSamplingPopulation = 310;  // N of random n-out-of-N
// RFC 3954 section 6.1 options scope types (v9 options templates only).
constexpr uint16_t kScopeSystem = 1;
constexpr uint16_t kScopeInterface = 2;
}  // namespace field

// The numeric information elements of a data record and the FlowRecord member each carries,
// listed once: the encoder writes the member, the decoder sets it. Calls fn(member) and
// returns true for those; false for any other element (addresses, MACs, MPLS and times, which
// each side converts itself). `Record` is FlowRecord, const or not. Inline: the encoder's
// per-record loop compiles to the same switch it would write by hand.
template <typename Record, typename Fn>
inline bool VisitNumericElement(uint16_t ie, Record& r, Fn&& fn) {
  switch (ie) {
    case field::kBytes:
      fn(r.bytes);
      return true;
    case field::kPackets:
      fn(r.packets);
      return true;
    case field::kProtocol:
      fn(r.key.protocol);
      return true;
    case field::kTos:
      fn(r.key.tos);
      return true;
    case field::kTcpFlags:
      fn(r.tcp_flags);
      return true;
    case field::kSrcPort:
      fn(r.key.src_port);
      return true;
    case field::kDstPort:
    case field::kIcmpType:  // ICMP type * 256 + code travels in the destination port
    case field::kIcmpTypeV6:
      fn(r.key.dst_port);
      return true;
    case field::kInputIf:
      fn(r.key.input_ifindex);
      return true;
    case field::kOutputIf:
      fn(r.key.output_ifindex);
      return true;
    case field::kVlan:
      fn(r.key.vlan_outer);
      return true;
    case field::kCustomerVlan:
      fn(r.key.vlan_inner);
      return true;
    case field::kIpVersion:
      fn(r.key.ip_version);
      return true;
    case field::kEndReason:
      fn(r.end_reason);
      return true;
    default:
      return false;
  }
}

struct FieldSpec {
  uint16_t type;
  uint16_t length;  // bytes; 65535 = variable length (IPFIX, decoder only)
};
constexpr uint16_t kVariableLength = 65535;

// Template ids (>= 256). Data templates by record kind, then the two options templates.
enum class TemplateKind : uint8_t { kIpv4 = 0, kIpv6 = 1, kIcmpv4 = 2, kIcmpv6 = 3 };
constexpr int kDataTemplateCount = 4;
constexpr uint16_t kTemplateIdIpv4 = 256;
constexpr uint16_t kTemplateIdIpv6 = 257;
constexpr uint16_t kTemplateIdIcmpv4 = 258;
constexpr uint16_t kTemplateIdIcmpv6 = 259;
constexpr uint16_t kTemplateIdSystemOptions = 260;     // sampling, system init, counters
constexpr uint16_t kTemplateIdInterfaceOptions = 261;  // ifindex -> interface name

// Set / FlowSet ids.
constexpr uint16_t kV9TemplateSetId = 0;
constexpr uint16_t kV9OptionsTemplateSetId = 1;
constexpr uint16_t kIpfixTemplateSetId = 2;
constexpr uint16_t kIpfixOptionsTemplateSetId = 3;

constexpr size_t kV5HeaderSize = 24;
constexpr size_t kV5RecordSize = 48;
constexpr size_t kV5MaxRecords = 30;
constexpr size_t kV9HeaderSize = 20;
constexpr size_t kIpfixHeaderSize = 16;
constexpr size_t kSetHeaderSize = 4;
// interfaceName / IF_NAME is sent fixed-length, NUL padded (v9 has no variable length).
constexpr size_t kIfNameBytes = 32;

struct TemplateSpec {
  uint16_t id;
  uint16_t scope_count;  // leading fields that are scope fields (options templates), else 0
  const FieldSpec* fields;
  uint16_t field_count;
  uint16_t record_length;  // bytes of one data record
};

// Optional flow key parts the data templates carry, appended after the fixed fields: source and
// destination MAC (6 bytes each), the top MPLS label stack entry without its TTL (3 bytes: label,
// TC, S). Set them as the flow key is set, or records that differ only in them look alike.
struct KeyFields {
  bool macs = false;
  bool mpls = false;
};

// v9 or IPFIX. The reference stays valid for the life of the program.
const TemplateSpec& DataTemplate(Version v, TemplateKind kind, KeyFields key = KeyFields());
const TemplateSpec& SystemOptionsTemplate(Version v);
const TemplateSpec& InterfaceOptionsTemplate(Version v);

// The data template a record uses: by key.ip_version, ICMP (protocol 1 with IPv4, 58 with IPv6)
// or not. False if the record has no IP version 4 or 6.
bool TemplateKindOf(const FlowRecord& record, TemplateKind* kind);

// Milliseconds since system init, as v5/v9 sysUptime-relative timestamps: 0 before init,
// modulo 2^32 after (about 49.7 days, as on the wire).
uint32_t UptimeMs(uint64_t unix_ms, uint64_t system_init_unix_ms);

// Bytes of a template record (template or options template) in its set, without set header.
size_t TemplateRecordSize(Version v, const TemplateSpec& t);
void WriteTemplateRecord(Version v, const TemplateSpec& t, ByteWriter& w);
// Writes exactly t.record_length bytes.
void WriteDataRecord(Version v, const TemplateSpec& t, const FlowRecord& r,
                     uint64_t system_init_unix_ms, ByteWriter& w);

// Values of the system options record (template kTemplateIdSystemOptions). The sampling is
// described twice: SAMPLING_INTERVAL / samplingInterval and SAMPLING_ALGORITHM /
// samplingAlgorithm (what v9 collectors, nfdump and pmacct read), and, IPFIX only, the RFC 5477
// selector derived from them: random -> selectorAlgorithm 3 (random n-out-of-N) with
// samplingSize 1 and samplingPopulation = the interval; deterministic -> 1 (systematic
// count-based), the same size and population.
struct SystemOptionsValues {
  uint32_t scope_id = 0;             // v9 System scope / IPFIX observationDomainId
  uint64_t system_init_unix_ms = 0;  // IPFIX only
  uint32_t sampling_interval = 1;
  uint8_t sampling_algorithm = 1;  // 1 = deterministic, 2 = random
  uint64_t exported_flows = 0;
  uint64_t not_sent_flows = 0;  // IPFIX only
};
void WriteSystemOptionsRecord(Version v, const SystemOptionsValues& values, ByteWriter& w);
// Names longer than kIfNameBytes are cut; shorter ones are NUL padded.
void WriteInterfaceOptionsRecord(Version v, uint32_t ifindex, std::string_view name, ByteWriter& w);

// ---- NetFlow v5 ----
struct V5Header {
  uint16_t count = 0;
  uint32_t sys_uptime_ms = 0;
  uint32_t unix_secs = 0;
  uint32_t unix_nsecs = 0;
  uint32_t flow_sequence = 0;
  uint8_t engine_type = 0;
  uint8_t engine_id = 0;
  uint16_t sampling_interval = 0;  // raw: mode << 14 | interval
};
void WriteV5Header(const V5Header& h, ByteWriter& w);
// The v5 header field for a 1-in-rate sampler: 0 when unsampled, else mode 01 (packet
// interval) with the rate clamped to 14 bits.
uint16_t V5SamplingField(uint32_t sampling_rate);
// What was cut to fit v5's 16/32-bit fields.
struct V5Clamps {
  bool counters = false;  // packets or bytes > 2^32 - 1
  bool ifindex = false;   // an ifindex > 65535
};
// Writes one 48-byte record; the caller has checked the record is IPv4.
V5Clamps WriteV5Record(const FlowRecord& r, uint64_t system_init_unix_ms, ByteWriter& w);

// ---- v9 / IPFIX message builder ----
// Builds one v9 or IPFIX message in a buffer of `capacity` bytes: header, then sets of records.
// Consecutive records with the same set id share a set. Sets are padded to 4 bytes (RFC 3954
// section 5.3; optional in IPFIX, RFC 7011 section 3.3.1, but pmacct needs it). The final size,
// padding included, never exceeds the capacity.
class MessageBuilder {
 public:
  // The buffer must outlive the builder. capacity >= header + one set with one record.
  MessageBuilder(Version v, uint8_t* buffer, size_t capacity);

  // Start an empty message (header placeholder).
  void Reset();
  // Opens (or continues) a set with `set_id` for one record of `length` bytes. False, and
  // nothing written, if the message would then exceed the capacity. After true, write exactly
  // `length` bytes to writer() and call EndRecord().
  bool BeginRecord(uint16_t set_id, size_t length);
  ByteWriter& writer() { return w_; }
  void EndRecord(bool data_record);
  // Closes the open set: the next record starts a set of its own even with the same set id.
  void EndSet() { CloseSet(); }

  bool empty() const { return records_ == 0; }
  uint32_t record_count() const { return records_; }
  uint32_t data_record_count() const { return data_records_; }
  size_t size() const;  // as it would be sent, padding included

  // Closes the last set and fills in the header. v9: sequence = packet sequence, time =
  // sysUptime and unix secs; IPFIX: sequence = data records before, export time. The view is
  // valid until the next Reset().
  ByteView Finish(uint32_t sequence, uint32_t sys_uptime_ms, uint32_t unix_secs,
                  uint32_t source_id);

 private:
  size_t HeaderSize() const;
  void CloseSet();

  Version version_;
  ByteWriter w_;
  size_t set_start_ = 0;  // offset of the open set's header; 0 = none open
  uint16_t set_id_ = 0;
  uint32_t records_ = 0;
  uint32_t data_records_ = 0;
};

}  // namespace xflowd::exporter::netflow
