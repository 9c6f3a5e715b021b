// A plain NETLINK_ROUTE socket: link requests (dump or one ifindex) and RTNLGRP_LINK events.
// A thin syscall wrapper; everything it receives goes through rtnl_parser.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "hal/base/status.h"
#include "hal/rtnl/rtnl_parser.h"

namespace xflowd::hal::rtnl {

class RouteSocket {
 public:
  using LinkCallback = std::function<void(const LinkMessage&)>;

  // subscribe_links: join RTNLGRP_LINK (events arrive on fd(); the socket is non-blocking and
  // Request* then must not be used on it). Otherwise a blocking request socket whose replies
  // time out after `timeout_ms`. The socket lives in the caller's network namespace.
  static base::Result<std::unique_ptr<RouteSocket>> Create(bool subscribe_links,
                                                           int rcvbuf_bytes = 1 << 20,
                                                           int timeout_ms = 2000);
  ~RouteSocket();
  RouteSocket(const RouteSocket&) = delete;
  RouteSocket& operator=(const RouteSocket&) = delete;

  int fd() const { return fd_; }
  const ParseStats& parse_stats() const { return parse_stats_; }

  // RTM_GETLINK with NLM_F_DUMP; calls `on_link` for every link. A dump the kernel marks as
  // interrupted (NLM_F_DUMP_INTR) is retried a few times.
  base::Status DumpLinks(const LinkCallback& on_link);
  // RTM_GETLINK for one ifindex. NOT_FOUND if it does not exist.
  base::Result<LinkMessage> GetLink(uint32_t ifindex);

  // Non-blocking read of pending event messages. Returns the number of link messages handed
  // to `on_link`; sets *overrun when the kernel dropped events (ENOBUFS): resynchronize then.
  size_t ReadEvents(const LinkCallback& on_link, bool* overrun);

 private:
  explicit RouteSocket(int fd) : fd_(fd), buf_(kBufBytes) {}
  base::Status SendGetLink(uint32_t ifindex, bool dump, uint32_t seq);
  // Receives replies to `seq` until DONE (dump) or the reply/ack (single).
  base::Status Collect(uint32_t seq, bool dump, const LinkCallback& on_link, bool* interrupted);

  static constexpr size_t kBufBytes = 64 * 1024;
  int fd_;
  uint32_t seq_ = 1;
  std::vector<uint8_t> buf_;
  ParseStats parse_stats_;
};

}  // namespace xflowd::hal::rtnl
