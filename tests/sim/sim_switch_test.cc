#include "sim/sim_switch.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "agent/packet/packet_parser.h"
#include "hal/base/byte_view.h"
#include "tests/support/test_env.h"

namespace xflowd::sim {
namespace {

using hal::Direction;
using hal::PacketSample;
using hal::base::ByteView;
using hal::base::MonoTime;
using hal::base::StatusCode;
using std::chrono::milliseconds;
using std::chrono::seconds;

const MonoTime kStart = MonoTime::FromSeconds(1000);

// A copy of a sample whose header outlives the callback.
struct Captured {
  PacketSample sample;
  std::vector<uint8_t> header;
};

class CollectingSink final : public hal::PacketSampleSink {
 public:
  void OnSample(const PacketSample& s) override {
    Captured c{s, std::vector<uint8_t>(s.header.begin(), s.header.end())};
    c.sample.header = ByteView();
    got.push_back(std::move(c));
  }
  std::vector<Captured> got;
};

class CountingSink final : public hal::PacketSampleSink {
 public:
  void OnSample(const PacketSample& s) override {
    ++samples;
    header_bytes += s.header.size();
  }
  uint64_t samples = 0;
  uint64_t header_bytes = 0;
};

// Small switch: 8 x 1G, 200 flows per port.
SimConfig SmallConfig() {
  SimConfig c;
  c.num_ports = 8;
  c.port_speed_bps = 1'000'000'000;
  c.flows_per_port = 200;
  c.seed = 12345;
  return c;
}

std::unique_ptr<SimSwitch> Make(const SimConfig& c) {
  auto r = SimSwitch::Create(c, kStart);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

void SampleAll(SimSwitch& sw, uint32_t rate, uint32_t header_bytes = 128) {
  for (uint32_t i = 0; i < sw.config().num_ports; ++i) {
    const uint32_t ifindex = sw.config().first_ifindex + i;
    for (Direction d : {Direction::kIngress, Direction::kEgress}) {
      ASSERT_TRUE(sw.SetSamplingRate(ifindex, d, rate, header_bytes).ok());
    }
  }
}

// Advances in `step`s up to `duration`, draining everything after each step.
void RunFor(SimSwitch& sw, hal::base::Duration duration, hal::base::Duration step,
            hal::PacketSampleSink& sink) {
  const MonoTime end = sw.generated_until() + duration;
  for (MonoTime t = sw.generated_until() + step; t <= end; t += step) {
    sw.AdvanceTo(t);
    sw.Drain(sink, SIZE_MAX);
  }
}

// Minimal independent decode of the frames the sim writes (the agent's parser is tested on
// its own; this checks the sim's bytes directly).
struct Decoded {
  bool ok = false;
  uint8_t dst_mac[6] = {};
  int vlan_count = 0;
  uint16_t vlan[2] = {};
  uint32_t l2_length = 0;
  uint8_t ip_version = 0;
  uint8_t protocol = 0;
  uint8_t src_ip[16] = {};
  uint8_t dst_ip[16] = {};
  uint32_t frame_length_from_ip = 0;  // L2 header + IP length field(s)
  uint16_t src_port = 0;              // ICMP: type
  uint16_t dst_port = 0;              // ICMP: code
};

Decoded Decode(ByteView h) {
  Decoded d;
  if (h.size() < 14) return d;
  std::memcpy(d.dst_mac, h.data(), 6);
  size_t off = 12;
  uint16_t type = 0;
  h.U16At(off, &type);
  while ((type == 0x8100 || type == 0x88A8) && d.vlan_count < 2) {
    uint16_t tci = 0;
    if (!h.U16At(off + 2, &tci)) return d;
    d.vlan[d.vlan_count++] = tci & 0xFFF;
    off += 4;
    if (!h.U16At(off, &type)) return d;
  }
  off += 2;
  d.l2_length = static_cast<uint32_t>(off);
  size_t l4 = 0;
  if (type == 0x0800) {
    uint8_t vihl = 0;
    uint16_t total = 0;
    if (!h.U8At(off, &vihl) || vihl != 0x45 || !h.U16At(off + 2, &total)) return d;
    d.ip_version = 4;
    if (!h.U8At(off + 9, &d.protocol) || h.size() < off + 20) return d;
    std::memcpy(d.src_ip, h.data() + off + 12, 4);
    std::memcpy(d.dst_ip, h.data() + off + 16, 4);
    d.frame_length_from_ip = d.l2_length + total;
    l4 = off + 20;
  } else if (type == 0x86DD) {
    uint16_t payload = 0;
    if (!h.U16At(off + 4, &payload) || !h.U8At(off + 6, &d.protocol) || h.size() < off + 40) {
      return d;
    }
    d.ip_version = 6;
    std::memcpy(d.src_ip, h.data() + off + 8, 16);
    std::memcpy(d.dst_ip, h.data() + off + 24, 16);
    d.frame_length_from_ip = d.l2_length + 40 + payload;
    l4 = off + 40;
  } else {
    return d;
  }
  if (d.protocol == 6 || d.protocol == 17) {
    if (!h.U16At(l4, &d.src_port) || !h.U16At(l4 + 2, &d.dst_port)) return d;
  } else {
    uint8_t t = 0, c = 0;
    if (!h.U8At(l4, &t) || !h.U8At(l4 + 1, &c)) return d;
    d.src_port = t;
    d.dst_port = c;
  }
  d.ok = true;
  return d;
}

using FlowKey = std::tuple<uint32_t, uint32_t, uint8_t, uint8_t, std::string, std::string, uint16_t,
                           uint16_t, uint16_t>;

FlowKey KeyOf(const FlowTruth& f) {
  return {f.input_ifindex,
          f.output_ifindex,
          f.ip_version,
          f.protocol,
          std::string(reinterpret_cast<const char*>(f.src_ip), 16),
          std::string(reinterpret_cast<const char*>(f.dst_ip), 16),
          f.src_port,
          f.dst_port,
          f.vlan};
}

FlowKey KeyOf(const PacketSample& s, const Decoded& d) {
  return {s.input_ifindex,
          s.output_ifindex,
          d.ip_version,
          d.protocol,
          std::string(reinterpret_cast<const char*>(d.src_ip), 16),
          std::string(reinterpret_cast<const char*>(d.dst_ip), 16),
          d.src_port,
          d.dst_port,
          static_cast<uint16_t>(d.vlan_count ? d.vlan[0] : 0)};
}

bool Readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

TEST(SimSwitchTest, CreateRejectsBadConfig) {
  auto expect_bad = [](SimConfig c) {
    auto r = SimSwitch::Create(c, kStart);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  };
  SimConfig c = SmallConfig();
  c.num_ports = 0;
  expect_bad(c);
  c = SmallConfig();
  c.load = 1.5;
  expect_bad(c);
  c = SmallConfig();
  c.header_bytes = 0;
  expect_bad(c);
  c = SmallConfig();
  c.queue_capacity = 0;
  expect_bad(c);
  c = SmallConfig();
  c.sample_loss = -0.1;
  expect_bad(c);
  c = SmallConfig();
  c.first_ifindex = 0;
  expect_bad(c);
  c = SmallConfig();
  c.flows_per_port = 0;
  expect_bad(c);
  c = SmallConfig();
  c.faults = {PortFault{9, 0.1, 0, 1}};  // no port 9
  expect_bad(c);
  c = SmallConfig();
  c.faults = {PortFault{2, 0.1, 0, 1}, PortFault{2, 0, 0.1, 1}};
  expect_bad(c);
  c = SmallConfig();
  c.faults = {PortFault{2, 1.5, 0, 1}};
  expect_bad(c);
  c = SmallConfig();
  c.faults = {PortFault{2, 0, 0, 0}};
  expect_bad(c);
}

TEST(SimSwitchTest, ListsPorts) {
  SimConfig c = SmallConfig();
  c.first_ifindex = 101;
  auto sw = Make(c);
  auto ports = sw->ListPorts();
  ASSERT_TRUE(ports.ok());
  ASSERT_EQ(ports->size(), 8u);
  for (uint32_t i = 0; i < 8; ++i) {
    const hal::PortInfo& p = (*ports)[i];
    EXPECT_EQ(p.ifindex, 101 + i);
    EXPECT_EQ(p.name, "swp" + std::to_string(i + 1));
    EXPECT_EQ(p.speed_bps, 1'000'000'000u);
    EXPECT_EQ(p.if_type, 6u);
    EXPECT_EQ(p.duplex, 1u);
    EXPECT_TRUE(p.admin_up);
    EXPECT_TRUE(p.oper_up);
    const uint8_t mac[6] = {0x02, 0x58, 0x46, 0, 0, static_cast<uint8_t>(101 + i)};
    EXPECT_EQ(0, std::memcmp(p.mac, mac, 6));
  }
}

TEST(SimSwitchTest, VlanPortsSayTheirVlan) {
  SimConfig c = SmallConfig();
  c.vlan_ports = {{3, 100}, {5, 4094}};
  auto sw = Make(c);
  auto ports = sw->ListPorts();
  ASSERT_TRUE(ports.ok());
  for (const hal::PortInfo& p : *ports) {
    EXPECT_EQ(p.vlan_id, p.ifindex == 3 ? 100u : p.ifindex == 5 ? 4094u : 0u) << p.ifindex;
  }
}

TEST(SimSwitchTest, UnknownPortIsNotFound) {
  auto sw = Make(SmallConfig());
  EXPECT_EQ(sw->ReadCounters(0).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(sw->ReadCounters(9).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(sw->SetSamplingRate(9, Direction::kIngress, 100, 128).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(sw->port_truth(9).in_packets, 0u);
}

TEST(SimSwitchTest, TrafficComesInWholeSlices) {
  auto sw = Make(SmallConfig());
  sw->AdvanceTo(kStart + milliseconds(9));
  EXPECT_EQ(sw->generated_until(), kStart);
  EXPECT_EQ(sw->port_truth(1).in_packets, 0u);
  sw->AdvanceTo(kStart + milliseconds(25));
  EXPECT_EQ(sw->generated_until(), kStart + milliseconds(20));
  EXPECT_GT(sw->port_truth(1).in_packets, 0u);
  sw->AdvanceTo(kStart);  // never backwards
  EXPECT_EQ(sw->generated_until(), kStart + milliseconds(20));
}

TEST(SimSwitchTest, SkipToIdlesTheLinksOnTheSliceGrid) {
  auto sw = Make(SmallConfig());
  sw->SkipTo(kStart + milliseconds(3005));
  EXPECT_EQ(sw->generated_until(), kStart + milliseconds(3000));
  EXPECT_EQ(sw->port_truth(1).in_packets, 0u);
  sw->AdvanceTo(kStart + milliseconds(3010));  // one slice of traffic, not three seconds
  EXPECT_EQ(sw->generated_until(), kStart + milliseconds(3010));
  const uint64_t one_slice = sw->port_truth(1).in_packets;
  EXPECT_GT(one_slice, 0u);
  auto fresh = Make(SmallConfig());
  fresh->AdvanceTo(kStart + milliseconds(3010));
  EXPECT_GT(fresh->port_truth(1).in_packets, 100 * one_slice);
  sw->SkipTo(kStart);  // never backwards
  EXPECT_EQ(sw->generated_until(), kStart + milliseconds(3010));
}

TEST(SimSwitchTest, SetLoadChangesTheNextSlices) {
  auto sw = Make(SmallConfig());
  sw->AdvanceTo(kStart + seconds(1));
  const uint64_t before = sw->port_truth(1).in_bytes;
  ASSERT_TRUE(sw->SetLoad(sw->config().load / 4).ok());
  sw->AdvanceTo(kStart + seconds(2));
  const uint64_t after = sw->port_truth(1).in_bytes - before;
  EXPECT_LT(after, before / 2);
  EXPECT_GT(after, before / 8);
  EXPECT_EQ(sw->SetLoad(1.5).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(sw->SetLoad(-0.1).code(), StatusCode::kInvalidArgument);
}

TEST(SimSwitchTest, CountersEqualGroundTruth) {
  auto sw = Make(SmallConfig());
  SampleAll(*sw, 1000);
  CountingSink sink;
  RunFor(*sw, seconds(30), seconds(1), sink);

  const uint32_t n = sw->config().num_ports;
  std::vector<PortTruth> from_flows(n + 1);
  for (const FlowTruth& f : sw->flow_truth()) {
    ASSERT_GT(f.packets, 0u);
    ASSERT_GE(f.input_ifindex, 1u);
    ASSERT_LE(f.input_ifindex, n);
    ASSERT_GE(f.output_ifindex, 1u);
    ASSERT_LE(f.output_ifindex, n);
    ASSERT_NE(f.input_ifindex, f.output_ifindex);
    ASSERT_GE(f.bytes, f.packets * 64);  // with the FCS
    ASSERT_LE(f.bytes, f.packets * 1526);
    from_flows[f.input_ifindex].in_packets += f.packets;
    from_flows[f.input_ifindex].in_bytes += f.bytes;
    from_flows[f.output_ifindex].out_packets += f.packets;
    from_flows[f.output_ifindex].out_bytes += f.bytes;
  }
  const double expected_bytes = 0.2 * 1e9 / 8 * 30;
  uint64_t mcast = 0, bcast = 0, in_total = 0, out_total = 0;
  for (uint32_t i = 1; i <= n; ++i) {
    SCOPED_TRACE("ifindex " + std::to_string(i));
    const PortTruth& t = sw->port_truth(i);
    EXPECT_EQ(t.in_packets, from_flows[i].in_packets);
    EXPECT_EQ(t.in_bytes, from_flows[i].in_bytes);
    EXPECT_EQ(t.out_packets, from_flows[i].out_packets);
    EXPECT_EQ(t.out_bytes, from_flows[i].out_bytes);
    EXPECT_EQ(t.in_ucast + t.in_mcast + t.in_bcast, t.in_packets);
    EXPECT_EQ(t.out_ucast + t.out_mcast + t.out_bcast, t.out_packets);
    EXPECT_NEAR(static_cast<double>(t.in_bytes), expected_bytes, 0.2 * expected_bytes);

    auto c = sw->ReadCounters(i);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->in_octets, t.in_bytes);
    EXPECT_EQ(c->in_ucast_pkts, t.in_ucast);
    EXPECT_EQ(c->in_multicast_pkts, t.in_mcast);
    EXPECT_EQ(c->in_broadcast_pkts, t.in_bcast);
    EXPECT_EQ(c->out_octets, t.out_bytes);
    EXPECT_EQ(c->out_ucast_pkts, t.out_ucast);
    EXPECT_EQ(c->out_multicast_pkts, t.out_mcast);
    EXPECT_EQ(c->out_broadcast_pkts, t.out_bcast);
    EXPECT_EQ(c->in_discards, 0u);
    EXPECT_EQ(c->in_errors, 0u);
    EXPECT_EQ(c->in_unknown_protos, 0u);
    EXPECT_EQ(c->out_discards, 0u);
    EXPECT_EQ(c->out_errors, 0u);
    EXPECT_TRUE(c->has_ethernet);
    EXPECT_EQ(c->dot3_fcs_errors, 0u);
    EXPECT_EQ(c->dot3_symbol_errors, 0u);
    mcast += t.in_mcast;
    bcast += t.in_bcast;
    in_total += t.in_packets;
    out_total += t.out_packets;
  }
  EXPECT_EQ(in_total, out_total);
  EXPECT_GT(mcast, 0u);
  EXPECT_GT(bcast, 0u);
}

TEST(SimSwitchTest, SampledHeadersParseBackToTheirFlow) {
  SimConfig c = SmallConfig();
  auto sw = Make(c);
  SampleAll(*sw, 100);
  CollectingSink sink;
  RunFor(*sw, seconds(5), milliseconds(100), sink);
  ASSERT_GT(sink.got.size(), 1000u);

  std::map<FlowKey, const FlowTruth*> flows;
  const std::vector<FlowTruth> truth = sw->flow_truth();
  for (const FlowTruth& f : truth) flows[KeyOf(f)] = &f;

  std::map<std::pair<uint32_t, Direction>, MonoTime> last_ts;
  int tagged = 0, qinq = 0, v6 = 0, icmp = 0;
  for (const Captured& cap : sink.got) {
    const PacketSample& s = cap.sample;
    ASSERT_EQ(s.sampling_rate, 100u);
    ASSERT_EQ(s.stripped, 4u);  // the FCS: counted in frame_length, not in the header bytes
    ASSERT_TRUE(s.has_source_sequence);
    ASSERT_FALSE(s.vlan_valid);
    ASSERT_GE(s.frame_length, 64u);
    ASSERT_LE(s.frame_length, 1526u);
    ASSERT_EQ(cap.header.size(), std::min<size_t>(128, s.frame_length - s.stripped));
    ASSERT_GT(s.timestamp, kStart);
    ASSERT_LE(s.timestamp, sw->generated_until());
    const uint32_t sampler_port =
        s.direction == Direction::kIngress ? s.input_ifindex : s.output_ifindex;
    auto [it, fresh] = last_ts.emplace(std::make_pair(sampler_port, s.direction), s.timestamp);
    if (!fresh) {
      ASSERT_GE(s.timestamp, it->second) << "timestamps go backwards on a sampler";
      it->second = s.timestamp;
    }

    const Decoded d = Decode(ByteView(cap.header.data(), cap.header.size()));
    ASSERT_TRUE(d.ok);
    ASSERT_EQ(d.frame_length_from_ip + 4, s.frame_length) << "IP length + FCS is not the frame";
    auto f = flows.find(KeyOf(s, d));
    ASSERT_NE(f, flows.end()) << "sample matches no flow";
    tagged += d.vlan_count > 0;
    qinq += d.vlan_count == 2;
    v6 += d.ip_version == 6;
    icmp += d.protocol == 1 || d.protocol == 58;
  }
  EXPECT_GT(tagged, 0);
  EXPECT_GT(qinq, 0);
  EXPECT_GT(v6, 0);
  EXPECT_GT(icmp, 0);
}

// Sampling 1 in 1 takes every packet: the samples' frame_length (FCS included, as the sFlow
// spec counts it) add up exactly to the port's octet counter and ground truth, and each is the
// frame the header describes plus the 4 FCS bytes the header leaves out (stripped).
TEST(SimSwitchTest, EveryFrameLengthAndCounterCountsTheFcs) {
  SimConfig c = SmallConfig();
  c.num_ports = 2;
  c.port_speed_bps = 10'000'000;
  c.flows_per_port = 20;
  auto sw = Make(c);
  ASSERT_TRUE(sw->SetSamplingRate(1, Direction::kIngress, 1, 0).ok());
  CollectingSink sink;
  RunFor(*sw, seconds(2), milliseconds(100), sink);
  ASSERT_GT(sink.got.size(), 100u);
  uint64_t frames = 0, bytes = 0;
  for (const Captured& cap : sink.got) {
    const PacketSample& s = cap.sample;
    if (s.input_ifindex != 1 || s.direction != Direction::kIngress) continue;
    ++frames;
    bytes += s.frame_length;
    ASSERT_EQ(s.stripped, 4u);
    const Decoded d = Decode(ByteView(cap.header.data(), cap.header.size()));
    ASSERT_TRUE(d.ok);
    ASSERT_EQ(s.frame_length, d.frame_length_from_ip + 4);
  }
  const PortTruth& t = sw->port_truth(1);
  EXPECT_EQ(frames, t.in_packets);
  EXPECT_EQ(bytes, t.in_bytes);
  auto counters = sw->ReadCounters(1);
  ASSERT_TRUE(counters.ok());
  EXPECT_EQ(counters->in_octets, bytes);
  uint64_t flow_bytes = 0;
  for (const FlowTruth& f : sw->flow_truth()) flow_bytes += f.input_ifindex == 1 ? f.bytes : 0;
  EXPECT_EQ(flow_bytes, bytes);
}

// The same check through the agent's own packet parser, which is what will read these bytes.
TEST(SimSwitchTest, SampledHeadersParseWithTheAgentParser) {
  SimConfig c = SmallConfig();
  c.qinq_fraction = 0.3;
  auto sw = Make(c);
  SampleAll(*sw, 100);
  CollectingSink sink;
  RunFor(*sw, seconds(3), milliseconds(100), sink);
  ASSERT_GT(sink.got.size(), 1000u);
  std::map<FlowKey, const FlowTruth*> flows;
  const std::vector<FlowTruth> truth = sw->flow_truth();
  for (const FlowTruth& f : truth) flows[KeyOf(f)] = &f;

  int ports = 0, icmp = 0, qinq = 0;
  for (const Captured& cap : sink.got) {
    const PacketSample& s = cap.sample;
    agent::packet::ParsedPacket pp;
    ASSERT_EQ(agent::packet::ParsePacket(ByteView(cap.header.data(), cap.header.size()),
                                         agent::packet::LinkType::kEthernet, &pp),
              agent::packet::ParseError::kNone)
        << hal::base::HexDump(ByteView(cap.header.data(), cap.header.size()));
    ASSERT_TRUE(pp.has_ethernet);
    ASSERT_FALSE(pp.is_fragment);
    ASSERT_EQ(pp.l3_offset + pp.ip_length + s.stripped, s.frame_length);
    Decoded d;  // the parser's view, in the shape KeyOf wants
    d.ip_version = pp.ip_version;
    d.protocol = pp.protocol;
    std::memcpy(d.src_ip, pp.src_ip, 16);
    std::memcpy(d.dst_ip, pp.dst_ip, 16);
    d.vlan_count = pp.vlan_count;
    d.vlan[0] = pp.vlan_id[0];
    if (pp.has_ports) {
      ++ports;
      d.src_port = pp.src_port;
      d.dst_port = pp.dst_port;
    } else {
      ASSERT_TRUE(pp.has_icmp);
      ++icmp;
      d.src_port = pp.icmp_type;
      d.dst_port = pp.icmp_code;
    }
    qinq += pp.vlan_count == 2;
    ASSERT_NE(flows.find(KeyOf(s, d)), flows.end()) << "sample matches no flow";
  }
  EXPECT_GT(ports, 0);
  EXPECT_GT(icmp, 0);
  EXPECT_GT(qinq, 0);
}

// The ASIC draws skips uniformly in [1, 2N-1]: mean N, variance N(N-1)/3. The number of
// samples in P packets is a renewal count: mean P/N, variance P(N-1)/(3N^2) (tighter than
// binomial). 99.9% two-sided: z = 3.2905; +1 for the first, partial skip.
TEST(SimSwitchTest, SampleCountsWithinSamplingTheory) {
  SimConfig c = SmallConfig();
  auto sw = Make(c);
  const uint32_t rate = 1000;
  SampleAll(*sw, rate);
  CollectingSink sink;
  RunFor(*sw, seconds(60), seconds(1), sink);

  std::map<std::pair<uint32_t, Direction>, uint64_t> got;
  for (const Captured& cap : sink.got) {
    const PacketSample& s = cap.sample;
    ++got[{s.direction == Direction::kIngress ? s.input_ifindex : s.output_ifindex, s.direction}];
  }
  uint64_t total = 0;
  for (uint32_t i = 1; i <= c.num_ports; ++i) {
    const PortTruth& t = sw->port_truth(i);
    EXPECT_EQ(t.samples_lost, 0u);
    for (Direction d : {Direction::kIngress, Direction::kEgress}) {
      const double packets =
          static_cast<double>(d == Direction::kIngress ? t.in_packets : t.out_packets);
      const double mean = packets / rate;
      const double sd = std::sqrt(packets * (rate - 1) / (3.0 * rate * rate));
      const double n = static_cast<double>(got[{i, d}]);
      EXPECT_NEAR(n, mean, 3.2905 * sd + 1)
          << "ifindex " << i << (d == Direction::kIngress ? " in" : " out");
      total += got[{i, d}];
    }
    const uint64_t both = got[{i, Direction::kIngress}] + got[{i, Direction::kEgress}];
    EXPECT_EQ(t.samples_taken, both);
  }
  EXPECT_EQ(sw->stats().samples, total);
  EXPECT_EQ(sw->stats().source_drops, 0u);
}

TEST(SimSwitchTest, PowerOfTwoRoundingReportsTheAppliedRate) {
  SimConfig c = SmallConfig();
  c.round_rate_pow2 = true;
  auto sw = Make(c);
  auto rate = [&](uint32_t r) {
    auto applied = sw->SetSamplingRate(1, Direction::kIngress, r, 128);
    EXPECT_TRUE(applied.ok());
    return applied.ok() ? *applied : 0;
  };
  EXPECT_EQ(rate(0), 0u);
  EXPECT_EQ(rate(1), 1u);
  EXPECT_EQ(rate(2), 2u);
  EXPECT_EQ(rate(3), 4u);  // tie: up
  EXPECT_EQ(rate(1000), 1024u);
  EXPECT_EQ(rate(1535), 1024u);
  EXPECT_EQ(rate(1536), 2048u);
  EXPECT_EQ(rate(0xFFFFFFFFu), 1u << 31);
  EXPECT_EQ(rate(10000), 8192u);

  CollectingSink sink;
  RunFor(*sw, seconds(2), seconds(1), sink);
  ASSERT_FALSE(sink.got.empty());
  for (const Captured& cap : sink.got) EXPECT_EQ(cap.sample.sampling_rate, 8192u);

  SimConfig exact = SmallConfig();
  auto sw2 = Make(exact);
  auto applied = sw2->SetSamplingRate(1, Direction::kEgress, 10000, 128);
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(*applied, 10000u);
}

TEST(SimSwitchTest, RateZeroTurnsSamplingOff) {
  auto sw = Make(SmallConfig());
  CountingSink sink;
  RunFor(*sw, seconds(1), seconds(1), sink);
  EXPECT_EQ(sink.samples, 0u);  // off by default
  SampleAll(*sw, 100);
  RunFor(*sw, seconds(1), seconds(1), sink);
  EXPECT_GT(sink.samples, 0u);
  SampleAll(*sw, 0);
  const uint64_t before = sink.samples;
  RunFor(*sw, seconds(1), seconds(1), sink);
  EXPECT_EQ(sink.samples, before);
}

TEST(SimSwitchTest, HeaderBytesAreCappedBySamplerAndSlot) {
  SimConfig c = SmallConfig();
  c.header_bytes = 96;
  auto sw = Make(c);
  ASSERT_TRUE(sw->SetSamplingRate(1, Direction::kIngress, 50, 64).ok());
  ASSERT_TRUE(sw->SetSamplingRate(2, Direction::kIngress, 50, 1000).ok());
  CollectingSink sink;
  RunFor(*sw, seconds(1), seconds(1), sink);
  int one = 0, two = 0;
  for (const Captured& cap : sink.got) {
    if (cap.sample.input_ifindex == 1) {
      ++one;
      EXPECT_EQ(cap.header.size(), std::min<size_t>(64, cap.sample.frame_length - 4));
    } else {
      ++two;
      EXPECT_EQ(cap.header.size(), std::min<size_t>(96, cap.sample.frame_length - 4));
    }
  }
  EXPECT_GT(one, 0);
  EXPECT_GT(two, 0);
}

// Per ingress sampler: sequence numbers start at 0 and strictly increase; the gaps (with the
// leading one) are the lost samples, except lost samples after the last delivered one.
TEST(SimSwitchTest, SampleLossShowsAsSequenceGaps) {
  SimConfig c = SmallConfig();
  c.sample_loss = 0.1;
  auto sw = Make(c);
  for (uint32_t i = 1; i <= c.num_ports; ++i) {
    ASSERT_TRUE(sw->SetSamplingRate(i, Direction::kIngress, 100, 128).ok());
  }
  CollectingSink sink;
  RunFor(*sw, seconds(5), seconds(1), sink);

  std::map<uint32_t, std::vector<uint32_t>> seqs;
  for (const Captured& cap : sink.got) {
    ASSERT_EQ(cap.sample.direction, Direction::kIngress);
    seqs[cap.sample.input_ifindex].push_back(cap.sample.source_sequence);
  }
  uint64_t lost_total = 0, taken_total = 0;
  for (uint32_t i = 1; i <= c.num_ports; ++i) {
    SCOPED_TRACE("ifindex " + std::to_string(i));
    const std::vector<uint32_t>& s = seqs[i];
    ASSERT_FALSE(s.empty());
    uint64_t gaps = s[0];
    for (size_t k = 1; k < s.size(); ++k) {
      ASSERT_GT(s[k], s[k - 1]);
      gaps += s[k] - s[k - 1] - 1;
    }
    const PortTruth& t = sw->port_truth(i);
    const uint64_t trailing = t.samples_taken - (uint64_t{s.back()} + 1);
    EXPECT_LE(trailing, 5u);
    EXPECT_EQ(gaps + trailing, t.samples_lost);
    EXPECT_EQ(s.size(), t.samples_taken - t.samples_lost);
    lost_total += t.samples_lost;
    taken_total += t.samples_taken;
  }
  EXPECT_EQ(sw->stats().source_drops, lost_total);
  // ~10% lost: binomial, 5 sigma.
  const double p = 0.1, n = static_cast<double>(taken_total);
  EXPECT_NEAR(static_cast<double>(lost_total), n * p, 5 * std::sqrt(n * p * (1 - p)));
}

// Lying ports: port 2 hides 20% of its samples (no gap), port 3 samples at twice the rate it
// reports, port 4 drops 20% with gaps. Every other port keeps the sample stream it has
// without faults.
TEST(SimSwitchTest, PortFaultsLieOnlyOnTheirPorts) {
  SimConfig honest = SmallConfig();
  SimConfig lying = SmallConfig();
  lying.faults = {PortFault{2, 0.2, 0, 1}, PortFault{3, 0, 0, 2.0}, PortFault{4, 0, 0.2, 1}};
  auto a = Make(honest);
  auto b = Make(lying);
  const uint32_t rate = 100;
  for (uint32_t i = 1; i <= honest.num_ports; ++i) {
    ASSERT_EQ(*a->SetSamplingRate(i, Direction::kIngress, rate, 128), rate);
    ASSERT_EQ(*b->SetSamplingRate(i, Direction::kIngress, rate, 128), rate) << "reports the rate";
  }
  CollectingSink sa, sb;
  RunFor(*a, seconds(10), seconds(1), sa);
  RunFor(*b, seconds(10), seconds(1), sb);

  std::map<uint32_t, std::vector<uint32_t>> seq_a, seq_b;
  for (const Captured& cap : sa.got)
    seq_a[cap.sample.input_ifindex].push_back(cap.sample.source_sequence);
  for (const Captured& cap : sb.got) {
    EXPECT_EQ(cap.sample.sampling_rate, rate);
    seq_b[cap.sample.input_ifindex].push_back(cap.sample.source_sequence);
  }
  for (uint32_t i : {1u, 5u, 6u, 7u, 8u}) EXPECT_EQ(seq_a[i], seq_b[i]) << "ifindex " << i;
  EXPECT_EQ(a->port_truth(2).in_packets, b->port_truth(2).in_packets) << "traffic unchanged";

  auto gaps = [](const std::vector<uint32_t>& s) {
    uint64_t g = s.empty() ? 0 : s[0];
    for (size_t k = 1; k < s.size(); ++k) g += s[k] - s[k - 1] - 1;
    return g;
  };
  const double expected = static_cast<double>(b->port_truth(2).in_packets) / rate;
  // Port 2: ~80% delivered, numbered without gaps.
  EXPECT_EQ(gaps(seq_b[2]), 0u);
  EXPECT_EQ(b->port_truth(2).samples_hidden, b->port_truth(2).samples_taken - seq_b[2].size());
  EXPECT_NEAR(static_cast<double>(seq_b[2].size()) / expected, 0.8, 0.03);
  // Port 3: half the samples the reported rate promises.
  EXPECT_EQ(gaps(seq_b[3]), 0u);
  EXPECT_NEAR(static_cast<double>(seq_b[3].size()) /
                  (static_cast<double>(b->port_truth(3).in_packets) / rate),
              0.5, 0.03);
  // Port 4: ~20% lost as sequence gaps.
  EXPECT_EQ(gaps(seq_b[4]) + (b->port_truth(4).samples_taken - seq_b[4].back() - 1),
            b->port_truth(4).samples_lost);
  EXPECT_NEAR(static_cast<double>(b->port_truth(4).samples_lost) /
                  static_cast<double>(b->port_truth(4).samples_taken),
              0.2, 0.03);
  EXPECT_EQ(b->stats().source_drops, b->port_truth(4).samples_lost);
}

TEST(SimSwitchTest, QueueOverflowShowsAsSequenceGaps) {
  SimConfig c = SmallConfig();
  c.queue_capacity = 8;
  auto sw = Make(c);
  ASSERT_TRUE(sw->SetSamplingRate(3, Direction::kIngress, 10, 128).ok());
  sw->AdvanceTo(kStart + milliseconds(10));  // one slice, no drain
  const uint64_t taken = sw->port_truth(3).samples_taken;
  ASSERT_GT(taken, 8u);
  EXPECT_EQ(sw->port_truth(3).samples_lost, taken - 8);
  EXPECT_EQ(sw->stats().source_drops, taken - 8);

  CollectingSink sink;
  EXPECT_EQ(sw->Drain(sink, SIZE_MAX), 8u);
  for (uint32_t k = 0; k < 8; ++k) EXPECT_EQ(sink.got[k].sample.source_sequence, k);
  // The next delivered sample's sequence jumps over everything lost.
  sw->AdvanceTo(kStart + milliseconds(20));
  ASSERT_GT(sw->Drain(sink, SIZE_MAX), 0u);
  EXPECT_EQ(sink.got[8].sample.source_sequence, taken);
}

TEST(SimSwitchTest, EventFdIsReadableWhileSamplesWait) {
  auto sw = Make(SmallConfig());
  ASSERT_GE(sw->fd(), 0);
  EXPECT_FALSE(Readable(sw->fd()));
  SampleAll(*sw, 10);
  sw->AdvanceTo(kStart + milliseconds(10));
  EXPECT_TRUE(Readable(sw->fd()));
  CountingSink sink;
  EXPECT_EQ(sw->Drain(sink, 3), 3u);
  EXPECT_TRUE(Readable(sw->fd()));
  sw->Drain(sink, SIZE_MAX);
  EXPECT_FALSE(Readable(sw->fd()));
  EXPECT_EQ(sw->Drain(sink, SIZE_MAX), 0u);
  EXPECT_EQ(sink.samples, sw->stats().samples);
}

// Same seed and settings: the same traffic and samples, however time is chopped up.
TEST(SimSwitchTest, SameSeedSameSampleStream) {
  SimConfig c = SmallConfig();
  c.sample_loss = 0.05;
  auto a = Make(c);
  auto b = Make(c);
  SampleAll(*a, 200);
  SampleAll(*b, 200);
  CollectingSink sa, sb;
  RunFor(*a, seconds(3), seconds(1), sa);
  const milliseconds steps[] = {milliseconds(3), milliseconds(17), milliseconds(250),
                                milliseconds(1), milliseconds(999)};
  for (int i = 0; b->generated_until() < a->generated_until(); ++i) {
    MonoTime t = b->generated_until() + steps[i % 5];
    if (t > a->generated_until()) t = a->generated_until();
    b->AdvanceTo(t);
    b->Drain(sb, 7);
  }
  b->Drain(sb, SIZE_MAX);
  ASSERT_GT(sa.got.size(), 100u);
  ASSERT_EQ(sa.got.size(), sb.got.size());
  for (size_t i = 0; i < sa.got.size(); ++i) {
    const PacketSample& x = sa.got[i].sample;
    const PacketSample& y = sb.got[i].sample;
    ASSERT_EQ(x.input_ifindex, y.input_ifindex) << i;
    ASSERT_EQ(x.output_ifindex, y.output_ifindex) << i;
    ASSERT_EQ(x.direction, y.direction) << i;
    ASSERT_EQ(x.frame_length, y.frame_length) << i;
    ASSERT_EQ(x.source_sequence, y.source_sequence) << i;
    ASSERT_EQ(x.timestamp, y.timestamp) << i;
    ASSERT_EQ(sa.got[i].header, sb.got[i].header) << i;
  }
  for (uint32_t i = 1; i <= c.num_ports; ++i) {
    EXPECT_EQ(a->port_truth(i).in_bytes, b->port_truth(i).in_bytes);
    EXPECT_EQ(a->port_truth(i).samples_lost, b->port_truth(i).samples_lost);
  }

  SimConfig other = c;
  other.seed = c.seed + 1;
  auto o = Make(other);
  SampleAll(*o, 200);
  CollectingSink so;
  RunFor(*o, seconds(3), seconds(1), so);
  EXPECT_NE(o->port_truth(1).in_bytes, a->port_truth(1).in_bytes);
}

// Sampling settings draw from their own streams: turning sampling on does not change traffic.
TEST(SimSwitchTest, SamplingDoesNotChangeTraffic) {
  auto a = Make(SmallConfig());
  auto b = Make(SmallConfig());
  SampleAll(*b, 10);
  CountingSink sink;
  RunFor(*a, seconds(2), seconds(1), sink);
  RunFor(*b, seconds(2), seconds(1), sink);
  for (uint32_t i = 1; i <= 8; ++i) {
    EXPECT_EQ(a->port_truth(i).in_bytes, b->port_truth(i).in_bytes);
    EXPECT_EQ(a->port_truth(i).out_packets, b->port_truth(i).out_packets);
  }
}

TEST(SimSwitchTest, PortHooksNotifyAndStopTraffic) {
  auto sw = Make(SmallConfig());
  std::vector<std::pair<hal::PortEvent, hal::PortInfo>> events;
  sw->SetListener([&](hal::PortEvent e, const hal::PortInfo& p) { events.push_back({e, p}); });
  CountingSink sink;
  RunFor(*sw, seconds(1), seconds(1), sink);

  ASSERT_TRUE(sw->SetPortPresent(3, false).ok());
  ASSERT_TRUE(sw->SetPortOperUp(5, false).ok());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].first, hal::PortEvent::kRemoved);
  EXPECT_EQ(events[0].second.ifindex, 3u);
  EXPECT_EQ(events[1].first, hal::PortEvent::kChanged);
  EXPECT_FALSE(events[1].second.oper_up);
  EXPECT_EQ(sw->ReadCounters(3).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(sw->SetPortOperUp(3, true).code(), StatusCode::kNotFound);
  auto ports = sw->ListPorts();
  ASSERT_TRUE(ports.ok());
  EXPECT_EQ(ports->size(), 7u);
  for (const auto& p : *ports) {
    EXPECT_NE(p.ifindex, 3u);
    if (p.ifindex == 5) {
      EXPECT_FALSE(p.oper_up);
    }
  }

  const PortTruth t3 = sw->port_truth(3), t5 = sw->port_truth(5), t1 = sw->port_truth(1);
  RunFor(*sw, seconds(1), seconds(1), sink);
  EXPECT_EQ(sw->port_truth(3).in_packets, t3.in_packets);
  EXPECT_EQ(sw->port_truth(3).out_packets, t3.out_packets);
  EXPECT_EQ(sw->port_truth(5).in_packets, t5.in_packets);
  EXPECT_EQ(sw->port_truth(5).out_packets, t5.out_packets);
  EXPECT_GT(sw->port_truth(1).in_packets, t1.in_packets);

  ASSERT_TRUE(sw->SetPortPresent(3, true).ok());
  ASSERT_TRUE(sw->SetPortOperUp(5, true).ok());
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[2].first, hal::PortEvent::kAdded);
  EXPECT_EQ(events[3].first, hal::PortEvent::kChanged);
  RunFor(*sw, seconds(1), seconds(1), sink);
  EXPECT_GT(sw->port_truth(3).in_packets, t3.in_packets);
  EXPECT_GT(sw->port_truth(5).out_packets, t5.out_packets);
}

TEST(SimSwitchTest, OnePortSwitchHasNoEgress) {
  SimConfig c = SmallConfig();
  c.num_ports = 1;
  auto sw = Make(c);
  SampleAll(*sw, 100);
  CollectingSink sink;
  RunFor(*sw, seconds(1), seconds(1), sink);
  EXPECT_GT(sw->port_truth(1).in_packets, 0u);
  EXPECT_EQ(sw->port_truth(1).out_packets, 0u);
  ASSERT_FALSE(sink.got.empty());
  for (const Captured& cap : sink.got) EXPECT_EQ(cap.sample.output_ifindex, 0u);
}

// The performance target: 48 x 10G at 20% load, 1-in-10000 both directions, one hour of
// simulated time. Not timed here (no wall clock in tests); see the report for the number.
TEST(SimSwitchScenarioTest, OneHourOf48x10G) {
  SimConfig c;  // defaults: 48 x 10G, load 0.2
  auto sw = Make(c);
  const uint32_t rate = 10000;
  SampleAll(*sw, rate);
  CountingSink sink;
  // Under qemu-user five simulated minutes (tests/test_env.h); natively the full hour.
  RunFor(*sw, seconds(xflowd::testing::ScenarioSeconds(3600, 300)), seconds(1), sink);

  uint64_t packets = 0, taken = 0, lost = 0;
  for (uint32_t i = 1; i <= c.num_ports; ++i) {
    const PortTruth& t = sw->port_truth(i);
    packets += t.in_packets + t.out_packets;
    taken += t.samples_taken;
    lost += t.samples_lost;
  }
  EXPECT_EQ(lost, 0u);
  EXPECT_EQ(sink.samples, taken);
  const double p = static_cast<double>(packets);
  const double sd = std::sqrt(p * (rate - 1) / (3.0 * rate * rate));
  EXPECT_NEAR(static_cast<double>(sink.samples), p / rate, 3.2905 * sd + 96);
  RecordProperty("samples", std::to_string(sink.samples));
  RecordProperty("packets", std::to_string(packets));
}

}  // namespace
}  // namespace xflowd::sim
