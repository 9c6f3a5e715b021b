// How xflowdump prints one decoded datagram: a readable text block (one paragraph per sample,
// sampled headers decoded down to L4) or one JSON object on one line with every field under
// stable key names. Tests and scripts depend on the JSON keys; add keys, never rename them:
//
//   {"datagram": {"time": <unix s, 6 decimals>, "source": "ip:port",
//     "destination": "ip:port" | null (live input), "length": <bytes>,
//     "version": 5, "agent": "ip" | null, "sub_agent_id", "sequence", "uptime_ms",
//     "samples": [ {"kind": <SampleName()>, "enterprise", "format", ...} ]}}
//   flow samples:     expanded, sequence, source_id {type, index}, sampling_rate, sample_pool,
//                     drops, input {format, value}, output {format, value}, records [...]
//   counter samples:  expanded, sequence, source_id, records [...]
//   discarded_packet: sequence, source_id, drops, input, output, reason, reason_name, records
//   unknown samples:  length, data (hex)
//   records: {"kind": <FlowRecordName() / CounterRecordName()>, "enterprise", "format", then
//     the fields of the record under the names of the wire structs (sflow_types.h), e.g.
//     sampled_header: header_protocol, header_protocol_name, frame_length, stripped,
//     header_length, header (hex), decoded {parse_error, src_mac, dst_mac, vlans [{id, pcp}],
//     ethertype, ip_version, src_ip, dst_ip, protocol, tos, ttl, ip_length, fragment,
//     src_port, dst_port, tcp_flags, icmp_type, icmp_code: those present}; unknown records:
//     length, data (hex). Addresses are strings, MACs "aa:bb:..", counters exact integers.
//   {"error": {"time", "source", "destination", "length", "message"}} for a datagram that
//   did not decode.
#pragma once

#include <cstddef>
#include <string>

#include "exporter/sflow/sflow_decoder.h"
#include "hal/base/ip_address.h"
#include "hal/base/time.h"
#include "tools/xflowdump/json_writer.h"

namespace xflowd::tools::xflowdump {

// Where and when a datagram came from.
struct DatagramMeta {
  hal::base::WallTime time;         // receive time (live) or capture time (pcap)
  hal::base::Endpoint source;       // the sender (usually the agent)
  hal::base::Endpoint destination;  // the collector (pcap); empty for live input
  size_t length = 0;                // UDP payload bytes
};

struct TextOptions {
  bool hex = false;  // add a hex dump of sampled headers and unknown records
};

// Appends the text block for a datagram (ends with a blank line).
void AppendText(const exporter::sflow::DecodedDatagram& d, const DatagramMeta& meta,
                const TextOptions& options, std::string* out);
// Appends the text line for a datagram that failed to decode.
void AppendTextError(const DatagramMeta& meta, const std::string& message, std::string* out);

// {"datagram": {...}} and {"error": {...}} (the caller ends the line).
void WriteJson(const exporter::sflow::DecodedDatagram& d, const DatagramMeta& meta, JsonWriter* w);
void WriteJsonError(const DatagramMeta& meta, const std::string& message, JsonWriter* w);

// "2026-01-01T00:00:01.123456Z".
std::string FormatWallTime(hal::base::WallTime t);
// "1.50 GB", "12.0 kB", "900 B" (decimal units, as on interface graphs).
std::string HumanBytes(double bytes);
// "1.50 M", "12.0 k", "900".
std::string HumanCount(double n);

}  // namespace xflowd::tools::xflowdump
