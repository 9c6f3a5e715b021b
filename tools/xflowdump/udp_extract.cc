#include "tools/xflowdump/udp_extract.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "agent/packet/packet_parser.h"

namespace xflowd::tools::xflowdump {
namespace {

namespace packet = agent::packet;
using hal::base::ByteView;
using hal::base::IpAddress;

constexpr uint8_t kProtoUdp = 17;
constexpr size_t kUdpBytes = 8;
constexpr size_t kIpv4MinBytes = 20;
constexpr size_t kIpv6Bytes = 40;
constexpr uint16_t kEtherIpv6 = 0x86DD;
constexpr uint16_t kEtherMplsUnicast = 0x8847;
constexpr uint16_t kEtherMplsMulticast = 0x8848;

// What the parser's error means for a frame we want a UDP datagram from; kOk = read on.
// `l3`: the frame from the IP header on. An IP header shorter than its fixed part is cut short
// before it is anything else.
ExtractResult FromParseError(const packet::ParsedPacket& p, hal::LinkType link, ByteView l3) {
  // The header the link layer promised: a wrong version nibble of 4 means IPv6 was expected.
  uint8_t nibble = 0;
  if (l3.U8At(0, &nibble)) nibble >>= 4;
  const bool v6_expected = nibble == 4 || (nibble != 6 && p.ethertype == kEtherIpv6);
  const size_t fixed = v6_expected ? kIpv6Bytes : kIpv4MinBytes;
  const size_t l3_bytes = l3.size();
  switch (p.error) {
    case packet::ParseError::kNone:
    case packet::ParseError::kTruncatedL4:
      return ExtractResult::kOk;
    case packet::ParseError::kTruncatedL2:
      return ExtractResult::kTruncated;
    case packet::ParseError::kNotIp:
    case packet::ParseError::kTooManyTags:
      return ExtractResult::kNotIp;
    case packet::ParseError::kBadIpVersion:
      // Raw IP says nothing but the version nibble: neither 4 nor 6 is simply not IP.
      if (link == hal::LinkType::kRawIp) return ExtractResult::kNotIp;
      return l3_bytes < fixed ? ExtractResult::kTruncated : ExtractResult::kMalformed;
    case packet::ParseError::kBadIpHeaderLength:
      return l3_bytes < kIpv4MinBytes ? ExtractResult::kTruncated : ExtractResult::kMalformed;
    case packet::ParseError::kTruncatedL3:
      // IPv4 total length 0 (offload) with an IHL beyond the bytes there: the header is wrong.
      if (p.ip_version == 4 && p.ip_length == 0 && l3_bytes >= kIpv4MinBytes) {
        return ExtractResult::kMalformed;
      }
      return ExtractResult::kTruncated;
    case packet::ParseError::kExtensionHeaderLimit:
      return ExtractResult::kMalformed;
  }
  return ExtractResult::kMalformed;
}

}  // namespace

const char* ExtractResultName(ExtractResult r) {
  switch (r) {
    case ExtractResult::kOk:
      return "ok";
    case ExtractResult::kNotIp:
      return "not_ip";
    case ExtractResult::kNotUdp:
      return "not_udp";
    case ExtractResult::kFragment:
      return "ip_fragment";
    case ExtractResult::kTruncated:
      return "truncated";
    case ExtractResult::kMalformed:
      return "malformed";
    case ExtractResult::kUnsupportedLink:
      return "unsupported_link";
  }
  return "unknown";
}

ExtractResult ExtractUdp(hal::LinkType link, ByteView frame, UdpDatagram* out) {
  *out = UdpDatagram();
  packet::ParsedPacket p;
  packet::ParsePacket(frame, link, &p);
  // sFlow collectors are not reached through MPLS; the datagram would not be ours to decode.
  if (p.ethertype == kEtherMplsUnicast || p.ethertype == kEtherMplsMulticast) {
    return ExtractResult::kNotIp;
  }
  // An IPv6 fragment header ends the search wherever the parser stopped after it.
  const bool fragment = p.more_fragments || p.fragment_offset != 0;
  if (p.ip_version == 6 && fragment) return ExtractResult::kFragment;
  const ExtractResult r = FromParseError(p, link, frame.Subview(p.l3_offset));
  if (r != ExtractResult::kOk) return r;
  if (fragment) return ExtractResult::kFragment;
  if (p.protocol != kProtoUdp) return ExtractResult::kNotUdp;
  if (p.error == packet::ParseError::kTruncatedL4) return ExtractResult::kTruncated;

  // The IP packet ends where its length field says (Ethernet pads short frames); 0 (offload,
  // jumbogram) means the bytes there are.
  size_t ip_end = frame.size();
  if (p.ip_version == 4 && p.ip_length != 0) ip_end = size_t{p.l3_offset} + p.ip_length;
  if (p.ip_version == 6 && p.ip_length != kIpv6Bytes) ip_end = size_t{p.l3_offset} + p.ip_length;
  const bool cut_short = ip_end > frame.size();
  const size_t l4_bytes = std::min(ip_end, frame.size()) - p.l4_offset;
  uint16_t length = 0;
  frame.U16At(p.l4_offset + 4, &length);  // present: the parser saw all 8 header bytes
  if (length < kUdpBytes) return ExtractResult::kMalformed;
  if (length > l4_bytes) return cut_short ? ExtractResult::kTruncated : ExtractResult::kMalformed;

  const bool v4 = p.ip_version == 4;
  out->source.address = v4 ? IpAddress::V4(p.src_ip) : IpAddress::V6(p.src_ip);
  out->destination.address = v4 ? IpAddress::V4(p.dst_ip) : IpAddress::V6(p.dst_ip);
  out->source.port = p.src_port;
  out->destination.port = p.dst_port;
  out->payload = frame.Subview(p.l4_offset + kUdpBytes, length - kUdpBytes);
  return ExtractResult::kOk;
}

}  // namespace xflowd::tools::xflowdump
