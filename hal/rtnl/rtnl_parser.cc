#include "hal/rtnl/rtnl_parser.h"

#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cerrno>
#include <cstring>

#include "hal/netlink_wire.h"

namespace xflowd::hal::rtnl {
namespace {

using netlink::Align4;
using netlink::kNlaHdrLen;
using netlink::kNlmsgHdrLen;
using netlink::LoadHost;

constexpr size_t kIfinfomsgLen = 16;  // sizeof(struct ifinfomsg)
constexpr size_t kStats64MinLen = 23 * 8;

// A NUL-terminated (or not) string attribute, without its terminator.
std::string AttrString(base::ByteView v) {
  size_t n = 0;
  while (n < v.size() && v[n] != 0) ++n;
  return std::string(reinterpret_cast<const char*>(v.data()), n);
}

void ParseStats64(base::ByteView v, LinkStats64* s) {
  uint64_t f[24] = {};
  size_t n = v.size() / 8;
  if (n > 24) n = 24;
  for (size_t i = 0; i < n; ++i) f[i] = LoadHost<uint64_t>(v.data() + 8 * i);
  s->rx_packets = f[0];
  s->tx_packets = f[1];
  s->rx_bytes = f[2];
  s->tx_bytes = f[3];
  s->rx_errors = f[4];
  s->tx_errors = f[5];
  s->rx_dropped = f[6];
  s->tx_dropped = f[7];
  s->multicast = f[8];
  s->collisions = f[9];
  s->rx_length_errors = f[10];
  s->rx_over_errors = f[11];
  s->rx_crc_errors = f[12];
  s->rx_frame_errors = f[13];
  s->rx_fifo_errors = f[14];
  s->rx_missed_errors = f[15];
  s->tx_aborted_errors = f[16];
  s->tx_carrier_errors = f[17];
  s->tx_fifo_errors = f[18];
  s->tx_heartbeat_errors = f[19];
  s->tx_window_errors = f[20];
  s->rx_compressed = f[21];
  s->tx_compressed = f[22];
  s->has_rx_nohandler = n >= 24;
  s->rx_nohandler = f[23];
}

uint32_t Low32(uint64_t x) { return static_cast<uint32_t>(x); }

// Calls fn(type, value) for each well-framed attribute of a nested attribute's payload; a
// badly framed one ends the walk (and counts).
template <typename Fn>
void ForEachNested(base::ByteView v, ParseStats* stats, Fn fn) {
  size_t off = 0;
  while (v.size() - off >= kNlaHdrLen) {
    const uint16_t len = LoadHost<uint16_t>(v.data() + off);
    const uint16_t type = LoadHost<uint16_t>(v.data() + off + 2) & NLA_TYPE_MASK;
    if (len < kNlaHdrLen || len > v.size() - off) {
      ++stats->bad_attr_length;
      return;
    }
    fn(type, base::ByteView(v.data() + off + kNlaHdrLen, len - kNlaHdrLen));
    off += Align4(len);
    if (off > v.size()) return;
  }
}

// IFLA_LINKINFO { IFLA_INFO_KIND "vlan", IFLA_INFO_DATA { IFLA_VLAN_ID u16, ... } }.
void ParseLinkInfo(base::ByteView v, LinkMessage* out, ParseStats* stats) {
  base::ByteView data;
  bool has_data = false;
  ForEachNested(v, stats, [&](uint16_t type, base::ByteView a) {
    if (type == IFLA_INFO_KIND) {
      out->has_kind = true;
      out->kind = AttrString(a);
    } else if (type == IFLA_INFO_DATA) {
      data = a;
      has_data = true;
    }
  });
  if (!has_data || out->kind != "vlan") return;
  ForEachNested(data, stats, [&](uint16_t type, base::ByteView a) {
    if (type != IFLA_VLAN_ID) return;
    if (a.size() != 2) {
      ++stats->bad_attr_length;
      return;
    }
    out->has_vlan_id = true;
    out->vlan_id = LoadHost<uint16_t>(a.data());
  });
}

}  // namespace

bool LinkMessage::admin_up() const { return (flags & IFF_UP) != 0; }

bool LinkMessage::oper_up() const {
  if (has_operstate) {
    if (operstate == IF_OPER_UP) return true;
    if (operstate != IF_OPER_UNKNOWN) return false;
  }
  return (flags & IFF_RUNNING) != 0;
}

bool ParseLinkBody(base::ByteView body, bool is_delete, LinkMessage* out, ParseStats* stats) {
  *out = LinkMessage();
  out->is_delete = is_delete;
  if (body.size() < kIfinfomsgLen) {
    ++stats->truncated;
    return false;
  }
  const uint8_t* p = body.data();
  // struct ifinfomsg { u8 family; u8 pad; u16 type; s32 index; u32 flags; u32 change; }
  out->arphrd = LoadHost<uint16_t>(p + 2);
  out->ifindex = static_cast<uint32_t>(LoadHost<int32_t>(p + 4));
  out->flags = LoadHost<uint32_t>(p + 8);

  size_t off = kIfinfomsgLen;
  while (off < body.size()) {
    size_t left = body.size() - off;
    if (left < kNlaHdrLen) {
      ++stats->bad_attr_length;
      break;
    }
    uint16_t nla_len = LoadHost<uint16_t>(p + off);
    uint16_t nla_type = LoadHost<uint16_t>(p + off + 2) & NLA_TYPE_MASK;
    if (nla_len < kNlaHdrLen || nla_len > left) {
      ++stats->bad_attr_length;
      break;  // the rest of the message cannot be framed
    }
    base::ByteView v(p + off + kNlaHdrLen, nla_len - kNlaHdrLen);
    switch (nla_type) {
      case IFLA_IFNAME:
        out->has_name = true;
        out->name = AttrString(v);
        break;
      case IFLA_IFALIAS:
        out->has_alias = true;
        out->alias = AttrString(v);
        break;
      case IFLA_ADDRESS:
        if (v.size() == 6) {
          out->has_mac = true;
          std::memcpy(out->mac, v.data(), 6);
        }
        // Other lengths are legitimate (tunnels: 4 or 16 bytes, none for loopback-like).
        break;
      case IFLA_MTU:
        if (v.size() == 4) {
          out->has_mtu = true;
          out->mtu = LoadHost<uint32_t>(v.data());
        } else {
          ++stats->bad_attr_length;
        }
        break;
      case IFLA_OPERSTATE:
        if (v.size() == 1) {
          out->has_operstate = true;
          out->operstate = v[0];
        } else {
          ++stats->bad_attr_length;
        }
        break;
      case IFLA_MASTER:
        if (v.size() == 4) {
          out->has_master = true;
          out->master_ifindex = LoadHost<uint32_t>(v.data());
        } else {
          ++stats->bad_attr_length;
        }
        break;
      case IFLA_STATS64:
        if (v.size() >= kStats64MinLen && v.size() % 8 == 0) {
          out->has_stats64 = true;
          ParseStats64(v, &out->stats);
        } else {
          ++stats->bad_attr_length;
        }
        break;
      case IFLA_LINKINFO:
        ParseLinkInfo(v, out, stats);
        break;
      default:
        ++stats->unknown_attrs;
        break;
    }
    off += Align4(nla_len);
  }
  return true;
}

BufferSummary ParseNetlinkBuffer(base::ByteView buf,
                                 const std::function<void(const LinkMessage&)>& on_link,
                                 ParseStats* stats) {
  BufferSummary sum;
  LinkMessage link;
  size_t off = 0;
  while (off < buf.size()) {
    size_t left = buf.size() - off;
    if (left < kNlmsgHdrLen) {
      ++stats->truncated;
      break;
    }
    const uint8_t* h = buf.data() + off;
    uint32_t len = LoadHost<uint32_t>(h);
    uint16_t type = LoadHost<uint16_t>(h + 4);
    uint16_t flags = LoadHost<uint16_t>(h + 6);
    uint32_t seq = LoadHost<uint32_t>(h + 8);
    if (len < kNlmsgHdrLen || len > left) {
      ++stats->truncated;
      break;
    }
    ++stats->messages;
    if (flags & NLM_F_DUMP_INTR) sum.dump_interrupted = true;
    base::ByteView body(h + kNlmsgHdrLen, len - kNlmsgHdrLen);
    if (type == NLMSG_DONE) {
      sum.done = true;
    } else if (type == NLMSG_ERROR) {
      sum.error_seen = true;
      sum.error_seq = seq;
      if (body.size() >= 4) {
        sum.error = LoadHost<int32_t>(body.data());
        if (sum.error != 0) ++stats->error_messages;
      } else {
        ++stats->truncated;
        sum.error = -EPROTO;
      }
    } else if (type == RTM_NEWLINK || type == RTM_DELLINK) {
      if (ParseLinkBody(body, type == RTM_DELLINK, &link, stats)) {
        ++stats->links;
        if (on_link) on_link(link);
      }
    } else {
      ++stats->other_messages;
    }
    off += Align4(len);
  }
  return sum;
}

PortCounters ToPortCounters(const LinkMessage& link) {
  PortCounters c;
  if (!link.has_stats64) return c;
  const LinkStats64& s = link.stats;
  c.in_octets = s.rx_bytes;
  c.in_multicast_pkts = s.multicast;
  c.in_ucast_pkts = s.rx_packets >= s.multicast ? s.rx_packets - s.multicast : 0;
  c.in_discards = s.rx_dropped;
  c.in_errors = s.rx_errors;
  if (s.has_rx_nohandler) c.in_unknown_protos = s.rx_nohandler;
  c.out_octets = s.tx_bytes;
  c.out_ucast_pkts = s.tx_packets;
  c.out_discards = s.tx_dropped;
  c.out_errors = s.tx_errors;
  if (link.arphrd == ARPHRD_ETHER) {
    c.has_ethernet = true;
    c.dot3_alignment_errors = Low32(s.rx_frame_errors);
    c.dot3_fcs_errors = Low32(s.rx_crc_errors);
    c.dot3_late_collisions = Low32(s.tx_window_errors);
    c.dot3_excessive_collisions = Low32(s.tx_aborted_errors);
    c.dot3_carrier_sense_errors = Low32(s.tx_carrier_errors);
    c.dot3_sqe_test_errors = Low32(s.tx_heartbeat_errors);
  }
  return c;
}

void ApplyToPortInfo(const LinkMessage& link, PortInfo* info) {
  info->ifindex = link.ifindex;
  if (link.has_name) info->name = link.name;
  if (link.has_alias) info->alias = link.alias;
  if (link.has_mac) std::memcpy(info->mac, link.mac, 6);
  info->admin_up = link.admin_up();
  info->oper_up = link.oper_up();
  info->promiscuous = (link.flags & IFF_PROMISC) != 0;
  if (link.has_kind) info->vlan_id = link.kind == "vlan" && link.has_vlan_id ? link.vlan_id : 0;
  switch (link.arphrd) {
    case ARPHRD_ETHER:
      info->if_type = 6;
      break;
    case ARPHRD_LOOPBACK:
      info->if_type = 24;
      break;
    default:
      info->if_type = 1;
      break;
  }
}

}  // namespace xflowd::hal::rtnl
