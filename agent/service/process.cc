#include "agent/service/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace xflowd::agent::service {

using hal::base::ErrnoError;
using hal::base::LogLevel;
using hal::base::Result;
using hal::base::Status;

namespace {

// Points `fd` at /dev/null.
void ToDevNull(int fd, int flags) {
  const int null_fd = open("/dev/null", flags | O_CLOEXEC);
  if (null_fd < 0) return;
  if (null_fd != fd) {
    dup2(null_fd, fd);
    close(null_fd);
  }
}

std::string ReadSmallFile(const std::string& path, bool* exists) {
  *exists = false;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return "";
  *exists = true;
  char buf[64];
  const ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

}  // namespace

Detached::~Detached() {
  if (fd_ >= 0) close(fd_);
}

void Detached::Ready() {
  if (fd_ < 0) return;
  const char ok = 'R';
  ssize_t n;
  do {
    n = write(fd_, &ok, 1);
  } while (n < 0 && errno == EINTR);
  close(fd_);
  fd_ = -1;
  std::fflush(stdout);
  std::fflush(stderr);
  ToDevNull(STDOUT_FILENO, O_WRONLY);
  ToDevNull(STDERR_FILENO, O_WRONLY);
}

Result<Detached> Daemonize() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return ErrnoError("--daemon: pipe", errno);
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t child = fork();
  if (child < 0) {
    const int err = errno;
    close(fds[0]);
    close(fds[1]);
    return ErrnoError("--daemon: fork", err);
  }
  if (child > 0) {
    close(fds[1]);
    char c = 0;
    ssize_t n;
    do {
      n = read(fds[0], &c, 1);
    } while (n < 0 && errno == EINTR);
    if (n == 1 && c == 'R') _exit(0);
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
  }
  close(fds[0]);
  if (setsid() < 0) return ErrnoError("--daemon: setsid", errno);
  if (chdir("/") != 0) return ErrnoError("--daemon: chdir /", errno);
  ToDevNull(STDIN_FILENO, O_RDONLY);
  return Detached(fds[1]);
}

pid_t ParsePid(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  long long pid = 0;
  size_t digits = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9' && digits < 10; ++i, ++digits) {
    pid = pid * 10 + (text[i] - '0');
  }
  if (digits == 0 || pid <= 0 || pid > 0x7fffffff) return 0;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n')) ++i;
  return i == text.size() ? static_cast<pid_t>(pid) : 0;
}

Result<std::unique_ptr<PidFile>> PidFile::Create(const std::string& path, uid_t dir_uid,
                                                 gid_t dir_gid, hal::base::Logger& logger) {
  const std::string what = "pid file " + path;
  bool exists = false;
  const std::string old = ReadSmallFile(path, &exists);
  if (exists) {
    const pid_t pid = ParsePid(old);
    if (pid > 0 && pid != getpid() && (kill(pid, 0) == 0 || errno == EPERM)) {
      return hal::base::InvalidArgumentError(what + ": process " + std::to_string(pid) +
                                             " is running (another xflowd?); stop it, or "
                                             "remove the file if it is not xflowd");
    }
    logger.Log(LogLevel::kWarning, "%s: replacing a stale one (%s)", what.c_str(),
               pid > 0 ? ("process " + std::to_string(pid) + " is not running").c_str()
                       : "it holds no process id");
  }
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos || slash == 0 ? "" : path.substr(0, slash);
  struct stat st;
  if (!dir.empty() && stat(dir.c_str(), &st) != 0) {
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return ErrnoError(what, errno);
    if ((dir_uid != static_cast<uid_t>(-1) || dir_gid != static_cast<gid_t>(-1)) &&
        chown(dir.c_str(), dir_uid, dir_gid) != 0) {
      return ErrnoError(what + ": giving " + dir + " to the service user", errno);
    }
  }
  // Written beside, then renamed: a reader never sees a half-written file.
  const std::string tmp = path + ".tmp";
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return ErrnoError(what, errno);
  const std::string text = std::to_string(getpid()) + "\n";
  const bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const int write_errno = errno;
  if (close(fd) != 0 || !written) {
    unlink(tmp.c_str());
    return ErrnoError(what, written ? errno : write_errno);
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    unlink(tmp.c_str());
    return ErrnoError(what, err);
  }
  std::unique_ptr<PidFile> f(new PidFile(path, logger));
  f->pid_ = getpid();
  return f;
}

PidFile::~PidFile() {
  bool exists = false;
  const std::string text = ReadSmallFile(path_, &exists);
  if (!exists || ParsePid(text) != pid_) return;  // gone, or another process's now
  if (unlink(path_.c_str()) != 0) {
    logger_.Log(LogLevel::kWarning,
                "pid file %s: not removed: %s (after the switch to the service user it can only "
                "be removed from a directory that user may write, e.g. /run/xflowd/)",
                path_.c_str(), std::strerror(errno));
  }
}

}  // namespace xflowd::agent::service
