// The xflowdump core end to end: datagrams in, text / JSON / summaries out, with time driven by
// hand; and RunPcap over a capture file written by the test.
#include "tools/xflowdump/dumper.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "tests/tools/xflowdump/dump_test_util.h"

namespace xflowd::tools::xflowdump {
namespace {

namespace sf = exporter::sflow;
using hal::base::ByteView;
using hal::base::MonoTime;
using hal::base::WallTime;
using testing::Bytes;
using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> lines;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A datagram from 192.0.2.1 with one flow sample (sampled TCP header) and one counter sample.
Bytes SampleDatagram(uint32_t seq) {
  static const Bytes hdr = testing::TcpFrame("10.0.0.1", "10.0.0.2", 443, 50000);
  const sf::FlowRecord rec[] = {
      sf::SampledHeader{sf::kHeaderEthernet, 1500, 4, ByteView(hdr.data(), hdr.size())},
      sf::ExtendedSwitch{100, 0, 200, 0}};
  sf::GenericInterfaceCounters g;
  g.if_index = 3;
  g.if_speed = 10000000000ull;
  g.in_octets = 12345;
  const sf::CounterRecord counters[] = {g, sf::PortName{ByteView("swp3")}};
  return testing::Datagram("192.0.2.1", 0, seq, 60000 + seq, [&](sf::DatagramBuilder& b) {
    sf::FlowSample fs = testing::FlowSampleOn(3, seq, 1000, rec, 2);
    ASSERT_TRUE(b.Add(fs));
    sf::CounterSample cs = testing::CounterSampleOn(3, seq);
    cs.records = counters;
    cs.record_count = 2;
    ASSERT_TRUE(b.Add(cs));
  });
}

DatagramMeta Meta(const Bytes& d, int64_t t_ms) {
  return DatagramMeta{WallTime::FromMs(1767225600000 + t_ms),
                      hal::base::Endpoint{testing::Ip("192.0.2.1"), 40000}, hal::base::Endpoint(),
                      d.size()};
}

DumpOptions Options(OutputMode mode) {
  DumpOptions o;
  o.mode = mode;
  return o;
}

void Feed(Dumper& d, const Bytes& bytes, int64_t t_ms) {
  d.OnDatagram(ByteView(bytes.data(), bytes.size()), Meta(bytes, t_ms), MonoTime::FromMs(t_ms));
}

const Bytes kGarbage = {0, 0, 0, 5, 0, 0, 0, 1, 192, 0, 2, 1};  // cut inside the header

TEST(DumperTest, JsonLinesEndWithASummary) {
  std::ostringstream out;
  Dumper d(Options(OutputMode::kJson), out, false);
  d.Start(MonoTime::FromMs(0));
  Feed(d, SampleDatagram(1), 0);
  Feed(d, SampleDatagram(2), 100);
  Feed(d, SampleDatagram(4), 200);  // datagram 3 lost; samples 3 lost on both streams
  Feed(d, kGarbage, 300);
  d.Finish(MonoTime::FromMs(1500), WallTime::FromMs(1767225601500));
  const std::vector<std::string> lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_THAT(lines[0], HasSubstr(R"({"datagram":{"time":1767225600.000000,"source":)"
                                  R"("192.0.2.1:40000","destination":null,"length":)"));
  EXPECT_THAT(lines[0], HasSubstr(R"("version":5,"agent":"192.0.2.1","sub_agent_id":0,)"
                                  R"("sequence":1,"uptime_ms":60001,"samples":[{"kind":)"
                                  R"("flow_sample","enterprise":0,"format":1,"expanded":false,)"
                                  R"("sequence":1,"source_id":{"type":0,"index":3},)"
                                  R"("sampling_rate":1000,)"));
  EXPECT_THAT(lines[0], HasSubstr(R"("kind":"sampled_header","enterprise":0,"format":1,)"
                                  R"("header_protocol":1,"header_protocol_name":"ethernet",)"
                                  R"("frame_length":1500,"stripped":4,"header_length":54,)"));
  EXPECT_THAT(lines[0], HasSubstr(R"("src_ip":"10.0.0.1","dst_ip":"10.0.0.2","protocol":6,)"));
  EXPECT_THAT(lines[0], HasSubstr(R"("src_port":443,"dst_port":50000,"tcp_flags":16)"));
  EXPECT_THAT(lines[0], HasSubstr(R"({"kind":"extended_switch","enterprise":0,"format":1001,)"
                                  R"("src_vlan":100,"src_priority":0,"dst_vlan":200,)"));
  EXPECT_THAT(lines[0], HasSubstr(R"("kind":"if_counters","enterprise":0,"format":1,)"
                                  R"("if_index":3,"if_type":6,"if_speed":10000000000,)"));
  EXPECT_THAT(lines[0], HasSubstr(R"({"kind":"port_name","enterprise":0,"format":1005,)"
                                  R"("name":"swp3"})"));
  EXPECT_THAT(
      lines[3],
      HasSubstr(R"({"error":{"time":1767225600.300000,)"
                R"("source":"192.0.2.1:40000","destination":null,"length":12,"message":)"
                R"("offset 12: datagram header truncated: sub_agent_id needs 4 bytes, 0 left"}})"));
  const std::string& summary = lines[4];
  EXPECT_THAT(summary, HasSubstr(R"({"summary":{"duration_s":1.500000,"datagrams":3,)"));
  EXPECT_THAT(summary, HasSubstr(R"("samples":{"flow":3,"counter":3,"discard":0,)"
                                 R"("unknown":0},"sequence_gaps":3,"sequence":{"datagram":)"
                                 R"({"checked":2,"gaps":1,"missing":1,)"));
  EXPECT_THAT(summary, HasSubstr(R"("flow_sample":{"checked":2,"gaps":1,"missing":1,)"));
  EXPECT_THAT(summary, HasSubstr(R"("counter_sample":{"checked":2,"gaps":1,"missing":1,)"));
  EXPECT_THAT(summary, HasSubstr(R"("decode_errors":1,"agents":[{"agent":"192.0.2.1",)"));
  EXPECT_THAT(summary, HasSubstr(R"("top_talkers":[{"ip_version":4,"protocol":6,)"
                                 R"("src_ip":"10.0.0.1","src_port":443,"dst_ip":"10.0.0.2",)"
                                 R"("dst_port":50000,"flow":"tcp 10.0.0.1:443 -> )"
                                 R"(10.0.0.2:50000","bytes":4500000,"packets":3000,)"
                                 R"("samples":3}])"));
  EXPECT_THAT(summary, HasSubstr(R"("errors":[{"source":"192.0.2.1:40000","length":12,)"));
  EXPECT_EQ(summary.back(), '}');
  EXPECT_EQ(d.datagrams_seen(), 4u);
}

TEST(DumperTest, JsonSummaryWithoutGaps) {
  std::ostringstream out;
  Dumper d(Options(OutputMode::kJson), out, false);
  for (uint32_t s = 1; s <= 5; ++s) Feed(d, SampleDatagram(s), s * 10);
  d.Finish(MonoTime::FromMs(50), WallTime::FromMs(50));
  const std::vector<std::string> lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_THAT(lines.back(), HasSubstr(R"("sequence_gaps":0,)"));
  EXPECT_THAT(lines.back(), HasSubstr(R"("decode_errors":0,)"));
}

TEST(DumperTest, TextBlocksAndFinalReport) {
  std::ostringstream out;
  DumpOptions o = Options(OutputMode::kText);
  o.hex = true;
  Dumper d(o, out, false);
  Feed(d, SampleDatagram(7), 0);
  Feed(d, kGarbage, 10);
  d.Finish(MonoTime::FromMs(10), WallTime::FromMs(10));
  const std::string s = out.str();
  EXPECT_THAT(s, HasSubstr("2026-01-01T00:00:00.000000Z  192.0.2.1:40000  "));
  EXPECT_THAT(s, HasSubstr("  datagram  agent 192.0.2.1  sub_agent 0  seq 7  uptime 0d "
                           "00:01:00.007  samples 2\n"));
  EXPECT_THAT(s, HasSubstr("  flow_sample  seq 7  ifIndex 3  rate 1:1000  pool 7000  drops 0  "
                           "in 3  out unknown\n"));
  EXPECT_THAT(s, HasSubstr("    sampled_header  ethernet  frame 1500  stripped 4  header 54\n"));
  EXPECT_THAT(s, HasSubstr("      ipv4   10.0.0.1 > 10.0.0.2  proto tcp"));
  EXPECT_THAT(s, HasSubstr("      tcp    443 > 50000  flags ACK\n"));
  EXPECT_THAT(s, HasSubstr("      0000  02 00 00 00 00 02 02 00"));  // -x
  EXPECT_THAT(s, HasSubstr("    extended_switch  in vlan 100 pri 0  out vlan 200 pri 0\n"));
  EXPECT_THAT(s, HasSubstr("  counters_sample  seq 7  ifIndex 3\n"));
  EXPECT_THAT(s, HasSubstr("    if_counters  ifIndex 3  type 6  10 Gb/s"));
  EXPECT_THAT(s, HasSubstr("    port_name  \"swp3\"\n"));
  EXPECT_THAT(s, HasSubstr("  MALFORMED  offset 12: datagram header truncated"));
  EXPECT_THAT(s, HasSubstr("=== xflowdump report"));
  EXPECT_THAT(s, HasSubstr("datagrams  1 decoded"));
  EXPECT_THAT(s, HasSubstr("1 malformed"));
  EXPECT_THAT(s, HasSubstr("malformed datagrams:\n  192.0.2.1:40000 (12 bytes): offset 12"));
}

TEST(DumperTest, SummaryEveryIntervalFromTheTimesGiven) {
  std::ostringstream out;
  DumpOptions o = Options(OutputMode::kSummary);
  o.interval_s = 1;
  Dumper d(o, out, false);
  d.Start(MonoTime::FromMs(0));
  EXPECT_EQ(d.NextTick(), MonoTime::FromMs(1000));
  Feed(d, SampleDatagram(1), 100);
  Feed(d, SampleDatagram(2), 500);
  d.Tick(MonoTime::FromMs(999), WallTime::FromMs(999));
  EXPECT_EQ(out.str(), "");  // nothing printed per datagram, nor before the interval ends
  d.Tick(MonoTime::FromMs(1200), WallTime::FromMs(1767225601200));
  Feed(d, SampleDatagram(4), 1200);
  std::string first = out.str();
  EXPECT_THAT(first, HasSubstr("2026-01-01T00:00:01.000000Z  last 1.0 s:  2.0 datagrams/s  "
                               "2.0 flow samples/s  2.0 counter samples/s  gaps 0\n"));
  EXPECT_THAT(first, HasSubstr("  192.0.2.1          2     2        2        0"));
  EXPECT_THAT(first, HasSubstr(" 1  tcp 10.0.0.1:443 -> 10.0.0.2:50000"));
  EXPECT_EQ(d.NextTick(), MonoTime::FromMs(2000));
  // Quiet until 3.5 s: one summary for the interval with data, none for the empty ones.
  out.str("");
  d.Tick(MonoTime::FromMs(3500), WallTime::FromMs(1767225603500));
  EXPECT_THAT(out.str(), HasSubstr("2026-01-01T00:00:02.000000Z  last 1.0 s:  1.0 datagrams/s"));
  EXPECT_THAT(out.str(), HasSubstr("gaps 3"));
  EXPECT_EQ(d.NextTick(), MonoTime::FromMs(4000));
  out.str("");
  Feed(d, SampleDatagram(5), 3600);
  d.Finish(MonoTime::FromMs(3800), WallTime::FromMs(1767225603800));
  const std::string last = out.str();
  EXPECT_THAT(last, HasSubstr("last 0.8 s:  1.2 datagrams/s"));  // the partial interval
  EXPECT_THAT(last, HasSubstr("=== xflowdump report: 3.800 s"));
  EXPECT_THAT(last, HasSubstr("sequence   3 gaps\n"));
}

TEST(DumperTest, CountAndTimeLimits) {
  std::ostringstream out;
  DumpOptions o = Options(OutputMode::kSummary);
  o.count = 2;
  o.duration_s = 2.5;
  Dumper d(o, out, false);
  d.Start(MonoTime::FromMs(1000));
  EXPECT_EQ(d.Deadline(), MonoTime::FromMs(3500));
  EXPECT_FALSE(d.TimeUp(MonoTime::FromMs(3499)));
  EXPECT_TRUE(d.TimeUp(MonoTime::FromMs(3500)));
  Feed(d, SampleDatagram(1), 1000);
  EXPECT_FALSE(d.CountReached());
  Feed(d, kGarbage, 1001);  // malformed datagrams count too
  EXPECT_TRUE(d.CountReached());
}

// ---------------------------------------------------------------- RunPcap

class RunPcapTest : public ::testing::Test {
 protected:
  std::string WriteFile(const testing::PcapFile& w) {
    const std::string path = ::testing::TempDir() + "xflowdump_" +
                             ::testing::UnitTest::GetInstance()->current_test_info()->name() +
                             ".pcap";
    std::ofstream f(path, std::ios::binary);
    f << w.str();
    paths_.push_back(path);
    return path;
  }
  void TearDown() override {
    for (const auto& p : paths_) std::remove(p.c_str());
  }
  std::vector<std::string> paths_;
};

testing::PcapFile Capture() {
  testing::PcapFile w(1);  // LINKTYPE_ETHERNET
  uint32_t t = 1767225600;
  for (uint32_t seq = 1; seq <= 6; ++seq) {
    if (seq == 4) continue;  // lost
    w.Add(t + seq, 0,
          testing::Ethernet(0x0800, testing::Ipv4Udp("192.0.2.1", "192.0.2.100", 40000, 6343,
                                                     SampleDatagram(seq))));
  }
  // Not sFlow: another port, ARP, and a malformed datagram on the sFlow port.
  w.Add(
      t + 7, 0,
      testing::Ethernet(0x0800, testing::Ipv4Udp("192.0.2.1", "192.0.2.100", 1, 53, {1, 2, 3, 4})));
  w.Add(t + 7, 1, testing::Ethernet(0x0806, Bytes(28, 0)));
  w.Add(
      t + 8, 0,
      testing::Ethernet(0x86dd, testing::Ipv6Udp("2001:db8::9", "2001:db8::1", 7, 6343, kGarbage)));
  return w;
}

TEST_F(RunPcapTest, DecodesTheCaptureAndReportsWhatItSkipped) {
  DumpOptions o = Options(OutputMode::kJson);
  o.read_file = WriteFile(Capture());
  std::ostringstream out;
  ASSERT_TRUE(RunPcap(o, out).ok());
  const std::vector<std::string> lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 7u);  // 5 datagrams, 1 error, the summary
  EXPECT_THAT(lines[0], HasSubstr(R"("source":"192.0.2.1:40000",)"
                                  R"("destination":"192.0.2.100:6343","length":304,)"));
  EXPECT_THAT(lines[5], HasSubstr(R"({"error":{"time":1767225608.000000,)"
                                  R"("source":"[2001:db8::9]:7",)"
                                  R"("destination":"[2001:db8::1]:6343","length":12,)"));
  const std::string& s = lines[6];
  EXPECT_THAT(s, HasSubstr(R"("duration_s":7.000000,"datagrams":5,)"));
  EXPECT_THAT(s, HasSubstr(R"("sequence_gaps":3,)"));
  EXPECT_THAT(s, HasSubstr(R"("decode_errors":1,)"));
  EXPECT_THAT(s, HasSubstr(R"("agent":"192.0.2.1","sub_agent_id":0,)"
                           R"("collector":"192.0.2.100:6343",)"));
  EXPECT_THAT(s, HasSubstr(R"("input":{"kind":"pcap","name":")" + o.read_file +
                           R"(","link_type":1,"packets":8,"udp":7,"other_port":1,)"
                           R"("skipped":{"not_ip":1,"not_udp":0,)"));
  EXPECT_THAT(s, HasSubstr(R"("file_truncated":false}}})"));
}

TEST_F(RunPcapTest, PortAndCountOptions) {
  DumpOptions o = Options(OutputMode::kJson);
  o.read_file = WriteFile(Capture());
  o.port = 53;
  std::ostringstream out;
  ASSERT_TRUE(RunPcap(o, out).ok());
  std::vector<std::string> lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 2u);  // the DNS-port datagram is malformed sFlow
  EXPECT_THAT(lines[0], HasSubstr(R"({"error":)"));

  o.port = 6343;
  o.count = 2;
  out.str("");
  ASSERT_TRUE(RunPcap(o, out).ok());
  lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_THAT(lines[2], HasSubstr(R"("datagrams":2,)"));
}

TEST_F(RunPcapTest, TimeLimitUsesCaptureTime) {
  DumpOptions o = Options(OutputMode::kSummary);
  o.read_file = WriteFile(Capture());
  o.duration_s = 2;  // datagrams at +1 s and +2 s are in; +3 s is the limit
  std::ostringstream out;
  ASSERT_TRUE(RunPcap(o, out).ok());
  EXPECT_THAT(out.str(), HasSubstr("datagrams  2 decoded"));
}

TEST_F(RunPcapTest, ErrorsForFilesItCannotRead) {
  DumpOptions o = Options(OutputMode::kText);
  o.read_file = "/nonexistent/x.pcap";
  std::ostringstream out;
  EXPECT_THAT(RunPcap(o, out).message(), HasSubstr("cannot open capture file"));
  o.read_file = WriteFile(testing::PcapFile(147));  // LINKTYPE_USER0
  EXPECT_THAT(RunPcap(o, out).message(), HasSubstr("link type 147 is not supported"));
  EXPECT_THAT(out.str(), Not(HasSubstr("report")));
}

// Reported in full, then an error (exit status 1), as xflowd -r does with a cut capture.
TEST_F(RunPcapTest, ATruncatedFileIsReportedThenFails) {
  testing::PcapFile w = Capture();
  Bytes bytes = w.bytes();
  bytes.resize(bytes.size() - 5);
  const std::string path = ::testing::TempDir() + "xflowdump_truncated.pcap";
  {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  }
  paths_.push_back(path);
  DumpOptions o = Options(OutputMode::kText);
  o.read_file = path;
  std::ostringstream out;
  const hal::base::Status st = RunPcap(o, out);
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("the file ends inside a packet"));
  EXPECT_THAT(out.str(), HasSubstr("the file ends inside a packet"));
}

}  // namespace
}  // namespace xflowd::tools::xflowdump
