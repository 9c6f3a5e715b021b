#include "agent/run/capture_input.h"
#include "hal/pcap/pcap_file_source.h"

namespace xflowd::agent::run {

hal::base::Result<CaptureInput> OpenCapture(const std::string& path, uint32_t sampling,
                                            uint64_t seed) {
  namespace pc = hal::pcap;
  pc::PcapFileOptions fo;
  fo.sampling_rate = sampling;
  fo.seed = seed;
  auto s = pc::PcapFileSource::Create(path, fo);
  if (!s.ok()) return s.status();
  return CaptureInputOf(std::move(s.value()));
}

}  // namespace xflowd::agent::run
