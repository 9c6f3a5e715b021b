// ControlServer: the daemon's control socket (xflowctl, docs/control.md). A unix stream socket,
// never TCP, served on the daemon's EventLoop: requests are lines, each answered by a line.
//
// Bounded work per loop turn, so a slow, stuck or hostile client never holds up the samples or
// the tick: each readiness of a client reads at most kReadChunk bytes and answers at most
// max_requests_per_turn lines (the rest wait for the next turn); at most 8 connections are
// accepted per turn. A client is dropped and counted when
//  - its replies pile up unread: more than max_output_bytes queued when a new reply is made;
//  - it sends a line longer than max_request_bytes (it gets an error line first, if it reads);
//  - it is idle (nothing read or written) for idle_timeout (CheckIdle, on a 1 s timer);
// and a connection beyond max_clients gets an error line and is closed at once.
//
// The server knows lines only; what a line means is the handler's business (protocol.h).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/config.h"
#include "agent/daemon/event_loop.h"
#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "hal/base/status.h"
#include "hal/base/time.h"

namespace xflowd::agent::control {

// Where the socket goes unless configured (config::ControlConfig).
constexpr const char* kDefaultSocketPath = config::kDefaultControlSocket;

struct ControlServerOptions {
  std::string path;   // the socket; its parent directory is made (0755) if missing
  std::string group;  // empty: mode 0600 (owner only); else 0660 and this group
  // The user xflowd becomes after start (-1: none): the socket file is given to it (and to its
  // group unless `group` is set), and so is a directory made for the socket, so that the
  // user can still serve and remove it.
  uid_t owner_uid = static_cast<uid_t>(-1);
  gid_t owner_gid = static_cast<gid_t>(-1);
  size_t max_clients = 16;
  size_t max_request_bytes = 16 * 1024;  // one line, without its newline
  size_t max_output_bytes = 4 * 1024 * 1024;
  size_t max_requests_per_turn = 16;  // per client and readiness
  hal::base::Duration idle_timeout = hal::base::seconds(60);
};

// docs/metrics.md, "Control socket".
struct ControlServerStats {
  uint64_t accepted = 0;      // connections accepted and served
  uint64_t rejected = 0;      // connections closed at once: max_clients were connected
  uint64_t dropped_slow = 0;  // clients dropped: replies piled up unread
  uint64_t dropped_long = 0;  // clients dropped: a request line over max_request_bytes
  uint64_t dropped_idle = 0;  // clients dropped: idle for idle_timeout
  uint64_t requests = 0;      // request lines answered
  uint64_t errors = 0;        // of those, answered with "ok": false
  uint64_t clients = 0;       // connected now (gauge)
};

class ControlServer {
 public:
  // Answers one request line (no newline) with one reply line (ending in '\n'); `*ok` false
  // for an error reply (counted).
  using LineHandler = std::function<std::string(std::string_view line, bool* ok)>;
  // The error reply line for a message (over-long line, too many clients).
  using ErrorEncoder = std::function<std::string(const std::string& message)>;

  // Makes the socket (a stale socket file from an earlier run is replaced; a live one, or a
  // file that is not a socket, is an error) and watches it on `loop`. `loop`, `clock` and
  // `logger` must outlive the server.
  static hal::base::Result<std::unique_ptr<ControlServer>> Create(
      const ControlServerOptions& options, daemon::EventLoop& loop, const hal::base::Clock& clock,
      hal::base::Logger& logger, LineHandler handler, ErrorEncoder encode_error);
  // Closes every client and removes the socket file.
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Drops the clients idle for idle_timeout at the clock's time (a 1 s timer calls it).
  void CheckIdle();

  const ControlServerStats& stats() const { return stats_; }
  const std::string& path() const { return options_.path; }
  // "control: 3 clients accepted, 0 rejected, ..." for the exit summary.
  std::string Summary() const;

  static constexpr size_t kReadChunk = 4096;
  static constexpr int kMaxAcceptsPerTurn = 8;

 private:
  struct Client {
    int fd = -1;
    std::string in;   // bytes read, not yet answered
    std::string out;  // reply bytes not yet written
    size_t out_off = 0;
    bool read_closed = false;
    uint32_t interest = 0;
    hal::base::MonoTime last_activity;
  };
  enum class Drop { kNone, kSlow, kLong, kIdle };

  ControlServer(const ControlServerOptions& options, daemon::EventLoop& loop,
                const hal::base::Clock& clock, hal::base::Logger& logger, LineHandler handler,
                ErrorEncoder encode_error);
  hal::base::Status Init();
  void OnListen();
  void OnClient(int fd, uint32_t events);
  // False when the client was closed.
  bool Flush(Client& c);
  bool Answer(Client& c, std::string_view line);
  void Close(int fd, Drop why);
  Client* Find(int fd);

  ControlServerOptions options_;
  daemon::EventLoop& loop_;
  const hal::base::Clock& clock_;
  hal::base::Logger& logger_;
  // Clients dropped and accept failures: a client (or fd exhaustion) could repeat them fast.
  hal::base::RateLimitedLog drop_log_;
  LineHandler handler_;
  ErrorEncoder encode_error_;
  int listen_fd_ = -1;
  int timer_fd_ = -1;
  bool created_file_ = false;
  std::vector<std::unique_ptr<Client>> clients_;
  ControlServerStats stats_;
};

}  // namespace xflowd::agent::control
