#include "agent/daemon/event_loop.h"

#include <pthread.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace xflowd::agent::daemon {

using hal::base::Duration;
using hal::base::ErrnoError;
using hal::base::InvalidArgumentError;
using hal::base::LogLevel;
using hal::base::Result;
using hal::base::Status;

namespace {

timespec ToTimespec(Duration d) {
  timespec ts;
  ts.tv_sec = static_cast<time_t>(d.count() / 1000000000);
  ts.tv_nsec = static_cast<long>(d.count() % 1000000000);
  return ts;
}

Duration MonotonicNow() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return hal::base::seconds(ts.tv_sec) + hal::base::nanoseconds(ts.tv_nsec);
}

// Reads a timerfd's expiration count; 0 if it had not expired (spurious wake-up).
uint64_t ReadExpirations(int fd) {
  uint64_t n = 0;
  ssize_t r;
  do {
    r = read(fd, &n, sizeof(n));
  } while (r < 0 && errno == EINTR);
  return r == sizeof(n) ? n : 0;
}

void Disarm(int fd) {
  itimerspec its = {};
  timerfd_settime(fd, 0, &its, nullptr);
}

}  // namespace

const char* StopReasonName(StopReason reason) {
  switch (reason) {
    case StopReason::kStopped:
      return "stopped";
    case StopReason::kSignal:
      return "signal";
    case StopReason::kDeadline:
      return "deadline";
  }
  return "?";
}

EventLoop::EventLoop(const EventLoopOptions& options, const hal::base::Clock& clock,
                     hal::base::Logger& logger)
    : options_(options), clock_(clock), logger_(logger) {
  sigemptyset(&old_mask_);
}

EventLoop::~EventLoop() {
  for (auto& w : watches_) {
    if (w->kind != Kind::kSource && w->kind != Kind::kFd && w->fd >= 0) {
      if (w->kind == Kind::kSignal) {
        // Swallow signals that arrived after the loop stopped: unblocking them below would
        // otherwise kill the process with the default action halfway through shutdown.
        signalfd_siginfo si;
        while (read(w->fd, &si, sizeof(si)) == sizeof(si)) {
        }
      }
      close(w->fd);
    }
  }
  if (epoll_fd_ >= 0) close(epoll_fd_);
  if (signals_blocked_) pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

Result<std::unique_ptr<EventLoop>> EventLoop::Create(const EventLoopOptions& options,
                                                     const hal::base::Clock& clock,
                                                     hal::base::Logger& logger) {
  if (options.tick_period <= Duration::zero()) {
    return InvalidArgumentError("event loop: tick period must be positive");
  }
  if (options.drain_budget == 0) return InvalidArgumentError("event loop: drain budget is 0");
  std::unique_ptr<EventLoop> loop(new EventLoop(options, clock, logger));
  Status st = loop->Init();
  if (!st.ok()) return st;
  return loop;
}

Status EventLoop::Init() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return ErrnoError("epoll_create1", errno);

  for (Kind kind : {Kind::kTick, Kind::kDeadline}) {
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0) return ErrnoError("timerfd_create", errno);
    auto w = std::make_unique<Watch>();
    w->kind = kind;
    w->fd = fd;
    w->period = options_.tick_period;
    (kind == Kind::kTick ? tick_ : deadline_) = w.get();
    XFLOWD_RETURN_IF_ERROR(AddWatch(std::move(w)));
  }

  if (options_.handle_signals) {
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGUSR1);
    sigaddset(&mask, SIGUSR2);
    sigaddset(&mask, SIGPIPE);
    if (int err = pthread_sigmask(SIG_BLOCK, &mask, &old_mask_); err != 0) {
      return ErrnoError("pthread_sigmask", err);
    }
    signals_blocked_ = true;
    int fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0) return ErrnoError("signalfd", errno);
    auto w = std::make_unique<Watch>();
    w->kind = Kind::kSignal;
    w->fd = fd;
    XFLOWD_RETURN_IF_ERROR(AddWatch(std::move(w)));
  }
  return Status::Ok();
}

Status EventLoop::AddWatch(std::unique_ptr<Watch> watch) {
  epoll_event ev = {};
  ev.events = EPOLLIN;
  ev.data.ptr = watch.get();
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, watch->fd, &ev) != 0) {
    int err = errno;
    if (watch->kind != Kind::kSource && watch->kind != Kind::kFd) close(watch->fd);
    return ErrnoError("epoll_ctl add fd " + std::to_string(watch->fd), err);
  }
  watches_.push_back(std::move(watch));
  return Status::Ok();
}

Status EventLoop::AddPacketSource(hal::PacketSource& source, hal::PacketSampleSink& sink,
                                  std::string name) {
  if (source.fd() < 0) return InvalidArgumentError("packet source has no file descriptor");
  auto w = std::make_unique<Watch>();
  w->kind = Kind::kSource;
  w->fd = source.fd();
  w->source = &source;
  w->sink = &sink;
  w->name = name.empty() ? "fd " + std::to_string(w->fd) : std::move(name);
  return AddWatch(std::move(w));
}

Status EventLoop::AddTimer(Duration period, Callback callback) {
  if (period <= Duration::zero()) return InvalidArgumentError("timer period must be positive");
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0) return ErrnoError("timerfd_create", errno);
  auto w = std::make_unique<Watch>();
  w->kind = Kind::kTimer;
  w->fd = fd;
  w->period = period;
  w->callback = std::move(callback);
  return AddWatch(std::move(w));
}

Status EventLoop::AddFd(int fd, uint32_t events, FdCallback callback) {
  if (fd < 0) return InvalidArgumentError("event loop: negative file descriptor");
  auto w = std::make_unique<Watch>();
  w->kind = Kind::kFd;
  w->fd = fd;
  w->fd_callback = std::move(callback);
  epoll_event ev = {};
  ev.events = events;
  ev.data.ptr = w.get();
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    return ErrnoError("epoll_ctl add fd " + std::to_string(fd), errno);
  }
  watches_.push_back(std::move(w));
  return Status::Ok();
}

EventLoop::Watch* EventLoop::FindFd(int fd) {
  for (auto& w : watches_) {
    if (w->kind == Kind::kFd && w->fd == fd && !w->removed) return w.get();
  }
  return nullptr;
}

Status EventLoop::ModifyFd(int fd, uint32_t events) {
  Watch* w = FindFd(fd);
  if (w == nullptr)
    return InvalidArgumentError("event loop: fd " + std::to_string(fd) + " not watched");
  epoll_event ev = {};
  ev.events = events;
  ev.data.ptr = w;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) != 0) {
    return ErrnoError("epoll_ctl mod fd " + std::to_string(fd), errno);
  }
  return Status::Ok();
}

void EventLoop::RemoveFd(int fd) {
  Watch* w = FindFd(fd);
  if (w == nullptr) return;
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  w->removed = true;
  have_removed_ = true;
  if (!dispatching_) FreeRemoved();
}

void EventLoop::FreeRemoved() {
  if (!have_removed_) return;
  have_removed_ = false;
  watches_.erase(std::remove_if(watches_.begin(), watches_.end(),
                                [](const std::unique_ptr<Watch>& w) { return w->removed; }),
                 watches_.end());
}

// Absolute expirations start + k * period, so the phase never drifts.
Status EventLoop::ArmPeriodic(int fd, Duration period) {
  itimerspec its = {};
  its.it_value = ToTimespec(MonotonicNow() + period);
  its.it_interval = ToTimespec(period);
  if (timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, nullptr) != 0) {
    return ErrnoError("timerfd_settime", errno);
  }
  return Status::Ok();
}

Result<StopReason> EventLoop::Run(std::optional<Duration> run_for) {
  stop_requested_ = false;
  deadline_hit_ = false;
  stop_signal_ = 0;

  for (auto& w : watches_) {
    if (w->kind == Kind::kTick || w->kind == Kind::kTimer) {
      XFLOWD_RETURN_IF_ERROR(ArmPeriodic(w->fd, w->period));
    }
  }
  if (run_for) {
    itimerspec its = {};
    // A zero it_value would disarm the timer: make "run for 0" expire at once instead.
    its.it_value = ToTimespec(std::max(*run_for, Duration(1)));
    if (timerfd_settime(deadline_->fd, 0, &its, nullptr) != 0) {
      return ErrnoError("timerfd_settime", errno);
    }
  } else {
    Disarm(deadline_->fd);
  }

  Status error;
  epoll_event events[16];
  while (!stop_requested_ && !deadline_hit_) {
    int n = epoll_wait(epoll_fd_, events, 16, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = ErrnoError("epoll_wait", errno);
      break;
    }
    dispatching_ = true;
    for (int i = 0; i < n && !stop_requested_ && !deadline_hit_; ++i) {
      Watch* w = static_cast<Watch*>(events[i].data.ptr);
      if (w->removed) continue;  // removed by an earlier callback of this batch
      w->ready = events[i].events;
      if (w->kind == Kind::kSource && (events[i].events & (EPOLLERR | EPOLLHUP)) &&
          !(events[i].events & EPOLLIN)) {
        // The source's fd is dead; leaving it in a level-triggered epoll would spin.
        logger_.Log(LogLevel::kError, "packet source %s closed or failed; no longer polled",
                    w->name.c_str());
        epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, w->fd, nullptr);
        continue;
      }
      Dispatch(*w);
    }
    dispatching_ = false;
    FreeRemoved();
  }

  for (auto& w : watches_) {
    if (w->kind == Kind::kTick || w->kind == Kind::kTimer || w->kind == Kind::kDeadline) {
      Disarm(w->fd);
    }
  }
  if (!error.ok()) return error;
  if (stop_signal_ != 0) return StopReason::kSignal;
  if (deadline_hit_ && !stop_requested_) return StopReason::kDeadline;
  return StopReason::kStopped;
}

void EventLoop::Dispatch(Watch& w) {
  switch (w.kind) {
    case Kind::kSource: {
      size_t got = w.source->Drain(*w.sink, options_.drain_budget);
      ++stats_.drains;
      stats_.samples += got;
      break;
    }
    case Kind::kTick:
      OnTickFd(w);
      break;
    case Kind::kTimer:
      if (ReadExpirations(w.fd) > 0) {
        ++stats_.timer_runs;
        if (w.callback) w.callback();
      }
      break;
    case Kind::kSignal:
      OnSignalFd(w);
      break;
    case Kind::kDeadline:
      if (ReadExpirations(w.fd) > 0) deadline_hit_ = true;
      break;
    case Kind::kFd:
      if (w.fd_callback) w.fd_callback(w.ready);
      break;
  }
}

void EventLoop::OnTickFd(Watch& w) {
  uint64_t expirations = ReadExpirations(w.fd);
  if (expirations == 0) return;
  if (expirations > 1) ++stats_.late_ticks;
  uint64_t run =
      std::min<uint64_t>(expirations, std::max<uint32_t>(1, options_.max_catch_up_ticks));
  if (expirations > run) {
    stats_.missed_ticks += expirations - run;
    logger_.Log(LogLevel::kWarning, "event loop stalled for %llu ticks; skipping %llu",
                static_cast<unsigned long long>(expirations),
                static_cast<unsigned long long>(expirations - run));
  }
  for (uint64_t i = 0; i < run && !stop_requested_; ++i) {
    ++stats_.ticks;
    if (on_tick_) on_tick_(clock_.Now());
  }
}

void EventLoop::OnSignalFd(Watch& w) {
  signalfd_siginfo si;
  while (read(w.fd, &si, sizeof(si)) == sizeof(si)) {
    int sig = static_cast<int>(si.ssi_signo);
    if (sig == SIGHUP) {
      ++stats_.reloads;
      if (on_reload_) {
        logger_.Log(LogLevel::kInfo, "SIGHUP: reloading");
        on_reload_();
      } else {
        logger_.Log(LogLevel::kInfo, "SIGHUP: nothing to reload yet; ignored");
      }
    } else if (sig == SIGUSR1) {
      ++stats_.status_requests;
      if (on_status_) {
        on_status_();
      } else {
        logger_.Log(LogLevel::kInfo, "SIGUSR1: no status to report; ignored");
      }
    } else if (sig == SIGUSR2) {
      ++stats_.ignored_signals;
      logger_.Log(LogLevel::kInfo, "SIGUSR2: ignored (SIGUSR1 logs the counters)");
    } else if (sig == SIGPIPE) {
      ++stats_.ignored_signals;  // the write that raised it got EPIPE and counted its error
    } else if (sig == SIGINT || sig == SIGTERM) {
      logger_.Log(LogLevel::kInfo, "%s received, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
      stop_signal_ = sig;
      stop_requested_ = true;
    }
  }
}

}  // namespace xflowd::agent::daemon
