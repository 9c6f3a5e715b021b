#include "exporter/udp_transport.h"

#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "exporter/socket_address.h"

namespace xflowd::exporter {

using hal::base::Endpoint;
using hal::base::ErrnoError;
using hal::base::InvalidArgumentError;
using hal::base::IpAddress;
using hal::base::LogLevel;
using hal::base::MonoTime;
using hal::base::Result;
using hal::base::Status;

namespace {

// Most error-queue entries one Poll reads: bounds the work of a tick; the rest waits (the
// queue itself is bounded by the socket's receive buffer).
constexpr int kMaxErrorsPerPoll = 1024;

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
  {
    // ICMP errors for our datagrams go to the error queue that Poll reads.
    const int one = 1;
    int rc = v6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one))
                : setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
    if (rc != 0) return ErrnoError(what + ": enable the ICMP error queue", errno);
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

ssize_t UdpTransport::SendOnce(hal::base::ByteView datagram) {
  ssize_t n;
  do {
    n = sendto(fd_, datagram.data(), datagram.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
               reinterpret_cast<const sockaddr*>(&addr_), addr_len_);
  } while (n < 0 && errno == EINTR);
  return n;
}

bool UdpTransport::Send(hal::base::ByteView datagram) {
  ssize_t n = SendOnce(datagram);
  if (n < 0 && errno == ECONNREFUSED) {
    // An earlier datagram's ICMP error, reported on this send (and cleared by it): this
    // datagram was not sent, so send it again. Poll counts the refusal from the error queue.
    ++errors_.retried;
    n = SendOnce(datagram);
  }
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

void UdpTransport::Poll(MonoTime now) {
  uint64_t refused = 0;
  uint64_t unreachable = 0;
  int last = 0;
  for (int i = 0; i < kMaxErrorsPerPoll; ++i) {
    // Only the header: the returned payload is our own datagram, not needed.
    alignas(cmsghdr) uint8_t control[512];
    msghdr msg = {};
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    const ssize_t n = recvmsg(fd_, &msg, MSG_ERRQUEUE | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // EAGAIN: the queue is empty
    }
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      const bool v4 = c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR;
      const bool v6 = c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR;
      if (!v4 && !v6) continue;
      sock_extended_err ee;
      std::memcpy(&ee, CMSG_DATA(c), sizeof(ee));
      // Local errors (EMSGSIZE...) were already counted when sendto() failed.
      if (ee.ee_origin != SO_EE_ORIGIN_ICMP && ee.ee_origin != SO_EE_ORIGIN_ICMP6) continue;
      if (ee.ee_errno == ECONNREFUSED) {
        ++refused;
      } else {
        ++unreachable;
      }
      last = static_cast<int>(ee.ee_errno);
    }
  }
  if (refused + unreachable > 0) {
    errors_.icmp_refused += refused;
    errors_.icmp_unreachable += unreachable;
    errors_.last_errno = last;
    stats_.lost += refused + unreachable;
    last_icmp_ = now;
    sent_at_last_icmp_ = stats_.datagrams_sent;
    if (!down_) {
      down_ = true;
      if (options_.logger) {
        options_.logger->Log(LogLevel::kWarning,
                             "collector %s is down: ICMP %s (%s); its datagrams are lost",
                             Describe().c_str(),
                             last == ECONNREFUSED ? "port unreachable" : "error", strerror(last));
      }
    }
    return;
  }
  if (down_ && now - last_icmp_ >= kRecoverAfter && stats_.datagrams_sent > sent_at_last_icmp_) {
    down_ = false;
    if (options_.logger) {
      options_.logger->Log(LogLevel::kInfo,
                           "collector %s is up again: no ICMP error for %lld s (%" PRIu64
                           " datagrams refused or unreachable so far)",
                           Describe().c_str(),
                           static_cast<long long>(kRecoverAfter.count() / 1000000000),
                           errors_.icmp_refused + errors_.icmp_unreachable);
    }
  }
}

TransportStatus UdpTransport::status() const {
  TransportStatus s;
  s.state = down_ ? TransportState::kDown : TransportState::kUp;
  s.last_error = errors_.last_errno;
  return s;
}

std::vector<std::pair<const char*, uint64_t>> UdpTransport::Counters() const {
  return {{"would_block", errors_.would_block},
          {"refused", errors_.refused},
          {"unreachable", errors_.unreachable},
          {"too_big", errors_.too_big},
          {"other", errors_.other},
          {"icmp_refused", errors_.icmp_refused},
          {"icmp_unreachable", errors_.icmp_unreachable},
          {"retried", errors_.retried}};
}

std::string UdpTransport::DescribeStats() const {
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "refused %" PRIu64 " (ICMP port unreachable), ICMP unreachable %" PRIu64
                ", queue full %" PRIu64 ", too big %" PRIu64 ", no route %" PRIu64
                ", other %" PRIu64,
                errors_.icmp_refused, errors_.icmp_unreachable, errors_.would_block,
                errors_.too_big, errors_.unreachable, errors_.refused + errors_.other);
  return buf;
}

std::string UdpTransport::Describe() const {
  std::string s = "udp " + collector_.ToString();
  if (options_.source_address) s += " from " + options_.source_address->ToString();
  if (!options_.bind_device.empty()) s += " dev " + options_.bind_device;
  if (options_.dscp) s += " dscp " + std::to_string(*options_.dscp);
  return s;
}

}  // namespace xflowd::exporter
