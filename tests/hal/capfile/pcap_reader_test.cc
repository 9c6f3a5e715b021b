#include "hal/capfile/pcap_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "tests/support/frames.h"

namespace xflowd::hal::capfile {
namespace {

using ::testing::HasSubstr;
using xflowd::testing::Bytes;
using xflowd::testing::Ethernet;
using xflowd::testing::Ipv4Udp;
using xflowd::testing::PcapFile;

// LINKTYPE_ values the tests write.
constexpr uint32_t kLinkEthernet = 1;
constexpr uint32_t kLinkRaw = 101;

std::unique_ptr<PcapReader> Open(const std::string& bytes) {
  auto r = PcapReader::FromStream(std::make_unique<std::istringstream>(bytes), "test.pcap");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

std::string OpenError(const std::string& bytes) {
  auto r = PcapReader::FromStream(std::make_unique<std::istringstream>(bytes), "test.pcap");
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : r.status().message();
}

const Bytes kPayload = {1, 2, 3, 4, 5};

TEST(PcapReaderTest, ReadsLittleEndianMicrosecondRecords) {
  PcapFile w(kLinkEthernet);
  w.Add(1767225600, 250000, Ethernet(0x0800, Ipv4Udp("192.0.2.1", "192.0.2.2", 1, 6343, kPayload)));
  w.Add(1767225601, 5, {0xaa, 0xbb}, 60);
  auto r = Open(w.str());
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->link_type(), kLinkEthernet);
  EXPECT_FALSE(r->nanosecond());
  EXPECT_EQ(r->snaplen(), 65535u);
  PcapRecord rec;
  ASSERT_TRUE(r->Next(&rec).value());
  EXPECT_EQ(rec.time.ns(), 1767225600250000000);
  EXPECT_EQ(rec.data.size(), 14u + 28u + 5u);
  ASSERT_TRUE(r->Next(&rec).value());
  EXPECT_EQ(rec.time.ns(), 1767225601000005000);
  EXPECT_EQ(rec.original_length, 60u);
  EXPECT_EQ(rec.data.size(), 2u);
  EXPECT_FALSE(r->Next(&rec).value());
  EXPECT_FALSE(r->truncated());
  EXPECT_EQ(r->records(), 2u);
}

TEST(PcapReaderTest, ReadsBigEndianNanosecondFiles) {
  PcapFile w(kLinkRaw, /*little_endian=*/false, /*nanosecond=*/true);
  w.Add(10, 123456789, Ipv4Udp("10.0.0.1", "10.0.0.2", 5, 6343, kPayload));
  auto r = Open(w.str());
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->nanosecond());
  EXPECT_EQ(r->link_type(), kLinkRaw);
  PcapRecord rec;
  ASSERT_TRUE(r->Next(&rec).value());
  EXPECT_EQ(rec.time.ns(), 10123456789);
}

TEST(PcapReaderTest, AFileCutInsideARecordEndsWithTruncatedSet) {
  PcapFile w(kLinkEthernet);
  w.Add(1, 0, Bytes(100, 0));
  std::string bytes = w.str();
  bytes.resize(bytes.size() - 10);
  auto r = Open(bytes);
  ASSERT_NE(r, nullptr);
  PcapRecord rec;
  EXPECT_FALSE(r->Next(&rec).value());
  EXPECT_TRUE(r->truncated());

  // Cut inside the record header.
  bytes.resize(24 + 7);
  r = Open(bytes);
  ASSERT_NE(r, nullptr);
  EXPECT_FALSE(r->Next(&rec).value());
  EXPECT_TRUE(r->truncated());
}

TEST(PcapReaderTest, RejectsWhatIsNotClassicPcap) {
  EXPECT_THAT(OpenError(""), HasSubstr("too short to be a pcap file"));
  EXPECT_THAT(OpenError(std::string("\x0a\x0d\x0d\x0a\0\0\0\0", 8)), HasSubstr("pcapng"));
  EXPECT_THAT(OpenError("GET / HTTP/1.1\r\n\r\n......"), HasSubstr("not a pcap file (magic "));
  std::string header = PcapFile(kLinkEthernet).str();
  EXPECT_THAT(OpenError(header.substr(0, 10)), HasSubstr("file header cut short"));
  header[4] = 3;  // version 3.4
  EXPECT_THAT(OpenError(header), HasSubstr("pcap version 3"));
}

TEST(PcapReaderTest, ACorruptRecordLengthIsAnError) {
  PcapFile w(kLinkEthernet);
  std::string bytes = w.str();
  Bytes rec;
  testing::PutLe32(rec, 1);
  testing::PutLe32(rec, 0);
  testing::PutLe32(rec, 0x7FFFFFFF);
  testing::PutLe32(rec, 0x7FFFFFFF);
  bytes.append(rec.begin(), rec.end());
  auto r = Open(bytes);
  ASSERT_NE(r, nullptr);
  PcapRecord out;
  auto next = r->Next(&out);
  ASSERT_FALSE(next.ok());
  EXPECT_THAT(next.status().message(), HasSubstr("record 1 claims 2147483647 captured bytes"));
}

TEST(PcapReaderTest, MasksFcsBitsOfTheLinkType) {
  auto r = Open(PcapFile(0x10000000 | kLinkEthernet).str());
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->link_type(), kLinkEthernet);
}

TEST(PcapReaderTest, OpenReportsMissingFiles) {
  auto r = PcapReader::Open("/nonexistent/dir/x.pcap");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("cannot open capture file"));
}

TEST(PcapReaderTest, OpenSaysADirectoryIsADirectory) {
  auto r = PcapReader::Open(::testing::TempDir());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("is a directory, not a capture file"));
}

}  // namespace
}  // namespace xflowd::hal::capfile
