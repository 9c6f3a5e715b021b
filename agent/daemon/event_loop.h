// EventLoop: the daemon's one thread. epoll over
//   - a tick timerfd (CLOCK_MONOTONIC, absolute, period 1 s by default): ticks stay exactly one
//     period apart however long each one takes, and a late loop catches up tick by tick;
//   - PacketSource fds: when readable, one Drain(sink, budget) per wake-up, then back to epoll
//     (level-triggered), so a flood of samples cannot push the tick late;
//   - extra periodic timers (the simulator's 10 ms AdvanceTo);
//   - other file descriptors (the control socket and its clients): readiness -> callback;
//   - a signalfd: SIGINT/SIGTERM stop the loop, SIGHUP calls the reload hook, SIGUSR1 the
//     status hook (the daemon logs its counters); SIGUSR2 and SIGPIPE are logged or
//     swallowed, so a habit `kill -USR1` or a closed pipe never kills the daemon;
//   - an optional deadline (--duration).
// Callbacks run on the loop thread and may call Stop().
#pragma once

#include <signal.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "hal/base/status.h"
#include "hal/base/time.h"
#include "hal/packet_source.h"

namespace xflowd::agent::daemon {

struct EventLoopOptions {
  // Period of the tick timer. 1 s in the daemon (the sFlow tick); tests shorten it.
  hal::base::Duration tick_period = hal::base::seconds(1);
  // Samples handed over per Drain call before the loop looks at its timers again.
  size_t drain_budget = 256;
  // After a stall (suspend, debugger) at most this many missed ticks are run back to back;
  // the rest are counted in missed_ticks and skipped.
  uint32_t max_catch_up_ticks = 10;
  // Block SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2 and SIGPIPE and take them through a
  // signalfd. The mask is changed for
  // the calling thread, so create the loop before starting any other thread; the old mask is
  // restored when the loop is destroyed.
  bool handle_signals = true;
};

enum class StopReason {
  kStopped,   // Stop() was called
  kSignal,    // SIGINT or SIGTERM
  kDeadline,  // the run_for duration passed
};
const char* StopReasonName(StopReason reason);

struct EventLoopStats {
  uint64_t ticks = 0;            // tick callbacks run
  uint64_t missed_ticks = 0;     // ticks skipped after a stall longer than max_catch_up_ticks
  uint64_t late_ticks = 0;       // wake-ups that found more than one expiration
  uint64_t drains = 0;           // Drain calls
  uint64_t samples = 0;          // samples the Drain calls reported
  uint64_t timer_runs = 0;       // extra timer callbacks run
  uint64_t reloads = 0;          // SIGHUPs received
  uint64_t status_requests = 0;  // SIGUSR1s received
  uint64_t ignored_signals = 0;  // SIGUSR2 and SIGPIPE received (nothing else happens)
};

class EventLoop {
 public:
  using Callback = std::function<void()>;
  // The tick convention of every periodic component (samplers, pollers, the flow probe): the
  // tick is handed the clock's time, read once per tick.
  using TickCallback = std::function<void(hal::base::MonoTime now)>;
  // Gets the epoll events that were ready (EPOLLIN, EPOLLOUT, EPOLLHUP, EPOLLERR).
  using FdCallback = std::function<void(uint32_t events)>;

  // Opens the epoll, tick timer and (optionally) signalfd. The tick timer starts in Run().
  // `clock` gives the ticks their time; it must outlive the loop.
  static hal::base::Result<std::unique_ptr<EventLoop>> Create(const EventLoopOptions& options,
                                                              const hal::base::Clock& clock,
                                                              hal::base::Logger& logger);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // When `source` is readable, Drain(sink, budget) hands its samples to `sink`. Neither is
  // owned; both must outlive the loop. `name` says which source in logs ("-i eth0").
  hal::base::Status AddPacketSource(hal::PacketSource& source, hal::PacketSampleSink& sink,
                                    std::string name = "");
  // Called once per tick period (once per missed period too, up to max_catch_up_ticks).
  void OnTick(TickCallback callback) { on_tick_ = std::move(callback); }
  // A periodic timer (CLOCK_MONOTONIC). Called once per wake-up even if several periods passed
  // (read the clock inside the callback if that matters).
  hal::base::Status AddTimer(hal::base::Duration period, Callback callback);
  // Calls `callback` when `fd` is ready for `events` (EPOLLIN and/or EPOLLOUT; level-triggered).
  // The fd is not owned: RemoveFd it before closing it. The callback should do a bounded
  // amount of work per call, so the samples and the tick are never held up.
  hal::base::Status AddFd(int fd, uint32_t events, FdCallback callback);
  hal::base::Status ModifyFd(int fd, uint32_t events);
  // Stops watching `fd`. Safe from inside any callback (also the fd's own): the watch is
  // freed after the current batch of events.
  void RemoveFd(int fd);
  // SIGHUP. Without a hook, SIGHUP is logged and ignored.
  void OnReload(Callback callback) { on_reload_ = std::move(callback); }
  // SIGUSR1: log the live counters. Without a hook, SIGUSR1 is logged and ignored.
  void OnStatus(Callback callback) { on_status_ = std::move(callback); }

  // Runs until Stop(), SIGINT/SIGTERM, or `run_for` has passed (if given). Returns why it
  // stopped, or an error if epoll itself failed. Can be run again after it returns.
  hal::base::Result<StopReason> Run(std::optional<hal::base::Duration> run_for = std::nullopt);
  // Ends Run() after the callback that is running now returns.
  void Stop() { stop_requested_ = true; }

  // The signal that stopped the loop (SIGINT/SIGTERM), 0 if none.
  int stop_signal() const { return stop_signal_; }
  const EventLoopStats& stats() const { return stats_; }

 private:
  enum class Kind : uint8_t { kTick, kSource, kTimer, kSignal, kDeadline, kFd };
  struct Watch {
    Kind kind;
    int fd;  // owned for timers; the source's own fd for kSource
    hal::PacketSource* source = nullptr;
    hal::PacketSampleSink* sink = nullptr;
    hal::base::Duration period{0};
    Callback callback;
    std::string name;  // kSource: for logs
    FdCallback fd_callback;
    uint32_t ready = 0;    // kFd: the events epoll reported
    bool removed = false;  // kFd: RemoveFd'd; freed after the batch
  };

  EventLoop(const EventLoopOptions& options, const hal::base::Clock& clock,
            hal::base::Logger& logger);
  hal::base::Status Init();
  hal::base::Status AddWatch(std::unique_ptr<Watch> watch);
  hal::base::Status ArmPeriodic(int fd, hal::base::Duration period);
  void Dispatch(Watch& w);
  void OnTickFd(Watch& w);
  void OnSignalFd(Watch& w);
  Watch* FindFd(int fd);
  void FreeRemoved();

  EventLoopOptions options_;
  const hal::base::Clock& clock_;
  hal::base::Logger& logger_;
  int epoll_fd_ = -1;
  Watch* tick_ = nullptr;
  Watch* deadline_ = nullptr;
  std::vector<std::unique_ptr<Watch>> watches_;
  TickCallback on_tick_;
  Callback on_reload_;
  Callback on_status_;
  bool signals_blocked_ = false;
  sigset_t old_mask_;
  bool stop_requested_ = false;
  bool dispatching_ = false;  // inside a batch of events: RemoveFd defers the free
  bool have_removed_ = false;
  bool deadline_hit_ = false;
  int stop_signal_ = 0;
  EventLoopStats stats_;
};

}  // namespace xflowd::agent::daemon
