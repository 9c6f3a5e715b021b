#include "sim/packet_builder.h"

#include <cstring>

namespace xflowd::sim {
namespace {

constexpr uint32_t kMaxHeaderLength = 14 + 2 * 4 + 40 + 20;

uint32_t L3HeaderLength(const PacketSpec& spec) { return spec.ip_version == 6 ? 40 : 20; }

uint32_t L4HeaderLength(const PacketSpec& spec) {
  switch (spec.protocol) {
    case kIpProtoTcp:
      return 20;
    case kIpProtoUdp:
    case kIpProtoIcmp:
    case kIpProtoIcmpv6:
      return 8;
    default:
      return 0;  // unknown protocol: the payload follows the IP header directly
  }
}

void Put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

void Put32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

// One's-complement sum of 16-bit big-endian words (RFC 1071), not yet folded.
uint32_t SumWords(const uint8_t* p, size_t n, uint32_t sum) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += (uint32_t{p[i]} << 8) | p[i + 1];
  if (n & 1) sum += uint32_t{p[n - 1]} << 8;
  return sum;
}

uint16_t Fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

}  // namespace

uint32_t L2HeaderLength(const PacketSpec& spec) { return 14 + 4 * uint32_t{spec.vlan_count}; }

uint32_t HeaderLength(const PacketSpec& spec) {
  return L2HeaderLength(spec) + L3HeaderLength(spec) + L4HeaderLength(spec);
}

size_t BuildFrame(const PacketSpec& spec, uint32_t frame_length, uint8_t* out, size_t capacity) {
  if (spec.vlan_count > 2 || (spec.ip_version != 4 && spec.ip_version != 6)) return 0;
  const uint32_t l2 = L2HeaderLength(spec);
  const uint32_t l3 = L3HeaderLength(spec);
  const uint32_t l4 = L4HeaderLength(spec);
  const uint32_t headers = l2 + l3 + l4;
  if (frame_length < headers) return 0;
  const uint32_t ip_bytes = frame_length - l2;  // IP header + everything after it
  const uint32_t l4_bytes = ip_bytes - l3;      // L4 header + zero payload
  if ((spec.ip_version == 4 ? ip_bytes : l4_bytes) > 0xFFFF) return 0;

  // Headers go to a scratch buffer first so a short `capacity` simply truncates them.
  uint8_t h[kMaxHeaderLength] = {};
  uint8_t* p = h;
  std::memcpy(p, spec.dst_mac, 6);
  std::memcpy(p + 6, spec.src_mac, 6);
  p += 12;
  for (int i = 0; i < spec.vlan_count; ++i) {
    Put16(p, spec.vlan_tpid[i]);
    Put16(p + 2, static_cast<uint16_t>(((spec.vlan_pcp[i] & 7) << 13) | (spec.vlan_id[i] & 0xFFF)));
    p += 4;
  }
  Put16(p, spec.ip_version == 4 ? kEtherTypeIpv4 : kEtherTypeIpv6);
  p += 2;

  uint8_t* ip = p;
  const size_t addr_len = spec.ip_version == 4 ? 4 : 16;
  if (spec.ip_version == 4) {
    ip[0] = 0x45;
    ip[1] = spec.tos;
    Put16(ip + 2, static_cast<uint16_t>(ip_bytes));
    Put16(ip + 4, spec.ip_id);
    Put16(ip + 6, spec.dont_fragment ? 0x4000 : 0);
    ip[8] = spec.ttl;
    ip[9] = spec.protocol;
    std::memcpy(ip + 12, spec.src_ip, 4);
    std::memcpy(ip + 16, spec.dst_ip, 4);
    Put16(ip + 10, Fold(SumWords(ip, 20, 0)));
  } else {
    Put32(ip, (6u << 28) | (uint32_t{spec.tos} << 20) | (spec.flow_label & 0xFFFFF));
    Put16(ip + 4, static_cast<uint16_t>(l4_bytes));
    ip[6] = spec.protocol;
    ip[7] = spec.ttl;
    std::memcpy(ip + 8, spec.src_ip, 16);
    std::memcpy(ip + 24, spec.dst_ip, 16);
  }
  p += l3;

  // Pseudo-header sum for TCP, UDP and ICMPv6 (IPv4 ICMP has none). The payload is zero, so
  // the L4 checksum covers only the pseudo-header and the L4 header.
  uint32_t pseudo = SumWords(spec.src_ip, addr_len, 0);
  pseudo = SumWords(spec.dst_ip, addr_len, pseudo);
  pseudo += spec.protocol;
  pseudo += l4_bytes & 0xFFFF;
  pseudo += l4_bytes >> 16;

  uint8_t* l4p = p;
  switch (spec.protocol) {
    case kIpProtoTcp:
      Put16(l4p, spec.src_port);
      Put16(l4p + 2, spec.dst_port);
      Put32(l4p + 4, spec.tcp_seq);
      Put32(l4p + 8, spec.tcp_ack);
      l4p[12] = 5 << 4;  // data offset: 20 bytes, no options
      l4p[13] = spec.tcp_flags;
      Put16(l4p + 14, spec.tcp_window);
      Put16(l4p + 16, Fold(SumWords(l4p, 20, pseudo)));
      break;
    case kIpProtoUdp: {
      Put16(l4p, spec.src_port);
      Put16(l4p + 2, spec.dst_port);
      Put16(l4p + 4, static_cast<uint16_t>(l4_bytes));
      uint16_t c = Fold(SumWords(l4p, 8, pseudo));
      Put16(l4p + 6, c == 0 ? 0xFFFF : c);  // 0 means "no checksum" in UDP
      break;
    }
    case kIpProtoIcmp:
    case kIpProtoIcmpv6:
      l4p[0] = static_cast<uint8_t>(spec.src_port);
      l4p[1] = static_cast<uint8_t>(spec.dst_port);
      Put16(l4p + 4, spec.icmp_id);
      Put16(l4p + 6, spec.icmp_seq);
      Put16(l4p + 2, Fold(SumWords(l4p, 8, spec.protocol == kIpProtoIcmpv6 ? pseudo : 0)));
      break;
    default:
      break;
  }

  const size_t n = frame_length < capacity ? frame_length : capacity;
  const size_t hn = headers < n ? headers : n;
  if (hn > 0) std::memcpy(out, h, hn);
  if (n > hn) std::memset(out + hn, 0, n - hn);
  return n;
}

}  // namespace xflowd::sim
