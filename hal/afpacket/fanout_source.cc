#include "hal/afpacket/fanout_source.h"

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace xflowd::hal::afpacket {

struct FanoutSource::Worker {
  std::unique_ptr<AfPacketSource> socket;
  std::vector<Block> ring = std::vector<Block>(kBlocks);
  std::atomic<uint64_t> produced{0};  // blocks published (worker writes)
  std::atomic<uint64_t> consumed{0};  // blocks released (loop writes)
  size_t pos = 0;                     // loop thread: next slot of the block being drained
  // Written by the worker, read by anyone.
  std::atomic<uint64_t> packets{0};
  std::atomic<uint64_t> kernel_packets{0};
  std::atomic<uint64_t> kernel_drops{0};
  std::atomic<uint64_t> bad_frames{0};
  std::thread thread;
};

namespace {

// Nothing to do: yield a few times, then nap, so a waiting side costs nothing on a busy host.
void Pause(unsigned* spins) {
  if (++*spins < 64) {
    sched_yield();
    return;
  }
  const timespec t{0, 20 * 1000};
  nanosleep(&t, nullptr);
}

}  // namespace

// The worker's sink: copies each sample into the block being filled.
class FanoutSource::Copier final : public PacketSampleSink {
 public:
  Copier(FanoutSource& s, Worker& w, uint32_t snaplen) : s_(s), w_(w), snaplen_(snaplen) {
    Acquire();
  }

  void OnSample(const PacketSample& smp) override {
    Slot& slot = block_->slots[block_->count];
    slot.meta = smp;
    slot.meta.header = base::ByteView();
    slot.len = static_cast<uint32_t>(std::min<size_t>(smp.header.size(), snaplen_));
    std::memcpy(slot.bytes, smp.header.data(), slot.len);
    if (++block_->count == kBlockPackets) Publish();
  }

  void Publish() {
    if (block_->count == 0) return;
    w_.packets.store(w_.packets.load(std::memory_order_relaxed) + block_->count,
                     std::memory_order_relaxed);
    w_.produced.store(w_.produced.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    const uint64_t one = 1;
    (void)!write(s_.efd_, &one, sizeof(one));
    Acquire();
  }

 private:
  // Waits for a free block: while the loop is behind, the kernel ring fills and drops (counted).
  void Acquire() {
    const uint64_t n = w_.produced.load(std::memory_order_relaxed);
    unsigned spins = 0;
    while (n - w_.consumed.load(std::memory_order_acquire) >= kBlocks) {
      if (s_.stop_.load(std::memory_order_relaxed)) break;
      Pause(&spins);
    }
    block_ = &w_.ring[n % kBlocks];
    block_->count = 0;
  }

  FanoutSource& s_;
  Worker& w_;
  const uint32_t snaplen_;
  Block* block_ = nullptr;
};

base::Result<std::unique_ptr<FanoutSource>> FanoutSource::Create(const FanoutOptions& options,
                                                                 const base::Clock& clock) {
  if (options.workers == 0 || options.workers > 64) {
    return base::InvalidArgumentError("fanout: workers must be 1..64, not " +
                                      std::to_string(options.workers));
  }
  std::unique_ptr<FanoutSource> s(new FanoutSource());
  s->group_ =
      options.group != 0 ? options.group : static_cast<uint16_t>((getpid() & 0x7fff) | 0x8000);
  s->efd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (s->efd_ < 0) return base::ErrnoError("fanout: eventfd", errno);
  const uint32_t snap = std::min<uint32_t>(options.snaplen, kMaxCopy);
  for (uint32_t i = 0; i < options.workers; ++i) {
    AfPacketOptions ao;
    ao.ifname = options.ifname;
    ao.snaplen = snap;
    ao.block_size = options.block_size;
    ao.block_count = options.block_count;
    ao.block_timeout_ms = 10;
    ao.fanout_group = s->group_;
    ao.filter = options.filter;
    auto sock = AfPacketSource::Create(ao, clock);
    if (!sock.ok()) {
      return base::Status(sock.status().code(), "worker " + std::to_string(i) + " of " +
                                                    std::to_string(options.workers) + ": " +
                                                    sock.status().message());
    }
    auto w = std::make_unique<Worker>();
    w->socket = std::move(sock.value());
    s->ifindex_ = w->socket->ifindex();
    s->workers_.push_back(std::move(w));
  }
  // Only now: a failure above leaves no thread behind.
  for (auto& w : s->workers_) {
    Worker* wp = w.get();
    FanoutSource* sp = s.get();
    w->thread = std::thread([sp, wp] { sp->WorkerLoop(*wp); });
  }
  return s;
}

FanoutSource::~FanoutSource() {
  stop_.store(true, std::memory_order_relaxed);
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
  if (efd_ >= 0) close(efd_);
}

void FanoutSource::WorkerLoop(Worker& w) {
  // Signals are the loop thread's (signalfd): a worker must never take one.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  Copier copier(*this, w, static_cast<uint32_t>(kMaxCopy));
  pollfd p{w.socket->fd(), POLLIN, 0};
  while (!stop_.load(std::memory_order_relaxed)) {
    const size_t n = w.socket->Drain(copier, 4096);
    // Drain read PACKET_STATISTICS (this thread is its only reader): publish the totals.
    const AfPacketStats& st = w.socket->afpacket_stats();
    w.kernel_packets.store(st.kernel_packets, std::memory_order_relaxed);
    w.kernel_drops.store(st.kernel_drops, std::memory_order_relaxed);
    w.bad_frames.store(st.bad_frames, std::memory_order_relaxed);
    if (n == 4096) continue;
    copier.Publish();  // a partly filled block goes now: the ring is empty for the moment
    (void)poll(&p, 1, 50);
  }
  copier.Publish();
}

size_t FanoutSource::Drain(PacketSampleSink& sink, size_t budget) {
  uint64_t junk = 0;
  (void)!read(efd_, &junk, sizeof(junk));
  size_t handed = 0;
  const size_t n = workers_.size();
  for (size_t k = 0; k < n && handed < budget; ++k) {
    Worker& w = *workers_[(next_worker_ + k) % n];
    uint64_t c = w.consumed.load(std::memory_order_relaxed);
    while (handed < budget && c < w.produced.load(std::memory_order_acquire)) {
      const Block& b = w.ring[c % kBlocks];
      while (w.pos < b.count && handed < budget) {
        const Slot& slot = b.slots[w.pos++];
        PacketSample smp = slot.meta;
        smp.header = base::ByteView(slot.bytes, slot.len);
        sink.OnSample(smp);
        ++handed;
      }
      if (w.pos < b.count) break;
      w.pos = 0;
      w.consumed.store(++c, std::memory_order_release);
    }
  }
  next_worker_ = (next_worker_ + 1) % n;
  // The loop drains once per wake-up: with the budget spent, more may wait, and a worker whose
  // ring is full publishes nothing until it is drained, so wake the loop again ourselves.
  if (handed == budget) {
    const uint64_t one = 1;
    (void)!write(efd_, &one, sizeof(one));
  }
  return handed;
}

FanoutWorkerStats FanoutSource::worker_stats(size_t i) const {
  const Worker& w = *workers_[i];
  FanoutWorkerStats s;
  s.packets = w.packets.load(std::memory_order_relaxed);
  s.kernel_packets = w.kernel_packets.load(std::memory_order_relaxed);
  s.kernel_drops = w.kernel_drops.load(std::memory_order_relaxed);
  s.bad_frames = w.bad_frames.load(std::memory_order_relaxed);
  return s;
}

FanoutWorkerStats FanoutSource::total() const {
  FanoutWorkerStats t;
  for (size_t i = 0; i < workers_.size(); ++i) {
    const FanoutWorkerStats s = worker_stats(i);
    t.packets += s.packets;
    t.kernel_packets += s.kernel_packets;
    t.kernel_drops += s.kernel_drops;
    t.bad_frames += s.bad_frames;
  }
  return t;
}

PacketSourceStats FanoutSource::stats() const {
  const FanoutWorkerStats t = total();
  PacketSourceStats s;
  s.samples = t.packets;
  s.source_drops = t.kernel_drops;
  s.parse_errors = t.bad_frames;
  return s;
}

}  // namespace xflowd::hal::afpacket
