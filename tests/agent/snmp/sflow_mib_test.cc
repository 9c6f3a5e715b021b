// The sFlow MIB's logic without snmpd: OID index decoding, the walk, set checking, claims and
// the timeout countdown on a manual clock, receivers of their own that data sources attach
// to, and what a file reload keeps.
#include "agent/snmp/sflow_mib.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "agent/daemon/daemon.h"
#include "agent/daemon/sim_platform.h"
#include "exporter/sflow/sflow_decoder.h"
#include "sim/sim_switch.h"
#include "tests/support/capture_transport.h"

namespace xflowd::agent::snmp {
namespace {

using hal::base::ManualClock;
using hal::base::MonoTime;
using hal::base::Result;

Oid Col(uint32_t table, uint32_t column, std::vector<uint32_t> index) {
  Oid o = kSflowAgentOid;
  o.insert(o.end(), {table, 1, column});
  o.insert(o.end(), index.begin(), index.end());
  return o;
}
Oid Rcvr(uint32_t column, uint32_t row) { return Col(4, column, {row}); }
Oid Ds(uint32_t table, uint32_t column, uint32_t ifindex) {
  std::vector<uint32_t> idx = {11};
  idx.insert(idx.end(), kIfIndexOid.begin(), kIfIndexOid.end());
  idx.push_back(ifindex);
  idx.push_back(1);
  return Col(table, column, idx);
}
std::string V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return std::string{static_cast<char>(a), static_cast<char>(b), static_cast<char>(c),
                     static_cast<char>(d)};
}

class SflowMibTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sim::SimConfig sc;
    sc.num_ports = 4;
    sc.seed = 5;
    auto sw = sim::SimSwitch::Create(sc, clock_.Now());
    ASSERT_TRUE(sw.ok()) << sw.status().ToString();
    sw_ = std::move(sw.value());
    config_.agent.address = hal::base::IpAddress::V4(0x0a000001);
    auto c = hal::base::Endpoint::Parse("192.0.2.1:6343", 6343);
    ASSERT_TRUE(c.ok());
    config_.agent.collectors.push_back(config::SflowCollector(*c));
    config_.ports.polling_interval_s = 20;
    daemon::DaemonSettings s;
    s.loop.handle_signals = false;
    s.make_transport =
        [this](const config::SflowCollector& c) -> Result<std::unique_ptr<exporter::Transport>> {
      auto t = std::make_unique<xflowd::testing::CaptureTransport>();
      made_.push_back(c.ToString());
      caps_[c.ToString()] = t.get();
      return std::unique_ptr<exporter::Transport>(std::move(t));
    };
    s.loader = [this]() -> Result<config::Config> { return file_; };
    auto d = daemon::Daemon::Create(config_, daemon::SimPlatform(*sw_), clock_, logger_, s);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    daemon_ = std::move(d.value());
    file_ = config_;
    mib_ = std::make_unique<SflowMib>(*daemon_, SflowMibOptions{2, "9.9"}, logger_);
    daemon_->set_config_overlay([this](config::Config* c) { mib_->OverlayOnFile(c); });
  }

  Error Set(const std::vector<SetVar>& vars, size_t* bad = nullptr) {
    size_t b = 0;
    Error e = mib_->Check(vars, &b);
    if (bad) *bad = b;
    if (e != Error::kNoError) return e;
    return mib_->Apply(vars);
  }
  std::vector<SetVar> Claim(uint32_t row, const std::string& owner, int64_t timeout) {
    return {{Rcvr(2, row), Value::Str(owner)},
            {Rcvr(3, row), Value::Int(timeout)},
            {Rcvr(5, row), Value::Int(1)},
            {Rcvr(6, row), Value::Str(V4(127, 0, 0, 1))},
            {Rcvr(7, row), Value::Int(6399)}};
  }
  size_t Collectors() const { return daemon_->config().agent.collectors.size(); }
  size_t Receivers() const { return daemon_->extra_receivers().size(); }
  // What the datagrams a collector got from the `from`-th on carry.
  struct Seen {
    std::set<uint32_t> flow, counter;  // data sources (ifindex)
    std::vector<uint32_t> datagram_seq;
    std::map<uint32_t, uint32_t> first_flow_seq;  // per data source
    size_t max_bytes = 0;
  };
  Seen Decode(const std::string& collector, size_t from = 0) {
    Seen s;
    const auto& ds = caps_.at(collector)->datagrams();
    for (size_t i = from; i < ds.size(); ++i) {
      auto d = exporter::sflow::DecodeDatagram(hal::base::ByteView(ds[i].data(), ds[i].size()));
      EXPECT_TRUE(d.ok());
      if (!d.ok()) continue;
      s.datagram_seq.push_back(d->header.sequence);
      s.max_bytes = std::max(s.max_bytes, ds[i].size());
      for (const auto& smp : d->samples) {
        if (auto* f = std::get_if<exporter::sflow::DecodedFlowSample>(&smp)) {
          s.flow.insert(f->source.index);
          s.first_flow_seq.emplace(f->source.index, f->sequence);
        } else if (auto* c = std::get_if<exporter::sflow::DecodedCounterSample>(&smp)) {
          s.counter.insert(c->source.index);
        }
      }
    }
    return s;
  }
  size_t Count(const std::string& collector) { return caps_.at(collector)->datagrams().size(); }
  void Run(int seconds) {
    for (int i = 0; i < seconds; ++i) {
      clock_.Advance(hal::base::seconds(1));
      daemon_->Step(clock_.Now());
      mib_->Tick(clock_.Now());
    }
  }
  uint32_t Rate(uint32_t ifindex) {
    return daemon_->agent().FindSampler(ifindex, hal::Direction::kIngress)->sampling_rate();
  }

  ManualClock clock_{MonoTime::FromSeconds(1000)};
  hal::base::Logger logger_ = hal::base::Logger::Null();
  std::unique_ptr<sim::SimSwitch> sw_;
  config::Config config_;
  config::Config file_;  // what the loader reads
  std::vector<std::string> made_;
  std::map<std::string, xflowd::testing::CaptureTransport*> caps_;  // by collector
  std::unique_ptr<daemon::Daemon> daemon_;
  std::unique_ptr<SflowMib> mib_;
};

TEST(SflowMibNameTest, DecodesAndEncodesEveryObject) {
  const std::vector<Name> names = {
      {Object::kVersion},          {Object::kAgentAddressType}, {Object::kAgentAddress},
      {Object::kRcvr, 2, 1},       {Object::kRcvr, 8, 65535},   {Object::kFs, 3, 7, 1},
      {Object::kFs, 5, 100000, 1}, {Object::kCp, 4, 1, 1},
  };
  for (const Name& n : names) {
    const Oid o = Encode(n);
    const Name d = Decode(o.data(), o.size());
    EXPECT_EQ(d.object, n.object);
    EXPECT_EQ(d.column, n.column);
    EXPECT_EQ(d.index, n.index);
    EXPECT_EQ(d.instance, n.instance);
  }
  EXPECT_EQ(Ds(5, 4, 3), Encode({Object::kFs, 4, 3, 1}));
}

TEST(SflowMibNameTest, RefusesWhatTheMibDoesNotDefine) {
  auto none = [](Oid o) { return Decode(o.data(), o.size()).object == Object::kNone; };
  EXPECT_TRUE(none({}));
  EXPECT_TRUE(none({1, 3, 6}));
  Oid v = Encode({Object::kVersion});
  v.back() = 1;  // sFlowVersion.1
  EXPECT_TRUE(none(v));
  EXPECT_TRUE(none(Rcvr(1, 1)));  // the index column is not-accessible
  EXPECT_TRUE(none(Rcvr(9, 1)));
  EXPECT_TRUE(none(Rcvr(2, 0)));
  Oid fs = Ds(5, 4, 3);
  fs[kSflowAgentOid.size() + 3] = 10;  // a wrong length prefix
  EXPECT_TRUE(none(fs));
  fs = Ds(5, 4, 3);
  fs[kSflowAgentOid.size() + 10] = 3;  // not ifIndex: an ifDescr OID
  EXPECT_TRUE(none(fs));
  fs = Ds(5, 4, 3);
  fs.back() = 0;  // instance 0
  EXPECT_TRUE(none(fs));
  fs.pop_back();
  EXPECT_TRUE(none(fs));
  EXPECT_TRUE(none(Ds(6, 5, 3)));  // Cp has no column 5
}

TEST(SflowMibNameTest, ChecksTypesAndRanges) {
  EXPECT_EQ(CheckValue({Object::kFs, 4, 1, 1}, Value::Str("1")), Error::kWrongType);
  EXPECT_EQ(CheckValue({Object::kFs, 4, 1, 1}, Value::Int(-1)), Error::kWrongValue);
  EXPECT_EQ(CheckValue({Object::kFs, 4, 1, 1}, Value::Int(0)), Error::kNoError);  // off
  EXPECT_EQ(CheckValue({Object::kRcvr, 4, 1}, Value::Int(199)), Error::kWrongValue);
  EXPECT_EQ(CheckValue({Object::kRcvr, 4, 1}, Value::Int(9000)), Error::kNoError);
  EXPECT_EQ(CheckValue({Object::kRcvr, 4, 1}, Value::Int(9001)), Error::kWrongValue);
  EXPECT_EQ(CheckValue({Object::kFs, 4, 1, 1}, Value::Int(1)), Error::kNoError);
  EXPECT_EQ(CheckValue({Object::kFs, 4, 1, 1}, Value::Int(int64_t{1} << 31)), Error::kWrongValue);
  EXPECT_EQ(CheckValue({Object::kFs, 5, 1, 1}, Value::Int(13)), Error::kWrongValue);
  EXPECT_EQ(CheckValue({Object::kCp, 4, 1, 1}, Value::Int(0)), Error::kNoError);
  EXPECT_EQ(CheckValue({Object::kCp, 4, 1, 1}, Value::Int(86401)), Error::kWrongValue);
  EXPECT_EQ(CheckValue({Object::kRcvr, 2, 1}, Value::Str(std::string(128, 'x'))),
            Error::kWrongLength);
  EXPECT_EQ(CheckValue({Object::kRcvr, 6, 1}, Value::Str("abc")), Error::kWrongLength);
  EXPECT_EQ(CheckValue({Object::kRcvr, 7, 1}, Value::Int(65536)), Error::kWrongValue);
  EXPECT_EQ(CheckValue({Object::kRcvr, 8, 1}, Value::Int(4)), Error::kWrongValue);
  EXPECT_EQ(CheckValue({Object::kVersion}, Value::Str("x")), Error::kNotWritable);
  EXPECT_EQ(CheckValue({}, Value::Int(1)), Error::kNoCreation);
}

TEST_F(SflowMibTest, WalkShowsWhatTheDaemonUses) {
  const auto all = mib_->Snapshot();
  // 3 scalars, 7 receiver columns x (2 free + 1 config), 3 Fs and 2 Cp columns x 4 ports.
  ASSERT_EQ(all.size(), 3u + 7 * 3 + 3 * 4 + 2 * 4);
  for (size_t i = 1; i < all.size(); ++i) EXPECT_LT(all[i - 1].first, all[i].first);
  EXPECT_EQ(all[0].second, Value::Str("1.3;xflowd;9.9"));
  EXPECT_EQ(*mib_->Get(Rcvr(2, 3)), Value::Str("config"));
  EXPECT_EQ(*mib_->Get(Rcvr(6, 3)), Value::Str(V4(192, 0, 2, 1)));
  EXPECT_EQ(*mib_->Get(Rcvr(2, 1)), Value::Str(""));
  for (uint32_t i = 1; i <= 4; ++i) {
    EXPECT_EQ(*mib_->Get(Ds(5, 4, i)), Value::Int(Rate(i)));
    EXPECT_EQ(*mib_->Get(Ds(5, 3, i)), Value::Int(3));  // the config receiver's row
    EXPECT_EQ(*mib_->Get(Ds(6, 4, i)), Value::Int(20));
  }
  EXPECT_FALSE(mib_->Get(Ds(5, 4, 5)));
  // GETNEXT: from before the MIB to the first object, past the last to nothing.
  EXPECT_EQ(mib_->GetNext({1, 3, 6, 1, 4, 1})->first, all.front().first);
  EXPECT_EQ(mib_->GetNext(all[5].first)->first, all[6].first);
  EXPECT_FALSE(mib_->GetNext(all.back().first));
}

TEST_F(SflowMibTest, ClaimMakesAReceiverUntilTheTimeoutRunsOut) {
  ASSERT_EQ(Set(Claim(1, "mgr", 30)), Error::kNoError);
  EXPECT_EQ(Collectors(), 1u);  // the configuration's receiver is untouched
  EXPECT_EQ(Receivers(), 1u);
  EXPECT_EQ(made_.back(), "127.0.0.1:6399");
  EXPECT_EQ(*mib_->Get(Rcvr(2, 1)), Value::Str("mgr"));
  EXPECT_EQ(*mib_->Get(Rcvr(3, 1)), Value::Int(30));
  // The countdown, on the daemon's clock.
  clock_.Advance(hal::base::milliseconds(29500));
  mib_->Tick(clock_.Now());
  EXPECT_EQ(*mib_->Get(Rcvr(3, 1)), Value::Int(1));
  EXPECT_EQ(Receivers(), 1u);
  clock_.Advance(hal::base::milliseconds(500));
  mib_->Tick(clock_.Now());
  EXPECT_EQ(*mib_->Get(Rcvr(2, 1)), Value::Str(""));
  EXPECT_EQ(*mib_->Get(Rcvr(3, 1)), Value::Int(0));
  EXPECT_EQ(Receivers(), 0u);
  EXPECT_EQ(mib_->stats().expiries, 1u);
  // Free again: anyone may claim it.
  EXPECT_EQ(Set(Claim(1, "other", 10)), Error::kNoError);
}

TEST_F(SflowMibTest, BadSetsChangeNothing) {
  ASSERT_EQ(Set(Claim(1, "mgr", 30)), Error::kNoError);
  const config::Config before = daemon_->config();
  size_t bad = 9;
  // Owned by someone else.
  EXPECT_EQ(Set(Claim(1, "intruder", 30), &bad), Error::kInconsistentValue);
  EXPECT_EQ(bad, 0u);
  // The configuration's receiver.
  EXPECT_EQ(Set({{Rcvr(7, 3), Value::Int(1)}}), Error::kNotWritable);
  // A row that does not exist.
  EXPECT_EQ(Set({{Rcvr(7, 4), Value::Int(1)}}), Error::kNoCreation);
  // An unclaimed row, a claim without a timeout.
  EXPECT_EQ(Set({{Rcvr(7, 2), Value::Int(1)}}), Error::kInconsistentValue);
  EXPECT_EQ(Set({{Rcvr(2, 2), Value::Str("x")}}), Error::kInconsistentValue);
  // The address type and the address disagree; the error names the address.
  EXPECT_EQ(Set({{Rcvr(5, 1), Value::Int(2)}, {Rcvr(6, 1), Value::Str(V4(10, 0, 0, 9))}}, &bad),
            Error::kInconsistentValue);
  // Rates: the type, the range, the second variable of a request with a good first one.
  EXPECT_EQ(Set({{Ds(5, 4, 2), Value::Str("512")}}), Error::kWrongType);
  EXPECT_EQ(Set({{Ds(5, 4, 2), Value::Int(512)}, {Ds(5, 4, 3), Value::Int(-1)}}, &bad),
            Error::kWrongValue);
  EXPECT_EQ(bad, 1u);
  EXPECT_EQ(Set({{Ds(5, 4, 9), Value::Int(512)}}), Error::kNoCreation);
  // An Fs / Cp receiver that is not claimed, or does not exist.
  EXPECT_EQ(Set({{Ds(5, 3, 2), Value::Int(2)}}), Error::kInconsistentValue);
  EXPECT_EQ(Set({{Ds(6, 3, 2), Value::Int(4)}}), Error::kInconsistentValue);
  EXPECT_EQ(Set({{Rcvr(4, 1), Value::Int(9001)}}), Error::kWrongValue);
  EXPECT_EQ(Rate(2), 10000u);
  EXPECT_EQ(daemon_->config().agent.collectors.size(), before.agent.collectors.size());
  EXPECT_EQ(daemon_->config().ports.overrides.size(), before.ports.overrides.size());
  EXPECT_EQ(*mib_->Get(Rcvr(2, 1)), Value::Str("mgr"));
  EXPECT_EQ(mib_->stats().sets_refused, 12u);
  EXPECT_EQ(mib_->stats().sets, 1u);
}

TEST_F(SflowMibTest, RatesAndIntervalsApplyLiveAndSequencesContinue) {
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(hal::base::seconds(1));
    daemon_->Step(clock_.Now());
  }
  sflow::Sampler* s2 = daemon_->agent().FindSampler(2, hal::Direction::kIngress);
  const uint32_t seq = s2->sequence();
  ASSERT_GT(seq, 0u);
  ASSERT_EQ(Set({{Ds(5, 4, 2), Value::Int(512)},
                 {Ds(6, 4, 2), Value::Int(5)},
                 {Ds(5, 5, 2), Value::Int(64)}}),
            Error::kNoError);
  EXPECT_EQ(daemon_->agent().FindSampler(2, hal::Direction::kIngress), s2);  // the same sampler
  EXPECT_EQ(s2->sequence(), seq);
  EXPECT_EQ(Rate(2), 512u);
  EXPECT_EQ(daemon_->agent().FindPoller(2)->config().interval_s, 5u);
  EXPECT_EQ(*mib_->Get(Ds(5, 5, 2)), Value::Int(64));
  EXPECT_EQ(Rate(1), 10000u);
  EXPECT_EQ(daemon_->agent().FindPoller(1)->config().interval_s, 20u);
  EXPECT_EQ(daemon_->last_reload().changes.size(), 2u);  // rate and interval of swp2
}

TEST_F(SflowMibTest, FileReloadKeepsSnmpSettingsUnlessTheFileTouchesThePort) {
  ASSERT_EQ(Set(Claim(2, "mgr", 300)), Error::kNoError);
  ASSERT_EQ(Set({{Ds(5, 4, 1), Value::Int(512)}, {Ds(5, 4, 2), Value::Int(256)}}), Error::kNoError);
  // The same file again: nothing SNMP set goes.
  ASSERT_TRUE(daemon_->ReloadFromLoader().ok());
  EXPECT_EQ(Rate(1), 512u);
  EXPECT_EQ(Rate(2), 256u);
  EXPECT_EQ(Receivers(), 1u);
  // The file now sets swp1: its SNMP rate goes, swp2's and the claimed receiver stay.
  config::PortOverride o;
  o.pattern = "swp1";
  o.sampling_rate = 2000;
  file_.ports.overrides.push_back(o);
  ASSERT_TRUE(daemon_->ReloadFromLoader().ok()) << daemon_->last_reload().Summary();
  EXPECT_EQ(Rate(1), 2000u);
  EXPECT_EQ(Rate(2), 256u);
  EXPECT_EQ(Receivers(), 1u);
  EXPECT_EQ(mib_->stats().overrides_dropped, 1u);
  EXPECT_EQ(*mib_->Get(Rcvr(2, 2)), Value::Str("mgr"));
}

// With SNMP on, the file may name no collector at all: managers bring them, and the last
// one's timeout leaves the daemon sending nowhere again (not an error).
TEST_F(SflowMibTest, ManagersMayBringEveryCollector) {
  config_.agent.collectors.clear();
  config_.snmp.enabled = true;
  daemon::DaemonSettings s;
  s.loop.handle_signals = false;
  s.make_transport =
      [](const config::SflowCollector&) -> Result<std::unique_ptr<exporter::Transport>> {
    return std::unique_ptr<exporter::Transport>(
        std::make_unique<xflowd::testing::CaptureTransport>());
  };
  mib_.reset();
  daemon_.reset();
  auto d = daemon::Daemon::Create(config_, daemon::SimPlatform(*sw_), clock_, logger_, s);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  daemon_ = std::move(d.value());
  mib_ = std::make_unique<SflowMib>(*daemon_, SflowMibOptions{2, "9.9"}, logger_);
  EXPECT_EQ(*mib_->Get(Ds(5, 3, 1)), Value::Int(0));  // no receiver: idle
  EXPECT_EQ(daemon_->agent().FindSampler(1, hal::Direction::kIngress)->receiver(), nullptr);
  ASSERT_EQ(Set(Claim(2, "mgr", 5)), Error::kNoError);
  EXPECT_EQ(Receivers(), 1u);
  ASSERT_EQ(Set({{Ds(5, 3, 1), Value::Int(2)}}), Error::kNoError);
  EXPECT_EQ(*mib_->Get(Ds(5, 3, 1)), Value::Int(2));
  EXPECT_NE(daemon_->agent().FindSampler(1, hal::Direction::kIngress)->receiver(), nullptr);
  clock_.Advance(hal::base::seconds(5));
  mib_->Tick(clock_.Now());
  EXPECT_EQ(Receivers(), 0u);
  EXPECT_EQ(*mib_->Get(Ds(5, 3, 1)), Value::Int(0));
  EXPECT_EQ(mib_->stats().apply_errors, 0u);
}

// A claimed row is a receiver of its own: the data sources pointed at it send there only, in
// its own datagrams (sequence from 1, its datagram size); the timeout idles them.
TEST_F(SflowMibTest, DataSourcesSendToTheReceiverTheyName) {
  const std::string cfg = "192.0.2.1:6343";
  const std::string mine = "127.0.0.1:6399";
  auto claim = Claim(1, "mgr", 60);
  claim.push_back({Rcvr(4, 1), Value::Int(300)});
  ASSERT_EQ(Set(claim), Error::kNoError);
  EXPECT_EQ(*mib_->Get(Rcvr(4, 1)), Value::Int(300));
  EXPECT_EQ(*mib_->Get(Rcvr(4, 3)), Value::Int(1400));  // the configuration's
  Run(25);
  EXPECT_EQ(Count(mine), 0u);  // nobody sends to it yet
  const uint32_t seq = daemon_->agent().FindSampler(2, hal::Direction::kIngress)->sequence();
  ASSERT_GT(seq, 0u);
  ASSERT_EQ(Set({{Ds(5, 3, 2), Value::Int(1)}, {Ds(6, 3, 2), Value::Int(1)}}), Error::kNoError);
  EXPECT_EQ(*mib_->Get(Ds(5, 3, 2)), Value::Int(1));
  EXPECT_EQ(*mib_->Get(Ds(6, 3, 2)), Value::Int(1));
  EXPECT_EQ(*mib_->Get(Ds(5, 3, 1)), Value::Int(3));
  const size_t cfg_from = Count(cfg);
  Run(25);
  const Seen at_mine = Decode(mine);
  EXPECT_EQ(at_mine.flow, std::set<uint32_t>{2});
  EXPECT_EQ(at_mine.counter, std::set<uint32_t>{2});
  EXPECT_EQ(at_mine.first_flow_seq.at(2), seq + 1);  // the sampler's sequence continues
  EXPECT_LE(at_mine.max_bytes, 300u);
  for (size_t i = 0; i < at_mine.datagram_seq.size(); ++i) {
    EXPECT_EQ(at_mine.datagram_seq[i], i + 1);  // its own datagram sequence
  }
  const Seen at_cfg = Decode(cfg, cfg_from);
  EXPECT_EQ(at_cfg.flow, (std::set<uint32_t>{1, 3, 4}));
  EXPECT_EQ(at_cfg.counter.count(2), 0u);
  EXPECT_GT(at_cfg.max_bytes, 300u);
  EXPECT_NE(daemon_->Summary().find("Receiver 1 (SNMP) capture: " + std::to_string(Count(mine)) +
                                    " datagrams, "),
            std::string::npos)
      << daemon_->Summary();

  // The timeout: swp2's sampler and poller go idle (receiver 0), the row is free.
  Run(40);
  EXPECT_EQ(*mib_->Get(Rcvr(2, 1)), Value::Str(""));
  EXPECT_EQ(*mib_->Get(Ds(5, 3, 2)), Value::Int(0));
  EXPECT_EQ(*mib_->Get(Ds(6, 3, 2)), Value::Int(0));
  EXPECT_EQ(Receivers(), 0u);
  EXPECT_EQ(daemon_->agent().FindSampler(2, hal::Direction::kIngress)->receiver(), nullptr);
  EXPECT_EQ(daemon_->agent().FindPoller(2)->receiver(), nullptr);
  const size_t idle_from = Count(cfg);
  Run(25);
  const Seen idle = Decode(cfg, idle_from);
  EXPECT_EQ(idle.flow.count(2), 0u);
  EXPECT_EQ(idle.counter.count(2), 0u);
  // Back to the configuration's receiver by naming one of its rows; what the source sent
  // while the sampler was idle is not counted as lost.
  const sflow::Sampler* s2 = daemon_->agent().FindSampler(2, hal::Direction::kIngress);
  const uint32_t drops = s2->drops();
  ASSERT_EQ(Set({{Ds(5, 3, 2), Value::Int(3)}}), Error::kNoError);
  const size_t back_from = Count(cfg);
  Run(5);
  EXPECT_EQ(Decode(cfg, back_from).flow.count(2), 1u);
  EXPECT_EQ(s2->drops(), drops);
}

// sFlowFsPacketSamplingRate 0: that data source's sampling is off until a rate is set again.
TEST_F(SflowMibTest, RateZeroTurnsSamplingOff) {
  const std::string cfg = "192.0.2.1:6343";
  ASSERT_EQ(Set({{Ds(5, 4, 3), Value::Int(0)}}), Error::kNoError);
  EXPECT_EQ(Rate(3), 0u);
  EXPECT_EQ(*mib_->Get(Ds(5, 4, 3)), Value::Int(0));
  Run(200);  // 3 self-check windows: a port not sampling is not judged (not flagged)
  EXPECT_EQ(Decode(cfg).flow.count(3), 0u);
  EXPECT_EQ(Decode(cfg).flow.count(4), 1u);
  for (const daemon::PortCheck& c : daemon_->self_check().report().ports) {
    if (c.ifindex == 3) {
      EXPECT_EQ(c.windows, 0u);
      EXPECT_FALSE(c.flagged);
    }
  }
  const uint32_t drops = daemon_->agent().FindSampler(3, hal::Direction::kIngress)->drops();
  ASSERT_EQ(Set({{Ds(5, 4, 3), Value::Int(1000)}}), Error::kNoError);
  EXPECT_EQ(Rate(3), 1000u);
  const size_t from = Count(cfg);
  Run(5);
  EXPECT_EQ(Decode(cfg, from).flow.count(3), 1u);
  EXPECT_EQ(daemon_->agent().FindSampler(3, hal::Direction::kIngress)->drops(), drops);
}

}  // namespace
}  // namespace xflowd::agent::snmp
