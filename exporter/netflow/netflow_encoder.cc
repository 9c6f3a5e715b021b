#include "exporter/netflow/netflow_encoder.h"

#include <cstring>
#include <iterator>

namespace xflowd::exporter::netflow {

namespace {

using namespace field;  // NOLINT: the tables read better with bare field names

// Fields are ordered large to small so records stay naturally aligned as far as they can.
// v9: 64-bit counters, FIRST/LAST_SWITCHED (sysUptime ms), 1-byte TCP_FLAGS.
constexpr FieldSpec kV9Ipv4[] = {
    {kBytes, 8},     {kPackets, 8},  {kFirstSwitched, 4}, {kLastSwitched, 4},
    {kSrcIpv4, 4},   {kDstIpv4, 4},  {kInputIf, 4},       {kOutputIf, 4},
    {kSrcPort, 2},   {kDstPort, 2},  {kVlan, 2},          {kCustomerVlan, 2},
    {kIpVersion, 1}, {kProtocol, 1}, {kTos, 1},           {kTcpFlags, 1}};
constexpr FieldSpec kV9Ipv6[] = {
    {kBytes, 8},     {kPackets, 8},  {kFirstSwitched, 4}, {kLastSwitched, 4},
    {kSrcIpv6, 16},  {kDstIpv6, 16}, {kInputIf, 4},       {kOutputIf, 4},
    {kSrcPort, 2},   {kDstPort, 2},  {kVlan, 2},          {kCustomerVlan, 2},
    {kIpVersion, 1}, {kProtocol, 1}, {kTos, 1},           {kTcpFlags, 1}};
// v9 has one ICMP_TYPE for both families (what nfdump and pmacct read).
constexpr FieldSpec kV9Icmpv4[] = {
    {kBytes, 8},        {kPackets, 8},   {kFirstSwitched, 4}, {kLastSwitched, 4}, {kSrcIpv4, 4},
    {kDstIpv4, 4},      {kInputIf, 4},   {kOutputIf, 4},      {kIcmpType, 2},     {kVlan, 2},
    {kCustomerVlan, 2}, {kIpVersion, 1}, {kProtocol, 1},      {kTos, 1}};
constexpr FieldSpec kV9Icmpv6[] = {
    {kBytes, 8},        {kPackets, 8},   {kFirstSwitched, 4}, {kLastSwitched, 4}, {kSrcIpv6, 16},
    {kDstIpv6, 16},     {kInputIf, 4},   {kOutputIf, 4},      {kIcmpType, 2},     {kVlan, 2},
    {kCustomerVlan, 2}, {kIpVersion, 1}, {kProtocol, 1},      {kTos, 1}};
// IPFIX: absolute flowStart/EndMilliseconds, 2-byte tcpControlBits, flowEndReason.
constexpr FieldSpec kIpfixIpv4[] = {
    {kBytes, 8},   {kPackets, 8},      {kFlowStartMs, 8}, {kFlowEndMs, 8}, {kSrcIpv4, 4},
    {kDstIpv4, 4}, {kInputIf, 4},      {kOutputIf, 4},    {kSrcPort, 2},   {kDstPort, 2},
    {kVlan, 2},    {kCustomerVlan, 2}, {kTcpFlags, 2},    {kIpVersion, 1}, {kProtocol, 1},
    {kTos, 1},     {kEndReason, 1}};
constexpr FieldSpec kIpfixIpv6[] = {
    {kBytes, 8},    {kPackets, 8},      {kFlowStartMs, 8}, {kFlowEndMs, 8}, {kSrcIpv6, 16},
    {kDstIpv6, 16}, {kInputIf, 4},      {kOutputIf, 4},    {kSrcPort, 2},   {kDstPort, 2},
    {kVlan, 2},     {kCustomerVlan, 2}, {kTcpFlags, 2},    {kIpVersion, 1}, {kProtocol, 1},
    {kTos, 1},      {kEndReason, 1}};
constexpr FieldSpec kIpfixIcmpv4[] = {
    {kBytes, 8},        {kPackets, 8},   {kFlowStartMs, 8}, {kFlowEndMs, 8}, {kSrcIpv4, 4},
    {kDstIpv4, 4},      {kInputIf, 4},   {kOutputIf, 4},    {kIcmpType, 2},  {kVlan, 2},
    {kCustomerVlan, 2}, {kIpVersion, 1}, {kProtocol, 1},    {kTos, 1},       {kEndReason, 1}};
constexpr FieldSpec kIpfixIcmpv6[] = {
    {kBytes, 8},        {kPackets, 8},   {kFlowStartMs, 8}, {kFlowEndMs, 8},  {kSrcIpv6, 16},
    {kDstIpv6, 16},     {kInputIf, 4},   {kOutputIf, 4},    {kIcmpTypeV6, 2}, {kVlan, 2},
    {kCustomerVlan, 2}, {kIpVersion, 1}, {kProtocol, 1},    {kTos, 1},        {kEndReason, 1}};

constexpr FieldSpec kV9SystemOptions[] = {
    {kScopeSystem, 4}, {kTotalFlowsExp, 8}, {kSamplingInterval, 4}, {kSamplingAlgorithm, 1}};
constexpr FieldSpec kV9InterfaceOptions[] = {{kScopeInterface, 4}, {kIfName, kIfNameBytes}};
constexpr FieldSpec kIpfixSystemOptions[] = {
    {kObservationDomain, 4}, {kSystemInitMs, 8},     {kTotalFlowsExp, 8},
    {kNotSentFlows, 8},      {kSamplingInterval, 4}, {kSamplingAlgorithm, 1},
    {kSelectorAlgorithm, 2}, {kSamplingSize, 4},     {kSamplingPopulation, 4}};
constexpr FieldSpec kIpfixInterfaceOptions[] = {{kInputIf, 4}, {kIfName, kIfNameBytes}};

template <size_t N>
constexpr uint16_t Length(const FieldSpec (&f)[N]) {
  uint16_t n = 0;
  for (size_t i = 0; i < N; ++i) n = static_cast<uint16_t>(n + f[i].length);
  return n;
}

template <size_t N>
constexpr TemplateSpec Spec(uint16_t id, uint16_t scope_count, const FieldSpec (&f)[N]) {
  return TemplateSpec{id, scope_count, f, static_cast<uint16_t>(N), Length(f)};
}

constexpr TemplateSpec kV9Templates[kDataTemplateCount] = {
    Spec(kTemplateIdIpv4, 0, kV9Ipv4), Spec(kTemplateIdIpv6, 0, kV9Ipv6),
    Spec(kTemplateIdIcmpv4, 0, kV9Icmpv4), Spec(kTemplateIdIcmpv6, 0, kV9Icmpv6)};
constexpr TemplateSpec kIpfixTemplates[kDataTemplateCount] = {
    Spec(kTemplateIdIpv4, 0, kIpfixIpv4), Spec(kTemplateIdIpv6, 0, kIpfixIpv6),
    Spec(kTemplateIdIcmpv4, 0, kIpfixIcmpv4), Spec(kTemplateIdIcmpv6, 0, kIpfixIcmpv6)};
// Appended to every data template when the key has them (the same numbers in v9 and IPFIX).
constexpr FieldSpec kMacFields[] = {{kSrcMac, 6}, {kDstMac, 6}};
constexpr FieldSpec kMplsFields[] = {{kMplsTopLabel, 3}};

// Every data template with every combination of optional key fields, built once.
class DataTemplateTables {
 public:
  DataTemplateTables() {
    for (int ipfix = 0; ipfix < 2; ++ipfix) {
      for (int combo = 0; combo < 4; ++combo) {
        for (int kind = 0; kind < kDataTemplateCount; ++kind) {
          const TemplateSpec& base = ipfix ? kIpfixTemplates[kind] : kV9Templates[kind];
          FieldSpec* f = fields_[ipfix][combo][kind];
          uint16_t n = 0;
          auto add = [&](const FieldSpec* from, size_t count) {
            for (size_t i = 0; i < count; ++i) f[n++] = from[i];
          };
          add(base.fields, base.field_count);
          if (combo & 1) add(kMacFields, std::size(kMacFields));
          if (combo & 2) add(kMplsFields, std::size(kMplsFields));
          uint16_t length = 0;
          for (uint16_t i = 0; i < n; ++i) length = static_cast<uint16_t>(length + f[i].length);
          specs_[ipfix][combo][kind] = TemplateSpec{base.id, 0, f, n, length};
        }
      }
    }
  }
  const TemplateSpec& Get(Version v, TemplateKind kind, KeyFields key) const {
    const int combo = (key.macs ? 1 : 0) | (key.mpls ? 2 : 0);
    return specs_[v == Version::kIpfix ? 1 : 0][combo][static_cast<int>(kind)];
  }

 private:
  static constexpr size_t kMaxFields = 20;
  static_assert(std::size(kIpfixIpv4) + std::size(kMacFields) + std::size(kMplsFields) <=
                kMaxFields);
  FieldSpec fields_[2][4][kDataTemplateCount][kMaxFields] = {};
  TemplateSpec specs_[2][4][kDataTemplateCount] = {};
};

constexpr TemplateSpec kV9System = Spec(kTemplateIdSystemOptions, 1, kV9SystemOptions);
constexpr TemplateSpec kV9Interface = Spec(kTemplateIdInterfaceOptions, 1, kV9InterfaceOptions);
constexpr TemplateSpec kIpfixSystem = Spec(kTemplateIdSystemOptions, 1, kIpfixSystemOptions);
constexpr TemplateSpec kIpfixInterface =
    Spec(kTemplateIdInterfaceOptions, 1, kIpfixInterfaceOptions);

// Big-endian unsigned of `len` bytes (1, 2, 4 or 8), truncated to the low bytes.
void WriteUint(uint64_t x, uint16_t len, ByteWriter& w) {
  switch (len) {
    case 1:
      w.U8(static_cast<uint8_t>(x));
      break;
    case 2:
      w.U16(static_cast<uint16_t>(x));
      break;
    case 4:
      w.U32(static_cast<uint32_t>(x));
      break;
    case 8:
      w.U64(x);
      break;
    default:
      w.Zeros(len);
  }
}

size_t Align4(size_t n) { return (n + 3) & ~size_t{3}; }

}  // namespace

const TemplateSpec& DataTemplate(Version v, TemplateKind kind, KeyFields key) {
  static const DataTemplateTables tables;  // built on first use: plain arrays, no allocation
  return tables.Get(v, kind, key);
}
const TemplateSpec& SystemOptionsTemplate(Version v) {
  return v == Version::kIpfix ? kIpfixSystem : kV9System;
}
const TemplateSpec& InterfaceOptionsTemplate(Version v) {
  return v == Version::kIpfix ? kIpfixInterface : kV9Interface;
}

bool TemplateKindOf(const FlowRecord& r, TemplateKind* kind) {
  if (r.key.ip_version == 4) {
    *kind = r.key.protocol == 1 ? TemplateKind::kIcmpv4 : TemplateKind::kIpv4;
    return true;
  }
  if (r.key.ip_version == 6) {
    *kind = r.key.protocol == 58 ? TemplateKind::kIcmpv6 : TemplateKind::kIpv6;
    return true;
  }
  return false;
}

uint32_t UptimeMs(uint64_t unix_ms, uint64_t system_init_unix_ms) {
  if (unix_ms <= system_init_unix_ms) return 0;
  return static_cast<uint32_t>(unix_ms - system_init_unix_ms);
}

size_t TemplateRecordSize(Version v, const TemplateSpec& t) {
  // Template: id, field count. Options: v9 id, scope length, option length; IPFIX id, field
  // count, scope field count.
  const size_t head = t.scope_count == 0 ? 4 : 6;
  (void)v;
  return head + 4u * t.field_count;
}

void WriteTemplateRecord(Version v, const TemplateSpec& t, ByteWriter& w) {
  w.U16(t.id);
  if (t.scope_count == 0) {
    w.U16(t.field_count);
  } else if (v == Version::kIpfix) {
    w.U16(t.field_count);
    w.U16(t.scope_count);
  } else {
    w.U16(static_cast<uint16_t>(4u * t.scope_count));
    w.U16(static_cast<uint16_t>(4u * (t.field_count - t.scope_count)));
  }
  for (uint16_t i = 0; i < t.field_count; ++i) {
    w.U16(t.fields[i].type);
    w.U16(t.fields[i].length);
  }
}

void WriteDataRecord(Version v, const TemplateSpec& t, const FlowRecord& r,
                     uint64_t system_init_unix_ms, ByteWriter& w) {
  (void)v;
  const FlowKey& k = r.key;
  for (uint16_t i = 0; i < t.field_count; ++i) {
    const FieldSpec& f = t.fields[i];
    if (VisitNumericElement(f.type, r, [&f, &w](const auto& member) {
          WriteUint(static_cast<uint64_t>(member), f.length, w);
        })) {
      continue;
    }
    switch (f.type) {
      case kFirstSwitched:
        w.U32(UptimeMs(r.first_ms, system_init_unix_ms));
        break;
      case kLastSwitched:
        w.U32(UptimeMs(r.last_ms, system_init_unix_ms));
        break;
      case kFlowStartMs:
        w.U64(r.first_ms);
        break;
      case kFlowEndMs:
        w.U64(r.last_ms);
        break;
      case kSrcIpv4:
        w.Bytes(k.src_ip, 4);
        break;
      case kDstIpv4:
        w.Bytes(k.dst_ip, 4);
        break;
      case kSrcIpv6:
        w.Bytes(k.src_ip, 16);
        break;
      case kDstIpv6:
        w.Bytes(k.dst_ip, 16);
        break;
      case kSrcMac:
        w.Bytes(k.src_mac, 6);
        break;
      case kDstMac:
        w.Bytes(k.dst_mac, 6);
        break;
      case kMplsTopLabel:  // label, TC, S: the entry without its TTL byte
        w.U8(static_cast<uint8_t>(k.mpls_top >> 24));
        w.U16(static_cast<uint16_t>(k.mpls_top >> 8));
        break;
      default:
        w.Zeros(f.length);
    }
  }
}

void WriteSystemOptionsRecord(Version v, const SystemOptionsValues& o, ByteWriter& w) {
  const TemplateSpec& t = SystemOptionsTemplate(v);
  for (uint16_t i = 0; i < t.field_count; ++i) {
    const FieldSpec& f = t.fields[i];
    uint64_t x = 0;
    if (i < t.scope_count) {
      x = o.scope_id;
    } else {
      switch (f.type) {
        case kSystemInitMs:
          x = o.system_init_unix_ms;
          break;
        case kTotalFlowsExp:
          x = o.exported_flows;
          break;
        case kNotSentFlows:
          x = o.not_sent_flows;
          break;
        case kSamplingInterval:
          x = o.sampling_interval;
          break;
        case kSamplingAlgorithm:
          x = o.sampling_algorithm;
          break;
        case kSelectorAlgorithm:
          x = o.sampling_algorithm == 2 ? 3 : 1;  // random n-out-of-N : systematic count-based
          break;
        case kSamplingSize:
          x = 1;
          break;
        case kSamplingPopulation:
          x = o.sampling_interval;
          break;
        default:
          break;
      }
    }
    WriteUint(x, f.length, w);
  }
}

void WriteInterfaceOptionsRecord(Version v, uint32_t ifindex, std::string_view name,
                                 ByteWriter& w) {
  (void)v;
  w.U32(ifindex);
  const size_t n = name.size() < kIfNameBytes ? name.size() : kIfNameBytes;
  w.Bytes(name.data(), n);
  w.Zeros(kIfNameBytes - n);
}

// ---- v5 ----

void WriteV5Header(const V5Header& h, ByteWriter& w) {
  w.U16(5);
  w.U16(h.count);
  w.U32(h.sys_uptime_ms);
  w.U32(h.unix_secs);
  w.U32(h.unix_nsecs);
  w.U32(h.flow_sequence);
  w.U8(h.engine_type);
  w.U8(h.engine_id);
  w.U16(h.sampling_interval);
}

uint16_t V5SamplingField(uint32_t sampling_rate) {
  if (sampling_rate <= 1) return 0;
  const uint32_t interval = sampling_rate > 0x3FFF ? 0x3FFF : sampling_rate;
  return static_cast<uint16_t>((1u << 14) | interval);
}

V5Clamps WriteV5Record(const FlowRecord& r, uint64_t system_init_unix_ms, ByteWriter& w) {
  V5Clamps c;
  const FlowKey& k = r.key;
  auto if16 = [&c](uint32_t ifindex) -> uint16_t {
    if (ifindex > 0xFFFF) {
      c.ifindex = true;
      return 0xFFFF;
    }
    return static_cast<uint16_t>(ifindex);
  };
  auto c32 = [&c](uint64_t x) -> uint32_t {
    if (x > 0xFFFFFFFFull) {
      c.counters = true;
      return 0xFFFFFFFFu;
    }
    return static_cast<uint32_t>(x);
  };
  w.Bytes(k.src_ip, 4);
  w.Bytes(k.dst_ip, 4);
  w.U32(0);  // nexthop: unknown to a probe
  w.U16(if16(k.input_ifindex));
  w.U16(if16(k.output_ifindex));
  w.U32(c32(r.packets));
  w.U32(c32(r.bytes));
  w.U32(UptimeMs(r.first_ms, system_init_unix_ms));
  w.U32(UptimeMs(r.last_ms, system_init_unix_ms));
  w.U16(k.src_port);
  w.U16(k.dst_port);
  w.U8(0);  // pad1
  w.U8(static_cast<uint8_t>(r.tcp_flags));
  w.U8(k.protocol);
  w.U8(k.tos);
  w.U16(0);  // src_as
  w.U16(0);  // dst_as
  w.U8(0);   // src_mask
  w.U8(0);   // dst_mask
  w.U16(0);  // pad2
  return c;
}

// ---- MessageBuilder ----

MessageBuilder::MessageBuilder(Version v, uint8_t* buffer, size_t capacity)
    : version_(v), w_(buffer, capacity) {
  Reset();
}

size_t MessageBuilder::HeaderSize() const {
  return version_ == Version::kIpfix ? kIpfixHeaderSize : kV9HeaderSize;
}

void MessageBuilder::Reset() {
  w_.Reset();
  w_.Zeros(HeaderSize());
  set_start_ = 0;
  set_id_ = 0;
  records_ = 0;
  data_records_ = 0;
}

size_t MessageBuilder::size() const {
  if (set_start_ == 0) return w_.size();
  return set_start_ + Align4(w_.size() - set_start_);
}

bool MessageBuilder::BeginRecord(uint16_t set_id, size_t length) {
  const bool same_set = set_start_ != 0 && set_id_ == set_id;
  size_t final_size = 0;
  if (same_set) {
    const size_t set_len = w_.size() - set_start_ + length;
    final_size = set_start_ + Align4(set_len);
  } else {
    const size_t set_len = kSetHeaderSize + length;
    final_size = size() + Align4(set_len);
  }
  // Set lengths are 16-bit; so is the IPFIX message length.
  if (final_size > w_.capacity() || final_size > 0xFFFF) return false;
  if (!same_set) {
    CloseSet();
    set_start_ = w_.size();
    set_id_ = set_id;
    w_.U16(set_id);
    w_.U16(0);  // length, patched by CloseSet
  }
  return true;
}

void MessageBuilder::EndRecord(bool data_record) {
  ++records_;
  if (data_record) ++data_records_;
}

void MessageBuilder::CloseSet() {
  if (set_start_ == 0) return;
  // Both versions pad sets to 4 bytes: v9 must (RFC 3954 5.3); IPFIX may (RFC 7011 3.3.1),
  // and pmacct's nfacctd loses records that follow an unpadded set.
  w_.Zeros(Align4(w_.size() - set_start_) - (w_.size() - set_start_));
  w_.PatchU16(set_start_ + 2, static_cast<uint16_t>(w_.size() - set_start_));
  set_start_ = 0;
}

ByteView MessageBuilder::Finish(uint32_t sequence, uint32_t sys_uptime_ms, uint32_t unix_secs,
                                uint32_t source_id) {
  CloseSet();
  if (version_ == Version::kIpfix) {
    w_.PatchU16(0, 10);
    w_.PatchU16(2, static_cast<uint16_t>(w_.size()));
    w_.PatchU32(4, unix_secs);
    w_.PatchU32(8, sequence);
    w_.PatchU32(12, source_id);
  } else {
    w_.PatchU16(0, 9);
    w_.PatchU16(2, static_cast<uint16_t>(records_));
    w_.PatchU32(4, sys_uptime_ms);
    w_.PatchU32(8, unix_secs);
    w_.PatchU32(12, sequence);
    w_.PatchU32(16, source_id);
  }
  return w_.view();
}

}  // namespace xflowd::exporter::netflow
