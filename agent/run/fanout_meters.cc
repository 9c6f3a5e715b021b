#include "agent/run/fanout_meters.h"

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <utility>

#include "agent/flow/flow_cache.h"
#include "hal/base/spin_wait.h"

namespace xflowd::agent::run {

using hal::base::MonoTime;
using hal::base::Status;

struct FanoutMeters::Worker {
  std::unique_ptr<hal::afpacket::AfPacketSource> socket;
  std::unique_ptr<flow::FlowPartition> part;
  std::thread thread;
  int cmd_fd = -1;
  // A command: op and now are written by the loop before cmd_seq (release); the worker runs
  // it, then stores done_seq (release).
  Op op = Op::kFlush;
  MonoTime cmd_now;
  flow::FlowMeterOptions replace;  // kReplace: this worker's share
  std::atomic<uint64_t> cmd_seq{0};
  std::atomic<uint64_t> done_seq{0};
  // Written by the worker (PACKET_STATISTICS: it is the socket's only reader).
  std::atomic<uint64_t> kernel_packets{0};
  std::atomic<uint64_t> kernel_drops{0};
  std::atomic<uint64_t> bad_frames{0};
  ~Worker() {
    if (cmd_fd >= 0) close(cmd_fd);
  }
};

namespace {

constexpr size_t kWorkerBurst = 4096;

void Wake(int fd) {
  const uint64_t one = 1;
  (void)!write(fd, &one, sizeof(one));
}

}  // namespace

hal::base::Result<std::unique_ptr<FanoutMeters>> FanoutMeters::Create(
    const FanoutMetersOptions& options, const hal::base::Clock& clock) {
  if (options.workers == 0 || options.workers > 64) {
    return hal::base::InvalidArgumentError("fanout: workers must be 1..64, not " +
                                           std::to_string(options.workers));
  }
  std::unique_ptr<FanoutMeters> s(new FanoutMeters());
  s->clock_ = &clock;
  s->ring_blocks_ = options.ring_blocks;
  s->group_ =
      options.group != 0 ? options.group : static_cast<uint16_t>((getpid() & 0x7fff) | 0x8000);
  s->efd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (s->efd_ < 0) return hal::base::ErrnoError("fanout: eventfd", errno);
  for (uint32_t i = 0; i < options.workers; ++i) {
    hal::afpacket::AfPacketOptions ao;
    ao.ifname = options.ifname;
    ao.snaplen = options.snaplen;
    ao.block_size = options.block_size;
    ao.block_count = options.block_count;
    ao.block_timeout_ms = 10;
    ao.fanout_group = s->group_;
    ao.filter = options.filter;
    auto sock = hal::afpacket::AfPacketSource::Create(ao, clock);
    if (!sock.ok()) {
      return Status(sock.status().code(), "worker " + std::to_string(i) + " of " +
                                              std::to_string(options.workers) + ": " +
                                              sock.status().message());
    }
    auto w = std::make_unique<Worker>();
    w->socket = std::move(sock.value());
    w->cmd_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (w->cmd_fd < 0) return hal::base::ErrnoError("fanout: eventfd", errno);
    s->ifindex_ = w->socket->ifindex();
    s->workers_.push_back(std::move(w));
  }
  return s;
}

FanoutMeters::~FanoutMeters() {
  stop_.store(true, std::memory_order_relaxed);
  for (auto& w : workers_) Wake(w->cmd_fd);
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
  if (efd_ >= 0) close(efd_);
}

Status FanoutMeters::CheckSize(uint32_t capacity) const {
  if (capacity < workers()) {
    return hal::base::InvalidArgumentError(
        "flow.cache-size " + std::to_string(capacity) + " is smaller than the " +
        std::to_string(workers()) + " fanout workers (each needs a cache partition of its own)");
  }
  return Status::Ok();
}

Status FanoutMeters::Start(const flow::FlowMeterOptions& options, int64_t unix_offset_ms,
                           exporter::netflow::FlowRecordSink& sink) {
  if (started_) return hal::base::InternalError("fanout meters started twice");
  Status st = CheckSize(options.cache.capacity);
  if (!st.ok()) return st;
  const std::vector<uint32_t> sizes = flow::PartitionSizes(options.cache.capacity, workers());
  for (size_t i = 0; i < workers_.size(); ++i) {
    flow::FlowMeterOptions mo = options;
    mo.cache.capacity = sizes[i];
    workers_[i]->part =
        std::make_unique<flow::FlowPartition>(mo, unix_offset_ms, ring_blocks_, [this] {
          Wake(efd_);  // the loop may not have seen the last block yet
          if (stop_.load(std::memory_order_relaxed)) return false;
          const timespec t{0, 20 * 1000};
          nanosleep(&t, nullptr);
          return true;
        });
  }
  sink_ = &sink;
  started_ = true;
  for (auto& w : workers_) {
    Worker* wp = w.get();
    w->thread = std::thread([this, wp] { WorkerLoop(*wp); });
  }
  return Status::Ok();
}

void FanoutMeters::WorkerLoop(Worker& w) {
  // Signals are the loop thread's (signalfd): a worker must never take one.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  flow::FlowPartition& part = *w.part;
  pollfd p[2] = {{w.socket->fd(), POLLIN, 0}, {w.cmd_fd, POLLIN, 0}};
  MonoTime next_tick = clock_->Now() + hal::base::seconds(1);
  bool metering = true;
  uint64_t done = 0;
  uint64_t woken_at = 0;  // records written when the loop was last woken
  while (!stop_.load(std::memory_order_relaxed)) {
    size_t n = 0;
    if (metering) {
      n = w.socket->Drain(part.meter(), kWorkerBurst);
      const hal::afpacket::AfPacketStats& st = w.socket->afpacket_stats();
      w.kernel_packets.store(st.kernel_packets, std::memory_order_relaxed);
      w.kernel_drops.store(st.kernel_drops, std::memory_order_relaxed);
      w.bad_frames.store(st.bad_frames, std::memory_order_relaxed);
    }
    // The flow timers on this worker's partition, once a second as the loop's tick would.
    const MonoTime now = clock_->Now();
    if (metering && now >= next_tick) {
      part.Tick(now);
      next_tick = now + hal::base::seconds(1);
    } else {
      part.Publish();
    }
    const uint64_t seq = w.cmd_seq.load(std::memory_order_acquire);
    if (seq != done) {
      switch (w.op) {
        case Op::kFlush:
          part.Flush(w.cmd_now);
          break;
        case Op::kStop:
          if (metering) part.Flush(w.cmd_now);
          metering = false;
          break;
        case Op::kTimeouts:
          part.SetTimeouts(cmd_timeouts_);
          break;
        case Op::kReplace:
          part.Replace(w.cmd_now, w.replace);
          break;
      }
      done = seq;
      w.done_seq.store(seq, std::memory_order_release);
      Wake(efd_);
    }
    if (part.records_written() != woken_at) {
      woken_at = part.records_written();
      Wake(efd_);
    }
    if (n == kWorkerBurst) continue;
    // Not metering (after the final flush): only commands and stop.
    (void)poll(metering ? p : p + 1, metering ? 2 : 1, 100);
    if (p[1].revents != 0) {
      uint64_t junk = 0;
      (void)!read(w.cmd_fd, &junk, sizeof(junk));
    }
  }
  part.Publish();
}

size_t FanoutMeters::DrainRecords(size_t budget) {
  if (sink_ == nullptr) return 0;
  size_t handed = 0;
  const size_t n = workers_.size();
  for (size_t k = 0; k < n && handed < budget; ++k) {
    Worker& w = *workers_[(next_worker_ + k) % n];
    handed += w.part->ring().Drain(*sink_, budget - handed);
  }
  next_worker_ = (next_worker_ + 1) % n;
  return handed;
}

size_t FanoutMeters::Drain(hal::PacketSampleSink& /*unused*/, size_t budget) {
  uint64_t junk = 0;
  (void)!read(efd_, &junk, sizeof(junk));
  const size_t handed = DrainRecords(budget);
  // The loop drains once per wake-up: with the budget spent more may wait (and a worker may be
  // waiting for room), so wake the loop again.
  if (handed == budget) Wake(efd_);
  return handed;
}

void FanoutMeters::Command(Op op, MonoTime now) {
  if (!started_ || stopped_) return;
  if (op == Op::kStop) stopped_ = true;
  std::vector<uint64_t> want(workers_.size());
  for (size_t i = 0; i < workers_.size(); ++i) {
    Worker& w = *workers_[i];
    w.op = op;
    w.cmd_now = now;
    want[i] = w.cmd_seq.load(std::memory_order_relaxed) + 1;
    w.cmd_seq.store(want[i], std::memory_order_release);
    Wake(w.cmd_fd);
  }
  // Drain while waiting: a worker flushing a large partition waits on its ring for us.
  unsigned spins = 0;
  for (size_t i = 0; i < workers_.size();) {
    if (workers_[i]->done_seq.load(std::memory_order_acquire) >= want[i]) {
      ++i;
      continue;
    }
    if (DrainRecords(4096) == 0) hal::base::SpinWait(&spins);
  }
  while (DrainRecords(SIZE_MAX) > 0) {
  }
}

void FanoutMeters::Flush(MonoTime now, bool stop) { Command(stop ? Op::kStop : Op::kFlush, now); }

void FanoutMeters::SetTimeouts(const flow::FlowCacheOptions& options) {
  cmd_timeouts_ = options;
  Command(Op::kTimeouts, clock_->Now());
}

Status FanoutMeters::Replace(MonoTime now, const flow::FlowMeterOptions& options) {
  Status st = CheckSize(options.cache.capacity);
  if (!st.ok()) return st;
  const std::vector<uint32_t> sizes = flow::PartitionSizes(options.cache.capacity, workers());
  for (size_t i = 0; i < workers_.size(); ++i) {
    workers_[i]->replace = options;
    workers_[i]->replace.cache.capacity = sizes[i];
  }
  Command(Op::kReplace, now);
  return Status::Ok();
}

flow::FlowMeterStats FanoutMeters::meter_stats() const {
  flow::FlowMeterStats s;
  for (const auto& w : workers_) {
    if (w->part) flow::AddMeterStats(s, w->part->stats().meter);
  }
  return s;
}

uint64_t FanoutMeters::capacity() const {
  uint64_t c = 0;
  for (const auto& w : workers_) {
    if (w->part) c += w->part->stats().capacity;
  }
  return c;
}

size_t FanoutMeters::memory_bytes() const {
  size_t m = 0;
  for (const auto& w : workers_) {
    if (w->part) m += w->part->stats().memory_bytes;
  }
  return m;
}

std::string FanoutMeters::Describe() const {
  std::string s = std::to_string(workers()) + " partitions of ";
  for (size_t i = 0; i < workers_.size(); ++i) {
    if (i > 0) s += " + ";
    s += std::to_string(workers_[i]->part ? workers_[i]->part->stats().capacity : 0);
  }
  return s + " = " + std::to_string(capacity()) + " flows";
}

FanoutWorkerCounters FanoutMeters::worker(size_t i) const {
  const Worker& w = *workers_[i];
  FanoutWorkerCounters c;
  c.kernel_packets = w.kernel_packets.load(std::memory_order_relaxed);
  c.kernel_drops = w.kernel_drops.load(std::memory_order_relaxed);
  c.bad_frames = w.bad_frames.load(std::memory_order_relaxed);
  if (w.part) c.partition = w.part->stats();
  return c;
}

hal::PacketSourceStats FanoutMeters::stats() const {
  hal::PacketSourceStats s;
  for (size_t i = 0; i < workers_.size(); ++i) {
    const FanoutWorkerCounters c = worker(i);
    s.samples += c.partition.meter.packets;
    s.source_drops += c.kernel_drops;
    s.parse_errors += c.bad_frames;
  }
  return s;
}

}  // namespace xflowd::agent::run
