// UdpTransport: one UDP socket per collector, IPv4 or IPv6.
//
// The socket is deliberately NOT connected: on a connected UDP socket an ICMP port-unreachable
// from a collector that is not listening yet is reported as ECONNREFUSED on the *next* send,
// which is lost (Open vSwitch's sFlow loses every other datagram that way). Unconnected, each
// datagram goes out with sendto() on its own.
//
// The socket is non-blocking: a full send buffer is an error counted in stats (EAGAIN), never a
// stall of the event loop. No error from sendto() is fatal; the next datagram is tried as usual.
//
// A dead collector still shows: IP_RECVERR / IPV6_RECVERR queue the ICMP errors that come back
// for our datagrams on the socket's error queue, which works unconnected. Poll() (once a second,
// never per datagram) reads the queue, counts each refusal (port unreachable) and unreachable,
// and sets the state down; it is up again after kRecoverAfter with datagrams sent and no ICMP
// error. The kernel also flags a pending ICMP error on the next sendto() (ECONNREFUSED, the
// datagram not sent): that send is retried once, so no datagram is lost to an earlier one's
// error. Linux rate-limits ICMP errors (not on loopback), so the counts are a lower bound.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "exporter/transport.h"
#include "hal/base/ip_address.h"
#include "hal/base/log.h"
#include "hal/base/status.h"
#include "hal/base/time.h"

namespace xflowd::exporter {

struct UdpTransportOptions {
  // Bind the socket to this local address (port chosen by the kernel) so datagrams leave with
  // it as source. Must be the collector's family.
  std::optional<hal::base::IpAddress> source_address;
  // SO_BINDTODEVICE: send through this device (a VRF master such as "mgmt", or a port).
  // Empty = any. Needs CAP_NET_RAW.
  std::string bind_device;
  // DiffServ code point 0..63, written to the TOS (IPv4) or traffic class (IPv6) byte as
  // dscp << 2. Unset = leave the kernel default (0).
  std::optional<uint8_t> dscp;
  // Where state changes are logged (refused, up again). Null: not logged. Must outlive.
  hal::base::Logger* logger = nullptr;
};

// Why sends failed, by errno (would_block..other sum to TransportStats::send_errors), and the
// ICMP errors read back for datagrams that were sent (their sum is TransportStats::lost).
struct UdpErrorStats {
  uint64_t would_block = 0;       // EAGAIN/EWOULDBLOCK/ENOBUFS: socket or device queue full
  uint64_t refused = 0;           // ECONNREFUSED from sendto() even after the one retry
  uint64_t unreachable = 0;       // ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL, ENETDOWN
  uint64_t too_big = 0;           // EMSGSIZE: datagram larger than the socket/route allows
  uint64_t other = 0;             // anything else (EPERM from a firewall, ...)
  int last_errno = 0;             // errno of the most recent failure, 0 if none yet
  uint64_t icmp_refused = 0;      // ICMP port unreachable: nothing listens on the collector port
  uint64_t icmp_unreachable = 0;  // other ICMP errors (host/net unreachable, prohibited, ...)
  uint64_t retried = 0;  // sendto() that reported an earlier datagram's ICMP error, then sent
};

class UdpTransport final : public Transport {
 public:
  // Opens the socket. Fails (with a message naming the collector) on a port 0 collector, a
  // source address of the other family or not local, an unknown device, or missing privilege
  // for the device bind. Never sends anything.
  static hal::base::Result<std::unique_ptr<UdpTransport>> Create(
      const hal::base::Endpoint& collector, const UdpTransportOptions& options = {});
  ~UdpTransport() override;
  UdpTransport(const UdpTransport&) = delete;
  UdpTransport& operator=(const UdpTransport&) = delete;

  // Data plane: one sendto(), never blocks, never allocates.
  bool Send(hal::base::ByteView datagram) override;
  // Reads the error queue (non-blocking, bounded) and updates the state.
  void Poll(hal::base::MonoTime now) override;
  TransportStatus status() const override;
  const TransportStats& stats() const override { return stats_; }
  // "udp 192.0.2.1:6343", plus " from ADDR", " dev NAME", " dscp N" when set.
  std::string Describe() const override;
  std::string DescribeStats() const override;
  std::vector<std::pair<const char*, uint64_t>> Counters() const override;

  // No ICMP error for this long (with datagrams sent) makes a refusing collector up again.
  static constexpr hal::base::Duration kRecoverAfter = hal::base::seconds(3);

  const UdpErrorStats& error_stats() const { return errors_; }
  const hal::base::Endpoint& collector() const { return collector_; }
  int fd() const { return fd_; }

 private:
  UdpTransport(int fd, const hal::base::Endpoint& collector, const UdpTransportOptions& options);
  void CountError(int err);
  ssize_t SendOnce(hal::base::ByteView datagram);

  int fd_;
  hal::base::Endpoint collector_;
  UdpTransportOptions options_;
  sockaddr_storage addr_ = {};  // the collector as sockaddr_in or sockaddr_in6
  socklen_t addr_len_ = 0;
  TransportStats stats_;
  UdpErrorStats errors_;
  bool down_ = false;
  hal::base::MonoTime last_icmp_;   // Poll time of the latest ICMP error read
  uint64_t sent_at_last_icmp_ = 0;  // datagrams_sent then
};

}  // namespace xflowd::exporter
