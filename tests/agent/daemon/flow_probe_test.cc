// The -r path end to end on crafted captures: PcapFileSource -> FlowProbe (meter, cache,
// exporters) -> captured datagrams -> our decoder. Each timer of the flow cache is checked on
// a capture made for it, the way `xflowd -r` runs it.
#ifdef XFLOWD_HAVE_PCAP

#include "agent/daemon/flow_probe.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "exporter/netflow/netflow_decoder.h"
#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "hal/pcap/pcap_file_source.h"
#include "sim/packet_builder.h"
#include "sim/pcap_writer.h"
#include "sim/sim_switch.h"
#include "tests/support/capture_transport.h"
#include "tests/support/temp_dir.h"

namespace xflowd::agent::daemon {
namespace {

using exporter::netflow::EndReason;
using exporter::netflow::FlowRecord;
using exporter::netflow::NetflowDecoder;
using xflowd::testing::CaptureTransport;

constexpr int64_t kStartNs = 1767225600LL * 1000000000LL;  // 2026-01-01
constexpr int64_t kSecondNs = 1000000000LL;

using xflowd::testing::TempDir;

sim::PacketSpec Udp(uint8_t host, uint16_t sport) {
  sim::PacketSpec s;
  s.protocol = sim::kIpProtoUdp;
  s.src_ip[0] = 10, s.src_ip[3] = host;
  s.dst_ip[0] = 192, s.dst_ip[1] = 0, s.dst_ip[2] = 2, s.dst_ip[3] = 1;
  s.src_port = sport;
  s.dst_port = 53;
  return s;
}

sim::PacketSpec Tcp(uint8_t host, uint16_t sport, uint8_t flags) {
  sim::PacketSpec s = Udp(host, sport);
  s.protocol = sim::kIpProtoTcp;
  s.dst_port = 443;
  s.tcp_flags = flags;
  return s;
}

// A capture written packet by packet; frames are whole (caplen = length) unless cut.
class Capture {
 public:
  explicit Capture(const std::string& path) : path_(path) {
    writer_ = std::move(sim::PcapWriter::Create(path).value());
  }
  // Writes one frame of `frame_length` bytes at `t_ns`; returns its IP bytes.
  uint32_t Add(const sim::PacketSpec& spec, uint32_t frame_length, int64_t t_ns,
               uint32_t caplen = 0) {
    uint8_t buf[2048];
    size_t n = sim::BuildFrame(spec, frame_length, buf, sizeof(buf));
    EXPECT_EQ(n, frame_length);
    size_t keep = caplen ? caplen : n;
    EXPECT_TRUE(writer_->Write(t_ns, hal::base::ByteView(buf, keep), frame_length).ok());
    return frame_length - sim::L2HeaderLength(spec);
  }
  void AddRaw(const uint8_t* bytes, size_t n, uint32_t original, int64_t t_ns) {
    EXPECT_TRUE(writer_->Write(t_ns, hal::base::ByteView(bytes, n), original).ok());
  }
  void Close() { EXPECT_TRUE(writer_->Close().ok()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::unique_ptr<sim::PcapWriter> writer_;
};

struct Result {
  std::vector<FlowRecord> flows;
  std::vector<exporter::netflow::DecodedMessage> messages;
  agent::flow::FlowMeterStats meter;
  std::string read_error;
  FileRunStats run;
};

// Runs `xflowd -r path -n 127.0.0.1:2055/<version>` with the given cache settings.
Result Replay(const std::string& path, uint8_t version, uint32_t cache_size = 262144) {
  config::FlowConfig o;
  o.collectors.push_back({*hal::base::Endpoint::Parse("127.0.0.1:2055", 2055), version});
  o.cache_size = cache_size;
  FlowProbeSettings fs;
  fs.system_init_unix_ms = kStartNs / 1000000;
  CaptureTransport* capture = nullptr;
  fs.make_transport = [&capture](const config::FlowCollector&) {
    auto t = std::make_unique<CaptureTransport>();
    capture = t.get();
    return hal::base::Result<std::unique_ptr<exporter::Transport>>(std::move(t));
  };
  hal::base::Logger logger = hal::base::Logger::Null();
  auto probe = FlowProbe::Create(o, fs, logger);
  EXPECT_TRUE(probe.ok()) << probe.status().ToString();
  auto src = hal::pcap::PcapFileSource::Create(path);
  EXPECT_TRUE(src.ok()) << src.status().ToString();
  Result r;
  if (!probe.ok() || !src.ok()) return r;
  hal::pcap::PcapFileSource& s = **src;
  r.run = (*probe)->RunToEnd(s, [&s] { return s.done(); });
  r.meter = (*probe)->meter().stats();
  r.read_error = s.read_error();
  NetflowDecoder decoder;
  for (const auto& d : capture->datagrams()) {
    auto m = decoder.Decode(hal::base::ByteView(d.data(), d.size()));
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    if (!m.ok()) continue;
    for (const auto& f : m->flows) r.flows.push_back(f.record);
    r.messages.push_back(*m);
  }
  return r;
}

TEST(FlowProbeCaptureTest, TwentySecondGapSplitsAtTheInactiveTimeout) {
  TempDir dir;
  Capture cap(dir.File("gap.pcap"));
  uint64_t bytes_before = 0, bytes_after = 0;
  for (int i = 0; i < 10; ++i) bytes_before += cap.Add(Udp(1, 1000), 200, kStartNs + i * kSecondNs);
  for (int i = 0; i < 10; ++i) {
    bytes_after += cap.Add(Udp(1, 1000), 300, kStartNs + (29 + i) * kSecondNs);
  }
  cap.Close();
  Result r = Replay(cap.path(), 10);
  ASSERT_EQ(r.flows.size(), 2u);
  EXPECT_EQ(r.flows[0].packets, 10u);
  EXPECT_EQ(r.flows[0].bytes, bytes_before);
  EXPECT_EQ(r.flows[0].end_reason, EndReason::kIdleTimeout);
  EXPECT_EQ(r.flows[0].first_ms, static_cast<uint64_t>(kStartNs / 1000000));
  EXPECT_EQ(r.flows[0].last_ms, static_cast<uint64_t>(kStartNs / 1000000 + 9000));
  EXPECT_EQ(r.flows[1].packets, 10u);
  EXPECT_EQ(r.flows[1].bytes, bytes_after);
  EXPECT_EQ(r.flows[1].end_reason, EndReason::kForcedEnd);  // the end of the file
  // The summary's "s of packet time": first to last packet, not first batch to last.
  EXPECT_EQ(r.run.first.ns(), static_cast<int64_t>(kStartNs));
  EXPECT_EQ((r.run.last - r.run.first).count(), 38 * static_cast<int64_t>(kSecondNs));
}

TEST(FlowProbeCaptureTest, TwoHourFlowSplitsAtActiveTimeoutBoundaries) {
  TempDir dir;
  Capture cap(dir.File("long.pcap"));
  for (int i = 0; i <= 7200; ++i) cap.Add(Tcp(2, 2000, 0x10), 100, kStartNs + i * kSecondNs);
  cap.Close();
  Result r = Replay(cap.path(), 10);
  ASSERT_EQ(r.flows.size(), 5u);
  uint64_t packets = 0;
  for (size_t i = 0; i < r.flows.size(); ++i) {
    const FlowRecord& f = r.flows[i];
    packets += f.packets;
    EXPECT_LT(f.last_ms - f.first_ms, 1800u * 1000) << i;
    EXPECT_EQ(f.first_ms, static_cast<uint64_t>(kStartNs / 1000000 + i * 1800 * 1000)) << i;
    EXPECT_EQ(f.end_reason, i < 4 ? EndReason::kActiveTimeout : EndReason::kForcedEnd) << i;
  }
  EXPECT_EQ(packets, 7201u);
  EXPECT_EQ((r.run.last - r.run.first).count(), 7200 * static_cast<int64_t>(kSecondNs));
}

TEST(FlowProbeCaptureTest, FinAndRstEndFlowsWithReasonThree) {
  TempDir dir;
  Capture cap(dir.File("finrst.pcap"));
  for (int i = 0; i < 5; ++i) cap.Add(Tcp(3, 3000, 0x10), 100, kStartNs + i * 100000000LL);
  cap.Add(Tcp(3, 3000, 0x11), 100, kStartNs + 5 * 100000000LL);  // FIN+ACK
  for (int i = 0; i < 3; ++i) cap.Add(Tcp(4, 4000, 0x10), 100, kStartNs + i * 100000000LL);
  cap.Add(Tcp(4, 4000, 0x04), 100, kStartNs + 3 * 100000000LL);  // RST
  cap.Add(Tcp(5, 5000, 0x10), 100, kStartNs + 2 * kSecondNs);    // goes on past them
  cap.Close();
  Result r = Replay(cap.path(), 10);
  std::map<uint16_t, FlowRecord> by_port;
  for (const FlowRecord& f : r.flows) by_port[f.key.src_port] = f;
  ASSERT_EQ(by_port.size(), 3u);
  EXPECT_EQ(by_port[3000].packets, 6u);  // the FIN packet is in the record it ends
  EXPECT_EQ(by_port[3000].end_reason, EndReason::kEndOfFlow);
  EXPECT_EQ(by_port[3000].tcp_flags & 0x01, 0x01);
  EXPECT_EQ(by_port[4000].packets, 4u);
  EXPECT_EQ(by_port[4000].end_reason, EndReason::kEndOfFlow);
  EXPECT_EQ(by_port[5000].end_reason, EndReason::kForcedEnd);
}

TEST(FlowProbeCaptureTest, FullCacheEvictsWithReasonFiveAndKeepsTotals) {
  TempDir dir;
  Capture cap(dir.File("many.pcap"));
  uint64_t bytes = 0;
  // 5,000 concurrent flows, 4 packets each, round robin over 4 seconds.
  for (int round = 0; round < 4; ++round) {
    for (int f = 0; f < 5000; ++f) {
      bytes += cap.Add(Udp(static_cast<uint8_t>(f % 250 + 1), static_cast<uint16_t>(10000 + f)),
                       120, kStartNs + round * kSecondNs + f * 100000LL);
    }
  }
  cap.Close();
  Result r = Replay(cap.path(), 9, 1000);
  uint64_t packets = 0, got_bytes = 0;
  for (const FlowRecord& f : r.flows) {
    packets += f.packets;
    got_bytes += f.bytes;
  }
  EXPECT_EQ(packets, 20000u);
  EXPECT_EQ(got_bytes, bytes);
  EXPECT_GT(r.meter.evictions, 0u);
  EXPECT_EQ(r.meter.records_by_reason[5], r.meter.evictions);
  EXPECT_EQ(r.meter.active_flows, 0u);
}

TEST(FlowProbeCaptureTest, SequenceNumbersPerVersion) {
  TempDir dir;
  Capture cap(dir.File("seq.pcap"));
  for (int f = 0; f < 300; ++f) {
    cap.Add(Udp(static_cast<uint8_t>(f % 200 + 1), static_cast<uint16_t>(20000 + f)), 100,
            kStartNs + f * 1000000LL);
  }
  cap.Close();
  for (uint8_t version : {5, 9, 10}) {
    Result r = Replay(cap.path(), version);
    ASSERT_GT(r.messages.size(), 3u) << int(version);
    uint64_t flows_before = 0, data_before = 0;
    for (size_t i = 0; i < r.messages.size(); ++i) {
      const auto& m = r.messages[i];
      if (version == 5) {
        EXPECT_EQ(m.sequence, flows_before) << "v5 message " << i;  // flows before
        EXPECT_EQ(m.count, m.flows.size());
      } else if (version == 9) {
        EXPECT_EQ(m.sequence, i) << "v9 message " << i;  // packets before
        EXPECT_EQ(m.count, m.record_count);              // templates and options records included
      } else {
        EXPECT_EQ(m.sequence, data_before) << "IPFIX message " << i;  // data records before
      }
      flows_before += m.flows.size();
      data_before += m.data_record_count;
    }
    EXPECT_EQ(flows_before, 300u) << int(version);
  }
}

TEST(FlowProbeCaptureTest, BadInputIsCountedAndEarlierFlowsAreStillExported) {
  TempDir dir;
  Capture cap(dir.File("bad.pcap"));
  const uint32_t good = cap.Add(Udp(9, 9000), 200, kStartNs);
  // Cut to 20 bytes: the IP header is not all there.
  cap.Add(Udp(9, 9001), 200, kStartNs + 1000000, 20);
  // IPv4 total length larger than the frame: 100-byte frame that says 1000.
  {
    uint8_t buf[200];
    sim::PacketSpec s = Udp(9, 9002);
    size_t n = sim::BuildFrame(s, 100, buf, sizeof(buf));
    buf[14 + 2] = 0x03, buf[14 + 3] = 0xe8;
    cap.AddRaw(buf, n, 100, kStartNs + 2000000);
  }
  // IPv6 with payload length 0 and a UDP header after it.
  {
    uint8_t buf[200];
    sim::PacketSpec s = Udp(9, 9003);
    s.ip_version = 6;
    s.src_ip[0] = 0xfd, s.dst_ip[0] = 0xfd, s.dst_ip[15] = 1;
    size_t n = sim::BuildFrame(s, 120, buf, sizeof(buf));
    buf[14 + 4] = 0, buf[14 + 5] = 0;
    cap.AddRaw(buf, n, 120, kStartNs + 3000000);
  }
  // A later IPv4 fragment: counted, metered without ports.
  {
    uint8_t buf[200];
    sim::PacketSpec s = Udp(9, 9004);
    s.dont_fragment = false;
    size_t n = sim::BuildFrame(s, 120, buf, sizeof(buf));
    buf[14 + 6] = 0x00, buf[14 + 7] = 0x10;  // offset 16 x 8 bytes
    cap.AddRaw(buf, n, 120, kStartNs + 4000000);
  }
  cap.Close();
  // A record header that cannot be right after the good records: caplen 0x7fffffff.
  {
    FILE* f = std::fopen(cap.path().c_str(), "ab");
    ASSERT_NE(f, nullptr);
    const uint32_t hdr[4] = {1767225601u, 0, 0x7fffffffu, 0x7fffffffu};
    std::fwrite(hdr, sizeof(hdr), 1, f);
    std::fclose(f);
  }
  Result r = Replay(cap.path(), 10);
  EXPECT_FALSE(r.read_error.empty());
  EXPECT_EQ(r.meter.packets, 5u);
  EXPECT_EQ(r.meter.truncated, 1u);
  EXPECT_EQ(r.meter.bad_length, 1u);
  EXPECT_EQ(r.meter.ipv6_zero_length, 1u);
  EXPECT_EQ(r.meter.fragments, 1u);
  ASSERT_EQ(r.flows.size(), 2u);  // the good flow and the fragment's own flow
  bool found_good = false;
  for (const FlowRecord& f : r.flows) {
    if (f.key.src_port == 9000) {
      found_good = true;
      EXPECT_EQ(f.bytes, good);
      EXPECT_EQ(f.end_reason, EndReason::kForcedEnd);
    } else {
      EXPECT_EQ(f.key.src_port, 0);  // a later fragment has no ports
    }
  }
  EXPECT_TRUE(found_good);
}

// One stream, two outputs: the switch's sFlow samples (1-in-1000 from its ASIC) feed the flow
// cache as they are. Counts stay unscaled; every record and the options data say the rate.
TEST(FlowProbeSimTest, SampledSwitchTrafficCarriesItsRate) {
  sim::SimConfig c;
  c.num_ports = 4;
  c.seed = 3;
  const hal::base::MonoTime start = hal::base::MonoTime::FromSeconds(100);
  auto sw = std::move(sim::SimSwitch::Create(c, start).value());
  for (uint32_t port = 1; port <= 4; ++port) {
    ASSERT_TRUE(sw->SetSamplingRate(port, hal::Direction::kIngress, 1000, 128).ok());
  }
  config::FlowConfig o;
  o.collectors.push_back({*hal::base::Endpoint::Parse("127.0.0.1:4739", 4739), 10});
  FlowProbeSettings fs;
  fs.unix_offset_ms = kStartNs / 1000000 - start.ms();
  fs.system_init_unix_ms = kStartNs / 1000000;
  CaptureTransport* capture = nullptr;
  fs.make_transport = [&capture](const config::FlowCollector&) {
    auto t = std::make_unique<CaptureTransport>();
    capture = t.get();
    return hal::base::Result<std::unique_ptr<exporter::Transport>>(std::move(t));
  };
  hal::base::Logger logger = hal::base::Logger::Null();
  auto probe = FlowProbe::Create(o, fs, logger);
  ASSERT_TRUE(probe.ok()) << probe.status().ToString();
  hal::base::MonoTime now = start;
  for (int s = 0; s < 20; ++s) {
    for (int step = 0; step < 10; ++step) {
      now += hal::base::milliseconds(100);
      sw->AdvanceTo(now);
      while (sw->Drain(**probe, 4096) > 0) {
      }
    }
    (*probe)->Tick(now);
  }
  (*probe)->Finish(now);
  const auto m = (*probe)->meter().stats();
  ASSERT_GT(m.metered, 1000u);
  NetflowDecoder decoder;
  uint64_t packets = 0;
  bool saw_rate = false;
  for (const auto& d : capture->datagrams()) {
    auto msg = decoder.Decode(hal::base::ByteView(d.data(), d.size()));
    ASSERT_TRUE(msg.ok()) << msg.status().ToString();
    for (const auto& f : msg->flows) {
      packets += f.record.packets;
      EXPECT_EQ(f.record.sampling_rate, 1000u);  // from the options data
    }
    for (const auto& opt : msg->options) {
      // Before the first sample the rate is unknown (1); then it is the switch's.
      const auto* v = opt.Find(exporter::netflow::field::kSamplingInterval);
      if (v != nullptr && v->AsUint() == 1000u) saw_rate = true;
    }
  }
  EXPECT_TRUE(saw_rate);
  EXPECT_EQ(packets, m.metered);  // unscaled: one sample, one packet
}

// Losses reach RecordsLost (the -r exit status) and the summary, per collector.
TEST(FlowProbeTest, LossesShowInTheSummaryAndRecordsLost) {
  config::FlowConfig o;
  o.collectors.push_back({*hal::base::Endpoint::Parse("127.0.0.1:4739", 4739), 10});
  o.collectors.push_back({*hal::base::Endpoint::Parse("127.0.0.1:4740", 4740), 10});
  FlowProbeSettings fs;
  std::vector<CaptureTransport*> captures;
  fs.make_transport = [&captures](const config::FlowCollector&) {
    auto t = std::make_unique<CaptureTransport>();
    captures.push_back(t.get());
    return hal::base::Result<std::unique_ptr<exporter::Transport>>(std::move(t));
  };
  hal::base::Logger logger = hal::base::Logger::Null();
  auto probe = FlowProbe::Create(o, fs, logger);
  ASSERT_TRUE(probe.ok()) << probe.status().ToString();
  ASSERT_EQ(captures.size(), 2u);
  hal::PacketSample sample;
  uint8_t frame[128];
  const size_t n = sim::BuildFrame(Udp(1, 1000), sizeof(frame), frame, sizeof(frame));
  sample.header = hal::base::ByteView(frame, n);
  sample.frame_length = static_cast<uint32_t>(n);
  sample.timestamp = hal::base::MonoTime::FromNs(kStartNs);
  (*probe)->OnSample(sample);
  (*probe)->Finish(sample.timestamp + hal::base::seconds(1));
  EXPECT_FALSE((*probe)->RecordsLost()) << (*probe)->Summary();
  // Lost after the transport took it (an ICMP refusal, a lost connection).
  captures[0]->AddLost(1);
  EXPECT_TRUE((*probe)->RecordsLost());
  EXPECT_NE((*probe)->Summary().find("1 messages lost after sending"), std::string::npos)
      << (*probe)->Summary();

  captures[1]->set_fail(true);
  (*probe)->OnSample(sample);
  (*probe)->Finish(sample.timestamp + hal::base::seconds(2));
  EXPECT_TRUE((*probe)->RecordsLost());
  const std::string summary = (*probe)->Summary();
  EXPECT_NE(summary.find("capture: up, 2 records in 2 messages, 0 send errors, 0 records lost"),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find("1 send errors, 1 records lost"), std::string::npos) << summary;
}

int ListenTcp(uint16_t* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0 || listen(fd, 4) != 0) {
    close(fd);
    return -1;
  }
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return fd;
}

int AcceptWithin5s(int listener) {
  pollfd p = {listener, POLLIN, 0};
  if (poll(&p, 1, 5000) != 1) return -1;
  return accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
}

// What the collector has received so far (loopback delivers at once), as IPFIX messages.
std::vector<exporter::netflow::DecodedMessage> ReadStream(int fd) {
  std::vector<uint8_t> bytes;
  uint8_t buf[65536];
  for (;;) {
    const ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n <= 0) break;
    bytes.insert(bytes.end(), buf, buf + n);
  }
  std::vector<exporter::netflow::DecodedMessage> out;
  NetflowDecoder decoder;  // a collector per stream
  size_t at = 0;
  while (bytes.size() - at >= 4) {
    const size_t len = (size_t{bytes[at + 2]} << 8) | bytes[at + 3];
    if (len < 16 || bytes.size() - at < len) break;
    auto m = decoder.Decode(hal::base::ByteView(bytes.data() + at, len));
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    if (m.ok()) out.push_back(*m);
    at += len;
  }
  EXPECT_EQ(at, bytes.size()) << "a message cut short";
  return out;
}

// Each stream a collector reads starts with the templates and sequence 0, and each message's
// sequence is the previous one's plus its data records (RFC 7011 sec 3.1 and 10.4), including
// what was exported before the first connect completed; each state change is logged once.
TEST(FlowProbeTcpTest, EachStreamStartsWithTemplatesAndSequenceZero) {
  uint16_t port = 0;
  int listener = ListenTcp(&port);
  ASSERT_GE(listener, 0);
  sim::SimConfig c;
  c.num_ports = 4;
  c.seed = 5;
  const hal::base::MonoTime start = hal::base::MonoTime::FromSeconds(100);
  auto sw = std::move(sim::SimSwitch::Create(c, start).value());
  for (uint32_t p = 1; p <= 4; ++p) {
    ASSERT_TRUE(sw->SetSamplingRate(p, hal::Direction::kIngress, 1000, 128).ok());
  }
  config::FlowConfig o;
  o.collectors.push_back(
      {*hal::base::Endpoint::Parse("127.0.0.1:" + std::to_string(port), port), 10, true});
  o.inactive_timeout_s = 1;
  hal::base::ManualClock clock(start);
  FlowProbeSettings fs;
  fs.unix_offset_ms = kStartNs / 1000000 - start.ms();
  fs.system_init_unix_ms = kStartNs / 1000000;
  fs.clock = &clock;
  std::vector<std::string> lines;
  hal::base::Logger logger(
      [&lines](hal::base::LogLevel, const std::string& l) { lines.push_back(l); });
  auto probe = FlowProbe::Create(o, fs, logger);
  ASSERT_TRUE(probe.ok()) << probe.status().ToString();
  hal::base::MonoTime now = start;
  auto run = [&](int seconds) {
    for (int s = 0; s < seconds; ++s) {
      for (int step = 0; step < 10; ++step) {
        now += hal::base::milliseconds(100);
        clock.Set(now);
        sw->AdvanceTo(now);
        while (sw->Drain(**probe, 4096) > 0) {
        }
      }
      (*probe)->Tick(now);
    }
  };
  auto check = [](const std::vector<exporter::netflow::DecodedMessage>& stream) {
    ASSERT_GE(stream.size(), 2u);
    EXPECT_EQ(stream[0].templates.size(), 6u);
    uint32_t expected = 0;
    size_t flows = 0;
    for (size_t i = 0; i < stream.size(); ++i) {
      EXPECT_EQ(stream[i].sequence, expected) << "message " << i;
      EXPECT_EQ(stream[i].skipped_sets, 0u) << "message " << i;
      expected += stream[i].data_record_count;
      flows += stream[i].flows.size();
    }
    EXPECT_GT(flows, 0u);
  };
  run(3);
  int c1 = AcceptWithin5s(listener);
  ASSERT_GE(c1, 0);
  const auto first = ReadStream(c1);
  check(first);
  close(c1);
  run(4);  // notices the close, backs off 1 s, reconnects
  int c2 = AcceptWithin5s(listener);
  ASSERT_GE(c2, 0);
  run(2);
  const auto second = ReadStream(c2);
  check(second);
  close(c2);
  close(listener);
  const std::string name = "tcp 127.0.0.1:" + std::to_string(port);
  int connected = 0;
  int lost = 0;
  for (const std::string& l : lines) {
    if (l.find(name + ": connected") != std::string::npos) ++connected;
    if (l.find(name + ": connection lost") != std::string::npos) ++lost;
  }
  EXPECT_EQ(connected, 2);
  EXPECT_EQ(lost, 1);
}

}  // namespace
}  // namespace xflowd::agent::daemon

#endif  // XFLOWD_HAVE_PCAP
