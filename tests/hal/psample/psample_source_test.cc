#include "hal/psample/psample_source.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "sim/psample_emitter.h"
#include "sim/sim_switch.h"
#include "tests/support/test_env.h"

namespace xflowd::hal::psample {
namespace {

using base::ByteView;
using base::MonoTime;

struct Captured {
  PacketSample sample;
  std::vector<uint8_t> header;
};

class CollectingSink final : public PacketSampleSink {
 public:
  void OnSample(const PacketSample& s) override {
    Captured c{s, std::vector<uint8_t>(s.header.begin(), s.header.end())};
    c.sample.header = ByteView();
    got.push_back(std::move(c));
  }
  std::vector<Captured> got;
};

// A socketpair: [0] for the emitter (the "kernel"), [1] for the source.
struct Pair {
  int fd[2] = {-1, -1};
  Pair() { EXPECT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fd), 0); }
  ~Pair() {
    if (fd[0] >= 0) close(fd[0]);
  }
  int TakeSourceEnd() {
    const int f = fd[1];
    fd[1] = -1;
    return f;
  }
};

PacketSample SimpleSample(uint32_t in, uint32_t seq, const std::vector<uint8_t>& frame) {
  PacketSample s;
  s.input_ifindex = in;
  s.direction = Direction::kIngress;
  s.frame_length = 1004;  // with the FCS, which the header leaves out
  s.stripped = 4;
  s.sampling_rate = 512;
  s.has_source_sequence = true;
  s.source_sequence = seq;
  s.timestamp = MonoTime::FromSeconds(100);
  s.header = ByteView(frame.data(), frame.size());
  return s;
}

TEST(PsampleSourceTest, CreateNamesTheMissingKernelFeature) {
  XFLOWD_SKIP_UNDER_EMULATION("generic netlink");
  base::SystemClock clock;
  base::Logger logger = base::Logger::Null();
  auto src = PsamplePacketSource::Create(PsampleSourceOptions(), clock, logger);
  if (src.ok()) {
    EXPECT_GE((*src)->fd(), 0);  // a kernel with psample: nothing more to check here
    return;
  }
  // This CI kernel has no psample: the error must tell the user what to do.
  EXPECT_EQ(src.status().code(), base::StatusCode::kUnavailable) << src.status().ToString();
  EXPECT_NE(src.status().message().find("CONFIG_PSAMPLE"), std::string::npos)
      << src.status().message();
}

TEST(PsampleSourceTest, FromFdReadsEmittedMessagesWithinBudget) {
  base::ManualClock clock(MonoTime::FromSeconds(100));
  base::Logger logger = base::Logger::Null();
  Pair pair;
  auto src =
      PsamplePacketSource::FromFd(pair.TakeSourceEnd(), PsampleSourceOptions(), clock, logger);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  sim::PsampleEmitterConfig ec;
  ec.mono_to_wall_ns = clock.WallNow().ns() - clock.Now().ns();
  sim::PsampleEmitter emitter(pair.fd[0], ec);
  std::vector<uint8_t> frame(64, 0xab);
  for (uint32_t i = 0; i < 10; ++i) emitter.OnSample(SimpleSample(3, i, frame));
  emitter.LoseSamples(Direction::kIngress, 4);
  emitter.OnSample(SimpleSample(3, 10, frame));
  ASSERT_EQ(emitter.stats().messages_sent, 11u);

  CollectingSink sink;
  EXPECT_EQ((*src)->Drain(sink, 4), 4u);
  EXPECT_EQ((*src)->Drain(sink, 100), 7u);
  EXPECT_EQ((*src)->Drain(sink, 100), 0u);  // nothing waiting: returns, never blocks
  ASSERT_EQ(sink.got.size(), 11u);
  const Captured& c = sink.got[0];
  EXPECT_EQ(c.sample.input_ifindex, 3u);
  EXPECT_EQ(c.sample.frame_length, 1004u);
  EXPECT_EQ(c.sample.stripped, 4u);
  EXPECT_EQ(c.sample.sampling_rate, 512u);
  EXPECT_EQ(c.sample.timestamp, MonoTime::FromSeconds(100));
  EXPECT_EQ(c.header, frame);
  const PacketSourceStats st = (*src)->stats();
  EXPECT_EQ(st.samples, 11u);
  EXPECT_EQ(st.source_drops, 4u);
  EXPECT_EQ(st.parse_errors, 0u);
  // The sampler sees the 4 lost samples as one gap in port 3's sequence.
  EXPECT_EQ(sink.got[10].sample.source_sequence - sink.got[9].sample.source_sequence, 5u);
}

TEST(PsampleSourceTest, OversizeAndGarbageDatagramsAreCounted) {
  base::ManualClock clock;
  base::Logger logger = base::Logger::Null();
  Pair pair;
  int big = 1 << 20;
  ASSERT_EQ(setsockopt(pair.fd[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big)), 0);
  auto src =
      PsamplePacketSource::FromFd(pair.TakeSourceEnd(), PsampleSourceOptions(), clock, logger);
  ASSERT_TRUE(src.ok());
  std::vector<uint8_t> huge(PsamplePacketSource::kRecvBufferBytes + 100, 0);
  const uint32_t len = static_cast<uint32_t>(huge.size());
  std::memcpy(huge.data(), &len, 4);
  huge[4] = 0x1c;
  ASSERT_EQ(send(pair.fd[0], huge.data(), huge.size(), 0), static_cast<ssize_t>(huge.size()));
  const uint8_t junk[7] = {1, 2, 3, 4, 5, 6, 7};
  ASSERT_EQ(send(pair.fd[0], junk, sizeof(junk), 0), 7);
  CollectingSink sink;
  EXPECT_EQ((*src)->Drain(sink, 10), 0u);
  EXPECT_EQ((*src)->psample_stats().truncated_reads, 1u);
  EXPECT_EQ((*src)->parse_stats().bad_nlmsg_len, 1u);  // the cut message's length runs past
  EXPECT_EQ((*src)->parse_stats().short_buffer, 1u);   // 7 bytes: not even a header
  EXPECT_EQ((*src)->stats().parse_errors, 2u);
}

// SimSwitch -> PsampleEmitter -> socketpair -> PsamplePacketSource -> sink: every sample arrives
// intact and every lost one is counted, once.
class PsampleSimScenarioTest : public ::testing::Test {
 protected:
  struct Sent {
    Captured c;
    uint32_t group_seq;
  };
  // Records what the sim produced and passes it to the emitter; drops every `lose_every`-th
  // sample on purpose (lost between ASIC and host: the group sequence still moves on).
  class Tee final : public PacketSampleSink {
   public:
    Tee(sim::PsampleEmitter& e, uint32_t lose_every) : emitter_(e), lose_every_(lose_every) {}
    void OnSample(const PacketSample& s) override {
      // The emitter sees the hole in the sim's per-port sequence and moves the group on.
      if (lose_every_ != 0 && ++count_ % lose_every_ == 0) {
        ++skipped;
        return;
      }
      emitter_.OnSample(s);
      Sent x{{s, std::vector<uint8_t>(s.header.begin(), s.header.end())},
             emitter_.next_group_seq(s.direction) - 1};
      x.c.sample.header = ByteView();
      sent.push_back(std::move(x));
    }
    std::vector<Sent> sent;
    uint64_t skipped = 0;

   private:
    sim::PsampleEmitter& emitter_;
    uint32_t lose_every_;
    uint64_t count_ = 0;
  };

  void Run(const sim::SimConfig& sc, uint32_t lose_every, int slices,
           const std::vector<std::pair<uint32_t, Direction>>& sampled) {
    base::ManualClock clock(MonoTime::FromSeconds(1000));
    base::Logger logger = base::Logger::Null();
    auto sw = sim::SimSwitch::Create(sc, clock.Now());
    ASSERT_TRUE(sw.ok());
    for (auto [ifindex, dir] : sampled) {
      ASSERT_TRUE(
          (*sw)->SetSamplingRate(ifindex, dir, dir == Direction::kIngress ? 256 : 512, 0).ok());
    }
    Pair pair;
    auto src =
        PsamplePacketSource::FromFd(pair.TakeSourceEnd(), PsampleSourceOptions(), clock, logger);
    ASSERT_TRUE(src.ok());
    sim::PsampleEmitterConfig ec;
    ec.mono_to_wall_ns = clock.WallNow().ns() - clock.Now().ns();
    ec.first_group_seq = 0xFFFFF000u;  // wraps during the run
    sim::PsampleEmitter emitter(pair.fd[0], ec);
    Tee tee(emitter, lose_every);
    CollectingSink got;
    for (int i = 0; i < slices; ++i) {
      clock.Advance(base::milliseconds(10));
      (*sw)->AdvanceTo(clock.Now());
      // Small batches keep the socket buffer from filling: no send errors, a clean count.
      while ((*sw)->Drain(tee, 64) > 0) (*src)->Drain(got, 1000);
      (*src)->Drain(got, 1000);
    }
    ASSERT_EQ(emitter.stats().send_errors, 0u);
    ASSERT_EQ(emitter.stats().encode_errors, 0u);
    ASSERT_GT(tee.sent.size(), 1000u);

    // Every sample, field by field, in order.
    ASSERT_EQ(got.got.size(), tee.sent.size());
    for (size_t i = 0; i < got.got.size(); ++i) {
      const PacketSample& a = tee.sent[i].c.sample;
      const PacketSample& b = got.got[i].sample;
      ASSERT_EQ(b.input_ifindex, a.input_ifindex) << i;
      ASSERT_EQ(b.output_ifindex, a.output_ifindex) << i;
      ASSERT_EQ(b.direction, a.direction) << i;
      ASSERT_EQ(b.frame_length, a.frame_length) << i;
      ASSERT_EQ(b.stripped, a.stripped) << i;
      ASSERT_EQ(b.sampling_rate, a.sampling_rate) << i;
      ASSERT_EQ(b.timestamp, a.timestamp) << i;
      ASSERT_EQ(got.got[i].header, tee.sent[i].c.header) << i;
    }

    // Drops: the gaps between the group sequence numbers that were delivered.
    std::map<Direction, uint32_t> last;
    uint64_t expected_drops = 0;
    for (const Sent& s : tee.sent) {
      auto it = last.find(s.c.sample.direction);
      if (it != last.end()) expected_drops += s.group_seq - it->second - 1;
      last[s.c.sample.direction] = s.group_seq;
    }
    const PacketSourceStats st = (*src)->stats();
    EXPECT_EQ(st.samples, tee.sent.size());
    EXPECT_EQ(st.parse_errors, 0u);
    EXPECT_EQ(st.source_drops, expected_drops);
    EXPECT_GT(expected_drops, 0u);
    // Every gap the emitter saw is a sample the sim lost or the tee skipped.
    EXPECT_LE(emitter.stats().lost_at_source, (*sw)->stats().source_drops + tee.skipped);
    EXPECT_GE(emitter.stats().lost_at_source, tee.skipped);
    EXPECT_EQ((*src)->parse_stats().sequence_resets, 0u);

    // The samplers' view: per data source gaps of the synthesized sequence add up to the same
    // drops (less any still waiting for a data source seen before), never more.
    std::map<std::pair<uint32_t, Direction>, uint32_t> seq;
    uint64_t sampler_drops = 0;
    for (const Captured& c : got.got) {
      const uint32_t ifindex = c.sample.direction == Direction::kIngress ? c.sample.input_ifindex
                                                                         : c.sample.output_ifindex;
      ASSERT_TRUE(c.sample.has_source_sequence);
      auto key = std::make_pair(ifindex, c.sample.direction);
      auto it = seq.find(key);
      if (it != seq.end()) sampler_drops += c.sample.source_sequence - it->second - 1;
      seq[key] = c.sample.source_sequence;
    }
    EXPECT_LE(sampler_drops, expected_drops);
    EXPECT_GE(sampler_drops + 16, expected_drops);
    sampler_drops_ = sampler_drops;
    expected_drops_ = expected_drops;
    sent_ = tee.sent;
    got_ = got.got;
  }

  uint64_t sampler_drops_ = 0;
  uint64_t expected_drops_ = 0;
  std::vector<Sent> sent_;
  std::vector<Captured> got_;
};

TEST_F(PsampleSimScenarioTest, FourPortsSharingGroupsWithSimLossAndLostDeliveries) {
  sim::SimConfig sc;
  sc.num_ports = 4;
  sc.load = 0.3;
  sc.seed = 7;
  sc.sample_loss = 0.02;
  sc.flows_per_port = 100;
  Run(sc, 97, xflowd::testing::ScenarioSeconds(150, 30),
      {{1, Direction::kIngress},
       {2, Direction::kIngress},
       {3, Direction::kIngress},
       {4, Direction::kIngress},
       {1, Direction::kEgress},
       {2, Direction::kEgress}});
}

TEST_F(PsampleSimScenarioTest, OnePortPerGroupKeepsTheSimSequenceExactly) {
  sim::SimConfig sc;
  sc.num_ports = 2;
  sc.load = 0.3;
  sc.seed = 11;
  sc.sample_loss = 0.03;
  sc.flows_per_port = 50;
  Run(sc, 0, xflowd::testing::ScenarioSeconds(150, 30),
      {{1, Direction::kIngress}, {1, Direction::kEgress}});
  // One data source per group: the synthesized sequence moves exactly as the sim's own.
  EXPECT_EQ(sampler_drops_, expected_drops_);
  std::map<Direction, std::pair<uint32_t, uint32_t>> prev;  // sim seq, delivered seq
  for (size_t i = 0; i < got_.size(); ++i) {
    const Direction d = got_[i].sample.direction;
    if (got_[i].sample.input_ifindex != 1 && d == Direction::kIngress) continue;
    if (d == Direction::kEgress && got_[i].sample.output_ifindex != 1) continue;
    auto it = prev.find(d);
    if (it != prev.end()) {
      ASSERT_EQ(got_[i].sample.source_sequence - it->second.second,
                sent_[i].c.sample.source_sequence - it->second.first)
          << i;
    }
    prev[d] = {sent_[i].c.sample.source_sequence, got_[i].sample.source_sequence};
  }
}

}  // namespace
}  // namespace xflowd::hal::psample
