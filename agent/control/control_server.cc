#include "agent/control/control_server.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace xflowd::agent::control {

using hal::base::ErrnoError;
using hal::base::InvalidArgumentError;
using hal::base::LogLevel;
using hal::base::Result;
using hal::base::Status;

namespace {

// Makes `dir` and its missing parents (0755), each given to uid:gid (-1: left as made).
Status MakeDirs(const std::string& dir, uid_t uid, gid_t gid) {
  if (dir.empty()) return Status::Ok();
  struct stat st;
  if (stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return InvalidArgumentError(dir + " is not a directory");
    return Status::Ok();
  }
  const size_t slash = dir.rfind('/');
  if (slash != std::string::npos && slash > 0)
    XFLOWD_RETURN_IF_ERROR(MakeDirs(dir.substr(0, slash), uid, gid));
  if (mkdir(dir.c_str(), 0755) != 0) {
    if (errno == EEXIST) return Status::Ok();
    return ErrnoError("creating directory " + dir, errno);
  }
  if ((uid != static_cast<uid_t>(-1) || gid != static_cast<gid_t>(-1)) &&
      chown(dir.c_str(), uid, gid) != 0) {
    return ErrnoError("giving directory " + dir + " to the service user", errno);
  }
  return Status::Ok();
}

void CloseFd(int fd) {
  if (fd >= 0) close(fd);
}

}  // namespace

ControlServer::ControlServer(const ControlServerOptions& options, daemon::EventLoop& loop,
                             const hal::base::Clock& clock, hal::base::Logger& logger,
                             LineHandler handler, ErrorEncoder encode_error)
    : options_(options),
      loop_(loop),
      clock_(clock),
      logger_(logger),
      drop_log_(logger),
      handler_(std::move(handler)),
      encode_error_(std::move(encode_error)) {}

ControlServer::~ControlServer() {
  while (!clients_.empty()) Close(clients_.back()->fd, Drop::kNone);
  if (timer_fd_ >= 0) {
    loop_.RemoveFd(timer_fd_);
    CloseFd(timer_fd_);
  }
  if (listen_fd_ >= 0) {
    loop_.RemoveFd(listen_fd_);
    CloseFd(listen_fd_);
  }
  if (created_file_) unlink(options_.path.c_str());
}

Result<std::unique_ptr<ControlServer>> ControlServer::Create(
    const ControlServerOptions& options, daemon::EventLoop& loop, const hal::base::Clock& clock,
    hal::base::Logger& logger, LineHandler handler, ErrorEncoder encode_error) {
  if (options.max_clients == 0 || options.max_request_bytes == 0 ||
      options.max_requests_per_turn == 0) {
    return InvalidArgumentError("control socket: limits must be positive");
  }
  std::unique_ptr<ControlServer> s(
      new ControlServer(options, loop, clock, logger, std::move(handler), std::move(encode_error)));
  Status st = s->Init();
  if (!st.ok()) return st.WithContext("control socket " + options.path);
  return s;
}

Status ControlServer::Init() {
  const std::string& path = options_.path;
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return InvalidArgumentError("the path must have 1 to " +
                                std::to_string(sizeof(addr.sun_path) - 1) + " bytes");
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  gid_t gid = static_cast<gid_t>(-1);
  if (!options_.group.empty()) {
    const struct group* g = getgrnam(options_.group.c_str());
    if (g == nullptr) return InvalidArgumentError("no such group '" + options_.group + "'");
    gid = g->gr_gid;
  }
  const size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0)
    XFLOWD_RETURN_IF_ERROR(MakeDirs(path.substr(0, slash), options_.owner_uid, options_.owner_gid));

  listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return ErrnoError("socket", errno);

  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return InvalidArgumentError("exists and is not a socket; remove it or choose another path");
    }
    // A socket someone answers on belongs to a running daemon; one nobody answers is stale.
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe < 0) return ErrnoError("socket", errno);
    const bool live = connect(probe, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
    close(probe);
    if (live) return InvalidArgumentError("in use by another running xflowd");
    if (unlink(path.c_str()) != 0) return ErrnoError("removing the stale socket", errno);
    logger_.Log(LogLevel::kInfo, "control socket %s: replaced a stale socket file", path.c_str());
  }
  // The socket file gets its final mode at creation: no moment where others may connect.
  const mode_t mode = options_.group.empty() ? 0600 : 0660;
  const mode_t old_umask = umask(static_cast<mode_t>(0777 & ~mode));
  const int rc = bind(listen_fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  const int bind_errno = errno;
  umask(old_umask);
  if (rc != 0) return ErrnoError("bind", bind_errno);
  created_file_ = true;
  if (gid != static_cast<gid_t>(-1) && chown(path.c_str(), static_cast<uid_t>(-1), gid) != 0) {
    return ErrnoError("giving the socket to group " + options_.group, errno);
  }
  if (options_.owner_uid != static_cast<uid_t>(-1) &&
      chown(path.c_str(), options_.owner_uid,
            options_.group.empty() ? options_.owner_gid : static_cast<gid_t>(-1)) != 0) {
    // Without CAP_CHOWN (a unit's CapabilityBoundingSet may lack it) the socket still works
    // through the open fd; only its removal at exit fails, and the next start replaces it.
    logger_.Log(LogLevel::kWarning,
                "control socket %s: cannot give it to the service user (%s); it stays root's "
                "(CAP_CHOWN is needed for that)",
                path.c_str(), strerror(errno));
  }
  if (chmod(path.c_str(), mode) != 0) return ErrnoError("chmod", errno);
  if (listen(listen_fd_, 16) != 0) return ErrnoError("listen", errno);
  XFLOWD_RETURN_IF_ERROR(loop_.AddFd(listen_fd_, EPOLLIN, [this](uint32_t) { OnListen(); }));

  timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (timer_fd_ < 0) return ErrnoError("timerfd_create", errno);
  itimerspec its = {};
  its.it_value.tv_sec = 1;
  its.it_interval.tv_sec = 1;
  if (timerfd_settime(timer_fd_, 0, &its, nullptr) != 0)
    return ErrnoError("timerfd_settime", errno);
  XFLOWD_RETURN_IF_ERROR(loop_.AddFd(timer_fd_, EPOLLIN, [this](uint32_t) {
    uint64_t n;
    while (read(timer_fd_, &n, sizeof(n)) == sizeof(n)) {
    }
    CheckIdle();
  }));
  logger_.Log(LogLevel::kInfo, "control socket %s (mode %04o%s%s)", path.c_str(), mode,
              options_.group.empty() ? "" : ", group ", options_.group.c_str());
  return Status::Ok();
}

ControlServer::Client* ControlServer::Find(int fd) {
  for (auto& c : clients_) {
    if (c->fd == fd) return c.get();
  }
  return nullptr;
}

void ControlServer::OnListen() {
  for (int i = 0; i < kMaxAcceptsPerTurn; ++i) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED) {
        drop_log_.Log(clock_.Now(), LogLevel::kWarning, "control socket: accept: %s",
                      strerror(errno));
      }
      return;
    }
    if (clients_.size() >= options_.max_clients) {
      ++stats_.rejected;
      const std::string line = encode_error_("too many control clients (" +
                                             std::to_string(options_.max_clients) + "); try again");
      (void)!send(fd, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      close(fd);
      continue;
    }
    auto c = std::make_unique<Client>();
    c->fd = fd;
    c->interest = EPOLLIN;
    c->last_activity = clock_.Now();
    Status st = loop_.AddFd(fd, EPOLLIN, [this, fd](uint32_t events) { OnClient(fd, events); });
    if (!st.ok()) {
      drop_log_.Log(clock_.Now(), LogLevel::kWarning, "control socket: %s", st.message().c_str());
      close(fd);
      continue;
    }
    ++stats_.accepted;
    clients_.push_back(std::move(c));
    stats_.clients = clients_.size();
  }
}

bool ControlServer::Flush(Client& c) {
  while (c.out_off < c.out.size()) {
    ssize_t n =
        send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.out_off += static_cast<size_t>(n);
      c.last_activity = clock_.Now();
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    Close(c.fd, Drop::kNone);  // the client went away
    return false;
  }
  if (c.out_off == c.out.size()) {
    c.out.clear();
    c.out_off = 0;
  } else if (c.out_off > 64 * 1024) {
    c.out.erase(0, c.out_off);  // keep the buffer from growing by what was written
    c.out_off = 0;
  }
  return true;
}

bool ControlServer::Answer(Client& c, std::string_view line) {
  // Hand what is queued to the kernel first: only replies the client leaves unread count.
  if (c.out.size() - c.out_off > options_.max_output_bytes && !Flush(c)) return false;
  if (c.out.size() - c.out_off > options_.max_output_bytes) {
    drop_log_.Log(clock_.Now(), LogLevel::kWarning,
                  "control socket: dropped a client that does not read its replies (%zu bytes "
                  "queued)",
                  c.out.size() - c.out_off);
    Close(c.fd, Drop::kSlow);
    return false;
  }
  bool ok = true;
  c.out += handler_(line, &ok);
  ++stats_.requests;
  if (!ok) ++stats_.errors;
  return true;
}

void ControlServer::OnClient(int fd, uint32_t events) {
  Client* cp = Find(fd);
  if (cp == nullptr) return;
  Client& c = *cp;
  if (events & EPOLLERR) {
    Close(fd, Drop::kNone);
    return;
  }
  if (!Flush(c)) return;
  // Read only when no complete line waits: what is buffered stays under one chunk plus the
  // longest line.
  if (!c.read_closed && c.in.find('\n') == std::string::npos) {
    char buf[kReadChunk];
    ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0) {
      c.in.append(buf, static_cast<size_t>(n));
      c.last_activity = clock_.Now();
    } else if (n == 0) {
      c.read_closed = true;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      Close(fd, Drop::kNone);
      return;
    }
  }
  size_t start = 0;
  for (size_t done = 0; done < options_.max_requests_per_turn; ++done) {
    const size_t nl = c.in.find('\n', start);
    if (nl == std::string::npos) break;
    if (nl - start > options_.max_request_bytes) break;  // handled below as too long
    const std::string_view line(c.in.data() + start, nl - start);
    start = nl + 1;
    if (line.empty() || line == "\r") continue;
    if (!Answer(c, line)) return;
  }
  c.in.erase(0, start);
  const size_t nl = c.in.find('\n');
  const size_t line_bytes = nl == std::string::npos ? c.in.size() : nl;
  if (line_bytes > options_.max_request_bytes) {
    ++stats_.requests;
    ++stats_.errors;
    c.out += encode_error_("request longer than " + std::to_string(options_.max_request_bytes) +
                           " bytes; connection closed");
    (void)Flush(c);
    if (Find(fd) != nullptr) {
      drop_log_.Log(clock_.Now(), LogLevel::kWarning,
                    "control socket: dropped a client that sent a line over %zu bytes",
                    options_.max_request_bytes);
      Close(fd, Drop::kLong);
    }
    return;
  }
  // The peer finished sending: a last line without its newline is still a request.
  if (c.read_closed && nl == std::string::npos && !c.in.empty()) {
    const std::string last = std::move(c.in);
    c.in.clear();
    if (!Answer(c, last)) return;
  }
  if (!Flush(c)) return;
  const bool line_waits = c.in.find('\n') != std::string::npos;
  const bool out_waits = c.out_off < c.out.size();
  if (c.read_closed && !line_waits && !out_waits) {
    Close(fd, Drop::kNone);
    return;
  }
  // Lines left for the next turn come back through EPOLLOUT (a writable socket is ready at
  // once) or EPOLLIN (more bytes came): each call answers some, so a client that sends but
  // never reads reaches max_output_bytes and is dropped.
  const uint32_t interest = (c.read_closed ? 0u : static_cast<uint32_t>(EPOLLIN)) |
                            (out_waits || line_waits ? static_cast<uint32_t>(EPOLLOUT) : 0u);
  if (interest != c.interest) {
    c.interest = interest;
    Status st = loop_.ModifyFd(fd, interest);
    if (!st.ok()) Close(fd, Drop::kNone);
  }
}

void ControlServer::Close(int fd, Drop why) {
  switch (why) {
    case Drop::kNone:
      break;
    case Drop::kSlow:
      ++stats_.dropped_slow;
      break;
    case Drop::kLong:
      ++stats_.dropped_long;
      break;
    case Drop::kIdle:
      ++stats_.dropped_idle;
      break;
  }
  loop_.RemoveFd(fd);
  close(fd);
  clients_.erase(std::remove_if(clients_.begin(), clients_.end(),
                                [fd](const std::unique_ptr<Client>& c) { return c->fd == fd; }),
                 clients_.end());
  stats_.clients = clients_.size();
}

void ControlServer::CheckIdle() {
  const hal::base::MonoTime now = clock_.Now();
  std::vector<int> idle;
  for (const auto& c : clients_) {
    if (now - c->last_activity >= options_.idle_timeout) idle.push_back(c->fd);
  }
  for (int fd : idle) Close(fd, Drop::kIdle);
}

std::string ControlServer::Summary() const {
  char buf[320];
  std::snprintf(buf, sizeof(buf),
                "control %s: %llu clients accepted, %llu rejected (too many), dropped %llu slow "
                "readers, %llu over-long lines, %llu idle; %llu requests, %llu errors",
                options_.path.c_str(), static_cast<unsigned long long>(stats_.accepted),
                static_cast<unsigned long long>(stats_.rejected),
                static_cast<unsigned long long>(stats_.dropped_slow),
                static_cast<unsigned long long>(stats_.dropped_long),
                static_cast<unsigned long long>(stats_.dropped_idle),
                static_cast<unsigned long long>(stats_.requests),
                static_cast<unsigned long long>(stats_.errors));
  return buf;
}

}  // namespace xflowd::agent::control
