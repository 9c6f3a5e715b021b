// FanoutSource: the live probe on several cores. N worker threads, each with its own AF_PACKET
// TPACKET_V3 ring (AfPacketSource) in one PACKET_FANOUT_HASH group, so the kernel hands all the
// packets of a flow to one worker. A worker walks its ring and copies each packet's metadata
// and leading bytes into blocks of a bounded single-producer single-consumer ring of its own;
// the daemon's loop thread drains those rings (Drain) into the one flow cache and exporter
// view, so sequence numbers and templates per collector are those of one thread
// (docs/decisions.md D53). No lock: two atomic counters per worker ring, an eventfd written
// once per published block wakes the loop. A worker whose ring to the loop is full stops
// reading its kernel ring, so overload shows as kernel drops (PACKET_STATISTICS, read by the
// worker that owns the socket, summed here), never as a silent loss.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "hal/afpacket/afpacket_source.h"
#include "hal/base/clock.h"
#include "hal/base/status.h"
#include "hal/packet_source.h"

namespace xflowd::hal::afpacket {

struct FanoutOptions {
  std::string ifname;
  uint32_t workers = 2;            // sockets and threads, 1..64
  uint32_t snaplen = 256;          // bytes kept per packet (capped at kMaxCopy)
  uint16_t group = 0;              // PACKET_FANOUT group id; 0 = from the process id
  uint32_t block_size = 1u << 20;  // kernel ring per worker: block_count x block_size
  uint32_t block_count = 16;
  std::vector<sock_filter> filter;  // on every socket (AfPacketOptions::filter); empty: all
};

struct FanoutWorkerStats {
  uint64_t packets = 0;         // handed to the loop thread
  uint64_t kernel_packets = 0;  // tp_packets, accumulated
  uint64_t kernel_drops = 0;    // tp_drops, accumulated
  uint64_t bad_frames = 0;
};

class FanoutSource final : public PacketSource {
 public:
  static constexpr size_t kMaxCopy = 256;
  static constexpr size_t kBlockPackets = 256;
  static constexpr size_t kBlocks = 32;  // per worker: kBlocks x kBlockPackets x ~330 B

  // Opens every socket (needs CAP_NET_RAW) and starts the workers. `clock` must outlive it.
  static base::Result<std::unique_ptr<FanoutSource>> Create(const FanoutOptions& options,
                                                            const base::Clock& clock);
  ~FanoutSource() override;  // stops and joins the workers
  FanoutSource(const FanoutSource&) = delete;
  FanoutSource& operator=(const FanoutSource&) = delete;

  int fd() const override { return efd_; }
  // Loop thread: hands up to `budget` packets the workers published, worker by worker.
  size_t Drain(PacketSampleSink& sink, size_t budget) override;
  // Sums over the workers (samples handed over, kernel drops, bad frames).
  PacketSourceStats stats() const override;

  uint32_t workers() const { return static_cast<uint32_t>(workers_.size()); }
  uint32_t ifindex() const { return ifindex_; }
  uint16_t group() const { return group_; }
  FanoutWorkerStats worker_stats(size_t i) const;
  FanoutWorkerStats total() const;

 private:
  struct Slot {
    PacketSample meta;  // header unset: it is `bytes`
    uint32_t len = 0;
    uint8_t bytes[kMaxCopy];
  };
  struct Block {
    size_t count = 0;
    Slot slots[kBlockPackets];
  };
  struct Worker;
  class Copier;

  FanoutSource() = default;
  void WorkerLoop(Worker& w);

  std::vector<std::unique_ptr<Worker>> workers_;
  int efd_ = -1;
  uint32_t ifindex_ = 0;
  uint16_t group_ = 0;
  size_t next_worker_ = 0;  // loop thread: where the next Drain starts
  std::atomic<bool> stop_{false};
};

}  // namespace xflowd::hal::afpacket
