// ControlServer on a real unix socket in a temp directory, served by a real EventLoop whose
// packet source is always ready (samples keep flowing). Client sockets are driven from a 1 ms
// loop timer; tests stop on counts, never on time. Time that matters (idle clients) comes from
// a ManualClock.
#include "agent/control/control_server.h"

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "agent/control/protocol.h"
#include "tests/support/temp_dir.h"

namespace xflowd::agent::control {
namespace {

using daemon::EventLoop;
using hal::base::Logger;
using hal::base::ManualClock;
using hal::base::milliseconds;
using hal::base::seconds;

// Always readable; every Drain hands over `budget` samples.
class FloodSource final : public hal::PacketSource {
 public:
  FloodSource() : fd_(eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~FloodSource() override { close(fd_); }
  int fd() const override { return fd_; }
  size_t Drain(hal::PacketSampleSink& sink, size_t budget) override {
    ++drains;
    hal::PacketSample s;
    for (size_t i = 0; i < budget; ++i) sink.OnSample(s);
    samples += budget;
    return budget;
  }
  hal::PacketSourceStats stats() const override { return {}; }
  uint64_t drains = 0;
  uint64_t samples = 0;

 private:
  int fd_;
};

class NullSink final : public hal::PacketSampleSink {
 public:
  void OnSample(const hal::PacketSample&) override {}
};

class ControlServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    path_ = dir_.File("xflowd.sock");
    daemon::EventLoopOptions lo;
    lo.handle_signals = false;
    lo.tick_period = milliseconds(5);
    lo.drain_budget = 64;
    auto loop = EventLoop::Create(lo, clock_, logger_);
    ASSERT_TRUE(loop.ok()) << loop.status().ToString();
    loop_ = std::move(loop.value());
    ASSERT_TRUE(loop_->AddPacketSource(source_, sink_, "flood").ok());
    ASSERT_TRUE(loop_
                    ->AddTimer(milliseconds(1),
                               [this] {
                                 if (step_) step_();
                               })
                    .ok());
  }

  ControlServerOptions Options() {
    ControlServerOptions o;
    o.path = path_;
    return o;
  }

  std::unique_ptr<ControlServer> Start(const ControlServerOptions& o) {
    auto s = ControlServer::Create(
        o, *loop_, clock_, logger_,
        [this](std::string_view line, bool* ok) {
          ++handled_;
          drains_at_request_.push_back(source_.drains);
          *ok = line != "bad";
          if (!*ok) return EncodeError("bad request");
          return EncodeOk(
              nlohmann::json{{"echo", std::string(line)}, {"pad", std::string(reply_pad_, 'p')}});
        },
        [](const std::string& m) { return EncodeError(m); });
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s.value()) : nullptr;
  }

  // Runs the loop until `done` holds (checked every 1 ms, after `each` if given).
  void RunUntil(const std::function<bool()>& done, const std::function<void()>& each = {}) {
    step_ = [&] {
      if (each) each();
      if (done()) loop_->Stop();
    };
    auto reason = loop_->Run(seconds(20));  // a safety net only: tests stop on counts
    step_ = nullptr;
    ASSERT_TRUE(reason.ok());
    ASSERT_EQ(*reason, daemon::StopReason::kStopped) << "condition not reached in 20 s";
  }

  int Connect(const std::string& path) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a = {};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof(a.sun_path), "%s", path.c_str());
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0) << strerror(errno);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    fds_.push_back(fd);
    return fd;
  }
  int Connect() { return Connect(path_); }

  static void Send(int fd, const std::string& s) {
    ASSERT_EQ(send(fd, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size()));
  }
  // What the client can read now; *eof when the server closed.
  static std::string ReadNow(int fd, bool* eof = nullptr) {
    std::string got;
    char buf[65536];
    for (;;) {
      ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
      if (n > 0) {
        got.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (eof) *eof = n == 0;
      return got;
    }
  }
  static size_t Lines(const std::string& s) { return std::count(s.begin(), s.end(), '\n'); }

  void TearDown() override {
    for (int fd : fds_) close(fd);
  }

  xflowd::testing::TempDir dir_;
  std::string path_;
  ManualClock clock_;
  Logger logger_{[](hal::base::LogLevel, const std::string&) {}};
  FloodSource source_;
  NullSink sink_;
  std::unique_ptr<EventLoop> loop_;
  std::function<void()> step_;
  size_t reply_pad_ = 0;
  uint64_t handled_ = 0;
  std::vector<uint64_t> drains_at_request_;
  std::vector<int> fds_;
};

TEST_F(ControlServerTest, AnswersEachLineInOrderAndCountsErrors) {
  auto server = Start(Options());
  ASSERT_NE(server, nullptr);
  int c = Connect();
  Send(c, "one\nbad\n\nthree\r\n");  // an empty line is skipped, not answered
  std::string got;
  RunUntil([&] { return Lines(got) == 3; }, [&] { got += ReadNow(c); });
  std::vector<nlohmann::json> replies;
  for (size_t at = 0, nl; (nl = got.find('\n', at)) != std::string::npos; at = nl + 1) {
    replies.push_back(nlohmann::json::parse(got.substr(at, nl - at)));
  }
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(replies[0]["result"]["echo"], "one");
  EXPECT_EQ(replies[1]["ok"], false);
  EXPECT_EQ(replies[1]["error"], "bad request");
  EXPECT_EQ(replies[2]["result"]["echo"], "three\r");  // '\r' is the parser's business
  EXPECT_EQ(server->stats().accepted, 1u);
  EXPECT_EQ(server->stats().requests, 3u);
  EXPECT_EQ(server->stats().errors, 1u);
  EXPECT_EQ(server->stats().clients, 1u);
}

TEST_F(ControlServerTest, SocketIsOwnerOnlyAndRemovedAtTheEnd) {
  {
    auto server = Start(Options());
    ASSERT_NE(server, nullptr);
    struct stat st;
    ASSERT_EQ(lstat(path_.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0600u);
  }
  struct stat st;
  EXPECT_NE(lstat(path_.c_str(), &st), 0) << "socket file left behind";
}

TEST_F(ControlServerTest, GroupMakesTheSocket0660ForThatGroup) {
  const struct group* g = getgrgid(getgid());
  if (g == nullptr) GTEST_SKIP() << "the test's own group has no name";
  ControlServerOptions o = Options();
  o.group = g->gr_name;
  auto server = Start(o);
  ASSERT_NE(server, nullptr);
  struct stat st;
  ASSERT_EQ(lstat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  EXPECT_EQ(st.st_gid, getgid());
  o.group = "no-such-group-xflowd-test";
  server.reset();
  auto bad = ControlServer::Create(
      o, *loop_, clock_, logger_, [](std::string_view, bool*) { return std::string(); },
      EncodeError);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("no such group"), std::string::npos);
}

TEST_F(ControlServerTest, StaleSocketIsReplacedLiveOneAndPlainFileAreNot) {
  // A socket file nobody listens on: what a killed daemon leaves behind.
  {
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a = {};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof(a.sun_path), "%s", path_.c_str());
    ASSERT_EQ(bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    close(s);
  }
  auto first = Start(Options());
  ASSERT_NE(first, nullptr) << "a stale socket must be replaced";
  auto second = ControlServer::Create(
      Options(), *loop_, clock_, logger_, [](std::string_view, bool*) { return std::string(); },
      EncodeError);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("in use by another running xflowd"), std::string::npos)
      << second.status().message();
  first.reset();

  FILE* f = std::fopen(path_.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  auto third = ControlServer::Create(
      Options(), *loop_, clock_, logger_, [](std::string_view, bool*) { return std::string(); },
      EncodeError);
  ASSERT_FALSE(third.ok());
  EXPECT_NE(third.status().message().find("not a socket"), std::string::npos);
  struct stat st;
  EXPECT_EQ(stat(path_.c_str(), &st), 0) << "a plain file must never be deleted";
}

TEST_F(ControlServerTest, MakesAMissingParentDirectory) {
  const std::string sub = dir_.path() + "/run/xflowd";
  ControlServerOptions o = Options();
  o.path = sub + "/x.sock";
  {
    auto server = Start(o);
    ASSERT_NE(server, nullptr);
    int c = Connect(o.path);
    Send(c, "hi\n");
    std::string got;
    RunUntil([&] { return Lines(got) == 1; }, [&] { got += ReadNow(c); });
  }
  EXPECT_EQ(rmdir(sub.c_str()), 0);
  EXPECT_EQ(rmdir((dir_.path() + "/run").c_str()), 0);
}

TEST_F(ControlServerTest, ClientThatNeverReadsIsDroppedWhileSamplesFlow) {
  ControlServerOptions o = Options();
  o.max_output_bytes = 64 * 1024;
  reply_pad_ = 8 * 1024;
  auto server = Start(o);
  ASSERT_NE(server, nullptr);
  int c = Connect();
  const uint64_t samples_before = source_.samples;
  const uint64_t ticks_before = loop_->stats().ticks;
  bool peer_gone = false;
  // The client writes requests as fast as the socket takes them and never reads a reply.
  RunUntil([&] { return server->stats().dropped_slow == 1; },
           [&] {
             std::string lines;
             for (int i = 0; i < 200; ++i) lines += "{\"command\":\"stats\"}\n";
             ssize_t n = send(c, lines.data(), lines.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
             if (n < 0 && errno == EPIPE) peer_gone = true;
           });
  EXPECT_EQ(server->stats().clients, 0u);
  EXPECT_EQ(server->stats().dropped_slow, 1u);
  // The loop kept draining samples and ticking while the client was being served.
  EXPECT_GT(source_.samples, samples_before + 1000);
  EXPECT_GE(loop_->stats().ticks, ticks_before);
  // Its replies went nowhere: far more were made than the client could have taken.
  EXPECT_GT(server->stats().requests, 8u);
  (void)peer_gone;
}

TEST_F(ControlServerTest, RequestsArePacedPerLoopTurnBetweenDrains) {
  ControlServerOptions o = Options();
  o.max_requests_per_turn = 4;
  auto server = Start(o);
  ASSERT_NE(server, nullptr);
  int c = Connect();
  std::string lines;
  for (int i = 0; i < 40; ++i) lines += "r" + std::to_string(i) + "\n";
  Send(c, lines);
  std::string got;
  RunUntil([&] { return Lines(got) == 40; }, [&] { got += ReadNow(c); });
  // The source is ready on every turn: requests answered in one turn share a drain count.
  std::map<uint64_t, int> per_turn;
  for (uint64_t d : drains_at_request_) ++per_turn[d];
  for (const auto& [drain, n] : per_turn) EXPECT_LE(n, 4) << "at drain " << drain;
  EXPECT_GE(per_turn.size(), 10u);
  EXPECT_NE(got.find("\"echo\":\"r39\""), std::string::npos);
}

TEST_F(ControlServerTest, OverLongLineGetsAnErrorAndIsDropped) {
  ControlServerOptions o = Options();
  o.max_request_bytes = 1024;
  auto server = Start(o);
  ASSERT_NE(server, nullptr);
  int c = Connect();
  Send(c, std::string(3000, 'x'));  // no newline, ever
  bool eof = false;
  std::string got;
  RunUntil([&] { return eof; }, [&] { got += ReadNow(c, &eof); });
  EXPECT_EQ(server->stats().dropped_long, 1u);
  EXPECT_EQ(server->stats().clients, 0u);
  ASSERT_EQ(Lines(got), 1u) << got;
  auto reply = nlohmann::json::parse(got);
  EXPECT_EQ(reply["ok"], false);
  EXPECT_NE(reply["error"].get<std::string>().find("longer than 1024 bytes"), std::string::npos);

  // A line of exactly the limit is still a request.
  int d = Connect();
  Send(d, std::string(1024, 'y') + "\n");
  got.clear();
  RunUntil([&] { return Lines(got) == 1; }, [&] { got += ReadNow(d); });
  EXPECT_EQ(nlohmann::json::parse(got)["ok"], true);
  EXPECT_EQ(server->stats().dropped_long, 1u);
}

TEST_F(ControlServerTest, ClientsBeyondTheLimitAreTurnedAway) {
  ControlServerOptions o = Options();
  o.max_clients = 2;
  auto server = Start(o);
  ASSERT_NE(server, nullptr);
  std::vector<int> c;
  for (int i = 0; i < 5; ++i) c.push_back(Connect());
  RunUntil([&] { return server->stats().accepted + server->stats().rejected == 5; });
  EXPECT_EQ(server->stats().accepted, 2u);
  EXPECT_EQ(server->stats().rejected, 3u);
  EXPECT_EQ(server->stats().clients, 2u);
  std::vector<int> admitted;
  for (int fd : c) {
    bool eof = false;
    std::string got = ReadNow(fd, &eof);
    if (eof) {
      EXPECT_NE(got.find("too many control clients (2)"), std::string::npos) << got;
    } else {
      admitted.push_back(fd);
    }
  }
  ASSERT_EQ(admitted.size(), 2u);
  // The two admitted ones are served.
  for (int fd : admitted) Send(fd, "ping\n");
  RunUntil([&] { return server->stats().requests == 2; });
}

TEST_F(ControlServerTest, IdleClientIsDroppedByTheInjectedClock) {
  auto server = Start(Options());
  ASSERT_NE(server, nullptr);
  int c = Connect();
  RunUntil([&] { return server->stats().accepted == 1; });
  clock_.Advance(seconds(59));
  server->CheckIdle();
  EXPECT_EQ(server->stats().dropped_idle, 0u);
  Send(c, "still here\n");
  std::string got;
  RunUntil([&] { return Lines(got) == 1; }, [&] { got += ReadNow(c); });
  clock_.Advance(seconds(59));  // 59 s after its last request: not yet
  server->CheckIdle();
  EXPECT_EQ(server->stats().clients, 1u);
  clock_.Advance(seconds(1));
  server->CheckIdle();
  EXPECT_EQ(server->stats().dropped_idle, 1u);
  EXPECT_EQ(server->stats().clients, 0u);
  bool eof = false;
  ReadNow(c, &eof);
  EXPECT_TRUE(eof);
}

TEST_F(ControlServerTest, LastLineWithoutNewlineIsAnsweredAfterShutdown) {
  // echo -n '{"command":"status"}' | nc -U: the request ends with the stream.
  auto server = Start(Options());
  ASSERT_NE(server, nullptr);
  int c = Connect();
  Send(c, "first\nlast");
  ASSERT_EQ(shutdown(c, SHUT_WR), 0);
  bool eof = false;
  std::string got;
  RunUntil([&] { return eof; }, [&] { got += ReadNow(c, &eof); });
  EXPECT_EQ(Lines(got), 2u) << got;
  EXPECT_NE(got.find("\"echo\":\"last\""), std::string::npos);
  EXPECT_EQ(server->stats().clients, 0u);
}

TEST_F(ControlServerTest, PathTooLongIsAClearError) {
  ControlServerOptions o = Options();
  o.path = "/tmp/" + std::string(200, 'a');
  auto s = ControlServer::Create(
      o, *loop_, clock_, logger_, [](std::string_view, bool*) { return std::string(); },
      EncodeError);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("1 to 107 bytes"), std::string::npos) << s.status().message();
}

}  // namespace
}  // namespace xflowd::agent::control
