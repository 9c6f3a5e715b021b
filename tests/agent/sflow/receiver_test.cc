#include "agent/sflow/receiver.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "exporter/sflow/sflow_decoder.h"
#include "exporter/sflow/sflow_encoder.h"
#include "hal/base/byte_view.h"
#include "hal/base/clock.h"
#include "tests/agent/sflow/sflow_test_util.h"
#include "tests/support/capture_transport.h"

namespace xflowd::agent::sflow {
namespace {

using hal::base::ByteView;
using hal::base::IpAddress;
using hal::base::ManualClock;
using hal::base::MonoTime;
using testing::DecodeAll;
using testing::SequenceOf;
using xflowd::testing::CaptureTransport;

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
  auto d = DecodeAll(t1_);
  ASSERT_EQ(d.size(), 3u);
  for (uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(d[i].version, 5u);
    EXPECT_EQ(d[i].header.agent_address.ToString(), "192.0.2.1");
    EXPECT_EQ(d[i].header.sub_agent_id, 3u);
    EXPECT_EQ(d[i].header.sequence, i + 1);
    EXPECT_EQ(d[i].header.uptime_ms, 10000u + 1500u * (i + 1));
    ASSERT_EQ(d[i].samples.size(), 1u);
    EXPECT_EQ(SequenceOf(d[i].samples[0]), i + 1);
  }
  EXPECT_EQ(r.next_sequence(), 4u);
  EXPECT_EQ(r.stats().datagrams, 3u);
  EXPECT_EQ(r.stats().flow_samples, 3u);
}

TEST_F(ReceiverTest, ReloadSendsWhatIsPendingAndKeepsTheSequence) {
  ReceiverConfig config;
  Receiver r(config, kAgentV4, 3, clock_, MonoTime::FromSeconds(990), {&t1_, &t2_});
  AddFlow(r, 1, 64);
  r.Flush();
  AddFlow(r, 2, 64);  // pending: goes to the old collectors, t1 and t2
  r.SetTransports({&t2_, &t3_});
  AddFlow(r, 3, 64);
  r.Flush();
  auto d1 = DecodeAll(t1_);
  auto d2 = DecodeAll(t2_);
  auto d3 = DecodeAll(t3_);
  ASSERT_EQ(d1.size(), 2u);
  ASSERT_EQ(d2.size(), 3u);
  ASSERT_EQ(d3.size(), 1u);
  EXPECT_EQ(d2[2].header.sequence, 3u);
  EXPECT_EQ(d3[0].header.sequence, 3u);

  // New identity and size: what is pending leaves under the old one; the sequence goes on.
  AddFlow(r, 4, 64);
  config.max_datagram_bytes = 600;
  r.Reconfigure(config, IpAddress::Parse("2001:db8::7").value(), 9);
  for (uint32_t i = 5; i < 20; ++i) AddFlow(r, i, 200);
  r.Flush();
  auto d = DecodeAll(t3_);
  ASSERT_GE(d.size(), 5u);
  EXPECT_EQ(d[1].header.sequence, 4u);
  EXPECT_EQ(d[1].header.agent_address.ToString(), "192.0.2.1");
  for (size_t i = 2; i < d.size(); ++i) {
    EXPECT_EQ(d[i].header.sequence, 3u + i);
    EXPECT_EQ(d[i].header.agent_address.ToString(), "2001:db8::7");
    EXPECT_EQ(d[i].header.sub_agent_id, 9u);
  }
  for (size_t i = 2; i < t3_.datagrams().size(); ++i) EXPECT_LE(t3_.datagrams()[i].size(), 600u);
  EXPECT_EQ(r.config().max_datagram_bytes, 600u);
}

TEST_F(ReceiverTest, FlushesBeforeOverflowAndLosesNothing) {
  ReceiverConfig config;
  config.max_datagram_bytes = 400;
  Receiver r(config, kAgentV4, 0, clock_, MonoTime(), {&t1_});
  constexpr uint32_t kSamples = 500;
  for (uint32_t i = 0; i < kSamples; ++i) AddFlow(r, i + 1, (i * 37) % 200);  // 64..264 bytes
  r.Flush();

  auto d = DecodeAll(t1_);
  ASSERT_GT(d.size(), 1u);
  uint32_t next = 1;
  for (size_t i = 0; i < d.size(); ++i) {
    EXPECT_LE(t1_.datagrams()[i].size(), 400u);
    EXPECT_EQ(d[i].header.sequence, i + 1);
    ASSERT_FALSE(d[i].samples.empty());
    for (const auto& s : d[i].samples) EXPECT_EQ(SequenceOf(s), next++);  // order kept
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

  auto d = DecodeAll(t1_);
  ASSERT_EQ(d.size(), 1u);
  ASSERT_EQ(d[0].samples.size(), 2u);
  EXPECT_EQ(SequenceOf(d[0].samples[0]), 1u);
  EXPECT_EQ(SequenceOf(d[0].samples[1]), 3u);
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
  const std::vector<uint8_t>& bytes = t2_.datagrams()[0];
  const auto d = wire::DecodeDatagram(ByteView(bytes.data(), bytes.size()));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->header.sequence, 3u);  // the failed sends still used their sequence numbers
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
  auto d = DecodeAll(t1_);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].header.agent_address.ToString(), "2001:db8::1");
  EXPECT_EQ(t1_.datagrams()[0].size(), 200u);
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
