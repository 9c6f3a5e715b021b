// NetflowDecoder: strictness (errors with offsets), template cache, IPFIX features our encoder
// does not use (enterprise fields, variable length, withdrawal), and robustness to truncation.
#include "exporter/netflow/netflow_decoder.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "hal/base/byte_view.h"
#include "tests/exporter/netflow/netflow_test_util.h"

namespace xflowd::exporter::netflow {
namespace {

using namespace testing;  // NOLINT
using hal::base::ByteView;
using hal::base::ParseHex;

Bytes Hex(std::string_view text) {
  Bytes out;
  EXPECT_TRUE(ParseHex(text, &out)) << text;
  return out;
}

hal::base::Result<DecodedMessage> DecodeBytes(NetflowDecoder& d, const Bytes& b) {
  return d.Decode(ByteView(b.data(), b.size()));
}

std::string ErrorOf(const Bytes& b) {
  NetflowDecoder d;
  auto r = DecodeBytes(d, b);
  return r.ok() ? "OK" : r.status().message();
}

TEST(NetflowDecoderTest, GoldenMessagesDecode) {
  NetflowDecoder d;
  auto v9 = DecodeBytes(d, ReadGolden("v9_template_data.hex"));
  ASSERT_TRUE(v9.ok()) << v9.status().ToString();
  EXPECT_EQ(v9->count, 10u);
  EXPECT_EQ(v9->templates.size(), 6u);
  ASSERT_EQ(v9->flows.size(), 3u);
  EXPECT_EQ(Describe(v9->flows[0].record), Describe(Carried(RecordA(), Version::kV9)));
  EXPECT_EQ(Describe(v9->flows[1].record), Describe(Carried(RecordB(), Version::kV9)));
  EXPECT_EQ(Describe(v9->flows[2].record), Describe(Carried(RecordC(), Version::kV9)));
  EXPECT_EQ(v9->flows[0].first_uptime_ms, 1000u);
  EXPECT_EQ(d.template_count(), 6u);
  auto ipfix = DecodeBytes(d, ReadGolden("ipfix_template_data.hex"));
  ASSERT_TRUE(ipfix.ok()) << ipfix.status().ToString();
  ASSERT_EQ(ipfix->flows.size(), 3u);
  EXPECT_EQ(Describe(ipfix->flows[2].record), Describe(Carried(RecordC(), Version::kIpfix)));
  EXPECT_EQ(d.template_count(), 12u);  // per version and domain
  auto v5 = DecodeBytes(d, ReadGolden("v5_datagram.hex"));
  ASSERT_TRUE(v5.ok()) << v5.status().ToString();
  EXPECT_EQ(Describe(v5->flows[0].record), Describe(Carried(RecordA(), Version::kV5)));
  EXPECT_EQ(v5->engine_type, 1u);
  EXPECT_EQ(v5->engine_id, 2u);
}

TEST(NetflowDecoderTest, EveryTruncationIsAnError) {
  for (const char* name : {"v5_datagram.hex", "v9_template_data.hex", "v9_options.hex",
                           "ipfix_template_data.hex", "ipfix_options.hex"}) {
    const Bytes full = ReadGolden(name);
    for (size_t n = 0; n < full.size(); ++n) {
      NetflowDecoder d;
      auto r = DecodeBytes(d, full.substr(0, n));
      EXPECT_FALSE(r.ok()) << name << " cut to " << n;
      if (!r.ok()) {
        EXPECT_EQ(r.status().message().rfind("offset ", 0), 0u) << r.status().message();
      }
    }
  }
}

TEST(NetflowDecoderTest, FlippedBytesNeverCrash) {
  for (const char* name : {"v9_template_data.hex", "ipfix_template_data.hex"}) {
    const Bytes full = ReadGolden(name);
    for (size_t i = 0; i < full.size(); ++i) {
      for (uint8_t x : {uint8_t{0x00}, uint8_t{0xff}, uint8_t{0x80}}) {
        Bytes b = full;
        b[i] = x;
        NetflowDecoder d;
        (void)DecodeBytes(d, b);
      }
    }
  }
}

TEST(NetflowDecoderTest, Errors) {
  EXPECT_EQ(ErrorOf(Hex("00")), "offset 0: message of 1 bytes has no version");
  EXPECT_EQ(ErrorOf(Hex("00 07 00 00")), "offset 0: version 7 is not NetFlow v5, v9 or IPFIX (10)");
  EXPECT_EQ(ErrorOf(Hex("00 0a 00 20 00000000 00000000 00000000")),
            "offset 2: IPFIX length 32 but message has 16 bytes");
  EXPECT_EQ(ErrorOf(Hex("00 0a 00 14 00000000 00000000 00000000 0002 0002")),
            "offset 18: set length 2 < 4");
  EXPECT_EQ(ErrorOf(Hex("00 0a 00 14 00000000 00000000 00000000 0002 0008")),
            "offset 18: set length 8 exceeds the 4 bytes left");
  EXPECT_EQ(ErrorOf(Hex("00 0a 00 14 00000000 00000000 00000000 0004 0004")),
            "offset 16: reserved set id 4");
  EXPECT_EQ(ErrorOf(Hex("00 0a 00 1c 00000000 00000000 00000000 0002 000c 0010 0001 0001 0004")),
            "offset 20: template id 16 < 256");
  EXPECT_EQ(ErrorOf(Hex("00 0a 00 1c 00000000 00000000 00000000 0002 000c 0100 0002 0001 0004")),
            "offset 28: template 256: field 2 of 2 runs past the set end 28");
  EXPECT_EQ(ErrorOf(Hex("00 0a 00 1c 00000000 00000000 00000000 0002 000c 0100 0001 0001 0000")),
            "offset 26: template 256: field 1 length 0");
  // v9: a count that disagrees with the records.
  EXPECT_EQ(ErrorOf(Hex("0009 0002 00000000 00000000 00000000 00000000 "
                        "0000 000c 0100 0001 0008 0004")),
            "offset 2: v9 count 2 but the message has 1 records");
  EXPECT_EQ(ErrorOf(Hex("0009 0001 00000000 00000000 00000000 00000000 "
                        "0001 000c 0100 0003 0000 0000")),
            "offset 26: options template 256: scope length 3, option length 0");
  // v5: size and count must agree.
  EXPECT_EQ(ErrorOf(Hex("0005 0001 00000000 00000000 00000000 00000000 0000 0000")),
            "offset 24: v5 count 1 needs 72 bytes, message has 24");
  EXPECT_EQ(ErrorOf(Hex("0005 0000 00000000 00000000 00000000 00000000 0000 0000")),
            "offset 2: v5 count 0 is not 1..30");
  // An IPv4 address of the wrong length.
  EXPECT_EQ(ErrorOf(Hex("00 0a 00 22 00000000 00000000 00000000 "
                        "0002 000c 0100 0001 0008 0002 "
                        "0100 0006 0a01")),
            "offset 32: field 8 has length 2, expected 4");
}

TEST(NetflowDecoderTest, UnknownTemplateIsSkippedAndCounted) {
  NetflowDecoder d;
  auto r = DecodeBytes(d, Hex("00 0a 00 18 00000000 00000000 00000000 0123 0008 01020304"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->skipped_sets, 1u);
  EXPECT_TRUE(r->flows.empty());
}

TEST(NetflowDecoderTest, IpfixEnterpriseVariableLengthAndWithdrawal) {
  NetflowDecoder d;
  // Template 300: sourceIPv4Address, an enterprise field (PEN 9) of 2 bytes, interfaceName
  // variable length; then two data records (one with a 3-byte length prefix) and padding.
  const Bytes m = Hex(R"(
      000a 0051 00000000 00000005 00000001
      0002 0018  012c 0003  0008 0004  8001 0002 00000009  0052 ffff
      012c 0029
        0a000001 beef 03 616263
        0a000002 beef ff 0010 30313233343536373839616263646566
        0000)");
  auto r = DecodeBytes(d, m);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->templates.size(), 1u);
  EXPECT_EQ(r->templates[0].enterprises[1], 9u);
  ASSERT_EQ(r->flows.size(), 2u);
  EXPECT_EQ(r->flows[1].record.key.src_ip[3], 2u);
  EXPECT_EQ(r->flows[1].record.key.ip_version, 4u);
  EXPECT_EQ(r->data_record_count, 2u);
  // Withdrawal (field count 0) removes it from the cache.
  auto w = DecodeBytes(d, Hex("000a 0018 00000000 00000006 00000001 0002 0008 012c 0000"));
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ASSERT_EQ(w->templates.size(), 1u);
  EXPECT_TRUE(w->templates[0].withdrawal);
  EXPECT_EQ(d.FindTemplate(Version::kIpfix, 1, 300), nullptr);
}

}  // namespace
}  // namespace xflowd::exporter::netflow
