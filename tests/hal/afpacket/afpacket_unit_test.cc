#include <gtest/gtest.h>

#include "hal/afpacket/random_filter.h"
#include "hal/afpacket/sample_pool.h"

namespace xflowd::hal::afpacket {
namespace {

TEST(RandomFilterTest, ProgramShape) {
  auto p = RandomSampleFilter(100, 128);
  EXPECT_EQ(p[0].code, BPF_LD | BPF_W | BPF_ABS);
  EXPECT_EQ(p[0].k, static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_RANDOM));
  EXPECT_EQ(p[1].code, BPF_JMP | BPF_JGT | BPF_K);
  EXPECT_EQ(p[1].k, 0xFFFFFFFFu / 100);
  EXPECT_EQ(p[1].jt, 1);  // greater: to "ret 0"
  EXPECT_EQ(p[1].jf, 0);
  EXPECT_EQ(p[2].code, BPF_RET | BPF_K);
  EXPECT_EQ(p[2].k, 128u);
  EXPECT_EQ(p[3].code, BPF_RET | BPF_K);
  EXPECT_EQ(p[3].k, 0u);
}

// Interprets the program for a given "random" value, as the kernel would.
uint32_t RunFilter(const std::array<sock_filter, 4>& p, uint32_t rand) {
  uint32_t a = rand;
  size_t pc = 1;
  if (p[pc].code == (BPF_JMP | BPF_JGT | BPF_K)) pc += 1 + (a > p[pc].k ? p[pc].jt : p[pc].jf);
  return p[pc].k;
}

TEST(RandomFilterTest, AcceptProbabilityIsOneInN) {
  for (uint32_t n : {1u, 2u, 3u, 100u, 1000u, 65536u}) {
    auto p = RandomSampleFilter(n, 96);
    uint32_t t = p[1].k;
    EXPECT_EQ(RunFilter(p, 0), 96u);
    EXPECT_EQ(RunFilter(p, t), 96u);  // accepted values: [0, t], t + 1 of 2^32
    if (n > 1) {
      EXPECT_EQ(RunFilter(p, t + 1), 0u);
      EXPECT_EQ(RunFilter(p, 0xFFFFFFFFu), 0u);
    }
    double prob = (static_cast<double>(t) + 1.0) / 4294967296.0;
    EXPECT_NEAR(prob * n, 1.0, 1e-6) << n;
  }
  auto all = RandomSampleFilter(1, 64);
  EXPECT_EQ(RunFilter(all, 0xFFFFFFFFu), 64u);
  EXPECT_EQ(RandomSampleFilter(0, 64)[1].k, 0xFFFFFFFFu);  // 0 treated as 1
}

TEST(RandomFilterTest, OutgoingProgramChecksPacketTypeFirst) {
  auto p = OutgoingRandomSampleFilter(100, 128);
  EXPECT_EQ(p[0].code, BPF_LD | BPF_H | BPF_ABS);  // as libpcap's "outbound"
  EXPECT_EQ(p[0].k, static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_PKTTYPE));
  EXPECT_EQ(p[1].code, BPF_JMP | BPF_JEQ | BPF_K);
  EXPECT_EQ(p[1].k, 4u);  // PACKET_OUTGOING
  // Both ways out of the type check: on to "ld rand", or to "ret 0".
  EXPECT_EQ(2 + p[1].jt, 2);
  EXPECT_EQ(2 + p[1].jf, 5);
  EXPECT_EQ(p[5].code, BPF_RET | BPF_K);
  EXPECT_EQ(p[5].k, 0u);
  // The rest is the ingress program, shifted by two.
  auto in = RandomSampleFilter(100, 128);
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(p[i + 2].code, in[i].code) << i;
    EXPECT_EQ(p[i + 2].k, in[i].k) << i;
    EXPECT_EQ(p[i + 2].jt, in[i].jt) << i;
    EXPECT_EQ(p[i + 2].jf, in[i].jf) << i;
  }
}

PortCounters Ctr(uint64_t in_u, uint64_t in_m, uint64_t out_u) {
  PortCounters c;
  c.in_ucast_pkts = in_u;
  c.in_multicast_pkts = in_m;
  c.out_ucast_pkts = out_u;
  return c;
}

TEST(InterfacePoolTest, DeltasOfInterfacePackets) {
  InterfacePool in(Direction::kIngress);
  InterfacePool out(Direction::kEgress);
  in.Reset(Ctr(1000, 10, 50));
  out.Reset(Ctr(1000, 10, 50));
  EXPECT_EQ(in.Advance(Ctr(1500, 20, 80)), 510u);
  EXPECT_EQ(out.Advance(Ctr(1500, 20, 80)), 30u);
  EXPECT_EQ(in.Advance(Ctr(1500, 20, 80)), 0u);
  // Counters reset (device re-created): restart, report nothing for that interval.
  EXPECT_EQ(in.Advance(Ctr(5, 0, 0)), 0u);
  EXPECT_EQ(in.Advance(Ctr(105, 0, 0)), 100u);
  EXPECT_EQ(in.total(), 610u);
  // Unknown counters count nothing.
  EXPECT_EQ(in.Advance(PortCounters()), 0u);
  EXPECT_EQ(PacketsInDirection(PortCounters(), Direction::kIngress), PortCounters::kUnknown64);
  EXPECT_EQ(PacketsInDirection(Ctr(7, 3, 1), Direction::kIngress), 10u);
}

TEST(InterfacePoolTest, AdvanceWithoutResetStartsCounting) {
  InterfacePool p(Direction::kIngress);
  EXPECT_EQ(p.Advance(Ctr(100, 0, 0)), 0u);
  EXPECT_EQ(p.Advance(Ctr(250, 0, 0)), 150u);
}

}  // namespace
}  // namespace xflowd::hal::afpacket
