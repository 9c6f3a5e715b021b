// HostFiles: the seam between the host counters and the operating system. Everything the host
// counters need is a file under /proc or /sys, plus the size of mounted file systems, so the
// seam reads a file by path; ProcFiles (proc_files.h) is the real back-end, and tests serve a
// copy of a machine's files (tests/testdata/host) through the same interface.
#pragma once

#include <cstddef>
#include <cstdint>

#include "hal/base/status.h"

namespace xflowd::hal::host {

// A mounted file system's size (statvfs), bytes.
struct FsSpace {
  uint64_t total = 0;  // f_blocks x f_frsize
  uint64_t free = 0;   // f_bfree x f_frsize (root's reserve included)
  uint64_t avail = 0;  // f_bavail x f_frsize: what users can still write
};

class HostFiles {
 public:
  virtual ~HostFiles() = default;
  // Reads the file at `path` ("/proc/stat") into buf, at most `cap` bytes; the bytes read. A
  // file that fills buf may have been cut: callers treat that as an error. NOT_FOUND when the
  // file does not exist, PERMISSION_DENIED when it cannot be read.
  virtual base::Result<size_t> Read(const char* path, char* buf, size_t cap) = 0;
  // Whether a file or directory exists at `path` ("/sys/block/sda").
  virtual bool Exists(const char* path) = 0;
  // The size of the file system mounted at `mount_point`.
  virtual base::Result<FsSpace> StatFs(const char* mount_point) = 0;
};

}  // namespace xflowd::hal::host
