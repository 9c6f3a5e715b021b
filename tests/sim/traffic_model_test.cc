#include "sim/traffic_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "hal/base/prng.h"
#include "sim/packet_builder.h"

namespace xflowd::sim {
namespace {

using hal::base::Prng;

TEST(ZipfTableTest, ProbabilitiesFollowThePowerLaw) {
  ZipfTable z(1000, 1.1);
  ASSERT_EQ(z.size(), 1000u);
  double sum = 0;
  for (uint32_t i = 0; i < z.size(); ++i) sum += z.probability(i);
  EXPECT_NEAR(sum, 1.0, 1e-12);
  EXPECT_NEAR(z.probability(0) / z.probability(1), std::pow(2.0, 1.1), 1e-9);
  EXPECT_NEAR(z.probability(9) / z.probability(99), std::pow(10.0, 1.1), 1e-9);
}

TEST(ZipfTableTest, DrawsMatchProbabilities) {
  ZipfTable z(1000, 1.1);
  Prng prng(42);
  const int n = 2'000'000;
  std::vector<int> hits(z.size(), 0);
  for (int i = 0; i < n; ++i) ++hits[z.Draw(prng)];
  // Binomial count per rank; 5 sigma keeps this deterministic test far from its edge.
  for (uint32_t r : {0u, 1u, 2u, 10u, 100u, 999u}) {
    const double p = z.probability(r);
    const double mean = n * p;
    const double sd = std::sqrt(n * p * (1 - p));
    EXPECT_NEAR(hits[r], mean, 5 * sd + 1) << "rank " << r;
  }
}

TEST(ZipfTableTest, ExponentZeroIsUniformAndOneRankAlwaysWins) {
  ZipfTable u(4, 0.0);
  for (uint32_t i = 0; i < 4; ++i) EXPECT_DOUBLE_EQ(u.probability(i), 0.25);
  ZipfTable one(1, 1.1);
  Prng prng(1);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(one.Draw(prng), 0u);
}

TEST(TrafficModelTest, UniformBelowCoversItsRangeEvenly) {
  Prng prng(5);
  const uint32_t n = 7;
  const int draws = 700000;
  std::vector<int> hits(n, 0);
  for (int i = 0; i < draws; ++i) {
    const uint32_t x = UniformBelow(prng, n);
    ASSERT_LT(x, n);
    ++hits[x];
  }
  const double p = 1.0 / n, sd = std::sqrt(draws * p * (1 - p));
  for (uint32_t v = 0; v < n; ++v) EXPECT_NEAR(hits[v], draws * p, 5 * sd) << v;
  EXPECT_EQ(UniformBelow(prng, 1), 0u);
  for (int i = 0; i < 1000; ++i) ASSERT_LT(UniformBelow(prng, 0xFFFFFFFFu), 0xFFFFFFFFu);
}

TEST(TrafficModelTest, ApproxNormalHasUnitVariance) {
  Prng prng(6);
  const int n = 400000;
  double sum = 0, sum2 = 0;
  for (int i = 0; i < n; ++i) {
    const double x = ApproxNormal(prng);
    ASSERT_LE(std::abs(x), 2 * 1.7320508075688772);
    sum += x;
    sum2 += x * x;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(sum2 / n, 1.0, 0.01);
}

TEST(TrafficModelTest, FlowsFollowTheMix) {
  FlowMix mix;
  Prng prng(7);
  const int n = 20000;
  const uint32_t ports = 48;
  int v6 = 0, tagged = 0, qinq = 0, tcp = 0, udp = 0, icmp = 0, mcast = 0, bcast = 0;
  for (int i = 0; i < n; ++i) {
    const uint32_t in = static_cast<uint32_t>(i) % ports;
    const FlowSpec f = MakeFlow(mix, in, ports, prng);
    const PacketSpec& p = f.packet;
    ASSERT_EQ(f.input_port, in);
    ASSERT_NE(f.output_port, in);
    ASSERT_LT(f.output_port, ports);
    ASSERT_GE(f.sizes.min_frame, HeaderLength(p));
    ASSERT_GE(f.sizes.min_frame, kMinUntaggedFrame + 4u * p.vlan_count);
    ASSERT_EQ(f.sizes.max_frame, kMaxUntaggedFrame + 4u * p.vlan_count);
    ASSERT_EQ(f.sizes.vlan_tags, p.vlan_count);
    ASSERT_EQ(p.src_mac[0] & 1, 0) << "source MAC must be unicast";
    v6 += p.ip_version == 6;
    tagged += p.vlan_count > 0;
    qinq += p.vlan_count == 2;
    tcp += p.protocol == kIpProtoTcp;
    udp += p.protocol == kIpProtoUdp;
    icmp += p.protocol == kIpProtoIcmp || p.protocol == kIpProtoIcmpv6;
    if (p.vlan_count > 0) {
      ASSERT_GE(p.vlan_id[0], 2);
      ASSERT_LE(p.vlan_id[0], 4094);
    }
    if (p.protocol == kIpProtoIcmp) {
      ASSERT_EQ(p.ip_version, 4);
    }
    if (p.protocol == kIpProtoIcmpv6) {
      ASSERT_EQ(p.ip_version, 6);
    }
    switch (f.cast) {
      case CastType::kUnicast:
        ASSERT_EQ(p.dst_mac[0] & 1, 0);
        break;
      case CastType::kMulticast:
        ++mcast;
        ASSERT_EQ(p.dst_mac[0] & 1, 1);
        ASSERT_EQ(p.protocol, kIpProtoUdp);
        if (p.ip_version == 4) {
          ASSERT_EQ(p.dst_ip[0] & 0xF0, 0xE0);  // 224/4
          ASSERT_EQ(p.dst_mac[0], 0x01);
        } else {
          ASSERT_EQ(p.dst_ip[0], 0xFF);
          ASSERT_EQ(p.dst_mac[0], 0x33);
        }
        break;
      case CastType::kBroadcast:
        ++bcast;
        ASSERT_EQ(p.ip_version, 4);
        for (int b = 0; b < 6; ++b) ASSERT_EQ(p.dst_mac[b], 0xFF);
        break;
    }
  }
  auto near = [&](int count, double p) {
    return std::abs(count - n * p) <= 5 * std::sqrt(n * p * (1 - p)) + 1;
  };
  EXPECT_TRUE(near(v6, mix.ipv6_fraction)) << v6;
  EXPECT_TRUE(near(tagged, mix.vlan_fraction)) << tagged;
  EXPECT_TRUE(near(qinq, mix.vlan_fraction * mix.qinq_fraction)) << qinq;
  const double unicast = 1 - mix.multicast_fraction - mix.broadcast_fraction;
  EXPECT_TRUE(near(tcp, 0.80 * unicast)) << tcp;
  EXPECT_TRUE(near(icmp, 0.03 * unicast)) << icmp;
  EXPECT_TRUE(near(udp, 0.17 * unicast + 1 - unicast)) << udp;
  // IPv6 broadcast flows become multicast.
  EXPECT_TRUE(near(bcast, mix.broadcast_fraction * (1 - mix.ipv6_fraction))) << bcast;
  EXPECT_TRUE(near(mcast, mix.multicast_fraction + mix.broadcast_fraction * mix.ipv6_fraction))
      << mcast;
}

TEST(TrafficModelTest, OnePortSwitchHasNoOutputPort) {
  Prng prng(3);
  const FlowSpec f = MakeFlow(FlowMix{}, 0, 1, prng);
  EXPECT_EQ(f.output_port, kNoPort);
}

TEST(TrafficModelTest, FrameLengthsStayInTheFlowsRange) {
  Prng prng(11);
  FlowMix mix;
  mix.vlan_fraction = 0.5;
  mix.qinq_fraction = 0.5;
  uint64_t sum = 0;
  int n = 0;
  for (int i = 0; i < 2000; ++i) {
    const FlowSpec f = MakeFlow(mix, 0, 4, prng);
    for (int j = 0; j < 50; ++j) {
      const uint32_t len = DrawFrameLength(f.sizes, prng);
      ASSERT_GE(len, f.sizes.min_frame);
      ASSERT_LE(len, f.sizes.max_frame);
      uint8_t buf[128];
      ASSERT_NE(BuildFrame(f.packet, len, buf, sizeof(buf)), 0u);
      sum += len;
      ++n;
    }
  }
  const double mean = static_cast<double>(sum) / n;
  EXPECT_GT(mean, 300);  // a mix of small and large frames, not all one kind
  EXPECT_LT(mean, 1200);
}

TEST(TrafficModelTest, SameSeedSameFlows) {
  Prng a(99), b(99);
  for (int i = 0; i < 100; ++i) {
    const FlowSpec x = MakeFlow(FlowMix{}, 1, 8, a);
    const FlowSpec y = MakeFlow(FlowMix{}, 1, 8, b);
    uint8_t bx[128], by[128];
    ASSERT_EQ(BuildFrame(x.packet, 200, bx, 128), BuildFrame(y.packet, 200, by, 128));
    ASSERT_EQ(0, std::memcmp(bx, by, 128));
    ASSERT_EQ(x.output_port, y.output_port);
  }
}

}  // namespace
}  // namespace xflowd::sim
