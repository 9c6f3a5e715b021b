#include "tools/xflowdump/pcap_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "tests/tools/xflowdump/dump_test_util.h"

namespace xflowd::tools::xflowdump {
namespace {

using testing::Bytes;
using testing::Ethernet;
using ::testing::HasSubstr;
using testing::Ipv4Udp;
using testing::Ipv6Udp;
using testing::PcapWriter;

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
  PcapWriter w(kLinkEthernet);
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
  PcapWriter w(kLinkRaw, /*little_endian=*/false, /*nanosecond=*/true);
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
  PcapWriter w(kLinkEthernet);
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
  std::string header = PcapWriter(kLinkEthernet).str();
  EXPECT_THAT(OpenError(header.substr(0, 10)), HasSubstr("file header cut short"));
  header[4] = 3;  // version 3.4
  EXPECT_THAT(OpenError(header), HasSubstr("pcap version 3"));
}

TEST(PcapReaderTest, ACorruptRecordLengthIsAnError) {
  PcapWriter w(kLinkEthernet);
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
  auto r = Open(PcapWriter(0x10000000 | kLinkEthernet).str());
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

// ---------------------------------------------------------------- ExtractUdp

void ExpectUdp(uint32_t link, const Bytes& frame, const char* src, const char* dst,
               uint16_t dport) {
  UdpDatagram u;
  ASSERT_EQ(ExtractUdp(link, hal::base::ByteView(frame.data(), frame.size()), &u),
            ExtractResult::kOk);
  EXPECT_EQ(u.source.address.ToString(), src);
  EXPECT_EQ(u.destination.address.ToString(), dst);
  EXPECT_EQ(u.destination.port, dport);
  EXPECT_EQ(Bytes(u.payload.begin(), u.payload.end()), kPayload);
}

ExtractResult Extract(uint32_t link, const Bytes& frame) {
  UdpDatagram u;
  return ExtractUdp(link, hal::base::ByteView(frame.data(), frame.size()), &u);
}

TEST(ExtractUdpTest, EthernetIpv4) {
  ExpectUdp(kLinkEthernet,
            Ethernet(0x0800, Ipv4Udp("192.0.2.1", "192.0.2.9", 40000, 6343, kPayload)), "192.0.2.1",
            "192.0.2.9", 6343);
}

TEST(ExtractUdpTest, EthernetPaddingIsNotPayload) {
  Bytes frame = Ethernet(0x0800, Ipv4Udp("192.0.2.1", "192.0.2.9", 1, 6343, kPayload));
  frame.resize(60, 0);  // minimum Ethernet frame
  ExpectUdp(kLinkEthernet, frame, "192.0.2.1", "192.0.2.9", 6343);
}

TEST(ExtractUdpTest, EthernetWithVlanTags) {
  ExpectUdp(kLinkEthernet,
            Ethernet(0x0800, Ipv4Udp("10.1.1.1", "10.2.2.2", 1, 6343, kPayload), {100, 200}),
            "10.1.1.1", "10.2.2.2", 6343);
}

TEST(ExtractUdpTest, EthernetIpv6WithHopByHop) {
  ExpectUdp(kLinkEthernet,
            Ethernet(0x86dd, Ipv6Udp("2001:db8::1", "2001:db8::2", 1, 6343, kPayload, true)),
            "2001:db8::1", "2001:db8::2", 6343);
}

TEST(ExtractUdpTest, LinuxCookedV1AndV2) {
  const Bytes ip = Ipv4Udp("192.0.2.1", "192.0.2.2", 1, 6343, kPayload);
  Bytes sll = {0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00};
  testing::Append(sll, ip);
  ExpectUdp(kLinkLinuxSll, sll, "192.0.2.1", "192.0.2.2", 6343);
  Bytes sll2 = {0x86, 0xdd, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0};
  testing::Append(sll2, Ipv6Udp("fe80::1", "ff02::1", 1, 6343, kPayload));
  ExpectUdp(kLinkLinuxSll2, sll2, "fe80::1", "ff02::1", 6343);
}

TEST(ExtractUdpTest, OldDltRawNumbersAreRawIp) {
  for (uint32_t link : {uint32_t{kLinkRawDlt12}, uint32_t{kLinkRawDlt14}}) {
    EXPECT_TRUE(IsSupportedLinkType(link));
    ExpectUdp(link, Ipv6Udp("::1", "::2", 1, 6343, kPayload), "::1", "::2", 6343);
  }
}

TEST(ExtractUdpTest, RawIpAndTheIpLinkTypes) {
  ExpectUdp(kLinkRaw, Ipv4Udp("192.0.2.1", "192.0.2.2", 1, 6343, kPayload), "192.0.2.1",
            "192.0.2.2", 6343);
  ExpectUdp(kLinkRaw, Ipv6Udp("::1", "::2", 1, 6343, kPayload), "::1", "::2", 6343);
  ExpectUdp(kLinkIpv4, Ipv4Udp("192.0.2.1", "192.0.2.2", 1, 6343, kPayload), "192.0.2.1",
            "192.0.2.2", 6343);
  ExpectUdp(kLinkIpv6, Ipv6Udp("::1", "::2", 1, 6343, kPayload), "::1", "::2", 6343);
}

TEST(ExtractUdpTest, LoopbackInEitherByteOrder) {
  Bytes le = {2, 0, 0, 0};  // AF_INET written by a little-endian host
  testing::Append(le, Ipv4Udp("127.0.0.1", "127.0.0.1", 1, 6343, kPayload));
  ExpectUdp(kLinkNull, le, "127.0.0.1", "127.0.0.1", 6343);
  Bytes be = {0, 0, 0, 30};  // AF_INET6 on Darwin, big-endian
  testing::Append(be, Ipv6Udp("::1", "::1", 1, 6343, kPayload));
  ExpectUdp(kLinkNull, be, "::1", "::1", 6343);
  Bytes loop = {0, 0, 0, 24};  // DLT_LOOP: network order, AF_INET6 on OpenBSD
  testing::Append(loop, Ipv6Udp("::1", "::1", 1, 6343, kPayload));
  ExpectUdp(kLinkLoop, loop, "::1", "::1", 6343);
  Bytes other = {7, 0, 0, 0, 0x45};
  EXPECT_EQ(Extract(kLinkNull, other), ExtractResult::kNotIp);
}

TEST(ExtractUdpTest, WhatIsSkippedAndWhy) {
  EXPECT_EQ(Extract(kLinkEthernet, Ethernet(0x0806, Bytes(28, 0))), ExtractResult::kNotIp);
  Bytes tcp = Ipv4Udp("192.0.2.1", "192.0.2.2", 1, 2, kPayload);
  tcp[9] = 6;
  EXPECT_EQ(Extract(kLinkRaw, tcp), ExtractResult::kNotUdp);
  Bytes frag = Ipv4Udp("192.0.2.1", "192.0.2.2", 1, 2, kPayload);
  frag[6] = 0x20;  // more fragments
  EXPECT_EQ(Extract(kLinkRaw, frag), ExtractResult::kFragment);
  Bytes later = Ipv4Udp("192.0.2.1", "192.0.2.2", 1, 2, kPayload);
  later[7] = 0x10;  // offset 128
  EXPECT_EQ(Extract(kLinkRaw, later), ExtractResult::kFragment);
  Bytes cut = Ipv4Udp("192.0.2.1", "192.0.2.2", 1, 2, kPayload);
  cut.resize(cut.size() - 2);  // snaplen cut the payload
  EXPECT_EQ(Extract(kLinkRaw, cut), ExtractResult::kTruncated);
  EXPECT_EQ(Extract(kLinkRaw, Bytes{0x45, 0}), ExtractResult::kTruncated);
  Bytes bad_ihl = Ipv4Udp("192.0.2.1", "192.0.2.2", 1, 2, kPayload);
  bad_ihl[0] = 0x44;
  EXPECT_EQ(Extract(kLinkRaw, bad_ihl), ExtractResult::kMalformed);
  Bytes bad_udp_len = Ipv4Udp("192.0.2.1", "192.0.2.2", 1, 2, kPayload);
  bad_udp_len[20 + 5] = 4;  // UDP length 4 < 8
  EXPECT_EQ(Extract(kLinkRaw, bad_udp_len), ExtractResult::kMalformed);
  Bytes v6frag = Ipv6Udp("::1", "::2", 1, 2, kPayload);
  v6frag[6] = 44;  // fragment header in place of UDP (offset != 0 in what follows)
  EXPECT_NE(Extract(kLinkRaw, v6frag), ExtractResult::kOk);
  EXPECT_EQ(Extract(12345, Bytes(40, 0)), ExtractResult::kUnsupportedLink);
  EXPECT_FALSE(IsSupportedLinkType(12345));
  EXPECT_TRUE(IsSupportedLinkType(kLinkLinuxSll2));
  EXPECT_STREQ(ExtractResultName(ExtractResult::kFragment), "ip_fragment");
}

TEST(ExtractUdpTest, EveryTruncationOfAFrameIsHandled) {
  const Bytes frames[] = {
      Ethernet(0x0800, Ipv4Udp("192.0.2.1", "192.0.2.9", 1, 6343, kPayload), {7}),
      Ethernet(0x86dd, Ipv6Udp("2001:db8::1", "2001:db8::2", 1, 6343, kPayload, true)),
  };
  for (const Bytes& f : frames) {
    for (size_t n = 0; n < f.size(); ++n) {
      Bytes cut(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(n));
      EXPECT_NE(Extract(kLinkEthernet, cut), ExtractResult::kOk) << n;
    }
  }
}

}  // namespace
}  // namespace xflowd::tools::xflowdump
