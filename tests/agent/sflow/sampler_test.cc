#include "agent/sflow/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <variant>
#include <vector>

#include "agent/sflow/receiver.h"
#include "exporter/sflow/sflow_decoder.h"
#include "hal/base/byte_view.h"
#include "hal/base/clock.h"
#include "hal/base/prng.h"
#include "hal/base/status.h"
#include "hal/packet_sample.h"
#include "hal/sampling_control.h"
#include "tests/agent/sflow/sflow_test_util.h"
#include "tests/support/capture_transport.h"

namespace xflowd::agent::sflow {
namespace {

using hal::Direction;
using hal::PacketSample;
using hal::base::ByteView;
using hal::base::IpAddress;
using hal::base::ManualClock;
using hal::base::MonoTime;
using hal::base::Prng;
using testing::FindRecord;
using testing::FlowSamples;
using xflowd::testing::CaptureTransport;

// Records the calls; answers with `round` applied (e.g. to a power of two), or an error.
class FakeSamplingControl final : public hal::SamplingControl {
 public:
  struct Call {
    uint32_t ifindex;
    Direction direction;
    uint32_t rate;
    uint32_t header_bytes;
  };
  hal::base::Result<uint32_t> SetSamplingRate(uint32_t ifindex, Direction direction, uint32_t rate,
                                              uint32_t header_bytes) override {
    calls.push_back({ifindex, direction, rate, header_bytes});
    if (fail) return hal::base::UnavailableError("netlink: device busy");
    if (!power_of_two) return rate;
    uint32_t p = 1;
    while (p < rate) p <<= 1;
    return p;
  }
  std::vector<Call> calls;
  bool fail = false;
  bool power_of_two = false;
};

// Ethernet + optional 802.1Q tag + IPv4 + UDP, padded to `size` bytes.
std::vector<uint8_t> MakeFrame(size_t size, bool tagged, uint16_t vlan = 0, uint8_t pcp = 0) {
  std::vector<uint8_t> f = {0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02};
  if (tagged) {
    const uint16_t tci = static_cast<uint16_t>((pcp << 13) | vlan);
    f.insert(f.end(), {0x81, 0x00, static_cast<uint8_t>(tci >> 8), static_cast<uint8_t>(tci)});
  }
  f.insert(f.end(), {0x08, 0x00});
  const uint16_t ip_len = static_cast<uint16_t>(size - f.size());
  f.insert(f.end(), {0x45,
                     0,
                     static_cast<uint8_t>(ip_len >> 8),
                     static_cast<uint8_t>(ip_len),
                     0,
                     0,
                     0,
                     0,
                     64,
                     17,
                     0,
                     0,
                     10,
                     0,
                     0,
                     1,
                     10,
                     0,
                     0,
                     2});
  f.insert(f.end(), {0x30, 0x39, 0x00, 0x35, 0, 8, 0, 0});
  f.resize(size, 0xAB);
  return f;
}

class SamplerTest : public ::testing::Test {
 protected:
  SamplerTest() {
    ReceiverConfig rc;
    rc.max_datagram_bytes = 9000;
    receiver_ = std::make_unique<Receiver>(rc, IpAddress::V4(0x0A000001), 0, clock_, MonoTime(),
                                           std::vector<exporter::Transport*>{&t_});
    frame_ = MakeFrame(200, false);
  }

  PacketSample Packet(uint32_t rate = 1) const {
    PacketSample p;
    p.input_ifindex = 5;
    p.output_ifindex = 9;
    p.direction = Direction::kIngress;
    p.frame_length = static_cast<uint32_t>(frame_.size()) + 4;
    p.stripped = 4;
    p.sampling_rate = rate;
    p.header = ByteView(frame_.data(), frame_.size());
    return p;
  }
  PacketSample Hw(uint32_t rate, uint32_t seq) const {
    PacketSample p = Packet(rate);
    p.has_source_sequence = true;
    p.source_sequence = seq;
    return p;
  }
  // Every sample sent since the last call; anything but a flow sample is a test failure.
  std::vector<wire::DecodedFlowSample> FlushAndRead() {
    receiver_->Flush();
    std::vector<wire::DecodedFlowSample> out = FlowSamples(t_);
    t_.Clear();
    return out;
  }

  ManualClock clock_{MonoTime::FromSeconds(100)};
  Prng prng_{42};
  CaptureTransport t_;
  std::unique_ptr<Receiver> receiver_;
  std::vector<uint8_t> frame_;
};

TEST_F(SamplerTest, SoftwareSamplingCountWithinBinomialInterval) {
  SamplerConfig config;
  config.sampling_rate = 100;
  Sampler s(5, Direction::kIngress, config, *receiver_, prng_, clock_, nullptr);
  constexpr uint32_t kPackets = 1000000;
  const PacketSample p = Packet();
  for (uint32_t i = 0; i < kPackets; ++i) s.OnSample(p);
  const auto samples = FlushAndRead();

  const double mean = kPackets / 100.0;
  const double sd = std::sqrt(mean * (1.0 - 1.0 / 100));
  EXPECT_GE(samples.size(), mean - 3.3 * sd);
  EXPECT_LE(samples.size(), mean + 3.3 * sd);
  EXPECT_EQ(s.stats().samples, samples.size());
  EXPECT_EQ(s.sample_pool(), kPackets);
  EXPECT_EQ(s.drops(), 0u);
  EXPECT_EQ(s.sequence(), samples.size());

  // Each sample reports the pool at the time; consecutive pools differ by one skip, and
  // skips are in [1, 2N-1].
  uint32_t last_pool = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    EXPECT_EQ(samples[i].sequence, i + 1);
    EXPECT_EQ(samples[i].sampling_rate, 100u);
    const uint32_t skip = samples[i].sample_pool - last_pool;
    ASSERT_GE(skip, 1u);
    ASSERT_LE(skip, 199u);
    last_pool = samples[i].sample_pool;
  }
}

TEST_F(SamplerTest, SoftwareSamplingIsReproducibleForASeed) {
  auto run = [&](uint64_t seed) {
    Prng prng(seed);
    CaptureTransport t;
    Receiver r(ReceiverConfig{}, IpAddress::V4(0x0A000001), 0, clock_, MonoTime(), {&t});
    SamplerConfig config;
    config.sampling_rate = 10;
    Sampler s(5, Direction::kIngress, config, r, prng, clock_, nullptr);
    for (int i = 0; i < 10000; ++i) s.OnSample(Packet());
    r.Flush();
    return t.datagrams();
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7), run(8));
}

TEST_F(SamplerTest, RateOneSamplesEveryPacket) {
  SamplerConfig config;
  config.sampling_rate = 1;
  Sampler s(5, Direction::kIngress, config, *receiver_, prng_, clock_, nullptr);
  for (int i = 0; i < 10; ++i) s.OnSample(Packet());
  EXPECT_EQ(FlushAndRead().size(), 10u);
}

TEST_F(SamplerTest, ZeroRateDisables) {
  SamplerConfig config;
  config.sampling_rate = 0;
  Sampler s(5, Direction::kIngress, config, *receiver_, prng_, clock_, nullptr);
  for (int i = 0; i < 100; ++i) s.OnSample(Packet());
  for (int i = 0; i < 10; ++i) s.OnSample(Hw(256, i));
  EXPECT_TRUE(FlushAndRead().empty());
  EXPECT_EQ(s.sample_pool(), 0u);
}

TEST_F(SamplerTest, HardwareSequenceGapsAreDropsAndGrowThePool) {
  SamplerConfig config;
  config.sampling_rate = 256;
  Sampler s(5, Direction::kIngress, config, *receiver_, prng_, clock_, nullptr);
  // 10, 11, (12, 13 lost) 14, 15, (16..19 lost) 20
  const uint32_t seqs[] = {10, 11, 14, 15, 20};
  const uint32_t gaps[] = {0, 0, 2, 0, 4};
  uint32_t pool = 0, drops = 0;
  std::vector<uint32_t> want_pool, want_drops;
  for (size_t i = 0; i < 5; ++i) {
    s.OnSample(Hw(256, seqs[i]));
    pool += 256 * (1 + gaps[i]);
    drops += gaps[i];
    want_pool.push_back(pool);
    want_drops.push_back(drops);
  }
  EXPECT_EQ(s.drops(), 6u);
  EXPECT_EQ(s.stats().source_drops, 6u);
  EXPECT_EQ(s.sample_pool(), 256u * 11);
  const auto samples = FlushAndRead();
  ASSERT_EQ(samples.size(), 5u);  // every hardware sample is exported at rate <= R
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(samples[i].sampling_rate, 256u);
    EXPECT_EQ(samples[i].sample_pool, want_pool[i]);
    EXPECT_EQ(samples[i].drops, want_drops[i]);
    EXPECT_EQ(samples[i].sequence, i + 1);
  }
}

// A source that numbers its samples sampled them, at 1-in-1 too: its gaps are drops and grow
// the pool, as at any other rate.
TEST_F(SamplerTest, HardwareSamplesAtOneInOneUseTheSequenceAndDrops) {
  SamplerConfig config;
  config.sampling_rate = 1;
  Sampler s(5, Direction::kIngress, config, *receiver_, prng_, clock_, nullptr);
  const uint32_t seqs[] = {1, 2, 5, 6, 10};  // 3, 4 and 7..9 lost
  for (uint32_t seq : seqs) s.OnSample(Hw(1, seq));
  EXPECT_EQ(s.drops(), 5u);
  EXPECT_EQ(s.stats().source_drops, 5u);
  EXPECT_EQ(s.sample_pool(), 10u);  // every packet the source looked at
  const auto samples = FlushAndRead();
  ASSERT_EQ(samples.size(), 5u);
  EXPECT_EQ(samples[2].drops, 2u);
  EXPECT_EQ(samples[2].sample_pool, 5u);
  EXPECT_EQ(samples[4].drops, 5u);
  EXPECT_EQ(samples[4].sample_pool, 10u);
  for (size_t i = 0; i < samples.size(); ++i) {
    EXPECT_EQ(samples[i].sampling_rate, 1u);
    EXPECT_EQ(samples[i].sequence, i + 1);
  }
}

// A datagram limit below what a full header needs trims the header (the record says how many
// bytes it carries): no sample is lost, no sequence number skipped, drops stay 0.
TEST_F(SamplerTest, HeaderTrimmedToFitASmallDatagram) {
  ReceiverConfig rc;
  rc.max_datagram_bytes = 200;  // the smallest a Receiver takes
  Receiver small(rc, *IpAddress::Parse("2001:db8::1"), 0, clock_, MonoTime(), {&t_});
  SamplerConfig config;
  config.sampling_rate = 1;
  config.header_bytes = 256;
  config.expanded = true;
  config.timestamp_record = true;
  Sampler s(5, Direction::kIngress, config, small, prng_, clock_, nullptr);
  for (int i = 0; i < 20; ++i) {
    PacketSample p = Packet();
    if (i % 2 == 1) p.header = ByteView(frame_.data(), 40);
    s.OnSample(p);
  }
  small.Flush();
  const auto samples = FlowSamples(t_);
  ASSERT_EQ(samples.size(), 20u);
  for (size_t i = 0; i < samples.size(); ++i) {
    EXPECT_EQ(samples[i].sequence, i + 1);
    EXPECT_EQ(samples[i].drops, 0u);
    const auto* h = FindRecord<wire::DecodedSampledHeader>(samples[i].records);
    ASSERT_NE(h, nullptr);
    EXPECT_EQ(h->frame_length, frame_.size() + 4);  // the frame length is the real one
    if (i % 2 == 1) {
      EXPECT_EQ(h->header.size(), 40u);  // short enough already: untouched
    } else {
      // 200 - 40 (IPv6 datagram header) - 116 (the rest of the sample) = 44
      EXPECT_EQ(h->header.size(), 44u);
    }
    EXPECT_TRUE(std::equal(h->header.begin(), h->header.end(), frame_.begin()));
  }
  for (const auto& d : t_.datagrams()) EXPECT_LE(d.size(), 200u);
  EXPECT_EQ(s.stats().headers_trimmed, 10u);
  EXPECT_EQ(s.stats().oversize_drops, 0u);
  EXPECT_EQ(small.stats().oversize_drops, 0u);
  EXPECT_EQ(s.drops(), 0u);
}

TEST_F(SamplerTest, HardwareSequenceWrapsAndResyncsAfterARestart) {
  SamplerConfig config;
  config.sampling_rate = 100;
  Sampler s(5, Direction::kIngress, config, *receiver_, prng_, clock_, nullptr);
  s.OnSample(Hw(100, 0xFFFFFFFE));
  s.OnSample(Hw(100, 0xFFFFFFFF));
  s.OnSample(Hw(100, 0));  // wrap: no gap
  EXPECT_EQ(s.drops(), 0u);
  s.OnSample(Hw(100, 2));  // 1 lost across nothing special
  EXPECT_EQ(s.drops(), 1u);
  s.OnSample(Hw(100, 2));  // duplicate / backwards: not 4 billion drops
  s.OnSample(Hw(100, 1));
  EXPECT_EQ(s.drops(), 1u);
  s.OnSample(Hw(100, 3));  // resynced on 1: one lost
  EXPECT_EQ(s.drops(), 2u);
  EXPECT_EQ(s.sample_pool(), 100u * (7 + 2));
  PacketSample no_seq = Packet(100);  // a source without sequence numbers: never drops
  s.OnSample(no_seq);
  EXPECT_EQ(s.drops(), 2u);
  EXPECT_EQ(s.sample_pool(), 100u * 10);
}

TEST_F(SamplerTest, ExportsHeaderSwitchAndTimestampRecords) {
  SamplerConfig config;
  config.sampling_rate = 1;
  config.header_bytes = 64;
  config.timestamp_record = true;
  Sampler s(5, Direction::kIngress, config, *receiver_, prng_, clock_, nullptr);
  frame_ = MakeFrame(300, true, 100, 5);  // tag in the bytes
  s.OnSample(Packet());
  frame_ = MakeFrame(300, false);
  PacketSample oob = Packet();  // tag delivered out of band (AF_PACKET)
  oob.vlan_valid = true;
  oob.vlan_tci = (3 << 13) | 0x1234;
  s.OnSample(oob);
  s.OnSample(Packet());  // untagged

  const auto samples = FlushAndRead();
  ASSERT_EQ(samples.size(), 3u);
  const wire::DecodedFlowSample& a = samples[0];
  EXPECT_FALSE(a.expanded);
  EXPECT_EQ(a.source.type, 0u);
  EXPECT_EQ(a.source.index, 5u);
  EXPECT_EQ(a.input.format, 0u);
  EXPECT_EQ(a.input.value, 5u);
  EXPECT_EQ(a.output.value, 9u);
  ASSERT_EQ(a.records.size(), 3u);
  EXPECT_EQ(wire::RecordTag(a.records[0]), wire::kSampledHeaderFormat);
  EXPECT_EQ(wire::RecordTag(a.records[1]), wire::kExtendedSwitchFormat);
  EXPECT_EQ(wire::RecordTag(a.records[2]), wire::kExtendedTimestampFormat);

  {
    const auto* h = std::get_if<wire::DecodedSampledHeader>(&a.records[0]);
    ASSERT_NE(h, nullptr);
    EXPECT_EQ(h->protocol, 1u);        // ethernet
    EXPECT_EQ(h->frame_length, 304u);  // including the stripped FCS
    EXPECT_EQ(h->stripped, 4u);
    EXPECT_EQ(h->header.size(), 64u);  // truncated to header_bytes
    const std::vector<uint8_t> frame = MakeFrame(300, true, 100, 5);
    EXPECT_EQ(h->header, std::vector<uint8_t>(frame.begin(), frame.begin() + 64));
  }
  auto vlan = [](const wire::DecodedFlowSample& s) {
    const auto* sw = FindRecord<wire::ExtendedSwitch>(s.records);
    EXPECT_NE(sw, nullptr);
    if (sw == nullptr) return std::vector<uint32_t>{};
    return std::vector<uint32_t>{sw->src_vlan, sw->src_priority, sw->dst_vlan, sw->dst_priority};
  };
  EXPECT_EQ(vlan(samples[0]), (std::vector<uint32_t>{100, 5, 100, 5}));
  EXPECT_EQ(vlan(samples[1]), (std::vector<uint32_t>{0x234, 3, 0x234, 3}));
  EXPECT_EQ(vlan(samples[2]), (std::vector<uint32_t>{0, 0, 0, 0}));
  {
    const auto* ts = std::get_if<wire::ExtendedTimestamp>(&a.records[2]);
    ASSERT_NE(ts, nullptr);
    EXPECT_EQ(ts->nanoseconds, static_cast<uint64_t>(clock_.WallNow().ns()));
  }
  EXPECT_EQ(s.stats().header_errors, 0u);
}

TEST_F(SamplerTest, ShortHeaderIsCountedAndStillExported) {
  SamplerConfig config;
  config.sampling_rate = 1;
  Sampler s(5, Direction::kIngress, config, *receiver_, prng_, clock_, nullptr);
  frame_.resize(10);
  s.OnSample(Packet());
  const auto samples = FlushAndRead();
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(s.stats().header_errors, 1u);
  EXPECT_EQ(samples[0].records.size(), 2u);  // no timestamp unless configured
}

// sFlow has no header_protocol for cooked or loopback headers: the header record starts at the
// IP header (11 = IPv4) and its frame length leaves the pseudo-header out.
TEST_F(SamplerTest, CookedHeadersGoOutFromTheIpHeader) {
  SamplerConfig config;
  config.sampling_rate = 1;
  Sampler s(5, Direction::kIngress, config, *receiver_, prng_, clock_, nullptr);
  const std::vector<uint8_t> ip(frame_.begin() + 14, frame_.end());  // IPv4 + UDP, 186 bytes
  std::vector<uint8_t> sll = {0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00};
  sll.insert(sll.end(), ip.begin(), ip.end());
  PacketSample p = Packet();
  p.link_type = hal::LinkType::kLinuxSll;
  p.stripped = 0;
  p.frame_length = static_cast<uint32_t>(sll.size());
  p.header = ByteView(sll.data(), sll.size());
  s.OnSample(p);
  // A loopback frame whose family is not IP has nothing sFlow can label: no header record.
  const std::vector<uint8_t> loop = {0, 0, 0, 7, 0x45, 0, 0, 20};
  p.link_type = hal::LinkType::kLoop;
  p.frame_length = static_cast<uint32_t>(loop.size());
  p.header = ByteView(loop.data(), loop.size());
  s.OnSample(p);

  const auto samples = FlushAndRead();
  ASSERT_EQ(samples.size(), 2u);
  const auto* h = FindRecord<wire::DecodedSampledHeader>(samples[0].records);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->protocol, uint32_t{wire::kHeaderIpv4});
  EXPECT_EQ(h->frame_length, ip.size());
  EXPECT_EQ(h->stripped, 0u);
  EXPECT_EQ(h->header, std::vector<uint8_t>(ip.begin(), ip.begin() + config.header_bytes));
  EXPECT_EQ(FindRecord<wire::DecodedSampledHeader>(samples[1].records), nullptr);
  EXPECT_NE(FindRecord<wire::ExtendedSwitch>(samples[1].records), nullptr);
  EXPECT_EQ(s.stats().header_errors, 1u);
}

// A loopback frame with no IP header keeps having no header record in a small datagram too.
TEST_F(SamplerTest, NoHeaderRecordStaysOutWhenTheDatagramIsSmall) {
  ReceiverConfig rc;
  rc.max_datagram_bytes = 200;
  Receiver small(rc, *IpAddress::Parse("2001:db8::1"), 0, clock_, MonoTime(), {&t_});
  SamplerConfig config;
  config.sampling_rate = 1;
  config.header_bytes = 256;
  Sampler s(5, Direction::kIngress, config, small, prng_, clock_, nullptr);
  std::vector<uint8_t> loop(200, 0);
  loop[3] = 7;  // address family 7: not IP
  PacketSample p = Packet();
  p.link_type = hal::LinkType::kLoop;
  p.frame_length = static_cast<uint32_t>(loop.size());
  p.header = ByteView(loop.data(), loop.size());
  s.OnSample(p);
  small.Flush();
  const auto samples = FlowSamples(t_);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(FindRecord<wire::DecodedSampledHeader>(samples[0].records), nullptr);
  EXPECT_NE(FindRecord<wire::ExtendedSwitch>(samples[0].records), nullptr);
  EXPECT_EQ(s.stats().headers_trimmed, 0u);
}

TEST_F(SamplerTest, ExpandedFormWhenConfiguredOrIndexTooLarge) {
  SamplerConfig config;
  config.sampling_rate = 1;
  Sampler compact(5, Direction::kIngress, config, *receiver_, prng_, clock_, nullptr);
  Sampler big(1u << 24, Direction::kEgress, config, *receiver_, prng_, clock_, nullptr);
  config.expanded = true;
  Sampler forced(5, Direction::kIngress, config, *receiver_, prng_, clock_, nullptr);
  compact.OnSample(Packet());
  PacketSample e = Packet();
  e.direction = Direction::kEgress;
  e.output_ifindex = 1u << 24;
  big.OnSample(e);
  forced.OnSample(Packet());
  const auto samples = FlushAndRead();
  ASSERT_EQ(samples.size(), 3u);
  EXPECT_FALSE(samples[0].expanded);  // 0:1
  EXPECT_TRUE(samples[1].expanded);   // 0:3
  EXPECT_EQ(samples[1].source.index, 1u << 24);
  EXPECT_EQ(samples[1].output.value, 1u << 24);
  EXPECT_TRUE(samples[2].expanded);
  EXPECT_EQ(samples[2].source.index, 5u);
  EXPECT_EQ(samples[2].input.value, 5u);
}

TEST_F(SamplerTest, BudgetDoublesRateAndProgramsHardware) {
  FakeSamplingControl control;
  control.power_of_two = true;
  SamplerConfig config;
  config.sampling_rate = 100;
  config.header_bytes = 96;
  config.max_samples_per_s = 10;
  Sampler s(5, Direction::kEgress, config, *receiver_, prng_, clock_, &control);

  uint32_t seq = 0;
  for (int i = 0; i < 10; ++i) s.OnSample(Hw(100, ++seq));
  s.Tick(clock_.Now());  // exactly at the budget: no backoff
  EXPECT_EQ(s.stats().backoffs, 0u);
  EXPECT_TRUE(control.calls.empty());

  for (int i = 0; i < 11; ++i) s.OnSample(Hw(100, ++seq));
  s.Tick(clock_.Now());
  EXPECT_EQ(s.stats().backoffs, 1u);
  ASSERT_EQ(control.calls.size(), 1u);
  EXPECT_EQ(control.calls[0].ifindex, 5u);
  EXPECT_EQ(control.calls[0].direction, Direction::kEgress);
  EXPECT_EQ(control.calls[0].rate, 200u);
  EXPECT_EQ(control.calls[0].header_bytes, 96u);
  EXPECT_EQ(s.sampling_rate(), 256u);  // what the hardware applied
  FlushAndRead();

  // Samples still in flight at the old rate are sub-sampled 1 in k = 256 / 100 = 2 and
  // reported at the rate they were really taken at, 200; the pool still counts every packet
  // the hardware saw.
  for (int i = 0; i < 1000; ++i) s.OnSample(Hw(100, ++seq));
  EXPECT_EQ(s.sample_pool(), 21u * 100 + 1000u * 100);
  EXPECT_EQ(s.drops(), 0u);
  auto sub = FlushAndRead();
  EXPECT_GT(sub.size(), 400u);
  EXPECT_LT(sub.size(), 600u);
  for (const auto& x : sub) EXPECT_EQ(x.sampling_rate, 200u);
  s.Tick(clock_.Now());  // over budget again: 512
  EXPECT_EQ(s.sampling_rate(), 512u);
  EXPECT_EQ(control.calls.back().rate, 512u);

  // Once the hardware runs at the new rate, every sample goes out at that rate.
  for (int i = 0; i < 5; ++i) s.OnSample(Hw(512, ++seq));
  auto at_new = FlushAndRead();
  ASSERT_EQ(at_new.size(), 5u);
  for (const auto& x : at_new) EXPECT_EQ(x.sampling_rate, 512u);
}

TEST_F(SamplerTest, ReconfigureKeepsSequencePoolAndDrops) {
  SamplerConfig config;
  config.sampling_rate = 100;
  config.max_samples_per_s = 1000;
  Sampler s(5, Direction::kIngress, config, *receiver_, prng_, clock_, nullptr);
  uint32_t seq = 0;
  for (int i = 0; i < 10; ++i) s.OnSample(Hw(100, ++seq));
  seq += 2;  // two lost on the way: drops
  s.OnSample(Hw(100, ++seq));
  ASSERT_EQ(s.sequence(), 11u);
  ASSERT_EQ(s.drops(), 2u);
  const uint32_t pool = s.sample_pool();
  FlushAndRead();

  config.sampling_rate = 25;
  config.header_bytes = 64;
  s.Reconfigure(config);
  EXPECT_EQ(s.sampling_rate(), 25u);
  for (int i = 0; i < 4; ++i) s.OnSample(Hw(25, ++seq));
  const auto after = FlushAndRead();
  ASSERT_EQ(after.size(), 4u);
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].sequence, 12u + i);  // continues, no reset
    EXPECT_EQ(after[i].sampling_rate, 25u);
    EXPECT_EQ(after[i].sample_pool, pool + 25u * (i + 1));
    EXPECT_EQ(after[i].drops, 2u);
  }
  // The budget's backoff restarts from the new rate and recovers to it, not to the old one.
  for (int i = 0; i < 1001; ++i) s.OnSample(Hw(25, ++seq));
  s.Tick(clock_.Now());
  EXPECT_EQ(s.sampling_rate(), 50u);
  for (int t = 0; t < 10; ++t) s.Tick(clock_.Now());
  EXPECT_EQ(s.sampling_rate(), 25u);
}

TEST_F(SamplerTest, SoftwareBudgetDoublesWithoutProgrammingAnything) {
  FakeSamplingControl control;
  SamplerConfig config;
  config.sampling_rate = 10;
  config.max_samples_per_s = 50;
  Sampler s(5, Direction::kIngress, config, *receiver_, prng_, clock_, &control);
  for (int i = 0; i < 10000; ++i) s.OnSample(Packet());  // ~1000 samples
  s.Tick(clock_.Now());
  EXPECT_EQ(s.sampling_rate(), 20u);
  EXPECT_EQ(s.stats().backoffs, 1u);
  EXPECT_TRUE(control.calls.empty());  // nothing to program for software sampling
  s.Tick(clock_.Now());                // nothing since the last tick
  EXPECT_EQ(s.sampling_rate(), 20u);
  FlushAndRead();
  for (int i = 0; i < 10000; ++i) s.OnSample(Packet());
  const auto samples = FlushAndRead();
  EXPECT_GT(samples.size(), 400u);
  EXPECT_LT(samples.size(), 600u);
  for (const auto& x : samples) EXPECT_EQ(x.sampling_rate, 20u);
}

TEST_F(SamplerTest, ControlErrorKeepsTheDoubledRate) {
  FakeSamplingControl control;
  control.fail = true;
  SamplerConfig config;
  config.sampling_rate = 64;
  config.max_samples_per_s = 1;
  Sampler s(5, Direction::kIngress, config, *receiver_, prng_, clock_, &control);
  s.OnSample(Hw(64, 1));
  s.OnSample(Hw(64, 2));
  s.Tick(clock_.Now());
  EXPECT_EQ(control.calls.size(), 1u);
  EXPECT_EQ(s.stats().control_errors, 1u);
  EXPECT_EQ(s.sampling_rate(), 128u);
  FlushAndRead();
  // The hardware still samples 1 in 64: the sampler takes 1 in 2 of those itself.
  for (uint32_t i = 3; i < 1003; ++i) s.OnSample(Hw(64, i));
  const auto samples = FlushAndRead();
  EXPECT_GT(samples.size(), 400u);
  EXPECT_LT(samples.size(), 600u);
  for (const auto& x : samples) EXPECT_EQ(x.sampling_rate, 128u);
  EXPECT_EQ(s.drops(), 0u);
}

// After a backoff the rate steps back towards the configured one, one halving per 10 calm
// ticks (each at most a quarter of the budget), and never below it. A tick between a quarter
// and the whole budget restarts the count (hysteresis: no flapping).
TEST_F(SamplerTest, CalmBudgetStepsTheRateBackWithHysteresis) {
  FakeSamplingControl control;
  SamplerConfig config;
  config.sampling_rate = 100;
  config.header_bytes = 64;
  config.max_samples_per_s = 40;
  Sampler s(5, Direction::kIngress, config, *receiver_, prng_, clock_, &control);
  uint32_t seq = 0;
  auto burst = [&](uint32_t n) {
    for (uint32_t i = 0; i < n; ++i) s.OnSample(Hw(s.sampling_rate(), ++seq));
    s.Tick(clock_.Now());
  };
  burst(100);
  burst(100);
  EXPECT_EQ(s.sampling_rate(), 400u);
  EXPECT_EQ(s.stats().backoffs, 2u);

  // 11 samples a tick is over a quarter of 40: no recovery however long it lasts.
  for (int i = 0; i < 30; ++i) burst(11);
  EXPECT_EQ(s.sampling_rate(), 400u);
  // 10 a tick is calm: the 10th calm tick halves the rate, and asks the hardware for it.
  for (int i = 0; i < 9; ++i) burst(10);
  EXPECT_EQ(s.sampling_rate(), 400u);
  burst(10);
  EXPECT_EQ(s.sampling_rate(), 200u);
  EXPECT_EQ(s.stats().recoveries, 1u);
  EXPECT_EQ(control.calls.back().rate, 200u);
  EXPECT_EQ(control.calls.back().header_bytes, 64u);
  // A busy tick in the middle restarts the count.
  for (int i = 0; i < 5; ++i) burst(0);
  burst(20);
  for (int i = 0; i < 9; ++i) burst(0);
  EXPECT_EQ(s.sampling_rate(), 200u);
  burst(0);
  EXPECT_EQ(s.sampling_rate(), 100u);
  // Floor: the configured rate.
  for (int i = 0; i < 50; ++i) burst(0);
  EXPECT_EQ(s.sampling_rate(), 100u);
  EXPECT_EQ(s.stats().recoveries, 2u);
  EXPECT_EQ(s.stats().backoffs, 2u);

  // The datagrams say each rate: samples at 1-in-100 report 100 again.
  FlushAndRead();
  burst(3);
  const auto samples = FlushAndRead();
  ASSERT_EQ(samples.size(), 3u);
  for (const auto& x : samples) EXPECT_EQ(x.sampling_rate, 100u);
}

// A platform that cannot go below the rate it has (it rounds) makes that the floor.
TEST_F(SamplerTest, RecoveryStopsWhereThePlatformCannotGoLower) {
  FakeSamplingControl control;
  control.power_of_two = true;  // rounds up
  SamplerConfig config;
  config.sampling_rate = 100;
  config.max_samples_per_s = 4;
  Sampler s(5, Direction::kIngress, config, *receiver_, prng_, clock_, &control);
  uint32_t seq = 0;
  for (int i = 0; i < 5; ++i) s.OnSample(Hw(100, ++seq));
  s.Tick(clock_.Now());
  EXPECT_EQ(s.sampling_rate(), 256u);  // 200 rounded up
  const size_t calls = control.calls.size();
  for (int i = 0; i < 100; ++i) s.Tick(clock_.Now());
  // 128 is as low as it goes: asking for 100 gives 128 again, and then no more asking.
  EXPECT_EQ(s.sampling_rate(), 128u);
  EXPECT_EQ(s.stats().recoveries, 1u);
  EXPECT_EQ(control.calls.size(), calls + 2) << "asked again and again for a rate it lacks";
}

// A platform that refuses the lower rate still samples at the higher one: the rate stays (the
// datagrams keep saying it) and the step is tried again after the next calm stretch.
TEST_F(SamplerTest, RefusedRecoveryKeepsTheRateAndRetries) {
  FakeSamplingControl control;
  SamplerConfig config;
  config.sampling_rate = 64;
  config.max_samples_per_s = 4;
  Sampler s(5, Direction::kIngress, config, *receiver_, prng_, clock_, &control);
  for (uint32_t i = 1; i <= 5; ++i) s.OnSample(Hw(64, i));
  s.Tick(clock_.Now());
  EXPECT_EQ(s.sampling_rate(), 128u);
  control.fail = true;
  for (int i = 0; i < 10; ++i) s.Tick(clock_.Now());
  EXPECT_EQ(s.sampling_rate(), 128u);
  EXPECT_EQ(s.stats().control_errors, 1u);
  EXPECT_EQ(s.stats().recoveries, 0u);
  control.fail = false;
  for (int i = 0; i < 9; ++i) s.Tick(clock_.Now());
  EXPECT_EQ(s.sampling_rate(), 128u);
  s.Tick(clock_.Now());
  EXPECT_EQ(s.sampling_rate(), 64u);
  EXPECT_EQ(s.stats().recoveries, 1u);
  EXPECT_EQ(control.calls.back().rate, 64u);
}

// A source with an external pool hands its growth with the samples (pool_added); a sampler
// that counts its own pool ignores the field.
TEST_F(SamplerTest, PoolAddedWithTheSampleGrowsOnlyAnExternalPool) {
  SamplerConfig config;
  config.sampling_rate = 100;
  config.external_pool = true;
  Sampler ext(5, Direction::kIngress, config, *receiver_, prng_, clock_, nullptr);
  config.external_pool = false;
  Sampler own(6, Direction::kIngress, config, *receiver_, prng_, clock_, nullptr);
  PacketSample p = Packet(100);
  p.pool_added = 1234;
  ext.OnSample(p);
  own.OnSample(p);
  EXPECT_EQ(ext.sample_pool(), 1234u);  // the pool the sample is exported with includes it
  EXPECT_EQ(own.sample_pool(), 100u);   // rate x samples, as before
  p.pool_added = 0;
  ext.OnSample(p);
  EXPECT_EQ(ext.sample_pool(), 1234u);
  const auto samples = FlushAndRead();
  ASSERT_EQ(samples.size(), 3u);
  EXPECT_EQ(samples[0].sample_pool, 1234u);
}

TEST_F(SamplerTest, ExternalPoolComesOnlyFromTheInterfaceCounters) {
  SamplerConfig config;
  config.sampling_rate = 100;
  config.external_pool = true;
  Sampler s(5, Direction::kIngress, config, *receiver_, prng_, clock_, nullptr);
  // AF_PACKET: samples carry the rate, no source sequence; the pool is the rx counter delta.
  PacketSample p = Packet(100);
  s.OnSample(p);
  EXPECT_EQ(s.sample_pool(), 0u);
  s.AddToSamplePool(1234);
  s.OnSample(p);
  s.AddToSamplePool(66);
  s.OnSample(p);
  EXPECT_EQ(s.sample_pool(), 1300u);
  // Sequence gaps are still drops, but they do not grow the pool.
  s.OnSample(Hw(100, 1));
  s.OnSample(Hw(100, 4));
  EXPECT_EQ(s.drops(), 2u);
  EXPECT_EQ(s.sample_pool(), 1300u);
  // The pool wraps at 2^32 like the sFlow counter.
  s.AddToSamplePool(0xFFFFFFFFull);
  EXPECT_EQ(s.sample_pool(), 1299u);
  const auto samples = FlushAndRead();
  ASSERT_EQ(samples.size(), 5u);
  EXPECT_EQ(samples[0].sample_pool, 0u);
  EXPECT_EQ(samples[1].sample_pool, 1234u);
  EXPECT_EQ(samples[2].sample_pool, 1300u);
  EXPECT_EQ(samples[4].drops, 2u);
  for (const auto& x : samples) EXPECT_EQ(x.sampling_rate, 100u);
}

}  // namespace
}  // namespace xflowd::agent::sflow
