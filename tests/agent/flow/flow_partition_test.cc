#include "agent/flow/flow_partition.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <numeric>
#include <tuple>
#include <vector>

#include "hal/base/clock.h"
#include "hal/base/prng.h"
#include "hal/packet_sample.h"
#include "sim/packet_builder.h"
#include "tests/agent/flow/flow_test_util.h"

namespace xflowd::agent::flow {
namespace {

using exporter::netflow::EndReason;
using exporter::netflow::FlowRecord;
using hal::base::ByteView;
using hal::base::ManualClock;
using hal::base::MonoTime;
using testing::RecordingSink;

TEST(FlowPartitionTest, SizesAddUpWithTheRemainderFirst) {
  EXPECT_EQ(PartitionSizes(10, 3), (std::vector<uint32_t>{4, 3, 3}));
  EXPECT_EQ(PartitionSizes(262144, 2), (std::vector<uint32_t>{131072, 131072}));
  EXPECT_EQ(PartitionSizes(7, 7), (std::vector<uint32_t>(7, 1)));
  for (uint32_t total : {1u, 63u, 1000u, 65537u, 1u << 26}) {
    for (uint32_t parts = 1; parts <= 64 && parts <= total; ++parts) {
      const std::vector<uint32_t> s = PartitionSizes(total, parts);
      ASSERT_EQ(s.size(), parts);
      EXPECT_EQ(std::accumulate(s.begin(), s.end(), uint64_t{0}), total) << total << "/" << parts;
      EXPECT_LE(s.front() - s.back(), 1u);
    }
  }
}

FlowRecord RecordN(uint32_t i) {
  FlowRecord r;
  r.key = testing::KeyN(i);
  r.packets = i;
  return r;
}

TEST(FlowPartitionTest, RingHandsRecordsOverInOrderWithinTheBudget) {
  FlowRecordRing ring(2);
  const size_t n = ring.capacity_records();
  for (uint32_t i = 0; i < n; ++i) ASSERT_TRUE(ring.Push(RecordN(i))) << i;
  EXPECT_FALSE(ring.Push(RecordN(9999)));  // both blocks published, none free
  RecordingSink sink;
  EXPECT_EQ(ring.Drain(sink, 100), 100u);
  EXPECT_FALSE(ring.Push(RecordN(9999)));  // the first block is not wholly drained yet
  EXPECT_EQ(ring.Drain(sink, 1000), n - 100);
  EXPECT_TRUE(ring.empty());
  ASSERT_TRUE(ring.Push(RecordN(n)));
  EXPECT_EQ(ring.Drain(sink, 1000), 0u);  // not published yet
  EXPECT_TRUE(ring.Publish());
  EXPECT_FALSE(ring.Publish());  // nothing new
  EXPECT_EQ(ring.Drain(sink, 1000), 1u);
  ASSERT_EQ(sink.records.size(), n + 1);
  for (uint32_t i = 0; i <= n; ++i) EXPECT_EQ(sink.records[i].packets, i);
}

// An Ethernet/IPv4 frame of flow `f` (TCP or UDP by f), as a worker's socket hands it over.
struct Frame {
  std::vector<uint8_t> bytes;
  hal::PacketSample sample;
};

Frame MakeFrame(uint32_t f, uint8_t tcp_flags, uint32_t length, MonoTime t) {
  sim::PacketSpec p;
  p.protocol = f % 3 == 0 ? sim::kIpProtoUdp : sim::kIpProtoTcp;
  p.src_ip[0] = 10;
  p.src_ip[2] = static_cast<uint8_t>(f >> 8);
  p.src_ip[3] = static_cast<uint8_t>(f);
  p.dst_ip[0] = 192;
  p.dst_ip[3] = 1;
  p.src_port = static_cast<uint16_t>(2000 + f);
  p.dst_port = 443;
  p.tcp_flags = tcp_flags;
  Frame fr;
  fr.bytes.resize(128);
  fr.bytes.resize(sim::BuildFrame(p, length, fr.bytes.data(), fr.bytes.size()));
  fr.sample.input_ifindex = 4;
  fr.sample.frame_length = length + 4;
  fr.sample.stripped = 4;
  fr.sample.sampling_rate = 1;
  fr.sample.timestamp = t;
  return fr;
}

FlowMeterOptions Options(uint32_t capacity) {
  FlowMeterOptions o;
  o.cache.capacity = capacity;
  o.cache.inactive_timeout_ms = 5000;
  o.cache.active_timeout_ms = 20000;
  o.batch = 32;
  return o;
}

using Fields = std::tuple<uint16_t, uint8_t, uint64_t, uint64_t, uint64_t, uint64_t, uint16_t, int>;
std::vector<Fields> Sorted(const std::vector<FlowRecord>& rs) {
  std::vector<Fields> out;
  for (const FlowRecord& r : rs) {
    out.emplace_back(r.key.src_port, r.key.protocol, r.first_ms, r.last_ms, r.packets, r.bytes,
                     r.tcp_flags, static_cast<int>(r.end_reason));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The workers' split, run on one thread: each packet goes to the partition of its flow (as the
// kernel's fanout hash does), each partition ticks on the clock and its ring is drained into
// the "exporter" as the loop would, and the records are exactly those of one cache.
TEST(FlowPartitionTest, PartitionsEndTheSameRecordsAsOneCache) {
  constexpr uint32_t kParts = 3;
  constexpr uint32_t kFlows = 300;
  constexpr int64_t kOffset = 1700000000000;
  ManualClock clock(MonoTime::FromMs(1000));
  RecordingSink exported;
  std::vector<std::unique_ptr<FlowPartition>> parts;
  const std::vector<uint32_t> sizes = PartitionSizes(3000, kParts);
  for (uint32_t i = 0; i < kParts; ++i) {
    parts.push_back(std::make_unique<FlowPartition>(Options(sizes[i]), kOffset, 2, [&, i] {
      parts[i]->ring().Drain(exported, SIZE_MAX);  // the loop makes room
      return true;
    }));
  }
  RecordingSink single_out;
  FlowMeter single(Options(3000), single_out);
  single.set_unix_offset_ms(kOffset);

  hal::base::Prng prng(58);
  MonoTime next_tick = clock.Now() + hal::base::seconds(1);
  for (int step = 0; step < 60000; ++step) {
    clock.Advance(hal::base::milliseconds(1));
    const MonoTime now = clock.Now();
    // A packet most milliseconds: flows with gaps (idle ends), long ones (active ends) and
    // some FIN/RST ends.
    if (prng.Uniform(0, 9) < 7) {
      const uint32_t f = static_cast<uint32_t>(prng.Uniform(0, kFlows - 1));
      const uint8_t flags =
          prng.Uniform(0, 99) == 0 ? 0x11 : (prng.Uniform(0, 199) == 0 ? 0x04 : 0x18);
      Frame fr = MakeFrame(f, flags, 64 + static_cast<uint32_t>(prng.Uniform(0, 1400)), now);
      fr.sample.header = ByteView(fr.bytes.data(), fr.bytes.size());
      single.OnSample(fr.sample);
      parts[f % kParts]->meter().OnSample(fr.sample);
      parts[f % kParts]->Publish();
    }
    if (now >= next_tick) {
      single.Tick(now);
      for (auto& p : parts) p->Tick(now);
      next_tick = now + hal::base::seconds(1);
    }
    if (step % 97 == 0) {
      for (auto& p : parts) p->ring().Drain(exported, 50);
    }
  }
  single.Flush(clock.Now());
  for (auto& p : parts) p->Flush(clock.Now());
  for (auto& p : parts) p->ring().Drain(exported, SIZE_MAX);

  ASSERT_GT(single_out.records.size(), 1000u);
  EXPECT_EQ(Sorted(exported.records), Sorted(single_out.records));
  FlowMeterStats sum;
  uint64_t capacity = 0;
  uint64_t waits = 0;
  for (auto& p : parts) {
    const FlowPartitionStats s = p->stats();
    AddMeterStats(sum, s.meter);
    capacity += s.capacity;
    waits += s.ring_waits;
    EXPECT_EQ(s.ring_lost, 0u);
    EXPECT_TRUE(p->ring().empty());
  }
  EXPECT_EQ(capacity, 3000u);
  EXPECT_GT(waits, 0u);  // 2-block rings filled: the writers waited, nothing was lost
  const FlowMeterStats one = single.stats();
  EXPECT_EQ(sum.packets, one.packets);
  EXPECT_EQ(sum.flows_created, one.flows_created);
  for (int r = 1; r <= 5; ++r) EXPECT_EQ(sum.records_by_reason[r], one.records_by_reason[r]) << r;
  EXPECT_GT(one.records_by_reason[static_cast<int>(EndReason::kIdleTimeout)], 0u);
  EXPECT_GT(one.records_by_reason[static_cast<int>(EndReason::kActiveTimeout)], 0u);
  EXPECT_GT(one.records_by_reason[static_cast<int>(EndReason::kEndOfFlow)], 0u);
  EXPECT_EQ(sum.active_flows, 0u);
}

TEST(FlowPartitionTest, AWaitThatGivesUpCountsTheRecordLost) {
  int waits = 0;
  FlowPartition part(Options(1024), 0, 2, [&waits] {
    ++waits;
    return false;
  });
  const MonoTime t = MonoTime::FromMs(5000);
  const uint32_t n = 2 * FlowRecordRing::kBlockRecords + 10;
  for (uint32_t f = 0; f < n; ++f) {
    Frame fr = MakeFrame(f, 0x18, 100, t);
    fr.sample.header = ByteView(fr.bytes.data(), fr.bytes.size());
    part.meter().OnSample(fr.sample);
  }
  part.Flush(t);
  const FlowPartitionStats s = part.stats();
  EXPECT_EQ(s.records, 2 * FlowRecordRing::kBlockRecords);
  EXPECT_EQ(s.ring_lost, 10u);
  EXPECT_EQ(s.ring_waits, 10u);
  EXPECT_EQ(waits, 10);
  RecordingSink sink;
  EXPECT_EQ(part.ring().Drain(sink, SIZE_MAX), 2 * FlowRecordRing::kBlockRecords);
}

TEST(FlowPartitionTest, ReplaceEndsEveryFlowAndMetersOnWithTheNewSize) {
  RecordingSink sink;
  FlowPartition* self = nullptr;
  FlowPartition part(Options(100), 0, 4, [&] {
    self->ring().Drain(sink, SIZE_MAX);
    return true;
  });
  self = &part;
  for (uint32_t f = 0; f < 50; ++f) {
    Frame fr = MakeFrame(f, 0x18, 100, MonoTime::FromMs(1000));
    fr.sample.header = ByteView(fr.bytes.data(), fr.bytes.size());
    part.meter().OnSample(fr.sample);
  }
  part.Publish();
  EXPECT_EQ(part.stats().meter.active_flows, 50u);
  part.Replace(MonoTime::FromMs(2000), Options(40));
  part.ring().Drain(sink, SIZE_MAX);
  ASSERT_EQ(sink.records.size(), 50u);
  for (const FlowRecord& r : sink.records) EXPECT_EQ(r.end_reason, EndReason::kForcedEnd);
  FlowPartitionStats s = part.stats();
  EXPECT_EQ(s.capacity, 40u);
  EXPECT_EQ(s.meter.active_flows, 0u);
  EXPECT_EQ(s.meter.packets, 50u);  // the ended meter's counters carry on
  EXPECT_EQ(s.meter.records_by_reason[4], 50u);
}

}  // namespace
}  // namespace xflowd::agent::flow
