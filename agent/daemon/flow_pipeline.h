// FlowPipeline: `xflowd -r` on two cores. A reader thread reads the capture and parses each
// packet to its flow key (hal source + flow::KeyPacket); the caller's thread counts the keys
// into the one flow cache and exports (FlowProbe). Between them a bounded single-producer
// single-consumer ring of blocks of keyed packets, in file order, so the cache sees exactly
// the packets, times and order of the one-thread run and the records are the same
// (docs/decisions.md D51; tests/agent/daemon/flow_pipeline_test.cc proves it on counts by
// flow). No lock: two atomic counters, a block handed over at a time; a side with nothing to
// do yields, then naps 20 us.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "agent/flow/flow_meter.h"
#include "hal/packet_sample.h"
#include "hal/packet_source.h"

namespace xflowd::agent::daemon {

class FlowProbe;

class FlowPipeline {
 public:
  static constexpr size_t kBlockPackets = 256;
  static constexpr size_t kBlocks = 64;  // ring memory: kBlocks x ~30 KiB

  // What the reader thread adds to the probe's counters (unmetered packets included).
  struct ReaderStats {
    flow::FlowMeterStats meter;
    uint64_t samples = 0;  // samples the source handed over
  };

  explicit FlowPipeline(const flow::FlowKeyOptions& key_options);
  ~FlowPipeline();
  FlowPipeline(const FlowPipeline&) = delete;
  FlowPipeline& operator=(const FlowPipeline&) = delete;

  // Runs `source` on the reader thread until `source_done()` (called on that thread), and
  // hands each block to `consume` on the calling thread, in order; `between()` is called on
  // the calling thread between blocks and while waiting (signals, progress). Returns when
  // the source is done and every block was consumed. `first_ns`/`latest_ns` of a block: the
  // first and the newest sample time in it (all samples, metered or not).
  struct Block {
    flow::FlowPacket packets[kBlockPackets];
    uint32_t rates[kBlockPackets];
    size_t count = 0;
    uint64_t samples = 0;  // samples the block covers (metered or not)
    int64_t first_ns = 0;
    int64_t latest_ns = 0;
  };
  void Run(hal::PacketSource& source, const std::function<bool()>& source_done,
           const std::function<void(const Block&)>& consume, const std::function<void()>& between);

  // Bytes the ring holds (allocated once, in the constructor).
  static constexpr size_t RingBytes() { return kBlocks * sizeof(Block); }

  // Valid after Run returned.
  const ReaderStats& reader_stats() const { return reader_stats_; }
  // Samples read so far (any thread).
  uint64_t samples_so_far() const { return samples_published_.load(std::memory_order_relaxed); }

 private:
  class Keyer;
  void ReaderLoop(hal::PacketSource& source, const std::function<bool()>& source_done);

  const flow::FlowKeyOptions key_options_;
  std::vector<Block> ring_;
  std::atomic<uint64_t> produced_{0};  // blocks published
  std::atomic<uint64_t> consumed_{0};  // blocks released
  std::atomic<bool> reader_done_{false};
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> samples_published_{0};
  ReaderStats reader_stats_;
};

}  // namespace xflowd::agent::daemon
