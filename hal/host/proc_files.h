// ProcFiles: HostFiles over the running kernel's /proc and /sys (open/read/close per file,
// statvfs per mount). Nothing is held open between reads.
#pragma once

#include <memory>

#include "hal/host/host_files.h"

namespace xflowd::hal::host {

class ProcFiles final : public HostFiles {
 public:
  // Fails (with a message) when /proc is not mounted.
  static base::Result<std::unique_ptr<ProcFiles>> Create();

  base::Result<size_t> Read(const char* path, char* buf, size_t cap) override;
  bool Exists(const char* path) override;
  base::Result<FsSpace> StatFs(const char* mount_point) override;

 private:
  ProcFiles() = default;
};

}  // namespace xflowd::hal::host
