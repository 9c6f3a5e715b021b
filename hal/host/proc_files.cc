#include "hal/host/proc_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace xflowd::hal::host {

base::Result<std::unique_ptr<ProcFiles>> ProcFiles::Create() {
  struct stat st;
  if (::stat("/proc/stat", &st) != 0) {
    return base::UnavailableError("host counters: /proc/stat is not there (is /proc mounted?)");
  }
  return std::unique_ptr<ProcFiles>(new ProcFiles());
}

base::Result<size_t> ProcFiles::Read(const char* path, char* buf, size_t cap) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return base::NotFoundError(std::string(path) + ": no such file");
    return base::ErrnoError(std::string("open ") + path, err);
  }
  size_t n = 0;
  // /proc files come in pieces (a page or a seq_file record at a time): read to the end.
  while (n < cap) {
    const ssize_t r = ::read(fd, buf + n, cap - n);
    if (r < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return base::ErrnoError(std::string("read ") + path, err);
    }
    if (r == 0) break;
    n += static_cast<size_t>(r);
  }
  ::close(fd);
  return n;
}

bool ProcFiles::Exists(const char* path) {
  struct stat st;
  return ::stat(path, &st) == 0;
}

base::Result<FsSpace> ProcFiles::StatFs(const char* mount_point) {
  struct statvfs v;
  if (::statvfs(mount_point, &v) != 0) {
    return base::ErrnoError(std::string("statvfs ") + mount_point, errno);
  }
  FsSpace s;
  const uint64_t unit = v.f_frsize ? v.f_frsize : v.f_bsize;
  s.total = uint64_t{v.f_blocks} * unit;
  s.free = uint64_t{v.f_bfree} * unit;
  s.avail = uint64_t{v.f_bavail} * unit;
  return s;
}

}  // namespace xflowd::hal::host
