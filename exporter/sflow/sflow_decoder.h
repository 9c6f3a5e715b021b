// sFlow v5 datagram decoder (sFlow v5 spec, sflow.org/sflow_version_5.txt; discards:
// sflow.org/sflow_drops.txt). The inverse of sflow_encoder.h, for tools and tests (xflowdump,
// round trips, interop checks): it is not on the agent's data path, so the decoded structs own
// their memory (std::vector / std::string) and nothing points back into the datagram.
//
// Strict: every read is bounds checked; a datagram that is truncated or whose lengths disagree
// with its contents (a record longer or shorter than its format, a sample whose records do not
// fill it exactly, bytes after the last sample) is rejected with a Status whose message gives
// the absolute byte offset and what was being read. Samples and records of an enterprise or
// format this decoder does not know are kept whole as (enterprise, format, bytes).
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "exporter/sflow/sflow_types.h"
#include "hal/base/byte_view.h"
#include "hal/base/ip_address.h"
#include "hal/base/status.h"

namespace xflowd::exporter::sflow {

// data_format = (enterprise << 12) | format.
constexpr uint32_t TagEnterprise(uint32_t tag) { return tag >> 12; }
constexpr uint32_t TagFormat(uint32_t tag) { return tag & 0xFFFu; }
constexpr uint32_t MakeTag(uint32_t enterprise, uint32_t format) {
  return (enterprise << 12) | (format & 0xFFFu);
}

// A sample or record this decoder does not understand, kept as it was on the wire (the body,
// without the tag and length words, padding included).
struct UnknownRecord {
  uint32_t enterprise = 0;
  uint32_t format = 0;
  std::vector<uint8_t> data;
};
struct UnknownSample {
  uint32_t enterprise = 0;
  uint32_t format = 0;
  std::vector<uint8_t> data;
};

// Owning counterparts of the wire structs that point at the caller's memory: the same field
// lists (sflow_types.h) over vectors and strings.
template <typename T>
using Vector = std::vector<T>;
using DecodedSampledHeader = BasicSampledHeader<std::vector<uint8_t>>;  // header without padding
using DecodedAsPathSegment = BasicAsPathSegment<Vector>;
using DecodedExtendedGateway = BasicExtendedGateway<Vector>;
using DecodedPortName = BasicPortName<std::string>;  // raw bytes as sent
using DecodedHostDescr = BasicHostDescr<std::string>;
using DecodedHostAdapter = BasicHostAdapter<Vector>;
using DecodedHostAdapters = BasicHostAdapters<Vector>;

// Same order as FlowRecord / CounterRecord, with UnknownRecord last, so index() of a known
// record matches the encoder's variant.
using DecodedFlowRecord =
    std::variant<DecodedSampledHeader, SampledEthernet, SampledIpv4, SampledIpv6, ExtendedSwitch,
                 ExtendedRouter, DecodedExtendedGateway, ExtendedTimestamp, UnknownRecord>;
using DecodedCounterRecord =
    std::variant<GenericInterfaceCounters, EthernetInterfaceCounters, VlanCounters,
                 ProcessorCounters, DecodedPortName, DecodedHostDescr, DecodedHostAdapters, HostCpu,
                 HostMemory, HostDiskIo, HostNetIo, Mib2Ip, Mib2Icmp, Mib2Tcp, Mib2Udp,
                 UnknownRecord>;

// The decoder's samples: the encoder's fields (sflow_types.h), owning their records.
struct DecodedFlowSample : FlowSampleFields {
  std::vector<DecodedFlowRecord> records;
};
struct DecodedCounterSample : CounterSampleFields {
  std::vector<DecodedCounterRecord> records;
};
struct DecodedDiscardSample : DiscardSampleFields {
  std::vector<DecodedFlowRecord> records;
};
using DecodedSample =
    std::variant<DecodedFlowSample, DecodedCounterSample, DecodedDiscardSample, UnknownSample>;

struct DecodedDatagram {
  uint32_t version = 0;  // always kVersion5 after a successful decode
  DatagramHeader header;
  std::vector<DecodedSample> samples;
};

// Decodes one datagram (the UDP payload). Never reads outside `datagram`; nothing in the result
// refers to it. Errors are InvalidArgument with a message such as
//   "sample 2 of 3 (0:1 flow_sample at offset 180): record 1 of 2 (0:1 sampled_header at
//    offset 220): offset 240: header_length 200 exceeds the 64 bytes left in the record".
hal::base::Result<DecodedDatagram> DecodeDatagram(hal::base::ByteView datagram);

// The (enterprise, format) a decoded sample or record was (or would be) sent with. For flow
// and counter samples this is the compact or expanded format per `expanded`.
uint32_t SampleTag(const DecodedSample& sample);
uint32_t RecordTag(const DecodedFlowRecord& record);
uint32_t RecordTag(const DecodedCounterRecord& record);

// Spec names ("flow_sample", "sampled_header", "if_counters", ...) of enterprise-0 formats, for
// output; "unknown" for anything else.
const char* SampleName(uint32_t tag);
const char* FlowRecordName(uint32_t tag);
const char* CounterRecordName(uint32_t tag);
// drop_reason names from sflow_drops.txt ("acl", "ttl_exceeded", ...); nullptr if unassigned.
const char* DropReasonName(uint32_t reason);
// header_protocol names ("ethernet", "ipv4", ...); nullptr if unassigned.
const char* HeaderProtocolName(uint32_t protocol);

}  // namespace xflowd::exporter::sflow
