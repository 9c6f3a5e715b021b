// Netlink message layout shared by the netlink back-ends' parsers and builders (rtnetlink,
// tc, NFLOG, PSAMPLE) and by the simulator's PSAMPLE emitter. Netlink is host byte order;
// attribute values may be either (each protocol says which).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace xflowd::hal::netlink {

constexpr size_t kNlmsgHdrLen = 16;  // NLMSG_HDRLEN
constexpr size_t kGenlHdrLen = 4;    // GENL_HDRLEN
constexpr size_t kNlaHdrLen = 4;     // NLA_HDRLEN

// NLMSG_ALIGN / NLA_ALIGN.
constexpr size_t Align4(size_t n) { return (n + 3) & ~size_t{3}; }

// A host-order value at any alignment; the caller has checked the length.
template <typename T>
T LoadHost(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace xflowd::hal::netlink
