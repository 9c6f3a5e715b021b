#include "agent/sflow/receiver.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "exporter/capture_transport.h"
#include "exporter/sflow/sflow_encoder.h"
#include "hal/base/byte_view.h"
#include "hal/base/clock.h"

namespace xflowd::agent::sflow {
namespace {

using exporter::CaptureTransport;
using hal::base::ByteReader;
using hal::base::ByteView;
using hal::base::IpAddress;
using hal::base::ManualClock;
using hal::base::MonoTime;

// Test-local XDR reader: just enough of sFlow v5 to check what the agent sent.
struct XRecord {
  uint32_t tag = 0;
  std::vector<uint8_t> body;
};
struct XSample {
  uint32_t tag = 0;  // 1 flow, 2 counter, 3 flow expanded, 4 counter expanded
  uint32_t sequence = 0;
  uint32_t source_type = 0;
  uint32_t source_index = 0;
  uint32_t rate = 0, pool = 0, drops = 0;      // flow samples only
  uint32_t input_format = 0, input_value = 0;  // flow samples only
  uint32_t output_format = 0, output_value = 0;
  std::vector<XRecord> records;
  const XRecord* Find(uint32_t record_tag) const {
    for (const XRecord& r : records) {
      if (r.tag == record_tag) return &r;
    }
    return nullptr;
  }
};
struct XDatagram {
  size_t size = 0;
  uint32_t version = 0, address_type = 0, sub_agent = 0, sequence = 0, uptime_ms = 0;
  std::vector<XSample> samples;
};

bool ReadRecords(ByteReader& r, std::vector<XRecord>* out) {
  const uint32_t n = r.U32();
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    XRecord rec;
    rec.tag = r.U32();
    const uint32_t len = r.U32();
    ByteView body = r.Bytes(len);
    rec.body.assign(body.begin(), body.end());
    out->push_back(std::move(rec));
  }
  return r.ok();
}

// Parses a whole datagram; false if anything is malformed or bytes are left over.
bool ReadDatagram(const std::vector<uint8_t>& bytes, XDatagram* d) {
  ByteReader r(ByteView(bytes.data(), bytes.size()));
  d->size = bytes.size();
  d->version = r.U32();
  d->address_type = r.U32();
  r.Skip(d->address_type == 2 ? 16 : 4);
  d->sub_agent = r.U32();
  d->sequence = r.U32();
  d->uptime_ms = r.U32();
  const uint32_t count = r.U32();
  for (uint32_t i = 0; i < count && r.ok(); ++i) {
    XSample s;
    s.tag = r.U32();
    const uint32_t len = r.U32();
    ByteReader b(r.Bytes(len));
    s.sequence = b.U32();
    const bool expanded = s.tag == 3 || s.tag == 4;
    if (expanded) {
      s.source_type = b.U32();
      s.source_index = b.U32();
    } else {
      const uint32_t id = b.U32();
      s.source_type = id >> 24;
      s.source_index = id & 0xFFFFFF;
    }
    if (s.tag == 1 || s.tag == 3) {
      s.rate = b.U32();
      s.pool = b.U32();
      s.drops = b.U32();
      if (expanded) {
        s.input_format = b.U32();
        s.input_value = b.U32();
        s.output_format = b.U32();
        s.output_value = b.U32();
      } else {
        const uint32_t in = b.U32();
        const uint32_t out = b.U32();
        s.input_format = in >> 30;
        s.input_value = in & 0x3FFFFFFF;
        s.output_format = out >> 30;
        s.output_value = out & 0x3FFFFFFF;
      }
    } else if (s.tag != 2 && s.tag != 4) {
      return false;
    }
    if (!ReadRecords(b, &s.records) || b.remaining() != 0) return false;
    d->samples.push_back(std::move(s));
  }
  return r.ok() && r.remaining() == 0;
}

std::vector<XDatagram> ReadAll(const exporter::CaptureTransport& t) {
  std::vector<XDatagram> out;
  for (const auto& bytes : t.datagrams()) {
    XDatagram d;
    EXPECT_TRUE(ReadDatagram(bytes, &d)) << "malformed datagram " << out.size();
    out.push_back(std::move(d));
  }
  return out;
}

const IpAddress kAgentV4 = IpAddress::V4(0xC0000201);  // 192.0.2.1
constexpr size_t kV4HeaderBytes = 28;

// A compact flow sample carrying one sampled header of `header_len` bytes:
// 64 + header_len rounded up to 4 bytes on the wire.
void AddFlow(Receiver& r, uint32_t sequence, size_t header_len) {
  static const uint8_t kBytes[9000] = {};
  wire::SampledHeader h;
  h.frame_length = 1500;
  h.header = ByteView(kBytes, header_len);
  const wire::FlowRecord records[1] = {h};
  wire::FlowSample s;
  s.sequence = sequence;
  s.source = {0, 7};
  s.sampling_rate = 100;
  s.records = records;
  s.record_count = 1;
  r.Add(s);
}

class ReceiverTest : public ::testing::Test {
 protected:
  ManualClock clock_{MonoTime::FromSeconds(1000)};
  CaptureTransport t1_, t2_, t3_;
};

TEST_F(ReceiverTest, DatagramSequenceStartsAtOneWithoutGaps) {
  ReceiverConfig config;
  Receiver r(config, kAgentV4, 3, clock_, MonoTime::FromSeconds(990), {&t1_});
  EXPECT_EQ(r.next_sequence(), 1u);
  r.Flush();  // nothing pending: nothing sent, no sequence number used
  for (uint32_t i = 0; i < 3; ++i) {
    AddFlow(r, i + 1, 64);
    clock_.Advance(hal::base::milliseconds(1500));
    r.Flush();
    r.Flush();
  }
  auto d = ReadAll(t1_);
  ASSERT_EQ(d.size(), 3u);
  for (uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(d[i].version, 5u);
    EXPECT_EQ(d[i].address_type, 1u);
    EXPECT_EQ(d[i].sub_agent, 3u);
    EXPECT_EQ(d[i].sequence, i + 1);
    EXPECT_EQ(d[i].uptime_ms, 10000u + 1500u * (i + 1));
    ASSERT_EQ(d[i].samples.size(), 1u);
    EXPECT_EQ(d[i].samples[0].sequence, i + 1);
  }
  EXPECT_EQ(r.next_sequence(), 4u);
  EXPECT_EQ(r.stats().datagrams, 3u);
  EXPECT_EQ(r.stats().flow_samples, 3u);
}

TEST_F(ReceiverTest, FlushesBeforeOverflowAndLosesNothing) {
  ReceiverConfig config;
  config.max_datagram_bytes = 400;
  Receiver r(config, kAgentV4, 0, clock_, MonoTime(), {&t1_});
  constexpr uint32_t kSamples = 500;
  for (uint32_t i = 0; i < kSamples; ++i) AddFlow(r, i + 1, (i * 37) % 200);  // 64..264 bytes
  r.Flush();

  auto d = ReadAll(t1_);
  ASSERT_GT(d.size(), 1u);
  uint32_t next = 1;
  for (size_t i = 0; i < d.size(); ++i) {
    EXPECT_LE(d[i].size, 400u);
    EXPECT_EQ(d[i].sequence, i + 1);
    ASSERT_FALSE(d[i].samples.empty());
    for (const XSample& s : d[i].samples) EXPECT_EQ(s.sequence, next++);  // order kept
  }
  EXPECT_EQ(next - 1, kSamples);
  EXPECT_EQ(r.stats().flow_samples, kSamples);
  EXPECT_EQ(r.stats().oversize_drops, 0u);
  EXPECT_EQ(r.stats().datagrams, d.size());
}

TEST_F(ReceiverTest, FillsDatagramExactlyToTheLimit) {
  ReceiverConfig config;
  config.max_datagram_bytes = kV4HeaderBytes + 2 * 128;
  Receiver r(config, kAgentV4, 0, clock_, MonoTime(), {&t1_});
  AddFlow(r, 1, 64);  // 128 bytes each
  AddFlow(r, 2, 64);
  EXPECT_TRUE(t1_.datagrams().empty());  // exactly full is not over
  AddFlow(r, 3, 64);
  ASSERT_EQ(t1_.datagrams().size(), 1u);
  EXPECT_EQ(t1_.datagrams()[0].size(), config.max_datagram_bytes);
}

TEST_F(ReceiverTest, OversizeSampleDroppedAlonePendingStillSent) {
  ReceiverConfig config;
  config.max_datagram_bytes = 200;  // room for 172 bytes of samples
  Receiver r(config, kAgentV4, 0, clock_, MonoTime(), {&t1_});
  AddFlow(r, 1, 20);
  AddFlow(r, 2, 120);  // 184 bytes: never fits
  EXPECT_EQ(r.stats().oversize_drops, 1u);
  EXPECT_TRUE(t1_.datagrams().empty());  // the pending datagram was not flushed for it
  AddFlow(r, 3, 20);
  r.Flush();

  auto d = ReadAll(t1_);
  ASSERT_EQ(d.size(), 1u);
  ASSERT_EQ(d[0].samples.size(), 2u);
  EXPECT_EQ(d[0].samples[0].sequence, 1u);
  EXPECT_EQ(d[0].samples[1].sequence, 3u);
  EXPECT_EQ(r.stats().flow_samples, 2u);
}

TEST_F(ReceiverTest, SendErrorCountedOtherTransportsStillGetTheDatagram) {
  ReceiverConfig config;
  Receiver r(config, kAgentV4, 0, clock_, MonoTime(), {&t1_, &t2_, &t3_});
  t2_.set_fail(true);
  for (uint32_t i = 1; i <= 2; ++i) {
    AddFlow(r, i, 64);
    r.Flush();
  }
  EXPECT_EQ(r.stats().send_errors, 2u);
  EXPECT_EQ(r.stats().datagrams, 2u);
  ASSERT_EQ(t1_.datagrams().size(), 2u);
  EXPECT_TRUE(t2_.datagrams().empty());
  EXPECT_EQ(t3_.datagrams(), t1_.datagrams());  // the same bytes to everyone

  t2_.set_fail(false);
  AddFlow(r, 3, 64);
  r.Flush();
  ASSERT_EQ(t2_.datagrams().size(), 1u);
  XDatagram d;
  ASSERT_TRUE(ReadDatagram(t2_.datagrams()[0], &d));
  EXPECT_EQ(d.sequence, 3u);  // the failed sends still used their sequence numbers
}

TEST_F(ReceiverTest, CountsEachSampleKind) {
  ReceiverConfig config;
  Receiver r(config, kAgentV4, 0, clock_, MonoTime(), {&t1_});
  wire::CounterSample c;
  c.sequence = 1;
  const wire::CounterRecord counters[1] = {wire::GenericInterfaceCounters{}};
  c.records = counters;
  c.record_count = 1;
  r.Add(c);
  wire::DiscardSample ds;
  r.Add(ds);
  AddFlow(r, 1, 64);
  EXPECT_EQ(r.stats().counter_samples, 1u);
  EXPECT_EQ(r.stats().discard_samples, 1u);
  EXPECT_EQ(r.stats().flow_samples, 1u);
  r.Flush();
  ASSERT_EQ(t1_.datagrams().size(), 1u);
}

TEST_F(ReceiverTest, Ipv6AgentAddress) {
  const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  ReceiverConfig config;
  config.max_datagram_bytes = 200;  // 160 bytes of room after the 40-byte header
  Receiver r(config, IpAddress::V6(v6), 0, clock_, MonoTime(), {&t1_});
  AddFlow(r, 1, 96);   // exactly 160
  AddFlow(r, 2, 100);  // 164: oversize with a v6 header
  EXPECT_EQ(r.stats().oversize_drops, 1u);
  r.Flush();
  auto d = ReadAll(t1_);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].address_type, 2u);
  EXPECT_EQ(d[0].size, 200u);
}

TEST_F(ReceiverTest, ClampsMaxDatagramBytes) {
  ReceiverConfig small;
  small.max_datagram_bytes = 10;
  Receiver a(small, kAgentV4, 0, clock_, MonoTime(), {&t1_});
  EXPECT_EQ(a.config().max_datagram_bytes, wire::kMinDatagramBytes);
  ReceiverConfig big;
  big.max_datagram_bytes = 65535;
  Receiver b(big, kAgentV4, 0, clock_, MonoTime(), {&t1_});
  EXPECT_EQ(b.config().max_datagram_bytes, wire::kMaxDatagramBytes);
  for (uint32_t i = 1; i <= 100; ++i) AddFlow(b, i, 128);
  b.Flush();
  for (const auto& d : t1_.datagrams()) EXPECT_LE(d.size(), wire::kMaxDatagramBytes);
  EXPECT_GT(t1_.datagrams()[0].size(), 8000u);
}

}  // namespace
}  // namespace xflowd::agent::sflow
