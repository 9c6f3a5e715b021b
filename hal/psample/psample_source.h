// PsamplePacketSource: samples from the kernel's PSAMPLE channel (tc action sample on Linux,
// or an ASIC driver such as mlxsw/Spectrum that samples in hardware) as a hal::PacketSource.
//
// A thin wrapper: libnl-genl resolves the "psample" family and its "packets" multicast group and
// joins it; after that the socket is read with recvmsg(MSG_DONTWAIT) into one fixed buffer and
// PsampleStreamParser does the rest. Nothing on the Drain path allocates, throws or locks.
//
// Drops: the kernel numbers samples per psample group; gaps in GROUP_SEQ are the samples we
// lost, whatever lost them (socket buffer overrun, ASIC trap policer, ...). A receive overrun
// (ENOBUFS) is therefore counted as an event (psample_stats().overruns) and the samples it lost
// show up as sequence gaps in stats().source_drops; counting both would count them twice.
// The agent's samplers see the same gaps through PacketSample::source_sequence (see
// SequenceMode in psample_parser.h): source_drops and the samplers' drops are one number
// reported twice, not two numbers to add.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "hal/base/status.h"
#include "hal/packet_source.h"
#include "hal/psample/psample_parser.h"

struct nl_sock;

namespace xflowd::hal::psample {

struct PsampleSourceOptions {
  // Group mapping and sequence mode. family_id is filled in by Create().
  ParserOptions parser;
  // SO_RCVBUF for the socket (SO_RCVBUFFORCE first when privileged). A burst of samples that
  // does not fit is lost (ENOBUFS, then sequence gaps).
  int rcvbuf_bytes = 8 << 20;
};

struct PsampleSourceStats {
  uint64_t recv_calls = 0;       // recvmsg() that returned data
  uint64_t overruns = 0;         // ENOBUFS: the kernel dropped messages for this socket
  uint64_t truncated_reads = 0;  // a datagram larger than the receive buffer (MSG_TRUNC)
  uint64_t recv_errors = 0;      // any other recvmsg() error
};

class PsamplePacketSource final : public PacketSource {
 public:
  // Opens a generic netlink socket and joins psample's "packets" group. Fails with
  // UNAVAILABLE naming CONFIG_PSAMPLE when the kernel has no psample family (module not loaded
  // or not built). `clock` and `logger` must outlive the source.
  static base::Result<std::unique_ptr<PsamplePacketSource>> Create(
      const PsampleSourceOptions& options, const base::Clock& clock, base::Logger& logger);
  // Reads PSAMPLE messages from an fd that is already open (one end of a socketpair driven by
  // sim::PsampleEmitter, or a netlink socket set up elsewhere). Takes ownership of `fd`;
  // makes it non-blocking. Each read must return whole messages (datagram or seqpacket).
  static base::Result<std::unique_ptr<PsamplePacketSource>> FromFd(
      int fd, const PsampleSourceOptions& options, const base::Clock& clock, base::Logger& logger);
  ~PsamplePacketSource() override;
  PsamplePacketSource(const PsamplePacketSource&) = delete;
  PsamplePacketSource& operator=(const PsamplePacketSource&) = delete;

  int fd() const override { return fd_; }
  // Reads datagrams until none is waiting or `budget` samples were handed over. A datagram is
  // parsed whole, so a batched datagram may take the count a little past `budget`.
  size_t Drain(PacketSampleSink& sink, size_t budget) override;
  // samples, source_drops (GROUP_SEQ gaps), parse_errors (malformed messages).
  PacketSourceStats stats() const override;

  const ParseStats& parse_stats() const { return parser_.stats(); }
  const PsampleSourceStats& psample_stats() const { return stats_; }
  const PsampleStreamParser& parser() const { return parser_; }

  // Largest datagram read whole: PSAMPLE caps a message at 64 KiB.
  static constexpr size_t kRecvBufferBytes = 64 * 1024 + 4096;

 private:
  struct NlSockDeleter {
    void operator()(nl_sock* s) const;
  };
  PsamplePacketSource(int fd, std::unique_ptr<nl_sock, NlSockDeleter> sock,
                      const PsampleSourceOptions& options, const base::Clock& clock,
                      base::Logger& logger);

  int fd_;
  std::unique_ptr<nl_sock, NlSockDeleter> sock_;  // null when built FromFd (then we own fd_)
  const base::Clock& clock_;
  base::RateLimitedLog log_;
  PsampleStreamParser parser_;
  PsampleSourceStats stats_;
  std::unique_ptr<uint8_t[]> buf_;
};

}  // namespace xflowd::hal::psample
