#include "hal/pcap/pcap_file_source.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "hal/base/byte_view.h"
#include "sim/packet_builder.h"
#include "sim/pcap_writer.h"
#include "tests/support/temp_dir.h"

namespace xflowd::hal::pcap {
namespace {

using base::ByteView;
using base::StatusCode;
using base::WallTime;

constexpr int64_t kStartNs = int64_t{1767225600} * 1000000000;

using xflowd::testing::TempDir;

struct Got {
  uint32_t frame_length;
  uint32_t sampling_rate;
  uint32_t input_ifindex;
  int64_t time_ns;
  std::vector<uint8_t> header;
};

class CollectingSink : public PacketSampleSink {
 public:
  void OnSample(const PacketSample& s) override {
    got.push_back({s.frame_length, s.sampling_rate, s.input_ifindex, s.timestamp.ns(),
                   std::vector<uint8_t>(s.header.begin(), s.header.end())});
  }
  std::vector<Got> got;
};

struct Written {
  int64_t time_ns;
  uint32_t length;
  std::vector<uint8_t> captured;
};

// A UDP frame of `length` bytes; the source port numbers the packet.
std::vector<uint8_t> Frame(uint32_t i, uint32_t length) {
  sim::PacketSpec spec;
  spec.protocol = sim::kIpProtoUdp;
  spec.src_ip[0] = 10;
  spec.src_ip[3] = 1;
  spec.dst_ip[0] = 10;
  spec.dst_ip[3] = 2;
  spec.src_port = static_cast<uint16_t>(1000 + i);
  spec.dst_port = 53;
  std::vector<uint8_t> f(length);
  f.resize(sim::BuildFrame(spec, length, f.data(), f.size()));
  return f;
}

// Writes `n` packets 1.5 ms + 1 ns apart with sizes 60..1514; returns what it wrote (cut to
// the snaplen).
std::vector<Written> WriteCapture(const std::string& path, uint32_t n,
                                  sim::PcapWriterOptions options = {}) {
  auto w = sim::PcapWriter::Create(path, options);
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  std::vector<Written> out;
  if (!w.ok()) return out;
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t len = 60 + (i * 97) % 1455;
    std::vector<uint8_t> f = Frame(i, len);
    const int64_t t = kStartNs + int64_t{i} * 1500001;
    EXPECT_TRUE((*w)->Write(t, ByteView(f.data(), f.size()), len).ok());
    if (f.size() > options.snaplen) f.resize(options.snaplen);
    out.push_back({t, len, f});
  }
  EXPECT_TRUE((*w)->Close().ok());
  return out;
}

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::vector<uint8_t> b;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return b;
  uint8_t tmp[65536];
  size_t n;
  while ((n = std::fread(tmp, 1, sizeof tmp, f)) > 0) b.insert(b.end(), tmp, tmp + n);
  std::fclose(f);
  return b;
}

void WriteFile(const std::string& path, const std::vector<uint8_t>& b) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(std::fwrite(b.data(), 1, b.size(), f), b.size());
  ASSERT_EQ(std::fclose(f), 0);
}

// Drains everything, `budget` at a time.
void DrainAll(PcapFileSource& src, CollectingSink& sink, size_t budget = 64) {
  for (int guard = 0; guard < 1000000 && !src.done(); ++guard) src.Drain(sink, budget);
}

TEST(PcapFileSourceTest, ReadsBackEveryPacketWithTimesAndLengths) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.File("a.pcap");
  sim::PcapWriterOptions wo;
  wo.unit = sim::PcapTimestampUnit::kNanosecond;
  wo.snaplen = 128;
  const std::vector<Written> want = WriteCapture(path, 1000, wo);

  auto src = PcapFileSource::Create(path);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  EXPECT_EQ((*src)->fd(), -1);
  CollectingSink sink;
  EXPECT_EQ((*src)->Drain(sink, 10), 10u);  // the budget holds
  EXPECT_FALSE((*src)->done());
  DrainAll(**src, sink);
  ASSERT_EQ(sink.got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(sink.got[i].frame_length, want[i].length);
    EXPECT_EQ(sink.got[i].time_ns, want[i].time_ns);
    EXPECT_EQ(sink.got[i].header, want[i].captured);
    EXPECT_EQ(sink.got[i].sampling_rate, 1u);
    EXPECT_EQ(sink.got[i].input_ifindex, 1u);
  }
  EXPECT_TRUE((*src)->done());
  EXPECT_EQ((*src)->Drain(sink, 10), 0u);
  EXPECT_EQ((*src)->read_error(), "");
  EXPECT_EQ((*src)->packets_read(), 1000u);
  EXPECT_EQ((*src)->stats().samples, 1000u);
  EXPECT_EQ((*src)->stats().parse_errors, 0u);
  EXPECT_EQ((*src)->first_packet_time(), WallTime::FromNs(want.front().time_ns));
  EXPECT_EQ((*src)->last_packet_time(), WallTime::FromNs(want.back().time_ns));
}

TEST(PcapFileSourceTest, MicrosecondFileGivesMicrosecondTimesAndIfindexOption) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.File("us.pcap");
  const std::vector<Written> want = WriteCapture(path, 50);
  PcapFileOptions o;
  o.ifindex = 7;
  auto src = PcapFileSource::Create(path, o);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  CollectingSink sink;
  DrainAll(**src, sink);
  ASSERT_EQ(sink.got.size(), 50u);
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(sink.got[i].time_ns, want[i].time_ns / 1000 * 1000);
    EXPECT_EQ(sink.got[i].input_ifindex, 7u);
    EXPECT_EQ(sink.got[i].header.size(), want[i].length);
  }
}

// pcapng written by hand: SHB, IDB (Ethernet, microsecond default), two EPBs.
void Put32(std::vector<uint8_t>& b, uint32_t v) {
  uint8_t p[4];
  std::memcpy(p, &v, 4);
  b.insert(b.end(), p, p + 4);
}
void Put16(std::vector<uint8_t>& b, uint16_t v) {
  uint8_t p[2];
  std::memcpy(p, &v, 2);
  b.insert(b.end(), p, p + 2);
}

TEST(PcapFileSourceTest, ReadsPcapng) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.File("a.pcapng");
  std::vector<uint8_t> b;
  Put32(b, 0x0A0D0D0A);  // SHB
  Put32(b, 28);
  Put32(b, 0x1A2B3C4D);
  Put16(b, 1);
  Put16(b, 0);
  Put32(b, 0xFFFFFFFF);  // section length unknown
  Put32(b, 0xFFFFFFFF);
  Put32(b, 28);
  Put32(b, 1);  // IDB
  Put32(b, 20);
  Put16(b, 1);  // LINKTYPE_ETHERNET
  Put16(b, 0);
  Put32(b, 0);  // snaplen: none
  Put32(b, 20);
  const uint64_t t_us[2] = {uint64_t{1767225600} * 1000000 + 5, uint64_t{1767225601} * 1000000};
  const uint32_t lens[2] = {60, 99};
  for (int i = 0; i < 2; ++i) {
    const std::vector<uint8_t> f = Frame(i, lens[i]);
    const uint32_t padded = (lens[i] + 3) & ~3u;
    const uint32_t block = 32 + padded;
    Put32(b, 6);  // EPB
    Put32(b, block);
    Put32(b, 0);  // interface 0
    Put32(b, static_cast<uint32_t>(t_us[i] >> 32));
    Put32(b, static_cast<uint32_t>(t_us[i]));
    Put32(b, lens[i]);
    Put32(b, lens[i] + 100);  // original length: the capture was cut
    b.insert(b.end(), f.begin(), f.end());
    b.resize(b.size() + padded - lens[i], 0);
    Put32(b, block);
  }
  WriteFile(path, b);

  auto src = PcapFileSource::Create(path);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  CollectingSink sink;
  DrainAll(**src, sink);
  ASSERT_EQ(sink.got.size(), 2u);
  EXPECT_EQ(sink.got[0].time_ns, static_cast<int64_t>(t_us[0]) * 1000);
  EXPECT_EQ(sink.got[1].time_ns, static_cast<int64_t>(t_us[1]) * 1000);
  EXPECT_EQ(sink.got[0].frame_length, 160u);
  EXPECT_EQ(sink.got[1].header, Frame(1, 99));
  EXPECT_EQ((*src)->read_error(), "");
}

// Offset of record `k` (0-based) in a classic pcap file of `records`.
size_t RecordOffset(const std::vector<Written>& records, size_t k) {
  size_t off = 24;
  for (size_t i = 0; i < k; ++i) off += 16 + records[i].captured.size();
  return off;
}

TEST(PcapFileSourceTest, TruncatedFileDeliversCompletePacketsAndCountsOneError) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.File("cut.pcap");
  const std::vector<Written> want = WriteCapture(path, 10);
  std::vector<uint8_t> b = ReadFile(path);
  const size_t last = RecordOffset(want, 9);
  ASSERT_EQ(b.size(), RecordOffset(want, 10));
  b.resize(last + (b.size() - last) / 2);  // the last record cut in half
  WriteFile(path, b);

  auto src = PcapFileSource::Create(path);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  CollectingSink sink;
  DrainAll(**src, sink, 1000);
  EXPECT_EQ(sink.got.size(), 9u);
  EXPECT_TRUE((*src)->done());
  EXPECT_EQ((*src)->stats().parse_errors, 1u);
  EXPECT_EQ((*src)->stats().samples, 9u);
  EXPECT_NE((*src)->read_error(), "");
  EXPECT_EQ((*src)->last_packet_time(), WallTime::FromNs(want[8].time_ns / 1000 * 1000));
}

TEST(PcapFileSourceTest, BrokenRecordHeaderEndsReadingAfterTheGoodOnes) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.File("bad.pcap");
  const std::vector<Written> want = WriteCapture(path, 10);
  std::vector<uint8_t> b = ReadFile(path);
  const uint32_t huge = 0xFFFFFF00;
  std::memcpy(&b[RecordOffset(want, 5) + 8], &huge, 4);  // caplen of record 5
  WriteFile(path, b);

  auto src = PcapFileSource::Create(path);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  CollectingSink sink;
  DrainAll(**src, sink, 3);
  EXPECT_EQ(sink.got.size(), 5u);
  EXPECT_TRUE((*src)->done());
  EXPECT_EQ((*src)->stats().parse_errors, 1u);
  EXPECT_NE((*src)->read_error(), "");
  EXPECT_EQ((*src)->packets_read(), 5u);
}

TEST(PcapFileSourceTest, ClearErrorsForMissingGarbageAndUnknownLinkTypes) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  auto missing = PcapFileSource::Create(dir.File("nope.pcap"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("nope.pcap"), std::string::npos);

  const std::string garbage = dir.File("garbage.pcap");
  WriteFile(garbage, std::vector<uint8_t>(100, 'x'));
  auto g = PcapFileSource::Create(garbage);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(g.status().message().find("not a readable pcap"), std::string::npos);

  const std::string user = dir.File("user0.pcap");
  sim::PcapWriterOptions wo;
  wo.link_type = 147;  // LINKTYPE_USER0: nothing we can parse
  WriteCapture(user, 1, wo);
  auto r = PcapFileSource::Create(user);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("147"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("supported are Ethernet (1), raw IP"), std::string::npos)
      << r.status().message();

  const std::string raw = dir.File("raw.pcap");
  wo.link_type = 101;  // LINKTYPE_RAW: read, and said in every sample
  WriteCapture(raw, 1, wo);
  auto ok = PcapFileSource::Create(raw);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ((*ok)->link_type(), LinkType::kRawIp);
}

TEST(PcapFileSourceTest, EmptyCaptureIsDoneAtOnce) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.File("empty.pcap");
  WriteCapture(path, 0);
  auto src = PcapFileSource::Create(path);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  CollectingSink sink;
  EXPECT_EQ((*src)->Drain(sink, 10), 0u);
  EXPECT_TRUE((*src)->done());
  EXPECT_EQ((*src)->read_error(), "");
  EXPECT_EQ((*src)->first_packet_time(), WallTime());
}

std::vector<int64_t> SampledTimes(const std::string& path, uint32_t rate, uint64_t seed) {
  PcapFileOptions o;
  o.sampling_rate = rate;
  o.seed = seed;
  auto src = PcapFileSource::Create(path, o);
  EXPECT_TRUE(src.ok()) << src.status().ToString();
  if (!src.ok()) return {};
  CollectingSink sink;
  DrainAll(**src, sink, 100);
  std::vector<int64_t> t;
  for (const Got& g : sink.got) {
    EXPECT_EQ(g.sampling_rate, rate);
    t.push_back(g.time_ns);
  }
  EXPECT_EQ((*src)->packets_read(), 20000u);
  return t;
}

TEST(PcapFileSourceTest, SoftwareSamplingIsSeededAndAveragesOneInN) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.File("many.pcap");
  sim::PcapWriterOptions wo;
  wo.snaplen = 64;
  WriteCapture(path, 20000, wo);

  const std::vector<int64_t> a = SampledTimes(path, 10, 42);
  const std::vector<int64_t> b = SampledTimes(path, 10, 42);
  const std::vector<int64_t> c = SampledTimes(path, 10, 43);
  EXPECT_EQ(a, b);  // same seed, same packets
  EXPECT_NE(a, c);
  // Skips uniform in [1, 19]: mean 10, variance 30; the count of 20000 / 10 = 2000 samples has
  // a standard deviation of about sqrt(20000 * 30 / 1000) = 25. Allow 6 of them.
  EXPECT_NEAR(static_cast<double>(a.size()), 2000.0, 150.0);
  EXPECT_NEAR(static_cast<double>(c.size()), 2000.0, 150.0);
  // Rate 1 takes every packet.
  EXPECT_EQ(SampledTimes(path, 1, 42).size(), 20000u);
}

TEST(SkipSamplerTest, SkipsStayInRangeAndAverageN) {
  SkipSampler s(4, 9);
  uint64_t taken = 0;
  uint32_t gap = 0;
  uint32_t max_gap = 0;
  uint32_t min_gap = UINT32_MAX;
  for (int i = 0; i < 400000; ++i) {
    ++gap;
    if (s.Take()) {
      ++taken;
      if (taken > 1) {  // the first gap is the first skip too, but keep the check simple
        max_gap = std::max(max_gap, gap);
        min_gap = std::min(min_gap, gap);
      }
      gap = 0;
    }
  }
  EXPECT_EQ(min_gap, 1u);
  EXPECT_EQ(max_gap, 7u);  // 2N - 1
  EXPECT_NEAR(static_cast<double>(taken), 100000.0, 1000.0);
}

}  // namespace
}  // namespace xflowd::hal::pcap
