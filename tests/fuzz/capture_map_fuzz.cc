// Fuzzes the mapped capture reader (hal/capfile/capture_map.h): arbitrary bytes as a classic
// pcap or pcapng file, every record read; each record's bytes must lie inside the input (the
// reader hands out views into the mapping) and the reader must stop, not loop.
#include <cstddef>
#include <cstdint>

#include "hal/capfile/capture_map.h"

using xflowd::hal::capfile::CaptureMap;
using xflowd::hal::capfile::CaptureRecord;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto map = CaptureMap::FromBytes(xflowd::hal::base::ByteView(data, size), "fuzz");
  if (!map.ok()) return 0;
  CaptureRecord rec;
  // Every record takes at least 12 input bytes, so a reader that moves on never needs more.
  for (size_t i = 0; i <= size / 12 + 1; ++i) {
    auto more = (*map)->Next(&rec);
    if (!more.ok() || !*more) return 0;
    if (rec.data.data() < data || rec.data.data() + rec.data.size() > data + size) {
      __builtin_trap();
    }
  }
  __builtin_trap();  // more records than the input can hold
}
