// Daemon wiring against a fake platform and capture transports. The event loop runs on real
// timers shortened to milliseconds; the tests stop it by count (advance calls), not by time.
#include "agent/daemon/daemon.h"

#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "exporter/capture_transport.h"
#include "sim/sim_switch.h"

namespace xflowd::agent::daemon {
namespace {

using exporter::CaptureTransport;
using hal::base::Endpoint;
using hal::base::IpAddress;
using hal::base::Logger;
using hal::base::LogLevel;
using hal::base::milliseconds;
using hal::base::Result;
using hal::base::Status;

// A minimal Ethernet + IPv4 + UDP frame (60 bytes).
const uint8_t kFrame[60] = {
    0x02, 0,    0,    0,    0, 0x02, 0x02, 0, 0,  0,  0, 0x01, 0x08, 0x00,  // Ethernet
    0x45, 0,    0,    46,   0, 0,    0x40, 0, 64, 17, 0, 0,    10,   0,
    0,    1,    10,   0,    0, 2,              // IPv4
    0x30, 0x39, 0x00, 0x35, 0, 26,   0,    0,  // UDP 12345 -> 53
};

// PacketSource + SamplingControl + CounterSource + PortInventory, all in memory.
class FakePlatform final : public hal::PacketSource,
                           public hal::SamplingControl,
                           public hal::CounterSource,
                           public hal::PortInventory {
 public:
  FakePlatform() : efd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    for (uint32_t i = 1; i <= 3; ++i) {
      hal::PortInfo p;
      p.ifindex = i;
      p.name = "swp" + std::to_string(i);
      p.speed_bps = i == 1 ? 1'000'000'000ull : i == 2 ? 10'000'000'000ull : 100'000'000'000ull;
      p.admin_up = p.oper_up = true;
      ports_.push_back(p);
    }
  }
  ~FakePlatform() override { close(efd_); }

  // Queues `n` hardware samples for ifindex, taken at the rate programmed there.
  void Inject(uint32_t ifindex, int n) {
    for (int i = 0; i < n; ++i) {
      hal::PacketSample s;
      s.input_ifindex = ifindex;
      s.frame_length = 64;
      s.stripped = 4;
      s.sampling_rate = rates_[ifindex];
      s.source_sequence = ++seq_;
      s.has_source_sequence = true;
      s.header = hal::base::ByteView(kFrame, sizeof(kFrame));
      queue_.push_back(s);
    }
    uint64_t one = 1;
    (void)!write(efd_, &one, sizeof(one));
  }

  // hal::PacketSource
  int fd() const override { return efd_; }
  size_t Drain(hal::PacketSampleSink& sink, size_t budget) override {
    size_t n = 0;
    while (n < budget && !queue_.empty()) {
      sink.OnSample(queue_.front());
      queue_.pop_front();
      ++n;
    }
    if (queue_.empty()) {
      uint64_t v;
      (void)!read(efd_, &v, sizeof(v));
    }
    stats_.samples += n;
    return n;
  }
  hal::PacketSourceStats stats() const override { return stats_; }

  // hal::SamplingControl: rounds down to a power of two, like some ASICs; fails on fail_ifindex.
  Result<uint32_t> SetSamplingRate(uint32_t ifindex, hal::Direction, uint32_t rate,
                                   uint32_t header_bytes) override {
    requested[ifindex] = rate;
    header_bytes_seen = header_bytes;
    if (fail_all || ifindex == fail_ifindex) return hal::base::UnavailableError("ASIC says no");
    uint32_t applied = 1;
    while (applied * 2 <= rate) applied *= 2;
    rates_[ifindex] = applied;
    return applied;
  }

  // hal::CounterSource
  Result<hal::PortCounters> ReadCounters(uint32_t ifindex) override {
    ++counter_reads;
    hal::PortCounters c;
    c.in_octets = 1000 * ifindex;
    return c;
  }

  // hal::PortInventory
  Result<std::vector<hal::PortInfo>> ListPorts() override { return ports_; }
  void SetListener(Listener listener) override {
    listener_ = std::move(listener);
    listener_set = static_cast<bool>(listener_);
  }
  void Fire(hal::PortEvent e, const hal::PortInfo& p) {
    if (listener_) listener_(e, p);
  }

  std::map<uint32_t, uint32_t> requested;
  uint32_t header_bytes_seen = 0;
  uint32_t fail_ifindex = 0;
  bool fail_all = false;
  bool listener_set = false;
  int counter_reads = 0;
  std::vector<hal::PortInfo> ports_;

 private:
  int efd_;
  std::deque<hal::PacketSample> queue_;
  std::map<uint32_t, uint32_t> rates_;
  uint32_t seq_ = 0;
  hal::PacketSourceStats stats_;
  Listener listener_;
};

class DaemonTest : public ::testing::Test {
 protected:
  DaemonTest()
      : logger_([this](LogLevel level, const std::string& line) {
          if (level >= LogLevel::kWarning) warnings_.push_back(line);
        }) {
    options_.sim = true;
    options_.agent_address = *IpAddress::Parse("192.0.2.10");
    options_.collectors = {*Endpoint::Parse("127.0.0.1:6343", 6343),
                           *Endpoint::Parse("[::1]:6343", 6343)};
    options_.polling_interval_s = 1;
    options_.header_bytes = 96;
    platform_.packets = &fake_;
    platform_.sampling = &fake_;
    platform_.counters = &fake_;
    platform_.ports = &fake_;
    platform_.description = "fake switch";
    settings_.loop.tick_period = milliseconds(2);
    settings_.make_transport =
        [this](const Endpoint& ep) -> Result<std::unique_ptr<exporter::Transport>> {
      if (ep.port == 9) return hal::base::UnavailableError("collector " + ep.ToString() + ": no");
      auto t = std::make_unique<CaptureTransport>();
      captures_.push_back(t.get());
      return std::unique_ptr<exporter::Transport>(std::move(t));
    };
  }

  std::unique_ptr<Daemon> Make() {
    auto d = Daemon::Create(options_, platform_, clock_, logger_, settings_);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? std::move(d.value()) : nullptr;
  }

  FakePlatform fake_;
  Platform platform_;
  DaemonOptions options_;
  DaemonSettings settings_;
  hal::base::SystemClock clock_;
  std::vector<std::string> warnings_;
  Logger logger_;
  std::vector<CaptureTransport*> captures_;
};

TEST_F(DaemonTest, BuildsSamplerAndPollerPerPortAtTheAppliedRate) {
  auto d = Make();
  ASSERT_TRUE(d);
  // Default rates by speed (1G, 10G, 100G), programmed with the header size.
  EXPECT_EQ(fake_.requested[1], 1000u);
  EXPECT_EQ(fake_.requested[2], 10000u);
  EXPECT_EQ(fake_.requested[3], 100000u);
  EXPECT_EQ(fake_.header_bytes_seen, 96u);
  // The samplers report what the platform applied (power of two below).
  ASSERT_NE(d->agent().FindSampler(1, hal::Direction::kIngress), nullptr);
  EXPECT_EQ(d->agent().FindSampler(1, hal::Direction::kIngress)->sampling_rate(), 512u);
  EXPECT_EQ(d->agent().FindSampler(2, hal::Direction::kIngress)->sampling_rate(), 8192u);
  EXPECT_EQ(d->agent().FindSampler(3, hal::Direction::kIngress)->sampling_rate(), 65536u);
  EXPECT_EQ(d->agent().pollers().size(), 3u);
  EXPECT_EQ(d->agent().receivers().size(), 1u);
  EXPECT_EQ(d->transports().size(), 2u);
  EXPECT_EQ(d->ports_without_sampling(), 0u);
  EXPECT_TRUE(fake_.listener_set);
  d.reset();
  EXPECT_FALSE(fake_.listener_set) << "listener left pointing at a destroyed daemon";
}

TEST_F(DaemonTest, ExplicitSamplingRateOnEveryPort) {
  options_.sampling_rate = 256;
  auto d = Make();
  ASSERT_TRUE(d);
  for (uint32_t i = 1; i <= 3; ++i) EXPECT_EQ(fake_.requested[i], 256u);
}

TEST_F(DaemonTest, PortThatRefusesSamplingIsStillPolled) {
  fake_.fail_ifindex = 2;
  auto d = Make();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->ports_without_sampling(), 1u);
  EXPECT_EQ(d->agent().FindSampler(2, hal::Direction::kIngress), nullptr);
  EXPECT_NE(d->agent().FindPoller(2), nullptr);
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_NE(warnings_[0].find("swp2"), std::string::npos) << warnings_[0];
  EXPECT_NE(warnings_[0].find("ASIC says no"), std::string::npos) << warnings_[0];
}

TEST_F(DaemonTest, NoPortThatCanSampleStillRunsAndPollsEveryPort) {
  fake_.fail_all = true;
  auto d = Make();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->ports_without_sampling(), 3u);
  EXPECT_EQ(d->agent().samplers().size(), 0u);
  EXPECT_EQ(d->agent().pollers().size(), 3u);
  ASSERT_EQ(warnings_.size(), 4u);  // one per port, then the summary
  EXPECT_NE(warnings_[3].find("could not program sampling on any port"), std::string::npos)
      << warnings_[3];
  EXPECT_NE(warnings_[3].find("polled"), std::string::npos) << warnings_[3];
}

TEST_F(DaemonTest, NoPortsYetIsAWarningAndPortsAreAddedAsTheyAppear) {
  fake_.ports_.clear();
  auto d = Make();
  ASSERT_TRUE(d);
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_NE(warnings_[0].find("no ports on fake switch yet; waiting"), std::string::npos)
      << warnings_[0];
  EXPECT_EQ(d->agent().pollers().size(), 0u);
  hal::PortInfo p;
  p.ifindex = 9;
  p.name = "swp9";
  p.speed_bps = 10'000'000'000ull;
  fake_.Fire(hal::PortEvent::kAdded, p);
  EXPECT_NE(d->agent().FindSampler(9, hal::Direction::kIngress), nullptr);
  EXPECT_NE(d->agent().FindPoller(9), nullptr);
}

TEST_F(DaemonTest, CreateErrors) {
  DaemonOptions bad_collector = options_;
  bad_collector.collectors.push_back(*Endpoint::Parse("127.0.0.1:9", 6343));
  auto bc = Daemon::Create(bad_collector, platform_, clock_, logger_, settings_);
  ASSERT_FALSE(bc.ok());
  EXPECT_NE(bc.status().message().find("127.0.0.1:9"), std::string::npos);

  DaemonOptions no_agent = options_;
  no_agent.agent_address.reset();
  EXPECT_FALSE(Daemon::Create(no_agent, platform_, clock_, logger_, settings_).ok());

  Platform empty;
  EXPECT_FALSE(Daemon::Create(options_, empty, clock_, logger_, settings_).ok());
}

TEST_F(DaemonTest, RunsSamplesToEveryCollectorAndFlushesAtStop) {
  int advances = 0;
  Daemon* daemon = nullptr;
  platform_.advance_period = milliseconds(1);
  platform_.advance = [&](hal::base::MonoTime) {
    ++advances;
    if (advances == 1) {
      fake_.Inject(1, 30);
      fake_.Inject(3, 20);
    }
    if (advances == 40) daemon->Stop();
    if (advances == 41) fake_.Inject(2, 5);  // made by the final advance: must still go out
  };
  auto d = Make();
  ASSERT_TRUE(d);
  daemon = d.get();
  auto reason = d->Run();
  ASSERT_TRUE(reason.ok()) << reason.status().ToString();
  EXPECT_EQ(*reason, StopReason::kStopped);
  EXPECT_EQ(advances, 41);

  const sflow::ReceiverStats& rs = d->agent().receivers()[0]->stats();
  EXPECT_EQ(rs.flow_samples, 55u);
  EXPECT_GT(rs.counter_samples, 0u);  // 1 s polling is many 2 ms ticks
  EXPECT_GT(fake_.counter_reads, 0);
  ASSERT_EQ(captures_.size(), 2u);
  EXPECT_EQ(captures_[0]->datagrams().size(), rs.datagrams);
  EXPECT_EQ(captures_[0]->datagrams(), captures_[1]->datagrams());
  // sFlow v5, IPv4 agent 192.0.2.10, datagram sequence 1, 2, 3 ...
  uint32_t expected_seq = 1;
  for (const auto& dg : captures_[0]->datagrams()) {
    hal::base::ByteView v(dg.data(), dg.size());
    uint32_t version = 0, addr_type = 0, addr = 0, seq = 0;
    ASSERT_TRUE(v.U32At(0, &version) && v.U32At(4, &addr_type) && v.U32At(8, &addr) &&
                v.U32At(16, &seq));
    EXPECT_EQ(version, 5u);
    EXPECT_EQ(addr_type, 1u);
    EXPECT_EQ(addr, 0xC000020Au);
    EXPECT_EQ(seq, expected_seq++);
    EXPECT_LE(dg.size(), options_.max_datagram_bytes);
  }
  EXPECT_GE(d->loop().stats().ticks, 1u);

  std::string summary = d->Summary();
  for (const char* needle : {"on 3 ports of the fake switch", "55 samples", "55 flow samples",
                             "0 send errors", "Collectors: capture:"}) {
    EXPECT_NE(summary.find(needle), std::string::npos) << needle << "\n" << summary;
  }
}

TEST_F(DaemonTest, DurationEndsTheRun) {
  options_.duration_s = 1;
  settings_.loop.tick_period = milliseconds(100);
  auto d = Make();
  ASSERT_TRUE(d);
  auto reason = d->Run();
  ASSERT_TRUE(reason.ok());
  EXPECT_EQ(*reason, StopReason::kDeadline);
  EXPECT_GE(d->loop().stats().ticks, 5u);
}

TEST_F(DaemonTest, PortEventsAddRemoveAndUpdate) {
  auto d = Make();
  ASSERT_TRUE(d);
  hal::PortInfo p;
  p.ifindex = 7;
  p.name = "swp7";
  p.speed_bps = 25'000'000'000ull;
  fake_.Fire(hal::PortEvent::kAdded, p);
  EXPECT_EQ(fake_.requested[7], 25000u);
  ASSERT_NE(d->agent().FindSampler(7, hal::Direction::kIngress), nullptr);
  ASSERT_NE(d->agent().FindPoller(7), nullptr);
  p.name = "swp7-renamed";
  fake_.Fire(hal::PortEvent::kChanged, p);
  fake_.Fire(hal::PortEvent::kRemoved, p);
  EXPECT_EQ(d->agent().FindSampler(7, hal::Direction::kIngress), nullptr);
  EXPECT_EQ(d->agent().FindPoller(7), nullptr);
  EXPECT_EQ(d->agent().pollers().size(), 3u);
}

TEST_F(DaemonTest, SendErrorsAreCountedAndLogged) {
  Daemon* daemon = nullptr;
  int advances = 0;
  platform_.advance_period = milliseconds(1);
  platform_.advance = [&](hal::base::MonoTime) {
    if (++advances == 30) daemon->Stop();
  };
  auto d = Make();
  ASSERT_TRUE(d);
  daemon = d.get();
  captures_[1]->set_fail(true);
  auto reason = d->Run();
  ASSERT_TRUE(reason.ok());
  const sflow::ReceiverStats& rs = d->agent().receivers()[0]->stats();
  ASSERT_GT(rs.datagrams, 0u);  // counter samples
  EXPECT_EQ(captures_[0]->datagrams().size(), rs.datagrams);
  EXPECT_EQ(captures_[1]->stats().send_errors, rs.datagrams);
  EXPECT_EQ(rs.send_errors, rs.datagrams);
  bool logged = false;
  for (const auto& w : warnings_) logged |= w.find("send errors") != std::string::npos;
  EXPECT_TRUE(logged);
  EXPECT_NE(d->Summary().find("errors"), std::string::npos);
}

// The real simulated switch behind the daemon, as `xflowd --sim` wires it, for a few hundred
// milliseconds of real time with 10 ms ticks.
TEST_F(DaemonTest, SimSwitchEndToEndScenarioTest) {
  sim::SimConfig sc;
  sc.num_ports = 4;
  sc.port_speed_bps = 1'000'000'000ull;
  sc.load = 0.2;
  sc.seed = 7;
  sc.header_bytes = options_.header_bytes;
  auto sw = sim::SimSwitch::Create(sc, clock_.Now());
  ASSERT_TRUE(sw.ok()) << sw.status().ToString();
  Platform platform;
  platform.packets = sw->get();
  platform.sampling = sw->get();
  platform.counters = sw->get();
  platform.ports = sw->get();
  int advances = 0;
  Daemon* daemon = nullptr;
  platform.advance = [&](hal::base::MonoTime now) {
    (*sw)->AdvanceTo(now);
    if (++advances == 30) daemon->Stop();  // ~300 ms
  };
  settings_.loop.tick_period = milliseconds(10);
  auto d = Daemon::Create(options_, platform, clock_, logger_, settings_);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  daemon = d->get();
  for (uint32_t i = 1; i <= 4; ++i) {
    ASSERT_NE((*d)->agent().FindSampler(i, hal::Direction::kIngress), nullptr);
    EXPECT_EQ((*d)->agent().FindSampler(i, hal::Direction::kIngress)->sampling_rate(), 1000u);
  }
  auto reason = (*d)->Run();
  ASSERT_TRUE(reason.ok());

  const hal::PacketSourceStats src = (*sw)->stats();
  const sflow::ReceiverStats& rs = (*d)->agent().receivers()[0]->stats();
  EXPECT_GT(src.samples, 0u);  // ~180/s per port at 1-in-1000 on average; bursty
  EXPECT_EQ(src.source_drops, 0u);
  EXPECT_EQ(rs.flow_samples, src.samples) << "every sample the sim delivered is exported";
  EXPECT_EQ(rs.oversize_drops, 0u);
  EXPECT_GT(rs.counter_samples, 0u);
  ASSERT_EQ(captures_.size(), 2u);
  EXPECT_EQ(captures_[0]->datagrams().size(), rs.datagrams);
  uint32_t expected_seq = 1;
  for (const auto& dg : captures_[0]->datagrams()) {
    uint32_t seq = 0;
    ASSERT_TRUE(hal::base::ByteView(dg.data(), dg.size()).U32At(16, &seq));
    EXPECT_EQ(seq, expected_seq++);
    EXPECT_LE(dg.size(), options_.max_datagram_bytes);
  }
  EXPECT_TRUE(warnings_.empty()) << warnings_.front();
}

}  // namespace
}  // namespace xflowd::agent::daemon
