// FlowRecord: one finished flow as the flow cache hands it to the NetFlow v5/v9 and IPFIX
// exporters. The shared vocabulary of agent/flow (which builds records) and exporter/netflow
// (which encodes them); plain data, no behaviour.
//
// Time: every timestamp is Unix time in milliseconds (UTC). The flow cache runs on "flow
// time" (the monotonic clock for live input, packet time for a capture file); its owner maps
// flow time to Unix ms before records reach an exporter, so exporters never see two clocks.
#pragma once

#include <cstdint>

namespace xflowd::exporter::netflow {

// IPFIX IE 136 flowEndReason (RFC 5102). NetFlow v9 has no such field; v9 and v5 drop it.
enum class EndReason : uint8_t {
  kIdleTimeout = 1,      // no packet for the inactive timeout
  kActiveTimeout = 2,    // open longer than the active timeout (the flow goes on in a new record)
  kEndOfFlow = 3,        // TCP FIN or RST seen
  kForcedEnd = 4,        // shutdown, flush, end of a capture file
  kLackOfResources = 5,  // evicted because the cache was full
};

// The flow key. Fields that are not part of the configured key are zero. Multi-byte fields are
// host order; addresses and MACs are bytes in network order.
struct FlowKey {
  uint8_t src_ip[16] = {};  // IPv4 uses the first 4 bytes, the rest stay zero
  uint8_t dst_ip[16] = {};
  uint32_t input_ifindex = 0;   // 0 = unknown
  uint32_t output_ifindex = 0;  // 0 = unknown
  uint16_t src_port = 0;        // TCP/UDP/SCTP; 0 for ICMP and others
  // TCP/UDP/SCTP destination port. ICMP/ICMPv6: type * 256 + code (the NetFlow convention,
  // what nfdump and pmacct decode from dst port); 0 for others and later fragments.
  uint16_t dst_port = 0;
  uint16_t vlan_outer = 0;  // 12-bit VLAN ID, 0 = untagged
  uint16_t vlan_inner = 0;  // QinQ inner (customer) VLAN ID
  uint8_t ip_version = 0;   // 4 or 6
  uint8_t protocol = 0;
  uint8_t tos = 0;  // IPv4 TOS byte / IPv6 traffic class
  // Optional key parts (zero unless configured): MACs and the top MPLS label stack entry.
  uint8_t src_mac[6] = {};
  uint8_t dst_mac[6] = {};
  // Label stack entry as on the wire without its TTL: label << 12 | tc << 9 | s << 8 (the low
  // byte stays 0; exported as the 3 bytes of MPLS_LABEL_1 / mplsTopLabelStackSection).
  uint32_t mpls_top = 0;
};

struct FlowRecord {
  FlowKey key;
  uint64_t packets = 0;
  uint64_t bytes = 0;      // IP bytes (IPv4 total length; IPv6 payload + 40), never frame bytes
  uint64_t first_ms = 0;   // Unix ms of the first packet
  uint64_t last_ms = 0;    // Unix ms of the last packet
  uint16_t tcp_flags = 0;  // OR of every packet's TCP flags (agent::packet::TcpFlag bits)
  EndReason end_reason = EndReason::kIdleTimeout;
  // 1-in-N the packets were sampled at (1 = every packet). Counts are NOT scaled by it: the
  // rate travels in the options data and collectors scale.
  uint32_t sampling_rate = 1;
};

// Where finished flows go. Data plane: must not block, allocate or throw.
class FlowRecordSink {
 public:
  virtual ~FlowRecordSink() = default;
  virtual void OnFlow(const FlowRecord& record) = 0;
};

}  // namespace xflowd::exporter::netflow
