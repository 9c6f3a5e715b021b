// EventLoop with short real timers (a few ms) and a pipe-backed fake PacketSource. Assertions
// are on counts, not on timing.
#include "agent/daemon/event_loop.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace xflowd::agent::daemon {
namespace {

using hal::base::Logger;
using hal::base::milliseconds;

// Each byte written to the pipe is one sample (input_ifindex = the byte).
class PipeSource final : public hal::PacketSource {
 public:
  PipeSource() { EXPECT_EQ(pipe2(fds_, O_NONBLOCK | O_CLOEXEC), 0); }
  ~PipeSource() override {
    close(fds_[0]);
    if (fds_[1] >= 0) close(fds_[1]);
  }
  void Write(size_t n) {
    std::vector<uint8_t> bytes(n);
    for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<uint8_t>(i);
    ASSERT_EQ(write(fds_[1], bytes.data(), n), static_cast<ssize_t>(n));
  }
  void CloseWriter() {
    close(fds_[1]);
    fds_[1] = -1;
  }
  int fd() const override { return fds_[0]; }
  size_t Drain(hal::PacketSampleSink& sink, size_t budget) override {
    max_budget_seen = std::max(max_budget_seen, budget);
    uint8_t buf[4096];
    ssize_t n = read(fds_[0], buf, std::min(budget, sizeof(buf)));
    if (n <= 0) return 0;
    for (ssize_t i = 0; i < n; ++i) {
      hal::PacketSample s;
      s.input_ifindex = buf[i];
      sink.OnSample(s);
    }
    stats_.samples += static_cast<uint64_t>(n);
    return static_cast<size_t>(n);
  }
  hal::PacketSourceStats stats() const override { return stats_; }
  size_t max_budget_seen = 0;

 private:
  int fds_[2] = {-1, -1};
  hal::PacketSourceStats stats_;
};

// Always readable, never runs dry: a flood.
class FloodSource final : public hal::PacketSource {
 public:
  FloodSource() : fd_(eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~FloodSource() override { close(fd_); }
  int fd() const override { return fd_; }
  size_t Drain(hal::PacketSampleSink& sink, size_t budget) override {
    hal::PacketSample s;
    for (size_t i = 0; i < budget; ++i) sink.OnSample(s);
    return budget;
  }
  hal::PacketSourceStats stats() const override { return {}; }

 private:
  int fd_;
};

class CountingSink final : public hal::PacketSampleSink {
 public:
  void OnSample(const hal::PacketSample&) override {
    ++count;
    if (on_sample) on_sample();
  }
  uint64_t count = 0;
  std::function<void()> on_sample;
};

class EventLoopTest : public ::testing::Test {
 protected:
  std::unique_ptr<EventLoop> MakeLoop(EventLoopOptions opt = {}) {
    if (opt.tick_period == hal::base::seconds(1)) opt.tick_period = milliseconds(2);
    auto loop = EventLoop::Create(opt, clock_, logger_);
    EXPECT_TRUE(loop.ok()) << loop.status().ToString();
    return loop.ok() ? std::move(loop.value()) : nullptr;
  }
  hal::base::SystemClock clock_;
  Logger logger_ = Logger::Null();
};

TEST_F(EventLoopTest, TicksUntilStopped) {
  auto loop = MakeLoop();
  ASSERT_TRUE(loop);
  int ticks = 0;
  loop->OnTick([&](hal::base::MonoTime) {
    if (++ticks == 3) loop->Stop();
  });
  auto reason = loop->Run();
  ASSERT_TRUE(reason.ok()) << reason.status().ToString();
  EXPECT_EQ(*reason, StopReason::kStopped);
  EXPECT_EQ(ticks, 3);
  EXPECT_EQ(loop->stats().ticks, 3u);
}

// The tick is handed the loop's clock time (the one tick convention of samplers, pollers and
// the flow probe), not a time each callback reads itself.
TEST_F(EventLoopTest, TickGetsTheClocksTime) {
  hal::base::ManualClock manual(hal::base::MonoTime::FromSeconds(1234));
  EventLoopOptions opt;
  opt.tick_period = milliseconds(2);
  auto loop = EventLoop::Create(opt, manual, logger_);
  ASSERT_TRUE(loop.ok()) << loop.status().ToString();
  std::vector<hal::base::MonoTime> seen;
  (*loop)->OnTick([&](hal::base::MonoTime now) {
    seen.push_back(now);
    manual.Advance(hal::base::seconds(1));
    if (seen.size() == 2) (*loop)->Stop();
  });
  ASSERT_TRUE((*loop)->Run().ok());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], hal::base::MonoTime::FromSeconds(1234));
  EXPECT_EQ(seen[1], hal::base::MonoTime::FromSeconds(1235));
}

TEST_F(EventLoopTest, DrainsSourceInBudgetedChunks) {
  EventLoopOptions opt;
  opt.drain_budget = 64;
  auto loop = MakeLoop(opt);
  ASSERT_TRUE(loop);
  PipeSource source;
  CountingSink sink;
  sink.on_sample = [&] {
    if (sink.count == 1000) loop->Stop();
  };
  ASSERT_TRUE(loop->AddPacketSource(source, sink).ok());
  source.Write(1000);
  auto reason = loop->Run(hal::base::seconds(10));  // a safety net only
  ASSERT_TRUE(reason.ok());
  EXPECT_EQ(*reason, StopReason::kStopped);
  EXPECT_EQ(sink.count, 1000u);
  EXPECT_EQ(source.max_budget_seen, 64u);
  EXPECT_GE(loop->stats().drains, 16u);  // ceil(1000 / 64)
  EXPECT_EQ(loop->stats().samples, 1000u);
}

TEST_F(EventLoopTest, FloodDoesNotStarveTheTick) {
  EventLoopOptions opt;
  opt.drain_budget = 256;
  auto loop = MakeLoop(opt);
  ASSERT_TRUE(loop);
  FloodSource flood;
  CountingSink sink;
  ASSERT_TRUE(loop->AddPacketSource(flood, sink).ok());
  int ticks = 0;
  loop->OnTick([&](hal::base::MonoTime) {
    if (++ticks == 5) loop->Stop();
  });
  auto reason = loop->Run(hal::base::seconds(10));
  ASSERT_TRUE(reason.ok());
  EXPECT_EQ(*reason, StopReason::kStopped) << "the tick never ran: starved by the source";
  EXPECT_EQ(ticks, 5);
  EXPECT_GT(sink.count, 0u);
  EXPECT_EQ(sink.count % 256, 0u);
}

TEST_F(EventLoopTest, ExtraTimersRun) {
  auto loop = MakeLoop();
  ASSERT_TRUE(loop);
  int fast = 0;
  ASSERT_TRUE(loop->AddTimer(milliseconds(1),
                             [&] {
                               if (++fast == 5) loop->Stop();
                             })
                  .ok());
  auto reason = loop->Run(hal::base::seconds(10));
  ASSERT_TRUE(reason.ok());
  EXPECT_EQ(*reason, StopReason::kStopped);
  EXPECT_EQ(fast, 5);
  EXPECT_EQ(loop->stats().timer_runs, 5u);
  EXPECT_FALSE(loop->AddTimer(milliseconds(0), [] {}).ok());
}

TEST_F(EventLoopTest, DeadlineEndsRun) {
  auto loop = MakeLoop();
  ASSERT_TRUE(loop);
  auto reason = loop->Run(milliseconds(20));
  ASSERT_TRUE(reason.ok());
  EXPECT_EQ(*reason, StopReason::kDeadline);
  EXPECT_GE(loop->stats().ticks, 1u);  // 2 ms ticks inside a 20 ms run

  // Run again, with a zero deadline: returns at once.
  auto again = loop->Run(milliseconds(0));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, StopReason::kDeadline);
}

TEST_F(EventLoopTest, SighupReloadsAndSigtermStops) {
  auto loop = MakeLoop();
  ASSERT_TRUE(loop);
  int reloads = 0;
  loop->OnReload([&] {
    ++reloads;
    raise(SIGTERM);  // blocked: goes to the signalfd, does not kill the test
  });
  raise(SIGHUP);
  auto reason = loop->Run(hal::base::seconds(10));
  ASSERT_TRUE(reason.ok());
  EXPECT_EQ(*reason, StopReason::kSignal);
  EXPECT_EQ(loop->stop_signal(), SIGTERM);
  EXPECT_EQ(reloads, 1);
  EXPECT_EQ(loop->stats().reloads, 1u);
}

TEST_F(EventLoopTest, SigintStopsAndLateSignalsDoNotKillOnDestroy) {
  {
    auto loop = MakeLoop();
    ASSERT_TRUE(loop);
    raise(SIGINT);
    auto reason = loop->Run(hal::base::seconds(10));
    ASSERT_TRUE(reason.ok());
    EXPECT_EQ(*reason, StopReason::kSignal);
    EXPECT_EQ(loop->stop_signal(), SIGINT);
    raise(SIGTERM);  // after Run: swallowed by the destructor
  }
  sigset_t mask;
  pthread_sigmask(SIG_SETMASK, nullptr, &mask);
  EXPECT_FALSE(sigismember(&mask, SIGTERM)) << "mask not restored";
}

TEST_F(EventLoopTest, Sigusr1ReportsStatusAndUsr2AndPipeDoNotKill) {
  auto loop = MakeLoop();
  ASSERT_TRUE(loop);
  int reports = 0;
  loop->OnStatus([&] {
    ++reports;
    raise(SIGUSR2);  // by default each of these three would end the process
    raise(SIGPIPE);
    raise(SIGTERM);
  });
  raise(SIGUSR1);
  auto reason = loop->Run(hal::base::seconds(10));
  ASSERT_TRUE(reason.ok());
  EXPECT_EQ(*reason, StopReason::kSignal);
  EXPECT_EQ(reports, 1);
  EXPECT_EQ(loop->stats().status_requests, 1u);
  EXPECT_EQ(loop->stats().ignored_signals, 2u);
}

TEST_F(EventLoopTest, Sigusr1WithoutAHookIsLoggedNotFatal) {
  std::vector<std::string> lines;
  Logger logger([&](hal::base::LogLevel, const std::string& m) { lines.push_back(m); });
  auto loop = EventLoop::Create({}, clock_, logger);
  ASSERT_TRUE(loop.ok());
  raise(SIGUSR1);
  raise(SIGINT);
  auto reason = (*loop)->Run(hal::base::seconds(10));
  ASSERT_TRUE(reason.ok());
  EXPECT_EQ((*loop)->stats().status_requests, 1u);
  EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                          [](const std::string& l) { return l.find("SIGUSR1") == 0; }),
            1);
}

TEST_F(EventLoopTest, WithoutSignalHandlingTheMaskIsUntouched) {
  EventLoopOptions opt;
  opt.handle_signals = false;
  auto loop = MakeLoop(opt);
  ASSERT_TRUE(loop);
  sigset_t mask;
  pthread_sigmask(SIG_SETMASK, nullptr, &mask);
  EXPECT_FALSE(sigismember(&mask, SIGINT));
}

TEST_F(EventLoopTest, DeadSourceIsDroppedNotSpunOn) {
  std::vector<std::string> lines;
  Logger logger([&](hal::base::LogLevel, const std::string& m) { lines.push_back(m); });
  EventLoopOptions opt;
  opt.tick_period = milliseconds(2);
  auto created = EventLoop::Create(opt, clock_, logger);
  ASSERT_TRUE(created.ok());
  EventLoop* loop = created->get();
  PipeSource source;
  CountingSink sink;
  ASSERT_TRUE(loop->AddPacketSource(source, sink, "-i xf-test0").ok());
  source.Write(3);
  source.CloseWriter();  // readable (3 bytes), then HUP forever
  int ticks = 0;
  loop->OnTick([&](hal::base::MonoTime) {
    if (++ticks == 3) loop->Stop();
  });
  auto reason = loop->Run(hal::base::seconds(10));
  ASSERT_TRUE(reason.ok());
  EXPECT_EQ(*reason, StopReason::kStopped);
  EXPECT_EQ(sink.count, 3u);
  EXPECT_LE(loop->stats().drains, 3u);  // not thousands of empty Drain calls
  // The log says which source, not which fd.
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "packet source -i xf-test0 closed or failed; no longer polled");
}

TEST_F(EventLoopTest, StallCatchesUpThenSkips) {
  EventLoopOptions opt;
  opt.tick_period = milliseconds(5);
  opt.max_catch_up_ticks = 2;
  auto loop = MakeLoop(opt);
  ASSERT_TRUE(loop);
  int ticks = 0;
  loop->OnTick([&](hal::base::MonoTime) {
    ++ticks;
    if (ticks == 1) std::this_thread::sleep_for(std::chrono::milliseconds(50));  // ~10 periods
    if (ticks == 4) loop->Stop();
  });
  auto reason = loop->Run(hal::base::seconds(10));
  ASSERT_TRUE(reason.ok());
  EXPECT_EQ(ticks, 4);
  EXPECT_GE(loop->stats().late_ticks, 1u);
  EXPECT_GE(loop->stats().missed_ticks, 1u);
}

TEST_F(EventLoopTest, FdWatchCallsBackOnReadinessAndModifyChangesWhat) {
  auto loop = MakeLoop();
  ASSERT_NE(loop, nullptr);
  int p[2];
  ASSERT_EQ(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
  std::vector<uint32_t> seen;
  ASSERT_TRUE(loop->AddFd(p[0], EPOLLIN,
                          [&](uint32_t events) {
                            seen.push_back(events);
                            char b[16];
                            (void)!read(p[0], b, sizeof(b));
                          })
                  .ok());
  // The write end: writable at once once watched for EPOLLOUT.
  int writable = 0;
  ASSERT_TRUE(loop->AddFd(p[1], 0,
                          [&](uint32_t events) {
                            if (events & EPOLLOUT) ++writable;
                            ASSERT_TRUE(loop->ModifyFd(p[1], 0).ok());  // once is enough
                            ASSERT_EQ(write(p[1], "x", 1), 1);
                          })
                  .ok());
  ASSERT_TRUE(loop->ModifyFd(p[1], EPOLLOUT).ok());
  loop->OnTick([&](hal::base::MonoTime) {
    if (!seen.empty()) loop->Stop();
  });
  auto reason = loop->Run(hal::base::seconds(10));
  ASSERT_TRUE(reason.ok());
  EXPECT_EQ(*reason, StopReason::kStopped);
  EXPECT_EQ(writable, 1);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(seen[0] & EPOLLIN);
  EXPECT_FALSE(loop->ModifyFd(12345, EPOLLIN).ok());
  loop->RemoveFd(p[0]);
  loop->RemoveFd(p[1]);
  close(p[0]);
  close(p[1]);
}

TEST_F(EventLoopTest, RemovingFdsInsideCallbacksIsSafe) {
  // Two ready fds in one batch: the first callback removes both; the second must not run.
  auto loop = MakeLoop();
  ASSERT_NE(loop, nullptr);
  int a = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);
  int b = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);
  int calls = 0;
  auto remove_both = [&](uint32_t) {
    ++calls;
    loop->RemoveFd(a);
    loop->RemoveFd(b);
  };
  ASSERT_TRUE(loop->AddFd(a, EPOLLIN, remove_both).ok());
  ASSERT_TRUE(loop->AddFd(b, EPOLLIN, remove_both).ok());
  int ticks = 0;
  loop->OnTick([&](hal::base::MonoTime) {
    if (++ticks == 3) loop->Stop();
  });
  auto reason = loop->Run(hal::base::seconds(10));
  ASSERT_TRUE(reason.ok());
  EXPECT_EQ(calls, 1);  // both stay readable: without the removal they would fire every turn
  close(a);
  close(b);
}

TEST_F(EventLoopTest, RejectsBadOptions) {
  EventLoopOptions opt;
  opt.tick_period = milliseconds(0);
  EXPECT_FALSE(EventLoop::Create(opt, clock_, logger_).ok());
  opt.tick_period = milliseconds(1);
  opt.drain_budget = 0;
  EXPECT_FALSE(EventLoop::Create(opt, clock_, logger_).ok());
}

}  // namespace
}  // namespace xflowd::agent::daemon
