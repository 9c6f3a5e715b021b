#include "hal/ovs/ovsdb_client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace xflowd::hal::ovs {

using base::ErrnoError;
using base::LogLevel;
using base::Result;
using base::Status;
using base::UnavailableError;

namespace {

int64_t MsLeft(const base::Clock& clock, base::MonoTime deadline) {
  const int64_t left = base::ToMs(deadline - clock.Now());
  return left < 0 ? 0 : left;
}

}  // namespace

Result<std::unique_ptr<OvsdbClient>> OvsdbClient::Create(const std::string& socket_path,
                                                         const base::Clock& clock,
                                                         base::Logger& logger, int timeout_ms) {
  std::unique_ptr<OvsdbClient> c(new OvsdbClient(socket_path, clock, logger));
  Status st = c->Connect(timeout_ms);
  if (!st.ok()) {
    return st.WithContext("OVSDB at " + socket_path +
                          " (is ovsdb-server running? give its socket with --ovs PATH or "
                          "source.ovs.db-socket)");
  }
  return c;
}

OvsdbClient::~OvsdbClient() {
  if (fd_ >= 0) close(fd_);
}

Status OvsdbClient::Connect(int timeout_ms) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path_.size() >= sizeof(addr.sun_path)) {
    return base::InvalidArgumentError("socket path longer than " +
                                      std::to_string(sizeof(addr.sun_path) - 1) + " bytes");
  }
  std::memcpy(addr.sun_path, path_.data(), path_.size());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoError("socket(AF_UNIX)", errno);
  // A unix socket connects at once or fails; non-blocking only after.
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int err = errno;
    close(fd);
    return ErrnoError("connect", err);
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  fd_ = fd;
  splitter_.Clear();
  monitored_ = false;
  ++stats_.connects;
  // The monitor reply replaces the model: what changed while we were away is in it.
  auto r = Call([](int64_t id) { return MonitorRequest(id); }, timeout_ms);
  if (!r.ok()) {
    Disconnect(r.status().message());
    return r.status().WithContext("monitor");
  }
  backoff_ = kMinBackoff;
  return Status::Ok();
}

void OvsdbClient::Disconnect(const std::string& why) {
  if (fd_ < 0) return;
  close(fd_);
  fd_ = -1;
  monitored_ = false;
  splitter_.Clear();
  ++stats_.disconnects;
  retry_at_ = clock_.Now() + backoff_;
  logger_.Log(LogLevel::kWarning, "OVSDB %s: connection lost (%s); reconnecting in %lld ms",
              path_.c_str(), why.c_str(), static_cast<long long>(base::ToMs(backoff_)));
}

void OvsdbClient::Tick(base::MonoTime now) {
  if (fd_ >= 0 || now < retry_at_) return;
  Status st = Connect(1000);
  if (st.ok()) {
    logger_.Log(LogLevel::kInfo, "OVSDB %s: connected again, %zu bridges, %zu interfaces",
                path_.c_str(), model_.bridges().size(), model_.interfaces().size());
    return;
  }
  // The first failure says why (a permission, after the privilege drop, shows here); the
  // retries that follow go to the debug log.
  const bool first = backoff_ == kMinBackoff;
  backoff_ = std::min(backoff_ * 2, kMaxBackoff);
  retry_at_ = now + backoff_;
  logger_.Log(first ? LogLevel::kWarning : LogLevel::kDebug,
              "OVSDB %s: %s; trying again in %lld ms, then every %lld ms at most", path_.c_str(),
              st.message().c_str(), static_cast<long long>(base::ToMs(backoff_)),
              static_cast<long long>(base::ToMs(kMaxBackoff)));
}

Status OvsdbClient::Send(const std::string& text, int timeout_ms) {
  size_t off = 0;
  const base::MonoTime deadline = clock_.Now() + base::milliseconds(timeout_ms);
  while (off < text.size()) {
    ssize_t n = send(fd_, text.data() + off, text.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, POLLOUT, 0};
      const int64_t left = MsLeft(clock_, deadline);
      if (left == 0 || poll(&p, 1, static_cast<int>(left)) <= 0) {
        return UnavailableError("send: timed out");
      }
      continue;
    }
    return ErrnoError("send", errno);
  }
  return Status::Ok();
}

bool OvsdbClient::ReadSome() {
  char buf[65536];
  for (;;) {
    ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n > 0) {
      splitter_.Feed(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) {
      Disconnect("closed by the server");
      return false;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
    Disconnect(std::string("recv: ") + std::strerror(errno));
    return false;
  }
}

void OvsdbClient::Handle(const std::string& text, int64_t want_id, OvsdbMessage* reply, bool* got) {
  Result<OvsdbMessage> m = ParseMessage(text);
  if (!m.ok()) {
    ++stats_.bad_messages;
    logger_.Log(LogLevel::kWarning, "OVSDB %s: %s (ignored)", path_.c_str(),
                m.status().message().c_str());
    return;
  }
  switch (m->kind) {
    case OvsdbMessage::Kind::kRequest:
      if (m->method == "echo") (void)Send(EchoReply(*m), 1000);
      return;
    case OvsdbMessage::Kind::kNotification:
      if (m->method != "update" || !monitored_) return;
      {
        Status st = model_.ApplyUpdates(m->update_json);
        if (!st.ok()) {
          ++stats_.bad_messages;
          // The model may now miss a change: monitor again from scratch.
          Disconnect("update: " + st.message());
          retry_at_ = clock_.Now();
          return;
        }
      }
      ++stats_.updates;
      ++changes_;
      return;
    case OvsdbMessage::Kind::kReply:
      if (m->id && *m->id == monitor_id_) {
        monitor_id_ = -1;
        if (!m->error.empty()) {
          ++stats_.bad_messages;
          logger_.Log(LogLevel::kError, "OVSDB %s: monitor refused: %s", path_.c_str(),
                      m->error.c_str());
        } else {
          OvsdbModel fresh;
          Status st = fresh.ApplyUpdates(m->result_json);
          if (st.ok()) {
            model_ = std::move(fresh);
            monitored_ = true;
            ++stats_.resyncs;
            ++generation_;
            ++changes_;
          } else {
            ++stats_.bad_messages;
            logger_.Log(LogLevel::kError, "OVSDB %s: monitor reply: %s", path_.c_str(),
                        st.message().c_str());
          }
        }
      }
      if (m->id && *m->id == want_id) {
        *reply = std::move(m).value();
        *got = true;
      }
      return;
  }
}

void OvsdbClient::OnReadable() {
  if (fd_ < 0) return;
  const bool alive = ReadSome();
  for (;;) {
    auto next = splitter_.Next();
    if (!next.ok()) {
      ++stats_.bad_messages;
      Disconnect(next.status().message());
      return;
    }
    if (!next->has_value()) break;
    OvsdbMessage unused;
    bool got = false;
    Handle(**next, -1, &unused, &got);
    if (fd_ < 0) return;
  }
  (void)alive;
}

Result<std::string> OvsdbClient::Call(const std::function<std::string(int64_t id)>& make,
                                      int timeout_ms) {
  if (fd_ < 0) return UnavailableError("OVSDB " + path_ + ": not connected");
  const int64_t id = next_id_++;
  const std::string text = make(id);
  if (text.find("\"monitor\"") != std::string::npos) monitor_id_ = id;
  Status st = Send(text, timeout_ms);
  if (!st.ok()) {
    Disconnect(st.message());
    return st;
  }
  const base::MonoTime deadline = clock_.Now() + base::milliseconds(timeout_ms);
  OvsdbMessage reply;
  bool got = false;
  for (;;) {
    for (;;) {
      auto next = splitter_.Next();
      if (!next.ok()) {
        ++stats_.bad_messages;
        Disconnect(next.status().message());
        return next.status();
      }
      if (!next->has_value()) break;
      Handle(**next, id, &reply, &got);
      if (fd_ < 0) return UnavailableError("OVSDB " + path_ + ": connection lost");
      if (got) {
        if (!reply.error.empty()) return base::InvalidArgumentError(reply.error);
        return reply.result_json;
      }
    }
    const int64_t left = MsLeft(clock_, deadline);
    pollfd p{fd_, POLLIN, 0};
    if (left == 0 || poll(&p, 1, static_cast<int>(left)) <= 0) {
      return UnavailableError("OVSDB " + path_ + ": no reply within " + std::to_string(timeout_ms) +
                              " ms");
    }
    if (!ReadSome()) return UnavailableError("OVSDB " + path_ + ": connection lost");
  }
}

}  // namespace xflowd::hal::ovs
