#include "exporter/sflow/sflow_encoder.h"

#include <cassert>
#include <cstring>
#include <variant>

namespace xflowd::exporter::sflow {
namespace {

// Every sample and record starts with (data_format, length); the length counts the body only.
constexpr size_t kTagLenBytes = 8;
// Largest values the compact forms can carry: source_id = type:8 | index:24 and
// interface = format:2 | value:30.
constexpr uint32_t kMaxCompactType = 0xFF;
constexpr uint32_t kMaxCompactIndex = 0x00FFFFFF;
constexpr uint32_t kMaxCompactIfFormat = 0x3;
constexpr uint32_t kMaxCompactIfValue = 0x3FFFFFFF;

// The encoder writes through one of two writers with the same calls (U32, U64, Bytes, Zeros).
// DatagramWriter is the bounded ByteWriter, one Bytes() per word: ByteWriter::U32 stores a
// byte at a time and reloads its length after each store (a byte store may alias it).
class DatagramWriter {
 public:
  explicit DatagramWriter(ByteWriter& w) : w_(w) {}
  void U32(uint32_t x) {
    const uint8_t b[4] = {static_cast<uint8_t>(x >> 24), static_cast<uint8_t>(x >> 16),
                          static_cast<uint8_t>(x >> 8), static_cast<uint8_t>(x)};
    w_.Bytes(b, 4);
  }
  void U64(uint64_t x) {
    uint8_t b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(x >> (56 - 8 * i));
    w_.Bytes(b, 8);
  }
  void Bytes(const uint8_t* p, size_t n) { w_.Bytes(p, n); }
  void Zeros(size_t n) { w_.Zeros(n); }

 private:
  ByteWriter& w_;
};

// A small record is put together in a stack buffer whose size was checked first (no check
// per word) and goes into the datagram with one Bytes(): most records are a few words.
constexpr size_t kStageBytes = 48;
class StageWriter {
 public:
  explicit StageWriter(uint8_t* buf) : start_(buf), p_(buf) {}
  size_t size() const { return static_cast<size_t>(p_ - start_); }
  void U32(uint32_t x) {
    // One 4-byte store: byte stores through p_ would make the compiler reload p_ after each.
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    x = __builtin_bswap32(x);
#endif
    std::memcpy(p_, &x, 4);
    p_ += 4;
  }
  void U64(uint64_t x) {
    U32(static_cast<uint32_t>(x >> 32));
    U32(static_cast<uint32_t>(x));
  }
  void Bytes(const uint8_t* p, size_t n) {
    if (n) std::memcpy(p_, p, n);
    p_ += n;
  }
  void Zeros(size_t n) {
    std::memset(p_, 0, n);
    p_ += n;
  }

 private:
  uint8_t* start_;
  uint8_t* p_;
};

// XDR address union: type (0 unknown, 1 IPv4, 2 IPv6) then 0, 4 or 16 bytes.
uint32_t AddressType(const IpAddress& a) { return a.is_v4() ? 1 : a.is_v6() ? 2 : 0; }
size_t AddressSize(const IpAddress& a) { return 4 + a.size(); }
template <typename W>
void PutAddress(const IpAddress& a, W& w) {
  w.U32(AddressType(a));
  // Constant lengths: the copy is a store or two, not a call.
  if (a.is_v4()) {
    w.Bytes(a.bytes(), 4);
  } else if (a.is_v6()) {
    w.Bytes(a.bytes(), 16);
  }
}

// Writes a record's body from its field list (sflow_types.h); BodySizeVisitor sizes it.
template <typename W>
class PutVisitor {
 public:
  explicit PutVisitor(W& w) : w_(w) {}

  void U32(FieldName, uint32_t x) { w_.U32(x); }
  void U32(FieldName, uint32_t x, ValueNames) { w_.U32(x); }
  void U64(FieldName, uint64_t x) { w_.U64(x); }
  void F32(FieldName, float x) {
    uint32_t bits;
    static_assert(sizeof bits == sizeof x, "XDR float is 32 bits");
    std::memcpy(&bits, &x, sizeof bits);
    w_.U32(bits);
  }
  void Uuid(FieldName, const uint8_t (&b)[16]) { w_.Bytes(b, 16); }
  void Ipv4(FieldName, const uint8_t (&b)[4]) { w_.Bytes(b, 4); }
  void Ipv6(FieldName, const uint8_t (&b)[16]) { w_.Bytes(b, 16); }
  void Mac(FieldName, const uint8_t (&b)[6]) {
    w_.Bytes(b, 6);
    w_.Zeros(2);
  }
  void Address(FieldName, const IpAddress& a) { PutAddress(a, w_); }
  // XDR opaque<max> / string<max>: length, bytes, zeros up to the next 4-byte boundary.
  void Opaque(FieldName, const char*, size_t max, ByteView b) {
    const size_t n = b.size() < max ? b.size() : max;  // cut at max rather than refused
    w_.U32(static_cast<uint32_t>(n));
    w_.Bytes(b.data(), n);
    w_.Zeros(BodySizeVisitor::Pad4(n) - n);
  }
  void String(FieldName n, const char* len, size_t max, ByteView b) { Opaque(n, len, max, b); }
  void U32Array(FieldName, const char*, const char*, const Span<uint32_t>& s) {
    w_.U32(static_cast<uint32_t>(s.size()));
    for (uint32_t x : s) w_.U32(x);
  }
  template <typename T>
  void Array(FieldName, const char*, const Span<T>& s) {
    w_.U32(static_cast<uint32_t>(s.size()));
    for (const T& item : s) VisitFields(item, *this);
  }
  // Sample fields: the compact forms pack type:8 | index:24 and format:2 | value:30.
  void Source(FieldName, const DataSource& s, bool expanded) {
    if (expanded) {
      w_.U32(s.type);
      w_.U32(s.index);
    } else {
      w_.U32((s.type << 24) | s.index);
    }
  }
  void Interface(const InterfaceField&, const sflow::Interface& i, bool expanded) {
    if (expanded) {
      w_.U32(i.format);
      w_.U32(i.value);
    } else {
      w_.U32((i.format << 30) | i.value);
    }
  }

 private:
  W& w_;
};

template <typename Record>
size_t BodySize(const Record& r) {
  BodySizeVisitor v;
  VisitFields(r, v);
  return v.size();
}

// ---- records, generic over both variants ----

template <typename Variant>
size_t RecordSize(const Variant& v) {
  return kTagLenBytes + std::visit([](const auto& r) { return BodySize(r); }, v);
}

template <typename W, typename Record>
void PutTaggedRecord(const Record& r, size_t body, W& w) {
  w.U32(r.kFormat);
  w.U32(static_cast<uint32_t>(body));
  PutVisitor<W> put(w);
  VisitFields(r, put);
}

template <typename Variant>
void PutRecord(const Variant& v, ByteWriter& w) {
  std::visit(
      [&w](const auto& r) {
        const size_t body = BodySize(r);
        if (kTagLenBytes + body <= kStageBytes) {
          uint8_t stage[kStageBytes];
          StageWriter s(stage);
          PutTaggedRecord(r, body, s);
          w.Bytes(stage, s.size());
        } else {
          DatagramWriter d(w);
          PutTaggedRecord(r, body, d);
        }
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
  DatagramWriter(w).U32(count);
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

bool IsExpanded(const FlowSample& s) {
  return s.expanded || !FitsCompact(s.source) || !FitsCompact(s.input) || !FitsCompact(s.output);
}
bool IsExpanded(const CounterSample& s) { return s.expanded || !FitsCompact(s.source); }

uint32_t Format(const FlowSample& s) { return IsExpanded(s) ? kFlowSampleExpanded : kFlowSample; }
uint32_t Format(const CounterSample& s) {
  return IsExpanded(s) ? kCounterSampleExpanded : kCounterSample;
}
uint32_t Format(const DiscardSample&) { return kDiscardSample; }

bool IsExpanded(const DiscardSample&) { return true; }  // 0:5 has no compact form

// A sample's body: its fields (sflow_types.h), then its records.
template <typename Sample>
size_t SampleBodySize(const Sample& s) {
  BodySizeVisitor v;
  Sample::Fields(s, v, IsExpanded(s));
  return v.size() + RecordsSize(s.records, Count(s.records, s.record_count));
}
template <typename Sample>
void PutBody(const Sample& s, ByteWriter& w) {
  DatagramWriter d(w);
  PutVisitor<DatagramWriter> v(d);
  Sample::Fields(s, v, IsExpanded(s));
  PutRecords(s.records, Count(s.records, s.record_count), w);
}

// Sizes first, then writes: the length words are known before the body is written (no patching)
// and a sample that cannot fit is refused before a single byte lands in the datagram.
template <typename Sample>
bool EncodeSample(const Sample& s, ByteWriter& w) {
  if (w.overflowed()) return false;
  const size_t body = SampleBodySize(s);
  if (w.remaining() < kTagLenBytes + body) return false;
  const size_t start = w.size();
  DatagramWriter d(w);
  d.U32(Format(s));
  d.U32(static_cast<uint32_t>(body));
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
size_t EncodedSize(const FlowSample& sample) { return kTagLenBytes + SampleBodySize(sample); }
size_t EncodedSize(const CounterSample& sample) { return kTagLenBytes + SampleBodySize(sample); }
size_t EncodedSize(const DiscardSample& sample) { return kTagLenBytes + SampleBodySize(sample); }

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
  DatagramWriter d(w_);
  d.U32(kVersion5);
  PutAddress(agent_address_, d);
  d.U32(sub_agent_id_);
  d.U32(0);  // sequence, uptime and sample count: filled in by Finish()
  d.U32(0);
  d.U32(0);
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
