// FlowProbe with external meters (the fanout workers' cache partitions, D58-D60): the
// partitions run here on the test's thread, with their rings drained as the loop thread
// would, so the probe's side is checked without threads: records reach the one exporter with
// continuous sequence numbers, flush and the final flush reach every partition, a reload of
// the timeouts or the cache size goes to every partition, and the counters add up.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agent/daemon/flow_probe.h"
#include "agent/flow/flow_partition.h"
#include "exporter/netflow/netflow_decoder.h"
#include "hal/base/log.h"
#include "hal/packet_sample.h"
#include "sim/packet_builder.h"
#include "tests/support/capture_transport.h"

namespace xflowd::agent::daemon {
namespace {

using exporter::netflow::EndReason;
using exporter::netflow::FlowRecord;
using hal::base::MonoTime;
using hal::base::Status;

class InlineMeters final : public ExternalMeters {
 public:
  explicit InlineMeters(uint32_t parts) : n_(parts) {}

  Status Start(const flow::FlowMeterOptions& options, int64_t unix_offset_ms,
               exporter::netflow::FlowRecordSink& sink) override {
    sink_ = &sink;
    const std::vector<uint32_t> sizes = flow::PartitionSizes(options.cache.capacity, n_);
    for (uint32_t i = 0; i < n_; ++i) {
      flow::FlowMeterOptions mo = options;
      mo.cache.capacity = sizes[i];
      parts_.push_back(std::make_unique<flow::FlowPartition>(mo, unix_offset_ms, 2, [this] {
        DrainRecords(SIZE_MAX);
        return true;
      }));
    }
    return Status::Ok();
  }
  size_t DrainRecords(size_t budget) override {
    size_t n = 0;
    for (auto& p : parts_) n += p->ring().Drain(*sink_, budget - n);
    return n;
  }
  void Flush(MonoTime now, bool stop) override {
    for (auto& p : parts_) p->Flush(now);
    DrainRecords(SIZE_MAX);
    stopped_ = stopped_ || stop;
    ++flushes_;
  }
  void SetTimeouts(const flow::FlowCacheOptions& options) override {
    for (auto& p : parts_) p->SetTimeouts(options);
    ++timeouts_;
  }
  Status Replace(MonoTime now, const flow::FlowMeterOptions& options) override {
    const std::vector<uint32_t> sizes = flow::PartitionSizes(options.cache.capacity, n_);
    for (uint32_t i = 0; i < n_; ++i) {
      flow::FlowMeterOptions mo = options;
      mo.cache.capacity = sizes[i];
      parts_[i]->Replace(now, mo);
    }
    DrainRecords(SIZE_MAX);
    return Status::Ok();
  }
  flow::FlowMeterStats meter_stats() const override {
    flow::FlowMeterStats s;
    for (const auto& p : parts_) flow::AddMeterStats(s, p->stats().meter);
    return s;
  }
  uint64_t capacity() const override {
    uint64_t c = 0;
    for (const auto& p : parts_) c += p->stats().capacity;
    return c;
  }
  size_t memory_bytes() const override {
    size_t m = 0;
    for (const auto& p : parts_) m += p->stats().memory_bytes;
    return m;
  }
  std::string Describe() const override { return std::to_string(n_) + " inline partitions"; }

  // A "worker": packet into partition `i`, then its burst ends.
  void Feed(uint32_t i, const hal::PacketSample& s) {
    parts_[i]->meter().OnSample(s);
    parts_[i]->Publish();
  }
  void TickAll(MonoTime now) {
    for (auto& p : parts_) p->Tick(now);
  }
  flow::FlowPartition& part(uint32_t i) { return *parts_[i]; }
  bool stopped() const { return stopped_; }
  int flushes() const { return flushes_; }
  int timeouts() const { return timeouts_; }

 private:
  const uint32_t n_;
  exporter::netflow::FlowRecordSink* sink_ = nullptr;
  std::vector<std::unique_ptr<flow::FlowPartition>> parts_;
  bool stopped_ = false;
  int flushes_ = 0;
  int timeouts_ = 0;
};

struct Packet {
  std::vector<uint8_t> bytes;
  hal::PacketSample sample;
};

Packet Udp(uint32_t f, int64_t ms) {
  sim::PacketSpec s;
  s.protocol = sim::kIpProtoUdp;
  s.src_ip[0] = 10, s.src_ip[2] = static_cast<uint8_t>(f >> 8),
  s.src_ip[3] = static_cast<uint8_t>(f);
  s.dst_ip[0] = 192, s.dst_ip[3] = 1;
  s.src_port = static_cast<uint16_t>(1000 + f);
  s.dst_port = 53;
  Packet p;
  p.bytes.resize(128);
  p.bytes.resize(sim::BuildFrame(s, 200, p.bytes.data(), p.bytes.size()));
  p.sample.input_ifindex = 2;
  p.sample.frame_length = 204;
  p.sample.stripped = 4;
  p.sample.sampling_rate = 1;
  p.sample.timestamp = MonoTime::FromMs(ms);
  p.sample.header = hal::base::ByteView(p.bytes.data(), p.bytes.size());
  return p;
}

class FlowProbePartitionsTest : public ::testing::Test {
 protected:
  void Make(uint32_t cache_size) {
    config_.collectors.push_back({*hal::base::Endpoint::Parse("127.0.0.1:4739", 4739), 10});
    config_.cache_size = cache_size;
    config_.inactive_timeout_s = 10;
    FlowProbeSettings fs;
    fs.unix_offset_ms = 1767225600000;
    fs.system_init_unix_ms = 1767225600000;
    fs.external_meters = &meters_;
    fs.make_transport = [this](const config::FlowCollector&) {
      auto t = std::make_unique<xflowd::testing::CaptureTransport>();
      capture_ = t.get();
      return hal::base::Result<std::unique_ptr<exporter::Transport>>(std::move(t));
    };
    auto p = FlowProbe::Create(config_, fs, logger_);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    probe_ = std::move(p.value());
  }
  // Every exported flow record, and the IPFIX sequence numbers checked on the way.
  std::vector<FlowRecord> Exported() {
    std::vector<FlowRecord> out;
    exporter::netflow::NetflowDecoder decoder;
    uint32_t expect = 0;
    for (const auto& d : capture_->datagrams()) {
      auto m = decoder.Decode(hal::base::ByteView(d.data(), d.size()));
      EXPECT_TRUE(m.ok()) << m.status().ToString();
      if (!m.ok()) continue;
      EXPECT_EQ(m->sequence, expect) << "one exporter's sequence, whichever partition";
      expect += m->data_record_count;
      for (const auto& f : m->flows) out.push_back(f.record);
    }
    return out;
  }

  hal::base::Logger logger_ = hal::base::Logger::Null();
  config::FlowConfig config_;
  InlineMeters meters_{3};
  xflowd::testing::CaptureTransport* capture_ = nullptr;
  std::unique_ptr<FlowProbe> probe_;
};

TEST_F(FlowProbePartitionsTest, RecordsOfEveryPartitionGoThroughTheOneExporter) {
  Make(1000);
  EXPECT_EQ(probe_->cache_capacity(), 1000u);
  EXPECT_FALSE(probe_->has_meter());
  EXPECT_EQ(meters_.part(0).stats().capacity, 334u);
  for (uint32_t f = 0; f < 90; ++f) {
    Packet p = Udp(f, 1000 + f);
    meters_.Feed(f % 3, p.sample);
  }
  EXPECT_EQ(probe_->cached_flows(), 90u);
  // The workers' timers end the first 60 flows (idle 10 s); the probe's tick exports them.
  for (uint32_t f = 60; f < 90; ++f) {
    Packet p = Udp(f, 10500);
    meters_.Feed(f % 3, p.sample);
  }
  meters_.TickAll(MonoTime::FromMs(11100));
  probe_->Tick(MonoTime::FromMs(11100));
  EXPECT_EQ(probe_->meter_stats().records_by_reason[1], 60u);
  EXPECT_EQ(probe_->ExpireAll(MonoTime::FromMs(12000)), 30u);  // xflowctl flush
  EXPECT_FALSE(meters_.stopped());
  probe_->Finish(MonoTime::FromMs(13000));
  EXPECT_TRUE(meters_.stopped());
  const std::vector<FlowRecord> out = Exported();
  ASSERT_EQ(out.size(), 90u);
  size_t idle = 0;
  for (const FlowRecord& r : out) idle += r.end_reason == EndReason::kIdleTimeout;
  EXPECT_EQ(idle, 60u);
  const flow::FlowMeterStats m = probe_->meter_stats();
  EXPECT_EQ(m.packets, 120u);
  EXPECT_EQ(m.active_flows, 0u);
  EXPECT_EQ(probe_->exporters()[0]->stats().flows_exported, 90u);
}

TEST_F(FlowProbePartitionsTest, ReloadReachesEveryPartition) {
  Make(1000);
  for (uint32_t f = 0; f < 30; ++f) {
    Packet p = Udp(f, 1000);
    meters_.Feed(f % 3, p.sample);
  }
  config::FlowConfig next = config_;
  next.inactive_timeout_s = 3;
  std::vector<std::string> changes;
  ASSERT_TRUE(probe_->Reload(next, MonoTime::FromMs(2000), &changes).ok());
  EXPECT_EQ(meters_.timeouts(), 1);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_NE(changes[0].find("applied to the 30 cached flows"), std::string::npos) << changes[0];
  meters_.TickAll(MonoTime::FromMs(4100));  // the new 3 s timeout, on the workers' timers
  EXPECT_EQ(probe_->meter_stats().records_by_reason[1], 30u);

  for (uint32_t f = 0; f < 20; ++f) {
    Packet p = Udp(f, 5000);
    meters_.Feed(f % 3, p.sample);
  }
  next.cache_size = 3001;
  changes.clear();
  ASSERT_TRUE(probe_->Reload(next, MonoTime::FromMs(6000), &changes).ok());
  EXPECT_NE(changes[0].find("1000 -> 3001 flows: the 20 cached flows were exported"),
            std::string::npos)
      << changes[0];
  EXPECT_EQ(probe_->cache_capacity(), 3001u);
  EXPECT_EQ(meters_.part(0).stats().capacity, 1001u);
  EXPECT_EQ(meters_.part(2).stats().capacity, 1000u);
  const std::vector<FlowRecord> out = Exported();
  EXPECT_EQ(out.size(), 50u);
  EXPECT_EQ(
      std::count_if(out.begin(), out.end(),
                    [](const FlowRecord& r) { return r.end_reason == EndReason::kForcedEnd; }),
      20);
}

}  // namespace
}  // namespace xflowd::agent::daemon
