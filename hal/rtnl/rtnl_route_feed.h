// RtnlRouteFeed: keeps a RouteTable equal to one kernel routing table (main, 254, unless told
// otherwise): it joins RTNLGRP_IPV4_ROUTE and RTNLGRP_IPV6_ROUTE first, then dumps both
// families (RTM_GETROUTE + NLM_F_DUMP on a second socket), so no change is missed between;
// ProcessEvents (call it when fd() is readable, on the thread that reads the table) applies
// RTM_NEWROUTE / RTM_DELROUTE. An event overrun (ENOBUFS) clears the table and dumps again,
// and so does an interface set down or deleted or an IPv4 address deleted (RTNLGRP_LINK,
// RTNLGRP_IPV4_IFADDR): the kernel then removes the IPv4 routes through it without a
// RTM_DELROUTE. One dump per ProcessEvents at most.
//
// Only unicast routes of the chosen table go in (local, broadcast, blackhole, unreachable,
// prohibit and cached routes are counted as ignored): a sampled packet that is forwarded
// matched a unicast route. Routes whose next hops are nexthop objects (RTA_NH_ID) go in with
// no next hop (counted).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "hal/base/status.h"
#include "hal/route_table.h"
#include "hal/rtnl/route_parser.h"

namespace xflowd::hal::rtnl {

constexpr uint32_t kMainRouteTable = 254;  // RT_TABLE_MAIN

struct RouteFeedStats {
  uint64_t dumps = 0;            // full dumps (start, and after each overrun)
  uint64_t overruns = 0;         // events the kernel dropped (ENOBUFS), each answered by a dump
  uint64_t link_resyncs = 0;     // dumps after an interface went down or an address went
  uint64_t events = 0;           // route events applied to the table
  uint64_t ignored = 0;          // other tables, other route types, cached routes, other families
  uint64_t unknown_deletes = 0;  // deletes of a route the table did not have
  uint64_t nexthop_objects = 0;  // routes whose next hops are nexthop objects (no next hop kept)
  uint64_t dump_errors = 0;      // dumps that failed (the table keeps what it had)
};

// Pure: puts one message into `table` if it belongs there. True if the table changed.
// RTM_NEWROUTE replaces the route with the same prefix, TOS and metric only with NLM_F_REPLACE;
// otherwise its next hops are added to it (IPv6 siblings, `ip route append`).
bool ApplyRouteMessage(const RouteMessage& m, uint32_t table_id, RouteTable& table,
                       RouteFeedStats* stats);

class RtnlRouteFeed {
 public:
  // Dumps the table before returning. The sockets live in the caller's network namespace;
  // no capability is needed. `table` must outlive the feed.
  // `rcvbuf_bytes`: the event socket's buffer (SO_RCVBUFFORCE with CAP_NET_ADMIN).
  static base::Result<std::unique_ptr<RtnlRouteFeed>> Create(uint32_t table_id, RouteTable& table,
                                                             int rcvbuf_bytes = 4 << 20);
  ~RtnlRouteFeed();
  RtnlRouteFeed(const RtnlRouteFeed&) = delete;
  RtnlRouteFeed& operator=(const RtnlRouteFeed&) = delete;

  int fd() const { return event_fd_; }
  // Non-blocking: applies every pending event; dumps again after an overrun.
  void ProcessEvents();
  // Clears the table and fills it from a dump of both families.
  base::Status Dump();

  uint32_t table_id() const { return table_id_; }
  const RouteFeedStats& stats() const { return stats_; }
  const RouteParseStats& parse_stats() const { return parse_stats_; }

 private:
  RtnlRouteFeed(uint32_t table_id, RouteTable& table, int event_fd, int request_fd)
      : table_id_(table_id),
        table_(table),
        event_fd_(event_fd),
        request_fd_(request_fd),
        buf_(kBufBytes) {}
  // One family's dump into `out`; *interrupted if the kernel marked it inconsistent.
  base::Status DumpFamily(uint8_t family, std::vector<RouteMessage>* out, bool* interrupted);

  static constexpr size_t kBufBytes = 64 * 1024;
  uint32_t table_id_;
  RouteTable& table_;
  int event_fd_;
  int request_fd_;
  uint32_t seq_ = 1;
  std::vector<uint8_t> buf_;
  RouteFeedStats stats_;
  RouteParseStats parse_stats_;
};

}  // namespace xflowd::hal::rtnl
