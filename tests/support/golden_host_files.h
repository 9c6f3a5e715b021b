// GoldenHostFiles: the host counters' seam (hal/host/host_files.h) served from a copy of a
// machine's files: <root>/proc/stat for /proc/stat, and so on; <root>/statvfs lists each
// mount point's total, free and available bytes ("/ 270553174016 251356155904 83548262400").
// tests/testdata/host holds the test machine's (Debian 12 VM, 2 CPUs, x86_64).
#pragma once

#include <sys/stat.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "hal/host/host_files.h"

namespace xflowd::testing {

class GoldenHostFiles final : public hal::host::HostFiles {
 public:
  explicit GoldenHostFiles(std::string root) : root_(std::move(root)) {}

  hal::base::Result<size_t> Read(const char* path, char* buf, size_t cap) override {
    ++reads_;
    auto over = overrides_.find(path);
    std::string text;
    if (over != overrides_.end()) {
      text = over->second;
    } else {
      std::ifstream f(root_ + path, std::ios::binary);
      if (!f) return hal::base::NotFoundError(std::string(path) + ": no such file");
      std::stringstream ss;
      ss << f.rdbuf();
      text = ss.str();
    }
    const size_t n = text.size() < cap ? text.size() : cap;
    text.copy(buf, n);
    return n;
  }
  bool Exists(const char* path) override {
    struct stat st;
    return ::stat((root_ + path).c_str(), &st) == 0;
  }
  hal::base::Result<hal::host::FsSpace> StatFs(const char* mount_point) override {
    std::ifstream f(root_ + "/statvfs");
    std::string mp;
    hal::host::FsSpace s;
    while (f >> mp >> s.total >> s.free >> s.avail) {
      if (mp == mount_point) return s;
    }
    return hal::base::NotFoundError(std::string(mount_point) + ": not in statvfs");
  }

  // Serves `text` for `path` instead of the file (a file that changed, or a broken one).
  void Override(const std::string& path, std::string text) { overrides_[path] = std::move(text); }
  int reads() const { return reads_; }

 private:
  std::string root_;
  std::map<std::string, std::string> overrides_;
  int reads_ = 0;
};

}  // namespace xflowd::testing
