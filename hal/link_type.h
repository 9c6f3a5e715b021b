// LinkType: what the bytes of a captured frame start with. Capture back-ends say it in each
// PacketSample; the packet parser (agent/packet) is the one place that reads the link headers.
#pragma once

#include <cstdint>

namespace xflowd::hal {

// Our own values (not pcap's): map pcap's with LinkTypeFromPcap.
enum class LinkType : uint8_t {
  kEthernet = 0,   // destination MAC first
  kRawIp = 1,      // the IPv4 or IPv6 header; the version nibble says which (NFLOG, DLT_RAW)
  kLinuxSll = 2,   // Linux cooked v1, 16 bytes: packet type, ARPHRD, address, ethertype
  kLinuxSll2 = 3,  // Linux cooked v2, 20 bytes: ethertype, ifindex, ARPHRD, packet type, address
  kNull = 4,       // BSD loopback: 4-byte address family in the capturing host's byte order
  kLoop = 5,       // OpenBSD loopback: 4-byte address family in network byte order
};

// pcap LINKTYPE_ (file header) or DLT_ (libpcap handle) value -> LinkType. Raw IP has three
// numbers: LINKTYPE_RAW 101, and DLT_RAW 12 (most systems) or 14 (BSD/OS, old OpenBSD) in
// files written without the LINKTYPE mapping; LINKTYPE_IPV4/IPV6 (228/229) are raw IP too.
// Returns false for anything else (the value is then left alone).
constexpr bool LinkTypeFromPcap(uint32_t pcap_link_type, LinkType* out) {
  switch (pcap_link_type) {
    case 0:
      *out = LinkType::kNull;
      return true;
    case 1:
      *out = LinkType::kEthernet;
      return true;
    case 12:
    case 14:
    case 101:
    case 228:
    case 229:
      *out = LinkType::kRawIp;
      return true;
    case 108:
      *out = LinkType::kLoop;
      return true;
    case 113:
      *out = LinkType::kLinuxSll;
      return true;
    case 276:
      *out = LinkType::kLinuxSll2;
      return true;
    default:
      return false;
  }
}

// The pcap link types LinkTypeFromPcap accepts, for error messages.
constexpr const char* kSupportedPcapLinkTypes =
    "Ethernet (1), raw IP (101, 12, 14, 228, 229), Linux cooked SLL (113) and SLL2 (276), "
    "loopback NULL (0) and LOOP (108)";

}  // namespace xflowd::hal
