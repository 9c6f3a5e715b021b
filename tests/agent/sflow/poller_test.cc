#include "agent/sflow/poller.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "agent/sflow/receiver.h"
#include "exporter/sflow/sflow_decoder.h"
#include "hal/base/byte_view.h"
#include "hal/base/clock.h"
#include "hal/base/prng.h"
#include "hal/base/status.h"
#include "hal/counter_source.h"
#include "hal/port_inventory.h"
#include "tests/agent/sflow/sflow_test_util.h"
#include "tests/support/capture_transport.h"

namespace xflowd::agent::sflow {
namespace {

using hal::PortCounters;
using hal::base::IpAddress;
using hal::base::ManualClock;
using hal::base::MonoTime;
using hal::base::Prng;
using testing::CounterSamples;
using testing::FindRecord;
using xflowd::testing::CaptureTransport;

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
  // Every sample sent since the last call; anything but a counter sample is a test failure.
  std::vector<wire::DecodedCounterSample> FlushAndRead() {
    receiver_.Flush();
    std::vector<wire::DecodedCounterSample> out = CounterSamples(t_);
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
    EXPECT_FALSE(samples[i].expanded);  // 0:2
    EXPECT_EQ(samples[i].sequence, i + 1);
    EXPECT_EQ(samples[i].source.type, 0u);
    EXPECT_EQ(samples[i].source.index, 3u);
  }
  EXPECT_EQ(p.sequence(), 3u);
  EXPECT_EQ(p.stats().samples, 3u);
}

TEST_F(PollerTest, ReconfigureKeepsTheSequence) {
  PollerConfig config;
  config.interval_s = 30;
  Poller p(Port(3), config, receiver_, counters_, prng_);
  TickUntilSample(p);
  TickUntilSample(p);
  p.set_countdown(20);
  config.interval_s = 5;  // the countdown is clamped into the new interval
  p.Reconfigure(config);
  EXPECT_EQ(p.countdown(), 5u);
  EXPECT_EQ(TickUntilSample(p), 5u);
  EXPECT_EQ(TickUntilSample(p), 5u);
  config.interval_s = 0;  // off, then on again: the first poll one interval later
  p.Reconfigure(config);
  EXPECT_EQ(TickUntilSample(p), 0u);
  config.interval_s = 7;
  p.Reconfigure(config);
  EXPECT_EQ(TickUntilSample(p), 7u);
  const auto samples = FlushAndRead();
  ASSERT_EQ(samples.size(), 5u);
  for (uint32_t i = 0; i < 5; ++i) EXPECT_EQ(samples[i].sequence, i + 1);
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
  const auto* g = FindRecord<wire::GenericInterfaceCounters>(samples[0].records);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->if_index, 4u);
  EXPECT_EQ(g->if_type, 161u);
  EXPECT_EQ(g->if_speed, 100000000000ull);
  EXPECT_EQ(g->if_direction, 2u);
  EXPECT_EQ(g->if_status, 1u);  // admin up, oper down
  EXPECT_EQ(g->in_octets, 0x123456789ABCull);
  EXPECT_EQ(g->in_ucast_pkts, 5u);
  EXPECT_EQ(g->in_multicast_pkts, 0xFFFFFFFFu);
  EXPECT_EQ(g->in_broadcast_pkts, 7u);
  EXPECT_EQ(g->in_discards, 0u);
  EXPECT_EQ(g->in_errors, 0xFFFFFFFFu);
  EXPECT_EQ(g->in_unknown_protos, 0xFFFFFFFEu);
  EXPECT_EQ(g->out_octets, 0xFFFFFFFFFFFFFFFFull);
  EXPECT_EQ(g->out_ucast_pkts, 0xFFFFFFFEu);
  EXPECT_EQ(g->out_multicast_pkts, 1u);
  EXPECT_EQ(g->out_broadcast_pkts, 2u);
  EXPECT_EQ(g->out_discards, 3u);
  EXPECT_EQ(g->out_errors, 0xFFFFFFFFu);
  EXPECT_EQ(g->promiscuous_mode, 1u);
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
    const auto* g = FindRecord<wire::GenericInterfaceCounters>(samples[0].records);
    ASSERT_NE(g, nullptr);
    EXPECT_EQ(g->if_status, want[bits]);
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
  EXPECT_EQ(wire::RecordTag(samples[0].records[0]), wire::kGenericInterfaceFormat);
  EXPECT_EQ(wire::RecordTag(samples[0].records[1]), wire::kEthernetInterfaceFormat);
  EXPECT_EQ(wire::RecordTag(samples[0].records[2]), wire::kPortNameFormat);
  {
    const auto* e = std::get_if<wire::EthernetInterfaceCounters>(&samples[0].records[1]);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->alignment_errors, 1u);
    EXPECT_EQ(e->fcs_errors, 2u);
    const uint32_t unknown[10] = {
        e->single_collision_frames,      e->multiple_collision_frames, e->sqe_test_errors,
        e->deferred_transmissions,       e->late_collisions,           e->excessive_collisions,
        e->internal_mac_transmit_errors, e->carrier_sense_errors,      e->frame_too_longs,
        e->internal_mac_receive_errors};
    for (int i = 0; i < 10; ++i) EXPECT_EQ(unknown[i], 0xFFFFFFFFu) << i;
    EXPECT_EQ(e->symbol_errors, 13u);
  }
  {
    const auto* name = std::get_if<wire::DecodedPortName>(&samples[0].records[2]);
    ASSERT_NE(name, nullptr);
    EXPECT_EQ(name->name, "swp6");
  }
  ASSERT_EQ(samples[1].records.size(), 1u);
  EXPECT_EQ(wire::RecordTag(samples[1].records[0]), wire::kGenericInterfaceFormat);
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
  EXPECT_TRUE(samples[0].expanded);  // 0:4
  EXPECT_EQ(samples[0].source.index, 1u << 24);
  EXPECT_TRUE(samples[1].expanded);
  EXPECT_EQ(samples[1].source.index, 2u);
}

// The largest counter sample the poller makes (IPv6 agent, expanded, Ethernet counters, a
// 255-byte port name) fits the smallest datagram the command line accepts (512 bytes).
TEST_F(PollerTest, LargestCounterSampleFitsTheSmallestDatagramOption) {
  ReceiverConfig rc;
  rc.max_datagram_bytes = 512;
  Receiver rx(rc, *IpAddress::Parse("2001:db8::1"), 0, clock_, MonoTime(), {&t_});
  PortCounters c;
  c.has_ethernet = true;
  counters_.counters[1u << 24] = c;
  hal::PortInfo port = Port(1u << 24);
  port.name = std::string(300, 'p');  // cut to 255 by the poller
  PollerConfig config;
  config.interval_s = 1;
  Poller p(port, config, rx, counters_, prng_);
  p.Tick(clock_.Now());
  rx.Flush();
  EXPECT_EQ(p.stats().samples, 1u);
  EXPECT_EQ(p.stats().oversize_drops, 0u);
  EXPECT_EQ(rx.stats().oversize_drops, 0u);
  ASSERT_EQ(t_.datagrams().size(), 1u);
  EXPECT_EQ(t_.datagrams()[0].size(), 488u);
}

// A port that is a VLAN device: its counter samples carry 0:5 before the port name, each counter
// in + out, unknown when either is; the name gives up room so the sample still fits 512 bytes.
TEST_F(PollerTest, VlanPortCarriesVlanCounters) {
  PortCounters c;
  c.in_octets = 1000;
  c.out_octets = 500;
  c.in_ucast_pkts = 10;
  c.out_ucast_pkts = 5;
  c.in_multicast_pkts = 2;  // out_multicast unknown: the sum is unknown
  c.in_broadcast_pkts = 1;
  c.out_broadcast_pkts = 1;
  c.in_discards = 3;
  c.out_discards = 4;
  counters_.counters[1u << 24] = c;
  counters_.counters[6] = c;
  hal::PortInfo big = Port(1u << 24);
  big.vlan_id = 100;
  big.name = std::string(300, 'v');
  PollerConfig config;
  config.interval_s = 1;
  ReceiverConfig rc;
  rc.max_datagram_bytes = 512;
  Receiver rx(rc, *IpAddress::Parse("2001:db8::1"), 0, clock_, MonoTime(), {&t_});
  Poller p(big, config, rx, counters_, prng_);
  p.Tick(clock_.Now());
  rx.Flush();
  EXPECT_EQ(p.stats().samples, 1u);
  ASSERT_EQ(t_.datagrams().size(), 1u);
  EXPECT_LE(t_.datagrams()[0].size(), 512u);
  t_.Clear();

  hal::PortInfo plain = Port(6);
  plain.vlan_id = 4094;
  Poller q(plain, config, receiver_, counters_, prng_);
  q.Tick(clock_.Now());
  const auto samples = FlushAndRead();
  ASSERT_EQ(samples.size(), 1u);
  ASSERT_EQ(samples[0].records.size(), 3u);
  EXPECT_EQ(wire::RecordTag(samples[0].records[1]), wire::kVlanFormat);  // before the name
  EXPECT_EQ(wire::RecordTag(samples[0].records[2]), wire::kPortNameFormat);
  const auto* v = std::get_if<wire::VlanCounters>(&samples[0].records[1]);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->vlan_id, 4094u);
  EXPECT_EQ(v->octets, 1500u);
  EXPECT_EQ(v->ucast_pkts, 15u);
  EXPECT_EQ(v->multicast_pkts, 0xFFFFFFFFu);
  EXPECT_EQ(v->broadcast_pkts, 2u);
  EXPECT_EQ(v->discards, 7u);
}

// A counter sample no datagram can carry is counted, and does not use up a sequence number
// (collectors would report a lost sample that never went on the wire).
TEST_F(PollerTest, OversizeSampleIsCountedAndKeepsTheSequence) {
  ReceiverConfig rc;
  rc.max_datagram_bytes = 200;
  Receiver rx(rc, IpAddress::V4(0x0A000001), 0, clock_, MonoTime(), {&t_});
  hal::PortInfo port = Port(3);
  port.name = std::string(200, 'x');
  PollerConfig config;
  config.interval_s = 1;
  Poller p(port, config, rx, counters_, prng_);
  p.Tick(clock_.Now());
  EXPECT_EQ(p.stats().samples, 0u);
  EXPECT_EQ(p.stats().oversize_drops, 1u);
  EXPECT_EQ(p.sequence(), 0u);
  port.name = "swp3";
  p.UpdatePort(port);
  p.Tick(clock_.Now());
  rx.Flush();
  const auto samples = CounterSamples(t_);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].sequence, 1u);
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
