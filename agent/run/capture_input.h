// A capture file as a PacketSource for -r: libpcap's reader (pcap and pcapng, software
// sampling) when the build has it (capture_input_pcap.cc), else xflowd's own classic-pcap
// reader (capture_input_own.cc).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "agent/config/config.h"
#include "hal/base/status.h"
#include "hal/packet_source.h"

namespace xflowd::agent::run {

struct CaptureInput {
  std::unique_ptr<hal::PacketSource> source;
  std::function<bool()> done;
  std::function<std::string()> read_error;
  std::function<uint64_t()> packets_read;
};

// Either reader as a CaptureInput: both have done(), read_error() and packets_read().
template <typename Reader>
CaptureInput CaptureInputOf(std::unique_ptr<Reader> reader) {
  Reader* raw = reader.get();
  CaptureInput in;
  in.source = std::move(reader);
  in.done = [raw] { return raw->done(); };
  in.read_error = [raw] { return raw->read_error(); };
  in.packets_read = [raw] { return raw->packets_read(); };
  return in;
}

hal::base::Result<CaptureInput> OpenCapture(const std::string& path, uint32_t sampling,
                                            uint64_t seed);

// The reader `reader` asks for (capture_input_mapped.cc): mmap = hal::capfile's
// MappedFileSource; libpcap = OpenCapture; auto = mmap for a regular file, else OpenCapture.
// *name says which ("mmap", "libpcap" or "stream").
hal::base::Result<CaptureInput> OpenCaptureWith(config::FileReader reader, const std::string& path,
                                                uint32_t sampling, uint64_t seed,
                                                std::string* name);

}  // namespace xflowd::agent::run
