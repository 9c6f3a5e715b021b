// Pure parser of NFLOG (nfnetlink_log) packet messages, and the Ethernet rebuild that turns
// their L3 payload into the Ethernet frame PacketSample promises.
//
// Byte order: the nlmsghdr and nlattr headers are host order; nfgenmsg.res_id (the group) and
// every NFULA_* value are big-endian (network order).
// Bad input never crashes: truncated messages end the buffer, attributes with a wrong length
// are skipped and counted, unknown attributes are skipped and counted.
#pragma once

#include <cstddef>
#include <cstdint>

#include "hal/base/byte_view.h"

namespace xflowd::hal::nflog {

// One NFULNL_MSG_PACKET. Views point into the buffer that was parsed and are valid as long
// as it is. Fields the message did not carry keep has_* false / stay 0.
struct NflogPacket {
  uint8_t family = 0;  // nfgenmsg.nfgen_family (AF_INET, AF_INET6, AF_BRIDGE, NFPROTO_NETDEV)
  uint16_t group = 0;  // nfgenmsg.res_id
  bool has_packet_hdr = false;
  uint16_t hw_protocol = 0;  // NFULA_PACKET_HDR: ethertype (host order after parsing)
  uint8_t hook = 0;          // netfilter hook number
  uint32_t indev = 0, outdev = 0, physindev = 0, physoutdev = 0;  // ifindexes; 0 = absent
  uint32_t mark = 0;
  bool has_timestamp = false;
  uint64_t timestamp_sec = 0, timestamp_usec = 0;  // NFULA_TIMESTAMP (CLOCK_REALTIME)
  bool has_seq = false;
  uint32_t seq = 0;  // NFULA_SEQ: per-instance (per-group) sequence number
  bool has_seq_global = false;
  uint32_t seq_global = 0;
  bool has_hwaddr = false;
  base::ByteView hwaddr;    // NFULA_HWADDR: the source MAC (hw_addrlen bytes)
  uint16_t hwtype = 0;      // NFULA_HWTYPE (ARPHRD_*)
  uint16_t hwlen = 0;       // NFULA_HWLEN
  base::ByteView hwheader;  // NFULA_HWHEADER: the link-layer header (Ethernet: 14 bytes)
  bool has_vlan = false;    // NFULA_VLAN (bridge family only)
  uint16_t vlan_proto = 0, vlan_tci = 0;
  base::ByteView prefix;   // NFULA_PREFIX without the NUL
  base::ByteView payload;  // NFULA_PAYLOAD: starts at L3 (IP header), up to the copy range
};

struct ParseStats {
  uint64_t messages = 0;
  uint64_t packets = 0;          // NFULNL_MSG_PACKET handed out
  uint64_t truncated = 0;        // message shorter than its headers
  uint64_t bad_attr_length = 0;  // attribute of the wrong size, or overrunning its message
  uint64_t unknown_attrs = 0;
  uint64_t other_messages = 0;  // acks, errors, other subsystems
};

// Parses the body of one NFULNL_MSG_PACKET (nfgenmsg + attributes, without the nlmsghdr).
bool ParsePacketBody(base::ByteView body, NflogPacket* out, ParseStats* stats);

// Calls `on_packet(const NflogPacket&)` for every NFULNL_MSG_PACKET in one recv() buffer.
// NLMSG_ERROR messages are reported through *last_error (0 = ack) when not null.
template <typename F>
void ParseNflogBuffer(base::ByteView buf, F&& on_packet, ParseStats* stats,
                      int* last_error = nullptr);

// Rebuilds an Ethernet frame in `out` (capacity `cap`): dst MAC, src MAC, ethertype, then the
// L3 payload truncated to fit. MACs come from NFULA_HWHEADER when it is an Ethernet header
// (hwtype ARPHRD_ETHER, >= 14 bytes); otherwise dst is zero and src is NFULA_HWADDR when it is
// 6 bytes, else zero. The ethertype is hw_protocol, or (when 0) taken from the IP version
// nibble (4 -> 0x0800, 6 -> 0x86DD). Returns the bytes written (0 if cap < 14).
size_t BuildEthernetFrame(const NflogPacket& p, uint8_t* out, size_t cap);

// The frame's length on the wire without FCS: 14 + the L3 length. NFLOG does not report the
// original length of a payload cut by the copy range, so it comes from the IPv4 total length /
// IPv6 payload length + 40 when those say more than was copied; otherwise the payload size.
uint32_t OriginalFrameLength(const NflogPacket& p);

namespace internal {
// One message; `type` is nlmsg_type. Returns true and fills *out for a packet message.
bool ParseOne(uint16_t type, base::ByteView body, NflogPacket* out, ParseStats* stats,
              int* last_error);
bool NextMessage(base::ByteView buf, size_t* off, uint16_t* type, base::ByteView* body,
                 ParseStats* stats);
}  // namespace internal

template <typename F>
void ParseNflogBuffer(base::ByteView buf, F&& on_packet, ParseStats* stats, int* last_error) {
  size_t off = 0;
  uint16_t type = 0;
  base::ByteView body;
  NflogPacket p;
  while (internal::NextMessage(buf, &off, &type, &body, stats)) {
    if (internal::ParseOne(type, body, &p, stats, last_error)) on_packet(p);
  }
}

}  // namespace xflowd::hal::nflog
