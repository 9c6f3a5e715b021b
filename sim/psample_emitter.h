// PsampleEmitter: plays the kernel's side of PSAMPLE. Turns hal::PacketSamples (from SimSwitch or
// anything else) into byte-exact PSAMPLE_CMD_SAMPLE generic netlink messages, as
// net/psample/psample.c builds them, and writes each as one datagram to an fd (one end of an
// AF_UNIX SOCK_SEQPACKET or SOCK_DGRAM socketpair). The other end goes to
// hal::psample::PsamplePacketSource::FromFd, so tests and the simulator drive the real parser
// and source without a kernel that has psample.
//
// Standard library + hal only (no libnl, no back-end): the constants below mirror
// include/uapi/linux/psample.h and linux/netlink.h; the round-trip tests keep them honest.
//
// Sequence numbers are made the kernel's way: one counter per psample GROUP (not per port),
// starting at first_group_seq, advanced for every sample taken, delivered or not. SimSwitch
// numbers samples per port and direction from 0 with lost samples as gaps; the emitter turns
// those gaps into group gaps (a port's first sample with sequence k means k samples of it were
// lost before). Samples whose send() fails (full socket buffer) also leave a gap, like a
// netlink overrun.
//
// Byte order: host (netlink). Not thread-safe; one emitter per writer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>

#include "hal/base/byte_view.h"
#include "hal/packet_sample.h"
#include "hal/psample_wire.h"

namespace xflowd::sim {

// The PSAMPLE wire names (hal/psample_wire.h), shared with the parser.
namespace psample_wire = hal::psample_wire;

// Every field of one PSAMPLE message. Optional attributes are written when their has_ is set.
struct PsampleMessage {
  uint16_t family_id = 0x1c;  // nlmsg_type: the dynamic id genl_ctrl_resolve would return
  uint32_t nlmsg_seq = 0;     // multicast: the kernel sends 0
  uint32_t nlmsg_pid = 0;
  uint32_t in_ifindex = 0;   // omitted when 0 (like the kernel); u16, or u32 above 65535
  uint32_t out_ifindex = 0;  // omitted when 0
  uint32_t sample_rate = 1;
  uint32_t orig_size = 0;  // skb->len, no FCS (Prepare: frame_length - stripped)
  uint32_t group = 0;
  uint32_t group_seq = 0;
  bool has_out_tc = false;
  uint16_t out_tc = 0;
  bool has_out_tc_occ = false;
  uint64_t out_tc_occ_bytes = 0;
  bool has_latency = false;
  uint64_t latency_ns = 0;
  bool has_timestamp = true;
  uint64_t timestamp_ns = 0;  // CLOCK_REALTIME in the kernel
  bool has_proto = true;
  uint16_t proto = 0;        // ethertype, host order
  hal::base::ByteView data;  // the truncated packet, from the Ethernet header
  // Emulate nla_put_u64_64bit on hosts without efficient unaligned access: a PSAMPLE_ATTR_PAD
  // goes before a u64 whose payload would not be 8-byte aligned.
  bool pad_u64 = false;
};

// Encodes `m` into out[0, cap) in the kernel's attribute order (IIFINDEX, OIFINDEX,
// SAMPLE_RATE, ORIGSIZE, SAMPLE_GROUP, GROUP_SEQ, OUT_TC, OUT_TC_OCC, LATENCY, TIMESTAMP,
// PROTO, DATA). Returns the message length (nlmsg_len), or 0 if it does not fit. Pure.
size_t EncodePsampleMessage(const PsampleMessage& m, uint8_t* out, size_t cap);

struct PsampleEmitterConfig {
  uint16_t family_id = 0x1c;
  uint32_t ingress_group = 1;
  uint32_t egress_group = 2;
  uint32_t first_group_seq = 0;  // set near 2^32 to exercise wrap-around
  bool pad_u64 = false;
  // TIMESTAMP = PacketSample::timestamp + mono_to_wall_ns (the kernel sends wall time).
  bool timestamps = true;
  int64_t mono_to_wall_ns = 0;
  // Turn per-data-source gaps in PacketSample::source_sequence (SimSwitch) into group gaps.
  bool follow_source_sequence = true;
};

struct PsampleEmitterStats {
  uint64_t messages_sent = 0;
  uint64_t send_errors = 0;      // send() failed: that sample is lost (a gap)
  uint64_t lost_at_source = 0;   // gaps seen in the input's source_sequence
  uint64_t lost_by_request = 0;  // LoseSamples()
  uint64_t encode_errors = 0;    // message larger than kMaxMessageBytes: not sent
};

class PsampleEmitter final : public hal::PacketSampleSink {
 public:
  // `fd` is not owned; -1 for an emitter that only encodes (EncodeNext).
  PsampleEmitter(int fd, const PsampleEmitterConfig& config);

  // Encodes and sends one message (send(MSG_DONTWAIT)). Allocates only the first time it sees
  // a data source (its sequence-tracking entry).
  void OnSample(const hal::PacketSample& sample) override;
  // Encodes the next message for `sample` (consuming its group sequence number) without
  // sending it. Returns the length, 0 if cap is too small (the sequence is still consumed).
  size_t EncodeNext(const hal::PacketSample& sample, uint8_t* out, size_t cap);
  // `n` samples of `direction`'s group are taken but never delivered: its sequence moves on.
  void LoseSamples(hal::Direction direction, uint32_t n);

  // The group sequence number the next sample of `direction` will carry.
  uint32_t next_group_seq(hal::Direction direction) const;
  const PsampleEmitterStats& stats() const { return stats_; }
  const PsampleEmitterConfig& config() const { return config_; }

 private:
  uint32_t& GroupSeq(hal::Direction d) {
    return d == hal::Direction::kIngress ? next_seq_[0] : next_seq_[1];
  }
  PsampleMessage Prepare(const hal::PacketSample& sample);

  int fd_;
  PsampleEmitterConfig config_;
  uint32_t next_seq_[2];
  std::unordered_map<uint64_t, uint32_t> last_source_seq_;  // data source -> last sequence
  PsampleEmitterStats stats_;
  uint8_t buf_[psample_wire::kMaxMessageBytes + 64];
};

}  // namespace xflowd::sim
