// Unit tests of the sFlow v5 encoder: EncodedSize() == bytes written for every record and sample
// type, all-or-nothing writes when the buffer is short, and DatagramBuilder bookkeeping.
// Byte-exact output is checked in sflow_encoder_golden_test.cc.
#include "exporter/sflow/sflow_encoder.h"

#include <cstring>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "hal/base/byte_view.h"

namespace xflowd::exporter::sflow {
namespace {

using hal::base::ByteView;
using hal::base::ByteWriter;
using hal::base::IpAddress;

IpAddress Ip(const char* text) { return IpAddress::Parse(text).value(); }

uint32_t U32At(ByteView v, size_t off) {
  uint32_t x = 0;
  EXPECT_TRUE(v.U32At(off, &x)) << "offset " << off << " past " << v.size();
  return x;
}

const uint8_t kPacket[67] = {0x00, 0x00, 0x5e, 0x00, 0x53, 0x01, 0x00, 0x00,
                             0x5e, 0x00, 0x53, 0x02, 0x08, 0x00, 0x45};
const uint32_t kAsPath1[] = {65001, 65002, 65003};
const uint32_t kAsPath2[] = {4200000000u};
const AsPathSegment kSegments[] = {{2, {kAsPath1, 3}}, {1, {kAsPath2, 1}}, {2, {nullptr, 0}}};
const uint32_t kCommunities[] = {1, 2, 3, 4, 5};

// One of every flow record type, with the variable-length ones in several sizes.
std::vector<FlowRecord> AllFlowRecords() {
  std::vector<FlowRecord> out;
  for (size_t n = 0; n <= 9; ++n) {
    SampledHeader h;
    h.frame_length = 1500;
    h.header = ByteView(kPacket, n);
    out.push_back(h);
  }
  SampledHeader full;
  full.header = ByteView(kPacket, sizeof(kPacket));
  out.push_back(full);
  out.push_back(SampledEthernet{});
  out.push_back(SampledIpv4{});
  out.push_back(SampledIpv6{});
  out.push_back(ExtendedSwitch{});
  for (const char* hop : {"", "192.0.2.1", "2001:db8::1"}) {
    ExtendedRouter r;
    if (*hop) r.next_hop = Ip(hop);
    out.push_back(r);
  }
  for (uint32_t segments = 0; segments <= 3; ++segments) {
    for (uint32_t communities : {0u, 1u, 5u}) {
      ExtendedGateway g;
      g.next_hop = segments % 2 ? Ip("2001:db8::1") : Ip("192.0.2.1");
      g.dst_as_path = {kSegments, segments};
      g.communities = {kCommunities, communities};
      out.push_back(g);
    }
  }
  out.push_back(ExtendedTimestamp{});
  return out;
}

std::vector<CounterRecord> AllCounterRecords() {
  std::vector<CounterRecord> out;
  out.push_back(GenericInterfaceCounters{});
  out.push_back(EthernetInterfaceCounters{});
  out.push_back(VlanCounters{});
  out.push_back(ProcessorCounters{});
  static const std::string kNames = std::string(300, 'x');
  for (size_t n : {0, 1, 2, 3, 4, 5, 15, 16, 254, 255}) {
    PortName p;
    p.name = ByteView(reinterpret_cast<const uint8_t*>(kNames.data()), n);
    out.push_back(p);
  }
  return out;
}

FlowSample MakeFlowSample(const FlowRecord* records, uint32_t count, bool expanded) {
  FlowSample s;
  s.expanded = expanded;
  s.sequence = 1;
  s.source = {0, 3};
  s.sampling_rate = 256;
  s.sample_pool = 1024;
  s.input = {0, 3};
  s.output = {0, 4};
  s.records = records;
  s.record_count = count;
  return s;
}

CounterSample MakeCounterSample(const CounterRecord* records, uint32_t count, bool expanded) {
  CounterSample s;
  s.expanded = expanded;
  s.sequence = 1;
  s.source = {0, 3};
  s.records = records;
  s.record_count = count;
  return s;
}

DiscardSample MakeDiscardSample(const FlowRecord* records, uint32_t count) {
  DiscardSample s;
  s.sequence = 1;
  s.source = {0, 3};
  s.input = 3;
  s.reason = 258;
  s.records = records;
  s.record_count = count;
  return s;
}

// Walks the record list that starts at `off` in an encoded sample and checks every record's
// length word against the size EncodedSize() predicts for it, and that the list ends exactly at
// the end of the sample.
template <typename Record>
void ExpectRecordLengths(ByteView sample, size_t off, const Record* records, uint32_t count) {
  ASSERT_EQ(U32At(sample, off), count) << "record count";
  off += 4;
  for (uint32_t i = 0; i < count; ++i) {
    const size_t expected = EncodedSize(records[i]);
    EXPECT_EQ(U32At(sample, off + 4) + 8, expected) << "record " << i;
    EXPECT_EQ(expected % 4, 0u) << "record " << i << " not 4-byte aligned";
    off += expected;
  }
  EXPECT_EQ(off, sample.size());
}

// ---- sizes ----

TEST(SflowEncoderTest, DatagramHeaderSize) {
  EXPECT_EQ(DatagramHeaderSize(Ip("192.0.2.1")), 28u);
  EXPECT_EQ(DatagramHeaderSize(Ip("2001:db8::1")), 40u);
  EXPECT_EQ(DatagramHeaderSize(IpAddress()), 24u);  // type 0 = UNKNOWN, no address bytes
}

TEST(SflowEncoderTest, FixedRecordSizes) {
  // Sizes from the spec, including the 8-byte (format, length) prefix.
  EXPECT_EQ(EncodedSize(FlowRecord(SampledEthernet{})), 8u + 24);
  EXPECT_EQ(EncodedSize(FlowRecord(SampledIpv4{})), 8u + 32);
  EXPECT_EQ(EncodedSize(FlowRecord(SampledIpv6{})), 8u + 56);
  EXPECT_EQ(EncodedSize(FlowRecord(ExtendedSwitch{})), 8u + 16);
  EXPECT_EQ(EncodedSize(FlowRecord(ExtendedTimestamp{})), 8u + 8);
  EXPECT_EQ(EncodedSize(CounterRecord(GenericInterfaceCounters{})), 8u + 88);
  EXPECT_EQ(EncodedSize(CounterRecord(EthernetInterfaceCounters{})), 8u + 52);
  EXPECT_EQ(EncodedSize(CounterRecord(VlanCounters{})), 8u + 28);
  EXPECT_EQ(EncodedSize(CounterRecord(ProcessorCounters{})), 8u + 28);
}

TEST(SflowEncoderTest, EveryFlowRecordSizeMatchesBytesWritten) {
  const std::vector<FlowRecord> records = AllFlowRecords();
  for (size_t i = 0; i < records.size(); ++i) {
    SCOPED_TRACE("flow record " + std::to_string(i) + ", variant index " +
                 std::to_string(records[i].index()));
    for (bool expanded : {false, true}) {
      const FlowSample s = MakeFlowSample(&records[i], 1, expanded);
      uint8_t buf[1024];
      ByteWriter w(buf, sizeof(buf));
      ASSERT_TRUE(Encode(s, w));
      EXPECT_EQ(w.size(), EncodedSize(s));
      const size_t prefix = expanded ? 8 + 40 : 8 + 28;
      EXPECT_EQ(EncodedSize(s), prefix + 4 + EncodedSize(records[i]));
      ExpectRecordLengths(w.view(), prefix, &records[i], 1);
    }
    const DiscardSample d = MakeDiscardSample(&records[i], 1);
    uint8_t buf[1024];
    ByteWriter w(buf, sizeof(buf));
    ASSERT_TRUE(Encode(d, w));
    EXPECT_EQ(w.size(), EncodedSize(d));
    ExpectRecordLengths(w.view(), 8 + 28, &records[i], 1);
  }
}

TEST(SflowEncoderTest, EveryCounterRecordSizeMatchesBytesWritten) {
  const std::vector<CounterRecord> records = AllCounterRecords();
  for (size_t i = 0; i < records.size(); ++i) {
    SCOPED_TRACE("counter record " + std::to_string(i));
    for (bool expanded : {false, true}) {
      const CounterSample s = MakeCounterSample(&records[i], 1, expanded);
      uint8_t buf[1024];
      ByteWriter w(buf, sizeof(buf));
      ASSERT_TRUE(Encode(s, w));
      EXPECT_EQ(w.size(), EncodedSize(s));
      const size_t prefix = expanded ? 8 + 12 : 8 + 8;
      EXPECT_EQ(EncodedSize(s), prefix + 4 + EncodedSize(records[i]));
      ExpectRecordLengths(w.view(), prefix, &records[i], 1);
    }
  }
}

TEST(SflowEncoderTest, SamplesWithAllRecordsSizeMatchesBytesWritten) {
  const std::vector<FlowRecord> flows = AllFlowRecords();
  const std::vector<CounterRecord> counters = AllCounterRecords();
  const uint32_t nf = static_cast<uint32_t>(flows.size());
  const uint32_t nc = static_cast<uint32_t>(counters.size());
  std::vector<uint8_t> buf(16384);
  for (bool expanded : {false, true}) {
    ByteWriter w(buf.data(), buf.size());
    const FlowSample f = MakeFlowSample(flows.data(), nf, expanded);
    ASSERT_TRUE(Encode(f, w));
    EXPECT_EQ(w.size(), EncodedSize(f));
    EXPECT_EQ(U32At(w.view(), 4) + 8, w.size()) << "sample length word";
    ExpectRecordLengths(w.view(), expanded ? 48 : 36, flows.data(), nf);

    w.Reset();
    const CounterSample c = MakeCounterSample(counters.data(), nc, expanded);
    ASSERT_TRUE(Encode(c, w));
    EXPECT_EQ(w.size(), EncodedSize(c));
    EXPECT_EQ(U32At(w.view(), 4) + 8, w.size());
    ExpectRecordLengths(w.view(), expanded ? 20 : 16, counters.data(), nc);
  }
  ByteWriter w(buf.data(), buf.size());
  const DiscardSample d = MakeDiscardSample(flows.data(), nf);
  ASSERT_TRUE(Encode(d, w));
  EXPECT_EQ(w.size(), EncodedSize(d));
  EXPECT_EQ(U32At(w.view(), 4) + 8, w.size());
  ExpectRecordLengths(w.view(), 36, flows.data(), nf);
}

TEST(SflowEncoderTest, EmptySampleSizes) {
  EXPECT_EQ(EncodedSize(MakeFlowSample(nullptr, 0, false)), 8u + 32);
  EXPECT_EQ(EncodedSize(MakeFlowSample(nullptr, 0, true)), 8u + 44);
  EXPECT_EQ(EncodedSize(MakeCounterSample(nullptr, 0, false)), 8u + 12);
  EXPECT_EQ(EncodedSize(MakeCounterSample(nullptr, 0, true)), 8u + 16);
  EXPECT_EQ(EncodedSize(MakeDiscardSample(nullptr, 0)), 8u + 32);
}

// ---- all-or-nothing writes ----

// For every capacity short of the sample's size, Encode must fail, keep what was already in the
// writer and not touch a byte past it.
template <typename Sample>
void ExpectAllOrNothing(const Sample& s) {
  const size_t size = EncodedSize(s);
  const uint8_t kPrefix[3] = {0x11, 0x22, 0x33};
  std::vector<uint8_t> buf(3 + size + 16);
  for (size_t room = 0; room < size; ++room) {
    std::memset(buf.data(), 0xcc, buf.size());
    ByteWriter w(buf.data(), 3 + room);
    w.Bytes(kPrefix, 3);
    ASSERT_FALSE(Encode(s, w)) << "room " << room;
    EXPECT_EQ(w.size(), 3u);
    EXPECT_FALSE(w.overflowed());
    EXPECT_EQ(std::memcmp(buf.data(), kPrefix, 3), 0);
    for (size_t i = 3; i < buf.size(); ++i) {
      ASSERT_EQ(buf[i], 0xcc) << "room " << room << ": byte " << i << " written";
    }
  }
  ByteWriter exact(buf.data(), 3 + size);
  exact.Bytes(kPrefix, 3);
  EXPECT_TRUE(Encode(s, exact));
  EXPECT_EQ(exact.size(), 3 + size);
  EXPECT_EQ(exact.remaining(), 0u);
}

TEST(SflowEncoderTest, ShortBufferWritesNothing) {
  const std::vector<FlowRecord> flows = AllFlowRecords();
  const std::vector<CounterRecord> counters = AllCounterRecords();
  const FlowRecord* f = flows.data();
  const CounterRecord* c = counters.data();
  {
    SCOPED_TRACE("flow compact");
    ExpectAllOrNothing(MakeFlowSample(f, 12, false));
  }
  {
    SCOPED_TRACE("flow expanded");
    ExpectAllOrNothing(MakeFlowSample(f + 10, 8, true));
  }
  {
    SCOPED_TRACE("counter compact");
    ExpectAllOrNothing(MakeCounterSample(c, 6, false));
  }
  {
    SCOPED_TRACE("counter expanded");
    ExpectAllOrNothing(MakeCounterSample(c + 3, 5, true));
  }
  {
    SCOPED_TRACE("discard");
    ExpectAllOrNothing(MakeDiscardSample(f + 5, 6));
  }
}

TEST(SflowEncoderTest, OverflowedWriterIsRefused) {
  uint8_t buf[256];
  ByteWriter w(buf, 4);
  w.U64(1);  // does not fit: sets the overflow flag
  ASSERT_TRUE(w.overflowed());
  const CounterSample s = MakeCounterSample(nullptr, 0, false);
  EXPECT_FALSE(Encode(s, w));
  EXPECT_TRUE(w.overflowed()) << "a failure the caller did not cause must not clear its flag";
  EXPECT_EQ(w.size(), 0u);
}

// ---- compact vs expanded ----

TEST(SflowEncoderTest, CompactFormPacksTypeAndFormat) {
  FlowSample s = MakeFlowSample(nullptr, 0, false);
  s.source = {2, 0x00ffffff};
  s.input = {1, 0x3fffffff};
  s.output = {2, 7};
  uint8_t buf[128];
  ByteWriter w(buf, sizeof(buf));
  ASSERT_TRUE(Encode(s, w));
  EXPECT_EQ(U32At(w.view(), 0), 1u);  // still compact: everything fits
  EXPECT_EQ(U32At(w.view(), 12), 0x02ffffffu);
  EXPECT_EQ(U32At(w.view(), 28), 0x7fffffffu);
  EXPECT_EQ(U32At(w.view(), 32), 0x80000007u);
}

TEST(SflowEncoderTest, ValuesTooLargeForCompactFormGoExpanded) {
  struct Case {
    DataSource source;
    Interface input;
  };
  const Case cases[] = {
      {{0, 0x01000000}, {0, 1}},  // index needs 25 bits
      {{0x100, 1}, {0, 1}},       // type needs 9 bits
      {{0, 1}, {0, 0x40000000}},  // interface value needs 31 bits
      {{0, 1}, {4, 1}},           // interface format needs 3 bits
  };
  for (const Case& c : cases) {
    FlowSample s = MakeFlowSample(nullptr, 0, false);
    s.source = c.source;
    s.input = c.input;
    uint8_t buf[128];
    ByteWriter w(buf, sizeof(buf));
    ASSERT_TRUE(Encode(s, w));
    EXPECT_EQ(U32At(w.view(), 0), uint32_t{kFlowSampleExpanded});
    EXPECT_EQ(w.size(), EncodedSize(s));
    EXPECT_EQ(U32At(w.view(), 12), c.source.type);
    EXPECT_EQ(U32At(w.view(), 16), c.source.index);
    EXPECT_EQ(U32At(w.view(), 32), c.input.format);
    EXPECT_EQ(U32At(w.view(), 36), c.input.value);
  }
  CounterSample cs = MakeCounterSample(nullptr, 0, false);
  cs.source = {0, 0x01000000};
  uint8_t buf[64];
  ByteWriter w(buf, sizeof(buf));
  ASSERT_TRUE(Encode(cs, w));
  EXPECT_EQ(U32At(w.view(), 0), uint32_t{kCounterSampleExpanded});
  EXPECT_EQ(w.size(), EncodedSize(cs));
}

// ---- defensive cases ----

TEST(SflowEncoderTest, PortNameIsCutTo255Bytes) {
  const std::string name(300, 'p');
  PortName p;
  p.name = ByteView(name);
  const CounterRecord record = p;
  EXPECT_EQ(EncodedSize(record), 8u + 4 + 256);
  const CounterSample s = MakeCounterSample(&record, 1, false);
  uint8_t buf[512];
  ByteWriter w(buf, sizeof(buf));
  ASSERT_TRUE(Encode(s, w));
  EXPECT_EQ(w.size(), EncodedSize(s));
  EXPECT_EQ(U32At(w.view(), 28), 255u) << "XDR string<255> length";
  EXPECT_EQ(buf[32 + 254], 'p');
  EXPECT_EQ(buf[32 + 255], 0) << "padding";
}

TEST(SflowEncoderTest, NullArraysAreEncodedAsEmpty) {
  FlowSample s = MakeFlowSample(nullptr, 5, false);
  uint8_t buf[256];
  ByteWriter w(buf, sizeof(buf));
  ASSERT_TRUE(Encode(s, w));
  EXPECT_EQ(w.size(), EncodedSize(s));
  EXPECT_EQ(U32At(w.view(), 36), 0u) << "record count";

  const AsPathSegment segments[] = {{2, {nullptr, 3}}};
  ExtendedGateway g;
  g.dst_as_path = {segments, 1};
  g.communities = {nullptr, 4};  // a null array with a count is empty
  const FlowRecord record = g;
  const FlowSample gs = MakeFlowSample(&record, 1, false);
  w.Reset();
  ASSERT_TRUE(Encode(gs, w));
  EXPECT_EQ(w.size(), EncodedSize(gs));
  // next hop type 0, as, src_as, src_peer_as, 1 segment, type 2, 0 ASes, 0 communities, localpref
  EXPECT_EQ(EncodedSize(record), 8u + 4 + 12 + 4 + 8 + 4 + 4);
}

// ---- DatagramBuilder ----

TEST(SflowDatagramBuilderTest, StartsWithHeaderOnly) {
  uint8_t buf[kMinDatagramBytes];
  DatagramBuilder b(buf, sizeof(buf), Ip("192.0.2.1"), 9);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.sample_count(), 0u);
  EXPECT_EQ(b.size(), 28u);
  EXPECT_EQ(b.capacity(), kMinDatagramBytes);
  EXPECT_EQ(b.remaining(), kMinDatagramBytes - 28);
  const ByteView d = b.Finish(5, 6);
  EXPECT_EQ(d.size(), 28u);
  EXPECT_EQ(U32At(d, 0), 5u);   // version
  EXPECT_EQ(U32At(d, 12), 9u);  // sub_agent_id
  EXPECT_EQ(U32At(d, 16), 5u);  // sequence
  EXPECT_EQ(U32At(d, 20), 6u);  // uptime
  EXPECT_EQ(U32At(d, 24), 0u);  // samples
}

TEST(SflowDatagramBuilderTest, AddsUntilFullThenRefusesWithoutWriting) {
  const std::vector<FlowRecord> flows = AllFlowRecords();
  const FlowSample s = MakeFlowSample(flows.data() + 10, 3, false);
  const size_t sample_size = EncodedSize(s);
  uint8_t buf[kDefaultMaxDatagramBytes];
  DatagramBuilder b(buf, sizeof(buf), Ip("2001:db8::1"), 0);
  const size_t fits = (sizeof(buf) - 40) / sample_size;
  ASSERT_GT(fits, 1u);
  for (size_t i = 0; i < fits; ++i) ASSERT_TRUE(b.Add(s)) << i;
  EXPECT_EQ(b.sample_count(), fits);
  EXPECT_EQ(b.size(), 40 + fits * sample_size);
  const size_t before = b.size();
  EXPECT_FALSE(b.Add(s));
  EXPECT_EQ(b.size(), before);
  EXPECT_EQ(b.sample_count(), fits);
  // A smaller sample may still fit in what is left.
  const CounterSample small = MakeCounterSample(nullptr, 0, false);
  EXPECT_EQ(b.Add(small), b.remaining() >= EncodedSize(small));

  const ByteView d = b.Finish(77, 88);
  EXPECT_EQ(d.size(), b.size());
  EXPECT_EQ(U32At(d, 28), 77u);
  EXPECT_EQ(U32At(d, 32), 88u);
  EXPECT_EQ(U32At(d, 36), b.sample_count());
  // The first sample follows the header.
  EXPECT_EQ(U32At(d, 40), uint32_t{kFlowSample});
  EXPECT_EQ(U32At(d, 44) + 8, sample_size);
}

TEST(SflowDatagramBuilderTest, ResetStartsOver) {
  uint8_t buf[kMinDatagramBytes];
  DatagramBuilder b(buf, sizeof(buf), Ip("192.0.2.1"), 0);
  ASSERT_TRUE(b.Add(MakeCounterSample(nullptr, 0, false)));
  ASSERT_TRUE(b.Add(MakeDiscardSample(nullptr, 0)));
  ASSERT_TRUE(b.Add(MakeFlowSample(nullptr, 0, true)));
  EXPECT_EQ(b.sample_count(), 3u);
  EXPECT_EQ(U32At(b.Finish(1, 1), 24), 3u);
  b.Reset();
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.size(), 28u);
  const ByteView d = b.Finish(2, 2);
  EXPECT_EQ(d.size(), 28u);
  EXPECT_EQ(U32At(d, 16), 2u);
  EXPECT_EQ(U32At(d, 24), 0u);
}

TEST(SflowDatagramBuilderTest, FinishCanBeCalledAgain) {
  uint8_t buf[kMinDatagramBytes];
  DatagramBuilder b(buf, sizeof(buf), Ip("192.0.2.1"), 0);
  ASSERT_TRUE(b.Add(MakeCounterSample(nullptr, 0, false)));
  b.Finish(1, 100);
  ASSERT_TRUE(b.Add(MakeCounterSample(nullptr, 0, true)));
  const ByteView d = b.Finish(2, 200);
  EXPECT_EQ(U32At(d, 16), 2u);
  EXPECT_EQ(U32At(d, 20), 200u);
  EXPECT_EQ(U32At(d, 24), 2u);
}

TEST(SflowDatagramBuilderTest, BufferSmallerThanHeaderRefusesSamples) {
  uint8_t buf[16];
  DatagramBuilder b(buf, sizeof(buf), Ip("2001:db8::1"), 0);
  EXPECT_FALSE(b.Add(MakeCounterSample(nullptr, 0, false)));
  EXPECT_EQ(b.sample_count(), 0u);
  EXPECT_LE(b.Finish(1, 1).size(), sizeof(buf));
}

}  // namespace
}  // namespace xflowd::exporter::sflow
