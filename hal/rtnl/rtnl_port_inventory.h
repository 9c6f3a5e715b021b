// PortInventory and CounterSource over rtnetlink (+ ethtool for speed/duplex).
//
// Threading: not thread-safe; everything runs on the event loop thread.
// Network namespace: sockets are opened in the namespace of the thread that calls Create().
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "hal/counter_source.h"
#include "hal/port_inventory.h"
#include "hal/rtnl/route_socket.h"

namespace xflowd::hal::rtnl {

struct RtnlInventoryOptions {
  bool read_ethtool = true;  // speed/duplex through SIOCETHTOOL on every add/change
  int event_rcvbuf_bytes = 1 << 20;
};

// Link state beyond PortInfo that the agent may want (bridge/bond master, MTU).
struct LinkDetails {
  PortInfo info;
  uint32_t mtu = 0;
  uint32_t master_ifindex = 0;  // 0 = none
  uint8_t operstate = 0;        // IF_OPER_*
};

struct RtnlInventoryStats {
  uint64_t events = 0;                           // link messages received on the event socket
  uint64_t added = 0, removed = 0, changed = 0;  // listener calls
  uint64_t overruns = 0;        // ENOBUFS on the event socket (events lost -> resync)
  uint64_t resyncs = 0;         // full re-dumps
  uint64_t ethtool_errors = 0;  // speed/duplex reads that failed other than "not supported"
};

class RtnlPortInventory final : public PortInventory {
 public:
  // Subscribes to RTNLGRP_LINK first, then dumps the links, so no change is missed between.
  static base::Result<std::unique_ptr<RtnlPortInventory>> Create(
      const RtnlInventoryOptions& options = {});
  ~RtnlPortInventory() override;

  // Ports sorted by ifindex (from the cache; no syscall).
  base::Result<std::vector<PortInfo>> ListPorts() override;
  void SetListener(Listener listener) override { listener_ = std::move(listener); }

  // The event socket, for epoll (readable when link events are waiting).
  int fd() const { return events_->fd(); }
  // Reads waiting events without blocking, updates the cache and calls the listener once per
  // real change (kAdded, kRemoved, kChanged for rename, admin/oper up/down, MAC, alias, speed).
  // After an event overrun it re-dumps and reports the differences. Returns listener calls.
  size_t ProcessEvents();
  // Re-dumps all links and reports differences to the listener.
  base::Status Resync();

  // nullptr if unknown. Valid until the next ProcessEvents/Resync.
  const LinkDetails* Find(uint32_t ifindex) const;
  const RtnlInventoryStats& stats() const { return stats_; }
  ParseStats parse_stats() const;

 private:
  RtnlPortInventory(const RtnlInventoryOptions& options, std::unique_ptr<RouteSocket> events,
                    std::unique_ptr<RouteSocket> requests, int ioctl_fd)
      : options_(options),
        events_(std::move(events)),
        requests_(std::move(requests)),
        ioctl_fd_(ioctl_fd) {}
  // Applies one link message; returns the event to report, if any.
  size_t Apply(const LinkMessage& link, bool notify);
  void Notify(PortEvent event, const PortInfo& info);

  RtnlInventoryOptions options_;
  std::unique_ptr<RouteSocket> events_;
  std::unique_ptr<RouteSocket> requests_;
  int ioctl_fd_;
  std::map<uint32_t, LinkDetails> links_;
  Listener listener_;
  RtnlInventoryStats stats_;
};

// Counters on demand: one RTM_GETLINK for the ifindex per ReadCounters() (the reply carries
// IFLA_STATS64), so a poller reading N ports costs N small round trips and never a full dump.
class RtnlCounterSource final : public CounterSource {
 public:
  static base::Result<std::unique_ptr<RtnlCounterSource>> Create(int timeout_ms = 2000);

  base::Result<PortCounters> ReadCounters(uint32_t ifindex) override;
  // The raw IFLA_STATS64 (e.g. rx_packets for an AF_PACKET sample pool).
  base::Result<LinkStats64> ReadStats64(uint32_t ifindex);
  const ParseStats& parse_stats() const { return socket_->parse_stats(); }

 private:
  explicit RtnlCounterSource(std::unique_ptr<RouteSocket> s) : socket_(std::move(s)) {}
  std::unique_ptr<RouteSocket> socket_;
};

}  // namespace xflowd::hal::rtnl
