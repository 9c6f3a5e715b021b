// Flow keys: which fields of a parsed packet and its sample identify a NetFlow/IPFIX flow.
#pragma once

#include "agent/packet/packet_parser.h"
#include "exporter/netflow/flow_record.h"
#include "hal/packet_sample.h"

namespace xflowd::agent::flow {

// Optional key parts. Each one makes flows finer (and, in the cache, costs 16 bytes per flow
// for both together).
struct FlowKeyOptions {
  bool macs = false;  // source and destination MAC
  bool mpls = false;  // top MPLS label stack entry: label, TC, S (not the TTL)
};

// Fills `key` from a parsed packet `p` and the sample `s` it came from. Returns false (key
// untouched) when `p` has no complete IP header: no IP layer, a cut IP header
// (kTruncatedL3) or a bad one (kBadIpVersion, kBadIpHeaderLength).
//
// The key: ip_version, addresses, protocol, TOS / traffic class, input/output ifindex from
// the sample; TCP/UDP/SCTP ports when the L4 header holds them (0 otherwise, and always 0 for
// non-first fragments, which carry no L4 header); ICMP/ICMPv6 as src_port 0,
// dst_port = type * 256 + code. VLANs: the tags in the bytes, outer first. A tag delivered out
// of band (s.vlan_valid) was stripped from the bytes, so it is the outer one and a tag still
// in the bytes becomes the inner one. MACs and the top MPLS entry only when `o` asks.
bool BuildFlowKey(const packet::ParsedPacket& p, const hal::PacketSample& s,
                  const FlowKeyOptions& o, exporter::netflow::FlowKey* key);

}  // namespace xflowd::agent::flow
