#include "agent/packet/packet_parser.h"

#include <cstddef>
#include <cstring>

namespace xflowd::agent::packet {

namespace {

using hal::base::ByteView;

constexpr size_t kEthernetHeaderBytes = 14;
constexpr size_t kLinuxSllHeaderBytes = 16;   // ethertype at offset 14
constexpr size_t kLinuxSll2HeaderBytes = 20;  // ethertype at offset 0
constexpr size_t kLoopbackHeaderBytes = 4;
constexpr size_t kVlanTagBytes = 4;
constexpr size_t kMplsEntryBytes = 4;
constexpr size_t kIpv4MinHeaderBytes = 20;
constexpr size_t kIpv6HeaderBytes = 40;
// Fixed part of each L4 header; a shorter L4 view is kTruncatedL4.
constexpr size_t kTcpMinHeaderBytes = 20;
constexpr size_t kUdpHeaderBytes = 8;
constexpr size_t kSctpCommonHeaderBytes = 12;
constexpr size_t kIcmpHeaderBytes = 8;
constexpr size_t kIcmpv6HeaderBytes = 4;

constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint16_t kEtherTypeIpv6 = 0x86dd;
constexpr uint16_t kEtherTypeVlan = 0x8100;     // 802.1Q
constexpr uint16_t kEtherTypeQinQ = 0x88a8;     // 802.1ad S-tag
constexpr uint16_t kEtherTypeQinQOld = 0x9100;  // pre-standard S-tag, still seen on old gear
constexpr uint16_t kEtherTypeMplsUnicast = 0x8847;
constexpr uint16_t kEtherTypeMplsMulticast = 0x8848;

constexpr uint32_t kMplsBottomOfStack = 0x100;

// Address families in loopback headers: AF_INET is 2 everywhere; AF_INET6 differs by OS
// (Linux 10, NetBSD/OpenBSD 24, FreeBSD 28, Darwin 30).
constexpr uint32_t kAfInet = 2;
bool IsAfInet6(uint32_t af) { return af == 10 || af == 24 || af == 28 || af == 30; }

constexpr uint16_t kIpv4MoreFragments = 0x2000;
constexpr uint16_t kIpv4FragmentOffsetMask = 0x1fff;

constexpr uint8_t kProtoHopByHop = 0;
constexpr uint8_t kProtoIcmp = 1;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoRouting = 43;
constexpr uint8_t kProtoFragment = 44;
constexpr uint8_t kProtoAh = 51;
constexpr uint8_t kProtoIcmpv6 = 58;
constexpr uint8_t kProtoNoNextHeader = 59;
constexpr uint8_t kProtoDestOptions = 60;
constexpr uint8_t kProtoSctp = 132;
constexpr uint8_t kProtoMobility = 135;

constexpr size_t kIpv6FragmentHeaderBytes = 8;

// Copies n bytes at `off` only if all of them are in the view.
bool CopyAt(ByteView v, size_t off, uint8_t* dst, size_t n) {
  if (off > v.size() || v.size() - off < n) return false;
  std::memcpy(dst, v.data() + off, n);
  return true;
}

// Offsets stay far below 64 KiB: L2 is at most 14 + 2 tags + 8 labels, IPv4 headers 60 bytes,
// and at most kMaxIpv6ExtHeaders extension headers of at most 2 KiB each.
uint16_t Offset16(size_t off) { return static_cast<uint16_t>(off); }

// `l4` starts at the L4 header and ends where the IP packet ends (or the view, if sooner).
ParseError ParseL4(ByteView l4, size_t l4_offset, ParsedPacket* out) {
  out->l4_offset = Offset16(l4_offset);
  size_t min_bytes = 0;
  switch (out->protocol) {
    case kProtoTcp:
      min_bytes = kTcpMinHeaderBytes;
      break;
    case kProtoUdp:
      min_bytes = kUdpHeaderBytes;
      break;
    case kProtoSctp:
      min_bytes = kSctpCommonHeaderBytes;
      break;
    case kProtoIcmp:
      if (out->ip_version != 4) return ParseError::kNone;
      min_bytes = kIcmpHeaderBytes;
      break;
    case kProtoIcmpv6:
      if (out->ip_version != 6) return ParseError::kNone;
      min_bytes = kIcmpv6HeaderBytes;
      break;
    default:
      return ParseError::kNone;  // nothing we look at (GRE, ESP, ...)
  }

  if (out->protocol == kProtoIcmp || out->protocol == kProtoIcmpv6) {
    if (l4.U8At(0, &out->icmp_type) && l4.U8At(1, &out->icmp_code)) out->has_icmp = true;
  } else {
    uint16_t src = 0;
    uint16_t dst = 0;
    if (l4.U16At(0, &src) && l4.U16At(2, &dst)) {
      out->src_port = src;
      out->dst_port = dst;
      out->has_ports = true;
    }
    uint16_t offset_and_flags = 0;
    // Low 9 bits of bytes 12..13 are NS followed by CWR..FIN: exactly the TcpFlag layout.
    if (out->protocol == kProtoTcp && l4.U16At(12, &offset_and_flags)) {
      out->tcp_flags = static_cast<uint16_t>(offset_and_flags & 0x1ff);
    }
  }
  return l4.size() < min_bytes ? ParseError::kTruncatedL4 : ParseError::kNone;
}

ParseError ParseIpv4(ByteView frame, size_t off, ParsedPacket* out) {
  out->l3_offset = Offset16(off);
  ByteView ip = frame.Subview(off);
  uint8_t version_ihl = 0;
  if (!ip.U8At(0, &version_ihl)) return ParseError::kTruncatedL3;
  if ((version_ihl >> 4) != 4) return ParseError::kBadIpVersion;
  out->ip_version = 4;

  // Fill whatever the (possibly cut) header holds before judging it.
  ip.U8At(1, &out->tos);
  uint16_t total_length = 0;
  if (ip.U16At(2, &total_length)) out->ip_length = total_length;
  uint16_t frag = 0;
  if (ip.U16At(6, &frag)) {
    out->fragment_offset = frag & kIpv4FragmentOffsetMask;
    out->more_fragments = (frag & kIpv4MoreFragments) != 0;
    out->is_fragment = out->more_fragments || out->fragment_offset != 0;
  }
  ip.U8At(8, &out->ttl);
  ip.U8At(9, &out->protocol);
  CopyAt(ip, 12, out->src_ip, 4);
  CopyAt(ip, 16, out->dst_ip, 4);

  const size_t header_bytes = size_t{version_ihl & 0x0fu} * 4;
  if (header_bytes < kIpv4MinHeaderBytes) return ParseError::kBadIpHeaderLength;
  // Total length 0 is legal on the wire for TSO/GSO packets seen before segmentation.
  if (total_length != 0 && header_bytes > total_length) return ParseError::kBadIpHeaderLength;
  if (ip.size() < header_bytes) return ParseError::kTruncatedL3;
  if (out->fragment_offset != 0) return ParseError::kNone;  // only the first fragment has L4

  // Bytes past total length are Ethernet padding or junk, never L4.
  if (total_length != 0) ip = ip.Subview(0, total_length);
  return ParseL4(ip.Subview(header_bytes), off + header_bytes, out);
}

ParseError ParseIpv6(ByteView frame, size_t off, ParsedPacket* out) {
  out->l3_offset = Offset16(off);
  ByteView ip = frame.Subview(off);
  uint8_t version = 0;
  if (!ip.U8At(0, &version)) return ParseError::kTruncatedL3;
  if ((version >> 4) != 6) return ParseError::kBadIpVersion;
  out->ip_version = 6;

  uint16_t version_tc = 0;
  if (ip.U16At(0, &version_tc)) out->tos = static_cast<uint8_t>(version_tc >> 4);
  uint32_t first_word = 0;
  if (ip.U32At(0, &first_word)) out->flow_label = first_word & 0xfffff;
  uint16_t payload_length = 0;
  if (ip.U16At(4, &payload_length)) out->ip_length = uint32_t{payload_length} + kIpv6HeaderBytes;
  ip.U8At(6, &out->protocol);
  ip.U8At(7, &out->ttl);
  CopyAt(ip, 8, out->src_ip, 16);
  CopyAt(ip, 24, out->dst_ip, 16);
  if (ip.size() < kIpv6HeaderBytes) return ParseError::kTruncatedL3;

  // Payload length 0 means a jumbogram (or a TSO packet): use the view as is.
  if (payload_length != 0) ip = ip.Subview(0, kIpv6HeaderBytes + payload_length);

  size_t pos = kIpv6HeaderBytes;
  int ext_headers = 0;
  for (;;) {
    const uint8_t header_type = out->protocol;
    size_t header_bytes = 0;
    switch (header_type) {
      case kProtoHopByHop:
      case kProtoRouting:
      case kProtoDestOptions:
      case kProtoMobility:
      case kProtoFragment:
      case kProtoAh:
        break;
      case kProtoNoNextHeader:
        return ParseError::kNone;
      default:
        return ParseL4(ip.Subview(pos), off + pos, out);
    }
    // Each header advances at least 8 bytes so a chain always ends, but a crafted chain of
    // small headers would make us walk the whole sample on every packet.
    if (++ext_headers > kMaxIpv6ExtHeaders) return ParseError::kExtensionHeaderLimit;

    uint8_t next_header = 0;
    uint8_t length_field = 0;
    if (!ip.U8At(pos, &next_header) || !ip.U8At(pos + 1, &length_field)) {
      return ParseError::kTruncatedL3;
    }
    if (header_type == kProtoFragment) {
      header_bytes = kIpv6FragmentHeaderBytes;  // the length byte is reserved here
    } else if (header_type == kProtoAh) {
      header_bytes = (size_t{length_field} + 2) * 4;  // RFC 4302: 4-byte units minus 2
    } else {
      header_bytes = (size_t{length_field} + 1) * 8;  // RFC 8200: 8-byte units minus 1
    }
    if (ip.size() - pos < header_bytes) return ParseError::kTruncatedL3;

    if (header_type == kProtoFragment) {
      uint16_t offset_and_flags = 0;
      ip.U16At(pos + 2, &offset_and_flags);  // present: header_bytes checked above
      out->is_fragment = true;
      out->fragment_offset = offset_and_flags >> 3;
      out->more_fragments = (offset_and_flags & 1) != 0;
    }
    pos += header_bytes;
    out->protocol = next_header;
    if (header_type == kProtoFragment && out->fragment_offset != 0) return ParseError::kNone;
  }
}

// For payloads without an ethertype (MPLS, raw IP): the version nibble decides.
ParseError ParseIpByVersion(ByteView frame, size_t off, ParseError if_not_ip, ParsedPacket* out) {
  uint8_t first = 0;
  if (!frame.U8At(off, &first)) {
    out->l3_offset = Offset16(off);
    return ParseError::kTruncatedL3;
  }
  switch (first >> 4) {
    case 4:
      return ParseIpv4(frame, off, out);
    case 6:
      return ParseIpv6(frame, off, out);
    default:
      return if_not_ip;
  }
}

bool IsVlanTpid(uint16_t ethertype) {
  return ethertype == kEtherTypeVlan || ethertype == kEtherTypeQinQ ||
         ethertype == kEtherTypeQinQOld;
}

// From the byte after an ethertype already in out->ethertype: VLAN tags, MPLS, IP.
ParseError ParseAfterEthertype(ByteView frame, size_t off, ParsedPacket* out) {
  while (IsVlanTpid(out->ethertype)) {
    // Stop at the tag we cannot store; ethertype stays that tag's TPID.
    if (out->vlan_count == kMaxVlanTags) return ParseError::kTooManyTags;
    uint16_t tci = 0;
    uint16_t next_type = 0;
    if (!frame.U16At(off, &tci) || !frame.U16At(off + 2, &next_type)) {
      return ParseError::kTruncatedL2;
    }
    out->vlan_id[out->vlan_count] = tci & 0x0fff;
    out->vlan_pcp[out->vlan_count] = static_cast<uint8_t>(tci >> 13);
    ++out->vlan_count;
    out->ethertype = next_type;
    off += kVlanTagBytes;
  }

  switch (out->ethertype) {
    case kEtherTypeIpv4:
      return ParseIpv4(frame, off, out);
    case kEtherTypeIpv6:
      return ParseIpv6(frame, off, out);
    case kEtherTypeMplsUnicast:
    case kEtherTypeMplsMulticast:
      break;
    default:
      return ParseError::kNotIp;
  }

  for (;;) {
    if (out->mpls_count == kMaxMplsLabels) return ParseError::kTooManyTags;
    uint32_t entry = 0;
    if (!frame.U32At(off, &entry)) return ParseError::kTruncatedL2;
    out->mpls_labels[out->mpls_count++] = entry;
    off += kMplsEntryBytes;
    if (entry & kMplsBottomOfStack) break;
  }
  // MPLS carries no payload type; RFC 4928 makes the first nibble a safe guess for IP.
  return ParseIpByVersion(frame, off, ParseError::kNotIp, out);
}

ParseError ParseEthernet(ByteView frame, ParsedPacket* out) {
  CopyAt(frame, 0, out->dst_mac, 6);
  CopyAt(frame, 6, out->src_mac, 6);
  if (!frame.U16At(12, &out->ethertype)) return ParseError::kTruncatedL2;
  out->has_ethernet = true;
  return ParseAfterEthertype(frame, kEthernetHeaderBytes, out);
}

// Linux cooked headers: the protocol field is an ethertype for every device that carries IP
// (other values, e.g. 802.2 LLC frames, end the parse as not IP).
ParseError ParseLinuxSll(ByteView frame, size_t ethertype_at, size_t header_bytes,
                         ParsedPacket* out) {
  if (frame.size() < header_bytes) return ParseError::kTruncatedL2;
  frame.U16At(ethertype_at, &out->ethertype);
  return ParseAfterEthertype(frame, header_bytes, out);
}

ParseError ParseLoopback(ByteView frame, bool network_order, ParsedPacket* out) {
  uint32_t be = 0;
  if (!frame.U32At(0, &be)) return ParseError::kTruncatedL2;
  const uint32_t le = __builtin_bswap32(be);
  // DLT_NULL is in the writer's byte order, which the file does not say; families are small
  // numbers, so the smaller reading is the right one.
  const uint32_t family = network_order ? be : (le < be ? le : be);
  if (family == kAfInet) return ParseIpv4(frame, kLoopbackHeaderBytes, out);
  if (IsAfInet6(family)) return ParseIpv6(frame, kLoopbackHeaderBytes, out);
  return ParseError::kNotIp;
}

}  // namespace

const char* ParseErrorName(ParseError e) {
  switch (e) {
    case ParseError::kNone:
      return "none";
    case ParseError::kTruncatedL2:
      return "truncated_l2";
    case ParseError::kNotIp:
      return "not_ip";
    case ParseError::kTooManyTags:
      return "too_many_tags";
    case ParseError::kTruncatedL3:
      return "truncated_l3";
    case ParseError::kBadIpVersion:
      return "bad_ip_version";
    case ParseError::kBadIpHeaderLength:
      return "bad_ip_header_length";
    case ParseError::kExtensionHeaderLimit:
      return "extension_header_limit";
    case ParseError::kTruncatedL4:
      return "truncated_l4";
  }
  return "unknown";
}

ParseError ParsePacket(ByteView frame, LinkType link, ParsedPacket* out) {
  *out = ParsedPacket();
  ParseError error = ParseError::kNotIp;
  switch (link) {
    case LinkType::kEthernet:
      error = ParseEthernet(frame, out);
      break;
    case LinkType::kRawIp:
      // No ethertype to contradict, but a raw-IP source promised IP: anything else is bad.
      error = ParseIpByVersion(frame, 0, ParseError::kBadIpVersion, out);
      break;
    case LinkType::kLinuxSll:
      error = ParseLinuxSll(frame, 14, kLinuxSllHeaderBytes, out);
      break;
    case LinkType::kLinuxSll2:
      error = ParseLinuxSll(frame, 0, kLinuxSll2HeaderBytes, out);
      break;
    case LinkType::kNull:
      error = ParseLoopback(frame, false, out);
      break;
    case LinkType::kLoop:
      error = ParseLoopback(frame, true, out);
      break;
  }
  out->error = error;
  return error;
}

const char* IpProtocolName(uint32_t p) {
  switch (p) {
    case 1:
      return "icmp";
    case 2:
      return "igmp";
    case 6:
      return "tcp";
    case 17:
      return "udp";
    case 47:
      return "gre";
    case 50:
      return "esp";
    case 51:
      return "ah";
    case 58:
      return "icmpv6";
    case 89:
      return "ospf";
    case 112:
      return "vrrp";
    case 132:
      return "sctp";
    default:
      return nullptr;
  }
}

}  // namespace xflowd::agent::packet
