// sFlow v5 wire model (sFlow v5 spec, sflow.org; drops: sflow_drops.txt). These structs are
// what the agent hands the encoder. They own nothing: ByteView and pointer+count members point
// at the caller's memory, which must outlive the Encode call. No allocation on this path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <variant>

#include "hal/base/byte_view.h"
#include "hal/base/ip_address.h"

namespace xflowd::exporter::sflow {

using hal::base::ByteView;
using hal::base::IpAddress;

constexpr uint32_t kVersion5 = 5;
constexpr uint32_t kUnknown32 = 0xFFFFFFFFu;
constexpr uint64_t kUnknown64 = 0xFFFFFFFFFFFFFFFFull;
constexpr size_t kDefaultMaxDatagramBytes = 1400;
constexpr size_t kMinDatagramBytes = 200;
constexpr size_t kMaxDatagramBytes = 9000;

// Format numbers (enterprise 0). The tag on the wire is (enterprise << 12) | format.
enum SampleFormat : uint32_t {
  kFlowSample = 1,
  kCounterSample = 2,
  kFlowSampleExpanded = 3,
  kCounterSampleExpanded = 4,
  kDiscardSample = 5,
};
enum FlowFormat : uint32_t {
  kSampledHeaderFormat = 1,
  kSampledEthernetFormat = 2,
  kSampledIpv4Format = 3,
  kSampledIpv6Format = 4,
  kExtendedSwitchFormat = 1001,
  kExtendedRouterFormat = 1002,
  kExtendedGatewayFormat = 1003,
  kExtendedTimestampFormat = 1043,
};
enum CounterFormat : uint32_t {
  kGenericInterfaceFormat = 1,
  kEthernetInterfaceFormat = 2,
  kVlanFormat = 5,
  kProcessorFormat = 1001,
  kPortNameFormat = 1005,
};
// header_protocol values of the sampled header record.
enum HeaderProtocol : uint32_t {
  kHeaderEthernet = 1,
  kHeaderIpv4 = 11,
  kHeaderIpv6 = 12,
};

// Data source: type 0 = ifIndex, 1 = smonVlanDataSource, 2 = entPhysicalEntry.
// The compact forms pack (type << 24) | index, so index must be < 2^24 there.
struct DataSource {
  uint32_t type = 0;
  uint32_t index = 0;
};

// Input/output interface of a flow sample. format 0 = ifIndex in value; 1 = packet discarded
// (value = reason); 2 = multiple interfaces (value = count, 0x7fffffff unknown).
struct Interface {
  uint32_t format = 0;
  uint32_t value = 0;
};

// ---- flow records ----
struct SampledHeader {  // 0:1
  uint32_t protocol = kHeaderEthernet;
  uint32_t frame_length = 0;  // original length, including stripped bytes
  uint32_t stripped = 0;
  ByteView header;  // padded to 4 bytes on the wire
};
struct SampledEthernet {  // 0:2
  uint32_t length = 0;    // MAC packet length in bytes
  uint8_t src_mac[6] = {};
  uint8_t dst_mac[6] = {};
  uint32_t type = 0;  // ethertype
};
struct SampledIpv4 {    // 0:3
  uint32_t length = 0;  // IP packet length
  uint32_t protocol = 0;
  uint8_t src_ip[4] = {};
  uint8_t dst_ip[4] = {};
  uint32_t src_port = 0;
  uint32_t dst_port = 0;
  uint32_t tcp_flags = 0;
  uint32_t tos = 0;
};
struct SampledIpv6 {    // 0:4
  uint32_t length = 0;  // IP packet length excluding lower layer encapsulations
  uint32_t protocol = 0;
  uint8_t src_ip[16] = {};
  uint8_t dst_ip[16] = {};
  uint32_t src_port = 0;
  uint32_t dst_port = 0;
  uint32_t tcp_flags = 0;
  uint32_t priority = 0;
};
struct ExtendedSwitch {  // 0:1001
  uint32_t src_vlan = 0;
  uint32_t src_priority = 0;
  uint32_t dst_vlan = 0;
  uint32_t dst_priority = 0;
};
struct ExtendedRouter {  // 0:1002
  IpAddress next_hop;
  uint32_t src_mask_len = 0;
  uint32_t dst_mask_len = 0;
};
struct AsPathSegment {
  uint32_t type = 2;  // 1 = AS_SET, 2 = AS_SEQUENCE
  const uint32_t* as_numbers = nullptr;
  uint32_t count = 0;
};
struct ExtendedGateway {  // 0:1003
  IpAddress next_hop;
  uint32_t as = 0;
  uint32_t src_as = 0;
  uint32_t src_peer_as = 0;
  const AsPathSegment* dst_as_path = nullptr;
  uint32_t dst_as_path_count = 0;
  const uint32_t* communities = nullptr;
  uint32_t community_count = 0;
  uint32_t local_pref = 0;
};
struct ExtendedTimestamp {   // 0:1043
  uint64_t nanoseconds = 0;  // wall clock, ns since the Unix epoch (UTC)
};
using FlowRecord = std::variant<SampledHeader, SampledEthernet, SampledIpv4, SampledIpv6,
                                ExtendedSwitch, ExtendedRouter, ExtendedGateway, ExtendedTimestamp>;

// ---- counter records ----
struct GenericInterfaceCounters {  // 0:1
  uint32_t if_index = 0;
  uint32_t if_type = 6;
  uint64_t if_speed = 0;      // bits per second
  uint32_t if_direction = 0;  // 0 unknown, 1 full-duplex, 2 half-duplex, 3 in, 4 out
  uint32_t if_status = 0;     // bit 0 admin up, bit 1 oper up
  uint64_t in_octets = 0;
  uint32_t in_ucast_pkts = 0;
  uint32_t in_multicast_pkts = 0;
  uint32_t in_broadcast_pkts = 0;
  uint32_t in_discards = 0;
  uint32_t in_errors = 0;
  uint32_t in_unknown_protos = 0;
  uint64_t out_octets = 0;
  uint32_t out_ucast_pkts = 0;
  uint32_t out_multicast_pkts = 0;
  uint32_t out_broadcast_pkts = 0;
  uint32_t out_discards = 0;
  uint32_t out_errors = 0;
  uint32_t promiscuous_mode = 0;
};
struct EthernetInterfaceCounters {  // 0:2 (dot3Stats)
  uint32_t alignment_errors = kUnknown32;
  uint32_t fcs_errors = kUnknown32;
  uint32_t single_collision_frames = kUnknown32;
  uint32_t multiple_collision_frames = kUnknown32;
  uint32_t sqe_test_errors = kUnknown32;
  uint32_t deferred_transmissions = kUnknown32;
  uint32_t late_collisions = kUnknown32;
  uint32_t excessive_collisions = kUnknown32;
  uint32_t internal_mac_transmit_errors = kUnknown32;
  uint32_t carrier_sense_errors = kUnknown32;
  uint32_t frame_too_longs = kUnknown32;
  uint32_t internal_mac_receive_errors = kUnknown32;
  uint32_t symbol_errors = kUnknown32;
};
struct VlanCounters {  // 0:5
  uint32_t vlan_id = 0;
  uint64_t octets = 0;
  uint32_t ucast_pkts = 0;
  uint32_t multicast_pkts = 0;
  uint32_t broadcast_pkts = 0;
  uint32_t discards = 0;
};
struct ProcessorCounters {  // 0:1001
  uint32_t cpu_5s = 0;      // percent x 100 (5000 = 50%)
  uint32_t cpu_1m = 0;
  uint32_t cpu_5m = 0;
  uint64_t total_memory = 0;  // bytes
  uint64_t free_memory = 0;
};
struct PortName {  // 0:1005
  ByteView name;   // up to 255 bytes; XDR string, padded
};
using CounterRecord = std::variant<GenericInterfaceCounters, EthernetInterfaceCounters,
                                   VlanCounters, ProcessorCounters, PortName>;

// ---- samples ----
struct FlowSample {
  // 0:3 instead of 0:1. The encoder also switches to expanded on its own when a value does
  // not fit the compact form (type > 255, index >= 2^24, interface value >= 2^30).
  bool expanded = false;
  uint32_t sequence = 0;  // per sampler
  DataSource source;
  uint32_t sampling_rate = 0;
  uint32_t sample_pool = 0;
  uint32_t drops = 0;
  Interface input;
  Interface output;
  const FlowRecord* records = nullptr;
  uint32_t record_count = 0;
};

struct CounterSample {
  bool expanded = false;  // 0:4 instead of 0:2
  uint32_t sequence = 0;  // per poller
  DataSource source;
  const CounterRecord* records = nullptr;
  uint32_t record_count = 0;
};

// 0:5, sflow_drops.txt. Always in the expanded data source / interface forms.
struct DiscardSample {
  uint32_t sequence = 0;
  DataSource source;
  uint32_t drops = 0;  // discards lost before this one could be reported
  uint32_t input = 0;  // ifIndex, 0 unknown
  uint32_t output = 0;
  uint32_t reason = 0;  // drop_reason code from sflow_drops.txt
  const FlowRecord* records = nullptr;
  uint32_t record_count = 0;
};

struct DatagramHeader {
  IpAddress agent_address;  // v4 or v6
  uint32_t sub_agent_id = 0;
  uint32_t sequence = 0;  // per receiver, datagrams sent
  uint32_t uptime_ms = 0;
};

}  // namespace xflowd::exporter::sflow
