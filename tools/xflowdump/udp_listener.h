// The live input of xflowdump: one UDP socket bound to [ADDR:]PORT, IPv4 or IPv6. An IPv6
// wildcard bind ([::]) also receives IPv4 (IPV6_V6ONLY off); IPv4-mapped senders are reported
// as plain IPv4.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "hal/base/byte_view.h"
#include "hal/base/ip_address.h"
#include "hal/base/status.h"

namespace xflowd::tools::xflowdump {

class UdpListener {
 public:
  // Binds a non-blocking socket. Port 0 picks a free port (tests; see local()).
  static hal::base::Result<std::unique_ptr<UdpListener>> Create(const hal::base::Endpoint& bind_to);
  ~UdpListener();
  UdpListener(const UdpListener&) = delete;
  UdpListener& operator=(const UdpListener&) = delete;

  // For poll().
  int fd() const { return fd_; }
  // The address actually bound (with the port the kernel chose for port 0).
  const hal::base::Endpoint& local() const { return local_; }

  // One datagram if one is waiting: true and *payload (valid until the next call) and *from
  // filled; false if none is pending. Errors other than "would block" are returned.
  hal::base::Result<bool> Receive(hal::base::ByteView* payload, hal::base::Endpoint* from);
  // Datagrams larger than the 64 KiB buffer (cannot happen with UDP over IP) or cut by the
  // kernel (MSG_TRUNC) are counted here and skipped.
  uint64_t truncated() const { return truncated_; }

 private:
  UdpListener(int fd, const hal::base::Endpoint& local) : fd_(fd), local_(local) {}
  int fd_;
  hal::base::Endpoint local_;
  std::vector<uint8_t> buf_ = std::vector<uint8_t>(65536);
  uint64_t truncated_ = 0;
};

// Parses the argument of -l: "PORT", ":PORT", "ADDR:PORT", "[V6ADDR]:PORT", "ADDR" (port
// default_port), "[V6ADDR]". An empty string is 0.0.0.0:default_port.
hal::base::Result<hal::base::Endpoint> ParseListenAddress(const std::string& text,
                                                          uint16_t default_port);

}  // namespace xflowd::tools::xflowdump
