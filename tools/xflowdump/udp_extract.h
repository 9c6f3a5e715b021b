// The UDP datagram inside a captured frame, for xflowdump -r. The frame is read by the one
// packet parser (agent/packet); this only says why a frame carries no datagram we can decode.
#pragma once

#include "hal/base/byte_view.h"
#include "hal/base/ip_address.h"
#include "hal/link_type.h"

namespace xflowd::tools::xflowdump {

// A UDP datagram found in a captured frame. payload points into the frame.
struct UdpDatagram {
  hal::base::Endpoint source;
  hal::base::Endpoint destination;
  hal::base::ByteView payload;
};

enum class ExtractResult {
  kOk = 0,
  kNotIp,      // ARP, LLDP, MPLS, more VLAN tags than the parser keeps, an unknown loopback family
  kNotUdp,     // IP but not UDP
  kFragment,   // an IP fragment (reassembly is not supported)
  kTruncated,  // the capture cut the IP/UDP headers or the payload short (snaplen)
  kMalformed,  // header fields that contradict each other (bad IHL, UDP length < 8)
  // Never returned (RunPcap refuses such files up front); kept as the summary's last counter.
  kUnsupportedLink,
};
const char* ExtractResultName(ExtractResult r);

// Finds the UDP datagram in `frame`. Never reads outside `frame`.
ExtractResult ExtractUdp(hal::LinkType link, hal::base::ByteView frame, UdpDatagram* out);

}  // namespace xflowd::tools::xflowdump
