#include "hal/psample/psample_source.h"

#include <fcntl.h>
#include <netlink/errno.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/socket.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>

namespace xflowd::hal::psample {
namespace {

base::Status NlError(const std::string& what, int nl_err) {
  return base::UnavailableError(what + ": " + nl_geterror(nl_err < 0 ? -nl_err : nl_err));
}

void SetReceiveBuffer(int fd, int bytes) {
  // SO_RCVBUFFORCE passes rmem_max when we have CAP_NET_ADMIN; otherwise take what we get.
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) != 0) {
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
  }
}

}  // namespace

void PsamplePacketSource::NlSockDeleter::operator()(nl_sock* s) const { nl_socket_free(s); }

PsamplePacketSource::PsamplePacketSource(int fd, std::unique_ptr<nl_sock, NlSockDeleter> sock,
                                         const PsampleSourceOptions& options,
                                         const base::Clock& clock, base::Logger& logger)
    : fd_(fd),
      sock_(std::move(sock)),
      clock_(clock),
      log_(logger),
      parser_(options.parser),
      buf_(new uint8_t[kRecvBufferBytes]) {}

PsamplePacketSource::~PsamplePacketSource() {
  if (!sock_ && fd_ >= 0) close(fd_);  // nl_socket_free closes its own
}

base::Result<std::unique_ptr<PsamplePacketSource>> PsamplePacketSource::Create(
    const PsampleSourceOptions& options, const base::Clock& clock, base::Logger& logger) {
  std::unique_ptr<nl_sock, NlSockDeleter> sock(nl_socket_alloc());
  if (!sock) return base::ResourceExhaustedError("psample: cannot allocate a netlink socket");
  int err = genl_connect(sock.get());
  if (err < 0) return NlError("psample: cannot open a generic netlink socket", err);

  const int family = genl_ctrl_resolve(sock.get(), kFamilyName);
  if (family < 0) {
    if (family == -NLE_OBJ_NOTFOUND) {
      return base::UnavailableError(
          "psample: the kernel has no \"psample\" generic netlink family: packet sampling to "
          "user space needs the psample module (CONFIG_PSAMPLE; modprobe psample, or load "
          "act_sample / the switch driver, which pull it in)");
    }
    return NlError("psample: cannot resolve the \"psample\" generic netlink family", family);
  }
  const int group = genl_ctrl_resolve_grp(sock.get(), kFamilyName, kPacketsGroupName);
  if (group < 0) {
    return NlError("psample: the psample family has no \"packets\" multicast group", group);
  }
  // Multicast only: no replies to match, so no sequence check.
  nl_socket_disable_seq_check(sock.get());
  err = nl_socket_add_membership(sock.get(), group);
  if (err < 0) return NlError("psample: cannot join the \"packets\" multicast group", err);
  err = nl_socket_set_nonblocking(sock.get());
  if (err < 0) return NlError("psample: cannot make the socket non-blocking", err);
  const int fd = nl_socket_get_fd(sock.get());
  SetReceiveBuffer(fd, options.rcvbuf_bytes);

  PsampleSourceOptions o = options;
  o.parser.family_id = static_cast<uint16_t>(family);
  return std::unique_ptr<PsamplePacketSource>(
      new PsamplePacketSource(fd, std::move(sock), o, clock, logger));
}

base::Result<std::unique_ptr<PsamplePacketSource>> PsamplePacketSource::FromFd(
    int fd, const PsampleSourceOptions& options, const base::Clock& clock, base::Logger& logger) {
  if (fd < 0) return base::InvalidArgumentError("psample: invalid file descriptor");
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    const int e = errno;
    close(fd);
    return base::ErrnoError("psample: cannot make the fd non-blocking", e);
  }
  return std::unique_ptr<PsamplePacketSource>(
      new PsamplePacketSource(fd, nullptr, options, clock, logger));
}

size_t PsamplePacketSource::Drain(PacketSampleSink& sink, size_t budget) {
  size_t n = 0;
  if (budget == 0) return 0;
  // One clock read per Drain, not per sample: wall-to-monotonic for kernel timestamps, and the
  // receive time for messages without one.
  const base::MonoTime now = clock_.Now();
  parser_.set_wall_to_mono_ns(now.ns() - clock_.WallNow().ns());
  while (n < budget) {
    iovec iov{buf_.get(), kRecvBufferBytes};
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    const ssize_t r = recvmsg(fd_, &mh, MSG_DONTWAIT);
    if (r < 0) {
      const int e = errno;
      if (e == EINTR) continue;
      if (e == EAGAIN || e == EWOULDBLOCK) break;
      if (e == ENOBUFS) {
        // The socket buffer overflowed and the kernel dropped messages for us. The socket
        // stays usable; the lost samples appear as GROUP_SEQ gaps in the next messages.
        ++stats_.overruns;
        log_.Log(now, base::LogLevel::kWarning,
                 "psample: receive buffer overrun, samples lost (raise rcvbuf_bytes)");
        continue;
      }
      ++stats_.recv_errors;
      log_.Log(now, base::LogLevel::kError, "psample: recvmsg: errno %d", e);
      break;
    }
    if (r == 0) break;  // empty datagram, or the peer of a socketpair went away
    ++stats_.recv_calls;
    if (mh.msg_flags & MSG_TRUNC) {
      ++stats_.truncated_reads;  // the tail is gone; the parser counts the cut message
      log_.Log(now, base::LogLevel::kWarning, "psample: datagram larger than %zu bytes cut",
               kRecvBufferBytes);
    }
    n += parser_.ParseBuffer(base::ByteView(buf_.get(), static_cast<size_t>(r)), now, sink);
  }
  return n;
}

PacketSourceStats PsamplePacketSource::stats() const {
  PacketSourceStats s;
  const ParseStats& p = parser_.stats();
  s.samples = p.samples;
  s.source_drops = p.drops;
  s.parse_errors = p.errors();
  return s;
}

}  // namespace xflowd::hal::psample
