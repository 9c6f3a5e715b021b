#include "hal/psample/psample_parser.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "hal/base/byte_view.h"
#include "sim/psample_emitter.h"
#include "tests/support/golden.h"

namespace xflowd::hal::psample {
namespace {

using base::ByteView;
using base::MonoTime;
using Bytes = std::basic_string<uint8_t>;

constexpr uint64_t kTs = 1767225600123456789ull;

using xflowd::testing::LittleEndianHost;

// The golden files are captures from a little-endian host; netlink is host byte order.
#define SKIP_UNLESS_LITTLE_ENDIAN()                                                    \
  do {                                                                                 \
    if (!LittleEndianHost()) GTEST_SKIP() << "golden netlink bytes are little-endian"; \
  } while (0)

Bytes ReadHex(const std::string& name) { return xflowd::testing::ReadGoldenHex("psample/" + name); }

ByteView View(const Bytes& b) { return ByteView(b.data(), b.size()); }

std::string Hex(ByteView v) { return base::HexDump(v); }

struct Captured {
  PacketSample sample;
  PsampleMeta meta;
  std::vector<uint8_t> header;
};

class Collect final : public PsampleSink {
 public:
  void OnPsample(const PacketSample& s, const PsampleMeta& m) override {
    Captured c{s, m, std::vector<uint8_t>(s.header.begin(), s.header.end())};
    c.sample.header = ByteView();
    got.push_back(std::move(c));
  }
  std::vector<Captured> got;
};

// Encodes with the emitter (the inverse of the parser) from parsed fields.
Bytes Reencode(const PacketSample& s, const PsampleMeta& m, bool pad) {
  sim::PsampleMessage msg;
  msg.in_ifindex = s.input_ifindex;
  msg.out_ifindex = s.output_ifindex;
  msg.sample_rate = s.sampling_rate;
  msg.orig_size = s.frame_length - s.stripped;
  msg.group = m.group;
  msg.group_seq = m.group_seq;
  msg.has_out_tc = m.has_out_tc;
  msg.out_tc = m.out_tc;
  msg.has_out_tc_occ = m.has_out_tc_occupancy;
  msg.out_tc_occ_bytes = m.out_tc_occupancy_bytes;
  msg.has_latency = m.has_latency;
  msg.latency_ns = m.latency_ns;
  msg.has_timestamp = m.has_timestamp;
  msg.timestamp_ns = m.timestamp_ns;
  msg.has_proto = m.has_protocol;
  msg.proto = m.protocol;
  msg.data = s.header;
  msg.pad_u64 = pad;
  uint8_t buf[4096];
  const size_t n = sim::EncodePsampleMessage(msg, buf, sizeof(buf));
  return Bytes(buf, n);
}

// ---- golden ----

TEST(PsampleParserGoldenTest, IngressIpv4FromTcSample) {
  SKIP_UNLESS_LITTLE_ENDIAN();
  const Bytes msg = ReadHex("sample_ingress_v4.hex");
  ASSERT_EQ(msg.size(), 128u);
  PacketSample s;
  PsampleMeta m;
  ParseStats st;
  ASSERT_EQ(ParseSampleMessage(View(msg), 0x1c, &s, &m, &st), MessageResult::kSample);
  EXPECT_EQ(s.input_ifindex, 3u);
  EXPECT_EQ(s.output_ifindex, 0u);
  EXPECT_EQ(s.sampling_rate, 1024u);
  EXPECT_EQ(s.frame_length, 1518u);  // ORIGSIZE 1514 + the FCS, as sFlow counts it
  EXPECT_EQ(s.stripped, 4u);
  ASSERT_EQ(s.header.size(), 42u);
  EXPECT_EQ(s.header[12], 0x08);
  EXPECT_EQ(s.header[41], 0x00);
  EXPECT_EQ(s.header.data(), msg.data() + 84);  // a view into the message, not a copy
  EXPECT_EQ(m.group, 1u);
  EXPECT_TRUE(m.has_group_seq);
  EXPECT_EQ(m.group_seq, 7u);
  EXPECT_TRUE(m.has_timestamp);
  EXPECT_EQ(m.timestamp_ns, kTs);
  EXPECT_TRUE(m.has_protocol);
  EXPECT_EQ(m.protocol, 0x0800);
  EXPECT_FALSE(m.has_out_tc || m.has_out_tc_occupancy || m.has_latency || m.has_tunnel);
  EXPECT_EQ(m.trunc_size, 42u);
  EXPECT_EQ(st.errors(), 0u);
  EXPECT_EQ(st.unknown_attr, 0u);
  // The emitter is the parser's inverse, byte for byte.
  EXPECT_EQ(Hex(View(Reencode(s, m, false))), Hex(View(msg)));
}

TEST(PsampleParserGoldenTest, EgressWithEveryMetadataAttribute) {
  SKIP_UNLESS_LITTLE_ENDIAN();
  const Bytes msg = ReadHex("sample_egress_all_attrs.hex");
  PacketSample s;
  PsampleMeta m;
  ParseStats st;
  ASSERT_EQ(ParseSampleMessage(View(msg), 0x1c, &s, &m, &st), MessageResult::kSample);
  EXPECT_EQ(s.input_ifindex, 3u);
  EXPECT_EQ(s.output_ifindex, 5u);
  EXPECT_EQ(s.sampling_rate, 4096u);
  EXPECT_EQ(s.frame_length, 1518u);
  EXPECT_EQ(s.header.size(), 62u);
  EXPECT_EQ(m.group, 2u);
  EXPECT_EQ(m.group_seq, 0xFFFFFFFEu);
  EXPECT_TRUE(m.has_out_tc);
  EXPECT_EQ(m.out_tc, 6u);
  EXPECT_TRUE(m.has_out_tc_occupancy);
  EXPECT_EQ(m.out_tc_occupancy_bytes, 0x12345u);
  EXPECT_TRUE(m.has_latency);
  EXPECT_EQ(m.latency_ns, 1500u);
  EXPECT_EQ(m.timestamp_ns, kTs);
  EXPECT_EQ(m.protocol, 0x86DD);
  EXPECT_EQ(st.errors(), 0u);
  EXPECT_EQ(Hex(View(Reencode(s, m, false))), Hex(View(msg)));
}

TEST(PsampleParserGoldenTest, PadAttributesBefore64BitValues) {
  SKIP_UNLESS_LITTLE_ENDIAN();
  const Bytes padded = ReadHex("sample_egress_padded.hex");
  const Bytes plain = ReadHex("sample_egress_all_attrs.hex");
  ASSERT_EQ(padded.size(), plain.size() + 8);  // two PADs
  PacketSample s;
  PsampleMeta m;
  ParseStats st;
  ASSERT_EQ(ParseSampleMessage(View(padded), 0x1c, &s, &m, &st), MessageResult::kSample);
  EXPECT_EQ(m.out_tc_occupancy_bytes, 0x12345u);
  EXPECT_EQ(m.latency_ns, 1500u);
  EXPECT_EQ(m.timestamp_ns, kTs);
  EXPECT_EQ(st.errors() + st.unknown_attr, 0u);
  EXPECT_EQ(Hex(View(Reencode(s, m, true))), Hex(View(padded)));
}

TEST(PsampleParserGoldenTest, OddButValidAttributes) {
  SKIP_UNLESS_LITTLE_ENDIAN();
  const Bytes msg = ReadHex("sample_odd_attrs.hex");
  PacketSample s;
  PsampleMeta m;
  ParseStats st;
  ASSERT_EQ(ParseSampleMessage(View(msg), 0, &s, &m, &st), MessageResult::kSample);
  EXPECT_EQ(s.input_ifindex, 70000u);
  EXPECT_EQ(s.sampling_rate, 100u);
  EXPECT_EQ(s.frame_length, 68u);
  EXPECT_EQ(s.header.size(), 14u);
  EXPECT_TRUE(m.has_tunnel);
  EXPECT_TRUE(m.rate_is_probability);
  EXPECT_EQ(m.protocol, 0x0800);  // NLA_F_NET_BYTEORDER bit masked off the type
  EXPECT_FALSE(m.has_timestamp);
  EXPECT_EQ(st.unknown_attr, 1u);
  EXPECT_EQ(st.errors(), 0u);
}

TEST(PsampleParserGoldenTest, BufferOfSeveralMessages) {
  SKIP_UNLESS_LITTLE_ENDIAN();
  const Bytes buf = ReadHex("buffer_batch.hex");
  PsampleStreamParser p;
  Collect c;
  EXPECT_EQ(p.ParseBuffer(View(buf), MonoTime::FromSeconds(5), c), 2u);
  ASSERT_EQ(c.got.size(), 2u);
  EXPECT_EQ(c.got[0].sample.input_ifindex, 3u);
  EXPECT_EQ(c.got[0].sample.direction, Direction::kIngress);
  EXPECT_EQ(c.got[0].meta.group_seq, 10u);
  EXPECT_EQ(c.got[1].sample.input_ifindex, 4u);
  EXPECT_EQ(c.got[1].meta.group_seq, 13u);
  EXPECT_EQ(c.got[1].header.size(), 14u);
  const ParseStats& st = p.stats();
  EXPECT_EQ(st.messages, 6u);  // ack, 2 samples, config, overrun, done; garbage unread
  EXPECT_EQ(st.samples, 2u);
  EXPECT_EQ(st.netlink_acks, 1u);
  EXPECT_EQ(st.wrong_command, 1u);
  EXPECT_EQ(st.netlink_overruns, 1u);
  EXPECT_EQ(st.netlink_done, 1u);
  EXPECT_EQ(st.drops, 2u);  // 11 and 12
  EXPECT_EQ(p.group_drops(1), 2u);
  EXPECT_EQ(st.errors(), 0u);
}

// ---- bad input ----

class PsampleParserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!LittleEndianHost()) GTEST_SKIP() << "golden netlink bytes are little-endian";
    msg_ = ReadHex("sample_ingress_v4.hex");
  }
  MessageResult Parse(const Bytes& b) { return ParseSampleMessage(View(b), 0, &s_, &m_, &st_); }
  static void SetU32(Bytes& b, size_t off, uint32_t v) { std::memcpy(&b[off], &v, 4); }
  static void SetU16(Bytes& b, size_t off, uint16_t v) { std::memcpy(&b[off], &v, 2); }

  Bytes msg_;
  PacketSample s_;
  PsampleMeta m_;
  ParseStats st_;
};

TEST_F(PsampleParserTest, EveryTruncationIsCountedAndNeverReadsPast) {
  for (size_t len = 0; len < msg_.size(); ++len) {
    // A cut buffer whose nlmsg_len still says 128: the length is wrong.
    Bytes cut(msg_.data(), len);
    ParseStats st;
    EXPECT_EQ(ParseSampleMessage(View(cut), 0, &s_, &m_, &st), MessageResult::kMalformed) << len;
    EXPECT_EQ(st.errors(), 1u) << len;
    // The same cut with nlmsg_len patched to match: attributes end early.
    if (len >= kNlmsgHdrLen) {
      SetU32(cut, 0, static_cast<uint32_t>(len));
      ParseStats st2;
      const MessageResult r = ParseSampleMessage(View(cut), 0, &s_, &m_, &st2);
      if (r == MessageResult::kSample) {
        // Cut on an attribute boundary: a valid, shorter message.
        EXPECT_EQ(st2.errors(), 0u) << len;
        EXPECT_LE(s_.header.size(), len) << len;
      } else {
        EXPECT_EQ(st2.errors(), 1u) << len;
      }
    }
  }
}

TEST_F(PsampleParserTest, AttributeLengthPastTheMessage) {
  SetU16(msg_, 20, 200);  // IIFINDEX nla_len
  EXPECT_EQ(Parse(msg_), MessageResult::kMalformed);
  EXPECT_EQ(st_.truncated_attr, 1u);
}

TEST_F(PsampleParserTest, AttributeLengthBelowItsHeader) {
  SetU16(msg_, 20, 3);
  EXPECT_EQ(Parse(msg_), MessageResult::kMalformed);
  EXPECT_EQ(st_.truncated_attr, 1u);
}

TEST_F(PsampleParserTest, FixedSizeAttributeWithWrongSize) {
  SetU16(msg_, 28, 6);  // SAMPLE_RATE claims a 2-byte payload
  EXPECT_EQ(Parse(msg_), MessageResult::kMalformed);
  EXPECT_EQ(st_.bad_attr_size, 1u);
}

TEST_F(PsampleParserTest, NlmsgLenDisagreesWithTheBuffer) {
  SetU32(msg_, 0, 8);
  EXPECT_EQ(Parse(msg_), MessageResult::kMalformed);
  SetU32(msg_, 0, 4096);
  EXPECT_EQ(Parse(msg_), MessageResult::kMalformed);
  EXPECT_EQ(st_.bad_nlmsg_len, 2u);
}

TEST_F(PsampleParserTest, WrongFamilyAndCommand) {
  ParseStats st;
  EXPECT_EQ(ParseSampleMessage(View(msg_), 0x1d, &s_, &m_, &st), MessageResult::kMalformed);
  EXPECT_EQ(st.wrong_family, 1u);
  SetU16(msg_, 4, 2);  // NLMSG_ERROR is not a family
  EXPECT_EQ(Parse(msg_), MessageResult::kMalformed);
  EXPECT_EQ(st_.wrong_family, 1u);
  SetU16(msg_, 4, 0x1c);
  msg_[16] = 3;  // PSAMPLE_CMD_DEL_GROUP
  EXPECT_EQ(Parse(msg_), MessageResult::kNotSample);
  EXPECT_EQ(st_.wrong_command, 1u);
}

TEST_F(PsampleParserTest, MissingGroupIsAnError) {
  SetU16(msg_, 46, 200);  // SAMPLE_GROUP becomes an unknown attribute type
  EXPECT_EQ(Parse(msg_), MessageResult::kMalformed);
  EXPECT_EQ(st_.missing_group, 1u);
  EXPECT_EQ(st_.unknown_attr, 1u);
}

TEST_F(PsampleParserTest, BufferWithBadLengthStopsThere) {
  Bytes buf = msg_ + msg_;
  SetU32(buf, 128, 4000);  // the second message's length runs past the buffer
  PsampleStreamParser p;
  Collect c;
  EXPECT_EQ(p.ParseBuffer(View(buf), MonoTime(), c), 1u);
  EXPECT_EQ(p.stats().bad_nlmsg_len, 1u);
  Bytes tail = msg_ + Bytes(10, 0);  // fewer bytes than a header after the message
  EXPECT_EQ(p.ParseBuffer(View(tail), MonoTime(), c), 1u);
  EXPECT_EQ(p.stats().short_buffer, 1u);
}

TEST_F(PsampleParserTest, UnknownGroupIsCountedAndIgnored) {
  SetU32(msg_, 48, 9);  // SAMPLE_GROUP 9
  PsampleStreamParser p;
  Collect c;
  EXPECT_EQ(p.ParseBuffer(View(msg_), MonoTime(), c), 0u);
  EXPECT_EQ(p.stats().unknown_group, 1u);
  EXPECT_EQ(p.stats().errors(), 0u);
  PsampleStreamParser p2(ParserOptions::WithBaseGroup(9));
  EXPECT_EQ(p2.ParseBuffer(View(msg_), MonoTime(), c), 1u);
  EXPECT_EQ(c.got.back().sample.direction, Direction::kIngress);
}

// ---- sequences ----

// Builds one message with the emitter's pure encoder.
Bytes Msg(uint32_t in, uint32_t out, uint32_t group, uint32_t seq, bool timestamp = false,
          uint64_t ts = 0) {
  sim::PsampleMessage m;
  m.in_ifindex = in;
  m.out_ifindex = out;
  m.sample_rate = 100;
  m.orig_size = 60;
  m.group = group;
  m.group_seq = seq;
  m.has_timestamp = timestamp;
  m.timestamp_ns = ts;
  static const uint8_t frame[14] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0};
  m.data = ByteView(frame, sizeof(frame));
  uint8_t buf[256];
  return Bytes(buf, sim::EncodePsampleMessage(m, buf, sizeof(buf)));
}

// What agent/sflow/sampler.cc does with source sequences, per data source.
struct SamplerModel {
  bool have = false;
  uint32_t last = 0;
  uint64_t drops = 0;
  void See(const PacketSample& s) {
    ASSERT_TRUE(s.has_source_sequence);
    if (have) {
      const uint32_t d = s.source_sequence - last - 1;
      if (d < (1u << 24)) drops += d;
    }
    have = true;
    last = s.source_sequence;
  }
};

TEST(PsampleSequenceTest, GapsPerGroupWrapAroundAndResets) {
  PsampleStreamParser p;
  Collect c;
  for (const Bytes& b : {Msg(3, 0, 1, 0xFFFFFFFE), Msg(0, 5, 2, 100), Msg(3, 0, 1, 0xFFFFFFFF),
                         Msg(3, 0, 1, 0), Msg(3, 0, 1, 3),  // 1, 2 lost across the wrap
                         Msg(0, 5, 2, 101),    // egress group unaffected by ingress gaps
                         Msg(0, 5, 2, 50),     // backwards: the group restarted, no drops
                         Msg(0, 5, 2, 52)}) {  // 51 lost
    p.ParseBuffer(View(b), MonoTime(), c);
  }
  EXPECT_EQ(c.got.size(), 8u);
  EXPECT_EQ(p.group_drops(1), 2u);
  EXPECT_EQ(p.group_drops(2), 1u);
  EXPECT_EQ(p.stats().drops, 3u);
  EXPECT_EQ(p.stats().sequence_resets, 1u);
  EXPECT_EQ(c.got[1].sample.direction, Direction::kEgress);
}

TEST(PsampleSequenceTest, PerDataSourceSequenceChargesEachLossOnce) {
  // Ports 3 and 4 share ingress group 1, as they do with tc or an ASIC.
  PsampleStreamParser p;
  Collect c;
  const uint32_t seqs[] = {10, 11, 12, 15, 16, 20, 21};
  const uint32_t ports[] = {3, 4, 3, 4, 3, 7, 3};  // 7 is new when 17..19 are missed
  for (int i = 0; i < 7; ++i) p.ParseBuffer(View(Msg(ports[i], 0, 1, seqs[i])), MonoTime(), c);
  ASSERT_EQ(c.got.size(), 7u);
  EXPECT_EQ(p.stats().drops, 5u);  // 13, 14, 17, 18, 19
  SamplerModel m3, m4, m7;
  for (const Captured& x : c.got) {
    (x.sample.input_ifindex == 3 ? m3 : x.sample.input_ifindex == 4 ? m4 : m7).See(x.sample);
  }
  // The sampler of port 4 gets 13 and 14; 17..19 wait past port 7's first (baseline) sample and
  // go to port 3. Nothing counted twice, nothing lost: 2 + 3 == 5.
  EXPECT_EQ(m4.drops, 2u);
  EXPECT_EQ(m7.drops, 0u);
  EXPECT_EQ(m3.drops, 3u);
}

TEST(PsampleSequenceTest, GroupAndNoneModes) {
  ParserOptions o;
  o.sequence_mode = SequenceMode::kGroup;
  PsampleStreamParser g(o);
  Collect c;
  g.ParseBuffer(View(Msg(3, 0, 1, 77)), MonoTime(), c);
  ASSERT_EQ(c.got.size(), 1u);
  EXPECT_TRUE(c.got[0].sample.has_source_sequence);
  EXPECT_EQ(c.got[0].sample.source_sequence, 77u);
  o.sequence_mode = SequenceMode::kNone;
  PsampleStreamParser n(o);
  n.ParseBuffer(View(Msg(3, 0, 1, 77)), MonoTime(), c);
  n.ParseBuffer(View(Msg(3, 0, 1, 80)), MonoTime(), c);
  EXPECT_FALSE(c.got[2].sample.has_source_sequence);
  EXPECT_EQ(n.stats().drops, 2u);  // still counted for stats
}

TEST(PsampleSequenceTest, TimestampsBecomeMonotonic) {
  PsampleStreamParser p;
  p.set_wall_to_mono_ns(-1'000'000'000'000);  // monotonic = wall - 1000 s
  Collect c;
  p.ParseBuffer(View(Msg(3, 0, 1, 1, true, 5'000'000'000'000)), MonoTime::FromSeconds(9), c);
  p.ParseBuffer(View(Msg(3, 0, 1, 2, false)), MonoTime::FromSeconds(9), c);
  ASSERT_EQ(c.got.size(), 2u);
  EXPECT_EQ(c.got[0].sample.timestamp, MonoTime::FromSeconds(4000));
  EXPECT_EQ(c.got[1].sample.timestamp, MonoTime::FromSeconds(9));  // no TIMESTAMP: receive time
}

TEST(PsampleSequenceTest, SourceTableFullFallsBackToNoSequence) {
  PsampleStreamParser p;
  Collect c;
  for (uint32_t i = 1; i <= PsampleStreamParser::kSourceTableSize + 3; ++i) {
    p.ParseBuffer(View(Msg(i, 0, 1, i)), MonoTime(), c);
  }
  EXPECT_EQ(p.stats().untracked_sources, 3u);
  EXPECT_FALSE(c.got.back().sample.has_source_sequence);
  EXPECT_EQ(p.stats().samples, PsampleStreamParser::kSourceTableSize + 3);
}

}  // namespace
}  // namespace xflowd::hal::psample
