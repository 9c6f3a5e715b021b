// DropmonSource: dropped-packet notifications from the kernel's drop monitor (NET_DM, packet
// alert mode) as a hal::DropSource. The read path only: recvmsg(MSG_DONTWAIT) into one fixed
// buffer, then the pure parser (dropmon_parser.h). The socket comes from
// hal/dropmon_genl (libnl-genl: family resolution, CONFIG, START) or, in tests and the
// simulator, from one end of a socketpair whose other end gets NET_DM messages
// (sim/dropmon_emitter.h). Nothing on the Drain path allocates, throws or locks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "hal/base/status.h"
#include "hal/drop_source.h"
#include "hal/dropmon/dropmon_parser.h"

namespace xflowd::hal::dropmon {

// Whatever owns the socket besides the fd (a libnl socket that must send STOP and be freed).
// Destroyed after the source stops reading.
class DropmonSession {
 public:
  virtual ~DropmonSession() = default;
};

struct DropmonSourceStats {
  uint64_t recv_calls = 0;       // recvmsg() that returned data
  uint64_t overruns = 0;         // ENOBUFS: the kernel dropped notifications for this socket
  uint64_t truncated_reads = 0;  // a datagram larger than the receive buffer (MSG_TRUNC)
  uint64_t recv_errors = 0;      // any other recvmsg() error
};

class DropmonSource final : public DropSource {
 public:
  // Reads NET_DM messages from `fd` (whole messages per read: netlink, or a datagram /
  // seqpacket socketpair). With a session, the session owns the fd; without, the source
  // closes it. Makes it non-blocking. family_id 0 accepts any generic netlink family.
  static base::Result<std::unique_ptr<DropmonSource>> FromFd(
      int fd, uint16_t family_id, std::unique_ptr<DropmonSession> session, const base::Clock& clock,
      base::Logger& logger);
  ~DropmonSource() override;
  DropmonSource(const DropmonSource&) = delete;
  DropmonSource& operator=(const DropmonSource&) = delete;

  int fd() const override { return fd_; }
  // Reads datagrams until none waits or `budget` events were handed over.
  size_t Drain(DropEventSink& sink, size_t budget) override;
  // events; lost: each receive overrun counts 1 (the kernel does not say how many it lost);
  // parse_errors: malformed messages.
  DropSourceStats stats() const override;
  const ParseStats& parse_stats() const { return parse_; }
  const DropmonSourceStats& dropmon_stats() const { return stats_; }

  // NET_DM's payload is capped by the configured truncation (we ask for 256 bytes).
  static constexpr size_t kRecvBufferBytes = 16 * 1024;

 private:
  DropmonSource(int fd, uint16_t family_id, std::unique_ptr<DropmonSession> session,
                const base::Clock& clock, base::Logger& logger);
  int fd_;
  uint16_t family_id_;
  std::unique_ptr<DropmonSession> session_;
  const base::Clock& clock_;
  base::RateLimitedLog log_;
  ParseStats parse_;
  DropmonSourceStats stats_;
  std::unique_ptr<uint8_t[]> buf_;
};

}  // namespace xflowd::hal::dropmon
