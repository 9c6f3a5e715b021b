// SimHostFiles: the host counters' files (/proc, /sys) of a made-up host, so the simulated
// switch exports host counters like a Linux switch does (`xflowd --sim`, the demo). The same
// parsers read them as the real files; the numbers follow the clock (4 CPUs at 25% busy,
// steady disk and network traffic: the network totals are the switch ports' own counters).
#pragma once

#include <string>

#include "hal/base/clock.h"
#include "hal/host/host_files.h"
#include "hal/port_inventory.h"
#include "sim/sim_switch.h"

namespace xflowd::sim {

class SimHostFiles final : public hal::host::HostFiles {
 public:
  // `clock` and `sw` must outlive this; times count from `start`.
  SimHostFiles(const hal::base::Clock& clock, SimSwitch& sw, hal::base::MonoTime start)
      : clock_(clock), sw_(sw), start_(start) {}

  hal::base::Result<size_t> Read(const char* path, char* buf, size_t cap) override;
  bool Exists(const char* path) override;
  hal::base::Result<hal::host::FsSpace> StatFs(const char* mount_point) override;

  // The text served for `path` now (empty string with false: no such file).
  bool Text(const std::string& path, std::string* out);

 private:
  const hal::base::Clock& clock_;
  SimSwitch& sw_;
  hal::base::MonoTime start_;
};

}  // namespace xflowd::sim
