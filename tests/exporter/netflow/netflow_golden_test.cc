// Byte-exact tests of whole NetFlow v5, v9 and IPFIX messages. The expected bytes are in
// tests/testdata/netflow/*.hex, written by make_golden.py there (an implementation of the
// specs independent of this encoder); compared hex to hex so a failure shows the field.
#include <cstring>
#include <vector>

#include "exporter/netflow/flow_exporter.h"
#include "exporter/netflow/netflow_decoder.h"
#include "gtest/gtest.h"
#include "tests/exporter/netflow/netflow_test_util.h"
#include "tests/support/capture_transport.h"

namespace xflowd::exporter::netflow {
namespace {

using namespace testing;  // NOLINT
using xflowd::testing::CaptureTransport;

ExporterOptions Options(Version v) {
  ExporterOptions o;
  o.version = v;
  o.observation_domain = kDomain;
  o.system_init_unix_ms = kInitMs;
  o.engine_type = 1;
  o.engine_id = 2;
  return o;
}

// Records A, B (and C for v9/IPFIX) in one message, flushed at kNowMs.
std::vector<uint8_t> TemplateAndData(Version v) {
  CaptureTransport capture;
  FlowExporter e(Options(v), capture);
  e.SetTime(kNowMs);
  e.OnFlow(RecordA());
  e.OnFlow(RecordB());
  if (v != Version::kV5) e.OnFlow(RecordC());
  e.Flush(kNowMs);
  EXPECT_EQ(capture.datagrams().size(), 1u);
  return capture.datagrams().empty() ? std::vector<uint8_t>() : capture.datagrams()[0];
}

std::vector<uint8_t> OptionsOnly(Version v) {
  CaptureTransport capture;
  FlowExporter e(Options(v), capture);
  e.SetSampling(1000, SamplingAlgorithm::kRandom);
  e.SetInterfaceNames({{3, "eth0"}, {5, "swp5"}});
  e.Tick(kNowMs);
  EXPECT_EQ(capture.datagrams().size(), 1u);
  return capture.datagrams().empty() ? std::vector<uint8_t>() : capture.datagrams()[0];
}

// --flow-key-macs --flow-key-mpls, unsampled: records A and C with MACs and a top MPLS entry.
std::vector<uint8_t> KeyFields(Version v) {
  CaptureTransport capture;
  ExporterOptions o = Options(v);
  o.key_fields.macs = true;
  o.key_fields.mpls = true;
  FlowExporter e(o, capture);
  e.SetTime(kNowMs);
  FlowRecord a = RecordA();
  SetIp(a.key.src_mac, {0x02, 0, 0, 0, 0, 0x01});
  SetIp(a.key.dst_mac, {0x02, 0, 0, 0, 0, 0x02});
  a.key.mpls_top = (1000u << 12) | (5u << 9) | 0x100;
  a.sampling_rate = 1;
  FlowRecord c = RecordC();
  SetIp(c.key.src_mac, {0x02, 0, 0, 0, 0, 0x03});
  SetIp(c.key.dst_mac, {0x33, 0x33, 0, 0, 0, 0x01});
  c.key.mpls_top = 17u << 12;
  c.sampling_rate = 1;
  e.OnFlow(a);
  e.OnFlow(c);
  e.Flush(kNowMs);
  EXPECT_EQ(capture.datagrams().size(), 1u);
  if (capture.datagrams().empty()) return {};
  // Through our decoder: the key fields come back.
  NetflowDecoder d;
  auto m = d.Decode(View(capture.datagrams()[0]));
  EXPECT_TRUE(m.ok());
  if (m.ok() && m->flows.size() == 2) {
    EXPECT_EQ(m->flows[0].record.key.mpls_top, a.key.mpls_top);
    EXPECT_EQ(m->flows[1].record.key.mpls_top, c.key.mpls_top);
    EXPECT_EQ(std::memcmp(m->flows[0].record.key.src_mac, a.key.src_mac, 6), 0);
    EXPECT_EQ(std::memcmp(m->flows[1].record.key.dst_mac, c.key.dst_mac, 6), 0);
  } else {
    ADD_FAILURE() << "expected 2 decoded flows";
  }
  return capture.datagrams()[0];
}

void ExpectDecodes(const std::vector<uint8_t>& m) {
  NetflowDecoder d;
  auto r = d.Decode(View(m));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->skipped_sets, 0u);
}

TEST(NetflowEncoderGoldenTest, V5Datagram) {
  const auto m = TemplateAndData(Version::kV5);
  EXPECT_EQ(Dump(m), Dump(ReadGolden("v5_datagram.hex")));
  ExpectDecodes(m);
}

TEST(NetflowEncoderGoldenTest, V9TemplateAndData) {
  const auto m = TemplateAndData(Version::kV9);
  EXPECT_EQ(Dump(m), Dump(ReadGolden("v9_template_data.hex")));
  ExpectDecodes(m);
}

TEST(NetflowEncoderGoldenTest, V9Options) {
  const auto m = OptionsOnly(Version::kV9);
  EXPECT_EQ(Dump(m), Dump(ReadGolden("v9_options.hex")));
  ExpectDecodes(m);
}

TEST(NetflowEncoderGoldenTest, IpfixTemplateAndData) {
  const auto m = TemplateAndData(Version::kIpfix);
  EXPECT_EQ(Dump(m), Dump(ReadGolden("ipfix_template_data.hex")));
  ExpectDecodes(m);
}

TEST(NetflowEncoderGoldenTest, V9KeyFields) {
  const auto m = KeyFields(Version::kV9);
  EXPECT_EQ(Dump(m), Dump(ReadGolden("v9_key_fields.hex")));
  ExpectDecodes(m);
}

TEST(NetflowEncoderGoldenTest, IpfixKeyFields) {
  const auto m = KeyFields(Version::kIpfix);
  EXPECT_EQ(Dump(m), Dump(ReadGolden("ipfix_key_fields.hex")));
  ExpectDecodes(m);
}

TEST(NetflowEncoderGoldenTest, IpfixOptions) {
  const auto m = OptionsOnly(Version::kIpfix);
  EXPECT_EQ(Dump(m), Dump(ReadGolden("ipfix_options.hex")));
  ExpectDecodes(m);
}

}  // namespace
}  // namespace xflowd::exporter::netflow
