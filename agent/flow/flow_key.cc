#include "agent/flow/flow_key.h"

#include <cstring>

namespace xflowd::agent::flow {
namespace {

constexpr uint8_t kProtoIcmp = 1;
constexpr uint8_t kProtoIcmpv6 = 58;
constexpr uint16_t kVlanIdMask = 0x0fff;
constexpr uint32_t kMplsTtlMask = 0xff;

}  // namespace

bool BuildFlowKey(const packet::ParsedPacket& p, const hal::PacketSample& s,
                  const FlowKeyOptions& o, exporter::netflow::FlowKey* key) {
  using packet::ParseError;
  if (p.ip_version == 0 || p.error == ParseError::kTruncatedL3 ||
      p.error == ParseError::kBadIpVersion || p.error == ParseError::kBadIpHeaderLength) {
    return false;
  }
  *key = exporter::netflow::FlowKey();
  key->ip_version = p.ip_version;
  std::memcpy(key->src_ip, p.src_ip, sizeof(key->src_ip));
  std::memcpy(key->dst_ip, p.dst_ip, sizeof(key->dst_ip));
  key->protocol = p.protocol;
  key->tos = p.tos;
  key->input_ifindex = s.input_ifindex;
  key->output_ifindex = s.output_ifindex;

  // Only the first fragment has an L4 header; the parser fills nothing for later ones, but a
  // key must never depend on that.
  const bool first_fragment = p.fragment_offset == 0;
  if (first_fragment && p.has_ports) {
    key->src_port = p.src_port;
    key->dst_port = p.dst_port;
  } else if (first_fragment && p.has_icmp &&
             (p.protocol == kProtoIcmp || p.protocol == kProtoIcmpv6)) {
    key->dst_port = static_cast<uint16_t>(p.icmp_type * 256 + p.icmp_code);
  }

  if (s.vlan_valid) {
    key->vlan_outer = s.vlan_tci & kVlanIdMask;
    if (p.vlan_count > 0) key->vlan_inner = p.vlan_id[0];
  } else {
    if (p.vlan_count > 0) key->vlan_outer = p.vlan_id[0];
    if (p.vlan_count > 1) key->vlan_inner = p.vlan_id[1];
  }

  if (o.macs) {
    std::memcpy(key->src_mac, p.src_mac, sizeof(key->src_mac));
    std::memcpy(key->dst_mac, p.dst_mac, sizeof(key->dst_mac));
  }
  // Without the TTL, which changes hop by hop and which no template field carries.
  if (o.mpls && p.mpls_count > 0) key->mpls_top = p.mpls_labels[0] & ~kMplsTtlMask;
  return true;
}

}  // namespace xflowd::agent::flow
