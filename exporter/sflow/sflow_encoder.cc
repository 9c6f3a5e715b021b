#include "exporter/sflow/sflow_encoder.h"

#include <cassert>
#include <variant>

namespace xflowd::exporter::sflow {
namespace {

// Every sample and record starts with (data_format, length); the length counts the body only.
constexpr size_t kTagLenBytes = 8;
// XDR string<255> in the port name record: longer names are cut rather than emitting a record
// that a strict collector rejects.
constexpr size_t kMaxPortNameBytes = 255;
// Largest values the compact forms can carry: source_id = type:8 | index:24 and
// interface = format:2 | value:30.
constexpr uint32_t kMaxCompactType = 0xFF;
constexpr uint32_t kMaxCompactIndex = 0x00FFFFFF;
constexpr uint32_t kMaxCompactIfFormat = 0x3;
constexpr uint32_t kMaxCompactIfValue = 0x3FFFFFFF;

constexpr size_t Pad4(size_t n) { return (n + 3) & ~size_t{3}; }

// XDR address union: type (0 unknown, 1 IPv4, 2 IPv6) then 0, 4 or 16 bytes.
uint32_t AddressType(const IpAddress& a) { return a.is_v4() ? 1 : a.is_v6() ? 2 : 0; }
size_t AddressSize(const IpAddress& a) { return 4 + a.size(); }
void PutAddress(const IpAddress& a, ByteWriter& w) {
  w.U32(AddressType(a));
  w.Bytes(a.bytes(), a.size());
}

// XDR opaque<> / string<>: length, bytes, zeros up to the next 4-byte boundary.
size_t OpaqueSize(ByteView v) { return 4 + Pad4(v.size()); }
void PutOpaque(ByteView v, ByteWriter& w) {
  w.U32(static_cast<uint32_t>(v.size()));
  w.Bytes(v);
  w.Zeros(Pad4(v.size()) - v.size());
}

// A MAC is opaque[6]: XDR pads fixed-length opaques too, so it takes 8 bytes.
void PutMac(const uint8_t (&mac)[6], ByteWriter& w) {
  w.Bytes(mac, 6);
  w.Zeros(2);
}

ByteView ClampedPortName(const PortName& p) { return p.name.Subview(0, kMaxPortNameBytes); }

// ---- flow records: format, body size, body ----
// Body sizes are written out per type (not derived from sizeof) because the wire layout is
// fixed by the spec, not by our struct layout.

uint32_t Format(const SampledHeader&) { return kSampledHeaderFormat; }
uint32_t Format(const SampledEthernet&) { return kSampledEthernetFormat; }
uint32_t Format(const SampledIpv4&) { return kSampledIpv4Format; }
uint32_t Format(const SampledIpv6&) { return kSampledIpv6Format; }
uint32_t Format(const ExtendedSwitch&) { return kExtendedSwitchFormat; }
uint32_t Format(const ExtendedRouter&) { return kExtendedRouterFormat; }
uint32_t Format(const ExtendedGateway&) { return kExtendedGatewayFormat; }
uint32_t Format(const ExtendedTimestamp&) { return kExtendedTimestampFormat; }

size_t BodySize(const SampledHeader& r) { return 12 + OpaqueSize(r.header); }
size_t BodySize(const SampledEthernet&) { return 4 + 8 + 8 + 4; }
size_t BodySize(const SampledIpv4&) { return 4 + 4 + 4 + 4 + 4 * 4; }
size_t BodySize(const SampledIpv6&) { return 4 + 4 + 16 + 16 + 4 * 4; }
size_t BodySize(const ExtendedSwitch&) { return 4 * 4; }
size_t BodySize(const ExtendedRouter& r) { return AddressSize(r.next_hop) + 8; }
size_t BodySize(const ExtendedGateway& r) {
  size_t n = AddressSize(r.next_hop) + 12 + 4;
  const uint32_t segments = r.dst_as_path ? r.dst_as_path_count : 0;
  for (uint32_t i = 0; i < segments; ++i) {
    const AsPathSegment& s = r.dst_as_path[i];
    n += 8 + 4 * size_t{s.as_numbers ? s.count : 0};
  }
  n += 4 + 4 * size_t{r.communities ? r.community_count : 0};
  return n + 4;
}
size_t BodySize(const ExtendedTimestamp&) { return 8; }

void PutBody(const SampledHeader& r, ByteWriter& w) {
  w.U32(r.protocol);
  w.U32(r.frame_length);
  w.U32(r.stripped);
  PutOpaque(r.header, w);
}
void PutBody(const SampledEthernet& r, ByteWriter& w) {
  w.U32(r.length);
  PutMac(r.src_mac, w);
  PutMac(r.dst_mac, w);
  w.U32(r.type);
}
void PutBody(const SampledIpv4& r, ByteWriter& w) {
  w.U32(r.length);
  w.U32(r.protocol);
  w.Bytes(r.src_ip, 4);
  w.Bytes(r.dst_ip, 4);
  w.U32(r.src_port);
  w.U32(r.dst_port);
  w.U32(r.tcp_flags);
  w.U32(r.tos);
}
void PutBody(const SampledIpv6& r, ByteWriter& w) {
  w.U32(r.length);
  w.U32(r.protocol);
  w.Bytes(r.src_ip, 16);
  w.Bytes(r.dst_ip, 16);
  w.U32(r.src_port);
  w.U32(r.dst_port);
  w.U32(r.tcp_flags);
  w.U32(r.priority);
}
void PutBody(const ExtendedSwitch& r, ByteWriter& w) {
  w.U32(r.src_vlan);
  w.U32(r.src_priority);
  w.U32(r.dst_vlan);
  w.U32(r.dst_priority);
}
void PutBody(const ExtendedRouter& r, ByteWriter& w) {
  PutAddress(r.next_hop, w);
  w.U32(r.src_mask_len);
  w.U32(r.dst_mask_len);
}
void PutBody(const ExtendedGateway& r, ByteWriter& w) {
  PutAddress(r.next_hop, w);
  w.U32(r.as);
  w.U32(r.src_as);
  w.U32(r.src_peer_as);
  const uint32_t segments = r.dst_as_path ? r.dst_as_path_count : 0;
  w.U32(segments);
  for (uint32_t i = 0; i < segments; ++i) {
    const AsPathSegment& s = r.dst_as_path[i];
    const uint32_t count = s.as_numbers ? s.count : 0;
    w.U32(s.type);
    w.U32(count);
    for (uint32_t j = 0; j < count; ++j) w.U32(s.as_numbers[j]);
  }
  const uint32_t communities = r.communities ? r.community_count : 0;
  w.U32(communities);
  for (uint32_t i = 0; i < communities; ++i) w.U32(r.communities[i]);
  w.U32(r.local_pref);
}
void PutBody(const ExtendedTimestamp& r, ByteWriter& w) { w.U64(r.nanoseconds); }

// ---- counter records ----

uint32_t Format(const GenericInterfaceCounters&) { return kGenericInterfaceFormat; }
uint32_t Format(const EthernetInterfaceCounters&) { return kEthernetInterfaceFormat; }
uint32_t Format(const VlanCounters&) { return kVlanFormat; }
uint32_t Format(const ProcessorCounters&) { return kProcessorFormat; }
uint32_t Format(const PortName&) { return kPortNameFormat; }

size_t BodySize(const GenericInterfaceCounters&) { return 88; }
size_t BodySize(const EthernetInterfaceCounters&) { return 13 * 4; }
size_t BodySize(const VlanCounters&) { return 4 + 8 + 4 * 4; }
size_t BodySize(const ProcessorCounters&) { return 3 * 4 + 8 + 8; }
size_t BodySize(const PortName& r) { return OpaqueSize(ClampedPortName(r)); }

void PutBody(const GenericInterfaceCounters& r, ByteWriter& w) {
  w.U32(r.if_index);
  w.U32(r.if_type);
  w.U64(r.if_speed);
  w.U32(r.if_direction);
  w.U32(r.if_status);
  w.U64(r.in_octets);
  w.U32(r.in_ucast_pkts);
  w.U32(r.in_multicast_pkts);
  w.U32(r.in_broadcast_pkts);
  w.U32(r.in_discards);
  w.U32(r.in_errors);
  w.U32(r.in_unknown_protos);
  w.U64(r.out_octets);
  w.U32(r.out_ucast_pkts);
  w.U32(r.out_multicast_pkts);
  w.U32(r.out_broadcast_pkts);
  w.U32(r.out_discards);
  w.U32(r.out_errors);
  w.U32(r.promiscuous_mode);
}
void PutBody(const EthernetInterfaceCounters& r, ByteWriter& w) {
  w.U32(r.alignment_errors);
  w.U32(r.fcs_errors);
  w.U32(r.single_collision_frames);
  w.U32(r.multiple_collision_frames);
  w.U32(r.sqe_test_errors);
  w.U32(r.deferred_transmissions);
  w.U32(r.late_collisions);
  w.U32(r.excessive_collisions);
  w.U32(r.internal_mac_transmit_errors);
  w.U32(r.carrier_sense_errors);
  w.U32(r.frame_too_longs);
  w.U32(r.internal_mac_receive_errors);
  w.U32(r.symbol_errors);
}
void PutBody(const VlanCounters& r, ByteWriter& w) {
  w.U32(r.vlan_id);
  w.U64(r.octets);
  w.U32(r.ucast_pkts);
  w.U32(r.multicast_pkts);
  w.U32(r.broadcast_pkts);
  w.U32(r.discards);
}
void PutBody(const ProcessorCounters& r, ByteWriter& w) {
  w.U32(r.cpu_5s);
  w.U32(r.cpu_1m);
  w.U32(r.cpu_5m);
  w.U64(r.total_memory);
  w.U64(r.free_memory);
}
void PutBody(const PortName& r, ByteWriter& w) { PutOpaque(ClampedPortName(r), w); }

// ---- records, generic over both variants ----

template <typename Variant>
size_t RecordSize(const Variant& v) {
  return kTagLenBytes + std::visit([](const auto& r) { return BodySize(r); }, v);
}

template <typename Variant>
void PutRecord(const Variant& v, ByteWriter& w) {
  std::visit(
      [&w](const auto& r) {
        w.U32(Format(r));
        w.U32(static_cast<uint32_t>(BodySize(r)));
        PutBody(r, w);
      },
      v);
}

// A null array with a non-zero count is treated as empty rather than dereferenced.
template <typename Record>
uint32_t Count(const Record* records, uint32_t count) {
  return records ? count : 0;
}

template <typename Record>
size_t RecordsSize(const Record* records, uint32_t count) {
  size_t n = 4;  // record count
  for (uint32_t i = 0; i < count; ++i) n += RecordSize(records[i]);
  return n;
}

template <typename Record>
void PutRecords(const Record* records, uint32_t count, ByteWriter& w) {
  w.U32(count);
  for (uint32_t i = 0; i < count; ++i) PutRecord(records[i], w);
}

// ---- samples ----
// The compact forms cannot carry a type >= 2^8, an index >= 2^24, an interface format >= 4 or
// an interface value >= 2^30. Rather than truncate (and report the wrong port), such samples go
// out in the expanded form, which every sFlow v5 collector must accept.

bool FitsCompact(const DataSource& s) {
  return s.type <= kMaxCompactType && s.index <= kMaxCompactIndex;
}
bool FitsCompact(const Interface& i) {
  return i.format <= kMaxCompactIfFormat && i.value <= kMaxCompactIfValue;
}
uint32_t CompactSource(const DataSource& s) { return (s.type << 24) | s.index; }
uint32_t CompactInterface(const Interface& i) { return (i.format << 30) | i.value; }

bool IsExpanded(const FlowSample& s) {
  return s.expanded || !FitsCompact(s.source) || !FitsCompact(s.input) || !FitsCompact(s.output);
}
bool IsExpanded(const CounterSample& s) { return s.expanded || !FitsCompact(s.source); }

uint32_t Format(const FlowSample& s) { return IsExpanded(s) ? kFlowSampleExpanded : kFlowSample; }
uint32_t Format(const CounterSample& s) {
  return IsExpanded(s) ? kCounterSampleExpanded : kCounterSample;
}
uint32_t Format(const DiscardSample&) { return kDiscardSample; }

size_t BodySize(const FlowSample& s) {
  // seq, source (1 or 2 words), rate, pool, drops, input and output (1 or 2 words each).
  const size_t fixed = IsExpanded(s) ? 10 * 4 : 7 * 4;
  return fixed + RecordsSize(s.records, Count(s.records, s.record_count));
}
size_t BodySize(const CounterSample& s) {
  const size_t fixed = IsExpanded(s) ? 3 * 4 : 2 * 4;
  return fixed + RecordsSize(s.records, Count(s.records, s.record_count));
}
size_t BodySize(const DiscardSample& s) {
  // seq, source type, source index, drops, input, output, reason.
  return 7 * 4 + RecordsSize(s.records, Count(s.records, s.record_count));
}

void PutBody(const FlowSample& s, ByteWriter& w) {
  const bool expanded = IsExpanded(s);
  w.U32(s.sequence);
  if (expanded) {
    w.U32(s.source.type);
    w.U32(s.source.index);
  } else {
    w.U32(CompactSource(s.source));
  }
  w.U32(s.sampling_rate);
  w.U32(s.sample_pool);
  w.U32(s.drops);
  if (expanded) {
    w.U32(s.input.format);
    w.U32(s.input.value);
    w.U32(s.output.format);
    w.U32(s.output.value);
  } else {
    w.U32(CompactInterface(s.input));
    w.U32(CompactInterface(s.output));
  }
  PutRecords(s.records, Count(s.records, s.record_count), w);
}
void PutBody(const CounterSample& s, ByteWriter& w) {
  w.U32(s.sequence);
  if (IsExpanded(s)) {
    w.U32(s.source.type);
    w.U32(s.source.index);
  } else {
    w.U32(CompactSource(s.source));
  }
  PutRecords(s.records, Count(s.records, s.record_count), w);
}
void PutBody(const DiscardSample& s, ByteWriter& w) {
  w.U32(s.sequence);
  w.U32(s.source.type);
  w.U32(s.source.index);
  w.U32(s.drops);
  w.U32(s.input);
  w.U32(s.output);
  w.U32(s.reason);
  PutRecords(s.records, Count(s.records, s.record_count), w);
}

// Sizes first, then writes: the length words are known before the body is written (no patching)
// and a sample that cannot fit is refused before a single byte lands in the datagram.
template <typename Sample>
bool EncodeSample(const Sample& s, ByteWriter& w) {
  if (w.overflowed()) return false;
  const size_t body = BodySize(s);
  if (w.remaining() < kTagLenBytes + body) return false;
  const size_t start = w.size();
  w.U32(Format(s));
  w.U32(static_cast<uint32_t>(body));
  PutBody(s, w);
  if (w.overflowed()) {  // unreachable while BodySize is exact; never leave half a sample
    w.Truncate(start);
    return false;
  }
  assert(w.size() - start == kTagLenBytes + body);
  return true;
}

// Offsets of the fields Finish() patches, counted back from the end of the header.
constexpr size_t kSequenceFromEnd = 12;
constexpr size_t kUptimeFromEnd = 8;
constexpr size_t kSampleCountFromEnd = 4;

}  // namespace

size_t EncodedSize(const FlowRecord& record) { return RecordSize(record); }
size_t EncodedSize(const CounterRecord& record) { return RecordSize(record); }
size_t EncodedSize(const FlowSample& sample) { return kTagLenBytes + BodySize(sample); }
size_t EncodedSize(const CounterSample& sample) { return kTagLenBytes + BodySize(sample); }
size_t EncodedSize(const DiscardSample& sample) { return kTagLenBytes + BodySize(sample); }

size_t DatagramHeaderSize(const IpAddress& agent_address) {
  // version, agent address, sub_agent_id, sequence, uptime, sample count.
  return 4 + AddressSize(agent_address) + 4 * 4;
}

bool Encode(const FlowSample& sample, ByteWriter& w) { return EncodeSample(sample, w); }
bool Encode(const CounterSample& sample, ByteWriter& w) { return EncodeSample(sample, w); }
bool Encode(const DiscardSample& sample, ByteWriter& w) { return EncodeSample(sample, w); }

DatagramBuilder::DatagramBuilder(uint8_t* buffer, size_t capacity, const IpAddress& agent_address,
                                 uint32_t sub_agent_id)
    : w_(buffer, capacity), agent_address_(agent_address), sub_agent_id_(sub_agent_id) {
  Reset();
}

void DatagramBuilder::Reset() {
  w_.Reset();
  count_ = 0;
  w_.U32(kVersion5);
  PutAddress(agent_address_, w_);
  w_.U32(sub_agent_id_);
  w_.U32(0);  // sequence, uptime and sample count: filled in by Finish()
  w_.U32(0);
  w_.U32(0);
}

bool DatagramBuilder::Add(const FlowSample& sample) {
  if (!Encode(sample, w_)) return false;
  ++count_;
  return true;
}

bool DatagramBuilder::Add(const CounterSample& sample) {
  if (!Encode(sample, w_)) return false;
  ++count_;
  return true;
}

bool DatagramBuilder::Add(const DiscardSample& sample) {
  if (!Encode(sample, w_)) return false;
  ++count_;
  return true;
}

hal::base::ByteView DatagramBuilder::Finish(uint32_t sequence, uint32_t uptime_ms) {
  // PatchU32 ignores offsets past what was written, so a builder whose buffer was too small
  // for the header (overflowed in Reset) returns a short, unpatched view instead of crashing.
  const size_t header = DatagramHeaderSize(agent_address_);
  w_.PatchU32(header - kSequenceFromEnd, sequence);
  w_.PatchU32(header - kUptimeFromEnd, uptime_ms);
  w_.PatchU32(header - kSampleCountFromEnd, count_);
  return w_.view();
}

}  // namespace xflowd::exporter::sflow
