// libFuzzer target: rtnetlink link messages (one recv() buffer) -> LinkMessage, PortCounters,
// PortInfo. Must never crash, leak or read out of bounds.
#include <cstddef>
#include <cstdint>

#include "hal/rtnl/rtnl_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace xflowd::hal;
  rtnl::ParseStats stats;
  uint64_t sink = 0;
  rtnl::ParseNetlinkBuffer(
      base::ByteView(data, size),
      [&](const rtnl::LinkMessage& l) {
        PortCounters c = rtnl::ToPortCounters(l);
        PortInfo info;
        rtnl::ApplyToPortInfo(l, &info);
        sink += c.in_octets + info.name.size() + l.oper_up();
      },
      &stats);
  // Also the body parser on its own (ifinfomsg without a netlink header).
  rtnl::LinkMessage l;
  rtnl::ParseLinkBody(base::ByteView(data, size), false, &l, &stats);
  return sink == 0xdeadbeef ? 1 : 0;
}
