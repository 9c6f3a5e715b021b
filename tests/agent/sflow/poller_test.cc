#include "agent/sflow/poller.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/sflow/receiver.h"
#include "exporter/capture_transport.h"
#include "hal/base/byte_view.h"
#include "hal/base/clock.h"
#include "hal/base/prng.h"
#include "hal/base/status.h"
#include "hal/counter_source.h"
#include "hal/port_inventory.h"

namespace xflowd::agent::sflow {
namespace {

using exporter::CaptureTransport;
using hal::PortCounters;
using hal::base::ByteReader;
using hal::base::ByteView;
using hal::base::IpAddress;
using hal::base::ManualClock;
using hal::base::MonoTime;
using hal::base::Prng;

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

class FakeCounterSource final : public hal::CounterSource {
 public:
  hal::base::Result<PortCounters> ReadCounters(uint32_t ifindex) override {
    ++reads;
    if (fail) return hal::base::NotFoundError("no such port");
    return counters[ifindex];
  }
  std::map<uint32_t, PortCounters> counters;
  bool fail = false;
  int reads = 0;
};

hal::PortInfo Port(uint32_t ifindex) {
  hal::PortInfo p;
  p.ifindex = ifindex;
  p.name = "swp" + std::to_string(ifindex);
  p.speed_bps = 25000000000ull;
  p.duplex = 1;
  p.admin_up = true;
  p.oper_up = true;
  return p;
}

struct Generic {
  uint32_t if_index, if_type;
  uint64_t speed;
  uint32_t direction, status;
  uint64_t in_octets;
  uint32_t in_ucast, in_mcast, in_bcast, in_discards, in_errors, in_unknown;
  uint64_t out_octets;
  uint32_t out_ucast, out_mcast, out_bcast, out_discards, out_errors, promiscuous;
};
Generic ReadGeneric(const XRecord& rec) {
  ByteReader r(ByteView(rec.body.data(), rec.body.size()));
  Generic g;
  g.if_index = r.U32();
  g.if_type = r.U32();
  g.speed = r.U64();
  g.direction = r.U32();
  g.status = r.U32();
  g.in_octets = r.U64();
  g.in_ucast = r.U32();
  g.in_mcast = r.U32();
  g.in_bcast = r.U32();
  g.in_discards = r.U32();
  g.in_errors = r.U32();
  g.in_unknown = r.U32();
  g.out_octets = r.U64();
  g.out_ucast = r.U32();
  g.out_mcast = r.U32();
  g.out_bcast = r.U32();
  g.out_discards = r.U32();
  g.out_errors = r.U32();
  g.promiscuous = r.U32();
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
  return g;
}

class PollerTest : public ::testing::Test {
 protected:
  PollerTest()
      : receiver_(ReceiverConfig{}, IpAddress::V4(0x0A000001), 0, clock_, MonoTime(), {&t_}) {}

  // Ticks until the poller sends (at most one interval); returns the ticks taken.
  uint32_t TickUntilSample(Poller& p) {
    const uint64_t before = p.stats().samples + p.stats().read_errors;
    for (uint32_t i = 1; i <= 1000; ++i) {
      p.Tick(clock_.Now());
      if (p.stats().samples + p.stats().read_errors != before) return i;
    }
    return 0;
  }
  std::vector<XSample> FlushAndRead() {
    receiver_.Flush();
    std::vector<XSample> out;
    for (XDatagram& d : ReadAll(t_)) {
      for (XSample& s : d.samples) out.push_back(std::move(s));
    }
    t_.Clear();
    return out;
  }

  ManualClock clock_;
  Prng prng_{1};
  CaptureTransport t_;
  Receiver receiver_;
  FakeCounterSource counters_;
};

TEST_F(PollerTest, FirstCountdownIsUniformInOneToInterval) {
  PollerConfig config;
  config.interval_s = 20;
  std::map<uint32_t, int> seen;
  for (int i = 0; i < 2000; ++i) {
    Poller p(Port(1), config, receiver_, counters_, prng_);
    ASSERT_GE(p.countdown(), 1u);
    ASSERT_LE(p.countdown(), 20u);
    ++seen[p.countdown()];
  }
  EXPECT_EQ(seen.size(), 20u);                                    // every value is reachable
  for (const auto& [value, n] : seen) EXPECT_GT(n, 40) << value;  // mean 100
}

TEST_F(PollerTest, PollsEveryIntervalWithItsOwnSequence) {
  PollerConfig config;
  config.interval_s = 30;
  Poller p(Port(3), config, receiver_, counters_, prng_);
  const uint32_t first = p.countdown();
  EXPECT_EQ(TickUntilSample(p), first);
  EXPECT_EQ(p.countdown(), 30u);
  EXPECT_EQ(TickUntilSample(p), 30u);
  EXPECT_EQ(TickUntilSample(p), 30u);
  const auto samples = FlushAndRead();
  ASSERT_EQ(samples.size(), 3u);
  for (uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(samples[i].tag, 2u);
    EXPECT_EQ(samples[i].sequence, i + 1);
    EXPECT_EQ(samples[i].source_type, 0u);
    EXPECT_EQ(samples[i].source_index, 3u);
  }
  EXPECT_EQ(p.sequence(), 3u);
  EXPECT_EQ(p.stats().samples, 3u);
}

TEST_F(PollerTest, SetCountdownIsClampedToTheInterval) {
  PollerConfig config;
  config.interval_s = 10;
  Poller p(Port(3), config, receiver_, counters_, prng_);
  p.set_countdown(0);
  EXPECT_EQ(p.countdown(), 1u);
  p.set_countdown(99);
  EXPECT_EQ(p.countdown(), 10u);
  p.set_countdown(4);
  EXPECT_EQ(TickUntilSample(p), 4u);
}

TEST_F(PollerTest, CountersTruncatedTo32BitsAndUnknownsAllOnes) {
  PortCounters c;
  c.in_octets = 0x123456789ABCull;      // 64-bit field: as is
  c.in_ucast_pkts = 0x100000005ull;     // 32-bit field: low 32 bits
  c.in_multicast_pkts = 0xFFFFFFFFull;  // a real value that is all ones
  c.in_broadcast_pkts = 7;
  c.in_discards = 0;
  c.in_errors = PortCounters::kUnknown64;  // unknown -> 0xFFFFFFFF
  c.in_unknown_protos = 0x2FFFFFFFEull;
  c.out_octets = PortCounters::kUnknown64;   // unknown 64-bit -> all ones
  c.out_ucast_pkts = 0xFFFFFFFFFFFFFFFEull;  // near the top, not unknown
  c.out_multicast_pkts = 1;
  c.out_broadcast_pkts = 2;
  c.out_discards = 3;
  // out_errors left unknown
  counters_.counters[4] = c;
  hal::PortInfo port = Port(4);
  port.if_type = 161;  // ieee8023adLag
  port.speed_bps = 100000000000ull;
  port.duplex = 2;
  port.admin_up = true;
  port.oper_up = false;
  port.promiscuous = true;
  PollerConfig config;
  config.interval_s = 1;
  Poller p(port, config, receiver_, counters_, prng_);
  p.Tick(clock_.Now());

  const auto samples = FlushAndRead();
  ASSERT_EQ(samples.size(), 1u);
  const XRecord* rec = samples[0].Find(1);
  ASSERT_NE(rec, nullptr);
  const Generic g = ReadGeneric(*rec);
  EXPECT_EQ(g.if_index, 4u);
  EXPECT_EQ(g.if_type, 161u);
  EXPECT_EQ(g.speed, 100000000000ull);
  EXPECT_EQ(g.direction, 2u);
  EXPECT_EQ(g.status, 1u);  // admin up, oper down
  EXPECT_EQ(g.in_octets, 0x123456789ABCull);
  EXPECT_EQ(g.in_ucast, 5u);
  EXPECT_EQ(g.in_mcast, 0xFFFFFFFFu);
  EXPECT_EQ(g.in_bcast, 7u);
  EXPECT_EQ(g.in_discards, 0u);
  EXPECT_EQ(g.in_errors, 0xFFFFFFFFu);
  EXPECT_EQ(g.in_unknown, 0xFFFFFFFEu);
  EXPECT_EQ(g.out_octets, 0xFFFFFFFFFFFFFFFFull);
  EXPECT_EQ(g.out_ucast, 0xFFFFFFFEu);
  EXPECT_EQ(g.out_mcast, 1u);
  EXPECT_EQ(g.out_bcast, 2u);
  EXPECT_EQ(g.out_discards, 3u);
  EXPECT_EQ(g.out_errors, 0xFFFFFFFFu);
  EXPECT_EQ(g.promiscuous, 1u);
}

TEST_F(PollerTest, StatusBits) {
  PollerConfig config;
  config.interval_s = 1;
  const uint32_t want[4] = {0, 1, 2, 3};
  for (uint32_t bits = 0; bits < 4; ++bits) {
    hal::PortInfo port = Port(2);
    port.admin_up = bits & 1;
    port.oper_up = bits & 2;
    Poller p(port, config, receiver_, counters_, prng_);
    p.Tick(clock_.Now());
    const auto samples = FlushAndRead();
    ASSERT_EQ(samples.size(), 1u);
    EXPECT_EQ(ReadGeneric(*samples[0].Find(1)).status, want[bits]);
  }
}

TEST_F(PollerTest, EthernetAndPortNameRecords) {
  PortCounters c;
  c.has_ethernet = true;
  c.dot3_alignment_errors = 1;
  c.dot3_fcs_errors = 2;
  c.dot3_symbol_errors = 13;
  counters_.counters[6] = c;
  counters_.counters[7] = PortCounters{};  // no dot3 stats
  PollerConfig config;
  config.interval_s = 1;
  Poller with(Port(6), config, receiver_, counters_, prng_);
  config.port_name = false;
  Poller without(Port(7), config, receiver_, counters_, prng_);
  with.Tick(clock_.Now());
  without.Tick(clock_.Now());

  const auto samples = FlushAndRead();
  ASSERT_EQ(samples.size(), 2u);
  ASSERT_EQ(samples[0].records.size(), 3u);
  EXPECT_EQ(samples[0].records[0].tag, 1u);
  EXPECT_EQ(samples[0].records[1].tag, 2u);
  EXPECT_EQ(samples[0].records[2].tag, 1005u);
  {
    ByteReader r(ByteView(samples[0].records[1].body.data(), samples[0].records[1].body.size()));
    EXPECT_EQ(r.U32(), 1u);
    EXPECT_EQ(r.U32(), 2u);
    for (int i = 0; i < 10; ++i) EXPECT_EQ(r.U32(), 0xFFFFFFFFu) << i;  // unknown
    EXPECT_EQ(r.U32(), 13u);
    EXPECT_EQ(r.remaining(), 0u);
  }
  {
    ByteReader r(ByteView(samples[0].records[2].body.data(), samples[0].records[2].body.size()));
    EXPECT_EQ(r.U32(), 4u);
    ByteView name = r.Bytes(4);
    EXPECT_EQ(std::string(name.begin(), name.end()), "swp6");
  }
  ASSERT_EQ(samples[1].records.size(), 1u);
  EXPECT_EQ(samples[1].records[0].tag, 1u);
}

TEST_F(PollerTest, ReadErrorCountedAndNoSample) {
  counters_.fail = true;
  PollerConfig config;
  config.interval_s = 5;
  Poller p(Port(8), config, receiver_, counters_, prng_);
  TickUntilSample(p);
  EXPECT_EQ(p.stats().read_errors, 1u);
  EXPECT_EQ(p.stats().samples, 0u);
  EXPECT_TRUE(FlushAndRead().empty());
  counters_.fail = false;
  EXPECT_EQ(TickUntilSample(p), 5u);  // the next interval as usual
  const auto samples = FlushAndRead();
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].sequence, 1u);  // a failed read does not use a sequence number
}

TEST_F(PollerTest, ExpandedFormWhenConfiguredOrIndexTooLarge) {
  PollerConfig config;
  config.interval_s = 1;
  Poller big(Port(1u << 24), config, receiver_, counters_, prng_);
  config.expanded = true;
  Poller forced(Port(2), config, receiver_, counters_, prng_);
  big.Tick(clock_.Now());
  forced.Tick(clock_.Now());
  const auto samples = FlushAndRead();
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0].tag, 4u);
  EXPECT_EQ(samples[0].source_index, 1u << 24);
  EXPECT_EQ(samples[1].tag, 4u);
  EXPECT_EQ(samples[1].source_index, 2u);
}

TEST_F(PollerTest, ZeroIntervalDisables) {
  PollerConfig config;
  config.interval_s = 0;
  Poller p(Port(2), config, receiver_, counters_, prng_);
  for (int i = 0; i < 100; ++i) p.Tick(clock_.Now());
  EXPECT_EQ(counters_.reads, 0);
  EXPECT_TRUE(FlushAndRead().empty());
}

}  // namespace
}  // namespace xflowd::agent::sflow
