#include "exporter/sflow/sflow_decoder.h"

#include <cstring>
#include <string>
#include <utility>

namespace xflowd::exporter::sflow {
namespace {

using hal::base::ByteReader;
using hal::base::InvalidArgumentError;
using hal::base::Result;
using hal::base::Status;

constexpr size_t kTagLenBytes = 8;
// XDR address union: type then 0, 4 or 16 bytes.
constexpr uint32_t kAddressUnknown = 0;
constexpr uint32_t kAddressIpv4 = 1;
constexpr uint32_t kAddressIpv6 = 2;
// string<255> of the port name record.
constexpr size_t kMaxPortNameBytes = 255;

// Body sizes of the fixed-size formats (the spec's layout, not sizeof).
constexpr size_t kSampledEthernetBytes = 4 + 8 + 8 + 4;  // MACs are opaque[6], padded to 8
constexpr size_t kSampledIpv4Bytes = 4 + 4 + 4 + 4 + 4 * 4;
constexpr size_t kSampledIpv6Bytes = 4 + 4 + 16 + 16 + 4 * 4;
constexpr size_t kExtendedSwitchBytes = 4 * 4;
constexpr size_t kExtendedTimestampBytes = 8;
constexpr size_t kGenericInterfaceBytes = 88;
constexpr size_t kEthernetInterfaceBytes = 13 * 4;
constexpr size_t kVlanBytes = 4 + 8 + 4 * 4;
constexpr size_t kProcessorBytes = 3 * 4 + 8 + 8;

constexpr size_t Pad4(size_t n) { return (n + 3) & ~size_t{3}; }

std::string At(size_t offset) { return "offset " + std::to_string(offset) + ": "; }

std::string TagString(uint32_t tag) {
  return std::to_string(TagEnterprise(tag)) + ":" + std::to_string(TagFormat(tag));
}

// A ByteReader over one part of the datagram that remembers where it sits in the datagram and
// what it failed to read, so errors name the absolute offset and the field. Like ByteReader,
// after the first failure every read returns zero, so a structure is read whole and checked
// once.
class Cursor {
 public:
  Cursor(ByteView v, size_t base, const char* scope) : r_(v), base_(base), scope_(scope) {}
  // What errors say was truncated (a string literal or a name with static storage).
  void set_scope(const char* scope) { scope_ = scope; }

  bool ok() const { return failed_field_ == nullptr; }
  // Absolute offset in the datagram of the next byte.
  size_t offset() const { return base_ + r_.offset(); }
  size_t remaining() const { return r_.remaining(); }

  uint32_t U32(const char* field) { return Need(4, field) ? r_.U32() : 0; }
  uint64_t U64(const char* field) { return Need(8, field) ? r_.U64() : 0; }
  ByteView Bytes(size_t n, const char* field) { return Need(n, field) ? r_.Bytes(n) : ByteView(); }
  void Skip(size_t n, const char* field) {
    if (Need(n, field)) r_.Skip(n);
  }
  // Copies n bytes into dst (left untouched on failure).
  void Copy(uint8_t* dst, size_t n, const char* field) {
    ByteView b = Bytes(n, field);
    if (ok() && n) std::memcpy(dst, b.data(), n);
  }

  // The truncation error; only meaningful when !ok().
  Status TruncatedError() const {
    return InvalidArgumentError(At(failed_offset_) + scope_ + " truncated: " + failed_field_ +
                                " needs " + std::to_string(failed_need_) + " bytes, " +
                                std::to_string(failed_have_) + " left");
  }

 private:
  bool Need(size_t n, const char* field) {
    if (!ok()) return false;
    if (r_.remaining() < n) {
      failed_field_ = field;
      failed_offset_ = offset();
      failed_need_ = n;
      failed_have_ = r_.remaining();
      return false;
    }
    return true;
  }

  ByteReader r_;
  size_t base_;
  const char* scope_;
  const char* failed_field_ = nullptr;
  size_t failed_offset_ = 0;
  size_t failed_need_ = 0;
  size_t failed_have_ = 0;
};

#define XFLOWD_CURSOR_OK(c)                     \
  do {                                          \
    if (!(c).ok()) return (c).TruncatedError(); \
  } while (0)

// An element count read from the wire must be plausible before we loop or reserve on it: each
// element takes at least `min_bytes`, so a count that cannot fit in what is left is an error
// (and a hostile count of 2^32-1 costs nothing).
Status CheckCount(const Cursor& c, uint32_t count, size_t min_bytes, const char* what,
                  size_t count_offset) {
  if (count > c.remaining() / min_bytes) {
    return InvalidArgumentError(At(count_offset) + what + " " + std::to_string(count) +
                                " cannot fit in the " + std::to_string(c.remaining()) +
                                " bytes left (each takes at least " + std::to_string(min_bytes) +
                                ")");
  }
  return Status::Ok();
}

Status ReadAddress(Cursor& c, const char* field, IpAddress* out) {
  const size_t type_offset = c.offset();
  const uint32_t type = c.U32(field);
  XFLOWD_CURSOR_OK(c);
  uint8_t b[16];
  switch (type) {
    case kAddressUnknown:
      *out = IpAddress();
      return Status::Ok();
    case kAddressIpv4:
      c.Copy(b, 4, field);
      XFLOWD_CURSOR_OK(c);
      *out = IpAddress::V4(b);
      return Status::Ok();
    case kAddressIpv6:
      c.Copy(b, 16, field);
      XFLOWD_CURSOR_OK(c);
      *out = IpAddress::V6(b);
      return Status::Ok();
    default:
      return InvalidArgumentError(At(type_offset) + field + " has type " + std::to_string(type) +
                                  " (expected 0 unknown, 1 IPv4 or 2 IPv6)");
  }
}

// XDR opaque<max>: length, bytes, zero padding to 4. The bytes are returned as a view of the
// datagram (copied by the caller).
Status ReadOpaque(Cursor& c, const char* length_field, const char* field, size_t max,
                  ByteView* out) {
  const size_t len_offset = c.offset();
  const uint32_t len = c.U32(length_field);
  XFLOWD_CURSOR_OK(c);
  if (len > max) {
    return InvalidArgumentError(At(len_offset) + length_field + " " + std::to_string(len) +
                                " exceeds the maximum of " + std::to_string(max));
  }
  if (len > c.remaining()) {
    return InvalidArgumentError(At(len_offset) + length_field + " " + std::to_string(len) +
                                " exceeds the " + std::to_string(c.remaining()) +
                                " bytes left in the record");
  }
  *out = c.Bytes(len, field);
  c.Skip(Pad4(len) - len, "XDR padding");
  XFLOWD_CURSOR_OK(c);
  return Status::Ok();
}

// ---- flow records ----

Status ReadBody(Cursor& c, DecodedSampledHeader* r) {
  r->protocol = c.U32("header_protocol");
  r->frame_length = c.U32("frame_length");
  r->stripped = c.U32("stripped");
  XFLOWD_CURSOR_OK(c);
  ByteView h;
  XFLOWD_RETURN_IF_ERROR(ReadOpaque(c, "header_length", "header bytes", SIZE_MAX, &h));
  r->header.assign(h.begin(), h.end());
  return Status::Ok();
}

Status ReadBody(Cursor& c, SampledEthernet* r) {
  r->length = c.U32("length");
  c.Copy(r->src_mac, 6, "src_mac");
  c.Skip(2, "src_mac padding");
  c.Copy(r->dst_mac, 6, "dst_mac");
  c.Skip(2, "dst_mac padding");
  r->type = c.U32("type");
  XFLOWD_CURSOR_OK(c);
  return Status::Ok();
}

Status ReadBody(Cursor& c, SampledIpv4* r) {
  r->length = c.U32("length");
  r->protocol = c.U32("protocol");
  c.Copy(r->src_ip, 4, "src_ip");
  c.Copy(r->dst_ip, 4, "dst_ip");
  r->src_port = c.U32("src_port");
  r->dst_port = c.U32("dst_port");
  r->tcp_flags = c.U32("tcp_flags");
  r->tos = c.U32("tos");
  XFLOWD_CURSOR_OK(c);
  return Status::Ok();
}

Status ReadBody(Cursor& c, SampledIpv6* r) {
  r->length = c.U32("length");
  r->protocol = c.U32("protocol");
  c.Copy(r->src_ip, 16, "src_ip");
  c.Copy(r->dst_ip, 16, "dst_ip");
  r->src_port = c.U32("src_port");
  r->dst_port = c.U32("dst_port");
  r->tcp_flags = c.U32("tcp_flags");
  r->priority = c.U32("priority");
  XFLOWD_CURSOR_OK(c);
  return Status::Ok();
}

Status ReadBody(Cursor& c, ExtendedSwitch* r) {
  r->src_vlan = c.U32("src_vlan");
  r->src_priority = c.U32("src_priority");
  r->dst_vlan = c.U32("dst_vlan");
  r->dst_priority = c.U32("dst_priority");
  XFLOWD_CURSOR_OK(c);
  return Status::Ok();
}

Status ReadBody(Cursor& c, ExtendedRouter* r) {
  XFLOWD_RETURN_IF_ERROR(ReadAddress(c, "next_hop", &r->next_hop));
  r->src_mask_len = c.U32("src_mask_len");
  r->dst_mask_len = c.U32("dst_mask_len");
  XFLOWD_CURSOR_OK(c);
  return Status::Ok();
}

Status ReadBody(Cursor& c, DecodedExtendedGateway* r) {
  XFLOWD_RETURN_IF_ERROR(ReadAddress(c, "next_hop", &r->next_hop));
  r->as = c.U32("as");
  r->src_as = c.U32("src_as");
  r->src_peer_as = c.U32("src_peer_as");
  size_t count_offset = c.offset();
  const uint32_t segments = c.U32("dst_as_path segment count");
  XFLOWD_CURSOR_OK(c);
  XFLOWD_RETURN_IF_ERROR(CheckCount(c, segments, 8, "dst_as_path segment count", count_offset));
  r->dst_as_path.resize(segments);
  for (DecodedAsPathSegment& s : r->dst_as_path) {
    s.type = c.U32("as_path segment type");
    count_offset = c.offset();
    const uint32_t n = c.U32("as_path segment length");
    XFLOWD_CURSOR_OK(c);
    XFLOWD_RETURN_IF_ERROR(CheckCount(c, n, 4, "as_path segment length", count_offset));
    s.as_numbers.resize(n);
    for (uint32_t& as : s.as_numbers) as = c.U32("as_path AS number");
  }
  count_offset = c.offset();
  const uint32_t communities = c.U32("communities count");
  XFLOWD_CURSOR_OK(c);
  XFLOWD_RETURN_IF_ERROR(CheckCount(c, communities, 4, "communities count", count_offset));
  r->communities.resize(communities);
  for (uint32_t& community : r->communities) community = c.U32("community");
  r->local_pref = c.U32("localpref");
  XFLOWD_CURSOR_OK(c);
  return Status::Ok();
}

Status ReadBody(Cursor& c, ExtendedTimestamp* r) {
  r->nanoseconds = c.U64("nanoseconds");
  XFLOWD_CURSOR_OK(c);
  return Status::Ok();
}

// ---- counter records ----

Status ReadBody(Cursor& c, GenericInterfaceCounters* r) {
  r->if_index = c.U32("ifIndex");
  r->if_type = c.U32("ifType");
  r->if_speed = c.U64("ifSpeed");
  r->if_direction = c.U32("ifDirection");
  r->if_status = c.U32("ifStatus");
  r->in_octets = c.U64("ifInOctets");
  r->in_ucast_pkts = c.U32("ifInUcastPkts");
  r->in_multicast_pkts = c.U32("ifInMulticastPkts");
  r->in_broadcast_pkts = c.U32("ifInBroadcastPkts");
  r->in_discards = c.U32("ifInDiscards");
  r->in_errors = c.U32("ifInErrors");
  r->in_unknown_protos = c.U32("ifInUnknownProtos");
  r->out_octets = c.U64("ifOutOctets");
  r->out_ucast_pkts = c.U32("ifOutUcastPkts");
  r->out_multicast_pkts = c.U32("ifOutMulticastPkts");
  r->out_broadcast_pkts = c.U32("ifOutBroadcastPkts");
  r->out_discards = c.U32("ifOutDiscards");
  r->out_errors = c.U32("ifOutErrors");
  r->promiscuous_mode = c.U32("ifPromiscuousMode");
  XFLOWD_CURSOR_OK(c);
  return Status::Ok();
}

Status ReadBody(Cursor& c, EthernetInterfaceCounters* r) {
  r->alignment_errors = c.U32("dot3StatsAlignmentErrors");
  r->fcs_errors = c.U32("dot3StatsFCSErrors");
  r->single_collision_frames = c.U32("dot3StatsSingleCollisionFrames");
  r->multiple_collision_frames = c.U32("dot3StatsMultipleCollisionFrames");
  r->sqe_test_errors = c.U32("dot3StatsSQETestErrors");
  r->deferred_transmissions = c.U32("dot3StatsDeferredTransmissions");
  r->late_collisions = c.U32("dot3StatsLateCollisions");
  r->excessive_collisions = c.U32("dot3StatsExcessiveCollisions");
  r->internal_mac_transmit_errors = c.U32("dot3StatsInternalMacTransmitErrors");
  r->carrier_sense_errors = c.U32("dot3StatsCarrierSenseErrors");
  r->frame_too_longs = c.U32("dot3StatsFrameTooLongs");
  r->internal_mac_receive_errors = c.U32("dot3StatsInternalMacReceiveErrors");
  r->symbol_errors = c.U32("dot3StatsSymbolErrors");
  XFLOWD_CURSOR_OK(c);
  return Status::Ok();
}

Status ReadBody(Cursor& c, VlanCounters* r) {
  r->vlan_id = c.U32("vlan_id");
  r->octets = c.U64("octets");
  r->ucast_pkts = c.U32("ucastPkts");
  r->multicast_pkts = c.U32("multicastPkts");
  r->broadcast_pkts = c.U32("broadcastPkts");
  r->discards = c.U32("discards");
  XFLOWD_CURSOR_OK(c);
  return Status::Ok();
}

Status ReadBody(Cursor& c, ProcessorCounters* r) {
  r->cpu_5s = c.U32("5s_cpu");
  r->cpu_1m = c.U32("1m_cpu");
  r->cpu_5m = c.U32("5m_cpu");
  r->total_memory = c.U64("total_memory");
  r->free_memory = c.U64("free_memory");
  XFLOWD_CURSOR_OK(c);
  return Status::Ok();
}

Status ReadBody(Cursor& c, DecodedPortName* r) {
  ByteView name;
  XFLOWD_RETURN_IF_ERROR(ReadOpaque(c, "name length", "name", kMaxPortNameBytes, &name));
  r->name.assign(reinterpret_cast<const char*>(name.data()), name.size());
  return Status::Ok();
}

// ---- record lists ----

// Body size of an enterprise-0 format with a fixed layout; 0 for variable-size formats.
size_t FixedFlowRecordBytes(uint32_t format) {
  switch (format) {
    case kSampledEthernetFormat:
      return kSampledEthernetBytes;
    case kSampledIpv4Format:
      return kSampledIpv4Bytes;
    case kSampledIpv6Format:
      return kSampledIpv6Bytes;
    case kExtendedSwitchFormat:
      return kExtendedSwitchBytes;
    case kExtendedTimestampFormat:
      return kExtendedTimestampBytes;
    default:
      return 0;
  }
}

size_t FixedCounterRecordBytes(uint32_t format) {
  switch (format) {
    case kGenericInterfaceFormat:
      return kGenericInterfaceBytes;
    case kEthernetInterfaceFormat:
      return kEthernetInterfaceBytes;
    case kVlanFormat:
      return kVlanBytes;
    case kProcessorFormat:
      return kProcessorBytes;
    default:
      return 0;
  }
}

template <typename Record, typename Variant>
Status ReadKnown(Cursor& c, Variant* out) {
  Record r;
  XFLOWD_RETURN_IF_ERROR(ReadBody(c, &r));
  *out = std::move(r);
  return Status::Ok();
}

// A record we do not decode is kept whole (enterprise, format, bytes) and skipped.
template <typename Variant>
Status KeepUnknown(uint32_t tag, Cursor& c, ByteView body, Variant* out) {
  *out = UnknownRecord{TagEnterprise(tag), TagFormat(tag),
                       std::vector<uint8_t>(body.begin(), body.end())};
  c.Skip(body.size(), "record body");
  return Status::Ok();
}

Status ReadFlowRecordBody(uint32_t tag, Cursor& c, ByteView body, DecodedFlowRecord* out) {
  if (TagEnterprise(tag) != 0) return KeepUnknown(tag, c, body, out);
  switch (TagFormat(tag)) {
    case kSampledHeaderFormat:
      return ReadKnown<DecodedSampledHeader>(c, out);
    case kSampledEthernetFormat:
      return ReadKnown<SampledEthernet>(c, out);
    case kSampledIpv4Format:
      return ReadKnown<SampledIpv4>(c, out);
    case kSampledIpv6Format:
      return ReadKnown<SampledIpv6>(c, out);
    case kExtendedSwitchFormat:
      return ReadKnown<ExtendedSwitch>(c, out);
    case kExtendedRouterFormat:
      return ReadKnown<ExtendedRouter>(c, out);
    case kExtendedGatewayFormat:
      return ReadKnown<DecodedExtendedGateway>(c, out);
    case kExtendedTimestampFormat:
      return ReadKnown<ExtendedTimestamp>(c, out);
    default:
      return KeepUnknown(tag, c, body, out);
  }
}

Status ReadCounterRecordBody(uint32_t tag, Cursor& c, ByteView body, DecodedCounterRecord* out) {
  if (TagEnterprise(tag) != 0) return KeepUnknown(tag, c, body, out);
  switch (TagFormat(tag)) {
    case kGenericInterfaceFormat:
      return ReadKnown<GenericInterfaceCounters>(c, out);
    case kEthernetInterfaceFormat:
      return ReadKnown<EthernetInterfaceCounters>(c, out);
    case kVlanFormat:
      return ReadKnown<VlanCounters>(c, out);
    case kProcessorFormat:
      return ReadKnown<ProcessorCounters>(c, out);
    case kPortNameFormat:
      return ReadKnown<DecodedPortName>(c, out);
    default:
      return KeepUnknown(tag, c, body, out);
  }
}

// One (tag, length, body) element of a sample list or record list. The body is a view of the
// datagram at absolute offset body_offset.
struct Element {
  uint32_t tag = 0;
  size_t offset = 0;  // of the tag word
  size_t body_offset = 0;
  ByteView body;
};

Status ReadElement(Cursor& c, const char* container, Element* e) {
  e->offset = c.offset();
  e->tag = c.U32("data_format");
  const size_t length_offset = c.offset();
  const uint32_t length = c.U32("length");
  XFLOWD_CURSOR_OK(c);
  if (length % 4 != 0) {
    return InvalidArgumentError(At(length_offset) + "length " + std::to_string(length) +
                                " is not a multiple of 4 (XDR)");
  }
  if (length > c.remaining()) {
    return InvalidArgumentError(At(length_offset) + "length " + std::to_string(length) +
                                " exceeds the " + std::to_string(c.remaining()) +
                                " bytes left in the " + container);
  }
  e->body_offset = c.offset();
  e->body = c.Bytes(length, "body");
  XFLOWD_CURSOR_OK(c);
  return Status::Ok();
}

std::string ElementContext(const char* kind, uint32_t index, uint32_t count, const char* name,
                           const Element& e) {
  return std::string(kind) + " " + std::to_string(index + 1) + " of " + std::to_string(count) +
         " (" + TagString(e.tag) + " " + name + " at offset " + std::to_string(e.offset) + ")";
}

// Decodes a known record body and insists the body is exactly what the format takes.
template <typename Variant, typename ReadFn>
Status DecodeRecord(const Element& e, const char* name, size_t fixed_bytes, ReadFn read,
                    Variant* out) {
  if (fixed_bytes != 0 && e.body.size() != fixed_bytes) {
    return InvalidArgumentError(At(e.offset + 4) + name + " record has length " +
                                std::to_string(e.body.size()) + ", the format takes " +
                                std::to_string(fixed_bytes));
  }
  Cursor c(e.body, e.body_offset, name);
  XFLOWD_RETURN_IF_ERROR(read(e.tag, c, e.body, out));
  if (c.remaining() != 0) {
    return InvalidArgumentError(At(c.offset()) + name + " record has length " +
                                std::to_string(e.body.size()) + " but its contents end " +
                                std::to_string(c.remaining()) + " bytes earlier");
  }
  return Status::Ok();
}

Status ReadFlowRecords(Cursor& c, std::vector<DecodedFlowRecord>* out) {
  const size_t count_offset = c.offset();
  const uint32_t count = c.U32("record count");
  XFLOWD_CURSOR_OK(c);
  XFLOWD_RETURN_IF_ERROR(CheckCount(c, count, kTagLenBytes, "record count", count_offset));
  out->resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    Element e;
    Status st = ReadElement(c, "sample", &e);
    if (!st.ok())
      return st.WithContext("record " + std::to_string(i + 1) + " of " + std::to_string(count));
    const char* name = FlowRecordName(e.tag);
    const size_t fixed = TagEnterprise(e.tag) == 0 ? FixedFlowRecordBytes(TagFormat(e.tag)) : 0;
    st = DecodeRecord(e, name, fixed, ReadFlowRecordBody, &(*out)[i]);
    if (!st.ok()) return st.WithContext(ElementContext("record", i, count, name, e));
  }
  return Status::Ok();
}

Status ReadCounterRecords(Cursor& c, std::vector<DecodedCounterRecord>* out) {
  const size_t count_offset = c.offset();
  const uint32_t count = c.U32("record count");
  XFLOWD_CURSOR_OK(c);
  XFLOWD_RETURN_IF_ERROR(CheckCount(c, count, kTagLenBytes, "record count", count_offset));
  out->resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    Element e;
    Status st = ReadElement(c, "sample", &e);
    if (!st.ok())
      return st.WithContext("record " + std::to_string(i + 1) + " of " + std::to_string(count));
    const char* name = CounterRecordName(e.tag);
    const size_t fixed = TagEnterprise(e.tag) == 0 ? FixedCounterRecordBytes(TagFormat(e.tag)) : 0;
    st = DecodeRecord(e, name, fixed, ReadCounterRecordBody, &(*out)[i]);
    if (!st.ok()) return st.WithContext(ElementContext("record", i, count, name, e));
  }
  return Status::Ok();
}

// ---- samples ----

// Compact forms: source_id = type:8 | index:24; interface = format:2 | value:30.
DataSource CompactSource(uint32_t word) { return DataSource{word >> 24, word & 0x00FFFFFFu}; }
Interface CompactInterface(uint32_t word) { return Interface{word >> 30, word & 0x3FFFFFFFu}; }

Status ReadFlowSample(Cursor& c, bool expanded, DecodedFlowSample* s) {
  s->expanded = expanded;
  s->sequence = c.U32("sequence_number");
  if (expanded) {
    s->source.type = c.U32("source_id type");
    s->source.index = c.U32("source_id index");
  } else {
    s->source = CompactSource(c.U32("source_id"));
  }
  s->sampling_rate = c.U32("sampling_rate");
  s->sample_pool = c.U32("sample_pool");
  s->drops = c.U32("drops");
  if (expanded) {
    s->input.format = c.U32("input format");
    s->input.value = c.U32("input value");
    s->output.format = c.U32("output format");
    s->output.value = c.U32("output value");
  } else {
    s->input = CompactInterface(c.U32("input"));
    s->output = CompactInterface(c.U32("output"));
  }
  XFLOWD_CURSOR_OK(c);
  return ReadFlowRecords(c, &s->records);
}

Status ReadCounterSample(Cursor& c, bool expanded, DecodedCounterSample* s) {
  s->expanded = expanded;
  s->sequence = c.U32("sequence_number");
  if (expanded) {
    s->source.type = c.U32("source_id type");
    s->source.index = c.U32("source_id index");
  } else {
    s->source = CompactSource(c.U32("source_id"));
  }
  XFLOWD_CURSOR_OK(c);
  return ReadCounterRecords(c, &s->records);
}

Status ReadDiscardSample(Cursor& c, DecodedDiscardSample* s) {
  s->sequence = c.U32("sequence_number");
  s->source.type = c.U32("source_id type");
  s->source.index = c.U32("source_id index");
  s->drops = c.U32("drops");
  s->input = c.U32("inputInterface");
  s->output = c.U32("outputInterface");
  s->reason = c.U32("reason");
  XFLOWD_CURSOR_OK(c);
  return ReadFlowRecords(c, &s->records);
}

Status ReadSampleBody(const Element& e, const char* name, DecodedSample* out) {
  Cursor c(e.body, e.body_offset, name);
  if (TagEnterprise(e.tag) != 0 || TagFormat(e.tag) < kFlowSample ||
      TagFormat(e.tag) > kDiscardSample) {
    *out = UnknownSample{TagEnterprise(e.tag), TagFormat(e.tag),
                         std::vector<uint8_t>(e.body.begin(), e.body.end())};
    return Status::Ok();
  }
  switch (TagFormat(e.tag)) {
    case kFlowSample:
    case kFlowSampleExpanded: {
      DecodedFlowSample s;
      XFLOWD_RETURN_IF_ERROR(ReadFlowSample(c, TagFormat(e.tag) == kFlowSampleExpanded, &s));
      *out = std::move(s);
      break;
    }
    case kCounterSample:
    case kCounterSampleExpanded: {
      DecodedCounterSample s;
      XFLOWD_RETURN_IF_ERROR(ReadCounterSample(c, TagFormat(e.tag) == kCounterSampleExpanded, &s));
      *out = std::move(s);
      break;
    }
    default: {
      DecodedDiscardSample s;
      XFLOWD_RETURN_IF_ERROR(ReadDiscardSample(c, &s));
      *out = std::move(s);
      break;
    }
  }
  if (c.remaining() != 0) {
    return InvalidArgumentError(At(c.offset()) + name + " has length " +
                                std::to_string(e.body.size()) + " but its records end " +
                                std::to_string(c.remaining()) + " bytes earlier");
  }
  return Status::Ok();
}

}  // namespace

Result<DecodedDatagram> DecodeDatagram(ByteView datagram) {
  DecodedDatagram d;
  Cursor c(datagram, 0, "datagram header");
  d.version = c.U32("version");
  XFLOWD_CURSOR_OK(c);
  if (d.version != kVersion5) {
    return InvalidArgumentError(At(0) + "sFlow version " + std::to_string(d.version) +
                                " is not supported (only version 5 is decoded)");
  }
  XFLOWD_RETURN_IF_ERROR(ReadAddress(c, "agent_address", &d.header.agent_address));
  d.header.sub_agent_id = c.U32("sub_agent_id");
  d.header.sequence = c.U32("sequence_number");
  d.header.uptime_ms = c.U32("uptime");
  const size_t count_offset = c.offset();
  const uint32_t count = c.U32("sample count");
  XFLOWD_CURSOR_OK(c);
  XFLOWD_RETURN_IF_ERROR(CheckCount(c, count, kTagLenBytes, "sample count", count_offset));
  c.set_scope("datagram");
  d.samples.resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    Element e;
    Status st = ReadElement(c, "datagram", &e);
    if (!st.ok()) {
      return st.WithContext("sample " + std::to_string(i + 1) + " of " + std::to_string(count));
    }
    const char* name = SampleName(e.tag);
    st = ReadSampleBody(e, name, &d.samples[i]);
    if (!st.ok()) return st.WithContext(ElementContext("sample", i, count, name, e));
  }
  if (c.remaining() != 0) {
    return InvalidArgumentError(At(c.offset()) + std::to_string(c.remaining()) +
                                " bytes after the last of the " + std::to_string(count) +
                                " samples the header declares");
  }
  return d;
}

uint32_t SampleTag(const DecodedSample& sample) {
  struct Visitor {
    uint32_t operator()(const DecodedFlowSample& s) const {
      return s.expanded ? kFlowSampleExpanded : kFlowSample;
    }
    uint32_t operator()(const DecodedCounterSample& s) const {
      return s.expanded ? kCounterSampleExpanded : kCounterSample;
    }
    uint32_t operator()(const DecodedDiscardSample&) const { return kDiscardSample; }
    uint32_t operator()(const UnknownSample& s) const { return MakeTag(s.enterprise, s.format); }
  };
  return std::visit(Visitor{}, sample);
}

uint32_t RecordTag(const DecodedFlowRecord& record) {
  struct Visitor {
    uint32_t operator()(const DecodedSampledHeader&) const { return kSampledHeaderFormat; }
    uint32_t operator()(const SampledEthernet&) const { return kSampledEthernetFormat; }
    uint32_t operator()(const SampledIpv4&) const { return kSampledIpv4Format; }
    uint32_t operator()(const SampledIpv6&) const { return kSampledIpv6Format; }
    uint32_t operator()(const ExtendedSwitch&) const { return kExtendedSwitchFormat; }
    uint32_t operator()(const ExtendedRouter&) const { return kExtendedRouterFormat; }
    uint32_t operator()(const DecodedExtendedGateway&) const { return kExtendedGatewayFormat; }
    uint32_t operator()(const ExtendedTimestamp&) const { return kExtendedTimestampFormat; }
    uint32_t operator()(const UnknownRecord& r) const { return MakeTag(r.enterprise, r.format); }
  };
  return std::visit(Visitor{}, record);
}

uint32_t RecordTag(const DecodedCounterRecord& record) {
  struct Visitor {
    uint32_t operator()(const GenericInterfaceCounters&) const { return kGenericInterfaceFormat; }
    uint32_t operator()(const EthernetInterfaceCounters&) const { return kEthernetInterfaceFormat; }
    uint32_t operator()(const VlanCounters&) const { return kVlanFormat; }
    uint32_t operator()(const ProcessorCounters&) const { return kProcessorFormat; }
    uint32_t operator()(const DecodedPortName&) const { return kPortNameFormat; }
    uint32_t operator()(const UnknownRecord& r) const { return MakeTag(r.enterprise, r.format); }
  };
  return std::visit(Visitor{}, record);
}

const char* SampleName(uint32_t tag) {
  if (TagEnterprise(tag) != 0) return "unknown";
  switch (TagFormat(tag)) {
    case kFlowSample:
      return "flow_sample";
    case kCounterSample:
      return "counters_sample";
    case kFlowSampleExpanded:
      return "flow_sample_expanded";
    case kCounterSampleExpanded:
      return "counters_sample_expanded";
    case kDiscardSample:
      return "discarded_packet";
    default:
      return "unknown";
  }
}

const char* FlowRecordName(uint32_t tag) {
  if (TagEnterprise(tag) != 0) return "unknown";
  switch (TagFormat(tag)) {
    case kSampledHeaderFormat:
      return "sampled_header";
    case kSampledEthernetFormat:
      return "sampled_ethernet";
    case kSampledIpv4Format:
      return "sampled_ipv4";
    case kSampledIpv6Format:
      return "sampled_ipv6";
    case kExtendedSwitchFormat:
      return "extended_switch";
    case kExtendedRouterFormat:
      return "extended_router";
    case kExtendedGatewayFormat:
      return "extended_gateway";
    case kExtendedTimestampFormat:
      return "extended_timestamp";
    default:
      return "unknown";
  }
}

const char* CounterRecordName(uint32_t tag) {
  if (TagEnterprise(tag) != 0) return "unknown";
  switch (TagFormat(tag)) {
    case kGenericInterfaceFormat:
      return "if_counters";
    case kEthernetInterfaceFormat:
      return "ethernet_counters";
    case kVlanFormat:
      return "vlan_counters";
    case kProcessorFormat:
      return "processor";
    case kPortNameFormat:
      return "port_name";
    default:
      return "unknown";
  }
}

const char* HeaderProtocolName(uint32_t protocol) {
  static const char* const kNames[] = {nullptr,
                                       "ethernet",
                                       "tokenbus",
                                       "tokenring",
                                       "fddi",
                                       "frame_relay",
                                       "x25",
                                       "ppp",
                                       "smds",
                                       "aal5",
                                       "aal5_ip",
                                       "ipv4",
                                       "ipv6",
                                       "mpls",
                                       "pos",
                                       "ieee80211",
                                       "ieee80211_ampdu",
                                       "ieee80211_amsdu_subframe"};
  if (protocol >= sizeof(kNames) / sizeof(kNames[0])) return nullptr;
  return kNames[protocol];
}

const char* DropReasonName(uint32_t reason) {
  // ICMP unreachable codes (0-15), then the switch and Linux reasons from 256 (the drop_reason
  // registry that sflow_drops.txt points to).
  static const char* const kIcmp[] = {
      "net_unreachable",          "host_unreachable",      "protocol_unreachable",
      "port_unreachable",         "frag_needed",           "src_route_failed",
      "dst_net_unknown",          "dst_host_unknown",      "src_host_isolated",
      "dst_net_prohibited",       "dst_host_prohibited",   "dst_net_tos_unreachable",
      "dst_host_tos_unreachable", "comm_admin_prohibited", "host_precedence_violation",
      "precedence_cutoff"};
  static const char* const kDrops[] = {
      "unknown",                            // 256
      "ttl_exceeded",                       // 257
      "acl",                                // 258
      "no_buffer_space",                    // 259
      "red",                                // 260
      "traffic_shaping",                    // 261
      "pkt_too_big",                        // 262
      "src_mac_is_multicast",               // 263
      "vlan_tag_mismatch",                  // 264
      "ingress_vlan_filter",                // 265
      "ingress_spanning_tree_filter",       // 266
      "port_list_is_empty",                 // 267
      "port_loopback_filter",               // 268
      "blackhole_route",                    // 269
      "non_ip",                             // 270
      "uc_dip_over_mc_dmac",                // 271
      "dip_is_loopback_address",            // 272
      "sip_is_mc",                          // 273
      "sip_is_loopback_address",            // 274
      "ip_header_corrupted",                // 275
      "ipv4_sip_is_limited_bc",             // 276
      "ipv6_mc_dip_reserved_scope",         // 277
      "ipv6_mc_dip_interface_local_scope",  // 278
      "unresolved_neigh",                   // 279
      "mc_reverse_path_forwarding",         // 280
      "non_routable_packet",                // 281
      "decap_error",                        // 282
      "overlay_smac_is_mc",                 // 283
      "unknown_l2",                         // 284
      "unknown_l3",                         // 285
      "unknown_l3_exception",               // 286
      "unknown_buffer",                     // 287
      "unknown_tunnel",                     // 288
      "unknown_l4",                         // 289
      "sip_is_unspecified",                 // 290
      "mlag_port_isolation",                // 291
      "blackhole_arp_neigh",                // 292
      "src_mac_is_dmac",                    // 293
      "dmac_is_reserved",                   // 294
      "sip_is_class_e",                     // 295
      "mc_dmac_mismatch",                   // 296
      "sip_is_dip",                         // 297
      "dip_is_local_network",               // 298
      "dip_is_link_local",                  // 299
      "overlay_smac_is_dmac",               // 300
      "egress_vlan_filter",                 // 301
      "uc_reverse_path_forwarding",         // 302
      "split_horizon",                      // 303
      "locked_port",                        // 304
      "dmac_filter",                        // 305
      "blackhole_nexthop",                  // 306
      "vxlan_parsing",                      // 307
      "llc_snap_parsing",                   // 308
      "vlan_parsing",                       // 309
      "pppoe_ppp_parsing",                  // 310
      "mpls_parsing",                       // 311
      "arp_parsing",                        // 312
      "ip_1_parsing",                       // 313
      "ip_n_parsing",                       // 314
      "gre_parsing",                        // 315
      "udp_parsing",                        // 316
      "tcp_parsing",                        // 317
      "ipsec_parsing",                      // 318
      "sctp_parsing",                       // 319
      "dccp_parsing",                       // 320
      "gtp_parsing",                        // 321
      "esp_parsing",                        // 322
      "unknown_parsing",                    // 323
      "pkt_too_small",                      // 324
      "unhandled_proto",                    // 325
      "ipv6disabled",                       // 326
      "invalid_proto",                      // 327
      "ip_noproto",                         // 328
      "skb_csum",                           // 329
      "skb_ucopy_fault",                    // 330
      "dev_ready",                          // 331
      "dev_hdr",                            // 332
      "dup_frag",                           // 333
      "skb_gso_seg",                        // 334
      "reverse_path_forwarding",            // 335
      "icmp_parsing",                       // 336
      "tcp_md5notfound",                    // 337
      "tcp_md5unexpected",                  // 338
      "tcp_md5failure",                     // 339
      "tcp_flags",                          // 340
      "tcp_zerowindow",                     // 341
      "tcp_old_data",                       // 342
      "tcp_overwindow",                     // 343
      "tcp_ofomerge",                       // 344
      "tcp_rfc7323_paws",                   // 345
      "tcp_invalid_sequence",               // 346
      "tcp_reset",                          // 347
      "tcp_invalid_syn",                    // 348
      "tcp_close",                          // 349
      "tcp_fastopen",                       // 350
      "tcp_old_ack",                        // 351
      "tcp_too_old_ack",                    // 352
      "tcp_ack_unsent_data",                // 353
      "tcp_ofo_queue_prune",                // 354
      "tcp_ofo_drop",                       // 355
      "tcp_minttl",                         // 356
      "ipv6_bad_exthdr",                    // 357
      "ipv6_ndisc_frag",                    // 358
      "ipv6_ndisc_hop_limit",               // 359
      "ipv6_ndisc_bad_code",                // 360
      "ipv6_ndisc_bad_options",             // 361
      "ipv6_ndisc_ns_otherhost",            // 362
      "tap_filter",                         // 363
      "tap_txfilter",                       // 364
      "tc_ingress",                         // 365
      "tc_egress",                          // 366
      "xdp",                                // 367
      "cpu_backlog",                        // 368
      "bpf_cgroup_egress",                  // 369
      "xfrm_policy",                        // 370
      "socket_filter",                      // 371
  };
  constexpr size_t kIcmpCount = sizeof(kIcmp) / sizeof(kIcmp[0]);
  constexpr size_t kDropsCount = sizeof(kDrops) / sizeof(kDrops[0]);
  if (reason < kIcmpCount) return kIcmp[reason];
  if (reason >= 256 && reason - 256 < kDropsCount) return kDrops[reason - 256];
  return nullptr;
}

}  // namespace xflowd::exporter::sflow
