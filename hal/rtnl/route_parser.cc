#include "hal/rtnl/route_parser.h"

#include <linux/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cerrno>

#include "hal/netlink_wire.h"

namespace xflowd::hal::rtnl {
namespace {

using netlink::Align4;
using netlink::kNlaHdrLen;
using netlink::kNlmsgHdrLen;
using netlink::LoadHost;

constexpr size_t kRtmsgLen = 12;     // sizeof(struct rtmsg)
constexpr size_t kRtnexthopLen = 8;  // sizeof(struct rtnexthop)
constexpr uint16_t kRtaNhId = 30;    // RTA_NH_ID (kernel 5.3), not in every header set
constexpr uint16_t kRtaVia = 18;     // RTA_VIA (kernel 4.1)

// An address of the message's family, or of the one RTA_VIA names.
bool ToAddress(uint8_t family, base::ByteView v, base::IpAddress* out) {
  if (family == AF_INET && v.size() == 4) {
    *out = base::IpAddress::V4(v.data());
    return true;
  }
  if (family == AF_INET6 && v.size() == 16) {
    *out = base::IpAddress::V6(v.data());
    return true;
  }
  return false;
}

// Calls fn(type, value) for each attribute of `attrs`; false if the framing broke (counted).
template <typename Fn>
void ForEachAttr(base::ByteView attrs, RouteParseStats* stats, Fn fn) {
  const uint8_t* p = attrs.data();
  size_t off = 0;
  while (off < attrs.size()) {
    const size_t left = attrs.size() - off;
    if (left < kNlaHdrLen) {
      ++stats->bad_attr_length;
      return;
    }
    const uint16_t nla_len = LoadHost<uint16_t>(p + off);
    const uint16_t nla_type = LoadHost<uint16_t>(p + off + 2) & NLA_TYPE_MASK;
    if (nla_len < kNlaHdrLen || nla_len > left) {
      ++stats->bad_attr_length;
      return;
    }
    fn(nla_type, base::ByteView(p + off + kNlaHdrLen, nla_len - kNlaHdrLen));
    off += Align4(nla_len);
  }
}

// RTA_GATEWAY or RTA_VIA into hop; counts a bad length.
void GatewayAttr(uint8_t family, uint16_t type, base::ByteView v, RouteTable::NextHop* hop,
                 RouteParseStats* stats) {
  if (type == RTA_GATEWAY) {
    if (!ToAddress(family, v, &hop->gateway)) ++stats->bad_attr_length;
    return;
  }
  // struct rtvia { __kernel_sa_family_t rtvia_family; __u8 rtvia_addr[]; }: IPv4 via IPv6.
  if (v.size() < 2 ||
      !ToAddress(static_cast<uint8_t>(LoadHost<uint16_t>(v.data())), v.Subview(2), &hop->gateway)) {
    ++stats->bad_attr_length;
  }
}

void ParseMultipath(uint8_t family, base::ByteView v, RouteMessage* out, RouteParseStats* stats) {
  size_t off = 0;
  while (off < v.size()) {
    const size_t left = v.size() - off;
    if (left < kRtnexthopLen) {
      ++stats->truncated;
      return;
    }
    // struct rtnexthop { u16 rtnh_len; u8 rtnh_flags; u8 rtnh_hops; s32 rtnh_ifindex; }
    const uint16_t len = LoadHost<uint16_t>(v.data() + off);
    if (len < kRtnexthopLen || len > left) {
      ++stats->truncated;
      return;
    }
    RouteTable::NextHop hop;
    hop.oif = static_cast<uint32_t>(LoadHost<int32_t>(v.data() + off + 4));
    ForEachAttr(v.Subview(off + kRtnexthopLen, len - kRtnexthopLen), stats,
                [&](uint16_t type, base::ByteView a) {
                  if (type == RTA_GATEWAY || type == kRtaVia) {
                    GatewayAttr(family, type, a, &hop, stats);
                  } else {
                    ++stats->unknown_attrs;
                  }
                });
    out->hops.push_back(hop);
    off += Align4(len);
  }
}

}  // namespace

bool ParseRouteBody(base::ByteView body, bool is_delete, RouteMessage* out,
                    RouteParseStats* stats) {
  *out = RouteMessage();
  out->is_delete = is_delete;
  if (body.size() < kRtmsgLen) {
    ++stats->truncated;
    return false;
  }
  const uint8_t* p = body.data();
  // struct rtmsg { u8 family, dst_len, src_len, tos, table, protocol, scope, type; u32 flags; }
  out->family = p[0];
  out->dst_len = p[1];
  out->src_len = p[2];
  out->tos = p[3];
  out->table = p[4];
  out->protocol = p[5];
  out->scope = p[6];
  out->type = p[7];
  out->rtm_flags = LoadHost<uint32_t>(p + 8);
  if (out->family != AF_INET && out->family != AF_INET6) return true;  // MPLS, ...: no attrs
  const size_t max_len = out->family == AF_INET ? 32 : 128;
  if (out->dst_len > max_len) {
    ++stats->bad_attr_length;
    out->dst_len = static_cast<uint8_t>(max_len);
  }
  RouteTable::NextHop single;
  bool has_single = false;
  ForEachAttr(body.Subview(kRtmsgLen), stats, [&](uint16_t type, base::ByteView v) {
    switch (type) {
      case RTA_DST:
        if (!ToAddress(out->family, v, &out->dst)) ++stats->bad_attr_length;
        break;
      case RTA_GATEWAY:
      case kRtaVia:
        GatewayAttr(out->family, type, v, &single, stats);
        has_single = true;
        break;
      case RTA_OIF:
        if (v.size() == 4) {
          single.oif = LoadHost<uint32_t>(v.data());
          has_single = true;
        } else {
          ++stats->bad_attr_length;
        }
        break;
      case RTA_PRIORITY:
        if (v.size() == 4) {
          out->has_priority = true;
          out->priority = LoadHost<uint32_t>(v.data());
        } else {
          ++stats->bad_attr_length;
        }
        break;
      case RTA_TABLE:
        if (v.size() == 4) {
          out->table = LoadHost<uint32_t>(v.data());
        } else {
          ++stats->bad_attr_length;
        }
        break;
      case RTA_MULTIPATH:
        ParseMultipath(out->family, v, out, stats);
        break;
      case kRtaNhId:
        out->has_nhid = true;
        break;
      default:
        ++stats->unknown_attrs;
        break;
    }
  });
  // A multipath route has no RTA_GATEWAY of its own; if both came, the list is the truth.
  if (out->hops.empty() && has_single) out->hops.push_back(single);
  return true;
}

BufferSummary ParseRouteBuffer(base::ByteView buf,
                               const std::function<void(const RouteMessage&)>& on_route,
                               RouteParseStats* stats) {
  BufferSummary sum;
  RouteMessage route;
  size_t off = 0;
  while (off < buf.size()) {
    const size_t left = buf.size() - off;
    if (left < kNlmsgHdrLen) {
      ++stats->truncated;
      break;
    }
    const uint8_t* h = buf.data() + off;
    const uint32_t len = LoadHost<uint32_t>(h);
    const uint16_t type = LoadHost<uint16_t>(h + 4);
    const uint16_t flags = LoadHost<uint16_t>(h + 6);
    const uint32_t seq = LoadHost<uint32_t>(h + 8);
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
    } else if (type == RTM_NEWROUTE || type == RTM_DELROUTE) {
      if (ParseRouteBody(body, type == RTM_DELROUTE, &route, stats)) {
        route.nlmsg_flags = flags;
        ++stats->routes;
        if (on_route) on_route(route);
      }
    } else {
      ++stats->other_messages;
    }
    off += Align4(len);
  }
  return sum;
}

size_t CountSilentRouteFlushes(base::ByteView buf) {
  size_t n = 0;
  size_t off = 0;
  while (off + kNlmsgHdrLen <= buf.size()) {
    const uint8_t* h = buf.data() + off;
    const uint32_t len = LoadHost<uint32_t>(h);
    const uint16_t type = LoadHost<uint16_t>(h + 4);
    if (len < kNlmsgHdrLen || len > buf.size() - off) break;
    const uint8_t* body = h + kNlmsgHdrLen;
    const size_t body_len = len - kNlmsgHdrLen;
    if (type == RTM_DELLINK) {
      ++n;
    } else if (type == RTM_NEWLINK && body_len >= 16) {
      // struct ifinfomsg { u8 family; u8 pad; u16 type; s32 index; u32 flags; u32 change; }
      if ((LoadHost<uint32_t>(body + 8) & IFF_UP) == 0) ++n;
    } else if (type == RTM_DELADDR && body_len >= 1 && body[0] == AF_INET) {
      ++n;  // struct ifaddrmsg starts with its family
    }
    off += Align4(len);
  }
  return n;
}

RouteTable::Route ToTableRoute(const RouteMessage& m) {
  RouteTable::Route r;
  if (m.dst.family() != base::IpAddress::Family::kNone) {
    r.prefix = m.dst;
  } else {
    const uint8_t zero[16] = {};
    r.prefix = m.family == AF_INET6 ? base::IpAddress::V6(zero) : base::IpAddress::V4(zero);
  }
  r.prefix_len = m.dst_len;
  r.tos = m.tos;
  r.metric = m.priority;
  r.hops = m.hops;
  return r;
}

}  // namespace xflowd::hal::rtnl
