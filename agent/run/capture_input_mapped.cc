#include <sys/stat.h>

#include "agent/run/capture_input.h"
#include "agent/run/run.h"
#include "hal/capfile/mapped_file_source.h"

namespace xflowd::agent::run {

hal::base::Result<CaptureInput> OpenCaptureWith(config::FileReader reader, const std::string& path,
                                                uint32_t sampling, uint64_t seed,
                                                std::string* name) {
  bool mapped = reader == config::FileReader::kMmap;
  if (reader == config::FileReader::kAuto) {
    // A pipe or a device cannot be mapped: those go to the stream reader.
    struct stat st = {};
    mapped = ::stat(path.c_str(), &st) != 0 || S_ISREG(st.st_mode);
  }
  if (mapped) {
    hal::capfile::MappedFileOptions o;
    o.sampling_rate = sampling;
    o.seed = seed;
    auto s = hal::capfile::MappedFileSource::Create(path, o);
    if (!s.ok()) return s.status();
    *name = "mmap";
    return CaptureInputOf(std::move(s.value()));
  }
  *name = HavePcap() ? "libpcap" : "stream";
  return OpenCapture(path, sampling, seed);
}

}  // namespace xflowd::agent::run
