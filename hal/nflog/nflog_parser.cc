#include "hal/nflog/nflog_parser.h"

#include <linux/if_arp.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>

#include <cerrno>
#include <cstring>

#include "hal/netlink_wire.h"

namespace xflowd::hal::nflog {
namespace {

using netlink::Align4;
using netlink::kNlaHdrLen;
using netlink::kNlmsgHdrLen;
using netlink::LoadHost;

constexpr size_t kNfgenmsgLen = 4;
constexpr uint16_t kPacketMsgType = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;

bool BeU32(base::ByteView v, uint32_t* out, ParseStats* stats) {
  if (v.size() != 4) {
    ++stats->bad_attr_length;
    return false;
  }
  return v.U32At(0, out);
}

bool BeU16(base::ByteView v, uint16_t* out, ParseStats* stats) {
  if (v.size() != 2) {
    ++stats->bad_attr_length;
    return false;
  }
  return v.U16At(0, out);
}

// Iterates nlattrs in `v`; calls f(type, value). Stops (counted) at a malformed header.
template <typename F>
void ForEachAttr(base::ByteView v, ParseStats* stats, F&& f) {
  size_t off = 0;
  while (off < v.size()) {
    size_t left = v.size() - off;
    if (left < kNlaHdrLen) {
      ++stats->bad_attr_length;
      return;
    }
    uint16_t len = LoadHost<uint16_t>(v.data() + off);
    uint16_t type = LoadHost<uint16_t>(v.data() + off + 2) & NLA_TYPE_MASK;
    if (len < kNlaHdrLen || len > left) {
      ++stats->bad_attr_length;
      return;
    }
    f(type, base::ByteView(v.data() + off + kNlaHdrLen, len - kNlaHdrLen));
    off += Align4(len);
  }
}

}  // namespace

bool ParsePacketBody(base::ByteView body, NflogPacket* out, ParseStats* stats) {
  *out = NflogPacket();
  if (body.size() < kNfgenmsgLen) {
    ++stats->truncated;
    return false;
  }
  out->family = body[0];
  body.U16At(2, &out->group);
  ForEachAttr(body.Subview(kNfgenmsgLen), stats, [&](uint16_t type, base::ByteView v) {
    switch (type) {
      case NFULA_PACKET_HDR:
        if (v.size() >= 3) {
          out->has_packet_hdr = true;
          v.U16At(0, &out->hw_protocol);
          out->hook = v[2];
        } else {
          ++stats->bad_attr_length;
        }
        break;
      case NFULA_MARK:
        BeU32(v, &out->mark, stats);
        break;
      case NFULA_TIMESTAMP:
        if (v.size() == 16) {
          base::ByteReader r(v);
          out->timestamp_sec = r.U64();
          out->timestamp_usec = r.U64();
          out->has_timestamp = true;
        } else {
          ++stats->bad_attr_length;
        }
        break;
      case NFULA_IFINDEX_INDEV:
        BeU32(v, &out->indev, stats);
        break;
      case NFULA_IFINDEX_OUTDEV:
        BeU32(v, &out->outdev, stats);
        break;
      case NFULA_IFINDEX_PHYSINDEV:
        BeU32(v, &out->physindev, stats);
        break;
      case NFULA_IFINDEX_PHYSOUTDEV:
        BeU32(v, &out->physoutdev, stats);
        break;
      case NFULA_HWADDR: {
        // struct nfulnl_msg_packet_hw { be16 hw_addrlen; u16 pad; u8 hw_addr[8]; }
        uint16_t alen = 0;
        if (v.size() >= 12 && v.U16At(0, &alen) && alen <= 8) {
          out->has_hwaddr = true;
          out->hwaddr = v.Subview(4, alen);
        } else {
          ++stats->bad_attr_length;
        }
        break;
      }
      case NFULA_PAYLOAD:
        out->payload = v;
        break;
      case NFULA_PREFIX: {
        size_t n = 0;
        while (n < v.size() && v[n] != 0) ++n;
        out->prefix = v.Subview(0, n);
        break;
      }
      case NFULA_SEQ:
        out->has_seq = BeU32(v, &out->seq, stats);
        break;
      case NFULA_SEQ_GLOBAL:
        out->has_seq_global = BeU32(v, &out->seq_global, stats);
        break;
      case NFULA_HWTYPE:
        BeU16(v, &out->hwtype, stats);
        break;
      case NFULA_HWLEN:
        BeU16(v, &out->hwlen, stats);
        break;
      case NFULA_HWHEADER:
        out->hwheader = v;
        break;
      case NFULA_VLAN:
        ForEachAttr(v, stats, [&](uint16_t vt, base::ByteView vv) {
          if (vt == NFULA_VLAN_PROTO) {
            if (BeU16(vv, &out->vlan_proto, stats)) out->has_vlan = true;
          } else if (vt == NFULA_VLAN_TCI) {
            if (BeU16(vv, &out->vlan_tci, stats)) out->has_vlan = true;
          } else {
            ++stats->unknown_attrs;
          }
        });
        break;
      default:
        ++stats->unknown_attrs;  // UID, GID, CT, CT_INFO, L2HDR, future ones
        break;
    }
  });
  // NFULA_HWLEN says how much of NFULA_HWHEADER is the header.
  if (out->hwlen != 0 && out->hwlen < out->hwheader.size()) {
    out->hwheader = out->hwheader.Subview(0, out->hwlen);
  }
  return true;
}

namespace internal {

bool NextMessage(base::ByteView buf, size_t* off, uint16_t* type, base::ByteView* body,
                 ParseStats* stats) {
  if (*off >= buf.size()) return false;
  size_t left = buf.size() - *off;
  if (left < kNlmsgHdrLen) {
    ++stats->truncated;
    return false;
  }
  const uint8_t* h = buf.data() + *off;
  uint32_t len = LoadHost<uint32_t>(h);
  if (len < kNlmsgHdrLen || len > left) {
    ++stats->truncated;
    return false;
  }
  ++stats->messages;
  *type = LoadHost<uint16_t>(h + 4);
  *body = base::ByteView(h + kNlmsgHdrLen, len - kNlmsgHdrLen);
  size_t next = *off + Align4(len);
  *off = next > buf.size() ? buf.size() : next;
  return true;
}

bool ParseOne(uint16_t type, base::ByteView body, NflogPacket* out, ParseStats* stats,
              int* last_error) {
  if (type == kPacketMsgType) {
    if (!ParsePacketBody(body, out, stats)) return false;
    ++stats->packets;
    return true;
  }
  ++stats->other_messages;
  if (type == NLMSG_ERROR && last_error != nullptr) {
    *last_error = body.size() >= 4 ? LoadHost<int32_t>(body.data()) : -EPROTO;
  }
  return false;
}

}  // namespace internal

size_t BuildEthernetFrame(const NflogPacket& p, uint8_t* out, size_t cap) {
  if (cap < 14) return 0;
  std::memset(out, 0, 12);
  if (p.hwtype == ARPHRD_ETHER && p.hwheader.size() >= 14) {
    std::memcpy(out, p.hwheader.data(), 12);
  } else if (p.has_hwaddr && p.hwaddr.size() == 6) {
    std::memcpy(out + 6, p.hwaddr.data(), 6);
  }
  uint16_t ethertype = p.hw_protocol;
  if (ethertype == 0 && !p.payload.empty()) {
    uint8_t version = p.payload[0] >> 4;
    if (version == 4) ethertype = 0x0800;
    if (version == 6) ethertype = 0x86DD;
  }
  out[12] = static_cast<uint8_t>(ethertype >> 8);
  out[13] = static_cast<uint8_t>(ethertype);
  size_t n = p.payload.size();
  if (n > cap - 14) n = cap - 14;
  if (n) std::memcpy(out + 14, p.payload.data(), n);
  return 14 + n;
}

uint32_t OriginalFrameLength(const NflogPacket& p) {
  uint64_t l3 = p.payload.size();
  if (!p.payload.empty()) {
    uint8_t version = p.payload[0] >> 4;
    uint16_t x = 0;
    if (version == 4 && p.payload.U16At(2, &x) && x > l3) l3 = x;
    if (version == 6 && p.payload.U16At(4, &x) && uint64_t{x} + 40 > l3) l3 = uint64_t{x} + 40;
  }
  return static_cast<uint32_t>(14 + l3);
}

}  // namespace xflowd::hal::nflog
