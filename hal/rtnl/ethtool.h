// Link speed and duplex through the SIOCETHTOOL ioctl: ETHTOOL_GLINKSETTINGS (kernel 4.6+),
// falling back to the legacy ETHTOOL_GSET. veth reports 10000 Mb/s full duplex.
#pragma once

#include <cstdint>
#include <string>

#include "hal/base/status.h"

namespace xflowd::hal::rtnl {

struct LinkSpeed {
  uint64_t speed_bps = 0;  // 0 = unknown (SPEED_UNKNOWN, link down, or no ethtool support)
  // sFlow ifDirection: 0 unknown, 1 full-duplex, 2 half-duplex.
  uint32_t duplex = 0;
};

// `sock_fd` is any socket in the interface's network namespace (the ioctl resolves `ifname`
// there). UNIMPLEMENTED if the driver supports neither command (EOPNOTSUPP).
base::Result<LinkSpeed> ReadLinkSpeed(int sock_fd, const std::string& ifname);

}  // namespace xflowd::hal::rtnl
