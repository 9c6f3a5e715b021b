#include "agent/run/capture_input.h"
#include "hal/capfile/capture_file_source.h"

namespace xflowd::agent::run {

// Every packet: CheckSupported refuses --sampling with -r in a build without libpcap.
hal::base::Result<CaptureInput> OpenCapture(const std::string& path, uint32_t, uint64_t) {
  auto s = hal::capfile::CaptureFileSource::Create(path);
  if (!s.ok()) return s.status();
  return CaptureInputOf(std::move(s.value()));
}

}  // namespace xflowd::agent::run
