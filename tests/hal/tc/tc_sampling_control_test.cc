#include "hal/tc/tc_sampling_control.h"

#include <gtest/gtest.h>
#include <net/if.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "hal/base/byte_view.h"
#include "hal/tc/tc_netlink.h"
#include "tests/support/golden.h"
#include "tests/support/test_env.h"

namespace xflowd::hal::tc {
namespace {

using base::ByteView;

using xflowd::testing::LittleEndianHost;

std::string GoldenHex(const std::string& name) {
  const std::basic_string<uint8_t> b = xflowd::testing::ReadGoldenHex("tc/" + name);
  return base::HexDump(ByteView(b.data(), b.size()));
}

std::string Hex(const std::vector<uint8_t>& b) {
  return base::HexDump(ByteView(b.data(), b.size()));
}

class TcRequestGoldenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!LittleEndianHost()) GTEST_SKIP() << "golden netlink bytes are little-endian";
  }
};

TEST_F(TcRequestGoldenTest, AddAndDeleteClsact) {
  EXPECT_EQ(Hex(BuildAddClsactRequest(7, 1)), GoldenHex("add_clsact.hex"));
  EXPECT_EQ(Hex(BuildDeleteClsactRequest(7, 5)), GoldenHex("del_clsact.hex"));
}

TEST_F(TcRequestGoldenTest, IngressSampleFilterWithTruncation) {
  SampleFilter f;
  f.ifindex = 7;
  f.direction = Direction::kIngress;
  f.rate = 1024;
  f.group = 1;
  f.trunc_size = 128;
  EXPECT_EQ(Hex(BuildAddSampleFilterRequest(f, 2)), GoldenHex("add_filter_ingress.hex"));
  EXPECT_EQ(Hex(BuildDeleteSampleFilterRequest(f, 4)), GoldenHex("del_filter_ingress.hex"));
}

TEST_F(TcRequestGoldenTest, EgressHardwareOnlySampleFilter) {
  SampleFilter f;
  f.ifindex = 7;
  f.direction = Direction::kEgress;
  f.rate = 4096;
  f.group = 2;
  f.matchall_flags = kTcaClsFlagsSkipSw;
  EXPECT_EQ(Hex(BuildAddSampleFilterRequest(f, 3)), GoldenHex("add_filter_egress_skip_sw.hex"));
}

TEST(TcNetlinkTest, FindAckReadsErrorAndExtendedMessage) {
  const std::vector<uint8_t> req = BuildAddClsactRequest(7, 42);
  const std::vector<uint8_t> ack =
      BuildAck(ByteView(req.data(), req.size()), -ENOENT, "TC classifier not found");
  NetlinkAck a;
  ASSERT_TRUE(FindAck(ByteView(ack.data(), ack.size()), 42, &a));
  EXPECT_EQ(a.error, -ENOENT);
  EXPECT_EQ(a.ext_message, "TC classifier not found");
  EXPECT_FALSE(FindAck(ByteView(ack.data(), ack.size()), 43, &a));
  // Every truncation is refused or read within bounds.
  for (size_t n = 0; n < ack.size(); ++n) {
    NetlinkAck b;
    (void)FindAck(ByteView(ack.data(), n), 42, &b);
  }
}

uint16_t Type(const std::vector<uint8_t>& m) {
  uint16_t t;
  std::memcpy(&t, m.data() + 4, 2);
  return t;
}

// Plays the kernel on the other end of a socketpair: answers each request with the next
// scripted error (and extack text) and keeps the request bytes. A read-back (RTM_GETTFILTER)
// takes no script entry: it is answered with the last filter added, at `applied_rate` if set
// (a driver that rounds), then an ACK; or with `get_error` alone.
class FakeKernel {
 public:
  struct Reply {
    int error;
    std::string ext;
  };
  explicit FakeKernel(std::vector<Reply> script, uint32_t applied_rate = 0, int get_error = 0)
      : script_(std::move(script)), applied_rate_(applied_rate), get_error_(get_error) {
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fd_), 0);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeKernel() {
    shutdown(fd_[0], SHUT_RDWR);
    Join();
    close(fd_[0]);
  }
  int TakeClientEnd() {
    const int f = fd_[1];
    fd_[1] = -1;
    return f;
  }
  // Valid after the client is destroyed (the thread has stopped reading).
  const std::vector<std::vector<uint8_t>>& requests() const { return requests_; }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Serve() {
    uint8_t buf[8192];
    for (;;) {
      const ssize_t r = recv(fd_[0], buf, sizeof(buf), 0);
      if (r <= 0) return;
      requests_.emplace_back(buf, buf + r);
      const ByteView req(buf, static_cast<size_t>(r));
      if (Type(requests_.back()) == kRtmNewTfilter) {
        uint32_t seq;
        std::memcpy(&seq, buf + 8, 4);
        (void)ParseSampleFilter(req, seq, &last_);
      }
      if (Type(requests_.back()) == kRtmGetTfilter) {
        if (get_error_ == 0) {
          uint32_t seq;
          std::memcpy(&seq, buf + 8, 4);
          SampleFilter f;
          f.ifindex = last_.ifindex;
          f.direction = last_.parent == kTcHClsactEgress ? Direction::kEgress : Direction::kIngress;
          f.rate = applied_rate_ != 0 ? applied_rate_ : last_.rate;
          f.group = last_.group;
          f.trunc_size = last_.trunc_size;
          const std::vector<uint8_t> m = BuildSampleFilterMessage(f, seq, 4);
          if (send(fd_[0], m.data(), m.size(), MSG_NOSIGNAL) < 0) return;
        }
        const std::vector<uint8_t> ack = BuildAck(req, get_error_, "");
        if (send(fd_[0], ack.data(), ack.size(), MSG_NOSIGNAL) < 0) return;
        continue;
      }
      Reply rep = next_ < script_.size() ? script_[next_++] : Reply{0, ""};
      const std::vector<uint8_t> ack =
          BuildAck(ByteView(buf, static_cast<size_t>(r)), rep.error, rep.ext);
      if (send(fd_[0], ack.data(), ack.size(), MSG_NOSIGNAL) < 0) return;
    }
  }
  int fd_[2] = {-1, -1};
  std::vector<Reply> script_;
  uint32_t applied_rate_;
  int get_error_;
  AppliedSampleFilter last_;
  size_t next_ = 0;
  std::vector<std::vector<uint8_t>> requests_;
  std::thread thread_;
};

TEST(TcSamplingControlTest, CreatesClsactOnceAndCleansUpWhatItOwns) {
  FakeKernel k({{0, ""}, {0, ""}, {0, ""}, {0, ""}});
  {
    auto c = TcSamplingControl::FromFd(k.TakeClientEnd());
    ASSERT_TRUE(c.ok());
    auto r = (*c)->SetSamplingRate(7, Direction::kIngress, 1024, 128);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r, 1024u);
    r = (*c)->SetSamplingRate(7, Direction::kEgress, 4096, 0);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*c)->applied_rate(7, Direction::kEgress), 4096u);
  }  // destructor: both filters, then the clsact we created
  k.Join();
  const auto& q = k.requests();
  ASSERT_EQ(q.size(), 8u);
  EXPECT_EQ(Type(q[0]), kRtmNewQdisc);
  EXPECT_EQ(Type(q[1]), kRtmNewTfilter);
  EXPECT_EQ(Type(q[2]), kRtmGetTfilter);  // the rate read back
  EXPECT_EQ(Type(q[3]), kRtmNewTfilter);  // clsact not asked for twice
  EXPECT_EQ(Type(q[4]), kRtmGetTfilter);
  EXPECT_EQ(Type(q[5]), kRtmDelTfilter);
  EXPECT_EQ(Type(q[6]), kRtmDelTfilter);
  EXPECT_EQ(Type(q[7]), kRtmDelQdisc);
}

// A driver that rounds: the filter asked 1-in-1000 and the dump says 1-in-1024, which is what
// SetSamplingRate returns (and what the samples will say).
TEST(TcSamplingControlTest, AppliedRateIsReadBackFromTheKernel) {
  FakeKernel k({{0, ""}, {0, ""}}, 1024);
  {
    auto c = TcSamplingControl::FromFd(k.TakeClientEnd());
    ASSERT_TRUE(c.ok());
    auto r = (*c)->SetSamplingRate(7, Direction::kEgress, 1000, 128);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r, 1024u);
    EXPECT_EQ((*c)->applied_rate(7, Direction::kEgress), 1024u);
    EXPECT_EQ((*c)->readback_failures(), 0u);
  }
  k.Join();
  ASSERT_GE(k.requests().size(), 3u);
  if (LittleEndianHost()) {
    EXPECT_EQ(Hex(k.requests()[2]), GoldenHex("get_filter_egress.hex"));
  }
}

// A kernel that refuses the read-back: the rate it accepted stands, and the failure is counted.
TEST(TcSamplingControlTest, ReadBackRefusedKeepsTheRateAskedFor) {
  FakeKernel k({{0, ""}, {0, ""}}, 0, -EOPNOTSUPP);
  auto c = TcSamplingControl::FromFd(k.TakeClientEnd());
  ASSERT_TRUE(c.ok());
  auto r = (*c)->SetSamplingRate(7, Direction::kIngress, 1000, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 1000u);
  EXPECT_EQ((*c)->readback_failures(), 1u);
}

// The kernel's answer to the read-back, hand-built (golden): the parser finds the sample
// action's rate, group and truncation among the attributes it does not need.
TEST(TcNetlinkTest, ParsesTheKernelsFilterDump) {
  const std::basic_string<uint8_t> b = xflowd::testing::ReadGoldenHex("tc/filter_dump_egress.hex");
  if (!LittleEndianHost()) GTEST_SKIP() << "golden netlink bytes are little-endian";
  AppliedSampleFilter f;
  ASSERT_TRUE(ParseSampleFilter(ByteView(b.data(), b.size()), 9, &f));
  EXPECT_EQ(f.ifindex, 7u);
  EXPECT_EQ(f.parent, kTcHClsactEgress);
  EXPECT_EQ(f.rate, 1024u);
  EXPECT_EQ(f.group, 2u);
  EXPECT_EQ(f.trunc_size, 128u);
  EXPECT_TRUE(f.in_hw());
  EXPECT_FALSE(ParseSampleFilter(ByteView(b.data(), b.size()), 10, &f));  // another request's
  // Every truncation is refused or read within bounds.
  for (size_t n = 0; n < b.size(); ++n) {
    AppliedSampleFilter g;
    EXPECT_FALSE(ParseSampleFilter(ByteView(b.data(), n), 9, &g)) << n;
  }
  // Our own builder (what the fake kernel sends) reads back the same way.
  SampleFilter sf;
  sf.ifindex = 7;
  sf.direction = Direction::kEgress;
  sf.rate = 1024;
  sf.group = 2;
  sf.trunc_size = 128;
  const std::vector<uint8_t> m = BuildSampleFilterMessage(sf, 9, 4);
  AppliedSampleFilter h;
  ASSERT_TRUE(ParseSampleFilter(ByteView(m.data(), m.size()), 9, &h));
  EXPECT_EQ(h.rate, 1024u);
  EXPECT_EQ(h.trunc_size, 128u);
}

TEST(TcSamplingControlTest, ExistingClsactIsLeftAlone) {
  FakeKernel k({{-EEXIST, ""}, {0, ""}, {0, ""}});
  {
    auto c = TcSamplingControl::FromFd(k.TakeClientEnd());
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->SetSamplingRate(7, Direction::kIngress, 100, 0).ok());
    auto r = (*c)->SetSamplingRate(7, Direction::kIngress, 0, 0);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, 0u);
  }
  k.Join();
  ASSERT_EQ(k.requests().size(), 4u);  // add qdisc (EEXIST), add filter, get, delete filter
  EXPECT_EQ(Type(k.requests()[3]), kRtmDelTfilter);
}

TEST(TcSamplingControlTest, MissingKernelFeaturesAreNamedAndRolledBack) {
  struct Case {
    std::string ext;
    const char* expect;
  };
  for (const Case& cs : {Case{"TC classifier not found", "CONFIG_NET_CLS_MATCHALL"},
                         Case{"Failed to load TC action module", "CONFIG_NET_ACT_SAMPLE"},
                         Case{"", "CONFIG_NET_ACT_SAMPLE"}}) {
    FakeKernel k({{0, ""}, {-ENOENT, cs.ext}, {0, ""}});
    {
      auto c = TcSamplingControl::FromFd(k.TakeClientEnd());
      ASSERT_TRUE(c.ok());
      auto r = (*c)->SetSamplingRate(7, Direction::kIngress, 100, 0);
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.status().code(), base::StatusCode::kUnavailable);
      EXPECT_NE(r.status().message().find(cs.expect), std::string::npos) << r.status().message();
      EXPECT_EQ((*c)->applied_rate(7, Direction::kIngress), 0u);
    }
    k.Join();
    ASSERT_EQ(k.requests().size(), 3u);
    EXPECT_EQ(Type(k.requests()[2]), kRtmDelQdisc);  // the clsact we made is gone again
  }
}

TEST(TcSamplingControlTest, PermissionAndDeviceErrors) {
  FakeKernel k({{-EPERM, ""}, {-ENODEV, ""}});
  auto c = TcSamplingControl::FromFd(k.TakeClientEnd());
  ASSERT_TRUE(c.ok());
  auto r = (*c)->SetSamplingRate(7, Direction::kIngress, 100, 0);
  EXPECT_EQ(r.status().code(), base::StatusCode::kPermissionDenied) << r.status().ToString();
  EXPECT_NE(r.status().message().find("CAP_NET_ADMIN"), std::string::npos);
  r = (*c)->SetSamplingRate(8, Direction::kIngress, 100, 0);
  EXPECT_EQ(r.status().code(), base::StatusCode::kNotFound);
  EXPECT_FALSE((*c)->SetSamplingRate(0, Direction::kIngress, 100, 0).ok());
}

// The real kernel, in a private network namespace with a veth pair (no name in the root
// namespace; everything goes away with the thread's namespace). This CI kernel has clsact but
// neither matchall nor act_sample: applying must fail with the missing feature named, and the
// clsact qdisc created for the attempt must be removed again.
TEST(TcPrivilegedTest, MissingSampleActionIsReportedInANetns) {
  if (!xflowd::testing::IsRoot()) GTEST_SKIP() << "needs root (netns, tc)";
  XFLOWD_SKIP_UNDER_EMULATION("netns and tc");
  std::string skip;
  std::thread t([&] {
    if (unshare(CLONE_NEWNET) != 0) {
      skip = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
      return;
    }
    const std::string a = "xfh4a" + std::to_string(getpid() % 100000);
    const std::string b = "xfh4b" + std::to_string(getpid() % 100000);
    // A child forked from this thread starts in the thread's new namespace.
    const std::string cmd = "ip link add " + a + " type veth peer name " + b + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) {
      skip = "cannot create a veth pair in the test namespace";
      return;
    }
    const uint32_t ifindex = if_nametoindex(a.c_str());
    ASSERT_NE(ifindex, 0u);

    auto c = TcSamplingControl::Create();
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    auto r = (*c)->SetSamplingRate(ifindex, Direction::kIngress, 1000, 128);
    if (r.ok()) {
      // A kernel that has them: the filter is in; clean up and stop here.
      EXPECT_EQ(*r, 1000u);
      EXPECT_TRUE((*c)->SetSamplingRate(ifindex, Direction::kIngress, 0, 0).ok());
      return;
    }
    EXPECT_EQ(r.status().code(), base::StatusCode::kUnavailable) << r.status().ToString();
    const std::string m = r.status().message();
    EXPECT_TRUE(m.find("CONFIG_NET_CLS_MATCHALL") != std::string::npos ||
                m.find("CONFIG_NET_ACT_SAMPLE") != std::string::npos)
        << m;
    std::cout << "[ kernel  ] " << m << "\n";
    // Rolled back: adding clsact again succeeds (it would be EEXIST had it stayed).
    auto c2 = TcSamplingControl::Create();
    ASSERT_TRUE(c2.ok());
    auto r2 = (*c2)->SetSamplingRate(ifindex, Direction::kEgress, 10, 0);
    EXPECT_FALSE(r2.ok());
  });
  t.join();
  if (!skip.empty()) GTEST_SKIP() << skip;
}

}  // namespace
}  // namespace xflowd::hal::tc
