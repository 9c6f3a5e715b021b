// PacketSource over NFLOG: the kernel's netfilter log (an nft `log group G` or iptables NFLOG
// rule) delivers packets that a rule already sampled (nft `numgen random mod N == 0`, iptables
// `-m statistic --mode random`), over a raw NETLINK_NETFILTER socket.
//
// The header the agent gets: NFLOG delivers the packet from L3 (the IP header). So every sample
// is rebuilt into an Ethernet frame in one fixed per-source buffer: dst and src MAC from
// NFULA_HWHEADER when the kernel sent one (ingress with a MAC header), else zero MACs (src from
// NFULA_HWADDR when present), and the ethertype from NFULA_PACKET_HDR hw_protocol. An 802.1Q
// tag the kernel already removed is reported as vlan_valid/vlan_tci only when NFLOG carries it
// (NFULA_VLAN, bridge family). frame_length = 14 + the L3 length (from the IP header when the
// copy range cut the payload) + 4 (FCS; `stripped` = 4), the same convention as AF_PACKET.
//
// Interfaces: input_ifindex = NFULA_IFINDEX_PHYSINDEV if present (the bridge port), else
// INDEV; output likewise from PHYSOUTDEV / OUTDEV. For a netdev ingress rule on port X this is
// input = X, exactly what an AF_PACKET source on X reports for the same frame.
// Drops: with NFULNL_CFG_F_SEQ the kernel numbers every logged packet per group; a gap means
// packets were lost (a batch dropped when our socket buffer was full): source_drops adds the
// gap and samples carry has_source_sequence/source_sequence so the agent can grow the pool by
// rate x (1 + gap). An ENOBUFS from recv() is counted separately (enobufs).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "hal/base/clock.h"
#include "hal/base/status.h"
#include "hal/nflog/nflog_parser.h"
#include "hal/packet_source.h"

namespace xflowd::hal::nflog {

struct NflogOptions {
  uint16_t group = 0;                         // the rule's log group
  uint32_t sampling_rate = 1;                 // the rule's 1-in-N (NFLOG itself does not know it)
  Direction direction = Direction::kIngress;  // the data source the rule samples
  uint32_t copy_range = 128;   // L3 bytes copied per packet (NFULA_CFG_MODE copy_range)
  uint32_t qthreshold = 16;    // packets the kernel batches into one message
  uint32_t timeout_cs = 2;     // ... or flushes after this many 1/100 s
  uint32_t nlbufsiz = 0;       // kernel batch buffer bytes; 0 = kernel default
  int rcvbuf_bytes = 4 << 20;  // SO_RCVBUFFORCE (falls back to SO_RCVBUF)
};

struct NflogStats {
  uint64_t samples = 0;
  uint64_t seq_gap_drops = 0;  // packets missing in NFULA_SEQ
  uint64_t enobufs = 0;        // recv() ENOBUFS events (socket buffer overrun)
  uint64_t no_payload = 0;     // packet messages without NFULA_PAYLOAD (dropped)
  ParseStats parse;
};

class NflogSource final : public PacketSource {
 public:
  // Binds the group in the caller's network namespace (groups are per namespace).
  // UNAVAILABLE if another socket owns the group. `clock` must outlive the source. Needs
  // CAP_NET_ADMIN.
  static base::Result<std::unique_ptr<NflogSource>> Create(const NflogOptions& options,
                                                           const base::Clock& clock);
  ~NflogSource() override;
  NflogSource(const NflogSource&) = delete;
  NflogSource& operator=(const NflogSource&) = delete;

  int fd() const override { return fd_; }
  size_t Drain(PacketSampleSink& sink, size_t budget) override;
  PacketSourceStats stats() const override;
  const NflogStats& nflog_stats() const { return stats_; }

 private:
  NflogSource(const NflogOptions& options, const base::Clock& clock);
  base::Status SendConfig(uint16_t attr_type, const void* value, size_t len);
  void Emit(const NflogPacket& p, PacketSampleSink& sink, int64_t wall_to_mono_ns);

  NflogOptions options_;
  const base::Clock& clock_;
  int fd_ = -1;
  uint32_t seq_ = 1;
  std::vector<uint8_t> buf_;    // one recv()
  size_t buf_len_ = 0;          // bytes in buf_
  size_t buf_off_ = 0;          // next message to parse (budget may stop mid-buffer)
  std::vector<uint8_t> frame_;  // the rebuilt Ethernet frame handed out
  bool have_seq_ = false;
  uint32_t next_seq_ = 0;
  NflogStats stats_;
};

}  // namespace xflowd::hal::nflog
