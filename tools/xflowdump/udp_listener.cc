#include "tools/xflowdump/udp_listener.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace xflowd::tools::xflowdump {

using hal::base::ByteView;
using hal::base::Endpoint;
using hal::base::ErrnoError;
using hal::base::InvalidArgumentError;
using hal::base::IpAddress;
using hal::base::Result;

namespace {

socklen_t ToSockaddr(const Endpoint& ep, sockaddr_storage* ss) {
  std::memset(ss, 0, sizeof(*ss));
  if (ep.address.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(ep.port);
    std::memcpy(&sin->sin_addr, ep.address.bytes(), 4);
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(ss);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(ep.port);
  std::memcpy(&sin6->sin6_addr, ep.address.bytes(), 16);
  return sizeof(sockaddr_in6);
}

Endpoint FromSockaddr(const sockaddr_storage& ss) {
  Endpoint ep;
  if (ss.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
    ep.address = IpAddress::V4(reinterpret_cast<const uint8_t*>(&sin->sin_addr));
    ep.port = ntohs(sin->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    const auto* b = reinterpret_cast<const uint8_t*>(&sin6->sin6_addr);
    static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    ep.address = std::memcmp(b, kMapped, 12) == 0 ? IpAddress::V4(b + 12) : IpAddress::V6(b);
    ep.port = ntohs(sin6->sin6_port);
  }
  return ep;
}

bool AllDigits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

Result<Endpoint> ParseListenAddress(const std::string& text, uint16_t default_port) {
  std::string port_text;
  if (text.empty()) {
    port_text = std::to_string(default_port);
  } else if (AllDigits(text)) {
    port_text = text;
  } else if (text[0] == ':' && AllDigits(text.substr(1))) {
    port_text = text.substr(1);
  }
  if (!port_text.empty()) {
    const unsigned long port = std::strtoul(port_text.c_str(), nullptr, 10);
    if (port > 65535 || port_text.size() > 5) {
      return InvalidArgumentError("bad port '" + port_text + "' (0..65535)");
    }
    Endpoint ep;
    ep.address = IpAddress::V4(uint32_t{0});
    ep.port = static_cast<uint16_t>(port);
    return ep;
  }
  return Endpoint::Parse(text, default_port);
}

Result<std::unique_ptr<UdpListener>> UdpListener::Create(const Endpoint& bind_to) {
  const std::string what = "listen on " + bind_to.ToString();
  if (!bind_to.address.is_v4() && !bind_to.address.is_v6()) {
    return InvalidArgumentError(what + ": no address");
  }
  const bool v6 = bind_to.address.is_v6();
  const int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoError(what + ": socket", errno);
  std::unique_ptr<UdpListener> l(new UdpListener(fd, bind_to));
  if (v6) {
    const int off = 0;  // [::] takes IPv4 too, as collectors usually do
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
  }
  // Bursts of datagrams from many agents: a large receive buffer loses fewer of them. Best
  // effort (capped by net.core.rmem_max).
  const int rcvbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  sockaddr_storage ss;
  const socklen_t len = ToSockaddr(bind_to, &ss);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&ss), len) != 0) {
    const int err = errno;
    std::string hint;
    if (err == EADDRINUSE) hint = " (is a collector already running on this port?)";
    if (err == EACCES) hint = " (ports below 1024 need root)";
    return ErrnoError(what + hint, err);
  }
  sockaddr_storage bound;
  socklen_t bound_len = sizeof(bound);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len) == 0) {
    l->local_ = FromSockaddr(bound);
    if (v6 && l->local_.address.is_v4()) l->local_.address = bind_to.address;
  }
  return l;
}

UdpListener::~UdpListener() {
  if (fd_ >= 0) close(fd_);
}

Result<bool> UdpListener::Receive(ByteView* payload, Endpoint* from) {
  for (;;) {
    sockaddr_storage ss;
    socklen_t ss_len = sizeof(ss);
    const ssize_t n = recvfrom(fd_, buf_.data(), buf_.size(), MSG_TRUNC,
                               reinterpret_cast<sockaddr*>(&ss), &ss_len);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
      if (errno == EINTR) continue;
      return ErrnoError("recvfrom on " + local_.ToString(), errno);
    }
    if (static_cast<size_t>(n) > buf_.size()) {
      ++truncated_;
      continue;
    }
    *payload = ByteView(buf_.data(), static_cast<size_t>(n));
    *from = FromSockaddr(ss);
    return true;
  }
}

}  // namespace xflowd::tools::xflowdump
