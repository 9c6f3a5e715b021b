// FlowCache: the NetFlow/IPFIX flow table. Folds packets (already reduced to a FlowKey) into
// flows and hands finished flows to a FlowRecordSink, with the end reason of IPFIX IE 136.
//
// Time is "flow time" in ms, chosen by the owner: the monotonic clock for live input, packet
// time for a capture file (which may start near 1.7e12). It must not go backwards; a smaller
// now_ms than one seen before is taken as the latest one seen (slightly out-of-order capture
// timestamps). Records carry Unix ms = flow time + unix_offset_ms.
//
// Exactness: the decision to end a flow is taken on the packet itself, so records do not
// depend on how often Expire runs. Before a packet is counted into a flow, the flow is ended
// (and the packet starts a new one) when now - last >= the inactive timeout (kIdleTimeout)
// or now - first >= the active timeout (kActiveTimeout); when both hold, the one that came
// first in time. Expire only makes quiet flows leave on time.
//
// Memory: fixed, allocated in the constructor, nothing per packet.
//  - one 84-byte entry per flow: the packed key (52 bytes with the protocol, version and OR
//    of the TCP flags; VLAN IDs keep their 12 bits), 64-bit packet and byte counters,
//    first/last as uint32 ms offsets from a time base, and two uint32 wheel links;
//  - a power-of-two index of uint32 slots at load <= 0.5 (entry number + a hash tag, so a
//    probe rarely touches an entry whose key differs), linear probing, backward-shift delete;
//  - a timer wheel of 64 ms slots (uint32 list head and tail), sized to the longest timeout;
//  - with extended_key, 16 more bytes per flow for the MACs and the top MPLS entry.
// memory_bytes() reports the exact total: 92.65 bytes per flow at 1M flows (84 + 8.39 index
// + 0.26 wheel). Big arrays ask for transparent huge pages (see fixed_array.h).
//
// Expiry: each flow sits in the wheel slot of a deadline no later than its real one
// (min(last + inactive, first + active)). Packets do not move flows in the wheel; Expire
// walks only the slots whose time has come and either ends a flow or moves it to the slot of
// its real, later deadline. So Expire costs the flows that expire plus, at most once per
// inactive timeout, each flow that is still active: never a scan of the table.
//
// Cache full: a new flow takes the place of the flow whose deadline comes first (at 64 ms
// granularity; within a slot, the one linked first), which with one inactive timeout for all
// protocols is the least recently used flow. It leaves with kLackOfResources and counts as an
// eviction, unless its timeout had already passed (then it leaves with that reason, as Expire would
// have done).
//
// Long uptime: when flow time runs 2^31 ms past the time base, the cache first expires what
// is due, then moves the base forward and rewrites the offsets of the live flows (one walk of
// the live flows about every 12 days). Timeouts are capped at kMaxTimeoutMs.
//
// Data plane: Add, Expire and Flush never allocate, throw or lock. Not thread-safe. The sink
// is called synchronously and must not call back into the cache.
#pragma once

#include <cstddef>
#include <cstdint>

#include "agent/flow/fixed_array.h"
#include "exporter/netflow/flow_record.h"

namespace xflowd::agent::flow {

struct FlowCacheOptions {
  uint32_t capacity = 262144;  // flows; clamped to [1, FlowCache::kMaxCapacity]
  uint32_t inactive_timeout_ms = 15000;
  uint32_t active_timeout_ms = 1800000;
  // Per-protocol inactive timeouts; 0 = inactive_timeout_ms. icmp covers ICMP and ICMPv6.
  uint32_t tcp_inactive_timeout_ms = 0;
  uint32_t udp_inactive_timeout_ms = 0;
  uint32_t icmp_inactive_timeout_ms = 0;
  // A TCP packet with FIN or RST ends its flow (kEndOfFlow) after it is counted.
  bool tcp_end = true;
  // Keys include src_mac, dst_mac and mpls_top. Off: those FlowKey fields are ignored (zero in
  // records) and cost no memory.
  bool extended_key = false;
};

// One packet for FlowCache::AddBatch.
struct FlowPacket {
  exporter::netflow::FlowKey key;
  uint32_t ip_bytes = 0;
  uint16_t tcp_flags = 0;
  uint64_t now_ms = 0;
};

struct FlowCacheStats {
  uint64_t active_flows = 0;   // flows in the cache now (gauge)
  uint64_t created = 0;        // flows started, including restarts after a timeout split
  uint64_t packets = 0;        // packets counted into flows
  uint64_t bytes = 0;          // IP bytes counted into flows
  uint64_t evictions = 0;      // flows ended early because the cache was full
  uint64_t rebases = 0;        // time-base moves (about one per 12 days of flow time)
  uint64_t expire_visits = 0;  // flows Expire looked at (ended or moved to a later slot)
  // Records handed to the sink, by EndReason value (index 0 unused).
  uint64_t records[6] = {};

  uint64_t records_for(exporter::netflow::EndReason r) const {
    return records[static_cast<uint8_t>(r)];
  }
};

class FlowCache {
 public:
  static constexpr uint32_t kMaxCapacity = 1u << 26;
  static constexpr uint32_t kMaxTimeoutMs = 1u << 30;  // about 12.4 days

  // Allocates everything the cache will ever use (see memory_bytes()).
  explicit FlowCache(const FlowCacheOptions& options);
  FlowCache(const FlowCache&) = delete;
  FlowCache& operator=(const FlowCache&) = delete;

  // Counts one packet of `ip_bytes` IP bytes with `tcp_flags` (agent::packet::TcpFlag bits)
  // into the flow of `key`, starting the flow if needed. Records that end on the way (a
  // timeout split, FIN/RST, an eviction) go to `out` before Add returns.
  void Add(const exporter::netflow::FlowKey& key, uint32_t ip_bytes, uint16_t tcp_flags,
           uint64_t now_ms, exporter::netflow::FlowRecordSink& out);

  // Same as Add for each packet in order (same records, same stats), but hashes a group of
  // packets first and prefetches their index slots and entries, so the cache misses of a
  // group overlap instead of queueing: for bursts from a PacketSource on big tables.
  void AddBatch(const FlowPacket* packets, size_t count, exporter::netflow::FlowRecordSink& out);

  // Ends the flows whose inactive or active timeout has passed at now_ms. Call it on a tick
  // (the daemon: 1 Hz); how often only changes how late quiet flows leave, never the records.
  void Expire(uint64_t now_ms, exporter::netflow::FlowRecordSink& out);

  // Ends every flow: those already timed out with their timeout reason, the rest with
  // kForcedEnd (shutdown, end of a capture file). The cache is empty and usable afterwards.
  void Flush(uint64_t now_ms, exporter::netflow::FlowRecordSink& out);

  // Control plane (reload): new inactive, active and per-protocol timeouts and tcp_end, for the
  // flows in the cache as well as new ones (capacity and extended_key are ignored: they need a
  // new cache). Every live flow is put back in the wheel slot of its new deadline, so a
  // shorter timeout ends flows at the next Expire and a longer one keeps them; the wheel grows
  // if the longest timeout outgrows it. One walk of the live flows.
  void SetTimeouts(const FlowCacheOptions& options);

  // Record time = flow time + offset (Unix ms), applied when a record is made.
  void set_unix_offset_ms(int64_t offset_ms) { unix_offset_ms_ = offset_ms; }

  const FlowCacheStats& stats() const { return stats_; }
  uint32_t capacity() const { return capacity_; }
  size_t size() const { return static_cast<size_t>(stats_.active_flows); }
  // Bytes allocated for entries, the index, the wheel and the optional key parts.
  size_t memory_bytes() const;

 private:
  static constexpr int kKeyWords = 12;  // addresses, ifindexes, ports, VLANs + TOS
  static constexpr int kSlotShift = 6;  // 64 ms wheel slots

  // 84 bytes, 4-byte aligned: the counters are two uint32 each, read and written with memcpy.
  struct Entry {
    uint32_t key[kKeyWords];
    uint32_t meta;   // protocol | ip_version << 8 | tcp_flags << 12 (OR of all packets)
    uint32_t first;  // ms since base_ms_
    uint32_t last;
    uint32_t packets[2];
    uint32_t bytes[2];
    // Wheel list: entry numbers; kHeadTag | slot before the first and after the last. The
    // free list uses `next` (kNil at the end).
    uint32_t prev;
    uint32_t next;
  };
  static_assert(sizeof(Entry) == 84, "the memory target counts on 84-byte entries");
  struct ExtKey {
    uint8_t src_mac[6];
    uint8_t dst_mac[6];
    uint32_t mpls_top;
  };
  struct PackedKey {
    uint32_t key[kKeyWords];
    uint32_t meta;  // protocol | ip_version << 8
    ExtKey ext;
  };

  static constexpr size_t kBatchGroup = 32;

  uint64_t Advance(uint64_t now_ms, exporter::netflow::FlowRecordSink& out);
  void AddPacked(const PackedKey& k, uint64_t hash, uint32_t ip_bytes, uint16_t tcp_flags,
                 uint64_t now_ms, exporter::netflow::FlowRecordSink& out);
  void Pack(const exporter::netflow::FlowKey& key, PackedKey* packed) const;
  uint64_t Hash(const uint32_t* words, uint32_t meta, const ExtKey* ext) const;
  uint64_t HashOf(uint32_t e) const;
  bool Matches(uint32_t e, const PackedKey& k) const;
  // Index position of `k` (found) or of the empty slot where it would go.
  bool Find(const PackedKey& k, uint64_t hash, uint32_t* pos) const;
  void IndexErase(uint32_t e);

  // Relative deadline (ms since base) and the reason that goes with it.
  uint64_t Deadline(const Entry& e, exporter::netflow::EndReason* reason) const;
  void Link(uint32_t e, uint64_t deadline_rel);
  void LinkSlot(uint32_t e, uint64_t slot);
  void Unlink(uint32_t e);
  void Emit(uint32_t e, exporter::netflow::EndReason reason,
            exporter::netflow::FlowRecordSink& out);
  // Emits and frees an entry that is already out of the wheel.
  void Retire(uint32_t e, exporter::netflow::EndReason reason,
              exporter::netflow::FlowRecordSink& out);
  void ExpireUpTo(uint64_t now_ms, exporter::netflow::FlowRecordSink& out);
  void Evict(uint64_t now_ms, exporter::netflow::FlowRecordSink& out);
  void Rebase(uint64_t now_ms, exporter::netflow::FlowRecordSink& out);

  static uint64_t Load64(const uint32_t* p);
  static void Store64(uint32_t* p, uint64_t v);

  const uint32_t capacity_;
  void ApplyTimeouts(const FlowCacheOptions& options);
  static uint32_t WheelSlotsFor(uint32_t max_timeout_ms);

  bool tcp_end_;
  const bool extended_;
  uint32_t active_ms_;
  uint32_t inactive_by_proto_[256];
  uint32_t max_timeout_ms_ = 0;

  FixedArray<Entry> entries_;
  FixedArray<ExtKey> ext_;      // only with extended_key
  FixedArray<uint32_t> index_;  // kEmpty or (tag | entry number)
  uint32_t index_mask_ = 0;
  uint32_t entry_mask_ = 0;          // low bits of an index slot: the entry number
  FixedArray<uint32_t> wheel_;       // first flow of each slot's list, kNil if empty
  FixedArray<uint32_t> wheel_tail_;  // last flow of each slot's list, kNil if empty
  uint32_t wheel_mask_ = 0;
  uint32_t free_head_;

  bool started_ = false;
  uint64_t base_ms_ = 0;      // flow time of offset 0
  uint64_t clock_ms_ = 0;     // latest flow time seen
  uint64_t cursor_slot_ = 0;  // absolute slot Expire has reached; no flow sits in an earlier one
  uint64_t hint_slot_ = 0;    // no flow sits in a slot before this one (>= cursor_slot_)
  int64_t unix_offset_ms_ = 0;
  FlowCacheStats stats_;
};

}  // namespace xflowd::agent::flow
