#include "hal/dropmon/dropmon_parser.h"

#include "hal/netlink_wire.h"

namespace xflowd::hal::dropmon {
namespace {

using namespace dropmon_wire;  // NOLINT: the wire names are this parser's vocabulary
using netlink::Align4;
using netlink::kGenlHdrLen;
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

// A string attribute without its NUL terminator(s).
base::ByteView String(base::ByteView v) {
  size_t n = v.size();
  while (n > 0 && v[n - 1] == 0) --n;
  return v.Subview(0, n);
}

// IN_PORT's nest: the ifindex (the name is not needed). False if malformed.
bool ParseInPort(base::ByteView nest, uint32_t* ifindex, ParseStats* stats) {
  size_t off = 0;
  while (off < nest.size()) {
    const size_t left = nest.size() - off;
    if (left < kNlaHdrLen) {
      ++stats->truncated_attr;
      return false;
    }
    const uint16_t nla_len = LoadHost<uint16_t>(nest.data() + off);
    const uint16_t nla_type = LoadHost<uint16_t>(nest.data() + off + 2) & kNlaTypeMask;
    if (nla_len < kNlaHdrLen || nla_len > left) {
      ++stats->truncated_attr;
      return false;
    }
    if (nla_type == kPortAttrIfindex) {
      if (nla_len - kNlaHdrLen != 4) {
        ++stats->bad_attr_size;
        return false;
      }
      *ifindex = LoadHost<uint32_t>(nest.data() + off + kNlaHdrLen);
    }
    off += Align4(nla_len);
  }
  return true;
}

}  // namespace

MessageResult ParseAlertMessage(base::ByteView msg, uint16_t family_id, int64_t wall_to_mono_ns,
                                base::MonoTime fallback_time, DropEvent* event, ParseStats* stats) {
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
  if (p[kNlmsgHdrLen] != kCmdPacketAlert) {
    ++stats->other_command;
    return MessageResult::kNotEvent;
  }

  *event = DropEvent();
  event->timestamp = fallback_time;
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
    const base::ByteView value = msg.Subview(off + kNlaHdrLen, vlen);
    bool size_ok = true;
    switch (nla_type) {
      case kAttrOrigin:
        if ((size_ok = vlen == 2)) {
          event->origin =
              LoadHost<uint16_t>(v) == kOriginHw ? DropOrigin::kHardware : DropOrigin::kSoftware;
        }
        break;
      case kAttrPc:
        size_ok = vlen == 8;  // the symbol says the same, readably
        break;
      case kAttrSymbol:
        event->symbol = String(value);
        break;
      case kAttrReason:
        event->reason = String(value);
        break;
      case kAttrHwTrapName:
        event->trap_name = String(value);
        break;
      case kAttrHwTrapGroupName:
        event->trap_group = String(value);
        break;
      case kAttrInPort:
        if (!ParseInPort(value, &event->input_ifindex, stats)) return MessageResult::kMalformed;
        break;
      case kAttrTimestamp:
        if ((size_ok = vlen == 8)) {
          const uint64_t ns = LoadHost<uint64_t>(v);
          // 0: the skb had no timestamp; keep the receive time.
          if (ns != 0) {
            // Unsigned: wraps instead of overflowing on a nonsense timestamp.
            event->timestamp = base::MonoTime::FromNs(
                static_cast<int64_t>(ns + static_cast<uint64_t>(wall_to_mono_ns)));
          }
        }
        break;
      case kAttrOrigLen:
        if ((size_ok = vlen == 4)) event->original_length = LoadHost<uint32_t>(v);
        break;
      case kAttrProto:
        if ((size_ok = vlen == 2)) event->protocol = LoadHost<uint16_t>(v);
        break;
      case kAttrPayload:
        event->payload = value;
        break;
      case kAttrPad:
      case kAttrTruncLen:
      case kAttrQueueLen:
      case kAttrFlowActionCookie:
        break;
      default:
        ++stats->unknown_attr;
        break;
    }
    if (!size_ok) {
      ++stats->bad_attr_size;
      return MessageResult::kMalformed;
    }
    off += Align4(nla_len);
  }
  ++stats->events;
  return MessageResult::kEvent;
}

size_t ParseBuffer(base::ByteView buf, uint16_t family_id, int64_t wall_to_mono_ns,
                   base::MonoTime fallback_time, DropEventSink& sink, ParseStats* stats) {
  size_t n = 0;
  size_t off = 0;
  while (off < buf.size()) {
    const size_t left = buf.size() - off;
    if (left < kNlmsgHdrLen) {
      ++stats->short_buffer;
      break;
    }
    const uint8_t* p = buf.data() + off;
    const uint32_t len = LoadHost<uint32_t>(p);
    const uint16_t type = LoadHost<uint16_t>(p + 4);
    if (len < kNlmsgHdrLen || len > left) {
      ++stats->bad_nlmsg_len;
      break;
    }
    ++stats->messages;
    if (type == kNlmsgDone) break;
    if (type == kNlmsgNoop) {
      // nothing
    } else if (type == kNlmsgError) {
      int32_t error = -1;
      if (len >= kNlmsgHdrLen + 4) error = LoadHost<int32_t>(p + kNlmsgHdrLen);
      ++(error == 0 ? stats->netlink_acks : stats->netlink_errors);
    } else if (type == kNlmsgOverrun) {
      ++stats->netlink_overruns;
    } else {
      DropEvent event;
      if (ParseAlertMessage(buf.Subview(off, len), family_id, wall_to_mono_ns, fallback_time,
                            &event, stats) == MessageResult::kEvent) {
        sink.OnDrop(event);
        ++n;
      }
    }
    off += Align4(len);
  }
  return n;
}

}  // namespace xflowd::hal::dropmon
