// `xflowd -r` on two threads (FlowProbe::RunToEndPipelined) against one thread (RunToEnd): the
// same capture through the mapped reader, every record exported, decoded and compared. The
// pipeline must give exactly the one-thread records (decision D51): same flows, packets,
// bytes, times and end reasons, on traffic that exercises every way a flow ends (idle and
// active timeouts, FIN/RST, a full cache) and packets the meter refuses.
#include "agent/daemon/flow_pipeline.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "agent/daemon/flow_probe.h"
#include "exporter/netflow/netflow_decoder.h"
#include "hal/base/log.h"
#include "hal/base/prng.h"
#include "hal/capfile/mapped_file_source.h"
#include "sim/packet_builder.h"
#include "tests/support/capture_transport.h"
#include "tests/support/frames.h"

namespace xflowd::agent::daemon {
namespace {

using exporter::netflow::FlowRecord;
using xflowd::testing::Bytes;
using xflowd::testing::CaptureTransport;

constexpr int64_t kStartNs = 1767225600LL * 1000000000LL;

// A classic pcap of `packets` frames over `flows` flows (seeded), ~120 s of packet time with
// pauses long enough for idle splits, TCP flows that end with FIN or RST, some ARP frames.
Bytes MakeCapture(uint32_t packets, uint32_t flows, uint64_t seed) {
  xflowd::testing::PcapFile w(1);
  hal::base::Prng prng(seed);
  int64_t t = kStartNs;
  uint8_t buf[256];
  for (uint32_t i = 0; i < packets; ++i) {
    t += prng.Uniform(0, 2000) * 1000LL * 6;                 // mean 6 ms: 20k packets ~ 120 s
    if (prng.Uniform(0, 9999) == 0) t += 20LL * 1000000000;  // a 20 s pause: idle splits
    const uint32_t f = prng.Uniform(0, flows - 1);
    sim::PacketSpec s;
    s.protocol = f % 3 == 0 ? sim::kIpProtoUdp : sim::kIpProtoTcp;
    s.ip_version = f % 5 == 0 ? 6 : 4;
    s.src_ip[0] = s.ip_version == 4 ? 10 : 0xfd;
    s.src_ip[2] = static_cast<uint8_t>(f >> 8);
    s.src_ip[3] = static_cast<uint8_t>(f);
    s.dst_ip[0] = s.ip_version == 4 ? 192 : 0xfd;
    s.dst_ip[3] = 1;
    s.src_port = static_cast<uint16_t>(1024 + f);
    s.dst_port = 443;
    const uint32_t r = prng.Uniform(0, 99);
    s.tcp_flags = r == 0 ? 0x11 : (r == 1 ? 0x04 : 0x10);  // FIN+ACK, RST, ACK
    const uint32_t length = 64 + prng.Uniform(0, 1400);
    size_t n;
    if (prng.Uniform(0, 499) == 0) {  // not IP: counted by the reader thread's meter
      const Bytes arp = xflowd::testing::Ethernet(0x0806, Bytes(28, 1));
      w.Add(static_cast<uint32_t>(t / 1000000000), static_cast<uint32_t>(t % 1000000000 / 1000),
            arp);
      continue;
    }
    n = sim::BuildFrame(s, length, buf, sizeof(buf));
    const size_t keep = std::min<size_t>(n, 128);
    w.Add(static_cast<uint32_t>(t / 1000000000), static_cast<uint32_t>(t % 1000000000 / 1000),
          Bytes(buf, buf + keep), length);
  }
  return w.bytes();
}

struct Replayed {
  std::vector<std::string> records;  // one line per record, sorted
  flow::FlowMeterStats meter;
  FileRunStats stats;
  uint64_t exported = 0;
};

Replayed Replay(const Bytes& capture, bool pipelined, uint32_t cache_size) {
  config::FlowConfig o;
  o.collectors.push_back({*hal::base::Endpoint::Parse("127.0.0.1:4739", 4739), 10});
  o.cache_size = cache_size;
  o.active_timeout_s = 30;
  FlowProbeSettings fs;
  fs.system_init_unix_ms = kStartNs / 1000000;
  CaptureTransport* capture_t = nullptr;
  fs.make_transport = [&capture_t](const config::FlowCollector&) {
    auto t = std::make_unique<CaptureTransport>();
    capture_t = t.get();
    return hal::base::Result<std::unique_ptr<exporter::Transport>>(std::move(t));
  };
  hal::base::Logger logger = hal::base::Logger::Null();
  auto probe = FlowProbe::Create(o, fs, logger);
  EXPECT_TRUE(probe.ok()) << probe.status().ToString();
  auto src = hal::capfile::MappedFileSource::FromBytes(
      hal::base::ByteView(capture.data(), capture.size()), "test.pcap");
  EXPECT_TRUE(src.ok()) << src.status().ToString();
  Replayed r;
  if (!probe.ok() || !src.ok()) return r;
  hal::capfile::MappedFileSource& s = **src;
  if (pipelined) {
    r.stats = (*probe)->RunToEndPipelined(
        s, [&s] { return s.done(); }, [] {});
  } else {
    r.stats = (*probe)->RunToEnd(s, [&s] { return s.done(); });
  }
  r.meter = (*probe)->meter_stats();
  exporter::netflow::NetflowDecoder decoder;
  char line[256];
  for (const auto& d : capture_t->datagrams()) {
    auto m = decoder.Decode(hal::base::ByteView(d.data(), d.size()));
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    if (!m.ok()) continue;
    for (const auto& f : m->flows) {
      const FlowRecord& x = f.record;
      std::snprintf(
          line, sizeof(line), "%02x%02x%02x%02x:%u>%u p%u v%u %llu pkts %llu B %llu-%llu r%u",
          x.key.src_ip[0], x.key.src_ip[1], x.key.src_ip[2], x.key.src_ip[3], x.key.src_port,
          x.key.dst_port, x.key.protocol, x.key.ip_version,
          static_cast<unsigned long long>(x.packets), static_cast<unsigned long long>(x.bytes),
          static_cast<unsigned long long>(x.first_ms), static_cast<unsigned long long>(x.last_ms),
          static_cast<unsigned>(x.end_reason));
      r.records.push_back(line);
      ++r.exported;
    }
  }
  std::sort(r.records.begin(), r.records.end());
  return r;
}

void ExpectSame(const Replayed& one, const Replayed& two) {
  EXPECT_EQ(one.records, two.records);
  EXPECT_EQ(one.meter.packets, two.meter.packets);
  EXPECT_EQ(one.meter.metered, two.meter.metered);
  EXPECT_EQ(one.meter.not_ip, two.meter.not_ip);
  EXPECT_EQ(one.meter.flows_created, two.meter.flows_created);
  for (int i = 1; i <= 5; ++i) {
    EXPECT_EQ(one.meter.records_by_reason[i], two.meter.records_by_reason[i]) << "reason " << i;
  }
  EXPECT_EQ(one.stats.samples, two.stats.samples);
  EXPECT_EQ(one.stats.first, two.stats.first);
  EXPECT_EQ(one.stats.last, two.stats.last);
}

TEST(FlowPipelineTest, TwoThreadsExportExactlyTheOneThreadRecords) {
  const Bytes capture = MakeCapture(20000, 1000, 7);
  const Replayed one = Replay(capture, false, 262144);
  const Replayed two = Replay(capture, true, 262144);
  ASSERT_GT(one.exported, 1000u);
  // Every way a flow ends happened, and the meter refused some packets.
  EXPECT_GT(one.meter.records_by_reason[1], 0u);  // idle
  EXPECT_GT(one.meter.records_by_reason[2], 0u);  // active (30 s)
  EXPECT_GT(one.meter.records_by_reason[3], 0u);  // FIN/RST
  EXPECT_GT(one.meter.records_by_reason[4], 0u);  // end of file
  EXPECT_GT(one.meter.not_ip, 0u);
  EXPECT_EQ(one.meter.packets, 20000u);
  ExpectSame(one, two);
}

TEST(FlowPipelineTest, AFullCacheEvictsTheSameFlows) {
  const Bytes capture = MakeCapture(15000, 3000, 11);
  const Replayed one = Replay(capture, false, 256);
  const Replayed two = Replay(capture, true, 256);
  EXPECT_GT(one.meter.records_by_reason[5], 1000u);  // cache full
  ExpectSame(one, two);
}

TEST(FlowPipelineTest, AnEmptyCaptureEndsAtOnce) {
  const Bytes capture = xflowd::testing::PcapFile(1).bytes();
  const Replayed two = Replay(capture, true, 1024);
  EXPECT_EQ(two.exported, 0u);
  EXPECT_EQ(two.stats.samples, 0u);
}

}  // namespace
}  // namespace xflowd::agent::daemon
