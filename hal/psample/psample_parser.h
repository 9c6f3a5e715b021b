// PSAMPLE netlink message parser: pure (no libnl, no syscalls, no allocation), so it is what the
// golden tests and the fuzzer hit. PsamplePacketSource (psample_source.h) is the thin socket
// wrapper around it.
//
// Wire format (generic netlink, family "psample", multicast group "packets"): one message per
// sampled packet, nlmsghdr (16 bytes) + genlmsghdr (4 bytes, cmd PSAMPLE_CMD_SAMPLE) + netlink
// attributes, each 4-byte aligned. Netlink is in HOST byte order (unlike the rest of xflowd,
// which is big-endian on the wire); the golden files are captures from little-endian hosts.
// Attribute payloads as the kernel writes them (net/psample/psample.c):
//   IIFINDEX, OIFINDEX   u16 (omitted when 0; ifindex > 65535 is truncated by the kernel; we
//                        also accept a u32 payload)
//   ORIGSIZE             u32, bytes of the packet when it was sampled (no FCS; the sample's
//                        frame_length is ORIGSIZE + 4 with stripped = 4, as sFlow counts it)
//   SAMPLE_GROUP         u32, the psample group the tc action / ASIC sampled into
//   GROUP_SEQ            u32, per GROUP (not per port) counter of samples taken, from 0, wraps
//   SAMPLE_RATE          u32, 1-in-N
//   DATA                 the first min(ORIGSIZE, trunc size) bytes, from the Ethernet header
//   TUNNEL               nested tunnel key (skipped)
//   PAD                  alignment filler before a u64 on hosts without fast unaligned access
//   OUT_TC, PROTO        u16 (PROTO is the ethertype, host order)
//   OUT_TC_OCC           u64 bytes;  LATENCY u64 ns;  TIMESTAMP u64 ns of CLOCK_REALTIME
//   USER_COOKIE          bytes (kernel >= 6.11, skipped);  SAMPLE_PROBABILITY flag (>= 6.11)
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "hal/base/byte_view.h"
#include "hal/netlink_wire.h"
#include "hal/packet_sample.h"
#include "hal/psample_wire.h"

namespace xflowd::hal::psample {

// The family's attributes, command and names (kAttr..., kCmdSample, kFamilyName...).
using namespace psample_wire;  // NOLINT: the wire names are this parser's vocabulary
using netlink::kGenlHdrLen;
using netlink::kNlmsgHdrLen;

// Fields of a PSAMPLE message that hal::PacketSample has no place for.
struct PsampleMeta {
  uint32_t group = 0;
  uint32_t group_seq = 0;  // raw kernel GROUP_SEQ (per group)
  bool has_group_seq = false;
  uint16_t out_tc = 0;  // egress traffic class (ASIC)
  bool has_out_tc = false;
  uint64_t out_tc_occupancy_bytes = 0;  // egress queue depth when sampled (ASIC)
  bool has_out_tc_occupancy = false;
  uint64_t latency_ns = 0;  // transit latency (ASIC)
  bool has_latency = false;
  uint64_t timestamp_ns = 0;  // kernel CLOCK_REALTIME when sampled
  bool has_timestamp = false;
  uint16_t protocol = 0;  // skb->protocol, ethertype in host order
  bool has_protocol = false;
  // Bytes of DATA delivered, i.e. min(ORIGSIZE, the action's trunc size); == header.size().
  uint32_t trunc_size = 0;
  bool has_tunnel = false;
  bool rate_is_probability = false;  // SAMPLE_PROBABILITY: rate is a u32 fraction, not 1-in-N
};

// Why a message (or a buffer) was not turned into a sample, by kind. All counters only grow.
struct ParseStats {
  uint64_t messages = 0;          // netlink messages looked at
  uint64_t samples = 0;           // PSAMPLE_CMD_SAMPLE messages turned into samples
  uint64_t short_buffer = 0;      // fewer bytes than a nlmsghdr (or a genlmsghdr) left
  uint64_t bad_nlmsg_len = 0;     // nlmsg_len < header or past the end of the buffer
  uint64_t wrong_family = 0;      // nlmsg_type is not the psample family
  uint64_t wrong_command = 0;     // genl cmd is not SAMPLE (group config messages)
  uint64_t truncated_attr = 0;    // nla_len < 4 or past the end of the message
  uint64_t bad_attr_size = 0;     // a fixed-size attribute with the wrong payload size
  uint64_t unknown_attr = 0;      // attribute type we do not know (skipped, still a sample)
  uint64_t missing_group = 0;     // no SAMPLE_GROUP: cannot tell the direction
  uint64_t unknown_group = 0;     // SAMPLE_GROUP not in the mapping: ignored
  uint64_t netlink_errors = 0;    // NLMSG_ERROR with a non-zero error
  uint64_t netlink_acks = 0;      // NLMSG_ERROR with error 0
  uint64_t netlink_overruns = 0;  // NLMSG_OVERRUN
  uint64_t netlink_done = 0;      // NLMSG_DONE (ends a buffer)
  // Sequence accounting (PsampleStreamParser only).
  uint64_t drops = 0;              // samples lost, from GROUP_SEQ gaps, all groups
  uint64_t sequence_resets = 0;    // backwards or implausibly large jumps: resynced, not drops
  uint64_t untracked_sources = 0;  // samples whose data source did not fit the sequence table

  // Every message that was not a sample, for PacketSourceStats::parse_errors. Acks, DONE and
  // unknown attributes are not errors; config messages on the wrong command are not either.
  uint64_t errors() const {
    return short_buffer + bad_nlmsg_len + wrong_family + truncated_attr + bad_attr_size +
           missing_group;
  }
};

enum class MessageResult : uint8_t {
  kSample,     // *sample and *meta are filled
  kNotSample,  // a valid message that carries no sample (other command)
  kMalformed,  // counted in stats by kind
};

// Parses the attributes of ONE psample message: `msg` starts at the nlmsghdr and is exactly
// nlmsg_len bytes (the caller has checked nlmsg_len; this function re-checks it). family_id 0
// accepts any generic netlink family (the socket only receives psample anyway). Fills every
// field of *sample except direction, source_sequence/has_source_sequence and timestamp (which
// need the group mapping and stream state): sample->header views `msg` (same lifetime).
// Never reads outside `msg`.
MessageResult ParseSampleMessage(base::ByteView msg, uint16_t family_id, PacketSample* sample,
                                 PsampleMeta* meta, ParseStats* stats);

// Which direction each psample group means. Default: group 1 ingress, group 2 egress.
struct GroupMapping {
  uint32_t group = 0;
  Direction direction = Direction::kIngress;
};
constexpr size_t kMaxGroups = 8;

// How PacketSample::source_sequence is filled. The kernel numbers samples per GROUP, but the
// agent's Sampler derives drops and sample_pool from gaps per DATA SOURCE (ifindex +
// direction), and ports share a group. Handing the raw group sequence to the sampler would
// count the other ports' samples as drops. So by default the stream parser does the gap
// accounting per group itself and hands each data source a synthesized sequence that advances
// by 1 + (samples lost in its group since the group's previous sample): each lost sample is
// counted exactly once, charged to the data source of the next sample that arrives in its
// group (the kernel does not say whose it was). Totals are exact; per-port drops are exact
// when each group serves one data source.
// Do not add ParseStats::drops to the samplers' drops: they are the same samples.
enum class SequenceMode : uint8_t {
  kPerDataSource = 0,  // synthesized per data source (default, see above)
  kGroup = 1,          // raw GROUP_SEQ (only correct with one data source per group)
  kNone = 2,           // has_source_sequence = false; drops only in ParseStats
};

struct ParserOptions {
  // nlmsg_type of the psample family (genl_ctrl_resolve); 0 = accept any.
  uint16_t family_id = 0;
  std::array<GroupMapping, kMaxGroups> groups = {
      {{1, Direction::kIngress}, {2, Direction::kEgress}}};
  size_t group_count = 2;
  SequenceMode sequence_mode = SequenceMode::kPerDataSource;
  // Added to TIMESTAMP (CLOCK_REALTIME ns) to get PacketSample::timestamp (monotonic):
  // monotonic now - wall now. Messages without TIMESTAMP get `fallback_time`.
  int64_t wall_to_mono_ns = 0;

  // Group g = ingress, g + 1 = egress (the usual convention).
  static ParserOptions WithBaseGroup(uint32_t g) {
    ParserOptions o;
    o.groups[0] = {g, Direction::kIngress};
    o.groups[1] = {g + 1, Direction::kEgress};
    o.group_count = 2;
    return o;
  }
};

// Receives each parsed sample with its meta. Must not block, allocate or throw.
class PsampleSink {
 public:
  virtual ~PsampleSink() = default;
  virtual void OnPsample(const PacketSample& sample, const PsampleMeta& meta) = 0;
};

// Stateful parser of whole recv() buffers: several netlink messages back to back (NLMSG_NEXT
// style), group mapping, per-group GROUP_SEQ gap accounting (32-bit wrap-around safe) and the
// per-data-source sequence described above. Allocation-free; about 50 KiB of state.
class PsampleStreamParser {
 public:
  explicit PsampleStreamParser(const ParserOptions& options = ParserOptions());

  // Parses every message in `buf` (one recv() worth), handing samples to `sink` (headers view
  // `buf`, valid only during the call). A bad nlmsg_len ends the buffer (no way to resync).
  // `fallback_time` is used for messages without TIMESTAMP. Returns samples handed over.
  size_t ParseBuffer(base::ByteView buf, base::MonoTime fallback_time, PacketSampleSink& sink);
  size_t ParseBuffer(base::ByteView buf, base::MonoTime fallback_time, PsampleSink& sink);

  void set_wall_to_mono_ns(int64_t offset) { options_.wall_to_mono_ns = offset; }
  void set_family_id(uint16_t id) { options_.family_id = id; }
  const ParserOptions& options() const { return options_; }
  const ParseStats& stats() const { return stats_; }
  // Samples lost in `group` (GROUP_SEQ gaps); 0 for a group not in the mapping.
  uint64_t group_drops(uint32_t group) const;

  // A forward jump this large (or larger) is a restart of the group (the kernel recreates a
  // group, from 0, when its last tc action goes away) or a reordering, not losses. Same
  // threshold as agent/sflow/sampler.cc.
  static constexpr uint32_t kMaxPlausibleGap = 1u << 24;
  static constexpr size_t kSourceTableSize = 4096;  // power of two; ~2048 data sources

 private:
  struct GroupState {
    bool seen = false;
    uint32_t last_seq = 0;
    uint64_t drops = 0;
    uint32_t pending_gap = 0;  // lost samples not yet charged to a data source
  };
  struct SourceSlot {
    bool used = false;
    uint32_t ifindex = 0;
    Direction direction = Direction::kIngress;
    bool started = false;  // the first sample is the sampler's baseline
    uint32_t sequence = 0;
  };
  template <typename Emit>
  size_t ParseBufferImpl(base::ByteView buf, base::MonoTime fallback_time, Emit&& emit);
  // Completes a sample (direction, sequence, timestamp); false if its group is unknown.
  bool Finish(PacketSample* sample, const PsampleMeta& meta, base::MonoTime fallback_time);
  SourceSlot* FindSource(uint32_t ifindex, Direction direction);

  ParserOptions options_;
  ParseStats stats_;
  std::array<GroupState, kMaxGroups> group_state_{};
  std::array<SourceSlot, kSourceTableSize> sources_{};
};

}  // namespace xflowd::hal::psample
