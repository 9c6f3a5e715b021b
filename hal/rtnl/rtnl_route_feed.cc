#include "hal/rtnl/rtnl_route_feed.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace xflowd::hal::rtnl {

using base::Result;
using base::Status;

bool ApplyRouteMessage(const RouteMessage& m, uint32_t table_id, RouteTable& table,
                       RouteFeedStats* stats) {
  if ((m.family != AF_INET && m.family != AF_INET6) || m.table != table_id ||
      m.type != RTN_UNICAST || (m.rtm_flags & RTM_F_CLONED) != 0) {
    ++stats->ignored;
    return false;
  }
  if (m.has_nhid && m.hops.empty()) ++stats->nexthop_objects;
  const RouteTable::Route r = ToTableRoute(m);
  if (m.is_delete) {
    if (table.Remove(r)) return true;
    ++stats->unknown_deletes;
    return false;
  }
  // Without NLM_F_REPLACE a route with the same prefix, TOS and metric is another next hop:
  // IPv6 keeps such routes side by side (and sends multipath next hops one by one), IPv4 only
  // with NLM_F_APPEND (`ip route append`, where the first stays in use).
  table.Add(r, (m.nlmsg_flags & NLM_F_REPLACE) == 0);
  return true;
}

namespace {

Result<int> OpenSocket(bool events, int rcvbuf) {
  const int fd =
      socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | (events ? SOCK_NONBLOCK : 0), NETLINK_ROUTE);
  if (fd < 0) return base::ErrnoError("socket(NETLINK_ROUTE)", errno);
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) != 0) {
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  }
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    const int e = errno;
    close(fd);
    return base::ErrnoError("bind(NETLINK_ROUTE)", e);
  }
  if (events) {
    for (int group : {RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR}) {
      if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) != 0) {
        const int e = errno;
        close(fd);
        return base::ErrnoError("NETLINK_ADD_MEMBERSHIP route group", e);
      }
    }
  } else {
    timeval tv{};
    tv.tv_sec = 5;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  return fd;
}

}  // namespace

Result<std::unique_ptr<RtnlRouteFeed>> RtnlRouteFeed::Create(uint32_t table_id, RouteTable& table,
                                                             int rcvbuf_bytes) {
  auto ev = OpenSocket(true, rcvbuf_bytes);
  if (!ev.ok()) return ev.status();
  auto req = OpenSocket(false, 1 << 20);
  if (!req.ok()) {
    close(*ev);
    return req.status();
  }
  std::unique_ptr<RtnlRouteFeed> f(new RtnlRouteFeed(table_id, table, *ev, *req));
  XFLOWD_RETURN_IF_ERROR(f->Dump());
  return f;
}

RtnlRouteFeed::~RtnlRouteFeed() {
  close(event_fd_);
  close(request_fd_);
}

Status RtnlRouteFeed::DumpFamily(uint8_t family, std::vector<RouteMessage>* out,
                                 bool* interrupted) {
  struct {
    nlmsghdr nh;
    rtmsg rt;
  } req{};
  const uint32_t seq = seq_++;
  req.nh.nlmsg_len = sizeof(req);
  req.nh.nlmsg_type = RTM_GETROUTE;
  req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.nh.nlmsg_seq = seq;
  req.rt.rtm_family = family;
  sockaddr_nl to{};
  to.nl_family = AF_NETLINK;
  if (sendto(request_fd_, &req, sizeof(req), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)) !=
      static_cast<ssize_t>(sizeof(req))) {
    return base::ErrnoError("send RTM_GETROUTE", errno);
  }
  for (;;) {
    const ssize_t n = recv(request_fd_, buf_.data(), buf_.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return base::ErrnoError("recv RTM_GETROUTE dump", errno);
    }
    // Messages of another sequence (a late answer to an earlier dump) are skipped.
    size_t off = 0;
    BufferSummary sum;
    const size_t len = static_cast<size_t>(n);
    while (off + sizeof(nlmsghdr) <= len) {
      nlmsghdr h;
      std::memcpy(&h, buf_.data() + off, sizeof(h));
      if (h.nlmsg_len < sizeof(nlmsghdr) || h.nlmsg_len > len - off) break;
      if (h.nlmsg_seq == seq) {
        BufferSummary one = ParseRouteBuffer(
            base::ByteView(buf_.data() + off, h.nlmsg_len),
            [out](const RouteMessage& m) { out->push_back(m); }, &parse_stats_);
        sum.done |= one.done;
        sum.dump_interrupted |= one.dump_interrupted;
        if (one.error_seen) {
          sum.error_seen = true;
          sum.error = one.error;
        }
      }
      off += NLMSG_ALIGN(h.nlmsg_len);
    }
    if (sum.dump_interrupted) *interrupted = true;
    if (sum.error_seen && sum.error != 0) return base::ErrnoError("RTM_GETROUTE", -sum.error);
    if (sum.done || sum.error_seen) return Status::Ok();
  }
}

Status RtnlRouteFeed::Dump() {
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::vector<RouteMessage> all;
    bool interrupted = false;
    Status st = DumpFamily(AF_INET, &all, &interrupted);
    if (st.ok()) st = DumpFamily(AF_INET6, &all, &interrupted);
    if (!st.ok()) {
      ++stats_.dump_errors;
      return st.WithContext("dumping the routing table");
    }
    if (interrupted) continue;
    table_.Clear();
    for (const RouteMessage& m : all) ApplyRouteMessage(m, table_id_, table_, &stats_);
    ++stats_.dumps;
    return Status::Ok();
  }
  ++stats_.dump_errors;
  return base::UnavailableError("route dump interrupted 5 times in a row (routes changing fast)");
}

void RtnlRouteFeed::ProcessEvents() {
  bool overrun = false;
  bool flushed = false;
  for (;;) {
    const ssize_t n = recv(event_fd_, buf_.data(), buf_.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) {
        overrun = true;
        continue;
      }
      break;  // EAGAIN
    }
    if (n == 0) break;
    const base::ByteView buf(buf_.data(), static_cast<size_t>(n));
    if (CountSilentRouteFlushes(buf) > 0) flushed = true;
    ParseRouteBuffer(
        base::ByteView(buf_.data(), static_cast<size_t>(n)),
        [this](const RouteMessage& m) {
          if (ApplyRouteMessage(m, table_id_, table_, &stats_)) ++stats_.events;
        },
        &parse_stats_);
  }
  if (overrun) ++stats_.overruns;
  if (!overrun && flushed) ++stats_.link_resyncs;
  // A failure is counted in dump_errors; the next such event tries again.
  if (overrun || flushed) (void)Dump();
}

}  // namespace xflowd::hal::rtnl
