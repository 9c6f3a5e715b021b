// FanoutMeters: the live probe on several cores with a flow-cache partition per worker
// (docs/decisions.md D58). N AF_PACKET TPACKET_V3 sockets in one PACKET_FANOUT_HASH group (the
// kernel gives all the packets of a flow to one socket), each read by its own worker thread
// that parses and meters its packets into its own FlowPartition (flow.cache-size / N flows, the
// remainder to the first workers) and runs the flow timers on the clock. Finished records go
// to the loop thread through each worker's bounded FlowRecordRing; the loop exports them
// through the one exporter per collector (FlowProbe), so templates and sequence numbers are
// those of one exporter.
//
// As a PacketSource its fd is an eventfd the workers write when they publish records, and
// Drain hands records (not samples) to the probe's sink given at Start: the sink argument is
// not used. Commands from the loop (flush, new timeouts, a new cache) go to every worker by a
// sequence number and an eventfd; the loop drains the rings while it waits for them, so a
// worker waiting on a full ring always gets room.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "agent/daemon/external_meters.h"
#include "agent/flow/flow_partition.h"
#include "hal/afpacket/afpacket_source.h"
#include "hal/base/clock.h"
#include "hal/base/status.h"
#include "hal/packet_source.h"

namespace xflowd::agent::run {

struct FanoutMetersOptions {
  std::string ifname;
  uint32_t workers = 2;            // sockets and threads, 1..64
  uint32_t snaplen = 256;          // header bytes per packet
  uint16_t group = 0;              // PACKET_FANOUT group id; 0 = from the process id
  uint32_t block_size = 1u << 20;  // kernel ring per worker: block_count x block_size
  uint32_t block_count = 16;
  size_t ring_blocks = 64;          // records to the loop: ring_blocks x 128 per worker
  std::vector<sock_filter> filter;  // on every socket; empty: every packet
};

struct FanoutWorkerCounters {
  uint64_t kernel_packets = 0;  // tp_packets, accumulated
  uint64_t kernel_drops = 0;    // tp_drops, accumulated
  uint64_t bad_frames = 0;
  flow::FlowPartitionStats partition;  // packets = partition.meter.packets
};

class FanoutMeters final : public hal::PacketSource, public daemon::ExternalMeters {
 public:
  // Opens every socket (needs CAP_NET_RAW). Workers start with Start. `clock` must outlive it.
  static hal::base::Result<std::unique_ptr<FanoutMeters>> Create(const FanoutMetersOptions& options,
                                                                 const hal::base::Clock& clock);
  ~FanoutMeters() override;  // stops and joins the workers
  FanoutMeters(const FanoutMeters&) = delete;
  FanoutMeters& operator=(const FanoutMeters&) = delete;

  // PacketSource (loop thread).
  int fd() const override { return efd_; }
  size_t Drain(hal::PacketSampleSink& unused, size_t budget) override;
  // samples = packets the workers metered or counted as not meterable; source_drops = kernel
  // drops; parse_errors = bad frames.
  hal::PacketSourceStats stats() const override;

  // ExternalMeters.
  hal::base::Status Start(const flow::FlowMeterOptions& options, int64_t unix_offset_ms,
                          exporter::netflow::FlowRecordSink& sink) override;
  size_t DrainRecords(size_t budget) override;
  void Flush(hal::base::MonoTime now, bool stop) override;
  void SetTimeouts(const flow::FlowCacheOptions& options) override;
  hal::base::Status Replace(hal::base::MonoTime now,
                            const flow::FlowMeterOptions& options) override;
  flow::FlowMeterStats meter_stats() const override;
  uint64_t capacity() const override;
  size_t memory_bytes() const override;
  std::string Describe() const override;

  uint32_t workers() const { return static_cast<uint32_t>(workers_.size()); }
  uint32_t ifindex() const { return ifindex_; }
  uint16_t group() const { return group_; }
  bool started() const { return started_; }
  FanoutWorkerCounters worker(size_t i) const;

 private:
  enum class Op : uint32_t { kFlush, kStop, kTimeouts, kReplace };
  struct Worker;
  FanoutMeters() = default;
  void WorkerLoop(Worker& w);
  // Loop thread: runs `op` on every worker and waits, draining the rings, until all did it.
  void Command(Op op, hal::base::MonoTime now);
  hal::base::Status CheckSize(uint32_t capacity) const;

  const hal::base::Clock* clock_ = nullptr;
  std::vector<std::unique_ptr<Worker>> workers_;
  int efd_ = -1;
  uint32_t ifindex_ = 0;
  uint16_t group_ = 0;
  size_t ring_blocks_ = 64;
  bool started_ = false;
  bool stopped_ = false;
  exporter::netflow::FlowRecordSink* sink_ = nullptr;
  size_t next_worker_ = 0;
  // The command's arguments: written by the loop before it bumps each worker's sequence.
  flow::FlowCacheOptions cmd_timeouts_;
  std::atomic<bool> stop_{false};
};

}  // namespace xflowd::agent::run
