#include "hal/dropmon/dropmon_source.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace xflowd::hal::dropmon {

DropmonSource::DropmonSource(int fd, uint16_t family_id, std::unique_ptr<DropmonSession> session,
                             const base::Clock& clock, base::Logger& logger)
    : fd_(fd),
      family_id_(family_id),
      session_(std::move(session)),
      clock_(clock),
      log_(logger),
      buf_(new uint8_t[kRecvBufferBytes]) {}

DropmonSource::~DropmonSource() {
  if (!session_ && fd_ >= 0) close(fd_);  // a session closes its own
}

base::Result<std::unique_ptr<DropmonSource>> DropmonSource::FromFd(
    int fd, uint16_t family_id, std::unique_ptr<DropmonSession> session, const base::Clock& clock,
    base::Logger& logger) {
  if (fd < 0) return base::InvalidArgumentError("drop monitor: invalid file descriptor");
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    const int e = errno;
    if (!session) close(fd);
    return base::ErrnoError("drop monitor: cannot make the fd non-blocking", e);
  }
  return std::unique_ptr<DropmonSource>(
      new DropmonSource(fd, family_id, std::move(session), clock, logger));
}

size_t DropmonSource::Drain(DropEventSink& sink, size_t budget) {
  size_t n = 0;
  if (budget == 0) return 0;
  const base::MonoTime now = clock_.Now();
  const int64_t wall_to_mono = now.ns() - clock_.WallNow().ns();
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
        ++stats_.overruns;
        log_.Log(now, base::LogLevel::kWarning,
                 "drop monitor: receive buffer overrun, drop notifications lost");
        continue;
      }
      ++stats_.recv_errors;
      log_.Log(now, base::LogLevel::kError, "drop monitor: recvmsg: errno %d", e);
      break;
    }
    if (r == 0) break;
    ++stats_.recv_calls;
    if (mh.msg_flags & MSG_TRUNC) {
      ++stats_.truncated_reads;
      log_.Log(now, base::LogLevel::kWarning, "drop monitor: datagram larger than %zu bytes cut",
               kRecvBufferBytes);
    }
    n += ParseBuffer(base::ByteView(buf_.get(), static_cast<size_t>(r)), family_id_, wall_to_mono,
                     now, sink, &parse_);
  }
  return n;
}

DropSourceStats DropmonSource::stats() const {
  DropSourceStats s;
  s.events = parse_.events;
  s.lost = stats_.overruns;
  s.parse_errors = parse_.errors();
  return s;
}

}  // namespace xflowd::hal::dropmon
