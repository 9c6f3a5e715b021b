#include "hal/base/ip_address.h"

#include <arpa/inet.h>

#include <cstdlib>

namespace xflowd::hal::base {

IpAddress IpAddress::V4(const uint8_t b[4]) {
  IpAddress a;
  a.family_ = Family::kV4;
  std::memcpy(a.b_, b, 4);
  return a;
}

IpAddress IpAddress::V4(uint32_t host_order) {
  uint8_t b[4] = {static_cast<uint8_t>(host_order >> 24), static_cast<uint8_t>(host_order >> 16),
                  static_cast<uint8_t>(host_order >> 8), static_cast<uint8_t>(host_order)};
  return V4(b);
}

IpAddress IpAddress::V6(const uint8_t b[16]) {
  IpAddress a;
  a.family_ = Family::kV6;
  std::memcpy(a.b_, b, 16);
  return a;
}

Result<IpAddress> IpAddress::Parse(std::string_view text) {
  std::string s(text);
  uint8_t buf[16];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) return V4(buf);
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1) return V6(buf);
  return InvalidArgumentError("not an IPv4 or IPv6 address: '" + s + "'");
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = "";
  if (is_v4()) inet_ntop(AF_INET, b_, buf, sizeof(buf));
  if (is_v6()) inet_ntop(AF_INET6, b_, buf, sizeof(buf));
  return buf;
}

Result<Endpoint> Endpoint::Parse(std::string_view text, uint16_t default_port) {
  std::string host;
  std::string port_str;
  bool has_port = false;  // a ':' introduces one, and then it must be there
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return InvalidArgumentError("missing ']' in '" + std::string(text) + "'");
    }
    host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':')
        return InvalidArgumentError("expected ':' after ']' in '" + std::string(text) + "'");
      port_str = std::string(rest.substr(1));
      has_port = true;
    }
  } else {
    size_t colon = text.find(':');
    if (colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
      host = std::string(text.substr(0, colon));
      port_str = std::string(text.substr(colon + 1));
      has_port = true;
    } else {
      host = std::string(text);  // bare IPv4 or bare IPv6
    }
  }
  Result<IpAddress> addr = IpAddress::Parse(host);
  if (!addr.ok()) return addr.status();
  Endpoint ep;
  ep.address = *addr;
  ep.port = default_port;
  if (has_port) {
    // Digits only: strtoul alone would also take "", " 43001", "+43001" and "-1".
    unsigned long p = 0;
    bool digits = !port_str.empty() && port_str.size() <= 5;
    for (char c : port_str) {
      if (c < '0' || c > '9') {
        digits = false;
        break;
      }
      p = p * 10 + static_cast<unsigned long>(c - '0');
    }
    if (!digits || p == 0 || p > 65535) {
      return InvalidArgumentError("bad port '" + port_str + "' in '" + std::string(text) +
                                  "' (expected 1 to 65535)");
    }
    ep.port = static_cast<uint16_t>(p);
  }
  return ep;
}

std::string Endpoint::ToString() const {
  if (address.is_v6()) return "[" + address.ToString() + "]:" + std::to_string(port);
  return address.ToString() + ":" + std::to_string(port);
}

}  // namespace xflowd::hal::base
