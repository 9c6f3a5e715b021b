// Packet header parser: Ethernet, Linux cooked (SLL, SLL2), loopback (NULL, LOOP) and raw IP
// link headers, 802.1Q/QinQ, MPLS, IPv4 (options, fragments), IPv6 (extension
// headers), TCP, UDP, ICMP, ICMPv6. Works on truncated headers (sFlow cuts at 128 bytes):
// it fills in what the bytes contain and says where it stopped. Never reads past the view,
// never allocates. Used by the sFlow agent (VLAN, sampled IPv4/IPv6) and the flow cache.
#pragma once

#include <cstdint>

#include "hal/base/byte_view.h"
#include "hal/link_type.h"

namespace xflowd::agent::packet {

// What the frame starts with; see hal/link_type.h.
using LinkType = hal::LinkType;

// Why parsing stopped before L4 was complete. kNone = everything present was understood.
enum class ParseError : uint8_t {
  kNone = 0,
  kTruncatedL2,           // link header (Ethernet 14, SLL 16, SLL2 20, loopback 4 bytes) or a
                          // tag/label cut off
  kNotIp,                 // ethertype (or loopback address family) is not IPv4/IPv6 (ARP,
                          // LLDP...): L2 fields valid
  kTooManyTags,           // more than kMaxVlanTags VLAN tags or kMaxMplsLabels labels
  kTruncatedL3,           // IP header (incl. IPv6 extension headers) cut off, or no byte after
                          // the MPLS bottom of stack
  kBadIpVersion,          // version nibble does not match the ethertype (kRawIp: not 4 or 6)
  kBadIpHeaderLength,     // IPv4 IHL < 5, or header longer than total length
  kExtensionHeaderLimit,  // more than kMaxIpv6ExtHeaders IPv6 extension headers (or a loop)
  kTruncatedL4,           // L4 header cut off (L3 fields valid)
};
// Stable snake_case name ("truncated_l4") for stats and logs; a static string.
const char* ParseErrorName(ParseError e);

constexpr int kMaxVlanTags = 2;
constexpr int kMaxMplsLabels = 8;
constexpr int kMaxIpv6ExtHeaders = 8;

// TCP flag bits as in the TCP header's flags byte (plus NS in bit 8).
enum TcpFlag : uint16_t {
  kTcpFin = 0x01,
  kTcpSyn = 0x02,
  kTcpRst = 0x04,
  kTcpPsh = 0x08,
  kTcpAck = 0x10,
  kTcpUrg = 0x20,
  kTcpEce = 0x40,
  kTcpCwr = 0x80,
  kTcpNs = 0x100,
};

// On any error, the fields whose bytes were present are filled in (a cut IPv4 header still
// gives its TOS, TTL, ...); `error` says how far they can be trusted. Which errors occur where:
// - kTooManyTags: the first kMaxVlanTags tags / kMaxMplsLabels labels are kept, and ethertype
//   is the TPID of the tag that did not fit.
// - kTruncatedL3 inside the IPv6 extension header chain: src/dst/tos/ttl are valid, protocol is
//   the type of the header that was cut off.
// - kTruncatedL4: the fixed L4 header (TCP 20, UDP 8, SCTP 12, ICMP 8, ICMPv6 4 bytes) is not
//   all there; ports (has_ports) or type/code (has_icmp) are still filled in if present.
// L4 is read only up to the end of the IP packet per its length field (when nonzero), so
// Ethernet padding is never taken for an L4 header.
struct ParsedPacket {
  ParseError error = ParseError::kNone;

  // L2. MACs: LinkType::kEthernet only (a cooked header has no destination MAC). VLAN tags and
  // MPLS: Ethernet and cooked (libpcap puts a tag the kernel took off back after the header).
  bool has_ethernet = false;  // both MACs and the ethertype present (MACs may be filled anyway)
  uint8_t dst_mac[6] = {};
  uint8_t src_mac[6] = {};
  // The ethertype after VLAN tags (and before MPLS: 0x8847/0x8848); Ethernet and cooked only.
  uint16_t ethertype = 0;
  uint8_t vlan_count = 0;  // [0] = outer, [1] = inner
  uint16_t vlan_id[kMaxVlanTags] = {};
  uint8_t vlan_pcp[kMaxVlanTags] = {};
  uint8_t mpls_count = 0;
  uint32_t mpls_labels[kMaxMplsLabels] = {};  // label stack entries as on the wire (32 bits)

  // L3
  uint8_t ip_version = 0;   // 0 = none, 4, 6
  uint16_t l3_offset = 0;   // offset of the IP header in the view
  uint8_t src_ip[16] = {};  // IPv4 uses the first 4 bytes
  uint8_t dst_ip[16] = {};
  uint8_t protocol = 0;     // IPv4 protocol / IPv6 final next header
  uint8_t tos = 0;          // IPv4 TOS byte / IPv6 traffic class
  uint8_t ttl = 0;          // TTL / hop limit
  uint32_t flow_label = 0;  // IPv6
  // IP bytes of the packet per its header: IPv4 total length; IPv6 payload length + 40.
  // May exceed what the view holds (truncated sample) or even the frame (bad input).
  uint32_t ip_length = 0;
  bool is_fragment = false;      // IPv4 MF or offset != 0; IPv6 fragment header present
  uint16_t fragment_offset = 0;  // in 8-byte units
  bool more_fragments = false;

  // L4 (only for the first fragment)
  uint16_t l4_offset = 0;  // set for any protocol when L4 starts; 0 for later fragments
  bool has_ports = false;  // TCP/UDP/SCTP ports filled in
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint16_t tcp_flags = 0;  // TcpFlag bits
  bool has_icmp = false;   // ICMP over IPv4 (protocol 1) or ICMPv6 over IPv6 (protocol 58)
  uint8_t icmp_type = 0;
  uint8_t icmp_code = 0;
};

// "tcp", "udp", "icmpv6"...: the usual name of an IP protocol number, or nullptr if unknown.
const char* IpProtocolName(uint32_t protocol);

// Parses `frame`. Resets `out`, then fills it with whatever is present; returns out->error.
// Keeps no reference to `frame`. IPv6 protocol 59 (no next header), ESP and unknown protocols
// end the parse with kNone.
ParseError ParsePacket(hal::base::ByteView frame, LinkType link, ParsedPacket* out);

}  // namespace xflowd::agent::packet
