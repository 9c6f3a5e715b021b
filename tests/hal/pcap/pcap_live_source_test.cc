#include "hal/pcap/pcap_live_source.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "hal/base/clock.h"
#include "sim/packet_builder.h"
#include "tests/support/test_env.h"

namespace xflowd::hal::pcap {
namespace {

using base::Endpoint;
using base::ManualClock;
using base::MonoTime;
using base::StatusCode;

Endpoint Ep(const char* text) {
  auto e = Endpoint::Parse(text, 0);
  EXPECT_TRUE(e.ok()) << text;
  return e.ok() ? *e : Endpoint();
}

TEST(PcapLiveSourceTest, ExclusionFilterCoversUdpExportAndTcpBothWays) {
  EXPECT_EQ(ExclusionFilter({}), "");
  EXPECT_EQ(ExclusionFilter({Ep("192.0.2.1:2055"), Ep("[2001:db8::1]:4739")}),
            "not (udp and dst host 192.0.2.1 and dst port 2055) and not (tcp and host 192.0.2.1 "
            "and port 2055) and not (udp and dst host 2001:db8::1 and dst port 4739) and not "
            "(tcp and host 2001:db8::1 and port 4739)");
}

TEST(PcapLiveSourceTest, ClearErrorsBeforeTouchingTheKernel) {
  ManualClock clock;
  base::Logger log = base::Logger::Null();
  PcapLiveOptions o;
  auto none = PcapLiveSource::Create(o, clock, log);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kInvalidArgument);

  o.interface = "xf-no-such-if0";
  auto missing = PcapLiveSource::Create(o, clock, log);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("xf-no-such-if0"), std::string::npos);

  o.interface = "lo";
  o.exclude_collectors = {Endpoint()};
  auto bad = PcapLiveSource::Create(o, clock, log);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);

  o.exclude_collectors.clear();
  o.reopen_min_ms = 0;
  auto no_backoff = PcapLiveSource::Create(o, clock, log);
  ASSERT_FALSE(no_backoff.ok());
  EXPECT_EQ(no_backoff.status().code(), StatusCode::kInvalidArgument);
}

// --- Privileged: a veth pair in a private network namespace. ---

const char* IpTool() {
  for (const char* p : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
    if (access(p, X_OK) == 0) return p;
  }
  return nullptr;
}

constexpr uint8_t kOurMac[6] = {0x02, 0x58, 0x46, 0x00, 0x00, 0x01};

struct Seen {
  std::vector<std::vector<uint8_t>> ours;  // frames from kOurMac
  std::vector<uint32_t> lengths;           // their frame_length
  uint32_t ifindex_mismatch = 0;
  uint32_t bad_time = 0;
};

class SeenSink : public PacketSampleSink {
 public:
  SeenSink(Seen& seen, uint32_t ifindex, MonoTime now)
      : seen_(seen), ifindex_(ifindex), now_(now) {}
  void OnSample(const PacketSample& s) override {
    if (s.header.size() < 14 || std::memcmp(s.header.data() + 6, kOurMac, 6) != 0) return;
    seen_.ours.emplace_back(s.header.begin(), s.header.end());
    seen_.lengths.push_back(s.frame_length);
    if (s.input_ifindex != ifindex_) ++seen_.ifindex_mismatch;
    if (s.timestamp != now_ || s.frame_length < s.header.size()) ++seen_.bad_time;
  }

 private:
  Seen& seen_;
  uint32_t ifindex_;
  MonoTime now_;
};

class PcapLivePrivilegedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to create a network namespace";
    XFLOWD_SKIP_UNDER_EMULATION("packet capture and network namespaces");
    ip_ = IpTool();
    if (ip_ == nullptr) GTEST_SKIP() << "needs iproute2 (ip)";
    ns_ = "xfpcap_" + std::to_string(getpid());
    ASSERT_EQ(Run("netns add " + ns_), 0);
    created_ = true;
    ASSERT_EQ(Run("-n " + ns_ + " link set lo up"), 0);
    ASSERT_EQ(Run("-n " + ns_ + " link add xfa type veth peer name xfb"), 0);
    ASSERT_EQ(Run("-n " + ns_ + " link set xfa up"), 0);
    ASSERT_EQ(Run("-n " + ns_ + " link set xfb up"), 0);
  }
  void TearDown() override {
    if (tx_ >= 0) close(tx_);
    if (created_) Run("netns del " + ns_);
  }
  int Run(const std::string& args) {
    const std::string cmd = std::string(ip_) + " " + args + " >/dev/null 2>&1";
    return std::system(cmd.c_str());
  }

  // Opens the capture on xfa and a sending AF_PACKET socket on xfb from inside the namespace:
  // a thread can enter a namespace alone, and the sockets it makes stay there.
  void OpenInNamespace(const PcapLiveOptions& options, const base::Clock& clock) {
    std::thread t([&] {
      const int nsfd = open(("/run/netns/" + ns_).c_str(), O_RDONLY | O_CLOEXEC);
      if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) != 0) {
        error_ = "cannot enter " + ns_ + ": " + std::strerror(errno);
        if (nsfd >= 0) close(nsfd);
        return;
      }
      close(nsfd);
      auto src = PcapLiveSource::Create(options, clock, log_);
      if (!src.ok()) {
        error_ = src.status().ToString();
        return;
      }
      source_ = std::move(*src);
      xfb_index_ = if_nametoindex("xfb");
      xfa_index_ = if_nametoindex("xfa");
      tx_ = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
      sockaddr_ll sll = {};
      sll.sll_family = AF_PACKET;
      sll.sll_ifindex = static_cast<int>(xfb_index_);
      if (tx_ < 0 || bind(tx_, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0) {
        error_ = std::string("AF_PACKET socket on xfb: ") + std::strerror(errno);
      }
    });
    t.join();
  }

  void Send(const sim::PacketSpec& spec, uint32_t length) {
    std::vector<uint8_t> f(length);
    ASSERT_EQ(sim::BuildFrame(spec, length, f.data(), f.size()), length);
    sockaddr_ll to = {};
    to.sll_family = AF_PACKET;
    to.sll_ifindex = static_cast<int>(xfb_index_);
    to.sll_halen = 6;
    std::memcpy(to.sll_addr, spec.dst_mac, 6);
    ASSERT_EQ(sendto(tx_, f.data(), f.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
              static_cast<ssize_t>(f.size()))
        << std::strerror(errno);
  }

  const char* ip_ = nullptr;
  std::string ns_;
  bool created_ = false;
  std::string error_;
  base::Logger log_ = base::Logger::Null();
  std::unique_ptr<PcapLiveSource> source_;
  unsigned xfb_index_ = 0;
  unsigned xfa_index_ = 0;
  int tx_ = -1;
};

sim::PacketSpec Spec(int version, uint8_t proto, const char* src, const char* dst, uint16_t sport,
                     uint16_t dport) {
  sim::PacketSpec s;
  std::memcpy(s.src_mac, kOurMac, 6);
  const uint8_t dmac[6] = {0x02, 0x58, 0x46, 0x00, 0x00, 0x02};
  std::memcpy(s.dst_mac, dmac, 6);
  s.ip_version = static_cast<uint8_t>(version);
  s.protocol = proto;
  auto a = base::IpAddress::Parse(src);
  auto b = base::IpAddress::Parse(dst);
  EXPECT_TRUE(a.ok() && b.ok());
  std::memcpy(s.src_ip, a->bytes(), a->size());
  std::memcpy(s.dst_ip, b->bytes(), b->size());
  s.src_port = sport;
  s.dst_port = dport;
  return s;
}

TEST_F(PcapLivePrivilegedTest, CapturesEveryFrameButTheExcludedCollectorTraffic) {
  ManualClock clock(MonoTime::FromSeconds(1234));
  PcapLiveOptions o;
  o.interface = "xfa";
  o.immediate = true;
  o.exclude_collectors = {Ep("10.9.9.9:2055"), Ep("[fd00::9]:4739")};
  OpenInNamespace(o, clock);
  ASSERT_EQ(error_, "");
  ASSERT_NE(source_, nullptr);
  EXPECT_GE(source_->fd(), 0);
  EXPECT_NE(source_->filter(), "");

  constexpr int kWanted = 200;
  for (int i = 0; i < kWanted; ++i) {
    const bool v6 = i % 4 == 3;
    sim::PacketSpec s = v6 ? Spec(6, sim::kIpProtoUdp, "fd00::1", "fd00::2", 1000, 53)
                           : Spec(4, sim::kIpProtoTcp, "10.0.0.1", "10.0.0.2", 1000, 80);
    s.src_port = static_cast<uint16_t>(1000 + i);
    Send(s, 100 + static_cast<uint32_t>(i));
  }
  // Export traffic: UDP to the collectors, TCP to and from them.
  for (int i = 0; i < 20; ++i) {
    Send(Spec(4, sim::kIpProtoUdp, "10.0.0.1", "10.9.9.9", 40000, 2055), 200);
    Send(Spec(4, sim::kIpProtoTcp, "10.0.0.1", "10.9.9.9", 40001, 2055), 200);
    Send(Spec(4, sim::kIpProtoTcp, "10.9.9.9", "10.0.0.1", 2055, 40001), 200);
    Send(Spec(6, sim::kIpProtoUdp, "fd00::1", "fd00::9", 40002, 4739), 200);
  }
  // Not excluded: the collector's address on another port, and UDP *from* the collector port.
  Send(Spec(4, sim::kIpProtoUdp, "10.0.0.1", "10.9.9.9", 40000, 2056), 300);
  Send(Spec(4, sim::kIpProtoUdp, "10.9.9.9", "10.0.0.1", 2055, 40000), 300);

  Seen seen;
  SeenSink sink(seen, source_->ifindex(), clock.Now());
  const size_t want = kWanted + 2;
  // Waits on the fd like the event loop does; the deadline only bounds a failure.
  for (int rounds = 0; rounds < 100 && seen.ours.size() < want; ++rounds) {
    pollfd p = {source_->fd(), POLLIN, 0};
    poll(&p, 1, 50);
    source_->Drain(sink, 64);
  }
  // Anything that should not have come would have come with the rest; one more look.
  pollfd p = {source_->fd(), POLLIN, 0};
  poll(&p, 1, 100);
  source_->Drain(sink, 1000);

  ASSERT_EQ(seen.ours.size(), want);
  EXPECT_EQ(seen.ifindex_mismatch, 0u);
  EXPECT_EQ(seen.bad_time, 0u);
  for (size_t i = 0; i < kWanted; ++i) {
    EXPECT_EQ(seen.lengths[i], 100 + i) << i;
    EXPECT_EQ(seen.ours[i].size(), std::min<size_t>(100 + i, 256)) << i;  // snaplen 256
  }
  EXPECT_EQ(source_->stats().samples, source_->packets_read());
  EXPECT_EQ(source_->stats().source_drops, 0u);
  EXPECT_EQ(source_->stats().parse_errors, 0u);
}

TEST_F(PcapLivePrivilegedTest, RingModeSamplesOneInNAndCutsToSnaplen) {
  ManualClock clock(MonoTime::FromSeconds(5));
  PcapLiveOptions o;
  o.interface = "xfa";
  o.block_timeout_ms = 10;
  o.snaplen = 64;
  o.sampling_rate = 4;
  o.seed = 3;
  OpenInNamespace(o, clock);
  ASSERT_EQ(error_, "");
  ASSERT_NE(source_, nullptr);

  constexpr int kSent = 400;
  for (int i = 0; i < kSent; ++i) {
    Send(Spec(4, sim::kIpProtoUdp, "10.0.0.1", "10.0.0.2", 1000, 53), 500);
  }
  Seen seen;
  SeenSink sink(seen, source_->ifindex(), clock.Now());
  for (int rounds = 0; rounds < 100 && source_->packets_read() < kSent; ++rounds) {
    pollfd p = {source_->fd(), POLLIN, 0};
    poll(&p, 1, 50);
    source_->Drain(sink, 64);
  }
  EXPECT_GE(source_->packets_read(), static_cast<uint64_t>(kSent));
  // 400 packets, skips uniform in [1, 7]: about 100 samples (sd ~ 7).
  EXPECT_NEAR(static_cast<double>(seen.ours.size()), 100.0, 40.0);
  for (const auto& h : seen.ours) EXPECT_EQ(h.size(), 64u);
  EXPECT_EQ(seen.bad_time, 0u);
}

// -i any: cooked SLL2 headers, each sample with the ifindex of its interface (xfa receives,
// xfb sends: the same frame is seen on both).
TEST_F(PcapLivePrivilegedTest, AnyInterfaceGivesCookedFramesWithTheirIfindex) {
  ManualClock clock(MonoTime::FromSeconds(1234));
  PcapLiveOptions o;
  o.interface = kAnyInterface;
  o.immediate = true;
  OpenInNamespace(o, clock);
  ASSERT_EQ(error_, "");
  ASSERT_NE(source_, nullptr);
  EXPECT_EQ(source_->ifindex(), 0u);
  ASSERT_EQ(source_->link_type(), LinkType::kLinuxSll2);

  constexpr int kSent = 10;
  for (int i = 0; i < kSent; ++i) {
    Send(Spec(4, sim::kIpProtoUdp, "10.0.0.1", "10.0.0.2", static_cast<uint16_t>(7000 + i), 53),
         100);
  }
  // SLL2 (20 bytes) + IPv4 (20) + UDP: the source port numbers our frames.
  struct Sink : PacketSampleSink {
    void OnSample(const PacketSample& s) override {
      uint16_t type = 0;
      uint16_t sport = 0;
      if (s.link_type != LinkType::kLinuxSll2 || !s.header.U16At(0, &type) || type != 0x0800 ||
          !s.header.U16At(40, &sport) || sport < 7000 || sport >= 7000 + kSent) {
        return;
      }
      ifindexes.push_back(s.input_ifindex);
    }
    std::vector<uint32_t> ifindexes;
  } sink;
  for (int rounds = 0; rounds < 100 && sink.ifindexes.size() < 2 * kSent; ++rounds) {
    pollfd p = {source_->fd(), POLLIN, 0};
    poll(&p, 1, 50);
    source_->Drain(sink, 64);
  }
  const auto on = [&sink](uint32_t ifindex) {
    return std::count(sink.ifindexes.begin(), sink.ifindexes.end(), ifindex);
  };
  EXPECT_EQ(on(xfa_index_), kSent);
  EXPECT_EQ(on(xfa_index_) + on(xfb_index_), static_cast<long>(sink.ifindexes.size()));
}

// Puts the calling thread into a network namespace until destroyed: the source re-opens its
// capture in the thread (and namespace) that drains it.
class InNamespace {
 public:
  explicit InNamespace(const std::string& ns) {
    home_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    const int fd = open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
    ok_ = home_ >= 0 && fd >= 0 && setns(fd, CLONE_NEWNET) == 0;
    if (fd >= 0) close(fd);
  }
  ~InNamespace() {
    if (home_ >= 0) {
      EXPECT_EQ(setns(home_, CLONE_NEWNET), 0);
      close(home_);
    }
  }
  bool ok() const { return ok_; }

 private:
  int home_ = -1;
  bool ok_ = false;
};

// Frames from kOurMac sent into xfa through xfb, counted by the ifindex they arrive with.
struct IfindexSink : PacketSampleSink {
  void OnSample(const PacketSample& s) override {
    if (s.header.size() >= 14 && std::memcmp(s.header.data() + 6, kOurMac, 6) == 0) {
      ++ours;
      last_ifindex = s.input_ifindex;
    }
  }
  int ours = 0;
  uint32_t last_ifindex = 0;
};

TEST_F(PcapLivePrivilegedTest, ReopensWhenTheInterfaceIsDeletedAndCreatedAgain) {
  InNamespace in(ns_);
  ASSERT_TRUE(in.ok()) << std::strerror(errno);
  ManualClock clock(MonoTime::FromSeconds(7));
  std::vector<std::string> lines;
  base::Logger log([&](base::LogLevel, const std::string& m) { lines.push_back(m); });
  PcapLiveOptions o;
  o.interface = "xfa";
  o.immediate = true;
  o.reopen_min_ms = 5;
  o.reopen_max_ms = 20;
  auto created = PcapLiveSource::Create(o, clock, log);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  PcapLiveSource& src = **created;
  const int fd = src.fd();
  const uint32_t first_ifindex = src.ifindex();

  // Sends 10 frames through xfb and drains until they are in (or 2 s of polling passed).
  auto send_and_see = [&](IfindexSink& sink) {
    const int tx = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    sockaddr_ll sll = {};
    sll.sll_family = AF_PACKET;
    sll.sll_ifindex = static_cast<int>(if_nametoindex("xfb"));
    sll.sll_halen = 6;
    ASSERT_GE(tx, 0);
    std::vector<uint8_t> f(200);
    sim::PacketSpec spec = Spec(4, sim::kIpProtoUdp, "10.0.0.1", "10.0.0.2", 1000, 53);
    std::memcpy(sll.sll_addr, spec.dst_mac, 6);
    ASSERT_EQ(sim::BuildFrame(spec, 200, f.data(), f.size()), 200u);
    for (int i = 0; i < 10; ++i) {
      EXPECT_EQ(sendto(tx, f.data(), f.size(), 0, reinterpret_cast<sockaddr*>(&sll), sizeof sll),
                200);
    }
    close(tx);
    for (int rounds = 0; rounds < 40 && sink.ours < 10; ++rounds) {
      pollfd p = {fd, POLLIN, 0};
      poll(&p, 1, 50);
      src.Drain(sink, 64);
    }
  };
  // Drains (as the event loop would, on readiness) until `done` or `rounds` polls (at most
  // 50 ms each) passed.
  auto drain_until = [&](const std::function<bool()>& done, int rounds = 40) {
    IfindexSink ignore;
    for (; rounds > 0 && !done(); --rounds) {
      pollfd p = {fd, POLLIN, 0};
      poll(&p, 1, 50);
      src.Drain(ignore, 64);
    }
  };

  IfindexSink before;
  send_and_see(before);
  EXPECT_EQ(before.ours, 10);
  EXPECT_EQ(before.last_ifindex, first_ifindex);

  ASSERT_EQ(Run("-n " + ns_ + " link del xfa"), 0);
  drain_until([&] { return src.losses() == 1; });
  EXPECT_EQ(src.losses(), 1u);
  EXPECT_FALSE(src.capturing());
  drain_until([] { return false; }, 4);  // a few failed retries while it is gone
  EXPECT_EQ(src.reopens(), 0u);
  ASSERT_EQ(Run("-n " + ns_ + " link add xfa type veth peer name xfb"), 0);
  ASSERT_EQ(Run("-n " + ns_ + " link set xfa up"), 0);
  ASSERT_EQ(Run("-n " + ns_ + " link set xfb up"), 0);
  drain_until([&] { return src.capturing(); });
  ASSERT_TRUE(src.capturing()) << src.last_error();
  EXPECT_EQ(src.reopens(), 1u);
  EXPECT_EQ(src.fd(), fd);  // the event loop keeps polling the same fd
  EXPECT_NE(src.ifindex(), first_ifindex);

  IfindexSink after;
  send_and_see(after);
  EXPECT_EQ(after.ours, 10);
  EXPECT_EQ(after.last_ifindex, src.ifindex());

  // A flap (down, up) does not stop the capture either.
  ASSERT_EQ(Run("-n " + ns_ + " link set xfa down"), 0);
  drain_until([] { return false; }, 4);
  ASSERT_EQ(Run("-n " + ns_ + " link set xfa up"), 0);
  IfindexSink flapped;
  send_and_see(flapped);
  EXPECT_EQ(flapped.ours, 10);
  // The owner's tick reads the link messages: the deletion and the flap are both logged,
  // though the flap was too short for the capture to fail.
  EXPECT_EQ(src.link_downs(), 0u);
  src.ProcessLinkEvents();
  EXPECT_EQ(src.link_downs(), 2u);
  EXPECT_EQ(src.losses(), 1u);

  std::string all;
  for (const auto& l : lines) all += l + "\n";
  EXPECT_NE(all.find("-i xfa: capture lost"), std::string::npos) << all;
  EXPECT_NE(all.find("-i xfa: capture re-opened"), std::string::npos) << all;
  EXPECT_NE(all.find("-i xfa: not re-opened yet: interface xfa does not exist"), std::string::npos)
      << all;
  EXPECT_NE(all.find("-i xfa: interface deleted"), std::string::npos) << all;
  EXPECT_NE(all.find("-i xfa: link set down"), std::string::npos) << all;
  EXPECT_NE(all.find("-i xfa: link up"), std::string::npos) << all;
}

}  // namespace
}  // namespace xflowd::hal::pcap
