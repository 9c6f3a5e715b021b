// Fuzzes xflowdump's pcap reader and UDP extraction: arbitrary bytes as a capture file, every
// record's frame through ExtractUdp for its link type, and each frame through every link type.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>

#include "tools/xflowdump/pcap_reader.h"

using xflowd::tools::xflowdump::ExtractUdp;
using xflowd::tools::xflowdump::PcapReader;
using xflowd::tools::xflowdump::PcapRecord;
using xflowd::tools::xflowdump::UdpDatagram;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto in =
      std::make_unique<std::istringstream>(std::string(reinterpret_cast<const char*>(data), size));
  auto reader = PcapReader::FromStream(std::move(in), "fuzz");
  if (reader.ok()) {
    PcapRecord rec;
    for (int i = 0; i < 1000; ++i) {
      auto more = (*reader)->Next(&rec);
      if (!more.ok() || !*more) break;
      UdpDatagram udp;
      ExtractUdp((*reader)->link_type(), rec.data, &udp);
    }
  }
  static const uint32_t kLinks[] = {0, 1, 101, 108, 113, 228, 229, 276};
  for (uint32_t link : kLinks) {
    UdpDatagram udp;
    if (ExtractUdp(link, xflowd::hal::base::ByteView(data, size), &udp) ==
        xflowd::tools::xflowdump::ExtractResult::kOk) {
      if (udp.payload.data() < data || udp.payload.end() > data + size) __builtin_trap();
    }
  }
  return 0;
}
