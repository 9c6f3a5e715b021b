// IpAddress + port -> sockaddr for the transports' sockets.
#pragma once

#include <sys/socket.h>

#include <cstdint>

#include "hal/base/ip_address.h"

namespace xflowd::exporter {

// Fills `ss` with `addr`:`port` (port in host order) as sockaddr_in or sockaddr_in6; returns
// the sockaddr length to pass to bind/connect/sendto.
socklen_t ToSockaddr(const hal::base::IpAddress& addr, uint16_t port, sockaddr_storage* ss);

}  // namespace xflowd::exporter
