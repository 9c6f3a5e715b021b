#include "tools/xflowctl/ctl_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace xflowd::tools::xflowctl {

namespace {

double Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Closes the fd when the call returns.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

}  // namespace

std::string ConnectErrorMessage(const std::string& path, int err) {
  std::string m = "cannot connect to " + path + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      m += " (is xflowd running? It makes this socket unless started with another "
           "--control-socket PATH or --control-socket none; give that path with --socket)";
      break;
    case ECONNREFUSED:
      m += " (the socket is there but nobody listens: xflowd is not running, or died without "
           "removing it)";
      break;
    case EACCES:
    case EPERM:
      m += " (the socket is mode 0600 for the user running xflowd, or 0660 for its control "
           "group: run as that user or root, or join the group)";
      break;
    default:
      break;
  }
  return m;
}

CallOutcome Call(const std::string& socket_path, const std::string& request_line,
                 double timeout_s) {
  CallOutcome out;
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (socket_path.empty() || socket_path.size() >= sizeof(addr.sun_path)) {
    out.error = "socket path '" + socket_path + "' is empty or too long";
    return out;
  }
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  Fd s{socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (s.fd < 0) {
    out.error = std::string("socket: ") + std::strerror(errno);
    return out;
  }
  if (connect(s.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    out.error = ConnectErrorMessage(socket_path, errno);
    return out;
  }
  const double deadline = Now() + timeout_s;
  auto wait = [&](short events) -> bool {
    for (;;) {
      const double left = deadline - Now();
      if (left <= 0) return false;
      pollfd p = {s.fd, events, 0};
      const int r = poll(&p, 1, static_cast<int>(left * 1000) + 1);
      if (r > 0) return true;
      if (r < 0 && errno != EINTR) return false;
    }
  };
  size_t sent = 0;
  while (sent < request_line.size()) {
    if (!wait(POLLOUT)) {
      out.error = "no reply from " + socket_path + " within the timeout";
      return out;
    }
    const ssize_t n = send(s.fd, request_line.data() + sent, request_line.size() - sent,
                           MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n < 0) {
      out.error = "sending to " + socket_path + ": " + std::strerror(errno);
      return out;
    }
    sent += static_cast<size_t>(n);
  }
  std::string in;
  for (;;) {
    const size_t nl = in.find('\n');
    if (nl != std::string::npos) {
      in.resize(nl);
      break;
    }
    if (!wait(POLLIN)) {
      out.error = "no reply from " + socket_path + " within " + std::to_string(timeout_s) +
                  " s (xflowd busy or stuck?)";
      return out;
    }
    char buf[65536];
    const ssize_t n = recv(s.fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) {
      out.error = "xflowd at " + socket_path + " closed the connection without a reply";
      return out;
    }
    in.append(buf, static_cast<size_t>(n));
  }
  nlohmann::json reply = nlohmann::json::parse(in, nullptr, false);
  if (reply.is_discarded() || !reply.is_object() || !reply.contains("ok") ||
      !reply["ok"].is_boolean()) {
    out.error = "the reply from " + socket_path + " is not a control reply: " + in.substr(0, 200);
    return out;
  }
  out.reached = true;
  out.reply = std::move(reply);
  return out;
}

}  // namespace xflowd::tools::xflowctl
