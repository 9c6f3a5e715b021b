// Daemon wiring against a fake platform and capture transports. The event loop runs on real
// timers shortened to milliseconds; the tests stop it by count (advance calls), not by time.
#include "agent/daemon/daemon.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "agent/daemon/sim_platform.h"
#include "exporter/sflow/sflow_decoder.h"
#include "sim/sim_switch.h"
#include "tests/support/capture_transport.h"
#include "tests/support/test_env.h"

namespace xflowd::agent::daemon {
namespace {

using hal::base::Endpoint;
using hal::base::IpAddress;
using hal::base::Logger;
using hal::base::LogLevel;
using hal::base::ManualClock;
using hal::base::milliseconds;
using hal::base::MonoTime;
using hal::base::Result;
using hal::base::Status;
using xflowd::testing::CaptureTransport;

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
  Result<uint32_t> SetSamplingRate(uint32_t ifindex, hal::Direction direction, uint32_t rate,
                                   uint32_t header_bytes) override {
    if (direction == hal::Direction::kEgress) {
      requested_egress[ifindex] = rate;
      if (fail_egress) return hal::base::UnavailableError("no egress sampling here");
    } else {
      requested[ifindex] = rate;
    }
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
  std::map<uint32_t, uint32_t> requested_egress;
  bool fail_egress = false;
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
    options_.agent.address = *IpAddress::Parse("192.0.2.10");
    options_.agent.collectors = {*Endpoint::Parse("127.0.0.1:6343", 6343),
                                 *Endpoint::Parse("[::1]:6343", 6343)};
    options_.ports.polling_interval_s = 1;
    options_.ports.header_bytes = 96;
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

  // A daemon whose run stops itself after `advances` platform advances (1 ms apart).
  std::unique_ptr<Daemon> MakeStoppingAfter(int advances) {
    platform_.advance_period = milliseconds(1);
    platform_.advance = [this, advances, n = 0](hal::base::MonoTime) mutable {
      if (++n == advances) stopping_->Stop();
    };
    auto d = Make();
    stopping_ = d.get();
    return d;
  }

  std::unique_ptr<Daemon> Make() {
    auto d = Daemon::Create(options_, platform_, clock_, logger_, settings_);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? std::move(d.value()) : nullptr;
  }

  FakePlatform fake_;
  Platform platform_;
  config::Config options_;
  DaemonSettings settings_;
  hal::base::SystemClock clock_;
  std::vector<std::string> warnings_;
  Logger logger_;
  std::vector<CaptureTransport*> captures_;
  Daemon* stopping_ = nullptr;  // the daemon MakeStoppingAfter stops
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

// Per-port directions: every port both ways, one port egress only; each direction its own
// sampler. A reload back to ingress ends the egress samplers and turns egress sampling off;
// the ingress samplers keep their sequence.
TEST_F(DaemonTest, DirectionsPerPortAndTheirReload) {
  options_.ports.sampling_rate = 1024;
  options_.ports.direction = config::SampleDirection::kBoth;
  config::PortOverride o;
  o.pattern = "swp3";
  o.direction = config::SampleDirection::kEgress;
  options_.ports.overrides = {o};
  auto d = Make();
  ASSERT_TRUE(d);
  for (uint32_t i = 1; i <= 3; ++i) {
    EXPECT_EQ(d->agent().FindSampler(i, hal::Direction::kEgress) != nullptr, true) << i;
    EXPECT_EQ(d->agent().FindSampler(i, hal::Direction::kIngress) != nullptr, i != 3) << i;
    EXPECT_EQ(fake_.requested_egress[i], 1024u);
  }
  EXPECT_EQ(fake_.requested.count(3), 0u);
  EXPECT_EQ(d->agent().samplers().size(), 5u);

  config::Config next = options_;
  next.ports.direction = config::SampleDirection::kIngress;
  next.ports.overrides.clear();
  ASSERT_TRUE(d->Reload(next).ok()) << d->last_reload().Summary();
  for (uint32_t i = 1; i <= 3; ++i) {
    EXPECT_EQ(d->agent().FindSampler(i, hal::Direction::kEgress), nullptr) << i;
    EXPECT_NE(d->agent().FindSampler(i, hal::Direction::kIngress), nullptr) << i;
    EXPECT_EQ(fake_.requested_egress[i], 0u) << "egress sampling left on, port " << i;
  }
  EXPECT_EQ(fake_.requested[3], 1024u);  // swp3 now samples ingress
  EXPECT_NE(d->last_reload().Summary().find("swp1 egress off"), std::string::npos)
      << d->last_reload().Summary();
}

// A platform that cannot sample egress: the port keeps its ingress sampler, and says why.
TEST_F(DaemonTest, EgressRefusedKeepsIngress) {
  options_.ports.direction = config::SampleDirection::kBoth;
  fake_.fail_egress = true;
  auto d = Make();
  ASSERT_TRUE(d);
  for (uint32_t i = 1; i <= 3; ++i) {
    EXPECT_NE(d->agent().FindSampler(i, hal::Direction::kIngress), nullptr);
    EXPECT_EQ(d->agent().FindSampler(i, hal::Direction::kEgress), nullptr);
  }
  ASSERT_FALSE(warnings_.empty());
  EXPECT_NE(warnings_[0].find("not sampled egress"), std::string::npos) << warnings_[0];
}

TEST_F(DaemonTest, ExplicitSamplingRateOnEveryPort) {
  options_.ports.sampling_rate = 256;
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
  config::Config bad_collector = options_;
  bad_collector.agent.collectors.push_back(*Endpoint::Parse("127.0.0.1:9", 6343));
  auto bc = Daemon::Create(bad_collector, platform_, clock_, logger_, settings_);
  ASSERT_FALSE(bc.ok());
  EXPECT_NE(bc.status().message().find("127.0.0.1:9"), std::string::npos);

  config::Config no_agent = options_;
  no_agent.agent.address.reset();
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
    EXPECT_LE(dg.size(), options_.agent.max_datagram_bytes);
  }
  EXPECT_GE(d->loop().stats().ticks, 1u);

  std::string summary = d->Summary();
  for (const char* needle : {"on 3 ports of the fake switch", "55 samples", "55 flow samples",
                             "0 send errors", "Collectors: capture:"}) {
    EXPECT_NE(summary.find(needle), std::string::npos) << needle << "\n" << summary;
  }
}

// Start-up line and summary with no counter polling and only NetFlow/IPFIX collectors.
TEST_F(DaemonTest, NoPollingAndNoSflowCollectorAreSaidPlainly) {
  options_.ports.polling_interval_s = 0;
  options_.agent.collectors.clear();
  options_.flow.collectors.push_back({*Endpoint::Parse("127.0.0.1:2055", 2055), 9});
  settings_.make_flow_transport = [](const config::FlowCollector&) {
    return Result<std::unique_ptr<exporter::Transport>>(std::make_unique<CaptureTransport>());
  };
  std::vector<std::string> lines;
  Logger logger([&](LogLevel, const std::string& line) { lines.push_back(line); });
  auto d = Daemon::Create(options_, platform_, clock_, logger, settings_);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  std::string all;
  for (const auto& l : lines) all += l + "\n";
  EXPECT_NE(all.find("no counter polling"), std::string::npos) << all;
  EXPECT_EQ(all.find("every 0 s"), std::string::npos) << all;
  const std::string summary = (*d)->Summary();
  EXPECT_NE(summary.find("No sFlow collector."), std::string::npos) << summary;
  EXPECT_EQ(summary.find("Collectors:."), std::string::npos) << summary;
}

// -i: a flow-only platform feeds the flow probe alone: no samplers or pollers, no agent
// address, the platform's lines head the summary, and the flow options data name the ports as
// they come, go and are renamed.
TEST_F(DaemonTest, FlowOnlyPlatformFeedsTheProbeAlone) {
  options_.agent.address.reset();
  options_.agent.collectors.clear();
  options_.flow.collectors.push_back({*Endpoint::Parse("127.0.0.1:2055", 2055), 9});
  settings_.make_flow_transport = [](const config::FlowCollector&) {
    return Result<std::unique_ptr<exporter::Transport>>(std::make_unique<CaptureTransport>());
  };
  platform_.sampling = nullptr;
  platform_.flow_only = true;
  platform_.summary = [] { return std::string("capture: its own counters\n"); };
  auto d = Daemon::Create(options_, platform_, clock_, logger_, settings_);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  Daemon& daemon = **d;
  EXPECT_TRUE(daemon.agent().pollers().empty());
  EXPECT_TRUE(daemon.agent().samplers().empty());
  ASSERT_NE(daemon.flow_probe(), nullptr);
  EXPECT_EQ(daemon.flow_probe()->interface_names().size(), 3u);

  fake_.Inject(1, 3);
  daemon.Step(clock_.Now());
  EXPECT_EQ(daemon.flow_probe()->meter_stats().packets, 3u);
  EXPECT_EQ(daemon.agent().stats().no_sampler, 0u);  // the agent never saw them
  const std::string summary = daemon.Summary();
  EXPECT_EQ(summary.rfind("capture: its own counters\nflows: ", 0), 0u) << summary;

  hal::PortInfo p;
  p.ifindex = 9;
  p.name = "eth9";
  fake_.Fire(hal::PortEvent::kAdded, p);
  EXPECT_TRUE(daemon.agent().pollers().empty());
  p.name = "eth9-renamed";
  fake_.Fire(hal::PortEvent::kChanged, p);
  const auto& names = daemon.flow_probe()->interface_names();
  ASSERT_EQ(names.size(), 4u);
  EXPECT_EQ(names.back().ifindex, 9u);
  EXPECT_EQ(names.back().name, "eth9-renamed");
  fake_.Fire(hal::PortEvent::kRemoved, p);
  EXPECT_EQ(daemon.flow_probe()->interface_names().size(), 3u);
  EXPECT_TRUE(warnings_.empty()) << warnings_.front();

  // A reload applies flow settings and makes no samplers; the capture's rate is fixed.
  config::Config next = options_;
  next.ports.sampling_rate = 100;
  EXPECT_FALSE(daemon.Reload(next).ok());
  next = options_;
  next.flow.inactive_timeout_s = 30;
  next.ports.polling_interval_s = 5;
  EXPECT_TRUE(daemon.Reload(next).ok()) << daemon.last_reload().Summary();
  EXPECT_TRUE(daemon.agent().samplers().empty());
  EXPECT_TRUE(daemon.agent().pollers().empty());
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

TEST_F(DaemonTest, SighupReloadsThroughTheLoaderOnTheLoop) {
  int loads = 0;
  settings_.loader = [&]() -> Result<config::Config> {
    ++loads;
    if (loads == 1) return hal::base::InvalidArgumentError("xflowd.toml:3:9: bad value");
    config::Config next = options_;
    next.ports.sampling_rate = 512;
    return next;
  };
  int advances = 0;
  Daemon* daemon = nullptr;
  bool failed_seen = false;
  platform_.advance_period = milliseconds(1);
  platform_.advance = [&](hal::base::MonoTime) {
    ++advances;
    if (advances == 2) raise(SIGHUP);  // blocked: the loop's signalfd takes it
    if (advances == 10) {
      failed_seen = daemon->last_reload().attempted && !daemon->last_reload().status.ok();
      raise(SIGHUP);
    }
    if (advances == 20) daemon->Stop();
  };
  auto d = Make();
  ASSERT_TRUE(d);
  daemon = d.get();
  ASSERT_TRUE(d->Run().ok());
  EXPECT_EQ(loads, 2);
  EXPECT_TRUE(failed_seen);
  ASSERT_FALSE(warnings_.empty());
  EXPECT_NE(warnings_.front().find("reload failed, still running the previous configuration: "
                                   "xflowd.toml:3:9: bad value"),
            std::string::npos)
      << warnings_.front();
  EXPECT_TRUE(d->last_reload().status.ok()) << d->last_reload().Summary();
  EXPECT_EQ(*d->config().ports.sampling_rate, 512u);
  EXPECT_EQ(fake_.requested[1], 512u);
  EXPECT_EQ(d->agent().FindSampler(1, hal::Direction::kIngress)->sampling_rate(), 512u);
  EXPECT_EQ(d->loop().stats().reloads, 2u);
}

TEST_F(DaemonTest, ReloadWithoutLoaderIsAnError) {
  auto d = Make();
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->last_reload().attempted);
  EXPECT_EQ(d->last_reload().Summary(), "no reload yet");
  hal::base::Status st = d->ReloadFromLoader();
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(d->last_reload().attempted);
  EXPECT_EQ(d->last_reload().Summary(), "failed: " + st.message());
}

TEST_F(DaemonTest, SendErrorsAreCountedAndLogged) {
  auto d = MakeStoppingAfter(30);
  ASSERT_TRUE(d);
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

// A collector with nothing listening (the default, unconnected UDP transport): the ICMP port
// unreachable replies are read back on the ticks, the collector is logged down once with its
// address, and the summary counts the refusals; the other collector is not affected.
TEST_F(DaemonTest, DeadUdpCollectorIsLoggedAndCountedAsRefused) {
  XFLOWD_SKIP_UNDER_EMULATION("the socket error queue (IP_RECVERR, MSG_ERRQUEUE)");
  // A free loopback port: bound, then closed.
  int probe = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(probe, 0);
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  ASSERT_EQ(bind(probe, reinterpret_cast<sockaddr*>(&a), len), 0);
  ASSERT_EQ(getsockname(probe, reinterpret_cast<sockaddr*>(&a), &len), 0);
  close(probe);
  const std::string dead = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  options_.agent.collectors = {*Endpoint::Parse(dead, 6343)};
  settings_.make_transport = nullptr;  // the real UDP transport
  auto d = MakeStoppingAfter(30);
  ASSERT_TRUE(d);
  ASSERT_TRUE(d->Run().ok());
  const sflow::ReceiverStats& rs = d->agent().receivers()[0]->stats();
  ASSERT_GT(rs.datagrams, 0u);
  const exporter::Transport& t = *d->transports()[0];
  EXPECT_EQ(t.stats().send_errors, 0u);  // unconnected: nothing fails on send
  EXPECT_GT(t.stats().lost, 0u);
  EXPECT_EQ(t.status().state, exporter::TransportState::kDown);
  int down = 0;
  for (const auto& w : warnings_) down += w.find("udp " + dead + " is down") != std::string::npos;
  EXPECT_EQ(down, 1);
  const std::string summary = d->Summary();
  EXPECT_NE(summary.find("udp " + dead + ": down"), std::string::npos) << summary;
  EXPECT_NE(summary.find("refused " + std::to_string(t.stats().lost) + " (ICMP port unreachable)"),
            std::string::npos)
      << summary;
}

// The real simulated switch behind the daemon, as `xflowd --sim` wires it, for a few hundred
// milliseconds of real time with 10 ms ticks.
TEST_F(DaemonTest, SimSwitchEndToEndScenarioTest) {
  sim::SimConfig sc;
  sc.num_ports = 4;
  sc.port_speed_bps = 1'000'000'000ull;
  sc.load = 0.2;
  sc.seed = 7;
  sc.header_bytes = options_.ports.header_bytes;
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
    EXPECT_LE(dg.size(), options_.agent.max_datagram_bytes);
  }
  EXPECT_TRUE(warnings_.empty()) << warnings_.front();
}

// --expanded-samples: every flow sample is 0:3 and every counter sample 0:4, although no
// ifindex needs it; without it they are the compact 0:1 and 0:2.
TEST_F(DaemonTest, ExpandedSamplesOptionSendsOnlyExpandedSamples) {
  for (bool expanded : {false, true}) {
    options_.ports.expanded_samples = expanded;
    captures_.clear();
    int advances = 0;
    Daemon* daemon = nullptr;
    platform_.advance_period = milliseconds(1);
    platform_.advance = [&](hal::base::MonoTime) {
      if (++advances == 1) fake_.Inject(1, 10);
      if (advances == 20) daemon->Stop();
    };
    auto d = Make();
    ASSERT_TRUE(d);
    daemon = d.get();
    ASSERT_TRUE(d->Run().ok());
    ASSERT_FALSE(captures_.empty());
    int flows = 0, counters = 0;
    for (const auto& dg : captures_[0]->datagrams()) {
      auto decoded = exporter::sflow::DecodeDatagram(hal::base::ByteView(dg.data(), dg.size()));
      ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
      for (const auto& sample : decoded->samples) {
        if (const auto* f = std::get_if<exporter::sflow::DecodedFlowSample>(&sample)) {
          ++flows;
          EXPECT_EQ(f->expanded, expanded);
          EXPECT_EQ(f->source.index, 1u);
        } else if (const auto* c = std::get_if<exporter::sflow::DecodedCounterSample>(&sample)) {
          ++counters;
          EXPECT_EQ(c->expanded, expanded);
        }
      }
    }
    EXPECT_EQ(flows, 10);
    EXPECT_GT(counters, 0);
  }
}

// Counts what leaves per 100 ms of the daemon's (manual) clock.
class TimedTransport final : public exporter::Transport {
 public:
  TimedTransport(const ManualClock& clock, MonoTime from) : clock_(clock), from_(from) {}
  bool Send(hal::base::ByteView d) override {
    ++stats_.datagrams_sent;
    stats_.bytes_sent += d.size();
    ++per_100ms[(clock_.Now() - from_).count() / 100'000'000];
    return true;
  }
  void Poll(MonoTime) override {}
  exporter::TransportStatus status() const override { return {}; }
  const exporter::TransportStats& stats() const override { return stats_; }
  std::string Describe() const override { return "timed"; }
  std::string DescribeStats() const override { return ""; }
  std::map<int64_t, uint64_t> per_100ms;

 private:
  const ManualClock& clock_;
  MonoTime from_;
  exporter::TransportStats stats_;
};

// `xflowd --sim` on a slow start: three seconds pass between making the switch and running
// the loop (building and programming many ports). That time must not come out as one burst
// of samples at the first advance: no 100 ms of the run sends more than twice the steady
// rate. Simulated time moves 10 ms per advance, whatever the real timers do.
TEST_F(DaemonTest, SimStartupSendsNoBurstScenarioTest) {
  ManualClock clock(MonoTime::FromSeconds(1000));
  sim::SimConfig sc;
  sc.num_ports = 64;  // 10G at 20% load, 1-in-10000 by speed: ~3,200 samples/s in all
  sc.seed = 3;
  sc.header_bytes = options_.ports.header_bytes;
  auto sw = sim::SimSwitch::Create(sc, clock.Now());
  ASSERT_TRUE(sw.ok()) << sw.status().ToString();
  clock.Advance(hal::base::seconds(3));
  const MonoTime run_start = clock.Now();

  options_.agent.collectors.resize(1);
  options_.ports.polling_interval_s = 20;
  TimedTransport* timed = nullptr;
  settings_.make_transport = [&](const Endpoint&) -> Result<std::unique_ptr<exporter::Transport>> {
    auto t = std::make_unique<TimedTransport>(clock, run_start);
    timed = t.get();
    return std::unique_ptr<exporter::Transport>(std::move(t));
  };
  settings_.loop.tick_period = milliseconds(10);  // about one tick per 100 simulated ms
  Platform platform = SimPlatform(**sw);
  platform.advance_period = milliseconds(1);
  int advances = 0;
  Daemon* daemon = nullptr;
  platform.advance = [&](MonoTime) {
    clock.Advance(milliseconds(10));
    (*sw)->AdvanceTo(clock.Now());
    if (++advances == 500) daemon->Stop();  // 5 simulated seconds
  };
  auto d = Daemon::Create(options_, platform, clock, logger_, settings_);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  daemon = d->get();
  ASSERT_TRUE((*d)->Run().ok());
  ASSERT_NE(timed, nullptr);

  EXPECT_EQ((*sw)->stats().source_drops, 0u);
  // Steady: what seconds 1 to 5 sent, per 100 ms.
  uint64_t steady = 0;
  for (int64_t i = 10; i < 50; ++i) steady += timed->per_100ms[i];
  const double mean = static_cast<double>(steady) / 40;
  ASSERT_GT(mean, 20.0);
  for (const auto& [interval, n] : timed->per_100ms) {
    if (interval >= 50) continue;  // the final flush
    EXPECT_LE(static_cast<double>(n), 2 * mean) << "interval " << interval << " of 100 ms";
  }
  EXPECT_TRUE(warnings_.empty()) << warnings_.front();
}

// The daemon runs the self-check and the top talkers on its tick: a simulated switch whose
// port 2 samples at twice the rate it announces is flagged, and only that port; the top
// talkers come from the samples, heaviest first. Simulated time moves 10 ms per advance (as
// in `xflowd --sim`; samples still queued at a window's edge count in the next window, so the
// advance must be small against the window) and the run stops after three 2-second windows,
// however the real timers fall.
TEST_F(DaemonTest, SelfCheckAndTopTalkersRunOnTheTickScenarioTest) {
  ManualClock clock(MonoTime::FromSeconds(1000));
  sim::SimConfig sc;
  sc.num_ports = 8;
  sc.seed = 13;
  sc.header_bytes = options_.ports.header_bytes;
  sc.faults = {sim::PortFault{2, 0, 0, 2.0}};
  auto sw = sim::SimSwitch::Create(sc, clock.Now());
  ASSERT_TRUE(sw.ok()) << sw.status().ToString();
  options_.ports.sampling_rate = 1000;  // ~500 samples/s per 10G port at 20%: ~1,000 a window
  options_.self_check.window_s = 2;
  settings_.loop.tick_period = milliseconds(5);
  Platform platform = SimPlatform(**sw);
  platform.advance_period = milliseconds(1);
  int advances = 0;
  Daemon* daemon = nullptr;
  platform.advance = [&](MonoTime) {
    clock.Advance(milliseconds(10));
    (*sw)->AdvanceTo(clock.Now());
    if (daemon->self_check().report().windows >= 3 || ++advances == 20000) daemon->Stop();
  };
  auto d = Daemon::Create(options_, platform, clock, logger_, settings_);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  daemon = d->get();
  ASSERT_TRUE((*d)->Run().ok());

  const SelfCheckReport& report = (*d)->self_check().report();
  ASSERT_GE(report.windows, 3u);
  ASSERT_EQ(report.ports.size(), 8u);
  for (const PortCheck& c : report.ports) {
    EXPECT_EQ(c.flagged, c.ifindex == 2) << c.ifindex << ": " << c.reason;
  }
  EXPECT_EQ(report.flagged, 1u);
  // Said in the log once, and in the summary.
  int flag_warnings = 0;
  for (const std::string& w : warnings_) {
    if (w.find("self-check: swp2 in flagged: estimate") != std::string::npos) ++flag_warnings;
  }
  EXPECT_EQ(flag_warnings, 1);
  EXPECT_NE((*d)->Summary().find("1 of 8 data sources flagged (swp2)"), std::string::npos)
      << (*d)->Summary();

  const auto top = (*d)->top_talkers().Top(10, clock.Now());
  ASSERT_EQ(top.size(), 10u);
  for (size_t i = 1; i < top.size(); ++i) EXPECT_GE(top[i - 1].bytes_per_s, top[i].bytes_per_s);
  EXPECT_GT(top[0].bytes_per_s, 0);
  EXPECT_NE(top[0].key.ip_version, 0);
  EXPECT_EQ((*d)->top_talkers().stats().samples, (*sw)->stats().samples);
}

}  // namespace
}  // namespace xflowd::agent::daemon
