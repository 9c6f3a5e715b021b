#include "exporter/sflow/sflow_decoder.h"

#include <cstring>
#include <string>
#include <type_traits>
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
  c.Skip(BodySizeVisitor::Pad4(len) - len, "XDR padding");
  XFLOWD_CURSOR_OK(c);
  return Status::Ok();
}

// ---- records ----

// Reads a record's body from its field list (sflow_types.h). Like Cursor, it stops at the
// first error (a later field reads nothing) so a record is read whole and checked once.
class ReadVisitor {
 public:
  explicit ReadVisitor(Cursor& c) : c_(c) {}

  Status Finish() {
    XFLOWD_RETURN_IF_ERROR(st_);
    XFLOWD_CURSOR_OK(c_);
    return Status::Ok();
  }

  void U32(FieldName n, uint32_t& x) { x = c_.U32(n.wire); }
  void U32(FieldName n, uint32_t& x, ValueNames) { x = c_.U32(n.wire); }
  void U64(FieldName n, uint64_t& x) { x = c_.U64(n.wire); }
  void F32(FieldName n, float& x) {
    const uint32_t bits = c_.U32(n.wire);
    std::memcpy(&x, &bits, sizeof x);
  }
  void Uuid(FieldName n, uint8_t (&b)[16]) { c_.Copy(b, 16, n.wire); }
  void Ipv4(FieldName n, uint8_t (&b)[4]) { c_.Copy(b, 4, n.wire); }
  void Ipv6(FieldName n, uint8_t (&b)[16]) { c_.Copy(b, 16, n.wire); }
  void Mac(FieldName n, uint8_t (&b)[6]) {
    c_.Copy(b, 6, n.wire);
    c_.Skip(2, "MAC padding");
  }
  void Address(FieldName n, IpAddress& a) {
    if (st_.ok()) st_ = ReadAddress(c_, n.wire, &a);
  }
  void Opaque(FieldName n, const char* length_name, size_t max, std::vector<uint8_t>& out) {
    ByteView b;
    if (ReadBytes(n, length_name, max, &b)) out.assign(b.begin(), b.end());
  }
  void String(FieldName n, const char* length_name, size_t max, std::string& out) {
    ByteView b;
    if (ReadBytes(n, length_name, max, &b)) {
      out.assign(reinterpret_cast<const char*>(b.data()), b.size());
    }
  }
  void U32Array(FieldName, const char* count_name, const char* item_name,
                std::vector<uint32_t>& out) {
    uint32_t n = 0;
    if (!ReadCount(count_name, 4, &n)) return;
    out.resize(n);
    for (uint32_t& x : out) x = c_.U32(item_name);
  }
  // Sample fields: the compact forms pack type:8 | index:24 and format:2 | value:30.
  void Source(FieldName n, DataSource& s, bool expanded) {
    if (expanded) {
      s.type = c_.U32("source_id type");
      s.index = c_.U32("source_id index");
    } else {
      const uint32_t word = c_.U32(n.wire);
      s = DataSource{word >> 24, word & 0x00FFFFFFu};
    }
  }
  void Interface(const InterfaceField& n, sflow::Interface& i, bool expanded) {
    if (expanded) {
      i.format = c_.U32(n.format_wire);
      i.value = c_.U32(n.value_wire);
    } else {
      const uint32_t word = c_.U32(n.key);
      i = sflow::Interface{word >> 30, word & 0x3FFFFFFFu};
    }
  }
  template <typename T>
  void Array(FieldName, const char* count_name, std::vector<T>& out) {
    const T empty;  // every array and opaque empty: the least an item takes
    BodySizeVisitor min;
    VisitFields(empty, min);
    uint32_t n = 0;
    if (!ReadCount(count_name, min.size(), &n)) return;
    out.resize(n);
    for (T& item : out) {
      VisitFields(item, *this);
      if (!st_.ok()) return;
    }
  }

 private:
  bool ReadBytes(FieldName n, const char* length_name, size_t max, ByteView* out) {
    if (st_.ok()) st_ = ReadOpaque(c_, length_name, n.wire, max, out);
    return st_.ok();
  }
  // An element count, checked against what is left before anything loops or resizes on it.
  bool ReadCount(const char* name, size_t min_bytes, uint32_t* n) {
    if (!st_.ok()) return false;
    const size_t offset = c_.offset();
    *n = c_.U32(name);
    st_ = c_.ok() ? CheckCount(c_, *n, min_bytes, name, offset) : c_.TruncatedError();
    return st_.ok();
  }

  Cursor& c_;
  Status st_ = Status::Ok();
};

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
template <typename Record, typename Variant>
Status ReadRecord(const Element& e, const char* name, Variant* out) {
  Record r;
  BodySizeVisitor layout;
  VisitFields(r, layout);
  if (layout.fixed() && e.body.size() != layout.size()) {
    return InvalidArgumentError(At(e.offset + 4) + name + " record has length " +
                                std::to_string(e.body.size()) + ", the format takes " +
                                std::to_string(layout.size()));
  }
  Cursor c(e.body, e.body_offset, name);
  ReadVisitor v(c);
  VisitFields(r, v);
  XFLOWD_RETURN_IF_ERROR(v.Finish());
  if (c.remaining() != 0) {
    return InvalidArgumentError(At(c.offset()) + name + " record has length " +
                                std::to_string(e.body.size()) + " but its contents end " +
                                std::to_string(c.remaining()) + " bytes earlier");
  }
  *out = std::move(r);
  return Status::Ok();
}

// The record variants list every known record, then UnknownRecord: the record whose kFormat
// matches the tag is read, anything else (other enterprises included) is kept whole.
template <typename Variant, size_t I = 0>
Status DecodeRecord(const Element& e, const char* name, Variant* out) {
  if constexpr (I + 1 < std::variant_size_v<Variant>) {
    using Record = std::variant_alternative_t<I, Variant>;
    if (TagEnterprise(e.tag) == 0 && TagFormat(e.tag) == Record::kFormat) {
      return ReadRecord<Record>(e, name, out);
    }
    return DecodeRecord<Variant, I + 1>(e, name, out);
  } else {
    *out = UnknownRecord{TagEnterprise(e.tag), TagFormat(e.tag),
                         std::vector<uint8_t>(e.body.begin(), e.body.end())};
    return Status::Ok();
  }
}

template <typename Variant, size_t I = 0>
const char* RecordName(uint32_t tag) {
  if constexpr (I + 1 < std::variant_size_v<Variant>) {
    using Record = std::variant_alternative_t<I, Variant>;
    if (TagEnterprise(tag) == 0 && TagFormat(tag) == Record::kFormat) return Record::kName;
    return RecordName<Variant, I + 1>(tag);
  } else {
    return "unknown";
  }
}

template <typename Variant>
Status ReadRecords(Cursor& c, std::vector<Variant>* out) {
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
    const char* name = RecordName<Variant>(e.tag);
    st = DecodeRecord(e, name, &(*out)[i]);
    if (!st.ok()) return st.WithContext(ElementContext("record", i, count, name, e));
  }
  return Status::Ok();
}

template <typename Variant>
uint32_t TagOf(const Variant& record) {
  return std::visit(
      [](const auto& r) -> uint32_t {
        if constexpr (std::is_same_v<std::decay_t<decltype(r)>, UnknownRecord>) {
          return MakeTag(r.enterprise, r.format);
        } else {
          return r.kFormat;
        }
      },
      record);
}

// ---- samples ----

// A sample's fields (sflow_types.h), then its records.
template <typename Sample>
Status ReadSample(Cursor& c, bool expanded, Sample* s) {
  ReadVisitor v(c);
  Sample::Fields(*s, v, expanded);
  XFLOWD_RETURN_IF_ERROR(v.Finish());
  return ReadRecords(c, &s->records);
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
      s.expanded = TagFormat(e.tag) == kFlowSampleExpanded;
      XFLOWD_RETURN_IF_ERROR(ReadSample(c, s.expanded, &s));
      *out = std::move(s);
      break;
    }
    case kCounterSample:
    case kCounterSampleExpanded: {
      DecodedCounterSample s;
      s.expanded = TagFormat(e.tag) == kCounterSampleExpanded;
      XFLOWD_RETURN_IF_ERROR(ReadSample(c, s.expanded, &s));
      *out = std::move(s);
      break;
    }
    default: {
      DecodedDiscardSample s;
      XFLOWD_RETURN_IF_ERROR(ReadSample(c, true, &s));
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

uint32_t RecordTag(const DecodedFlowRecord& record) { return TagOf(record); }
uint32_t RecordTag(const DecodedCounterRecord& record) { return TagOf(record); }

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

const char* FlowRecordName(uint32_t tag) { return RecordName<DecodedFlowRecord>(tag); }
const char* CounterRecordName(uint32_t tag) { return RecordName<DecodedCounterRecord>(tag); }

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
