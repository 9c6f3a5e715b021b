#include "sim/pcap_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "hal/base/byte_view.h"
#include "tests/support/temp_dir.h"

namespace xflowd::sim {
namespace {

using hal::base::ByteView;
using hal::base::HexDump;
using hal::base::StatusCode;
using hal::base::WallTime;

using xflowd::testing::TempDir;

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::vector<uint8_t> b;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return b;
  uint8_t tmp[4096];
  size_t n;
  while ((n = std::fread(tmp, 1, sizeof tmp, f)) > 0) b.insert(b.end(), tmp, tmp + n);
  std::fclose(f);
  return b;
}

// The file is in host byte order; the expectation is built the same way so the test passes
// on big-endian targets too.
// (A loop, not vector::insert: GCC 12 at -O3 warns falsely about insert from arrays.)
void Bytes(std::vector<uint8_t>& b, const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) b.push_back(p[i]);
}
void Host32(std::vector<uint8_t>& b, uint32_t v) {
  uint8_t p[4];
  std::memcpy(p, &v, 4);
  Bytes(b, p, 4);
}
void Host16(std::vector<uint8_t>& b, uint16_t v) {
  uint8_t p[2];
  std::memcpy(p, &v, 2);
  Bytes(b, p, 2);
}
std::vector<uint8_t> FileHeader(uint32_t magic, uint32_t snaplen, uint32_t link) {
  std::vector<uint8_t> b;
  Host32(b, magic);
  Host16(b, 2);
  Host16(b, 4);
  Host32(b, 0);
  Host32(b, 0);
  Host32(b, snaplen);
  Host32(b, link);
  return b;
}
std::string Hex(const std::vector<uint8_t>& b) { return HexDump(ByteView(b.data(), b.size())); }

TEST(PcapWriterTest, MicrosecondFileIsByteExact) {
  TempDir dir;
  const std::string path = dir.File("us.pcap");
  auto w = PcapWriter::Create(path);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  const uint8_t frame[5] = {1, 2, 3, 4, 5};
  // 2026-01-01T00:00:01.000002999Z: microseconds round down.
  ASSERT_TRUE(
      (*w)->Write(WallTime::FromNs(int64_t{1767225601} * 1000000000 + 2999), ByteView(frame, 5), 60)
          .ok());
  EXPECT_EQ((*w)->packets(), 1u);
  EXPECT_EQ((*w)->file_bytes(), 24u + 16 + 5);
  ASSERT_TRUE((*w)->Close().ok());
  ASSERT_TRUE((*w)->Close().ok());  // idempotent

  std::vector<uint8_t> want = FileHeader(0xA1B2C3D4, 262144, 1);
  Host32(want, 1767225601);
  Host32(want, 2);
  Host32(want, 5);
  Host32(want, 60);
  Bytes(want, frame, 5);
  EXPECT_EQ(Hex(ReadFile(path)), Hex(want));
}

TEST(PcapWriterTest, NanosecondFileCutsToSnaplenAndKeepsOriginalLength) {
  TempDir dir;
  const std::string path = dir.File("ns.pcap");
  PcapWriterOptions o;
  o.unit = PcapTimestampUnit::kNanosecond;
  o.snaplen = 4;
  o.link_type = 101;
  auto w = PcapWriter::Create(path, o);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  const uint8_t frame[6] = {9, 8, 7, 6, 5, 4};
  ASSERT_TRUE((*w)->Write(int64_t{7} * 1000000000 + 123456789, ByteView(frame, 6), 1500).ok());
  // An original length below the captured bytes is raised to them.
  ASSERT_TRUE((*w)->Write(int64_t{8} * 1000000000, ByteView(frame, 2), 1).ok());
  ASSERT_TRUE((*w)->Close().ok());

  std::vector<uint8_t> want = FileHeader(0xA1B23C4D, 4, 101);
  Host32(want, 7);
  Host32(want, 123456789);
  Host32(want, 4);
  Host32(want, 1500);
  Bytes(want, frame, 4);
  Host32(want, 8);
  Host32(want, 0);
  Host32(want, 2);
  Host32(want, 2);
  Bytes(want, frame, 2);
  EXPECT_EQ(Hex(ReadFile(path)), Hex(want));
}

TEST(PcapWriterTest, RecordsLargerThanTheBufferAndManySmallOnes) {
  TempDir dir;
  const std::string path = dir.File("big.pcap");
  PcapWriterOptions o;
  o.buffer_bytes = 100;  // forces flushes and the direct path
  auto w = PcapWriter::Create(path, o);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  std::vector<uint8_t> want = FileHeader(0xA1B2C3D4, 262144, 1);
  for (uint32_t i = 0; i < 50; ++i) {
    std::vector<uint8_t> f(i % 7 == 0 ? 1000 + i : 10 + i, static_cast<uint8_t>(i));
    ASSERT_TRUE((*w)->Write(WallTime::FromSeconds(i), ByteView(f.data(), f.size()),
                            static_cast<uint32_t>(f.size()))
                    .ok());
    Host32(want, i);
    Host32(want, 0);
    Host32(want, static_cast<uint32_t>(f.size()));
    Host32(want, static_cast<uint32_t>(f.size()));
    Bytes(want, f.data(), f.size());
  }
  EXPECT_EQ((*w)->file_bytes(), want.size());
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_EQ(ReadFile(path), want);
}

TEST(PcapWriterTest, ErrorsAreReported) {
  auto bad = PcapWriter::Create("/nonexistent-dir-xf/a.pcap");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("/nonexistent-dir-xf/a.pcap"), std::string::npos);

  PcapWriterOptions zero;
  zero.snaplen = 0;
  EXPECT_EQ(PcapWriter::Create("/tmp/never-created.pcap", zero).status().code(),
            StatusCode::kInvalidArgument);

  // /dev/full accepts open() and fails every write with ENOSPC: the error must surface at
  // Close() even if no Write() saw it (they only fill the buffer).
  if (access("/dev/full", W_OK) == 0) {
    auto w = PcapWriter::Create("/dev/full");
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    const uint8_t f[64] = {};
    EXPECT_TRUE((*w)->Write(WallTime::FromSeconds(1), ByteView(f, 64), 64).ok());
    EXPECT_EQ((*w)->Write(WallTime::FromNs(-1), ByteView(f, 64), 64).code(),
              StatusCode::kInvalidArgument);
    const auto st = (*w)->Close();
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.message().find("/dev/full"), std::string::npos) << st.message();
    EXPECT_FALSE((*w)->Write(WallTime::FromSeconds(2), ByteView(f, 64), 64).ok());
  }
}

}  // namespace
}  // namespace xflowd::sim
