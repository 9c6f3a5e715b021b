#include "agent/run/capture_input.h"
#include "hal/capfile/capture_file_source.h"

namespace xflowd::agent::run {

// Every packet: CheckSupported refuses --sampling with -r in a build without libpcap.
hal::base::Result<CaptureInput> OpenCapture(const std::string& path, uint32_t, uint64_t) {
  auto s = hal::capfile::CaptureFileSource::Create(path);
  if (!s.ok()) return s.status();
  hal::capfile::CaptureFileSource* raw = s->get();
  CaptureInput in;
  in.source = std::move(s.value());
  in.done = [raw] { return raw->done(); };
  in.read_error = [raw] { return raw->read_error(); };
  in.packets_read = [raw] { return raw->packets_read(); };
  return in;
}

}  // namespace xflowd::agent::run
