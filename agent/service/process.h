// Running without a service manager (BusyBox init, OpenWrt procd, SysV scripts): --daemon
// detaches, --pid-file records the process id (docs/porting.md "Running without systemd").
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "hal/base/log.h"
#include "hal/base/status.h"

namespace xflowd::agent::service {

// The detached child's end of the start-up pipe.
class Detached {
 public:
  explicit Detached(int fd) : fd_(fd) {}
  Detached(Detached&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Detached& operator=(Detached&&) = delete;
  ~Detached();
  // Everything runs: the waiting parent exits 0, and stdout and stderr now go to /dev/null.
  // Once only; later calls do nothing.
  void Ready();

 private:
  int fd_;
};

// Forks. The parent waits and never returns: it exits 0 once the child calls Ready(), or with
// the child's exit status if the child ends first (1 if it was killed), so a start-up error
// still gives its status and, on the still attached stderr, its message. The child returns:
// in a new session (setsid), in /, stdin from /dev/null; stdout and stderr stay until Ready().
hal::base::Result<Detached> Daemonize();

// The pid file, written at start and removed at exit.
class PidFile {
 public:
  // Refuses when the file names a running process (another xflowd); replaces a stale one with
  // a warning. A missing parent directory is made (0755) and given to dir_uid:dir_gid (-1:
  // left as made), so that a user xflowd becomes can remove the file at exit.
  static hal::base::Result<std::unique_ptr<PidFile>> Create(const std::string& path, uid_t dir_uid,
                                                            gid_t dir_gid,
                                                            hal::base::Logger& logger);
  // Removes the file if it still holds this process's id; a failure is a warning.
  ~PidFile();
  PidFile(const PidFile&) = delete;
  PidFile& operator=(const PidFile&) = delete;

 private:
  PidFile(std::string path, hal::base::Logger& logger) : path_(std::move(path)), logger_(logger) {}
  std::string path_;
  hal::base::Logger& logger_;
  pid_t pid_ = 0;
};

// The process id in a pid file's text ("1234\n"), or 0 if it holds none.
pid_t ParsePid(const std::string& text);

}  // namespace xflowd::agent::service
