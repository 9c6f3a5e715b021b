#include "hal/psample/psample_parser.h"

#include <cstring>

#include "hal/netlink_wire.h"

namespace xflowd::hal::psample {
namespace {

using netlink::Align4;
using netlink::kNlaHdrLen;
using netlink::kNlmsgHdrLen;
using netlink::LoadHost;

// include/uapi/linux/netlink.h
constexpr uint16_t kNlmsgNoop = 1;
constexpr uint16_t kNlmsgError = 2;
constexpr uint16_t kNlmsgDone = 3;
constexpr uint16_t kNlmsgOverrun = 4;
constexpr uint16_t kNlmsgMinType = 0x10;
constexpr uint16_t kNlaTypeMask = 0x3FFF;  // ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER)
constexpr uint32_t kFcsBytes = 4;          // Ethernet FCS: on the wire, not in skb->len

}  // namespace

MessageResult ParseSampleMessage(base::ByteView msg, uint16_t family_id, PacketSample* sample,
                                 PsampleMeta* meta, ParseStats* stats) {
  if (msg.size() < kNlmsgHdrLen) {
    ++stats->short_buffer;
    return MessageResult::kMalformed;
  }
  const uint8_t* p = msg.data();
  const uint32_t nlmsg_len = LoadHost<uint32_t>(p);
  const uint16_t nlmsg_type = LoadHost<uint16_t>(p + 4);
  if (nlmsg_len != msg.size()) {
    ++stats->bad_nlmsg_len;
    return MessageResult::kMalformed;
  }
  if (nlmsg_type < kNlmsgMinType || (family_id != 0 && nlmsg_type != family_id)) {
    ++stats->wrong_family;
    return MessageResult::kMalformed;
  }
  if (msg.size() < kNlmsgHdrLen + kGenlHdrLen) {
    ++stats->short_buffer;
    return MessageResult::kMalformed;
  }
  if (p[kNlmsgHdrLen] != kCmdSample) {
    ++stats->wrong_command;
    return MessageResult::kNotSample;
  }

  *sample = PacketSample();
  *meta = PsampleMeta();
  bool has_origsize = false;
  bool has_group = false;
  uint32_t origsize = 0;

  size_t off = kNlmsgHdrLen + kGenlHdrLen;
  const size_t end = msg.size();
  while (off < end) {
    const size_t left = end - off;
    if (left < kNlaHdrLen) {
      ++stats->truncated_attr;
      return MessageResult::kMalformed;
    }
    const uint16_t nla_len = LoadHost<uint16_t>(p + off);
    const uint16_t nla_type = LoadHost<uint16_t>(p + off + 2) & kNlaTypeMask;
    if (nla_len < kNlaHdrLen || nla_len > left) {
      ++stats->truncated_attr;
      return MessageResult::kMalformed;
    }
    const uint8_t* v = p + off + kNlaHdrLen;
    const size_t vlen = nla_len - kNlaHdrLen;
    bool size_ok = true;
    switch (nla_type) {
      case kAttrIifindex:
      case kAttrOifindex: {
        uint32_t ifindex = 0;
        if (vlen == 2) {
          ifindex = LoadHost<uint16_t>(v);
        } else if (vlen == 4) {
          ifindex = LoadHost<uint32_t>(v);
        } else {
          size_ok = false;
          break;
        }
        (nla_type == kAttrIifindex ? sample->input_ifindex : sample->output_ifindex) = ifindex;
        break;
      }
      case kAttrOrigsize:
        if ((size_ok = vlen == 4)) {
          origsize = LoadHost<uint32_t>(v);
          has_origsize = true;
        }
        break;
      case kAttrSampleGroup:
        if ((size_ok = vlen == 4)) {
          meta->group = LoadHost<uint32_t>(v);
          has_group = true;
        }
        break;
      case kAttrGroupSeq:
        if ((size_ok = vlen == 4)) {
          meta->group_seq = LoadHost<uint32_t>(v);
          meta->has_group_seq = true;
        }
        break;
      case kAttrSampleRate:
        if ((size_ok = vlen == 4)) sample->sampling_rate = LoadHost<uint32_t>(v);
        break;
      case kAttrData:
        sample->header = msg.Subview(off + kNlaHdrLen, vlen);
        break;
      case kAttrTunnel:
        meta->has_tunnel = true;  // nested tunnel key: not needed for sFlow/NetFlow
        break;
      case kAttrPad:
      case kAttrGroupRefcount:  // only in group config messages
      case kAttrUserCookie:     // opaque to us
        break;
      case kAttrOutTc:
        if ((size_ok = vlen == 2)) {
          meta->out_tc = LoadHost<uint16_t>(v);
          meta->has_out_tc = true;
        }
        break;
      case kAttrOutTcOcc:
        if ((size_ok = vlen == 8)) {
          meta->out_tc_occupancy_bytes = LoadHost<uint64_t>(v);
          meta->has_out_tc_occupancy = true;
        }
        break;
      case kAttrLatency:
        if ((size_ok = vlen == 8)) {
          meta->latency_ns = LoadHost<uint64_t>(v);
          meta->has_latency = true;
        }
        break;
      case kAttrTimestamp:
        if ((size_ok = vlen == 8)) {
          meta->timestamp_ns = LoadHost<uint64_t>(v);
          meta->has_timestamp = true;
        }
        break;
      case kAttrProto:
        if ((size_ok = vlen == 2)) {
          meta->protocol = LoadHost<uint16_t>(v);
          meta->has_protocol = true;
        }
        break;
      case kAttrSampleProbability:
        meta->rate_is_probability = true;  // a flag: no payload
        break;
      default:
        ++stats->unknown_attr;  // a newer kernel: skip what we do not know
        break;
    }
    if (!size_ok) {
      ++stats->bad_attr_size;
      return MessageResult::kMalformed;
    }
    // The last attribute may lack its padding; nothing may follow it then.
    off += Align4(nla_len) < left ? Align4(nla_len) : left;
  }

  if (!has_group) {
    ++stats->missing_group;
    return MessageResult::kMalformed;
  }
  const uint32_t data_len = static_cast<uint32_t>(sample->header.size());
  meta->trunc_size = data_len;
  // The kernel never sends more DATA than ORIGSIZE; keep frame_length >= header regardless.
  // ORIGSIZE is skb->len, without the FCS; sFlow's frame_length counts it, and stripped says
  // the header bytes leave it out (as the AF_PACKET and NFLOG sources do).
  const uint32_t orig = has_origsize && origsize >= data_len ? origsize : data_len;
  sample->frame_length = orig <= UINT32_MAX - kFcsBytes ? orig + kFcsBytes : UINT32_MAX;
  sample->stripped = kFcsBytes;
  if (sample->sampling_rate == 0) sample->sampling_rate = 1;
  return MessageResult::kSample;
}

PsampleStreamParser::PsampleStreamParser(const ParserOptions& options) : options_(options) {
  if (options_.group_count > kMaxGroups) options_.group_count = kMaxGroups;
}

uint64_t PsampleStreamParser::group_drops(uint32_t group) const {
  for (size_t i = 0; i < options_.group_count; ++i) {
    if (options_.groups[i].group == group) return group_state_[i].drops;
  }
  return 0;
}

PsampleStreamParser::SourceSlot* PsampleStreamParser::FindSource(uint32_t ifindex,
                                                                 Direction direction) {
  const uint32_t key = (ifindex << 1) ^ static_cast<uint32_t>(direction);
  // Fibonacci hashing spreads consecutive ifindexes.
  size_t i = static_cast<size_t>((key * 2654435769u) >> 20) & (kSourceTableSize - 1);
  for (size_t probes = 0; probes < kSourceTableSize; ++probes) {
    SourceSlot& s = sources_[i];
    if (!s.used) {
      s.used = true;
      s.ifindex = ifindex;
      s.direction = direction;
      s.started = false;
      s.sequence = 0;
      return &s;
    }
    if (s.ifindex == ifindex && s.direction == direction) return &s;
    i = (i + 1) & (kSourceTableSize - 1);
  }
  return nullptr;
}

bool PsampleStreamParser::Finish(PacketSample* sample, const PsampleMeta& meta,
                                 base::MonoTime fallback_time) {
  size_t gi = 0;
  while (gi < options_.group_count && options_.groups[gi].group != meta.group) ++gi;
  if (gi == options_.group_count) {
    ++stats_.unknown_group;
    return false;
  }
  sample->direction = options_.groups[gi].direction;

  GroupState& g = group_state_[gi];
  if (meta.has_group_seq) {
    uint32_t gap = 0;
    if (g.seen) {
      const uint32_t d = meta.group_seq - g.last_seq - 1;  // modulo 2^32: wrap-around safe
      if (d < kMaxPlausibleGap) {
        gap = d;
      } else {
        ++stats_.sequence_resets;
      }
    }
    g.seen = true;
    g.last_seq = meta.group_seq;
    g.drops += gap;
    stats_.drops += gap;
    g.pending_gap = g.pending_gap + gap < g.pending_gap ? UINT32_MAX : g.pending_gap + gap;
  }

  switch (options_.sequence_mode) {
    case SequenceMode::kGroup:
      sample->has_source_sequence = meta.has_group_seq;
      sample->source_sequence = meta.group_seq;
      break;
    case SequenceMode::kNone:
      sample->has_source_sequence = false;
      break;
    case SequenceMode::kPerDataSource: {
      const uint32_t ifindex =
          sample->direction == Direction::kIngress ? sample->input_ifindex : sample->output_ifindex;
      SourceSlot* s = FindSource(ifindex, sample->direction);
      if (s == nullptr) {
        ++stats_.untracked_sources;
        sample->has_source_sequence = false;
        break;
      }
      // A data source's first sample is only a baseline for the sampler: charging a gap to it
      // would lose the drops, so they wait for a data source seen before.
      if (s->started) {
        s->sequence += 1 + g.pending_gap;  // modulo 2^32, as the sampler expects
        g.pending_gap = 0;
      } else {
        s->started = true;
      }
      sample->has_source_sequence = true;
      sample->source_sequence = s->sequence;
      break;
    }
  }

  if (meta.has_timestamp) {
    sample->timestamp = base::MonoTime::FromNs(
        static_cast<int64_t>(meta.timestamp_ns + static_cast<uint64_t>(options_.wall_to_mono_ns)));
  } else {
    sample->timestamp = fallback_time;
  }
  return true;
}

template <typename Emit>
size_t PsampleStreamParser::ParseBufferImpl(base::ByteView buf, base::MonoTime fallback_time,
                                            Emit&& emit) {
  size_t n = 0;
  size_t off = 0;
  const uint8_t* p = buf.data();
  while (off < buf.size()) {
    const size_t left = buf.size() - off;
    if (left < kNlmsgHdrLen) {
      ++stats_.short_buffer;
      break;
    }
    ++stats_.messages;
    const uint32_t len = LoadHost<uint32_t>(p + off);
    const uint16_t type = LoadHost<uint16_t>(p + off + 4);
    if (len < kNlmsgHdrLen || len > left) {
      ++stats_.bad_nlmsg_len;
      break;  // the next header's position is unknown
    }
    const base::ByteView msg = buf.Subview(off, len);
    if (type == kNlmsgDone) {
      ++stats_.netlink_done;
      break;
    }
    if (type == kNlmsgError) {
      int32_t err = 0;
      if (len >= kNlmsgHdrLen + 4) err = LoadHost<int32_t>(p + off + kNlmsgHdrLen);
      ++(err == 0 ? stats_.netlink_acks : stats_.netlink_errors);
    } else if (type == kNlmsgOverrun) {
      ++stats_.netlink_overruns;
    } else if (type != kNlmsgNoop) {
      PacketSample sample;
      PsampleMeta meta;
      if (ParseSampleMessage(msg, options_.family_id, &sample, &meta, &stats_) ==
              MessageResult::kSample &&
          Finish(&sample, meta, fallback_time)) {
        ++stats_.samples;
        ++n;
        emit(sample, meta);
      }
    }
    const size_t step = Align4(len);
    if (step >= left) break;
    off += step;
  }
  return n;
}

size_t PsampleStreamParser::ParseBuffer(base::ByteView buf, base::MonoTime fallback_time,
                                        PacketSampleSink& sink) {
  return ParseBufferImpl(buf, fallback_time,
                         [&sink](const PacketSample& s, const PsampleMeta&) { sink.OnSample(s); });
}

size_t PsampleStreamParser::ParseBuffer(base::ByteView buf, base::MonoTime fallback_time,
                                        PsampleSink& sink) {
  return ParseBufferImpl(buf, fallback_time, [&sink](const PacketSample& s, const PsampleMeta& m) {
    sink.OnPsample(s, m);
  });
}

}  // namespace xflowd::hal::psample
