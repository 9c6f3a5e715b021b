// IPv4/IPv6 address value type (network byte order bytes) and a host:port endpoint.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "hal/base/status.h"

namespace xflowd::hal::base {

class IpAddress {
 public:
  enum class Family : uint8_t { kNone = 0, kV4 = 4, kV6 = 6 };

  IpAddress() = default;
  static IpAddress V4(const uint8_t b[4]);
  static IpAddress V4(uint32_t host_order);
  static IpAddress V6(const uint8_t b[16]);
  // "192.0.2.1" or "2001:db8::1".
  static Result<IpAddress> Parse(std::string_view text);

  Family family() const { return family_; }
  bool is_v4() const { return family_ == Family::kV4; }
  bool is_v6() const { return family_ == Family::kV6; }
  // 4 or 16 bytes, network order; all zero for kNone.
  const uint8_t* bytes() const { return b_; }
  size_t size() const { return is_v4() ? 4 : is_v6() ? 16 : 0; }
  std::string ToString() const;

  bool operator==(const IpAddress& o) const {
    return family_ == o.family_ && std::memcmp(b_, o.b_, 16) == 0;
  }
  bool operator!=(const IpAddress& o) const { return !(*this == o); }

 private:
  Family family_ = Family::kNone;
  uint8_t b_[16] = {};
};

struct Endpoint {
  IpAddress address;
  uint16_t port = 0;
  // "192.0.2.1:6343", "[2001:db8::1]:6343", "192.0.2.1" (default_port used). Names are not
  // resolved here (that is a control-plane decision for the caller).
  static Result<Endpoint> Parse(std::string_view text, uint16_t default_port);
  std::string ToString() const;
};

}  // namespace xflowd::hal::base
