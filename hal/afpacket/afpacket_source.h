// PacketSource over an AF_PACKET TPACKET_V3 ring on one interface, with the kernel sampling
// 1-in-N by a classic BPF program (see random_filter.h), so only samples cross into user space.
//
// Set-up order matters: the socket is opened with protocol 0 (receives nothing), the filter is
// attached with SO_ATTACH_FILTER, then PACKET_IGNORE_OUTGOING, PACKET_VERSION, PACKET_RX_RING,
// mmap, and only then bind(ETH_P_ALL, ifindex): no unfiltered packet ever reaches the ring.
// (Never pcap_setfilter: libpcap re-filters the first block in user space and does not know
// `ld rand`.)
//
// Samples: input_ifindex = the interface and direction ingress; frames the host sent
// (PACKET_OUTGOING) have output_ifindex = the interface and direction egress (unless
// ingress_only; with egress_only those alone). frame_length = tp_len + 4 (the FCS Linux does not
// deliver; `stripped` = 4)
// + 4 more when the kernel stripped an 802.1Q tag (then vlan_valid / vlan_tci are set and the
// header bytes lack the tag). sampling_rate = N. Timestamps: the kernel's (CLOCK_REALTIME)
// packet time moved onto the monotonic clock with the clock's current wall-mono offset.
// has_source_sequence is false; losses are counted from PACKET_STATISTICS tp_drops.
// The sample pool comes from the interface counters: see sample_pool.h.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hal/base/clock.h"
#include "hal/base/status.h"
#include "hal/packet_source.h"

namespace xflowd::hal::afpacket {

struct AfPacketOptions {
  std::string ifname;          // required; resolved in the caller's network namespace
  uint32_t sampling_rate = 1;  // N of 1-in-N; 1 = every packet
  uint32_t snaplen = 128;      // header bytes kept per sample
  bool ingress_only = false;   // PACKET_IGNORE_OUTGOING: do not see frames the host sends
  // Only frames the interface sends (egress sampling): the in-kernel filter drops every frame
  // whose packet type is not PACKET_OUTGOING before drawing its random number.
  bool egress_only = false;
  uint32_t block_size = 1u << 18;  // ring block bytes (multiple of the page size)
  uint32_t block_count = 8;
  uint32_t block_timeout_ms = 100;  // a partly filled block is handed over after this
  // Non-zero: join PACKET_FANOUT group `fanout_group` (PACKET_FANOUT_HASH) after bind, so the
  // kernel spreads flows over the sockets of the group, each flow to one socket.
  uint16_t fanout_group = 0;
  // With sampling_rate 1 only: this classic BPF program instead of the sampling filter (e.g.
  // one that keeps the probe's own export out); it must return the bytes to keep.
  std::vector<sock_filter> filter;
};

struct AfPacketStats {
  uint64_t kernel_packets = 0;  // accepted by the filter (tp_packets, accumulated)
  uint64_t kernel_drops = 0;    // accepted but no room in the ring (tp_drops, accumulated)
  uint64_t freeze_count = 0;    // times the ring was full (tp_freeze_q_cnt, accumulated)
  uint64_t samples = 0;
  uint64_t bad_frames = 0;  // frame headers pointing outside their block
};

class AfPacketSource final : public PacketSource {
 public:
  // `clock` must outlive the source. Needs CAP_NET_RAW.
  static base::Result<std::unique_ptr<AfPacketSource>> Create(const AfPacketOptions& options,
                                                              const base::Clock& clock);
  ~AfPacketSource() override;
  AfPacketSource(const AfPacketSource&) = delete;
  AfPacketSource& operator=(const AfPacketSource&) = delete;

  int fd() const override { return fd_; }
  // Walks retired ring blocks; reads PACKET_STATISTICS once at the end of every call (the only
  // place that reads it, because reading resets the kernel's counters).
  size_t Drain(PacketSampleSink& sink, size_t budget) override;
  PacketSourceStats stats() const override;

  // Reads PACKET_STATISTICS now (same accumulation as Drain) and returns the totals.
  const AfPacketStats& RefreshKernelStats();
  const AfPacketStats& afpacket_stats() const { return stats_; }
  uint32_t ifindex() const { return ifindex_; }

 private:
  AfPacketSource(const AfPacketOptions& options, const base::Clock& clock)
      : options_(options), clock_(clock) {}
  void ReadKernelStats();

  AfPacketOptions options_;
  const base::Clock& clock_;
  int fd_ = -1;
  uint32_t ifindex_ = 0;
  uint8_t* ring_ = nullptr;
  size_t ring_bytes_ = 0;
  uint32_t block_ = 0;        // block being consumed
  uint32_t pkts_done_ = 0;    // packets of `block_` already handed out
  uint32_t next_offset_ = 0;  // offset of the next packet in `block_` (0 = first)
  AfPacketStats stats_;
};

}  // namespace xflowd::hal::afpacket
