// FlowMeter: the glue between packet samples and the flow cache. Parses each sample's header
// (Ethernet), builds its flow key and counts it into a FlowCache by its IP bytes; finished
// flows go to the FlowRecordSink given at construction, stamped with their sampling rate.
//
// Flow time is the samples' timestamp (monotonic ms live, packet time from a capture); Tick
// and Flush take the same clock. Unix time in records = flow time + set_unix_offset_ms().
//
// Data plane: OnSample never allocates, throws or locks; bad input is counted (see
// FlowMeterStats) and dropped. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

#include "agent/flow/flow_cache.h"
#include "agent/flow/flow_key.h"
#include "exporter/netflow/flow_record.h"
#include "hal/base/time.h"
#include "hal/packet_sample.h"

namespace xflowd::agent::flow {

struct FlowMeterOptions {
  FlowCacheOptions cache;  // cache.extended_key is set from `key` (MACs or MPLS on)
  FlowKeyOptions key;
  // Packets parsed into keys and handed to the cache together (FlowCache::AddBatch, which
  // prefetches their slots: about 3x faster on a cache larger than the CPU's). 1 = each
  // packet at once. Batched packets keep their own times, so records are the same; they only
  // reach the sink at the next full batch, FlushPending(), Tick() or Flush().
  uint32_t batch = 1;
};

// Counters for docs/metrics.md. Each sample lands in exactly one of metered, not_ip,
// truncated, bad_length or ipv6_zero_length.
struct FlowMeterStats {
  uint64_t packets = 0;  // samples handed to OnSample
  uint64_t metered = 0;  // samples counted into a flow
  // No IP header: not IPv4/IPv6 (ARP, LLDP...), an MPLS payload that is not IP, an IP
  // version nibble that contradicts the ethertype, or more VLAN tags / MPLS labels than the
  // parser reads.
  uint64_t not_ip = 0;
  // The sampled header ends inside the L2 header or the IP header (including IPv6 extension
  // headers), so there is no complete key.
  uint64_t truncated = 0;
  // IP lengths that cannot be true: IPv4 header length < 20 or above the total length, IPv4
  // total length 0, or an IP length larger than the frame can hold
  // (frame_length - stripped - L2 header). Counting them would inflate byte counts.
  uint64_t bad_length = 0;
  // IPv6 payload length 0 with a payload (jumbogram or a segmentation-offload super-packet):
  // the real length is unknown.
  uint64_t ipv6_zero_length = 0;
  // Metered samples that were IP fragments (first or later). Later fragments have no ports
  // and count in a flow of their own, keyed with ports 0.
  uint64_t fragments = 0;
  uint64_t flows_created = 0;  // flows started, including new records after a timeout split
  uint64_t active_flows = 0;   // flows in the cache now (gauge)
  uint64_t bytes = 0;          // IP bytes of metered samples (unscaled)
  // Records exported, by IPFIX flowEndReason value (index 0 unused): 1 idle timeout,
  // 2 active timeout, 3 end of flow (TCP FIN/RST), 4 forced end (flush), 5 lack of resources.
  uint64_t records_by_reason[6] = {};
  // Flows ended early because the cache was full (== records_by_reason[5]).
  uint64_t evictions = 0;
  // Samples from an input ifindex beyond the first 4096 seen: their records carry the rate of
  // the latest sample, which is wrong if that port samples at another rate.
  uint64_t rate_table_full = 0;
};

// Adds every counter of `b` to `a` (active_flows too: the gauges of partitions or of
// successive meters add up).
void AddMeterStats(FlowMeterStats& a, const FlowMeterStats& b);

// The parsing half of FlowMeter::OnSample, for a reader thread ahead of the cache: parses
// `s`, counts it in `stats` (packets and exactly one of metered, not_ip, truncated,
// bad_length, ipv6_zero_length; fragments) and, when it is metered, fills `fp` and returns
// true. Data plane: no allocation.
bool KeyPacket(const hal::PacketSample& s, const FlowKeyOptions& options, FlowPacket* fp,
               FlowMeterStats* stats);

class FlowMeter : public hal::PacketSampleSink {
 public:
  // `sink` must outlive the meter. Allocates the whole cache (see FlowCache::memory_bytes).
  FlowMeter(const FlowMeterOptions& options, exporter::netflow::FlowRecordSink& sink);

  void OnSample(const hal::PacketSample& sample) override;
  // Packets keyed by KeyPacket elsewhere (they are counted in that caller's stats, not
  // here), with the sampling rate of each: into the cache in order, after any batched ones.
  void AddKeyed(const FlowPacket* packets, const uint32_t* rates, size_t count);
  // Counts the batched packets into the cache now (after a source's burst).
  void FlushPending();
  // Ends the flows whose timeouts passed (call on the 1 Hz tick).
  void Tick(hal::base::MonoTime flow_now);
  // Ends every flow (shutdown, end of a capture file).
  void Flush(hal::base::MonoTime flow_now);
  void set_unix_offset_ms(int64_t offset_ms) { cache_.set_unix_offset_ms(offset_ms); }
  // Control plane (reload): FlowCache::SetTimeouts, after the batched packets are counted
  // (they arrived under the old timeouts).
  void SetTimeouts(const FlowCacheOptions& options) {
    FlushPending();
    cache_.SetTimeouts(options);
  }

  // The cache's counters leave out packets still waiting in a batch.
  FlowMeterStats stats() const;
  const FlowCache& cache() const { return cache_; }

 private:
  // Stamps each record with the sampling rate last seen on its input ifindex, then forwards.
  class RateStamper : public exporter::netflow::FlowRecordSink {
   public:
    RateStamper(FlowMeter& meter, exporter::netflow::FlowRecordSink& next)
        : meter_(meter), next_(next) {}
    void OnFlow(const exporter::netflow::FlowRecord& record) override;

   private:
    FlowMeter& meter_;
    exporter::netflow::FlowRecordSink& next_;
  };
  struct RateSlot {
    uint32_t ifindex = 0;
    uint32_t rate = 0;  // 0 = empty slot
  };
  // Rate by input ifindex: open addressing with linear probing, exact for up to
  // kMaxRateIfindexes distinct ifindexes (the simulator's largest switch has 4096 ports).
  // Beyond that a new ifindex is not stored (rate_table_full) and its records get the rate
  // of the latest sample.
  static constexpr uint32_t kRateSlots = 8192;  // 2^13: FirstRateSlot() takes 13 bits
  static constexpr uint32_t kMaxRateIfindexes = kRateSlots / 2;

  void SetRate(uint32_t input_ifindex, uint32_t rate);
  uint32_t RateOf(uint32_t input_ifindex) const;

  static constexpr uint32_t kMaxBatch = 64;
  const FlowKeyOptions key_options_;
  const uint32_t batch_;
  FlowPacket pending_[kMaxBatch];
  uint32_t pending_count_ = 0;
  FlowCache cache_;
  RateStamper stamper_;
  RateSlot rates_[kRateSlots];
  uint32_t rate_ifindexes_ = 0;
  uint32_t last_rate_ = 1;
  FlowMeterStats stats_;  // the meter's own counters; the cache's are merged in stats()
};

}  // namespace xflowd::agent::flow
