#include "exporter/udp_transport.h"

#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "exporter/socket_address.h"

namespace xflowd::exporter {

using hal::base::Endpoint;
using hal::base::ErrnoError;
using hal::base::InvalidArgumentError;
using hal::base::IpAddress;
using hal::base::Result;
using hal::base::Status;

namespace {

// Closes the fd unless released (keeps Create's error paths short).
class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard() {
    if (fd_ >= 0) close(fd_);
  }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

}  // namespace

Result<std::unique_ptr<UdpTransport>> UdpTransport::Create(const Endpoint& collector,
                                                           const UdpTransportOptions& options) {
  const std::string what = "collector " + collector.ToString();
  if (!collector.address.is_v4() && !collector.address.is_v6()) {
    return InvalidArgumentError(what + ": no address");
  }
  if (collector.port == 0) return InvalidArgumentError(what + ": port 0 is not a valid port");
  if (options.source_address && options.source_address->family() != collector.address.family()) {
    return InvalidArgumentError(what + ": source address " + options.source_address->ToString() +
                                " is not of the collector's address family");
  }
  if (options.dscp && *options.dscp > 63) {
    return InvalidArgumentError(what + ": DSCP " + std::to_string(*options.dscp) +
                                " is out of range 0..63");
  }
  const bool v6 = collector.address.is_v6();
  int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoError(what + ": socket", errno);
  FdGuard guard(fd);

  if (!options.bind_device.empty()) {
    if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, options.bind_device.c_str(),
                   static_cast<socklen_t>(options.bind_device.size())) != 0) {
      int err = errno;
      std::string hint = err == EPERM    ? " (binding to a device needs CAP_NET_RAW)"
                         : err == ENODEV ? " (no such device)"
                                         : "";
      return ErrnoError(what + ": bind to device '" + options.bind_device + "'" + hint, err);
    }
  }
  if (options.dscp) {
    int tos = *options.dscp << 2;
    int rc = v6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos))
                : setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
    if (rc != 0) return ErrnoError(what + ": set DSCP", errno);
  }
  if (options.source_address) {
    sockaddr_storage src;
    socklen_t len = ToSockaddr(*options.source_address, 0, &src);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&src), len) != 0) {
      int err = errno;
      std::string hint = err == EADDRNOTAVAIL ? " (not an address of this host)" : "";
      return ErrnoError(what + ": bind to source " + options.source_address->ToString() + hint,
                        err);
    }
  }
  return std::unique_ptr<UdpTransport>(new UdpTransport(guard.release(), collector, options));
}

UdpTransport::UdpTransport(int fd, const Endpoint& collector, const UdpTransportOptions& options)
    : fd_(fd), collector_(collector), options_(options) {
  addr_len_ = ToSockaddr(collector.address, collector.port, &addr_);
}

UdpTransport::~UdpTransport() {
  if (fd_ >= 0) close(fd_);
}

bool UdpTransport::Send(hal::base::ByteView datagram) {
  ssize_t n;
  do {
    n = sendto(fd_, datagram.data(), datagram.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
               reinterpret_cast<const sockaddr*>(&addr_), addr_len_);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    CountError(errno);
    return false;
  }
  ++stats_.datagrams_sent;
  stats_.bytes_sent += static_cast<uint64_t>(n);
  return true;
}

void UdpTransport::CountError(int err) {
  ++stats_.send_errors;
  errors_.last_errno = err;
  switch (err) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case ENOBUFS:
      ++errors_.would_block;
      break;
    case ECONNREFUSED:
      ++errors_.refused;
      break;
    case ENETUNREACH:
    case EHOSTUNREACH:
    case EADDRNOTAVAIL:
    case ENETDOWN:
      ++errors_.unreachable;
      break;
    case EMSGSIZE:
      ++errors_.too_big;
      break;
    default:
      ++errors_.other;
      break;
  }
}

std::string UdpTransport::Describe() const {
  std::string s = "udp " + collector_.ToString();
  if (options_.source_address) s += " from " + options_.source_address->ToString();
  if (!options_.bind_device.empty()) s += " dev " + options_.bind_device;
  if (options_.dscp) s += " dscp " + std::to_string(*options_.dscp);
  return s;
}

}  // namespace xflowd::exporter
