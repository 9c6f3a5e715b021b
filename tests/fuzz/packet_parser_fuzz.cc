// libFuzzer target for the packet header parser. ASan proves the parser never reads past the
// view (libFuzzer hands us a heap buffer of exactly `size` bytes); the checks below catch
// outputs that would make a consumer index out of range.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "agent/packet/packet_parser.h"

namespace {

using xflowd::agent::packet::kMaxMplsLabels;
using xflowd::agent::packet::kMaxVlanTags;
using xflowd::agent::packet::LinkType;
using xflowd::agent::packet::ParsedPacket;
using xflowd::agent::packet::ParseError;
using xflowd::agent::packet::ParseErrorName;
using xflowd::agent::packet::ParsePacket;

void Check(bool ok) {
  if (!ok) std::abort();
}

void ParseAndCheck(const uint8_t* data, size_t size, LinkType link) {
  ParsedPacket p;
  const ParseError e = ParsePacket(xflowd::hal::base::ByteView(data, size), link, &p);
  Check(e == p.error);
  Check(ParseErrorName(e) != nullptr);
  Check(p.vlan_count <= kMaxVlanTags);
  Check(p.mpls_count <= kMaxMplsLabels);
  Check(p.l3_offset <= size);
  Check(p.l4_offset <= size);
  Check(p.ip_version == 0 || p.ip_version == 4 || p.ip_version == 6);
  if (p.l4_offset != 0) Check(p.ip_version != 0 && p.l4_offset > p.l3_offset);
  if (p.has_ports || p.has_icmp) Check(p.l4_offset != 0);
  if (link != LinkType::kEthernet) Check(!p.has_ethernet);
  if (link == LinkType::kRawIp || link == LinkType::kNull || link == LinkType::kLoop) {
    Check(p.vlan_count == 0 && p.mpls_count == 0);
  }
  if (e == ParseError::kNone && p.ip_version != 0) Check(p.l3_offset < size);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Every input under every link type: the corpus has a seed for each (eth_*, raw_*, sll_*,
  // sll2_*, null_*, loop_*).
  for (LinkType link : {LinkType::kEthernet, LinkType::kRawIp, LinkType::kLinuxSll,
                        LinkType::kLinuxSll2, LinkType::kNull, LinkType::kLoop}) {
    ParseAndCheck(data, size, link);
  }
  return 0;
}
