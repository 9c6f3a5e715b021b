#include "agent/daemon/flow_pipeline.h"

#include "hal/base/spin_wait.h"

namespace xflowd::agent::daemon {

// The reader thread's sink: keys each sample into the block being filled.
class FlowPipeline::Keyer final : public hal::PacketSampleSink {
 public:
  explicit Keyer(FlowPipeline& p) : p_(p) { Acquire(); }

  void OnSample(const hal::PacketSample& s) override {
    Block& b = *block_;
    const int64_t t = s.timestamp.ns();
    if (b.samples == 0) b.first_ns = t;
    if (b.samples == 0 || t > b.latest_ns) b.latest_ns = t;
    ++b.samples;
    if (!flow::KeyPacket(s, p_.key_options_, &b.packets[b.count], &p_.reader_stats_.meter)) {
      if (b.samples >= 4 * kBlockPackets) Publish();  // a long run of non-IP: keep time moving
      return;
    }
    b.rates[b.count] = s.sampling_rate == 0 ? 1 : s.sampling_rate;
    if (++b.count == kBlockPackets) Publish();
  }

  // Hands the block over (if it covers any sample) and takes the next free one.
  void Publish() {
    if (block_->samples == 0) return;
    p_.reader_stats_.samples += block_->samples;
    const uint64_t n = p_.produced_.load(std::memory_order_relaxed) + 1;
    p_.samples_published_.store(p_.reader_stats_.samples, std::memory_order_relaxed);
    p_.produced_.store(n, std::memory_order_release);
    Acquire();
  }

 private:
  void Acquire() {
    const uint64_t n = p_.produced_.load(std::memory_order_relaxed);
    unsigned spins = 0;
    while (n - p_.consumed_.load(std::memory_order_acquire) >= kBlocks) {
      if (p_.stop_.load(std::memory_order_relaxed)) break;
      hal::base::SpinWait(&spins);
    }
    block_ = &p_.ring_[n % kBlocks];
    block_->count = 0;
    block_->samples = 0;
  }

  FlowPipeline& p_;
  Block* block_ = nullptr;
};

FlowPipeline::FlowPipeline(const flow::FlowKeyOptions& key_options)
    : key_options_(key_options), ring_(kBlocks) {}

FlowPipeline::~FlowPipeline() = default;

void FlowPipeline::ReaderLoop(hal::PacketSource& source, const std::function<bool()>& source_done) {
  Keyer keyer(*this);
  while (!stop_.load(std::memory_order_relaxed) && !source_done()) source.Drain(keyer, 4096);
  keyer.Publish();
  reader_done_.store(true, std::memory_order_release);
}

void FlowPipeline::Run(hal::PacketSource& source, const std::function<bool()>& source_done,
                       const std::function<void(const Block&)>& consume,
                       const std::function<void()>& between) {
  std::thread reader([&] { ReaderLoop(source, source_done); });
  uint64_t next = consumed_.load(std::memory_order_relaxed);
  unsigned spins = 0;
  for (;;) {
    if (next < produced_.load(std::memory_order_acquire)) {
      consume(ring_[next % kBlocks]);
      consumed_.store(++next, std::memory_order_release);
      spins = 0;
      if ((next & 15) == 0) between();
      continue;
    }
    if (reader_done_.load(std::memory_order_acquire)) {
      if (next == produced_.load(std::memory_order_acquire)) break;
      continue;
    }
    between();
    hal::base::SpinWait(&spins);
  }
  reader.join();
}

}  // namespace xflowd::agent::daemon
