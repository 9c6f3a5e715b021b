// Scenario: reload without restart. The simulated switch drives the real Daemon on a manual
// clock (Daemon::Step, no event loop, no sleeps); every datagram the capture collectors got is
// decoded, and each test proves from them what a reload changed and what it left alone:
// datagram and sample sequence numbers, sample pools, rates, counter samples, flow records
// and their end reasons.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/daemon/daemon.h"
#include "agent/daemon/sim_platform.h"
#include "exporter/netflow/netflow_decoder.h"
#include "exporter/sflow/sflow_decoder.h"
#include "sim/sim_switch.h"
#include "tests/support/capture_transport.h"

namespace xflowd::agent::daemon {
namespace {

namespace wire = exporter::sflow;
using exporter::netflow::EndReason;
using hal::base::Endpoint;
using hal::base::IpAddress;
using hal::base::ManualClock;
using hal::base::milliseconds;
using hal::base::MonoTime;
using hal::base::Result;
using hal::base::seconds;
using xflowd::testing::CaptureTransport;

constexpr uint32_t kPorts = 8;
constexpr uint32_t kRate = 4096;

Endpoint Ep(const std::string& s) { return *Endpoint::Parse(s, 6343); }

// A capture whose datagrams outlive it (a flow collector's transport goes with its
// exporter), kept by the test.
class SharedCapture final : public exporter::Transport {
 public:
  explicit SharedCapture(std::shared_ptr<std::vector<std::vector<uint8_t>>> log)
      : log_(std::move(log)) {}
  bool Send(hal::base::ByteView d) override {
    log_->emplace_back(d.begin(), d.end());
    ++stats_.datagrams_sent;
    return true;
  }
  void Poll(MonoTime) override {}
  exporter::TransportStatus status() const override { return {}; }
  const exporter::TransportStats& stats() const override { return stats_; }
  std::string Describe() const override { return "shared capture"; }
  std::string DescribeStats() const override { return ""; }
  const std::vector<std::vector<uint8_t>>& datagrams() const { return *log_; }

 private:
  std::shared_ptr<std::vector<std::vector<uint8_t>>> log_;
  exporter::TransportStats stats_;
};

// What one sFlow collector saw, decoded.
struct SflowView {
  std::vector<uint32_t> datagram_seqs;
  // Per ifindex, in arrival order.
  std::map<uint32_t, std::vector<wire::DecodedFlowSample>> flows;
  std::map<uint32_t, std::vector<uint32_t>> counter_seqs;
};

SflowView Decode(const CaptureTransport& t, size_t from = 0) {
  SflowView v;
  for (size_t i = from; i < t.datagrams().size(); ++i) {
    const auto& d = t.datagrams()[i];
    auto dg = wire::DecodeDatagram(hal::base::ByteView(d.data(), d.size()));
    EXPECT_TRUE(dg.ok()) << dg.status().ToString();
    if (!dg.ok()) continue;
    v.datagram_seqs.push_back(dg->header.sequence);
    for (const auto& s : dg->samples) {
      if (auto* f = std::get_if<wire::DecodedFlowSample>(&s))
        v.flows[f->source.index].push_back(*f);
      if (auto* c = std::get_if<wire::DecodedCounterSample>(&s)) {
        v.counter_seqs[c->source.index].push_back(c->sequence);
      }
    }
  }
  return v;
}

// Gaps or resets in a sequence that should count up by one.
int Breaks(const std::vector<uint32_t>& seqs) {
  int n = 0;
  for (size_t i = 1; i < seqs.size(); ++i) n += seqs[i] != seqs[i - 1] + 1;
  return n;
}

std::vector<uint32_t> FlowSeqs(const std::vector<wire::DecodedFlowSample>& v) {
  std::vector<uint32_t> out;
  for (const auto& f : v) out.push_back(f.sequence);
  return out;
}

class ReloadScenarioTest : public ::testing::Test {
 protected:
  ReloadScenarioTest() {
    sim::SimConfig sc;
    sc.num_ports = kPorts;
    sc.load = 0.2;
    sc.seed = 5;
    sim_ = std::move(sim::SimSwitch::Create(sc, clock_.Now()).value());
    config_.agent.address = *IpAddress::Parse("192.0.2.1");
    config_.agent.collectors = {Ep("192.0.2.100:6343")};
    config_.ports.sampling_rate = kRate;
    config_.ports.polling_interval_s = 5;
    config_.seed = 5;
    settings_.loop.handle_signals = false;
    settings_.make_transport =
        [this](const Endpoint& ep) -> Result<std::unique_ptr<exporter::Transport>> {
      auto t = std::make_unique<CaptureTransport>();
      sflow_[ep.ToString()] = t.get();
      return std::unique_ptr<exporter::Transport>(std::move(t));
    };
    settings_.make_flow_transport =
        [this](const config::FlowCollector& c) -> Result<std::unique_ptr<exporter::Transport>> {
      auto& log = flow_log_[c.endpoint.ToString()];
      if (!log) log = std::make_shared<std::vector<std::vector<uint8_t>>>();
      auto t = std::make_unique<SharedCapture>(log);
      flow_[c.endpoint.ToString()] = t.get();
      return std::unique_ptr<exporter::Transport>(std::move(t));
    };
  }

  void Start() {
    platform_ = SimPlatform(*sim_);
    auto d = Daemon::Create(config_, platform_, clock_, logger_, settings_);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    daemon_ = std::move(d.value());
  }

  // `s` simulated seconds: traffic, samples, one tick per second.
  void Run(int s) {
    for (int i = 0; i < s; ++i) {
      clock_.Advance(seconds(1));
      daemon_->Step(clock_.Now());
    }
  }

  void ExpectReloadOk(const config::Config& next) {
    hal::base::Status st = daemon_->Reload(next);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_TRUE(daemon_->last_reload().attempted);
    EXPECT_TRUE(daemon_->last_reload().status.ok());
  }

  ManualClock clock_{MonoTime::FromSeconds(1000)};
  hal::base::Logger logger_ = hal::base::Logger::Null();
  std::unique_ptr<sim::SimSwitch> sim_;
  Platform platform_;
  config::Config config_;
  DaemonSettings settings_;
  std::map<std::string, CaptureTransport*> sflow_;
  std::map<std::string, SharedCapture*> flow_;  // dangling once the exporter goes
  std::map<std::string, std::shared_ptr<std::vector<std::vector<uint8_t>>>> flow_log_;
  std::unique_ptr<Daemon> daemon_;
};

TEST_F(ReloadScenarioTest, CollectorAddedLeavesTheOtherSequencesAlone) {
  Start();
  Run(10);
  CaptureTransport* a = sflow_.at("192.0.2.100:6343");
  const size_t before = a->datagrams().size();
  ASSERT_GT(before, 5u);
  config::Config next = config_;
  next.agent.collectors.push_back(Ep("192.0.2.101:6343"));
  ExpectReloadOk(next);
  Run(10);
  ASSERT_EQ(sflow_.count("192.0.2.101:6343"), 1u);
  CaptureTransport* b = sflow_.at("192.0.2.101:6343");
  EXPECT_EQ(sflow_.at("192.0.2.100:6343"), a) << "the old collector's transport was rebuilt";

  const SflowView va = Decode(*a);
  // The first collector: one unbroken datagram sequence from 1, and unbroken samples.
  EXPECT_EQ(va.datagram_seqs.front(), 1u);
  EXPECT_EQ(Breaks(va.datagram_seqs), 0);
  EXPECT_GT(va.datagram_seqs.size(), before + 5);
  for (const auto& [ifindex, flows] : va.flows) {
    EXPECT_EQ(Breaks(FlowSeqs(flows)), 0) << "ifindex " << ifindex;
  }
  for (const auto& [ifindex, seqs] : va.counter_seqs) {
    EXPECT_EQ(Breaks(seqs), 0) << "ifindex " << ifindex;
  }
  // The new one receives the same datagrams from the reload on: its sequence starts where
  // the agent is, not at 1.
  const SflowView vb = Decode(*b);
  ASSERT_FALSE(vb.datagram_seqs.empty());
  EXPECT_EQ(vb.datagram_seqs.front(), va.datagram_seqs[before]);
  EXPECT_GT(vb.datagram_seqs.front(), 1u);
  EXPECT_EQ(Breaks(vb.datagram_seqs), 0);
  EXPECT_EQ(b->datagrams(), std::vector<std::vector<uint8_t>>(a->datagrams().begin() + before,
                                                              a->datagrams().end()));
}

TEST_F(ReloadScenarioTest, CollectorRemovedLeavesTheOtherRunning) {
  config_.agent.collectors.push_back(Ep("192.0.2.101:6343"));
  Start();
  Run(10);
  CaptureTransport* b = sflow_.at("192.0.2.101:6343");
  config::Config next = config_;
  next.agent.collectors = {Ep("192.0.2.101:6343")};
  ExpectReloadOk(next);
  ASSERT_EQ(daemon_->transports().size(), 1u);
  EXPECT_EQ(daemon_->transports()[0].get(), b);
  const size_t b_at_reload = b->datagrams().size();
  Run(10);
  const SflowView vb = Decode(*b);
  EXPECT_EQ(vb.datagram_seqs.front(), 1u);
  EXPECT_EQ(Breaks(vb.datagram_seqs), 0);
  EXPECT_GT(b->datagrams().size(), b_at_reload + 5);
  for (const auto& [ifindex, flows] : vb.flows) {
    EXPECT_EQ(Breaks(FlowSeqs(flows)), 0) << "ifindex " << ifindex;
  }
  EXPECT_NE(daemon_->last_reload().Summary().find("removed"), std::string::npos);
}

TEST_F(ReloadScenarioTest, RateChangeReprogramsThatPortAloneAndKeepsItsSequenceAndPool) {
  Start();
  Run(20);
  CaptureTransport* a = sflow_.at("192.0.2.100:6343");
  const size_t at_reload = a->datagrams().size();
  config::Config next = config_;
  next.ports.overrides.push_back({"swp3", 1024u, std::nullopt, std::nullopt});
  ExpectReloadOk(next);
  Run(20);

  const SflowView before = Decode(*a);  // everything
  const SflowView after = Decode(*a, at_reload);
  for (uint32_t ifindex = 1; ifindex <= kPorts; ++ifindex) {
    const auto& all = before.flows.at(ifindex);
    const auto& late = after.flows.at(ifindex);
    ASSERT_GT(late.size(), 50u) << "ifindex " << ifindex;
    // No reset, no gap: one sequence across the reload, the pool only grows.
    EXPECT_EQ(all.front().sequence, 1u);
    EXPECT_EQ(Breaks(FlowSeqs(all)), 0) << "ifindex " << ifindex;
    for (size_t i = 1; i < all.size(); ++i) {
      ASSERT_GT(all[i].sample_pool, all[i - 1].sample_pool) << "ifindex " << ifindex;
      ASSERT_EQ(all[i].drops, 0u);
    }
    const uint32_t want = ifindex == 3 ? 1024u : kRate;
    for (const auto& f : late) ASSERT_EQ(f.sampling_rate, want) << "ifindex " << ifindex;
    for (size_t i = 0; i + late.size() < all.size(); ++i) ASSERT_EQ(all[i].sampling_rate, kRate);
  }
  // About four times the samples on swp3, the others as before.
  const double ratio3 = static_cast<double>(after.flows.at(3).size()) /
                        static_cast<double>(before.flows.at(3).size() - after.flows.at(3).size());
  const double ratio1 = static_cast<double>(after.flows.at(1).size()) /
                        static_cast<double>(before.flows.at(1).size() - after.flows.at(1).size());
  EXPECT_GT(ratio3, 3.0);
  EXPECT_LT(ratio3, 5.5);
  EXPECT_GT(ratio1, 0.6);
  EXPECT_LT(ratio1, 1.6);
  EXPECT_EQ(Breaks(before.datagram_seqs), 0);
  EXPECT_EQ(daemon_->agent().FindSampler(3, hal::Direction::kIngress)->sampling_rate(), 1024u);
}

TEST_F(ReloadScenarioTest, PollingIntervalChangeKeepsTheCounterSequence) {
  Start();
  Run(20);
  CaptureTransport* a = sflow_.at("192.0.2.100:6343");
  const size_t at_reload = a->datagrams().size();
  config::Config next = config_;
  next.ports.overrides.push_back({"swp2", std::nullopt, 1u, std::nullopt});
  ExpectReloadOk(next);
  Run(20);
  const SflowView all = Decode(*a);
  const SflowView late = Decode(*a, at_reload);
  EXPECT_EQ(Breaks(all.counter_seqs.at(2)), 0);
  EXPECT_EQ(all.counter_seqs.at(2).front(), 1u);
  EXPECT_GE(late.counter_seqs.at(2).size(), 19u);  // every second
  EXPECT_LE(late.counter_seqs.at(1).size(), 4u);   // every 5 s
}

TEST_F(ReloadScenarioTest, PortDisabledAndEnabledStopsAndStartsJustThatPort) {
  Start();
  Run(10);
  CaptureTransport* a = sflow_.at("192.0.2.100:6343");
  const size_t at_off = a->datagrams().size();
  config::Config off = config_;
  config::PortOverride swp5;
  swp5.pattern = "swp5";
  swp5.enabled = false;
  off.ports.overrides.push_back(swp5);
  ExpectReloadOk(off);
  Run(20);
  const size_t at_on = a->datagrams().size();
  ExpectReloadOk(config_);
  Run(20);

  const SflowView all = Decode(*a);
  SflowView while_off = [&] {
    SflowView v = Decode(*a, at_off);
    SflowView later = Decode(*a, at_on);
    for (auto& [i, f] : v.flows) f.resize(f.size() - later.flows[i].size());
    for (auto& [i, c] : v.counter_seqs) c.resize(c.size() - later.counter_seqs[i].size());
    return v;
  }();
  SflowView after_on = Decode(*a, at_on);
  EXPECT_EQ(while_off.flows[5].size(), 0u);
  EXPECT_EQ(while_off.counter_seqs[5].size(), 0u);
  for (uint32_t ifindex : {1u, 4u, 6u}) {
    EXPECT_GT(while_off.flows[ifindex].size(), 100u);
    EXPECT_GE(while_off.counter_seqs[ifindex].size(), 3u);
    EXPECT_EQ(Breaks(FlowSeqs(all.flows.at(ifindex))), 0);
    EXPECT_EQ(Breaks(all.counter_seqs.at(ifindex)), 0);
  }
  EXPECT_GT(after_on.flows[5].size(), 100u);
  EXPECT_GE(after_on.counter_seqs[5].size(), 3u);
  EXPECT_EQ(Breaks(all.datagram_seqs), 0);
  // The simulator stopped sampling the port too: nothing arrived for a port without sampler.
  EXPECT_EQ(daemon_->agent().stats().no_sampler, 0u);
}

// Flow export: IPFIX to capture collectors, decoded with the project's decoder.
class FlowReloadScenarioTest : public ReloadScenarioTest {
 protected:
  FlowReloadScenarioTest() {
    config::FlowCollector c;
    c.endpoint = *Endpoint::Parse("192.0.2.200:4739", 4739);
    c.version = 10;
    config_.flow.collectors = {c};
    config_.flow.inactive_timeout_s = 60;
    config_.flow.active_timeout_s = 1800;
    config_.flow.cache_size = 65536;
  }

  struct FlowView {
    std::vector<uint32_t> sequences;  // IPFIX: records before each message
    std::vector<exporter::netflow::FlowRecord> records;
    std::vector<uint64_t> export_ms;  // of each record's message
  };
  static FlowView DecodeFlows(const SharedCapture& t, size_t from = 0) {
    return DecodeFlows(t.datagrams(), from);
  }
  static FlowView DecodeFlows(const std::vector<std::vector<uint8_t>>& datagrams, size_t from = 0) {
    FlowView v;
    exporter::netflow::NetflowDecoder dec;
    for (size_t i = 0; i < datagrams.size(); ++i) {
      const auto& d = datagrams[i];
      auto m = dec.Decode(hal::base::ByteView(d.data(), d.size()));
      EXPECT_TRUE(m.ok()) << m.status().ToString();
      if (!m.ok() || i < from) continue;
      v.sequences.push_back(m->sequence);
      for (const auto& f : m->flows) {
        v.records.push_back(f.record);
        v.export_ms.push_back(uint64_t{m->unix_secs} * 1000);
      }
    }
    return v;
  }
  static size_t Count(const FlowView& v, EndReason r) {
    size_t n = 0;
    for (const auto& rec : v.records) n += rec.end_reason == r;
    return n;
  }
};

TEST_F(FlowReloadScenarioTest, NewInactiveTimeoutAppliesToTheCachedFlows) {
  Start();
  Run(20);
  SharedCapture* c = flow_.at("192.0.2.200:4739");
  ASSERT_NE(daemon_->flow_probe(), nullptr);
  const size_t cached = daemon_->flow_probe()->meter().cache().size();
  ASSERT_GT(cached, 100u);
  // Nothing was idle for 60 s yet: no idle records so far.
  EXPECT_EQ(Count(DecodeFlows(*c), EndReason::kIdleTimeout), 0u);
  const size_t at_reload = c->datagrams().size();
  config::Config next = config_;
  next.flow.inactive_timeout_s = 2;
  ExpectReloadOk(next);
  Run(1);
  // The flows cached for more than 2 s without a packet end at the next tick, with the idle
  // reason; none was flushed as forced.
  const FlowView v = DecodeFlows(*c, at_reload);
  const size_t idle = Count(v, EndReason::kIdleTimeout);
  EXPECT_GT(idle, cached / 4);
  EXPECT_EQ(Count(v, EndReason::kForcedEnd), 0u);
  for (size_t i = 0; i < v.records.size(); ++i) {
    if (v.records[i].end_reason != EndReason::kIdleTimeout) continue;
    // Quiet for at least the new timeout (export time in whole seconds, rounded down).
    EXPECT_LE(v.records[i].last_ms + 2000, v.export_ms[i] + 1000);
  }
  EXPECT_EQ(daemon_->flow_probe()->meter().cache().capacity(), 65536u);
}

TEST_F(FlowReloadScenarioTest, CacheSizeChangeFlushesOnceUnchangedSizeDoesNot) {
  Start();
  Run(10);
  SharedCapture* c = flow_.at("192.0.2.200:4739");
  // Same size, other timeouts and a second collector: no flush.
  config::Config same = config_;
  same.flow.active_timeout_s = 900;
  config::FlowCollector second;
  second.endpoint = *Endpoint::Parse("192.0.2.201:4739", 4739);
  second.version = 10;
  same.flow.collectors.push_back(second);
  size_t at = c->datagrams().size();
  ExpectReloadOk(same);
  Run(2);
  EXPECT_EQ(Count(DecodeFlows(*c, at), EndReason::kForcedEnd), 0u);

  const size_t cached = daemon_->flow_probe()->meter().cache().size();
  ASSERT_GT(cached, 100u);
  at = c->datagrams().size();
  const size_t at_second = flow_.at("192.0.2.201:4739")->datagrams().size();
  config::Config bigger = same;
  bigger.flow.cache_size = 131072;
  ExpectReloadOk(bigger);
  // Exported at the reload itself, before any tick: each cached flow once.
  FlowView v = DecodeFlows(*c, at);
  EXPECT_EQ(Count(v, EndReason::kForcedEnd), cached);
  std::set<std::string> keys;
  for (const auto& r : v.records) {
    const auto& k = r.key;
    keys.insert(std::string(reinterpret_cast<const char*>(k.src_ip), 16) +
                std::string(reinterpret_cast<const char*>(k.dst_ip), 16) + "/" +
                std::to_string(k.src_port) + "/" + std::to_string(k.dst_port) + "/" +
                std::to_string(k.protocol) + "/" + std::to_string(k.input_ifindex) + "/" +
                std::to_string(k.output_ifindex) + "/" + std::to_string(k.vlan_outer) + "/" +
                std::to_string(k.vlan_inner) + "/" + std::to_string(k.tos));
  }
  EXPECT_EQ(keys.size(), v.records.size()) << "a flow was exported twice";
  EXPECT_EQ(Count(DecodeFlows(*flow_.at("192.0.2.201:4739"), at_second), EndReason::kForcedEnd),
            cached);
  EXPECT_EQ(daemon_->flow_probe()->meter().cache().capacity(), 131072u);
  EXPECT_EQ(daemon_->flow_probe()->meter().cache().size(), 0u);
  at = c->datagrams().size();
  Run(5);
  v = DecodeFlows(*c, at);
  EXPECT_EQ(Count(v, EndReason::kForcedEnd), 0u);
  EXPECT_GT(daemon_->flow_probe()->meter().cache().size(), 100u);
  // The counters carry on across the new cache.
  EXPECT_GE(daemon_->flow_probe()->meter_stats().records_by_reason[4], cached);
}

TEST_F(FlowReloadScenarioTest, ExporterAddedAndRemovedLeavesTheOtherSequence) {
  config::FlowCollector second;
  second.endpoint = *Endpoint::Parse("192.0.2.201:2055", 2055);
  second.version = 9;
  config_.flow.collectors.push_back(second);
  config_.flow.inactive_timeout_s = 2;
  config_.flow.template_refresh_packets = 0;  // templates once, so a resend would show
  config_.flow.template_refresh_s = 0;
  Start();
  Run(10);
  SharedCapture* ipfix = flow_.at("192.0.2.200:4739");
  config::Config next = config_;
  next.flow.collectors.erase(next.flow.collectors.begin() + 1);  // v9 goes
  config::FlowCollector third;
  third.endpoint = *Endpoint::Parse("192.0.2.202:4739", 4739);
  third.version = 10;
  next.flow.collectors.push_back(third);
  const SharedCapture* v9 = flow_.at("192.0.2.201:2055");
  const size_t ipfix_at = ipfix->datagrams().size();
  ExpectReloadOk(next);
  Run(10);
  ASSERT_EQ(daemon_->flow_probe()->transports().size(), 2u);
  EXPECT_EQ(daemon_->flow_probe()->transports()[0].get(), ipfix);
  EXPECT_NE(daemon_->flow_probe()->transports()[1].get(), v9);
  EXPECT_GT(ipfix->datagrams().size(), ipfix_at + 5);
  // IPFIX sequence = records sent before the message: one stream with no restart.
  const FlowView v = DecodeFlows(*ipfix);
  ASSERT_GT(v.sequences.size(), 10u);
  EXPECT_EQ(v.sequences.front(), 0u);
  for (size_t i = 1; i < v.sequences.size(); ++i) ASSERT_GE(v.sequences[i], v.sequences[i - 1]);
  // Templates were sent at the start only, not again at the reload.
  exporter::netflow::NetflowDecoder dec;
  size_t template_messages = 0;
  for (size_t i = 0; i < ipfix->datagrams().size(); ++i) {
    const auto& d = ipfix->datagrams()[i];
    auto m = dec.Decode(hal::base::ByteView(d.data(), d.size()));
    ASSERT_TRUE(m.ok());
    template_messages += i >= ipfix_at && !m->templates.empty();
  }
  EXPECT_EQ(template_messages, 0u);
  const FlowView third_view = DecodeFlows(*flow_.at("192.0.2.202:4739"));
  EXPECT_FALSE(third_view.records.empty());
}

TEST_F(ReloadScenarioTest, AgentIdentityAndDatagramSizeChangeInPlace) {
  Start();
  Run(5);
  CaptureTransport* a = sflow_.at("192.0.2.100:6343");
  const size_t at_reload = a->datagrams().size();
  config::Config next = config_;
  next.agent.address = *IpAddress::Parse("2001:db8::1");
  next.agent.sub_agent_id = 7;
  next.agent.max_datagram_bytes = 600;
  ExpectReloadOk(next);
  Run(5);
  ASSERT_GT(a->datagrams().size(), at_reload + 5);
  std::vector<uint32_t> seqs;
  for (size_t i = 0; i < a->datagrams().size(); ++i) {
    const auto& d = a->datagrams()[i];
    auto dg = wire::DecodeDatagram(hal::base::ByteView(d.data(), d.size()));
    ASSERT_TRUE(dg.ok());
    seqs.push_back(dg->header.sequence);
    const bool after = i >= at_reload;
    EXPECT_EQ(dg->header.agent_address.ToString(), after ? "2001:db8::1" : "192.0.2.1");
    EXPECT_EQ(dg->header.sub_agent_id, after ? 7u : 0u);
    if (after) {
      EXPECT_LE(d.size(), 600u);
    }
  }
  EXPECT_EQ(Breaks(seqs), 0);
  EXPECT_EQ(daemon_->last_reload().changes.size(), 2u) << daemon_->last_reload().Summary();
}

TEST_F(ReloadScenarioTest, NonReloadableChangeIsRefusedAndTheOldConfigRuns) {
  Start();
  Run(5);
  struct Case {
    void (*change)(config::Config&);
    const char* setting;
  } cases[] = {
      {[](config::Config& c) { c.seed = 99; }, "run.seed"},
      {[](config::Config& c) { c.duration_s = 10; }, "run.duration"},
      {[](config::Config& c) { c.control.socket = "/tmp/other.sock"; }, "control.socket"},
      {[](config::Config& c) { c.service.user = "nobody"; }, "service.user"},
      {[](config::Config& c) { c.service.pid_file = "/run/x.pid"; }, "service.pid-file"},
      {[](config::Config& c) { c.log.target = config::LogTarget::kSyslog; }, "log.target"},
      {[](config::Config& c) { c.source.sim.ports = 16; }, "source.sim.ports"},
      {[](config::Config& c) { c.source.kind = config::SourceKind::kLinux; }, "source"},
  };
  for (const Case& k : cases) {
    config::Config next = config_;
    next.ports.sampling_rate = 512;  // would apply, but the whole reload is refused
    next.agent.collectors.push_back(Ep("192.0.2.101:6343"));
    k.change(next);
    hal::base::Status st = daemon_->Reload(next);
    ASSERT_FALSE(st.ok()) << k.setting;
    EXPECT_EQ(st.message().rfind(k.setting, 0), 0u) << st.message();
    EXPECT_NE(st.message().find("cannot change while xflowd runs"), std::string::npos);
    EXPECT_FALSE(daemon_->last_reload().status.ok());
    EXPECT_EQ(daemon_->last_reload().Summary(), "failed: " + st.message());
  }
  EXPECT_EQ(daemon_->config().seed, config_.seed);
  EXPECT_EQ(*daemon_->config().ports.sampling_rate, kRate);
  EXPECT_EQ(sflow_.count("192.0.2.101:6343"), 0u);
  EXPECT_EQ(daemon_->agent().FindSampler(1, hal::Direction::kIngress)->sampling_rate(), kRate);
  Run(5);
  const SflowView v = Decode(*sflow_.at("192.0.2.100:6343"));
  EXPECT_EQ(Breaks(v.datagram_seqs), 0);
  for (const auto& [ifindex, flows] : v.flows) {
    for (const auto& f : flows) ASSERT_EQ(f.sampling_rate, kRate);
  }
}

TEST_F(ReloadScenarioTest, TheReloadCheckAndObserverRunAroundAReload) {
  settings_.loader = [this]() -> Result<config::Config> { return config_; };
  Start();
  Run(2);
  std::vector<std::string> events;
  daemon_->set_reload_observer([&](bool begin) { events.push_back(begin ? "begin" : "end"); });
  daemon_->set_reload_check([&](const config::Config&) {
    events.push_back("check");
    return hal::base::InvalidArgumentError("needs CAP_NET_ADMIN");
  });
  hal::base::Status st = daemon_->ReloadFromLoader();
  EXPECT_EQ(st.message(), "needs CAP_NET_ADMIN");
  EXPECT_EQ(events, (std::vector<std::string>{"begin", "check", "end"}));
  daemon_->set_reload_check([](const config::Config&) { return hal::base::Status::Ok(); });
  EXPECT_TRUE(daemon_->ReloadFromLoader().ok());
}

TEST_F(ReloadScenarioTest, LoaderErrorKeepsTheOldConfigAndIsRecorded) {
  int calls = 0;
  bool fail = true;
  settings_.loader = [&]() -> Result<config::Config> {
    ++calls;
    if (fail) {
      return hal::base::InvalidArgumentError(
          "/etc/xflowd/xflowd.toml:7:17: ports.sampling_rate: 0 is out of range");
    }
    config::Config c = config_;
    c.ports.sampling_rate = 1024;
    return c;
  };
  Start();
  Run(5);
  hal::base::Status st = daemon_->ReloadFromLoader();
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(calls, 1);
  EXPECT_NE(st.message().find("xflowd.toml:7:17"), std::string::npos);
  EXPECT_EQ(daemon_->last_reload().status.message(), st.message());
  EXPECT_EQ(daemon_->last_reload().time, clock_.Now());
  EXPECT_EQ(*daemon_->config().ports.sampling_rate, kRate);
  Run(5);
  EXPECT_EQ(Breaks(Decode(*sflow_.at("192.0.2.100:6343")).datagram_seqs), 0);

  fail = false;
  ASSERT_TRUE(daemon_->ReloadFromLoader().ok());
  EXPECT_EQ(*daemon_->config().ports.sampling_rate, 1024u);
  EXPECT_EQ(daemon_->last_reload().Summary().rfind("ok: sampling rate of 8 ports", 0), 0u)
      << daemon_->last_reload().Summary();
}

TEST_F(ReloadScenarioTest, NoChangeReloadChangesNothing) {
  Start();
  Run(5);
  ASSERT_TRUE(daemon_->Reload(config_).ok());
  EXPECT_EQ(daemon_->last_reload().Summary(), "ok: no change");
}

TEST_F(FlowReloadScenarioTest, FirstFlowCollectorStartsTheProbeAndTheLastEndsIt) {
  config::Config with = config_;
  config_.flow.collectors.clear();
  Start();
  Run(3);
  ASSERT_EQ(daemon_->flow_probe(), nullptr);
  ExpectReloadOk(with);
  ASSERT_NE(daemon_->flow_probe(), nullptr);
  Run(5);
  const size_t cached = daemon_->flow_probe()->meter().cache().size();
  ASSERT_GT(cached, 100u);
  const auto& log = *flow_log_.at("192.0.2.200:4739");
  const size_t at = log.size();
  ASSERT_GT(at, 0u);
  // The last one goes: every cached flow is exported first, once, as a forced end.
  config::Config without = with;
  without.flow.collectors.clear();
  ExpectReloadOk(without);
  EXPECT_EQ(daemon_->flow_probe(), nullptr);
  const FlowView v = DecodeFlows(log, at);
  EXPECT_EQ(Count(v, EndReason::kForcedEnd), cached);
  EXPECT_EQ(v.records.size(), cached);
  EXPECT_NE(daemon_->last_reload().Summary().find(
                "flow export stopped (no flow collector left): the " + std::to_string(cached) +
                " cached flows were exported first"),
            std::string::npos)
      << daemon_->last_reload().Summary();
  Run(3);  // the sFlow side runs on
  EXPECT_EQ(log.size(), v.sequences.size() + at);
  EXPECT_EQ(Breaks(Decode(*sflow_.at("192.0.2.100:6343")).datagram_seqs), 0);
}

TEST_F(FlowReloadScenarioTest, ExporterOptionsRestartEveryExporterWithFreshTemplates) {
  config_.flow.template_refresh_packets = 0;
  config_.flow.template_refresh_s = 0;
  config_.flow.inactive_timeout_s = 2;
  Start();
  Run(5);
  SharedCapture* c = flow_.at("192.0.2.200:4739");
  const size_t at = c->datagrams().size();
  const size_t cached = daemon_->flow_probe()->meter().cache().size();
  config::Config next = config_;
  next.flow.observation_domain = 42;
  ExpectReloadOk(next);
  Run(5);
  exporter::netflow::NetflowDecoder dec;
  bool first_after = true;
  for (size_t i = 0; i < c->datagrams().size(); ++i) {
    const auto& d = c->datagrams()[i];
    auto m = dec.Decode(hal::base::ByteView(d.data(), d.size()));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(m->source_id, i < at ? 0u : 42u);
    if (i >= at && first_after) {
      EXPECT_FALSE(m->templates.empty()) << "the new stream starts with its templates";
      first_after = false;
    }
  }
  EXPECT_FALSE(first_after);
  // The cache is not flushed for this (its size did not change).
  EXPECT_EQ(Count(DecodeFlows(*c, at), EndReason::kForcedEnd), 0u);
  EXPECT_GT(cached, 0u);
}

}  // namespace
}  // namespace xflowd::agent::daemon
