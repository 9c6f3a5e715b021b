#include "agent/flow/flow_cache.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <vector>

#include "hal/base/prng.h"
#include "tests/agent/flow/flow_test_util.h"

namespace xflowd::agent::flow {
namespace {

using exporter::netflow::EndReason;
using exporter::netflow::FlowKey;
using exporter::netflow::FlowRecord;
using testing::KeyN;
using testing::RecordingSink;
using testing::SameKey;

constexpr uint16_t kFin = 0x01;
constexpr uint16_t kSyn = 0x02;
constexpr uint16_t kRst = 0x04;
constexpr uint16_t kAck = 0x10;

FlowCacheOptions Small(uint32_t capacity = 1024) {
  FlowCacheOptions o;
  o.capacity = capacity;
  return o;
}

uint64_t TotalPackets(const std::vector<FlowRecord>& rs) {
  uint64_t n = 0;
  for (const FlowRecord& r : rs) n += r.packets;
  return n;
}

uint64_t TotalBytes(const std::vector<FlowRecord>& rs) {
  uint64_t n = 0;
  for (const FlowRecord& r : rs) n += r.bytes;
  return n;
}

bool SameRecord(const FlowRecord& a, const FlowRecord& b) {
  return SameKey(a.key, b.key) && a.packets == b.packets && a.bytes == b.bytes &&
         a.first_ms == b.first_ms && a.last_ms == b.last_ms && a.tcp_flags == b.tcp_flags &&
         a.end_reason == b.end_reason;
}

// A flow with a 20 s gap, run with Expire every `expire_every_ms` (0 = never).
std::vector<FlowRecord> GapFlow(uint64_t expire_every_ms) {
  FlowCache cache(Small());
  RecordingSink sink;
  const FlowKey k = KeyN(1);
  std::vector<uint64_t> times = {0, 1000, 2000, 3000, 4000, 5000, 25000, 26000};
  uint64_t next_expire = expire_every_ms;
  for (uint64_t t : times) {
    while (expire_every_ms != 0 && next_expire <= t) {
      cache.Expire(next_expire, sink);
      next_expire += expire_every_ms;
    }
    cache.Add(k, 100 + static_cast<uint32_t>(t / 1000), 0, t, sink);
  }
  cache.Flush(27000, sink);
  return sink.records;
}

TEST(FlowCacheTest, IdleGapSplitsInTwoExactly) {
  const std::vector<FlowRecord> rs = GapFlow(0);
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].end_reason, EndReason::kIdleTimeout);
  EXPECT_EQ(rs[0].packets, 6u);
  EXPECT_EQ(rs[0].bytes, 100u + 101 + 102 + 103 + 104 + 105);
  EXPECT_EQ(rs[0].first_ms, 0u);
  EXPECT_EQ(rs[0].last_ms, 5000u);
  EXPECT_EQ(rs[1].end_reason, EndReason::kForcedEnd);
  EXPECT_EQ(rs[1].packets, 2u);
  EXPECT_EQ(rs[1].bytes, 125u + 126);
  EXPECT_EQ(rs[1].first_ms, 25000u);
  EXPECT_EQ(rs[1].last_ms, 26000u);
  EXPECT_TRUE(SameKey(rs[0].key, KeyN(1)));

  // Same records however often Expire runs.
  for (uint64_t every : {1u, 64u, 1000u, 7000u, 19000u}) {
    const std::vector<FlowRecord> other = GapFlow(every);
    ASSERT_EQ(other.size(), 2u) << every;
    EXPECT_TRUE(SameRecord(other[0], rs[0])) << every;
    EXPECT_TRUE(SameRecord(other[1], rs[1])) << every;
  }
}

TEST(FlowCacheTest, IdleBoundaryIsInclusive) {
  FlowCache cache(Small());
  RecordingSink sink;
  cache.Add(KeyN(1), 100, 0, 0, sink);
  cache.Add(KeyN(1), 100, 0, 14999, sink);  // 14.999 s gap: same flow
  EXPECT_TRUE(sink.records.empty());
  cache.Add(KeyN(1), 100, 0, 29999, sink);  // exactly 15 s: a new flow
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.records[0].packets, 2u);
  EXPECT_EQ(sink.records[0].end_reason, EndReason::kIdleTimeout);

  cache.Expire(44998, sink);
  EXPECT_EQ(sink.records.size(), 1u);
  cache.Expire(44999, sink);  // 29999 + 15000
  ASSERT_EQ(sink.records.size(), 2u);
  EXPECT_EQ(sink.records[1].first_ms, 29999u);
  EXPECT_EQ(cache.size(), 0u);
}

// A packet every second for two hours, Expire every `expire_every_ms` (0 = never).
std::vector<FlowRecord> TwoHourFlow(uint64_t expire_every_ms) {
  FlowCache cache(Small());
  RecordingSink sink;
  for (uint64_t t = 0; t <= 7200 * 1000; t += 1000) {
    if (expire_every_ms != 0 && t % expire_every_ms == 0) cache.Expire(t, sink);
    cache.Add(KeyN(5, 6), 1000 + static_cast<uint32_t>(t / 1000 % 7), kAck, t, sink);
  }
  cache.Flush(7200 * 1000 + 500, sink);
  return sink.records;
}

TEST(FlowCacheTest, ActiveTimeoutSplitsLongFlows) {
  const std::vector<FlowRecord> rs = TwoHourFlow(1000);
  ASSERT_EQ(rs.size(), 5u);
  uint64_t bytes = 0;
  for (uint64_t t = 0; t <= 7200; ++t) bytes += 1000 + t % 7;
  EXPECT_EQ(TotalPackets(rs), 7201u);
  EXPECT_EQ(TotalBytes(rs), bytes);
  for (size_t i = 0; i < rs.size(); ++i) {
    EXPECT_LT(rs[i].last_ms - rs[i].first_ms, 1800u * 1000) << i;
    if (i < 4) {
      EXPECT_EQ(rs[i].end_reason, EndReason::kActiveTimeout) << i;
      EXPECT_EQ(rs[i].first_ms, i * 1800 * 1000) << i;
      EXPECT_EQ(rs[i].last_ms, i * 1800 * 1000 + 1799 * 1000) << i;
      EXPECT_EQ(rs[i].packets, 1800u);
    }
    if (i > 0) {
      EXPECT_EQ(rs[i].first_ms, rs[i - 1].last_ms + 1000) << i;
    }
  }
  EXPECT_EQ(rs[4].end_reason, EndReason::kForcedEnd);
  EXPECT_EQ(rs[4].packets, 1u);

  for (uint64_t every : {0u, 37000u, 600000u}) {
    const std::vector<FlowRecord> other = TwoHourFlow(every);
    ASSERT_EQ(other.size(), rs.size()) << every;
    for (size_t i = 0; i < rs.size(); ++i) EXPECT_TRUE(SameRecord(other[i], rs[i])) << every;
  }
}

TEST(FlowCacheTest, ActiveTimeoutEndsAQuietFlowOnTime) {
  FlowCacheOptions o = Small();
  o.active_timeout_ms = 10000;
  o.inactive_timeout_ms = 60000;
  FlowCache cache(o);
  RecordingSink sink;
  cache.Add(KeyN(1), 100, 0, 0, sink);
  cache.Add(KeyN(1), 100, 0, 9000, sink);
  cache.Expire(9999, sink);
  EXPECT_TRUE(sink.records.empty());
  cache.Expire(10000, sink);
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.records[0].end_reason, EndReason::kActiveTimeout);
  EXPECT_EQ(sink.records[0].packets, 2u);
}

TEST(FlowCacheTest, FinAndRstEndTheFlowWithThatPacket) {
  FlowCache cache(Small());
  RecordingSink sink;
  const FlowKey k = KeyN(1, 6);
  cache.Add(k, 60, kSyn, 0, sink);
  cache.Add(k, 1500, kAck, 10, sink);
  cache.Add(k, 52, kFin | kAck, 20, sink);
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.records[0].end_reason, EndReason::kEndOfFlow);
  EXPECT_EQ(sink.records[0].packets, 3u);
  EXPECT_EQ(sink.records[0].bytes, 60u + 1500 + 52);
  EXPECT_EQ(sink.records[0].tcp_flags, kSyn | kAck | kFin);
  EXPECT_EQ(sink.records[0].last_ms, 20u);
  EXPECT_EQ(cache.size(), 0u);

  cache.Add(k, 52, kAck, 30, sink);  // the peer's last ACK: a new flow
  cache.Add(k, 40, kRst, 40, sink);
  ASSERT_EQ(sink.records.size(), 2u);
  EXPECT_EQ(sink.records[1].end_reason, EndReason::kEndOfFlow);
  EXPECT_EQ(sink.records[1].packets, 2u);
  EXPECT_EQ(sink.records[1].tcp_flags, kAck | kRst);
  EXPECT_EQ(sink.records[1].first_ms, 30u);
  EXPECT_EQ(cache.stats().records_for(EndReason::kEndOfFlow), 2u);

  // Flags on a non-TCP key do not end it; nor does FIN with tcp_end off.
  cache.Add(KeyN(2, 17), 100, kFin, 50, sink);
  FlowCacheOptions o = Small();
  o.tcp_end = false;
  FlowCache no_end(o);
  no_end.Add(k, 52, kFin, 0, sink);
  EXPECT_EQ(sink.records.size(), 2u);
  EXPECT_EQ(no_end.size(), 1u);
  EXPECT_EQ(cache.size(), 1u);
}

TEST(FlowCacheTest, EvictsLeastRecentlyUsedWhenFull) {
  FlowCache cache(Small(10));
  RecordingSink sink;
  for (uint32_t i = 0; i < 10; ++i) cache.Add(KeyN(i), 100, 0, i * 100, sink);
  cache.Add(KeyN(0), 100, 0, 1000, sink);  // flow 0 is now the most recent
  cache.Add(KeyN(10), 100, 0, 1100, sink);
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_TRUE(SameKey(sink.records[0].key, KeyN(1)));
  EXPECT_EQ(sink.records[0].end_reason, EndReason::kLackOfResources);
  EXPECT_EQ(cache.stats().evictions, 1u);
  cache.Add(KeyN(11), 100, 0, 1200, sink);
  ASSERT_EQ(sink.records.size(), 2u);
  EXPECT_TRUE(SameKey(sink.records[1].key, KeyN(2)));
  EXPECT_EQ(cache.size(), 10u);
}

TEST(FlowCacheTest, FullCacheFirstEndsFlowsWhoseTimeoutPassed) {
  FlowCache cache(Small(2));
  RecordingSink sink;
  cache.Add(KeyN(0), 100, 0, 0, sink);
  cache.Add(KeyN(1), 100, 0, 10000, sink);
  cache.Add(KeyN(2), 100, 0, 20000, sink);  // flow 0 was idle since 15000: not an eviction
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.records[0].end_reason, EndReason::kIdleTimeout);
  EXPECT_EQ(cache.stats().evictions, 0u);
}

TEST(FlowCacheTest, CachePressureKeepsTotalsExact) {
  FlowCache cache(Small(1000));
  RecordingSink sink;
  hal::base::Prng prng(42);
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t t = 0;
  for (int i = 0; i < 200000; ++i) {
    const uint32_t flow = prng.Uniform(0, 4999);
    const uint32_t len = prng.Uniform(40, 1500);
    cache.Add(KeyN(flow), len, 0, t, sink);
    ++packets;
    bytes += len;
    if (i % 50 == 0) t += 1;
    if (i % 1000 == 0) cache.Expire(t, sink);
    ASSERT_LE(cache.size(), 1000u);
  }
  const uint64_t evictions = cache.stats().evictions;
  EXPECT_GT(evictions, 1000u);
  cache.Flush(t, sink);
  EXPECT_EQ(cache.stats().records_for(EndReason::kLackOfResources), evictions);
  EXPECT_EQ(TotalPackets(sink.records), packets);
  EXPECT_EQ(TotalBytes(sink.records), bytes);
  EXPECT_EQ(cache.stats().packets, packets);
  EXPECT_EQ(cache.stats().bytes, bytes);
  EXPECT_EQ(cache.size(), 0u);
  uint64_t records = 0;
  for (uint64_t n : cache.stats().records) records += n;
  EXPECT_EQ(records, sink.records.size());
  EXPECT_EQ(cache.stats().created, sink.records.size());
}

TEST(FlowCacheTest, ExpireOnlyTouchesExpiringFlows) {
  FlowCache cache(Small(2000));
  RecordingSink sink;
  // 1000 flows created 10 ms apart and never seen again. Each Expire looks at the flows it
  // ends, plus those of the current 64 ms wheel slot that are not due yet (at most 6 here).
  for (uint32_t i = 0; i < 1000; ++i) cache.Add(KeyN(i), 100, 0, i * 10, sink);
  for (uint64_t t = 1000; t <= 30000; t += 1000) {
    const uint64_t visits = cache.stats().expire_visits;
    const size_t records = sink.records.size();
    cache.Expire(t, sink);
    const uint64_t ended = sink.records.size() - records;
    EXPECT_EQ(ended, t < 15000 || t > 25000 ? 0u : t == 15000 ? 1u : t == 25000 ? 99u : 100u) << t;
    EXPECT_GE(cache.stats().expire_visits - visits, ended) << t;
    EXPECT_LE(cache.stats().expire_visits - visits, ended + 6) << t;
  }
  EXPECT_EQ(sink.records.size(), 1000u);

  // Flows still active are looked at about once per inactive timeout, not once per Expire.
  sink.records.clear();
  const uint64_t visits = cache.stats().expire_visits;
  for (uint32_t i = 0; i < 1000; ++i) cache.Add(KeyN(i), 100, 0, 31000, sink);
  for (uint64_t t = 32000; t <= 66000; t += 1000) {
    if (t <= 50000) {
      for (uint32_t i = 0; i < 1000; ++i) cache.Add(KeyN(i), 100, 0, t, sink);
    }
    cache.Expire(t, sink);
  }
  EXPECT_EQ(sink.records.size(), 1000u);  // idle since 50000, ended at 65000
  // Looked at when the deadline from 31000 came (46000), then from 46000 (61000), then ended.
  EXPECT_EQ(cache.stats().expire_visits - visits, 3000u);
}

TEST(FlowCacheTest, PerProtocolInactiveTimeouts) {
  FlowCacheOptions o = Small();
  o.inactive_timeout_ms = 15000;
  o.tcp_inactive_timeout_ms = 60000;
  o.udp_inactive_timeout_ms = 5000;
  o.icmp_inactive_timeout_ms = 2000;
  FlowCache cache(o);
  RecordingSink sink;
  FlowKey icmp6 = KeyN(4, 58);
  icmp6.ip_version = 6;
  cache.Add(KeyN(1, 6), 100, kAck, 0, sink);
  cache.Add(KeyN(2, 17), 100, 0, 0, sink);
  cache.Add(KeyN(3, 1), 100, 0, 0, sink);
  cache.Add(icmp6, 100, 0, 0, sink);
  cache.Add(KeyN(5, 47), 100, 0, 0, sink);         // GRE: the general timeout
  std::map<uint64_t, std::vector<uint8_t>> ended;  // Expire time -> protocols ended
  for (uint64_t t = 500; t <= 61000; t += 500) {
    const size_t before = sink.records.size();
    cache.Expire(t, sink);
    for (size_t i = before; i < sink.records.size(); ++i) {
      EXPECT_EQ(sink.records[i].end_reason, EndReason::kIdleTimeout);
      ended[t].push_back(sink.records[i].key.protocol);
    }
  }
  ASSERT_EQ(ended.size(), 4u);
  EXPECT_EQ(ended[2000].size(), 2u);  // ICMP and ICMPv6
  EXPECT_EQ(ended[5000], std::vector<uint8_t>{17});
  EXPECT_EQ(ended[15000], std::vector<uint8_t>{47});
  EXPECT_EQ(ended[60000], std::vector<uint8_t>{6});
}

TEST(FlowCacheTest, SetTimeoutsAppliesToTheFlowsInTheCache) {
  FlowCacheOptions o = Small();
  o.inactive_timeout_ms = 60000;
  o.active_timeout_ms = 1800000;
  FlowCache cache(o);
  RecordingSink sink;
  for (uint32_t i = 0; i < 100; ++i) cache.Add(KeyN(i, 17), 100, 0, i * 10, sink);
  cache.Add(KeyN(500, 6), 100, kAck, 1000, sink);
  cache.Expire(9000, sink);
  ASSERT_TRUE(sink.records.empty());
  // Shorter: every UDP flow quiet for 8 s or more ends at the next Expire, with the idle
  // reason, at the new timeout (not at the 60 s it was linked for). TCP keeps its own.
  o.inactive_timeout_ms = 8000;
  o.tcp_inactive_timeout_ms = 30000;
  cache.SetTimeouts(o);
  EXPECT_EQ(cache.size(), 101u);
  cache.Expire(9000, sink);
  EXPECT_EQ(sink.records.size(), 100u);
  for (const FlowRecord& r : sink.records) {
    EXPECT_EQ(r.end_reason, EndReason::kIdleTimeout);
    EXPECT_EQ(r.key.protocol, 17);
  }
  cache.Expire(30999, sink);
  EXPECT_EQ(sink.records.size(), 100u);
  cache.Expire(31000, sink);
  ASSERT_EQ(sink.records.size(), 101u);
  EXPECT_EQ(sink.records.back().key.protocol, 6);

  // Longer than the wheel was made for (256 slots of 64 ms at first): the wheel grows and
  // the flow stays until its new timeout, exactly.
  FlowCacheOptions short_ones = Small();
  short_ones.inactive_timeout_ms = 1000;
  short_ones.active_timeout_ms = 2000;
  FlowCache small_wheel(short_ones);
  RecordingSink s2;
  small_wheel.Add(KeyN(1, 17), 100, 0, 0, s2);
  FlowCacheOptions longer = short_ones;
  longer.inactive_timeout_ms = 100000;
  longer.active_timeout_ms = 200000;
  small_wheel.SetTimeouts(longer);
  for (uint64_t t = 0; t < 100000; t += 1000) small_wheel.Expire(t, s2);
  EXPECT_TRUE(s2.records.empty());
  small_wheel.Expire(100000, s2);
  ASSERT_EQ(s2.records.size(), 1u);
  EXPECT_EQ(s2.records[0].end_reason, EndReason::kIdleTimeout);
  // A packet checks the new timeouts too; tcp_end follows the new setting.
  longer.tcp_end = false;
  small_wheel.SetTimeouts(longer);
  small_wheel.Add(KeyN(2, 6), 100, kFin, 200000, s2);
  EXPECT_EQ(small_wheel.size(), 1u);
}

TEST(FlowCacheTest, LongUptimeStaysExact) {
  // 60 days of flow time (past 2^31 and 2^32 ms): one flow with a packet every 10 s, one
  // that comes and goes, Expire every 10 s.
  FlowCache cache(Small());
  RecordingSink sink;
  const uint64_t kDay = 86400ull * 1000;
  const uint64_t start = 3 * kDay;  // a daemon started after 3 days of uptime
  uint64_t packets = 0;
  for (uint64_t t = start; t <= start + 60 * kDay; t += 10000) {
    cache.Add(KeyN(1), 100, 0, t, sink);
    ++packets;
    if ((t / 10000) % 1000 == 0) {
      cache.Add(KeyN(2), 200, 0, t, sink);
      ++packets;
    }
    cache.Expire(t, sink);
  }
  cache.Flush(start + 60 * kDay, sink);
  EXPECT_EQ(cache.stats().rebases, 3u);  // at 2^31 ms past the start, then every 2^30
  EXPECT_EQ(TotalPackets(sink.records), packets);
  uint64_t next_first = start;
  for (const FlowRecord& r : sink.records) {
    EXPECT_LE(r.first_ms, r.last_ms);
    EXPECT_LT(r.last_ms - r.first_ms, 1800u * 1000);
    EXPECT_GE(r.first_ms, start);
    EXPECT_LE(r.last_ms, start + 60 * kDay);
    if (SameKey(r.key, KeyN(1))) {
      EXPECT_EQ(r.first_ms, next_first);
      next_first = r.last_ms + 10000;
      if (r.end_reason == EndReason::kForcedEnd) {
        EXPECT_EQ(r.first_ms, start + 60 * kDay);  // the last packet starts the last record
        EXPECT_EQ(r.packets, 1u);
      } else {
        EXPECT_EQ(r.end_reason, EndReason::kActiveTimeout);
        EXPECT_EQ(r.last_ms, r.first_ms + 1790 * 1000);
        EXPECT_EQ(r.packets, 180u);
      }
    } else {
      EXPECT_EQ(r.packets, 1u);
      EXPECT_EQ(r.first_ms % 10000000, 0u);
      EXPECT_EQ(r.end_reason, EndReason::kIdleTimeout);
    }
  }
}

TEST(FlowCacheTest, CaptureTimeStartAndUnixOffset) {
  const uint64_t t0 = 1700000000123ull;  // Unix ms, as packet time from a capture
  FlowCache cache(Small());
  RecordingSink sink;
  cache.Add(KeyN(1), 100, 0, t0, sink);
  cache.Add(KeyN(1), 100, 0, t0 + 500, sink);
  cache.Add(KeyN(1), 100, 0, t0 + 500 + 20000, sink);
  cache.Flush(t0 + 20500 + 15000, sink);
  ASSERT_EQ(sink.records.size(), 2u);
  EXPECT_EQ(sink.records[0].first_ms, t0);
  EXPECT_EQ(sink.records[0].last_ms, t0 + 500);
  EXPECT_EQ(sink.records[1].first_ms, t0 + 20500);
  // Flush ends what had already timed out with its timeout reason.
  EXPECT_EQ(sink.records[1].end_reason, EndReason::kIdleTimeout);

  // Live: monotonic flow time, Unix time through the offset.
  FlowCache live(Small());
  live.set_unix_offset_ms(static_cast<int64_t>(t0) - 5000);
  sink.records.clear();
  live.Add(KeyN(1), 100, 0, 5000, sink);
  live.Add(KeyN(1), 100, 0, 6000, sink);
  live.Flush(7000, sink);
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.records[0].first_ms, t0);
  EXPECT_EQ(sink.records[0].last_ms, t0 + 1000);
  EXPECT_EQ(sink.records[0].end_reason, EndReason::kForcedEnd);
}

TEST(FlowCacheTest, TimeGoingBackwardsIsTakenAsTheLatestTime) {
  FlowCache cache(Small());
  RecordingSink sink;
  cache.Add(KeyN(1), 100, 0, 10000, sink);
  cache.Add(KeyN(1), 100, 0, 9000, sink);
  cache.Flush(0, sink);
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.records[0].first_ms, 10000u);
  EXPECT_EQ(sink.records[0].last_ms, 10000u);
  EXPECT_EQ(sink.records[0].packets, 2u);
}

TEST(FlowCacheTest, ExtendedKeyAddsMacsAndMpls) {
  FlowKey a = KeyN(1);
  FlowKey b = a;
  a.src_mac[5] = 1;
  b.src_mac[5] = 2;
  b.mpls_top = 1234;
  RecordingSink sink;
  FlowCache plain(Small());
  plain.Add(a, 100, 0, 0, sink);
  plain.Add(b, 100, 0, 0, sink);
  EXPECT_EQ(plain.size(), 1u);
  plain.Flush(0, sink);
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.records[0].key.src_mac[5], 0);  // not part of the key: not exported
  EXPECT_EQ(sink.records[0].key.mpls_top, 0u);

  FlowCacheOptions o = Small();
  o.extended_key = true;
  FlowCache ext(o);
  sink.records.clear();
  ext.Add(a, 100, 0, 0, sink);
  ext.Add(b, 100, 0, 0, sink);
  ext.Add(b, 100, 0, 0, sink);
  EXPECT_EQ(ext.size(), 2u);
  ext.Flush(0, sink);
  ASSERT_EQ(sink.records.size(), 2u);
  for (const FlowRecord& r : sink.records) {
    EXPECT_TRUE(SameKey(r.key, r.packets == 1 ? a : b));
  }
  EXPECT_EQ(ext.memory_bytes(), plain.memory_bytes() + 16u * 1024);
}

TEST(FlowCacheTest, MemoryPerFlowAtOneMillionFlows) {
  FlowCacheOptions o;
  o.capacity = 1000000;
  FlowCache cache(o);
  const double per_flow = static_cast<double>(cache.memory_bytes()) / o.capacity;
  EXPECT_LE(per_flow, 96.0);
  // 84-byte entries + a 2^21-slot uint32 index + a 32768-slot wheel (head and tail).
  EXPECT_EQ(cache.memory_bytes(), 84u * 1000000 + 4u * (1u << 21) + 8u * 32768);
}

// Random traffic with FINs against a model: index deletes (backward shift) must never lose
// or duplicate a flow.
TEST(FlowCacheTest, RandomChurnMatchesModel) {
  FlowCache cache(Small(256));
  RecordingSink sink;
  hal::base::Prng prng(7);
  std::map<uint32_t, uint64_t> sent;  // flow -> packets
  uint64_t t = 0;
  for (int i = 0; i < 100000; ++i) {
    const uint32_t flow = prng.Uniform(0, 199);
    const uint16_t flags = prng.Uniform(0, 9) == 0 ? kFin : kAck;
    cache.Add(KeyN(flow, 6), 100, flags, t, sink);
    ++sent[flow];
    t += prng.Uniform(0, 3);
    if (i % 997 == 0) cache.Expire(t, sink);
  }
  cache.Flush(t, sink);
  EXPECT_EQ(cache.stats().evictions, 0u);
  std::map<uint32_t, uint64_t> got;
  std::map<uint32_t, int> forced;
  for (const FlowRecord& r : sink.records) {
    const uint32_t flow = r.key.src_ip[3] | uint32_t{r.key.src_ip[2]} << 8;
    ASSERT_TRUE(SameKey(r.key, KeyN(flow, 6)));
    got[flow] += r.packets;
    if (r.end_reason == EndReason::kForcedEnd) {
      EXPECT_EQ(++forced[flow], 1);
    }
  }
  EXPECT_EQ(got, sent);
}

TEST(FlowCacheTest, AddBatchGivesTheSameRecordsAsAdd) {
  hal::base::Prng prng(11);
  std::vector<FlowPacket> packets(50000);
  uint64_t t = 0;
  for (FlowPacket& p : packets) {
    p.key = KeyN(prng.Uniform(0, 2999), 6);
    p.ip_bytes = prng.Uniform(40, 1500);
    p.tcp_flags = prng.Uniform(0, 19) == 0 ? kFin : kAck;
    t += prng.Uniform(0, 2);
    p.now_ms = t;
  }
  FlowCache one(Small(1000));
  FlowCache batched(Small(1000));
  RecordingSink a;
  RecordingSink b;
  for (const FlowPacket& p : packets) one.Add(p.key, p.ip_bytes, p.tcp_flags, p.now_ms, a);
  for (size_t done = 0; done < packets.size();) {
    const size_t n = std::min<size_t>(prng.Uniform(1, 40), packets.size() - done);
    batched.AddBatch(&packets[done], n, b);
    done += n;
  }
  one.Flush(t, a);
  batched.Flush(t, b);
  EXPECT_GT(one.stats().evictions, 0u);
  ASSERT_EQ(a.records.size(), b.records.size());
  for (size_t i = 0; i < a.records.size(); ++i) {
    ASSERT_TRUE(SameRecord(a.records[i], b.records[i])) << i;
  }
}

}  // namespace
}  // namespace xflowd::agent::flow
