// Unit tests of the Linux platform with fakes for the kernel: port filtering and link events,
// back-end routing, the composite packet source and the counter-based sample pool.
#ifdef XFLOWD_HAVE_LINUX
#include "agent/linux/linux_platform.h"

#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <vector>

#include "agent/linux/multi_packet_source.h"
#include "agent/linux/port_filter.h"
#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "tests/support/capture_transport.h"

namespace xflowd::agent::os_linux {
namespace {

using config::SampleBackend;
using config::SamplePattern;
using hal::PortEvent;
using hal::PortInfo;

PortInfo Port(uint32_t ifindex, const std::string& name) {
  PortInfo p;
  p.ifindex = ifindex;
  p.name = name;
  return p;
}

class FakeInventory final : public hal::PortInventory {
 public:
  hal::base::Result<std::vector<PortInfo>> ListPorts() override { return ports; }
  void SetListener(Listener l) override { listener = std::move(l); }
  void Emit(PortEvent e, const PortInfo& p) {
    if (listener) listener(e, p);
  }
  std::vector<PortInfo> ports;
  Listener listener;
};

class FakeCounters final : public hal::CounterSource {
 public:
  hal::base::Result<hal::PortCounters> ReadCounters(uint32_t ifindex) override {
    hal::PortCounters c;
    c.in_ucast_pkts = rx[ifindex];
    c.in_multicast_pkts = 0;
    c.out_ucast_pkts = tx[ifindex];
    ++reads;
    return c;
  }
  std::map<uint32_t, uint64_t> rx;
  std::map<uint32_t, uint64_t> tx;
  int reads = 0;
};

// A source whose fd is an eventfd: readable while `pending` > 0.
class FakeSource final : public hal::PacketSource {
 public:
  explicit FakeSource(uint32_t ifindex) : ifindex_(ifindex), fd_(eventfd(0, EFD_NONBLOCK)) {}
  ~FakeSource() override { close(fd_); }
  int fd() const override { return fd_; }
  void Queue(uint64_t n) {
    pending_ += n;
    uint64_t one = 1;
    (void)!write(fd_, &one, sizeof(one));
  }
  size_t Drain(hal::PacketSampleSink& sink, size_t budget) override {
    size_t done = 0;
    while (pending_ > 0 && done < budget) {
      hal::PacketSample s;
      s.input_ifindex = ifindex_;
      s.sampling_rate = 100;
      sink.OnSample(s);
      --pending_;
      ++done;
    }
    if (pending_ == 0) {
      uint64_t v;
      (void)!read(fd_, &v, sizeof(v));
    }
    samples_ += done;
    return done;
  }
  hal::PacketSourceStats stats() const override {
    hal::PacketSourceStats s;
    s.samples = samples_;
    return s;
  }

 private:
  uint32_t ifindex_;
  int fd_;
  uint64_t pending_ = 0;
  uint64_t samples_ = 0;
};

struct CountingSink final : hal::PacketSampleSink {
  void OnSample(const hal::PacketSample& s) override { ++by_port[s.input_ifindex]; }
  std::map<uint32_t, int> by_port;
};

TEST(LinuxPortFilterTest, FirstMatchingPatternPicksTheBackend) {
  std::vector<SamplePattern> pats = {{"swp*", SampleBackend::kPsample},
                                     {"eth0", SampleBackend::kAfPacket},
                                     {"*", SampleBackend::kNflog}};
  EXPECT_EQ(MatchBackend(pats, "swp12"), SampleBackend::kPsample);
  EXPECT_EQ(MatchBackend(pats, "eth0"), SampleBackend::kAfPacket);
  EXPECT_EQ(MatchBackend(pats, "eth1"), SampleBackend::kNflog);
  EXPECT_FALSE(MatchBackend({{"p?", SampleBackend::kAfPacket}}, "p10").has_value());
}

TEST(LinuxPortFilterTest, RenamesIntoAndOutOfAPatternAreAddsAndRemoves) {
  FakeInventory inner;
  inner.ports = {Port(1, "lo"), Port(2, "p1"), Port(3, "q3")};
  FilteredPortInventory f(inner, {{"p*", SampleBackend::kAfPacket}});
  auto ports = f.ListPorts();
  ASSERT_TRUE(ports.ok());
  ASSERT_EQ(ports->size(), 1u);
  EXPECT_EQ((*ports)[0].name, "p1");
  std::vector<std::pair<PortEvent, std::string>> seen;
  std::vector<std::string> released;
  f.SetListener([&](PortEvent e, const PortInfo& p) { seen.push_back({e, p.name}); });
  f.SetReleaseHook([&](const PortInfo& p, SampleBackend) { released.push_back(p.name); });

  inner.Emit(PortEvent::kAdded, Port(4, "x4"));  // not ours
  inner.Emit(PortEvent::kAdded, Port(5, "p5"));
  inner.Emit(PortEvent::kChanged, Port(3, "p3"));  // renamed into the pattern
  inner.Emit(PortEvent::kChanged, Port(2, "p1"));  // e.g. oper status
  inner.Emit(PortEvent::kChanged, Port(5, "x5"));  // renamed out
  inner.Emit(PortEvent::kRemoved, Port(2, "p1"));
  inner.Emit(PortEvent::kRemoved, Port(4, "x4"));  // never ours
  const std::vector<std::pair<PortEvent, std::string>> want = {{PortEvent::kAdded, "p5"},
                                                               {PortEvent::kAdded, "p3"},
                                                               {PortEvent::kChanged, "p1"},
                                                               {PortEvent::kRemoved, "p5"},
                                                               {PortEvent::kRemoved, "p1"}};
  EXPECT_EQ(seen, want);
  EXPECT_EQ(released, (std::vector<std::string>{"p5", "p1"}));
  EXPECT_NE(f.Find(3), nullptr);
  EXPECT_EQ(f.Find(2), nullptr);
}

TEST(LinuxMultiPacketSourceTest, DrainsReadyChildrenWithinTheBudget) {
  auto m = MultiPacketSource::Create();
  ASSERT_TRUE(m.ok());
  auto a = std::make_unique<FakeSource>(1);
  auto b = std::make_unique<FakeSource>(2);
  FakeSource* pa = a.get();
  FakeSource* pb = b.get();
  int before_a = 0;
  ASSERT_TRUE((*m)->Add(1, std::move(a), [&] { ++before_a; }).ok());
  ASSERT_TRUE((*m)->Add(2, std::move(b)).ok());
  CountingSink sink;
  EXPECT_EQ((*m)->Drain(sink, 100), 0u);  // nothing ready
  pa->Queue(30);
  pb->Queue(5);
  size_t total = 0;
  for (int i = 0; i < 10 && total < 35; ++i) total += (*m)->Drain(sink, 16);
  EXPECT_EQ(total, 35u);
  EXPECT_EQ(sink.by_port[1], 30);
  EXPECT_EQ(sink.by_port[2], 5);
  EXPECT_GE(before_a, 2);
  (*m)->Remove(1);
  EXPECT_EQ((*m)->Find(1), nullptr);
  EXPECT_EQ((*m)->stats().samples, 35u);  // removed children still count
}

class LinuxPlatformTest : public ::testing::Test {
 protected:
  void SetUp() override {
    inner_.ports = {Port(2, "p1"), Port(3, "eth9"), Port(4, "swp1")};
    LinuxBackends b;
    b.ports = &inner_;
    b.counters = &counters_;
    b.open_afpacket = [this](const hal::afpacket::AfPacketOptions& o)
        -> hal::base::Result<std::unique_ptr<hal::PacketSource>> {
      opened_.push_back(o);
      auto s = std::make_unique<FakeSource>(o.ifname == "p1" ? 2 : 3);
      last_ = s.get();
      return std::unique_ptr<hal::PacketSource>(std::move(s));
    };
    LinuxPlatformOptions o;
    o.patterns = {{"p*", SampleBackend::kAfPacket}, {"swp*", SampleBackend::kPsample}};
    o.ingress_only = true;
    auto p = LinuxPlatform::CreateWith(o, std::move(b), clock_, logger_);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    platform_ = std::move(p).value();
    ASSERT_TRUE(platform_->ports().ListPorts().ok());
  }

  FakeInventory inner_;
  FakeCounters counters_;
  hal::base::ManualClock clock_;
  hal::base::Logger logger_;
  std::vector<hal::afpacket::AfPacketOptions> opened_;
  FakeSource* last_ = nullptr;
  std::unique_ptr<LinuxPlatform> platform_;
};

TEST_F(LinuxPlatformTest, AfPacketPortsGetTheirOwnSocketAtEachRate) {
  auto r = platform_->SetSamplingRate(2, hal::Direction::kIngress, 100, 128);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, 100u);
  ASSERT_EQ(opened_.size(), 1u);
  EXPECT_EQ(opened_[0].ifname, "p1");
  EXPECT_EQ(opened_[0].sampling_rate, 100u);
  EXPECT_EQ(opened_[0].snaplen, 128u);
  EXPECT_TRUE(opened_[0].ingress_only);
  EXPECT_NE(platform_->packets().Find(LinuxPlatform::AfPacketKey(2)), nullptr);
  // A backoff re-opens the socket with the new filter.
  ASSERT_TRUE(platform_->SetSamplingRate(2, hal::Direction::kIngress, 200, 128).ok());
  ASSERT_EQ(opened_.size(), 2u);
  EXPECT_EQ(opened_[1].sampling_rate, 200u);
  EXPECT_EQ(platform_->packets().size(), 1u);
  // Rate 0 closes it.
  ASSERT_TRUE(platform_->SetSamplingRate(2, hal::Direction::kIngress, 0, 128).ok());
  EXPECT_EQ(platform_->packets().size(), 0u);
  // Not ours, egress, and a back-end this fake set lacks: clear errors.
  EXPECT_EQ(platform_->SetSamplingRate(3, hal::Direction::kIngress, 100, 128).status().code(),
            hal::base::StatusCode::kNotFound);
  EXPECT_FALSE(platform_->SetSamplingRate(2, hal::Direction::kEgress, 100, 128).ok());
  EXPECT_EQ(platform_->SetSamplingRate(4, hal::Direction::kIngress, 100, 128).status().code(),
            hal::base::StatusCode::kUnimplemented);
}

// Egress on an afpacket port: a second socket that sees only sent frames (egress_only), with
// its own rate; its samples are the port's egress samples (output ifindex set) and carry the
// growth of the port's sent-packet counters, the ingress ones that of its received packets.
TEST(LinuxPlatformEgressTest, EachDirectionHasItsOwnSocketAndPool) {
  FakeInventory inner;
  inner.ports = {Port(2, "p1")};
  FakeCounters counters;
  hal::base::ManualClock clock;
  hal::base::Logger logger;
  std::vector<hal::afpacket::AfPacketOptions> opened;
  std::vector<FakeSource*> sources;
  LinuxBackends b;
  b.ports = &inner;
  b.counters = &counters;
  b.open_afpacket = [&](const hal::afpacket::AfPacketOptions& o)
      -> hal::base::Result<std::unique_ptr<hal::PacketSource>> {
    opened.push_back(o);
    auto s = std::make_unique<FakeSource>(2);
    sources.push_back(s.get());
    return std::unique_ptr<hal::PacketSource>(std::move(s));
  };
  LinuxPlatformOptions o;
  o.patterns = {{"p*", SampleBackend::kAfPacket}};
  auto p = LinuxPlatform::CreateWith(o, std::move(b), clock, logger);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE((*p)->ports().ListPorts().ok());
  ASSERT_TRUE((*p)->SetSamplingRate(2, hal::Direction::kIngress, 100, 128).ok());
  auto r = (*p)->SetSamplingRate(2, hal::Direction::kEgress, 400, 128);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, 400u);
  ASSERT_EQ(opened.size(), 2u);
  EXPECT_TRUE(opened[0].ingress_only);
  EXPECT_FALSE(opened[0].egress_only);
  EXPECT_FALSE(opened[1].ingress_only);
  EXPECT_TRUE(opened[1].egress_only);
  EXPECT_EQ(opened[1].sampling_rate, 400u);
  EXPECT_NE((*p)->packets().Find(LinuxPlatform::AfPacketKey(2)), nullptr);
  EXPECT_NE((*p)->packets().Find(LinuxPlatform::AfPacketKey(2, hal::Direction::kEgress)), nullptr);

  struct Sink final : hal::PacketSampleSink {
    void OnSample(const hal::PacketSample& s) override { got.push_back(s); }
    std::vector<hal::PacketSample> got;
  } sink;
  counters.rx[2] = 700;
  counters.tx[2] = 300;
  clock.Advance(hal::base::milliseconds(20));
  sources[1]->Queue(2);  // egress
  (*p)->packets().Drain(sink, 64);
  ASSERT_EQ(sink.got.size(), 2u);
  EXPECT_EQ(sink.got[0].direction, hal::Direction::kEgress);
  EXPECT_EQ(sink.got[0].output_ifindex, 2u);
  EXPECT_EQ(sink.got[0].pool_added, 300u);  // sent packets only
  EXPECT_EQ(sink.got[1].pool_added, 0u);
  sink.got.clear();
  sources[0]->Queue(1);  // ingress
  clock.Advance(hal::base::milliseconds(20));
  (*p)->packets().Drain(sink, 64);
  ASSERT_EQ(sink.got.size(), 1u);
  EXPECT_EQ(sink.got[0].direction, hal::Direction::kIngress);
  EXPECT_EQ(sink.got[0].pool_added, 700u);
  // Egress off: its socket goes, ingress stays.
  ASSERT_TRUE((*p)->SetSamplingRate(2, hal::Direction::kEgress, 0, 128).ok());
  EXPECT_EQ((*p)->packets().Find(LinuxPlatform::AfPacketKey(2, hal::Direction::kEgress)), nullptr);
  EXPECT_NE((*p)->packets().Find(LinuxPlatform::AfPacketKey(2)), nullptr);
}

// A tc that cannot read an applied rate back says so in the summary and `xflowctl stats`.
TEST(LinuxPlatformTcTest, UnconfirmedRatesAreInTheSummaryAndStats) {
  struct FakeTc final : hal::SamplingControl {
    hal::base::Result<uint32_t> SetSamplingRate(uint32_t, hal::Direction, uint32_t rate,
                                                uint32_t) override {
      ++unconfirmed;  // as if the kernel never answered the read-back
      return rate;
    }
    uint64_t unconfirmed_rates() const override { return unconfirmed; }
    uint64_t unconfirmed = 0;
  };
  FakeInventory inner;
  inner.ports = {Port(4, "swp1"), Port(5, "swp2")};
  FakeCounters counters;
  hal::base::ManualClock clock;
  hal::base::Logger logger;
  LinuxBackends b;
  b.ports = &inner;
  b.counters = &counters;
  b.open_tc = []() -> hal::base::Result<std::unique_ptr<hal::SamplingControl>> {
    return std::unique_ptr<hal::SamplingControl>(std::make_unique<FakeTc>());
  };
  b.open_psample = []() -> hal::base::Result<std::unique_ptr<hal::PacketSource>> {
    return std::unique_ptr<hal::PacketSource>(std::make_unique<FakeSource>(4));
  };
  b.open_afpacket = [](const hal::afpacket::AfPacketOptions&)
      -> hal::base::Result<std::unique_ptr<hal::PacketSource>> {
    return hal::base::UnimplementedError("not in this test");
  };
  LinuxPlatformOptions o;
  o.patterns = {{"swp*", SampleBackend::kPsample}};
  auto p = LinuxPlatform::CreateWith(o, std::move(b), clock, logger);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE((*p)->ports().ListPorts().ok());
  daemon::Platform platform = (*p)->platform();
  EXPECT_EQ(platform.summary(), "");  // no psample port sampled yet: no tc
  ASSERT_TRUE((*p)->SetSamplingRate(4, hal::Direction::kIngress, 1000, 128).ok());
  ASSERT_TRUE((*p)->SetSamplingRate(5, hal::Direction::kIngress, 1000, 128).ok());
  EXPECT_EQ(platform.summary(), "tc: 2 applied rates not read back (reported as asked)\n");
  EXPECT_EQ(platform.stats_section, "linux");
  const auto stats = platform.stats();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].first, "tc_unconfirmed_rates");
  EXPECT_EQ(stats[0].second, 2u);
}

TEST_F(LinuxPlatformTest, RemovedPortClosesItsSocket) {
  ASSERT_TRUE(platform_->SetSamplingRate(2, hal::Direction::kIngress, 100, 128).ok());
  inner_.Emit(PortEvent::kRemoved, Port(2, "p1"));
  EXPECT_EQ(platform_->packets().Find(LinuxPlatform::AfPacketKey(2)), nullptr);
}

// The pool growth read from the interface counters reaches the sampler with the samples
// (PacketSample::pool_added on the first sample after the read): the platform holds no agent.
TEST_F(LinuxPlatformTest, PoolGrowthTravelsWithTheNextSample) {
  ASSERT_TRUE(platform_->SetSamplingRate(2, hal::Direction::kIngress, 100, 128).ok());
  struct PoolSink final : hal::PacketSampleSink {
    void OnSample(const hal::PacketSample& s) override { pools.push_back(s.pool_added); }
    std::vector<uint32_t> pools;
  } sink;
  counters_.rx[2] = 500;  // 500 packets since sampling started
  clock_.Advance(hal::base::milliseconds(20));
  last_->Queue(3);
  platform_->packets().Drain(sink, 64);
  EXPECT_EQ(sink.pools, (std::vector<uint32_t>{500, 0, 0}));
  // Within 10 ms of the last read: no new read, nothing added.
  counters_.rx[2] = 800;
  last_->Queue(1);
  platform_->packets().Drain(sink, 64);
  EXPECT_EQ(sink.pools.back(), 0u);
  clock_.Advance(hal::base::milliseconds(20));
  last_->Queue(1);
  platform_->packets().Drain(sink, 64);
  EXPECT_EQ(sink.pools.back(), 300u);
}

TEST_F(LinuxPlatformTest, PoolFromCountersOnlyForKernelFilters) {
  daemon::Platform p = platform_->platform();
  EXPECT_TRUE(p.pool_from_counters(2));
  EXPECT_FALSE(p.pool_from_counters(4));  // psample: the hardware pool
  EXPECT_FALSE(p.pool_from_counters(3));  // not sampled
}

// --sample with no matching port yet, then a port whose back-end cannot sample (psample in a
// build or kernel without it) and an afpacket port: the daemon starts, warns, polls the first
// and samples the second.
TEST(LinuxPlatformDaemonTest, WaitsForPortsAndPollsThoseThatCannotSample) {
  FakeInventory inner;  // no links at all yet
  FakeCounters counters;
  std::vector<std::string> warnings;
  hal::base::Logger logger([&](hal::base::LogLevel level, const std::string& m) {
    if (level >= hal::base::LogLevel::kWarning) warnings.push_back(m);
  });
  hal::base::ManualClock clock;
  LinuxBackends b;
  b.ports = &inner;
  b.counters = &counters;
  b.open_afpacket = [](const hal::afpacket::AfPacketOptions&)
      -> hal::base::Result<std::unique_ptr<hal::PacketSource>> {
    return std::unique_ptr<hal::PacketSource>(std::make_unique<FakeSource>(2));
  };
  LinuxPlatformOptions o;
  o.patterns = {{"p*", SampleBackend::kAfPacket}, {"swp*", SampleBackend::kPsample}};
  auto platform = LinuxPlatform::CreateWith(o, std::move(b), clock, logger);
  ASSERT_TRUE(platform.ok()) << platform.status().ToString();

  config::Config options;
  options.agent.address = *hal::base::IpAddress::Parse("127.0.0.1");
  options.agent.collectors = {*hal::base::Endpoint::Parse("127.0.0.1:6343", 6343)};
  daemon::DaemonSettings settings;
  settings.make_transport =
      [](const hal::base::Endpoint&) -> hal::base::Result<std::unique_ptr<exporter::Transport>> {
    return std::unique_ptr<exporter::Transport>(
        std::make_unique<xflowd::testing::CaptureTransport>());
  };
  auto d = daemon::Daemon::Create(options, (*platform)->platform(), clock, logger, settings);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("waiting"), std::string::npos) << warnings[0];

  inner.ports = {Port(4, "swp1")};
  inner.Emit(PortEvent::kAdded, Port(4, "swp1"));
  EXPECT_EQ((*d)->agent().FindSampler(4, hal::Direction::kIngress), nullptr);
  EXPECT_NE((*d)->agent().FindPoller(4), nullptr) << "a port that cannot sample is still polled";
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[1].find("psample on swp1"), std::string::npos) << warnings[1];

  inner.ports.push_back(Port(2, "p1"));
  inner.Emit(PortEvent::kAdded, Port(2, "p1"));
  EXPECT_NE((*d)->agent().FindSampler(2, hal::Direction::kIngress), nullptr);
  EXPECT_NE((*d)->agent().FindPoller(2), nullptr);
  EXPECT_NE((*platform)->packets().Find(LinuxPlatform::AfPacketKey(2)), nullptr);
  d->reset();  // before the platform it points into
}

}  // namespace
}  // namespace xflowd::agent::os_linux
#endif  // XFLOWD_HAVE_LINUX
