// FlowExporter / ExporterSet behaviour: size limits, round trips through NetflowDecoder,
// sequence numbers per version, template refresh, v5 limits, collector independence.
#include "exporter/netflow/flow_exporter.h"

#include <cstring>
#include <vector>

#include "exporter/netflow/netflow_decoder.h"
#include "gtest/gtest.h"
#include "hal/base/prng.h"
#include "tests/exporter/netflow/netflow_test_util.h"
#include "tests/support/capture_transport.h"

namespace xflowd::exporter::netflow {
namespace {

using namespace testing;  // NOLINT
using xflowd::testing::CaptureTransport;

ExporterOptions Options(Version v, size_t max = 1400) {
  ExporterOptions o;
  o.version = v;
  o.max_datagram_bytes = max;
  o.observation_domain = kDomain;
  o.system_init_unix_ms = kInitMs;
  return o;
}

// A deterministic mix of IPv4/IPv6 TCP/UDP/ICMP records (no PRNG dependency: an LCG).
std::vector<FlowRecord> MixedRecords(size_t n, bool ipv4_only = false) {
  std::vector<FlowRecord> out;
  uint32_t x = 12345;
  auto next = [&x]() {
    x = x * 1103515245u + 12345u;
    return x >> 8;
  };
  for (size_t i = 0; i < n; ++i) {
    FlowRecord r;
    const uint32_t kind = ipv4_only ? (i % 2) * 2 : i % 4;  // 0 v4, 1 v6, 2 icmp4, 3 icmp6
    const bool v6 = kind == 1 || kind == 3;
    r.key.ip_version = v6 ? 6 : 4;
    for (int b = 0; b < (v6 ? 16 : 4); ++b) {
      r.key.src_ip[b] = static_cast<uint8_t>(next());
      r.key.dst_ip[b] = static_cast<uint8_t>(next());
    }
    if (kind >= 2) {
      r.key.protocol = v6 ? 58 : 1;
      r.key.dst_port = static_cast<uint16_t>(next());
    } else {
      r.key.protocol = (next() & 1) ? 6 : 17;
      r.key.src_port = static_cast<uint16_t>(next());
      r.key.dst_port = static_cast<uint16_t>(next());
      r.tcp_flags = r.key.protocol == 6 ? static_cast<uint16_t>(next() & 0x1FF) : 0;
    }
    r.key.input_ifindex = next() % 100;
    r.key.output_ifindex = next() % 100;
    r.key.vlan_outer = static_cast<uint16_t>(next() & 0xFFF);
    r.key.vlan_inner = static_cast<uint16_t>(next() & 0xFFF);
    r.key.tos = static_cast<uint8_t>(next());
    r.packets = 1 + next() % 1000;
    r.bytes = r.packets * (40 + next() % 1460);
    r.first_ms = kInitMs + 1000 * (next() % 500);
    r.last_ms = r.first_ms + next() % 100000;
    r.end_reason = static_cast<EndReason>(1 + next() % 5);
    r.sampling_rate = 1;
    out.push_back(r);
  }
  return out;
}

// Decodes every datagram in order with one decoder and returns the flows.
std::vector<DecodedMessage> DecodeAll(const CaptureTransport& c) {
  NetflowDecoder d;
  std::vector<DecodedMessage> out;
  for (const auto& m : c.datagrams()) {
    auto r = d.Decode(View(m));
    EXPECT_TRUE(r.ok()) << r.status().ToString() << "\n" << Dump(m);
    if (!r.ok()) break;
    EXPECT_EQ(r->skipped_sets, 0u);
    out.push_back(*r);
  }
  return out;
}

class FlowExporterVersionTest : public ::testing::TestWithParam<Version> {};

TEST_P(FlowExporterVersionTest, NeverExceedsMaxAndRoundTrips) {
  const Version v = GetParam();
  for (size_t max : {size_t{512}, size_t{1400}, size_t{1500}, size_t{9000}}) {
    SCOPED_TRACE(max);
    CaptureTransport capture;
    FlowExporter e(Options(v, max), capture);
    e.SetInterfaceNames({{1, "eth1"}, {2, "a-very-long-interface-name-cut-to-32-bytes"}});
    const auto records = MixedRecords(1000, v == Version::kV5);
    e.SetTime(kNowMs);
    for (const FlowRecord& r : records) e.OnFlow(r);
    e.Flush(kNowMs);
    EXPECT_EQ(e.stats().flows_exported, records.size());
    EXPECT_EQ(e.stats().flows_not_exportable, 0u);
    EXPECT_GT(capture.datagrams().size(), 1u);
    for (const auto& m : capture.datagrams()) EXPECT_LE(m.size(), max);
    std::vector<FlowRecord> got;
    for (const DecodedMessage& m : DecodeAll(capture)) {
      for (const DecodedFlow& f : m.flows) got.push_back(f.record);
    }
    ASSERT_EQ(got.size(), records.size());
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(Describe(got[i]), Describe(Carried(records[i], v))) << "record " << i;
    }
  }
}

TEST_P(FlowExporterVersionTest, DefaultMaxIsFilled) {
  // Messages before the last are as full as the records allow (sent only when the next one
  // would not fit).
  const Version v = GetParam();
  CaptureTransport capture;
  FlowExporter e(Options(v), capture);
  e.SetTime(kNowMs);
  for (const FlowRecord& r : MixedRecords(600, true)) e.OnFlow(r);
  e.Flush(kNowMs);
  ASSERT_GT(capture.datagrams().size(), 2u);
  for (size_t i = 1; i + 1 < capture.datagrams().size(); ++i) {
    EXPECT_LE(capture.datagrams()[i].size(), 1400u);
    EXPECT_GT(capture.datagrams()[i].size(), v == Version::kV5 ? 1400u - 48 - 1 : 1400u - 60 - 8);
  }
}

INSTANTIATE_TEST_SUITE_P(Versions, FlowExporterVersionTest,
                         ::testing::Values(Version::kV5, Version::kV9, Version::kIpfix));

TEST(FlowExporterTest, V5SequenceIsFlowsBefore) {
  CaptureTransport capture;
  FlowExporter e(Options(Version::kV5, 1500), capture);  // 24 + 30 * 48 = 1464 bytes fit
  e.SetTime(kNowMs);
  for (const FlowRecord& r : MixedRecords(75, true)) e.OnFlow(r);
  e.Flush(kNowMs);
  const auto msgs = DecodeAll(capture);
  ASSERT_EQ(msgs.size(), 3u);
  EXPECT_EQ(msgs[0].sequence, 0u);
  EXPECT_EQ(msgs[0].count, 30u);
  EXPECT_EQ(msgs[1].sequence, 30u);
  EXPECT_EQ(msgs[2].sequence, 60u);
  EXPECT_EQ(msgs[2].count, 15u);
  EXPECT_EQ(msgs[0].sys_uptime_ms, 60000u);
  EXPECT_EQ(msgs[0].unix_secs, kNowMs / 1000);
  // At the default 1400 bytes, 28 records fit.
  CaptureTransport small;
  FlowExporter e2(Options(Version::kV5), small);
  for (const FlowRecord& r : MixedRecords(30, true)) e2.OnFlow(r);
  e2.Flush(kNowMs);
  ASSERT_EQ(small.datagrams().size(), 2u);
  EXPECT_EQ(small.datagrams()[0].size(), 24u + 28 * 48);
}

TEST(FlowExporterTest, V5SamplingField) {
  EXPECT_EQ(V5SamplingField(1), 0u);
  EXPECT_EQ(V5SamplingField(0), 0u);
  EXPECT_EQ(V5SamplingField(1000), 0x4000u | 1000u);
  EXPECT_EQ(V5SamplingField(100000), 0x7FFFu);
  // A record at another rate starts a new datagram (one header, one rate).
  CaptureTransport capture;
  FlowExporter e(Options(Version::kV5), capture);
  FlowRecord a = RecordA();
  FlowRecord b = RecordA();
  b.sampling_rate = 1;
  e.OnFlow(a);
  e.OnFlow(b);
  e.Flush(kNowMs);
  const auto msgs = DecodeAll(capture);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].flows[0].record.sampling_rate, 1000u);
  EXPECT_EQ(msgs[1].flows[0].record.sampling_rate, 1u);
  EXPECT_EQ(msgs[1].sequence, 1u);
}

TEST(FlowExporterTest, V5CountsIpv6AsNotExportable) {
  CaptureTransport capture;
  FlowExporter e(Options(Version::kV5), capture);
  e.OnFlow(RecordA());
  e.OnFlow(RecordC());
  FlowRecord bad = RecordA();
  bad.key.ip_version = 0;
  e.OnFlow(bad);
  e.Flush(kNowMs);
  EXPECT_EQ(e.stats().flows_received, 3u);
  EXPECT_EQ(e.stats().flows_exported, 1u);
  EXPECT_EQ(e.stats().flows_not_exportable, 2u);
  const auto msgs = DecodeAll(capture);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].count, 1u);
}

TEST(FlowExporterTest, V5ClampsAndCounts) {
  CaptureTransport capture;
  FlowExporter e(Options(Version::kV5), capture);
  FlowRecord r = RecordA();
  r.bytes = uint64_t{1} << 33;
  r.key.input_ifindex = 70000;
  e.OnFlow(r);
  e.Flush(kNowMs);
  EXPECT_EQ(e.stats().v5_clamped_counters, 1u);
  EXPECT_EQ(e.stats().v5_clamped_ifindex, 1u);
  const auto msgs = DecodeAll(capture);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].flows[0].record.bytes, 0xFFFFFFFFu);
  EXPECT_EQ(msgs[0].flows[0].record.key.input_ifindex, 0xFFFFu);
}

TEST(FlowExporterTest, V9SequenceIsPacketsAndCountIncludesTemplates) {
  CaptureTransport capture;
  ExporterOptions o = Options(Version::kV9);
  o.template_refresh_packets = 3;
  FlowExporter e(o, capture);
  e.SetInterfaceNames({{3, "eth0"}});
  e.SetTime(kNowMs);
  for (const FlowRecord& r : MixedRecords(200)) e.OnFlow(r);
  e.Flush(kNowMs);
  const auto msgs = DecodeAll(capture);
  ASSERT_GT(msgs.size(), 6u);
  uint64_t flows = 0;
  for (size_t i = 0; i < msgs.size(); ++i) {
    EXPECT_EQ(msgs[i].sequence, i);
    EXPECT_EQ(msgs[i].source_id, kDomain);
    // count = templates + options templates + options data + flows, checked by the decoder
    // too (it rejects a mismatch).
    EXPECT_EQ(msgs[i].count,
              msgs[i].templates.size() + msgs[i].options.size() + msgs[i].flows.size());
    const bool refresh = i % 3 == 0;
    EXPECT_EQ(msgs[i].templates.size(), refresh ? 6u : 0u) << "message " << i;
    EXPECT_EQ(msgs[i].options.size(), refresh ? 2u : 0u) << "message " << i;
    flows += msgs[i].flows.size();
  }
  EXPECT_EQ(flows, 200u);
  EXPECT_EQ(msgs[0].count, 6u + 2u + msgs[0].flows.size());
}

TEST(FlowExporterTest, IpfixSequenceIsDataRecordsBefore) {
  CaptureTransport capture;
  ExporterOptions o = Options(Version::kIpfix);
  o.template_refresh_packets = 4;
  FlowExporter e(o, capture);
  e.SetInterfaceNames({{3, "eth0"}, {4, "eth1"}});
  e.SetTime(kNowMs);
  for (const FlowRecord& r : MixedRecords(300)) e.OnFlow(r);
  e.Flush(kNowMs);
  const auto msgs = DecodeAll(capture);
  ASSERT_GT(msgs.size(), 8u);
  uint32_t data_before = 0;
  for (size_t i = 0; i < msgs.size(); ++i) {
    EXPECT_EQ(msgs[i].sequence, data_before) << "message " << i;
    EXPECT_EQ(msgs[i].length, capture.datagrams()[i].size());
    EXPECT_EQ(msgs[i].unix_secs, kNowMs / 1000);
    // Options data records are data records; template records are not.
    EXPECT_EQ(msgs[i].data_record_count, msgs[i].flows.size() + msgs[i].options.size());
    EXPECT_EQ(msgs[i].options.size(), i % 4 == 0 ? 3u : 0u);
    data_before += msgs[i].data_record_count;
  }
  EXPECT_EQ(e.stats().options_data_records, 3u * ((msgs.size() + 3) / 4));
}

TEST(FlowExporterTest, NewSamplingRateIsAnnouncedBeforeItsRecords) {
  CaptureTransport capture;
  FlowExporter e(Options(Version::kIpfix), capture);
  e.Tick(kNowMs);  // templates and options data before any record: rate 1
  FlowRecord r = RecordA();
  r.sampling_rate = 1000;
  e.OnFlow(r);
  e.OnFlow(r);
  r.sampling_rate = 2000;  // the export budget doubled the rate
  e.OnFlow(r);
  e.Flush(kNowMs);
  NetflowDecoder d;
  std::vector<uint32_t> rates;
  for (const auto& dg : capture.datagrams()) {
    auto m = d.Decode(View(dg));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    for (const auto& f : m->flows) rates.push_back(f.record.sampling_rate);
  }
  EXPECT_EQ(rates, (std::vector<uint32_t>{1000, 1000, 2000}));
  EXPECT_EQ(e.stats().template_refreshes, 3u);
}

TEST(FlowExporterTest, TemplateRefreshBySeconds) {
  CaptureTransport capture;
  ExporterOptions o = Options(Version::kIpfix);
  o.template_refresh_packets = 0;
  o.template_refresh_s = 600;
  FlowExporter e(o, capture);
  // The rate is set: a record's rate differing from the one announced would refresh too.
  e.SetSampling(1000, SamplingAlgorithm::kDeterministic);
  uint64_t t = kNowMs;
  e.Tick(t);  // the first refresh, alone
  ASSERT_EQ(capture.datagrams().size(), 1u);
  for (int i = 0; i < 50; ++i) {  // 50 messages over 490 s: no refresh
    t += 10000;
    e.SetTime(t);
    e.OnFlow(RecordA());
    e.Tick(t);
  }
  EXPECT_EQ(e.stats().template_refreshes, 1u);
  e.Tick(kNowMs + 599999);
  EXPECT_EQ(e.stats().template_refreshes, 1u);
  const size_t before = capture.datagrams().size();
  e.Tick(kNowMs + 600000);  // due by time with nothing pending: sent alone
  EXPECT_EQ(e.stats().template_refreshes, 2u);
  ASSERT_EQ(capture.datagrams().size(), before + 1);
  NetflowDecoder d;
  auto m = d.Decode(View(capture.datagrams().back()));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->templates.size(), 6u);
  EXPECT_EQ(m->sequence, 1u + 50u);  // 1 options record + 50 flows before
  // And by time at a message start while flows keep coming.
  e.SetTime(kNowMs + 1200000);
  e.OnFlow(RecordA());
  e.Flush(kNowMs + 1200000);
  EXPECT_EQ(e.stats().template_refreshes, 3u);
}

TEST(FlowExporterTest, TemplateRefreshByPackets) {
  CaptureTransport capture;
  ExporterOptions o = Options(Version::kV9);
  o.template_refresh_packets = 20;
  o.template_refresh_s = 0;
  FlowExporter e(o, capture);
  e.SetTime(kNowMs);
  for (int i = 0; i < 45; ++i) {
    e.OnFlow(RecordA());
    e.Flush(kNowMs);
  }
  const auto msgs = DecodeAll(capture);
  ASSERT_EQ(msgs.size(), 45u);
  for (size_t i = 0; i < msgs.size(); ++i) {
    EXPECT_EQ(!msgs[i].templates.empty(), i == 0 || i == 20 || i == 40) << "message " << i;
  }
}

TEST(FlowExporterTest, OptionsDataDecode) {
  for (Version v : {Version::kV9, Version::kIpfix}) {
    CaptureTransport capture;
    FlowExporter e(Options(v), capture);
    e.SetSampling(512, SamplingAlgorithm::kRandom);
    e.SetInterfaceNames({{3, "eth0"}, {70000, "swp70000"}});
    e.SetTime(kNowMs);
    e.OnFlow(RecordA());
    e.Flush(kNowMs);
    const auto msgs = DecodeAll(capture);
    ASSERT_EQ(msgs.size(), 1u);
    const auto& opts = msgs[0].options;
    ASSERT_EQ(opts.size(), 3u);
    ASSERT_NE(opts[0].Find(field::kSamplingInterval), nullptr);
    EXPECT_EQ(opts[0].Find(field::kSamplingInterval)->AsUint(), 512u);
    EXPECT_EQ(opts[0].Find(field::kSamplingAlgorithm)->AsUint(), 2u);
    if (v == Version::kIpfix) {
      EXPECT_EQ(opts[0].Find(field::kSystemInitMs)->AsUint(), kInitMs);
      EXPECT_EQ(opts[0].Find(field::kObservationDomain, true)->AsUint(), kDomain);
    }
    const uint16_t scope = v == Version::kIpfix ? field::kInputIf : field::kScopeInterface;
    EXPECT_EQ(opts[2].Find(scope, true)->AsUint(), 70000u);
    EXPECT_EQ(opts[2].Find(field::kIfName)->AsString(), "swp70000");
    // The decoder applies the sampling interval of the options data to later records.
    ASSERT_EQ(msgs[0].flows.size(), 1u);
    EXPECT_EQ(msgs[0].flows[0].record.sampling_rate, 512u);
  }
}

// What the system options record says about sampling, per version and source of the rate.
struct AnnouncedSampling {
  uint64_t interval = 0;
  uint64_t algorithm = 0;   // v9 SAMPLING_ALGORITHM / IPFIX samplingAlgorithm
  uint64_t selector = 0;    // IPFIX selectorAlgorithm (RFC 5477); 0 in v9
  uint64_t size = 0;        // IPFIX samplingSize
  uint64_t population = 0;  // IPFIX samplingPopulation
};

AnnouncedSampling Announced(Version v, uint32_t record_rate, uint32_t set_interval) {
  CaptureTransport capture;
  FlowExporter e(Options(v), capture);
  if (set_interval != 0) e.SetSampling(set_interval, SamplingAlgorithm::kRandom);
  FlowRecord r = RecordA();
  r.sampling_rate = record_rate;
  e.SetTime(kNowMs);
  e.OnFlow(r);
  e.Flush(kNowMs);
  AnnouncedSampling a;
  const auto msgs = DecodeAll(capture);
  if (msgs.empty() || msgs.back().options.empty()) return a;
  const DecodedOptionsRecord& o = msgs.back().options[0];
  auto get = [&o](uint16_t type) { return o.Find(type) ? o.Find(type)->AsUint() : 0; };
  a.interval = get(field::kSamplingInterval);
  a.algorithm = get(field::kSamplingAlgorithm);
  a.selector = get(field::kSelectorAlgorithm);
  a.size = get(field::kSamplingSize);
  a.population = get(field::kSamplingPopulation);
  return a;
}

// Every xflowd sampler picks packets at random: the rate the records carry (a switch's sFlow
// samples) and the host probe's --sampling are announced as random 1-in-N, in v9 (field 35 = 2)
// and in IPFIX (samplingAlgorithm 2; RFC 5477 random n-out-of-N with n = 1 and N = the rate).
TEST(FlowExporterTest, RandomSamplingIsAnnouncedAsRandom) {
  for (uint32_t set : {0u, 512u}) {  // rate from the records; rate set by SetSampling
    const uint32_t rate = set == 0 ? 512 : set;
    const AnnouncedSampling v9 = Announced(Version::kV9, 512, set);
    EXPECT_EQ(v9.interval, rate);
    EXPECT_EQ(v9.algorithm, 2u) << "v9, SetSampling " << set;
    EXPECT_EQ(v9.selector, 0u);  // no RFC 5477 fields in v9
    const AnnouncedSampling ix = Announced(Version::kIpfix, 512, set);
    EXPECT_EQ(ix.interval, rate);
    EXPECT_EQ(ix.algorithm, 2u) << "IPFIX, SetSampling " << set;
    EXPECT_EQ(ix.selector, 3u);  // random n-out-of-N
    EXPECT_EQ(ix.size, 1u);
    EXPECT_EQ(ix.population, rate);
  }
}

// Unsampled (every packet: a capture replayed whole, a probe without --sampling) is announced
// as deterministic 1 in 1: nothing is left to chance.
TEST(FlowExporterTest, UnsampledIsAnnouncedAsDeterministicOneInOne) {
  for (uint32_t set : {0u, 1u}) {
    const AnnouncedSampling v9 = Announced(Version::kV9, 1, set);
    EXPECT_EQ(v9.interval, 1u);
    EXPECT_EQ(v9.algorithm, 1u);
    const AnnouncedSampling ix = Announced(Version::kIpfix, 1, set);
    EXPECT_EQ(ix.interval, 1u);
    EXPECT_EQ(ix.algorithm, 1u);
    EXPECT_EQ(ix.selector, 1u);  // systematic count-based, 1 of 1
    EXPECT_EQ(ix.size, 1u);
    EXPECT_EQ(ix.population, 1u);
  }
}

// Flows that differ only in MACs or the top MPLS entry (split by --flow-key-macs /
// --flow-key-mpls) must be told apart by a collector: v9 and IPFIX carry the fields, and a
// decoder gets every key field back.
TEST(FlowExporterTest, KeyFieldsAreExportedAndRoundTrip) {
  for (Version v : {Version::kV9, Version::kIpfix}) {
    for (int combo = 1; combo < 4; ++combo) {
      CaptureTransport capture;
      ExporterOptions o = Options(v);
      o.key_fields.macs = (combo & 1) != 0;
      o.key_fields.mpls = (combo & 2) != 0;
      FlowExporter e(o, capture);
      e.SetTime(kNowMs);
      std::vector<FlowRecord> sent;
      for (FlowRecord r : {RecordA(), RecordB(), RecordC()}) {
        for (uint8_t i = 0; i < 2; ++i) {  // two records with the same 5-tuple
          if (o.key_fields.macs) {
            SetIp(r.key.src_mac, {0x02, 0, 0, 0, 0, static_cast<uint8_t>(i + 1)});
            SetIp(r.key.dst_mac, {0x33, 0x33, 0, 0, 0, 0xfb});
          }
          if (o.key_fields.mpls) r.key.mpls_top = ((1000u + i) << 12) | (5u << 9) | 0x100;
          sent.push_back(r);
          e.OnFlow(r);
        }
      }
      e.Flush(kNowMs);
      const auto msgs = DecodeAll(capture);
      ASSERT_EQ(msgs.size(), 1u);
      for (const DecodedTemplate& t : msgs[0].templates) {
        if (t.options) continue;
        auto has = [&t](uint16_t type) {
          for (const FieldSpec& f : t.fields) {
            if (f.type == type) return true;
          }
          return false;
        };
        EXPECT_EQ(has(field::kSrcMac), o.key_fields.macs) << "template " << t.id;
        EXPECT_EQ(has(field::kDstMac), o.key_fields.macs) << "template " << t.id;
        EXPECT_EQ(has(field::kMplsTopLabel), o.key_fields.mpls) << "template " << t.id;
      }
      ASSERT_EQ(msgs[0].flows.size(), sent.size());
      for (size_t i = 0; i < sent.size(); ++i) {
        FlowRecord want = Carried(sent[i], v);
        std::memcpy(want.key.src_mac, sent[i].key.src_mac, 6);
        std::memcpy(want.key.dst_mac, sent[i].key.dst_mac, 6);
        want.key.mpls_top = sent[i].key.mpls_top;
        EXPECT_TRUE(SameRecord(msgs[0].flows[i].record, want))
            << "v" << static_cast<int>(v) << " combo " << combo << " record " << i;
      }
    }
  }
}

TEST(FlowExporterTest, ManyInterfacesSpillIntoSeveralMessages) {
  CaptureTransport capture;
  FlowExporter e(Options(Version::kIpfix, 512), capture);
  std::vector<InterfaceName> names;
  for (uint32_t i = 1; i <= 100; ++i) names.push_back({i, "if" + std::to_string(i)});
  e.SetInterfaceNames(names);
  e.Tick(kNowMs);
  ASSERT_GT(capture.datagrams().size(), 5u);
  size_t ifs = 0;
  for (const DecodedMessage& m : DecodeAll(capture)) {
    for (const auto& o : m.options) ifs += o.template_id == kTemplateIdInterfaceOptions;
  }
  EXPECT_EQ(ifs, 100u);
  for (const auto& m : capture.datagrams()) EXPECT_LE(m.size(), 512u);
}

// A transport whose session counter the test moves (a TCP reconnect).
class SessionTransport final : public Transport {
 public:
  bool Send(hal::base::ByteView d) override {
    ++stats_.datagrams_sent;
    datagrams.emplace_back(d.begin(), d.end());
    return true;
  }
  void Poll(hal::base::MonoTime) override {}
  TransportStatus status() const override { return status_; }
  const TransportStats& stats() const override { return stats_; }
  std::string Describe() const override { return "session"; }
  std::string DescribeStats() const override { return ""; }
  void NewSession() { ++status_.stream; }
  std::vector<std::vector<uint8_t>> datagrams;

 private:
  TransportStats stats_;
  TransportStatus status_;
};

TEST(FlowExporterTest, NewSessionSendsTemplatesFirst) {
  SessionTransport t;
  FlowExporter e(Options(Version::kIpfix), t);
  e.SetTime(kNowMs);
  e.OnFlow(RecordA());
  e.Flush(kNowMs);
  e.OnFlow(RecordA());
  e.Flush(kNowMs);
  ASSERT_EQ(t.datagrams.size(), 2u);
  // Reconnect while a message without templates is open: the refresh goes out before it.
  e.OnFlow(RecordA());
  t.NewSession();
  e.Flush(kNowMs);
  ASSERT_EQ(t.datagrams.size(), 4u);
  NetflowDecoder fresh;  // a collector that knows nothing of the old session
  auto first = fresh.Decode(View(t.datagrams[2]));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->templates.size(), 6u);
  EXPECT_EQ(first->sequence, 0u);  // a new stream restarts the IPFIX sequence
  auto second = fresh.Decode(View(t.datagrams[3]));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->skipped_sets, 0u);
  EXPECT_EQ(second->flows.size(), 1u);
  EXPECT_EQ(second->sequence, 1u);
  // Reconnect while idle: Tick sends the refresh at once.
  t.NewSession();
  e.Tick(kNowMs + 1000);
  ASSERT_EQ(t.datagrams.size(), 5u);
  auto third = NetflowDecoder().Decode(View(t.datagrams[4]));
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->templates.size(), 6u);
}

// The IPFIX sequence belongs to the stream a message goes into, not to the one its templates
// were written in: a message opened with a refresh before a reconnect and sent after it starts
// the new stream at 0, and the next one follows on (the wire used to read 2, 0, 2).
TEST(FlowExporterTest, SequenceFollowsTheStreamAMessageGoesInto) {
  SessionTransport t;
  FlowExporter e(Options(Version::kIpfix), t);
  e.SetTime(kNowMs);
  e.OnFlow(RecordA());
  e.Flush(kNowMs);
  e.SetSampling(100, SamplingAlgorithm::kRandom);  // the next message opens with a refresh
  e.OnFlow(RecordA());
  t.NewSession();
  e.Flush(kNowMs);
  e.Tick(kNowMs + 1000);  // the refresh for the new stream
  e.OnFlow(RecordA());
  e.Flush(kNowMs + 1000);
  ASSERT_EQ(t.datagrams.size(), 4u);
  NetflowDecoder fresh;
  std::vector<DecodedMessage> m;
  for (size_t i = 1; i < t.datagrams.size(); ++i) {
    auto d = fresh.Decode(View(t.datagrams[i]));
    ASSERT_TRUE(d.ok()) << i << ": " << d.status().ToString();
    EXPECT_EQ(d->skipped_sets, 0u) << i;
    m.push_back(*d);
  }
  EXPECT_EQ(m[0].sequence, 0u);
  EXPECT_EQ(m[0].flows.size(), 1u);
  EXPECT_EQ(m[1].sequence, m[0].data_record_count);
  EXPECT_EQ(m[2].sequence, m[0].data_record_count + m[1].data_record_count);
}

TEST(FlowExporterTest, CollectorsAreIndependent) {
  CaptureTransport good;
  CaptureTransport bad;
  bad.set_fail(true);
  FlowExporter a(Options(Version::kIpfix), good);
  FlowExporter b(Options(Version::kV9), bad);
  FlowExporter c(Options(Version::kV5), good);
  ExporterSet set({&a, &b, &c});
  set.SetTime(kNowMs);
  for (const FlowRecord& r : MixedRecords(200, true)) set.OnFlow(r);
  set.Flush(kNowMs);
  EXPECT_EQ(a.stats().send_errors, 0u);
  EXPECT_EQ(a.stats().flows_exported, 200u);
  EXPECT_EQ(c.stats().flows_exported, 200u);
  EXPECT_GT(b.stats().send_errors, 0u);
  EXPECT_EQ(b.stats().send_errors, b.stats().datagrams);
  EXPECT_EQ(b.stats().flows_lost, 200u);
  EXPECT_EQ(bad.stats().send_errors, b.stats().datagrams);
  // The v9 sequence still advances over failed sends (the collector sees the gap).
  bad.set_fail(false);
  set.OnFlow(RecordA());
  set.Flush(kNowMs);
  ASSERT_EQ(bad.datagrams().size(), 1u);
  NetflowDecoder d;
  auto m = d.Decode(View(bad.datagrams()[0]));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->sequence, b.stats().datagrams - 1);
}

TEST(FlowExporterTest, ValidateOptions) {
  ExporterOptions o;
  EXPECT_TRUE(ValidateExporterOptions(o).ok());
  o.max_datagram_bytes = 100;
  EXPECT_FALSE(ValidateExporterOptions(o).ok());
  o.max_datagram_bytes = 70000;
  EXPECT_FALSE(ValidateExporterOptions(o).ok());
  o.max_datagram_bytes = 1400;
  o.version = static_cast<Version>(7);
  EXPECT_FALSE(ValidateExporterOptions(o).ok());
  // The constructor clamps: a message never exceeds the clamped size.
  CaptureTransport capture;
  FlowExporter e(Options(Version::kV9, 100), capture);
  EXPECT_EQ(e.options().max_datagram_bytes, kMinDatagramBytes);
}

}  // namespace
}  // namespace xflowd::exporter::netflow
