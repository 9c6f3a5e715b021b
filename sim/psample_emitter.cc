#include "sim/psample_emitter.h"

#include <sys/socket.h>

#include <cstring>

#include "hal/netlink_wire.h"

namespace xflowd::sim {
namespace {

using hal::netlink::Align4;
using hal::netlink::kGenlHdrLen;
using hal::netlink::kNlaHdrLen;
using hal::netlink::kNlmsgHdrLen;
// A forward jump this large in a source's sequence is a restart, not losses (as the sampler).
constexpr uint32_t kMaxPlausibleGap = 1u << 24;

// Bounded host-byte-order writer for netlink. A write that does not fit sets failed().
class NlWriter {
 public:
  NlWriter(uint8_t* buf, size_t cap) : buf_(buf), cap_(cap) {}
  size_t size() const { return len_; }
  bool failed() const { return failed_; }

  template <typename T>
  void Put(T v) {
    Raw(&v, sizeof(v));
  }
  void Raw(const void* p, size_t n) {
    if (failed_ || cap_ - len_ < n) {
      failed_ = true;
      return;
    }
    if (n) std::memcpy(buf_ + len_, p, n);
    len_ += n;
  }
  void Zeros(size_t n) {
    if (failed_ || cap_ - len_ < n) {
      failed_ = true;
      return;
    }
    std::memset(buf_ + len_, 0, n);
    len_ += n;
  }
  // One attribute with its padding.
  void Attr(uint16_t type, const void* payload, size_t n) {
    if (n > 0xFFFF - kNlaHdrLen) {
      failed_ = true;
      return;
    }
    Put<uint16_t>(static_cast<uint16_t>(kNlaHdrLen + n));
    Put<uint16_t>(type);
    Raw(payload, n);
    Zeros(Align4(n) - n);
  }
  template <typename T>
  void AttrValue(uint16_t type, T v) {
    Attr(type, &v, sizeof(v));
  }
  void PatchU32(size_t off, uint32_t v) {
    if (!failed_ && off + 4 <= len_) std::memcpy(buf_ + off, &v, 4);
  }

 private:
  uint8_t* buf_;
  size_t cap_;
  size_t len_ = 0;
  bool failed_ = false;
};

void PutU64(NlWriter& w, uint16_t type, uint64_t v, bool pad) {
  // nla_need_padding_for_64bit(): the tail is 8-aligned, so the payload would not be.
  if (pad && w.size() % 8 == 0) w.Attr(psample_wire::kAttrPad, nullptr, 0);
  w.AttrValue<uint64_t>(type, v);
}

void PutIfindex(NlWriter& w, uint16_t type, uint32_t ifindex) {
  if (ifindex == 0) return;
  if (ifindex <= 0xFFFF) {
    w.AttrValue<uint16_t>(type, static_cast<uint16_t>(ifindex));
  } else {
    w.AttrValue<uint32_t>(type, ifindex);  // the kernel would truncate; we keep it whole
  }
}

}  // namespace

size_t EncodePsampleMessage(const PsampleMessage& m, uint8_t* out, size_t cap) {
  NlWriter w(out, cap);
  w.Put<uint32_t>(0);  // nlmsg_len, patched below
  w.Put<uint16_t>(m.family_id);
  w.Put<uint16_t>(0);  // flags
  w.Put<uint32_t>(m.nlmsg_seq);
  w.Put<uint32_t>(m.nlmsg_pid);
  w.Put<uint8_t>(psample_wire::kCmdSample);
  w.Put<uint8_t>(psample_wire::kGenlVersion);
  w.Put<uint16_t>(0);
  PutIfindex(w, psample_wire::kAttrIifindex, m.in_ifindex);
  PutIfindex(w, psample_wire::kAttrOifindex, m.out_ifindex);
  w.AttrValue<uint32_t>(psample_wire::kAttrSampleRate, m.sample_rate);
  w.AttrValue<uint32_t>(psample_wire::kAttrOrigsize, m.orig_size);
  w.AttrValue<uint32_t>(psample_wire::kAttrSampleGroup, m.group);
  w.AttrValue<uint32_t>(psample_wire::kAttrGroupSeq, m.group_seq);
  if (m.has_out_tc) w.AttrValue<uint16_t>(psample_wire::kAttrOutTc, m.out_tc);
  if (m.has_out_tc_occ) PutU64(w, psample_wire::kAttrOutTcOcc, m.out_tc_occ_bytes, m.pad_u64);
  if (m.has_latency) PutU64(w, psample_wire::kAttrLatency, m.latency_ns, m.pad_u64);
  if (m.has_timestamp) PutU64(w, psample_wire::kAttrTimestamp, m.timestamp_ns, m.pad_u64);
  if (m.has_proto) w.AttrValue<uint16_t>(psample_wire::kAttrProto, m.proto);
  if (!m.data.empty()) w.Attr(psample_wire::kAttrData, m.data.data(), m.data.size());
  if (w.failed() || w.size() > 0xFFFFFFFFu) return 0;
  w.PatchU32(0, static_cast<uint32_t>(w.size()));
  return w.size();
}

PsampleEmitter::PsampleEmitter(int fd, const PsampleEmitterConfig& config)
    : fd_(fd), config_(config), next_seq_{config.first_group_seq, config.first_group_seq} {}

uint32_t PsampleEmitter::next_group_seq(hal::Direction direction) const {
  return direction == hal::Direction::kIngress ? next_seq_[0] : next_seq_[1];
}

void PsampleEmitter::LoseSamples(hal::Direction direction, uint32_t n) {
  GroupSeq(direction) += n;
  stats_.lost_by_request += n;
}

PsampleMessage PsampleEmitter::Prepare(const hal::PacketSample& s) {
  if (config_.follow_source_sequence && s.has_source_sequence) {
    const uint32_t ifindex =
        s.direction == hal::Direction::kIngress ? s.input_ifindex : s.output_ifindex;
    const uint64_t key = (uint64_t{ifindex} << 1) | static_cast<uint64_t>(s.direction);
    auto it = last_source_seq_.find(key);
    uint32_t gap = 0;
    if (it == last_source_seq_.end()) {
      gap = s.source_sequence < kMaxPlausibleGap ? s.source_sequence : 0;  // numbered from 0
      last_source_seq_.emplace(key, s.source_sequence);
    } else {
      const uint32_t d = s.source_sequence - it->second - 1;
      gap = d < kMaxPlausibleGap ? d : 0;
      it->second = s.source_sequence;
    }
    GroupSeq(s.direction) += gap;
    stats_.lost_at_source += gap;
  }
  PsampleMessage m;
  m.family_id = config_.family_id;
  m.in_ifindex = s.input_ifindex;
  m.out_ifindex = s.output_ifindex;
  m.sample_rate = s.sampling_rate;
  // skb->len: the frame without the FCS that frame_length counts (stripped says how much).
  m.orig_size = s.frame_length >= s.stripped ? s.frame_length - s.stripped : 0;
  m.group = s.direction == hal::Direction::kIngress ? config_.ingress_group : config_.egress_group;
  m.group_seq = GroupSeq(s.direction)++;
  m.has_timestamp = config_.timestamps;
  m.timestamp_ns =
      static_cast<uint64_t>(s.timestamp.ns()) + static_cast<uint64_t>(config_.mono_to_wall_ns);
  m.has_proto = true;
  m.proto = s.header.size() >= 14
                ? static_cast<uint16_t>((s.header[12] << 8) | s.header[13])  // outer ethertype
                : 0;
  m.data = s.header;
  m.pad_u64 = config_.pad_u64;
  return m;
}

size_t PsampleEmitter::EncodeNext(const hal::PacketSample& sample, uint8_t* out, size_t cap) {
  return EncodePsampleMessage(Prepare(sample), out, cap);
}

void PsampleEmitter::OnSample(const hal::PacketSample& sample) {
  const size_t len = EncodeNext(sample, buf_, sizeof(buf_));
  if (len == 0) {
    ++stats_.encode_errors;
    return;
  }
  if (send(fd_, buf_, len, MSG_DONTWAIT | MSG_NOSIGNAL) != static_cast<ssize_t>(len)) {
    ++stats_.send_errors;
    return;
  }
  ++stats_.messages_sent;
}

}  // namespace xflowd::sim
