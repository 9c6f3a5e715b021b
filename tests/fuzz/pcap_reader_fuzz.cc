// Fuzzes the classic-pcap reader (hal/capfile) and xflowdump's UDP extraction: arbitrary bytes
// as a capture file, every record's frame through ExtractUdp for its link type, and each frame
// through every link type.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>

#include "hal/capfile/pcap_reader.h"
#include "hal/link_type.h"
#include "tools/xflowdump/udp_extract.h"

using xflowd::hal::LinkType;
using xflowd::hal::capfile::PcapReader;
using xflowd::hal::capfile::PcapRecord;
using xflowd::tools::xflowdump::ExtractUdp;
using xflowd::tools::xflowdump::UdpDatagram;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto in =
      std::make_unique<std::istringstream>(std::string(reinterpret_cast<const char*>(data), size));
  auto reader = PcapReader::FromStream(std::move(in), "fuzz");
  if (reader.ok()) {
    LinkType link = LinkType::kEthernet;
    const bool known = xflowd::hal::LinkTypeFromPcap((*reader)->link_type(), &link);
    PcapRecord rec;
    for (int i = 0; i < 1000; ++i) {
      auto more = (*reader)->Next(&rec);
      if (!more.ok() || !*more) break;
      UdpDatagram udp;
      if (known) ExtractUdp(link, rec.data, &udp);
    }
  }
  static const LinkType kLinks[] = {LinkType::kEthernet,  LinkType::kRawIp, LinkType::kLinuxSll,
                                    LinkType::kLinuxSll2, LinkType::kNull,  LinkType::kLoop};
  for (LinkType link : kLinks) {
    UdpDatagram udp;
    if (ExtractUdp(link, xflowd::hal::base::ByteView(data, size), &udp) ==
        xflowd::tools::xflowdump::ExtractResult::kOk) {
      if (udp.payload.data() < data || udp.payload.end() > data + size) __builtin_trap();
    }
  }
  return 0;
}
