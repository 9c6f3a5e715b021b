#include "hal/rtnl/route_socket.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace xflowd::hal::rtnl {

using base::Result;
using base::Status;

Result<std::unique_ptr<RouteSocket>> RouteSocket::Create(bool subscribe_links, int rcvbuf_bytes,
                                                         int timeout_ms) {
  int flags = SOCK_RAW | SOCK_CLOEXEC | (subscribe_links ? SOCK_NONBLOCK : 0);
  int fd = socket(AF_NETLINK, flags, NETLINK_ROUTE);
  if (fd < 0) return base::ErrnoError("socket(NETLINK_ROUTE)", errno);
  std::unique_ptr<RouteSocket> s(new RouteSocket(fd));
  // SO_RCVBUFFORCE needs CAP_NET_ADMIN; SO_RCVBUF is the unprivileged fallback.
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf_bytes, sizeof(rcvbuf_bytes)) != 0) {
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf_bytes, sizeof(rcvbuf_bytes));
  }
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    return base::ErrnoError("bind(NETLINK_ROUTE)", errno);
  }
  if (subscribe_links) {
    int group = RTNLGRP_LINK;
    if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) != 0) {
      return base::ErrnoError("NETLINK_ADD_MEMBERSHIP RTNLGRP_LINK", errno);
    }
  } else {
    timeval tv{};
    tv.tv_sec = timeout_ms / 1000;
    tv.tv_usec = (timeout_ms % 1000) * 1000;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  return s;
}

RouteSocket::~RouteSocket() { close(fd_); }

Status RouteSocket::SendGetLink(uint32_t ifindex, bool dump, uint32_t seq) {
  struct {
    nlmsghdr nh;
    ifinfomsg ifi;
  } req{};
  req.nh.nlmsg_len = sizeof(req);
  req.nh.nlmsg_type = RTM_GETLINK;
  req.nh.nlmsg_flags = NLM_F_REQUEST | (dump ? NLM_F_DUMP : 0);
  req.nh.nlmsg_seq = seq;
  req.ifi.ifi_family = AF_UNSPEC;
  req.ifi.ifi_index = static_cast<int>(ifindex);
  sockaddr_nl to{};
  to.nl_family = AF_NETLINK;
  ssize_t n = sendto(fd_, &req, sizeof(req), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
  if (n != static_cast<ssize_t>(sizeof(req))) return base::ErrnoError("send RTM_GETLINK", errno);
  return Status::Ok();
}

Status RouteSocket::Collect(uint32_t seq, bool dump, const LinkCallback& on_link,
                            bool* interrupted) {
  for (;;) {
    ssize_t n = recv(fd_, buf_.data(), buf_.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return base::ErrnoError("recv RTM_GETLINK reply", errno);
    }
    bool matched = false;
    // Only messages answering our sequence number count; anything else (a late reply to an
    // earlier request that timed out) is skipped.
    size_t off = 0;
    BufferSummary sum;
    const size_t len = static_cast<size_t>(n);
    while (off + sizeof(nlmsghdr) <= len) {
      nlmsghdr h;
      std::memcpy(&h, buf_.data() + off, sizeof(h));
      if (h.nlmsg_len < sizeof(nlmsghdr) || h.nlmsg_len > len - off) break;
      if (h.nlmsg_seq == seq) {
        matched = true;
        BufferSummary one = ParseNetlinkBuffer(base::ByteView(buf_.data() + off, h.nlmsg_len),
                                               on_link, &parse_stats_);
        sum.done |= one.done;
        sum.dump_interrupted |= one.dump_interrupted;
        if (one.error_seen) {
          sum.error_seen = true;
          sum.error = one.error;
        }
      }
      off += NLMSG_ALIGN(h.nlmsg_len);
    }
    if (!matched) continue;
    if (sum.dump_interrupted) *interrupted = true;
    if (sum.error_seen && sum.error != 0) {
      if (sum.error == -ENODEV) return base::NotFoundError("no such link");
      return base::ErrnoError("RTM_GETLINK", -sum.error);
    }
    if (sum.error_seen || sum.done || !dump) return Status::Ok();
  }
}

Status RouteSocket::DumpLinks(const LinkCallback& on_link) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::vector<LinkMessage> links;
    uint32_t seq = seq_++;
    XFLOWD_RETURN_IF_ERROR(SendGetLink(0, true, seq));
    bool interrupted = false;
    XFLOWD_RETURN_IF_ERROR(Collect(
        seq, true, [&links](const LinkMessage& l) { links.push_back(l); }, &interrupted));
    if (interrupted) continue;
    for (const LinkMessage& l : links) on_link(l);
    return Status::Ok();
  }
  return base::UnavailableError("link dump interrupted 5 times in a row (links changing fast)");
}

Result<LinkMessage> RouteSocket::GetLink(uint32_t ifindex) {
  if (ifindex == 0) return base::InvalidArgumentError("ifindex 0");
  LinkMessage out;
  bool found = false;
  uint32_t seq = seq_++;
  XFLOWD_RETURN_IF_ERROR(SendGetLink(ifindex, false, seq));
  bool interrupted = false;
  XFLOWD_RETURN_IF_ERROR(Collect(
      seq, false,
      [&](const LinkMessage& l) {
        if (l.ifindex == ifindex && !l.is_delete) {
          out = l;
          found = true;
        }
      },
      &interrupted));
  if (!found) return base::NotFoundError("link " + std::to_string(ifindex) + " not found");
  return out;
}

size_t RouteSocket::ReadEvents(const LinkCallback& on_link, bool* overrun) {
  size_t links = 0;
  *overrun = false;
  for (;;) {
    ssize_t n = recv(fd_, buf_.data(), buf_.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) {
        *overrun = true;
        continue;  // the queue was emptied by the kernel; keep reading what follows
      }
      break;  // EAGAIN: nothing more
    }
    if (n == 0) break;
    ParseNetlinkBuffer(
        base::ByteView(buf_.data(), static_cast<size_t>(n)),
        [&](const LinkMessage& l) {
          ++links;
          on_link(l);
        },
        &parse_stats_);
  }
  return links;
}

}  // namespace xflowd::hal::rtnl
