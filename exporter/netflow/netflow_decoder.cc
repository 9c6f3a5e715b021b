#include "exporter/netflow/netflow_decoder.h"

#include <cstring>
#include <type_traits>
#include <utility>

namespace xflowd::exporter::netflow {

using hal::base::ByteReader;
using hal::base::InternalError;
using hal::base::InvalidArgumentError;
using hal::base::Result;
using hal::base::Status;

namespace {

Status Err(size_t offset, const std::string& what) {
  return InvalidArgumentError("offset " + std::to_string(offset) + ": " + what);
}

std::string N(uint64_t x) { return std::to_string(x); }

uint64_t BeUint(const uint8_t* p, size_t n) {
  uint64_t x = 0;
  const size_t start = n > 8 ? n - 8 : 0;
  for (size_t i = start; i < n; ++i) x = (x << 8) | p[i];
  return x;
}

// v5/v9: the Unix ms of a sysUptime-relative time, from the header's wall clock and uptime.
uint64_t UptimeToUnixMs(uint32_t unix_secs, uint32_t unix_nsecs, uint32_t sys_uptime_ms,
                        uint32_t uptime_ms) {
  const int64_t base = int64_t{unix_secs} * 1000 + unix_nsecs / 1000000 - int64_t{sys_uptime_ms};
  const int64_t t = base + uptime_ms;
  return t < 0 ? 0 : static_cast<uint64_t>(t);
}

// Applies one field of a data record to `f`. Unknown fields are ignored.
Status ApplyField(uint16_t type, const uint8_t* p, size_t len, size_t offset, Version v,
                  DecodedFlow* f) {
  FlowRecord& r = f->record;
  auto addr = [&](uint8_t* dst, size_t want, uint8_t ipv) -> Status {
    if (len != want) {
      return Err(offset, "field " + N(type) + " has length " + N(len) + ", expected " + N(want));
    }
    std::memcpy(dst, p, want);
    if (r.key.ip_version == 0) r.key.ip_version = ipv;
    return Status::Ok();
  };
  const bool numeric_ok = len >= 1 && len <= 8;
  const uint64_t x = numeric_ok ? BeUint(p, len) : 0;
  switch (type) {
    case field::kSrcIpv4:
      return addr(r.key.src_ip, 4, 4);
    case field::kDstIpv4:
      return addr(r.key.dst_ip, 4, 4);
    case field::kSrcIpv6:
      return addr(r.key.src_ip, 16, 6);
    case field::kDstIpv6:
      return addr(r.key.dst_ip, 16, 6);
    case field::kSrcMac:
    case field::kDstMac:
      if (len != 6) return Err(offset, "MAC field " + N(type) + " has length " + N(len));
      std::memcpy(type == field::kSrcMac ? r.key.src_mac : r.key.dst_mac, p, 6);
      return Status::Ok();
    case field::kMplsTopLabel:  // label, TC, S (3 bytes); FlowKey keeps the entry's TTL byte 0
      if (len != 3) return Err(offset, "MPLS label field has length " + N(len) + ", expected 3");
      r.key.mpls_top = static_cast<uint32_t>(BeUint(p, 3) << 8);
      return Status::Ok();
    default:
      break;
  }
  // The numeric elements: one length check, then the member (or the time) they carry.
  Status st = Status::Ok();
  auto set = [&](auto& member) {
    if (!numeric_ok) {
      st = Err(offset, "numeric field " + N(type) + " has length " + N(len));
      return;
    }
    member = static_cast<std::remove_reference_t<decltype(member)>>(x);
  };
  if (VisitNumericElement(type, r, set)) return st;
  uint64_t ignored = 0;
  switch (type) {
    case field::kFirstSwitched:
      set(f->first_uptime_ms);
      f->has_uptime = true;
      break;
    case field::kLastSwitched:
      set(f->last_uptime_ms);
      f->has_uptime = true;
      break;
    case field::kFlowStartMs:  // v9 has no such field: checked, not used
      set(v == Version::kIpfix ? r.first_ms : ignored);
      break;
    case field::kFlowEndMs:
      set(v == Version::kIpfix ? r.last_ms : ignored);
      break;
    default:
      break;  // a field we do not read
  }
  return st;
}

}  // namespace

uint64_t DecodedOptionValue::AsUint() const { return BeUint(value.data(), value.size()); }

std::string DecodedOptionValue::AsString() const {
  size_t n = 0;
  while (n < value.size() && value[n] != 0) ++n;
  return std::string(value.begin(), value.begin() + static_cast<std::ptrdiff_t>(n));
}

const DecodedOptionValue* DecodedOptionsRecord::Find(uint16_t type, bool scope) const {
  for (const DecodedOptionValue& v : values) {
    if (v.type == type && v.scope == scope) return &v;
  }
  return nullptr;
}

const DecodedTemplate* NetflowDecoder::FindTemplate(Version v, uint32_t source_id,
                                                    uint16_t id) const {
  auto it = templates_.find(Key(static_cast<uint16_t>(v), source_id, id));
  return it == templates_.end() ? nullptr : &it->second;
}

Result<DecodedMessage> NetflowDecoder::Decode(hal::base::ByteView m) {
  uint16_t version = 0;
  if (!m.U16At(0, &version)) return Err(0, "message of " + N(m.size()) + " bytes has no version");
  DecodedMessage out;
  Status st;
  switch (version) {
    case 5:
      out.version = Version::kV5;
      st = DecodeV5(m, &out);
      break;
    case 9:
      out.version = Version::kV9;
      st = DecodeV9OrIpfix(m, &out);
      break;
    case 10:
      out.version = Version::kIpfix;
      st = DecodeV9OrIpfix(m, &out);
      break;
    default:
      return Err(0, "version " + N(version) + " is not NetFlow v5, v9 or IPFIX (10)");
  }
  if (!st.ok()) return st;
  return out;
}

Status NetflowDecoder::DecodeV5(hal::base::ByteView m, DecodedMessage* out) {
  ByteReader r(m);
  r.U16();
  out->count = r.U16();
  out->sys_uptime_ms = r.U32();
  out->unix_secs = r.U32();
  out->unix_nsecs = r.U32();
  out->sequence = r.U32();
  out->engine_type = r.U8();
  out->engine_id = r.U8();
  out->sampling_field = r.U16();
  if (!r.ok()) return Err(m.size(), "v5 header needs 24 bytes, message has " + N(m.size()));
  if (out->count == 0 || out->count > kV5MaxRecords) {
    return Err(2, "v5 count " + N(out->count) + " is not 1..30");
  }
  const size_t want = kV5HeaderSize + kV5RecordSize * out->count;
  if (m.size() != want) {
    return Err(
        m.size() < want ? m.size() : want,
        "v5 count " + N(out->count) + " needs " + N(want) + " bytes, message has " + N(m.size()));
  }
  if (out->unix_nsecs >= 1000000000u) return Err(12, "v5 unix_nsecs " + N(out->unix_nsecs));
  const uint32_t interval = out->sampling_field & 0x3FFF;
  for (uint16_t i = 0; i < out->count; ++i) {
    DecodedFlow f;
    FlowRecord& rec = f.record;
    rec.key.ip_version = 4;
    ByteView src = r.Bytes(4);
    std::memcpy(rec.key.src_ip, src.data(), 4);
    ByteView dst = r.Bytes(4);
    std::memcpy(rec.key.dst_ip, dst.data(), 4);
    r.U32();  // nexthop
    rec.key.input_ifindex = r.U16();
    rec.key.output_ifindex = r.U16();
    rec.packets = r.U32();
    rec.bytes = r.U32();
    f.first_uptime_ms = r.U32();
    f.last_uptime_ms = r.U32();
    f.has_uptime = true;
    rec.key.src_port = r.U16();
    rec.key.dst_port = r.U16();
    r.U8();
    rec.tcp_flags = r.U8();
    rec.key.protocol = r.U8();
    rec.key.tos = r.U8();
    r.Skip(8);  // AS numbers, masks, pad
    rec.first_ms =
        UptimeToUnixMs(out->unix_secs, out->unix_nsecs, out->sys_uptime_ms, f.first_uptime_ms);
    rec.last_ms =
        UptimeToUnixMs(out->unix_secs, out->unix_nsecs, out->sys_uptime_ms, f.last_uptime_ms);
    rec.sampling_rate = interval == 0 ? 1 : interval;
    out->flows.push_back(f);
  }
  if (!r.ok()) return InternalError("v5 reader failed after the size check");
  out->record_count = out->count;
  out->data_record_count = out->count;
  return Status::Ok();
}

Status NetflowDecoder::DecodeV9OrIpfix(hal::base::ByteView m, DecodedMessage* out) {
  const bool ipfix = out->version == Version::kIpfix;
  ByteReader r(m);
  r.U16();
  size_t header = 0;
  if (ipfix) {
    out->length = r.U16();
    out->unix_secs = r.U32();
    out->sequence = r.U32();
    out->source_id = r.U32();
    header = kIpfixHeaderSize;
    if (!r.ok()) return Err(m.size(), "IPFIX header needs 16 bytes, message has " + N(m.size()));
    if (out->length != m.size()) {
      return Err(2,
                 "IPFIX length " + N(out->length) + " but message has " + N(m.size()) + " bytes");
    }
  } else {
    out->count = r.U16();
    out->sys_uptime_ms = r.U32();
    out->unix_secs = r.U32();
    out->sequence = r.U32();
    out->source_id = r.U32();
    header = kV9HeaderSize;
    if (!r.ok()) return Err(m.size(), "v9 header needs 20 bytes, message has " + N(m.size()));
  }
  size_t off = header;
  while (off < m.size()) {
    uint16_t set_id = 0;
    uint16_t set_len = 0;
    if (!m.U16At(off, &set_id) || !m.U16At(off + 2, &set_len)) {
      // v9 allows nothing after the last FlowSet; IPFIX neither.
      return Err(off, N(m.size() - off) + " bytes left, too few for a set header");
    }
    if (set_len < kSetHeaderSize) return Err(off + 2, "set length " + N(set_len) + " < 4");
    if (set_len > m.size() - off) {
      return Err(off + 2,
                 "set length " + N(set_len) + " exceeds the " + N(m.size() - off) + " bytes left");
    }
    out->set_ids.push_back(set_id);
    const size_t begin = off + kSetHeaderSize;
    const size_t end = off + set_len;
    const uint16_t tmpl_set = ipfix ? kIpfixTemplateSetId : kV9TemplateSetId;
    const uint16_t opt_set = ipfix ? kIpfixOptionsTemplateSetId : kV9OptionsTemplateSetId;
    Status st;
    if (set_id == tmpl_set || set_id == opt_set) {
      st = DecodeTemplateSet(m, begin, end, set_id == opt_set, out);
    } else if (set_id < 256) {
      return Err(off, "reserved set id " + N(set_id));
    } else {
      const DecodedTemplate* t = FindTemplate(out->version, out->source_id, set_id);
      if (t == nullptr) {
        ++out->skipped_sets;
      } else {
        st = DecodeDataSet(m, begin, end, *t, out);
      }
    }
    if (!st.ok()) return st;
    off = end;
  }
  if (!ipfix && out->skipped_sets == 0 && out->count != out->record_count) {
    return Err(2, "v9 count " + N(out->count) + " but the message has " + N(out->record_count) +
                      " records");
  }
  return Status::Ok();
}

Status NetflowDecoder::DecodeTemplateSet(hal::base::ByteView m, size_t begin, size_t end,
                                         bool options, DecodedMessage* out) {
  const bool ipfix = out->version == Version::kIpfix;
  ByteView set = m.Subview(0, end);
  size_t off = begin;
  const size_t min_record = options ? 6 : 4;
  // Anything shorter than a record header at the end is padding.
  while (end - off >= min_record) {
    const size_t rec_off = off;
    DecodedTemplate t;
    t.options = options;
    uint16_t id = 0;
    uint16_t a = 0;
    uint16_t b = 0;
    set.U16At(off, &id);
    set.U16At(off + 2, &a);
    size_t field_count = 0;
    if (options) {
      set.U16At(off + 4, &b);
      off += 6;
      if (ipfix) {
        field_count = a;
        t.scope_count = b;
        if (b == 0 || b > a) {
          return Err(rec_off + 4, "options template " + N(id) + ": scope field count " + N(b) +
                                      " of " + N(a) + " fields");
        }
      } else {
        if (a % 4 != 0 || b % 4 != 0 || a == 0) {
          return Err(rec_off + 2, "options template " + N(id) + ": scope length " + N(a) +
                                      ", option length " + N(b));
        }
        field_count = (a + b) / 4u;
        t.scope_count = static_cast<uint16_t>(a / 4);
      }
    } else {
      off += 4;
      field_count = a;
    }
    if (id == 0 && !options && field_count == 0 && !ipfix) break;  // v9 zero padding
    if (id < 256) return Err(rec_off, "template id " + N(id) + " < 256");
    t.id = id;
    size_t min_len = 0;
    for (size_t i = 0; i < field_count; ++i) {
      uint16_t type = 0;
      uint16_t len = 0;
      if (!set.U16At(off, &type) || !set.U16At(off + 2, &len)) {
        return Err(off, "template " + N(id) + ": field " + N(i + 1) + " of " + N(field_count) +
                            " runs past the set end " + N(end));
      }
      off += 4;
      uint32_t enterprise = 0;
      if (ipfix && (type & 0x8000)) {
        if (!set.U32At(off, &enterprise)) {
          return Err(off, "template " + N(id) + ": enterprise number past the set end");
        }
        off += 4;
        type &= 0x7FFF;
      }
      if (len == 0) return Err(off - 2, "template " + N(id) + ": field " + N(type) + " length 0");
      if (len == kVariableLength && !ipfix) {
        return Err(off - 2, "template " + N(id) + ": variable length in v9");
      }
      min_len += len == kVariableLength ? 1 : len;
      t.fields.push_back(FieldSpec{type, len});
      t.enterprises.push_back(enterprise);
    }
    ++out->record_count;
    const Key key(static_cast<uint16_t>(out->version), out->source_id, id);
    if (field_count == 0) {
      if (!ipfix) return Err(rec_off, "template " + N(id) + " has no fields");
      t.withdrawal = true;
      templates_.erase(key);
      out->templates.push_back(std::move(t));
      continue;
    }
    if (min_len > 0xFFFF) return Err(rec_off, "template " + N(id) + " records too long");
    if (templates_.size() >= kMaxTemplates && templates_.count(key) == 0) {
      return Err(rec_off, "more than " + N(kMaxTemplates) + " templates cached");
    }
    templates_[key] = t;
    out->templates.push_back(std::move(t));
  }
  return Status::Ok();
}

Status NetflowDecoder::DecodeDataSet(hal::base::ByteView m, size_t begin, size_t end,
                                     const DecodedTemplate& t, DecodedMessage* out) {
  const bool ipfix = out->version == Version::kIpfix;
  size_t min_len = 0;
  for (const FieldSpec& f : t.fields) min_len += f.length == kVariableLength ? 1 : f.length;
  ByteView set = m.Subview(0, end);
  size_t off = begin;
  const std::pair<uint16_t, uint32_t> source(static_cast<uint16_t>(out->version), out->source_id);
  while (end - off >= min_len) {
    DecodedFlow flow;
    DecodedOptionsRecord opt;
    opt.template_id = t.id;
    flow.template_id = t.id;
    for (size_t i = 0; i < t.fields.size(); ++i) {
      const FieldSpec& f = t.fields[i];
      size_t len = f.length;
      if (len == kVariableLength) {
        uint8_t l8 = 0;
        if (!set.U8At(off, &l8)) return Err(off, "variable-length field past the set end");
        off += 1;
        len = l8;
        if (l8 == 255) {
          uint16_t l16 = 0;
          if (!set.U16At(off, &l16)) return Err(off, "variable length past the set end");
          off += 2;
          len = l16;
        }
      }
      if (len > end - off) {
        return Err(off, "template " + N(t.id) + ": field " + N(f.type) + " of " + N(len) +
                            " bytes runs past the set end " + N(end));
      }
      const uint8_t* p = m.data() + off;
      if (t.options) {
        DecodedOptionValue v;
        v.type = f.type;
        v.scope = i < t.scope_count;
        v.value.assign(p, p + len);
        opt.values.push_back(std::move(v));
      } else if (t.enterprises[i] == 0) {
        XFLOWD_RETURN_IF_ERROR(ApplyField(f.type, p, len, off, out->version, &flow));
      }
      off += len;
    }
    ++out->record_count;
    ++out->data_record_count;
    if (t.options) {
      const DecodedOptionValue* s = opt.Find(field::kSamplingInterval);
      if (s != nullptr) sampling_[source] = static_cast<uint32_t>(s->AsUint());
      out->options.push_back(std::move(opt));
    } else {
      if (!ipfix && flow.has_uptime) {
        flow.record.first_ms =
            UptimeToUnixMs(out->unix_secs, 0, out->sys_uptime_ms, flow.first_uptime_ms);
        flow.record.last_ms =
            UptimeToUnixMs(out->unix_secs, 0, out->sys_uptime_ms, flow.last_uptime_ms);
      }
      auto it = sampling_.find(source);
      flow.record.sampling_rate = it == sampling_.end() || it->second == 0 ? 1 : it->second;
      out->flows.push_back(flow);
    }
    if (min_len == 0) break;  // cannot happen (templates have min length >= 1)
  }
  return Status::Ok();
}

}  // namespace xflowd::exporter::netflow
