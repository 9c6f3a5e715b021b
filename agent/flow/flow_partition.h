// One partition of a flow cache split over worker threads (the live probe's fanout workers,
// docs/decisions.md D58), and the bounded ring that carries its finished flows to the one
// exporter view on the loop thread.
//
// PartitionSizes splits `flow.cache-size` so the parts add up exactly. A FlowPartition is a
// FlowMeter of its part's size whose records go into a FlowRecordRing; it is driven by one
// thread (the worker) and read by another only through the ring and stats(). The ring is
// single-producer single-consumer: blocks of records, two atomic counters, no lock and no
// allocation per record. A full ring does not lose a record: the writer calls the `wait`
// callback (a worker naps; a test drains the ring) until a block is free, and counts each wait
// (ring_waits), so back-pressure shows in the stats and, as the worker reads its kernel ring no
// more while it waits, as kernel drops. Only a `wait` that gives up (the process is ending
// without its final flush) drops the record, counted in ring_lost.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "agent/flow/flow_meter.h"
#include "exporter/netflow/flow_record.h"
#include "hal/base/time.h"

namespace xflowd::agent::flow {

// `total` flows over `parts` partitions: total / parts each, the remainder one each to the
// first partitions. Sums to `total`. parts 0: empty.
std::vector<uint32_t> PartitionSizes(uint32_t total, uint32_t parts);

class FlowRecordRing {
 public:
  static constexpr size_t kBlockRecords = 128;

  // `blocks` >= 2 blocks of kBlockRecords records, allocated here.
  explicit FlowRecordRing(size_t blocks);
  FlowRecordRing(const FlowRecordRing&) = delete;
  FlowRecordRing& operator=(const FlowRecordRing&) = delete;

  // Producer. Copies `r` into the block being filled; false when that block is full and no
  // other is free (nothing copied: call again after the consumer drained). A full block is
  // published at once.
  bool Push(const exporter::netflow::FlowRecord& r);
  // Producer: publishes a partly filled block (after a burst, before going idle). True if a
  // block was published.
  bool Publish();
  // Consumer: hands up to `budget` published records to `sink`, in order. Returns how many.
  size_t Drain(exporter::netflow::FlowRecordSink& sink, size_t budget);
  // Consumer: true when no published record waits.
  bool empty() const;
  size_t capacity_records() const { return blocks_.size() * kBlockRecords; }

 private:
  struct Block {
    size_t count = 0;
    exporter::netflow::FlowRecord records[kBlockRecords];
  };
  bool AcquireFree();

  std::vector<Block> blocks_;
  std::atomic<uint64_t> produced_{0};  // blocks published (producer writes)
  std::atomic<uint64_t> consumed_{0};  // blocks released (consumer writes)
  Block* filling_ = nullptr;           // producer: null until a free block is taken
  size_t pos_ = 0;                     // consumer: next record of the oldest published block
};

// The counters of one partition, as the loop thread reads them.
struct FlowPartitionStats {
  FlowMeterStats meter;       // including the meters a Replace ended
  uint32_t capacity = 0;      // flows of the current cache
  uint64_t memory_bytes = 0;  // of the current cache (FlowCache::memory_bytes)
  uint64_t records = 0;       // records into the ring (all reasons)
  uint64_t ring_waits = 0;    // times the ring was full and the worker waited for the loop
  uint64_t ring_lost = 0;     // records dropped because `wait` gave up (abnormal exit only)
};

class FlowPartition {
 public:
  // Called when the ring is full, until it has room: true = try again, false = give up on
  // this record (counted in ring_lost). Must not call back into the partition.
  using Wait = std::function<bool()>;

  // Allocates the meter (options.cache.capacity flows) and the ring. `wait` must outlive it.
  FlowPartition(const FlowMeterOptions& options, int64_t unix_offset_ms, size_t ring_blocks,
                Wait wait);
  FlowPartition(const FlowPartition&) = delete;
  FlowPartition& operator=(const FlowPartition&) = delete;

  // Worker thread. Packets go to meter().OnSample; then these.
  FlowMeter& meter() { return *meter_; }
  // The batched packets into the cache, the finished records and the stats published.
  void Publish();
  // Ends the flows whose timeouts passed, then Publish.
  void Tick(hal::base::MonoTime now);
  // Ends every flow (forced end unless timed out), then Publish.
  void Flush(hal::base::MonoTime now);
  void SetTimeouts(const FlowCacheOptions& options);
  // Ends every flow, then meters on with a new cache of options.cache.capacity flows (reload
  // of the cache size or key fields). Allocates: control plane only.
  void Replace(hal::base::MonoTime now, const FlowMeterOptions& options);

  // Worker thread: records written so far (to tell whether to wake the loop).
  uint64_t records_written() const { return records_; }

  // Loop thread.
  FlowRecordRing& ring() { return ring_; }
  // What the worker last published (each counter exact as of that Publish).
  FlowPartitionStats stats() const;

 private:
  class Writer final : public exporter::netflow::FlowRecordSink {
   public:
    explicit Writer(FlowPartition& p) : p_(p) {}
    void OnFlow(const exporter::netflow::FlowRecord& r) override;

   private:
    FlowPartition& p_;
  };
  static constexpr size_t kMirrorWords = sizeof(FlowMeterStats) / sizeof(uint64_t);

  const int64_t unix_offset_ms_;
  FlowRecordRing ring_;
  Wait wait_;
  Writer writer_{*this};
  std::unique_ptr<FlowMeter> meter_;
  FlowMeterStats earlier_;   // worker: meters Replace ended
  uint64_t records_ = 0;     // worker
  uint64_t ring_waits_ = 0;  // worker
  uint64_t ring_lost_ = 0;   // worker
  // Published copies for the loop thread: each word atomic (a reader may see one Publish's
  // packets with the previous one's records; each counter is exact).
  std::atomic<uint64_t> mirror_[kMirrorWords] = {};
  std::atomic<uint32_t> capacity_{0};
  std::atomic<uint64_t> memory_{0};
  std::atomic<uint64_t> records_pub_{0};
  std::atomic<uint64_t> waits_pub_{0};
  std::atomic<uint64_t> lost_pub_{0};
};

}  // namespace xflowd::agent::flow
