// Packet builder: writes an Ethernet frame (optional 802.1Q / QinQ tags, IPv4 or IPv6, then
// TCP, UDP, ICMP or ICMPv6) into caller-owned memory. The payload is zero bytes, which lets
// every checksum (IPv4 header, TCP, UDP, ICMP, ICMPv6) be computed from the headers alone, so
// frames are valid on the wire and in a pcap. Used by the simulator's ASIC for sampled
// headers and by tools that write pcap files; independent of SimSwitch. Never allocates.
#pragma once

#include <cstddef>
#include <cstdint>

namespace xflowd::sim {

constexpr uint8_t kIpProtoIcmp = 1;
constexpr uint8_t kIpProtoTcp = 6;
constexpr uint8_t kIpProtoUdp = 17;
constexpr uint8_t kIpProtoIcmpv6 = 58;

constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint16_t kEtherTypeIpv6 = 0x86DD;
constexpr uint16_t kTpid8021Q = 0x8100;
constexpr uint16_t kTpid8021AD = 0x88A8;  // QinQ service tag

// Everything about a packet except its length. Multi-byte fields are host order here and
// written in network byte order; addresses and MACs are bytes in network order.
struct PacketSpec {
  uint8_t dst_mac[6] = {};
  uint8_t src_mac[6] = {};
  uint8_t vlan_count = 0;  // 0, 1, or 2 (QinQ); [0] is the outer tag
  uint16_t vlan_tpid[2] = {kTpid8021Q, kTpid8021Q};
  uint16_t vlan_id[2] = {};  // 12 bits
  uint8_t vlan_pcp[2] = {};  // 3 bits
  uint8_t ip_version = 4;    // 4 or 6
  uint8_t protocol = kIpProtoTcp;
  uint8_t tos = 0;          // IPv4 TOS / IPv6 traffic class
  uint8_t ttl = 64;         // TTL / hop limit
  uint32_t flow_label = 0;  // IPv6, 20 bits
  uint16_t ip_id = 0;       // IPv4 identification
  bool dont_fragment = true;
  uint8_t src_ip[16] = {};  // IPv4 uses the first 4 bytes
  uint8_t dst_ip[16] = {};
  uint16_t src_port = 0;     // ICMP / ICMPv6: type (low 8 bits)
  uint16_t dst_port = 0;     // ICMP / ICMPv6: code (low 8 bits)
  uint8_t tcp_flags = 0x10;  // ACK
  uint32_t tcp_seq = 0;
  uint32_t tcp_ack = 0;
  uint16_t tcp_window = 65535;
  uint16_t icmp_id = 0;  // echo identifier / sequence (the second ICMP word)
  uint16_t icmp_seq = 0;
};

// Ethernet header plus tags: 14 + 4 per tag.
uint32_t L2HeaderLength(const PacketSpec& spec);
// Ethernet + tags + IP header + L4 header: the shortest frame BuildFrame accepts (zero payload).
uint32_t HeaderLength(const PacketSpec& spec);

// Writes the first min(frame_length, capacity) bytes of a frame of `frame_length` bytes (no
// FCS) described by `spec`: headers, then zero payload. IP lengths say the IP packet fills the
// frame after the L2 header (IPv4 total length = frame_length - L2HeaderLength). Returns the
// bytes written; 0 if frame_length < HeaderLength(spec), the IP length does not fit its
// 16-bit field, or spec is invalid (ip_version not 4/6, vlan_count > 2).
size_t BuildFrame(const PacketSpec& spec, uint32_t frame_length, uint8_t* out, size_t capacity);

}  // namespace xflowd::sim
