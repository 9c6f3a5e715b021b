// Opens the kernel's drop monitor (NET_DM) in packet alert mode through libnl-genl: resolves
// the "NET_DM" family and its "events" group, sends NET_DM_CMD_CONFIG (packet mode, truncation,
// queue length) and NET_DM_CMD_START (software and/or hardware drops), joins the group, and
// hands the socket to a hal::dropmon::DropmonSource. Destroying the source sends
// NET_DM_CMD_STOP (needs CAP_NET_ADMIN still; a failure is logged, not fatal).
#pragma once

#include <cstdint>
#include <memory>

#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "hal/base/status.h"
#include "hal/dropmon/dropmon_source.h"

namespace xflowd::hal::dropmon_genl {

struct DropMonitorOptions {
  bool software = true;           // kfree_skb drops (the kernel's own)
  bool hardware = true;           // devlink trap drops (switch ASICs); skipped if unsupported
  uint32_t truncate_bytes = 256;  // NET_DM_ATTR_TRUNC_LEN: payload bytes per notification
  uint32_t queue_length = 1000;   // NET_DM_ATTR_QUEUE_LEN: the kernel's per-CPU queue
  int rcvbuf_bytes = 4 << 20;
};

// UNAVAILABLE naming CONFIG_NET_DROP_MONITOR when the kernel has no NET_DM family; other
// errors say which step failed (another program such as dropwatch holding the monitor,
// missing CAP_NET_ADMIN).
base::Result<std::unique_ptr<dropmon::DropmonSource>> OpenDropMonitor(
    const DropMonitorOptions& options, const base::Clock& clock, base::Logger& logger);

}  // namespace xflowd::hal::dropmon_genl
