// Pure parser of rtnetlink route messages (RTM_NEWROUTE / RTM_DELROUTE) as the kernel sends
// them in a dump (RTM_GETROUTE + NLM_F_DUMP) or as RTNLGRP_IPV4_ROUTE / RTNLGRP_IPV6_ROUTE
// events. No sockets: the input is the bytes of one recv(), for the golden tests and the fuzzer.
//
// Byte order: netlink and attribute headers, struct rtmsg and the u32 attributes (RTA_TABLE,
// RTA_PRIORITY, RTA_OIF) are host order; addresses (RTA_DST, RTA_GATEWAY, RTA_VIA) are network
// order byte strings. Bad input never crashes: a truncated message ends the buffer, a wrongly
// sized attribute is skipped, and each case is counted in RouteParseStats.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "hal/base/byte_view.h"
#include "hal/base/ip_address.h"
#include "hal/route_table.h"
#include "hal/rtnl/rtnl_parser.h"

namespace xflowd::hal::rtnl {

struct RouteMessage {
  bool is_delete = false;    // RTM_DELROUTE
  uint16_t nlmsg_flags = 0;  // NLM_F_REPLACE / NLM_F_APPEND on events
  uint8_t family = 0;        // AF_INET / AF_INET6 (others are not parsed further)
  uint8_t dst_len = 0;
  uint8_t src_len = 0;  // source-specific routes (IPv6 subtrees): not used by the table
  uint8_t tos = 0;
  uint8_t protocol = 0;    // RTPROT_*
  uint8_t scope = 0;       // RT_SCOPE_*
  uint8_t type = 0;        // RTN_UNICAST, RTN_LOCAL, RTN_BLACKHOLE, ...
  uint32_t rtm_flags = 0;  // RTM_F_CLONED, ...
  uint32_t table = 0;      // RTA_TABLE if present, else rtm_table
  base::IpAddress dst;     // RTA_DST; kNone when absent (the default route)
  bool has_priority = false;
  uint32_t priority = 0;  // RTA_PRIORITY (the metric)
  bool has_nhid = false;  // RTA_NH_ID: next hops live in a nexthop object (not followed)
  // RTA_GATEWAY / RTA_VIA + RTA_OIF, or each rtnexthop of RTA_MULTIPATH, in order.
  std::vector<RouteTable::NextHop> hops;
};

struct RouteParseStats {
  uint64_t messages = 0;         // netlink messages seen
  uint64_t routes = 0;           // route messages handed to the callback
  uint64_t truncated = 0;        // a message, rtmsg or rtnexthop shorter than it says
  uint64_t bad_attr_length = 0;  // an attribute too short/long for its type, or overrunning
  uint64_t unknown_attrs = 0;    // attributes this parser does not use (skipped)
  uint64_t other_messages = 0;   // non-route messages, skipped
  uint64_t error_messages = 0;   // NLMSG_ERROR with a non-zero error
};

// One message body (struct rtmsg + attributes, without the nlmsghdr). False (counted) if the
// rtmsg is truncated.
bool ParseRouteBody(base::ByteView body, bool is_delete, RouteMessage* out, RouteParseStats* stats);

// Every netlink message of one recv() buffer; `on_route` sees each route message (the
// reference is valid during the call only).
BufferSummary ParseRouteBuffer(base::ByteView buf,
                               const std::function<void(const RouteMessage&)>& on_route,
                               RouteParseStats* stats);

// Link and address events after which the kernel may have removed IPv4 routes without a
// RTM_DELROUTE (an interface set down or deleted, an IPv4 address deleted: the kernel flushes
// the routes through it silently). Returns how many such messages `buf` holds.
size_t CountSilentRouteFlushes(base::ByteView buf);

// The table's form of a message: prefix (IPv4/IPv6 zero address when RTA_DST is absent),
// length, TOS, metric and next hops.
RouteTable::Route ToTableRoute(const RouteMessage& m);

}  // namespace xflowd::hal::rtnl
