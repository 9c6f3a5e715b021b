// sFlow v5 wire model (sFlow v5 spec, sflow.org; drops: sflow_drops.txt). These structs are
// what the agent hands the encoder. They own nothing: ByteView and pointer+count members point
// at the caller's memory, which must outlive the Encode call. No allocation on this path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>
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
  // sFlow Host Structures (sflow_host.txt) and its MIB-2 TCP/IP groups.
  kHostDescrFormat = 2000,
  kHostAdaptersFormat = 2001,
  kHostCpuFormat = 2003,
  kHostMemoryFormat = 2004,
  kHostDiskIoFormat = 2005,
  kHostNetIoFormat = 2006,
  kMib2IpFormat = 2007,
  kMib2IcmpFormat = 2008,
  kMib2TcpFormat = 2009,
  kMib2UdpFormat = 2010,
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

// An interface's names: the JSON key (and the compact word's name in decoder errors), and the
// expanded words' names.
struct InterfaceField {
  const char* key;
  const char* format_wire;
  const char* value_wire;
};

// ---- field descriptions ----
// Each record lists its fields once, in wire order, in its static Fields(self, v); call it as
// VisitFields(record, v), const or not. The encoder (size and bytes), the decoder, and
// xflowdump's JSON and text writers are visitors over that list, so a new record type is its
// struct, kFormat, kName, that list and its slot in the variant. A visitor provides, for a
// field named `n` (FieldName):
//   U32(n, uint32_t&)  U32(n, uint32_t&, ValueNames)  U64(n, uint64_t&)
//   F32(n, float&)                                      XDR float: IEEE 754 single, big-endian
//   Uuid(n, uint8_t(&)[16])                             XDR opaque[16]: 16 raw bytes
//   Ipv4(n, uint8_t(&)[4])  Ipv6(n, uint8_t(&)[16])   raw address bytes, network order
//   Mac(n, uint8_t(&)[6])                               XDR opaque[6]: padded to 8 bytes
//   Address(n, IpAddress&)                              XDR address union (type, 0/4/16 bytes)
//   Opaque(n, length_name, max, bytes)                  XDR opaque<max>: length, bytes, padding
//   String(n, length_name, max, text)                   XDR string<max>, same layout
//   U32Array(n, count_name, item_name, seq)             count, then the u32 items
//   Array(n, count_name, seq)                           count, then each item's fields
// Variable parts are templates (Bytes, Text, Seq) so the same list serves the wire structs,
// which point at the caller's memory, and the decoder's owning twins (sflow_decoder.h).
// Templates inline: the encoder walks these lists with no per-field virtual call.

// A field's name: `key` is the struct member's name (JSON keys); `wire`, when the spec's name
// differs, is what decoder errors call it.
struct FieldName {
  constexpr FieldName(const char* k) : key(k), wire(k) {}  // NOLINT: a plain name converts
  constexpr FieldName(const char* k, const char* w) : key(k), wire(w) {}
  const char* key;
  const char* wire;
};

template <typename Record, typename V>
void VisitFields(Record& r, V& v) {
  std::remove_const_t<Record>::Fields(r, v);
}

// u32 fields whose values have names (printed next to the number).
enum class ValueNames { kHeaderProtocol, kDropReason };

// An array member of a wire struct: pointer + count into the caller's memory. A null pointer
// with a non-zero count is empty rather than dereferenced.
template <typename T>
struct Span {
  const T* data = nullptr;
  uint32_t count = 0;
  uint32_t size() const { return data ? count : 0; }
  const T* begin() const { return data; }
  const T* end() const { return data + size(); }
};

// Bytes a record's body takes on the wire (XDR: 4-byte words, opaques padded), and whether
// every value of the record takes that many. The encoder sizes records with it before writing
// them; the decoder checks fixed-size records' lengths and bounds array counts with it.
// Inline templates: for a fixed-size record the size folds to a constant.
class BodySizeVisitor {
 public:
  size_t size() const { return n_; }
  bool fixed() const { return fixed_; }

  void U32(FieldName, uint32_t) { n_ += 4; }
  void U32(FieldName, uint32_t, ValueNames) { n_ += 4; }
  void U64(FieldName, uint64_t) { n_ += 8; }
  void F32(FieldName, float) { n_ += 4; }
  void Uuid(FieldName, const uint8_t (&)[16]) { n_ += 16; }
  void Ipv4(FieldName, const uint8_t (&)[4]) { n_ += 4; }
  void Ipv6(FieldName, const uint8_t (&)[16]) { n_ += 16; }
  void Mac(FieldName, const uint8_t (&)[6]) { n_ += 8; }  // opaque[6] is padded too
  void Address(FieldName, const IpAddress& a) {
    n_ += 4 + a.size();
    fixed_ = false;
  }
  template <typename Bytes>
  void Opaque(FieldName, const char*, size_t max, const Bytes& b) {
    n_ += 4 + Pad4(b.size() < max ? b.size() : max);
    fixed_ = false;
  }
  template <typename Text>
  void String(FieldName n, const char* length_name, size_t max, const Text& t) {
    Opaque(n, length_name, max, t);
  }
  template <typename Seq>
  void U32Array(FieldName, const char*, const char*, const Seq& s) {
    n_ += 4 + 4 * size_t{s.size()};
    fixed_ = false;
  }
  template <typename Seq>
  void Array(FieldName, const char*, const Seq& s) {
    n_ += 4;
    for (const auto& item : s) VisitFields(item, *this);
    fixed_ = false;
  }

  // Sample fields (below): one word each in the compact forms, two expanded.
  void Source(FieldName, const DataSource&, bool expanded) { n_ += expanded ? 8 : 4; }
  void Interface(const InterfaceField&, const sflow::Interface&, bool expanded) {
    n_ += expanded ? 8 : 4;
  }

  static constexpr size_t Pad4(size_t n) { return (n + 3) & ~size_t{3}; }

 private:
  size_t n_ = 0;
  bool fixed_ = true;
};

// ---- flow records ----
template <typename Bytes>
struct BasicSampledHeader {  // 0:1
  static constexpr uint32_t kFormat = kSampledHeaderFormat;
  static constexpr const char* kName = "sampled_header";
  uint32_t protocol = kHeaderEthernet;
  uint32_t frame_length = 0;  // original length, including stripped bytes
  uint32_t stripped = 0;
  Bytes header;  // padded to 4 bytes on the wire

  template <typename Self, typename V>
  static void Fields(Self& r, V& v) {
    v.U32("header_protocol", r.protocol, ValueNames::kHeaderProtocol);
    v.U32("frame_length", r.frame_length);
    v.U32("stripped", r.stripped);
    v.Opaque({"header", "header bytes"}, "header_length", SIZE_MAX, r.header);
  }
};
using SampledHeader = BasicSampledHeader<ByteView>;

struct SampledEthernet {  // 0:2
  static constexpr uint32_t kFormat = kSampledEthernetFormat;
  static constexpr const char* kName = "sampled_ethernet";
  uint32_t length = 0;  // MAC packet length in bytes
  uint8_t src_mac[6] = {};
  uint8_t dst_mac[6] = {};
  uint32_t type = 0;  // ethertype

  template <typename Self, typename V>
  static void Fields(Self& r, V& v) {
    v.U32("length", r.length);
    v.Mac("src_mac", r.src_mac);
    v.Mac("dst_mac", r.dst_mac);
    v.U32("type", r.type);
  }
};
struct SampledIpv4 {  // 0:3
  static constexpr uint32_t kFormat = kSampledIpv4Format;
  static constexpr const char* kName = "sampled_ipv4";
  uint32_t length = 0;  // IP packet length
  uint32_t protocol = 0;
  uint8_t src_ip[4] = {};
  uint8_t dst_ip[4] = {};
  uint32_t src_port = 0;
  uint32_t dst_port = 0;
  uint32_t tcp_flags = 0;
  uint32_t tos = 0;

  template <typename Self, typename V>
  static void Fields(Self& r, V& v) {
    v.U32("length", r.length);
    v.U32("protocol", r.protocol);
    v.Ipv4("src_ip", r.src_ip);
    v.Ipv4("dst_ip", r.dst_ip);
    v.U32("src_port", r.src_port);
    v.U32("dst_port", r.dst_port);
    v.U32("tcp_flags", r.tcp_flags);
    v.U32("tos", r.tos);
  }
};
struct SampledIpv6 {  // 0:4
  static constexpr uint32_t kFormat = kSampledIpv6Format;
  static constexpr const char* kName = "sampled_ipv6";
  uint32_t length = 0;  // IP packet length excluding lower layer encapsulations
  uint32_t protocol = 0;
  uint8_t src_ip[16] = {};
  uint8_t dst_ip[16] = {};
  uint32_t src_port = 0;
  uint32_t dst_port = 0;
  uint32_t tcp_flags = 0;
  uint32_t priority = 0;

  template <typename Self, typename V>
  static void Fields(Self& r, V& v) {
    v.U32("length", r.length);
    v.U32("protocol", r.protocol);
    v.Ipv6("src_ip", r.src_ip);
    v.Ipv6("dst_ip", r.dst_ip);
    v.U32("src_port", r.src_port);
    v.U32("dst_port", r.dst_port);
    v.U32("tcp_flags", r.tcp_flags);
    v.U32("priority", r.priority);
  }
};
struct ExtendedSwitch {  // 0:1001
  static constexpr uint32_t kFormat = kExtendedSwitchFormat;
  static constexpr const char* kName = "extended_switch";
  uint32_t src_vlan = 0;
  uint32_t src_priority = 0;
  uint32_t dst_vlan = 0;
  uint32_t dst_priority = 0;

  template <typename Self, typename V>
  static void Fields(Self& r, V& v) {
    v.U32("src_vlan", r.src_vlan);
    v.U32("src_priority", r.src_priority);
    v.U32("dst_vlan", r.dst_vlan);
    v.U32("dst_priority", r.dst_priority);
  }
};
struct ExtendedRouter {  // 0:1002
  static constexpr uint32_t kFormat = kExtendedRouterFormat;
  static constexpr const char* kName = "extended_router";
  IpAddress next_hop;
  uint32_t src_mask_len = 0;
  uint32_t dst_mask_len = 0;

  template <typename Self, typename V>
  static void Fields(Self& r, V& v) {
    v.Address("next_hop", r.next_hop);
    v.U32("src_mask_len", r.src_mask_len);
    v.U32("dst_mask_len", r.dst_mask_len);
  }
};
template <template <typename> class Seq>
struct BasicAsPathSegment {
  uint32_t type = 2;  // 1 = AS_SET, 2 = AS_SEQUENCE
  Seq<uint32_t> as_numbers;

  template <typename Self, typename V>
  static void Fields(Self& r, V& v) {
    v.U32({"type", "as_path segment type"}, r.type);
    v.U32Array("as_numbers", "as_path segment length", "as_path AS number", r.as_numbers);
  }
};
using AsPathSegment = BasicAsPathSegment<Span>;
template <template <typename> class Seq>
struct BasicExtendedGateway {  // 0:1003
  static constexpr uint32_t kFormat = kExtendedGatewayFormat;
  static constexpr const char* kName = "extended_gateway";
  IpAddress next_hop;
  uint32_t as = 0;
  uint32_t src_as = 0;
  uint32_t src_peer_as = 0;
  Seq<BasicAsPathSegment<Seq>> dst_as_path;
  Seq<uint32_t> communities;
  uint32_t local_pref = 0;

  template <typename Self, typename V>
  static void Fields(Self& r, V& v) {
    v.Address("next_hop", r.next_hop);
    v.U32("as", r.as);
    v.U32("src_as", r.src_as);
    v.U32("src_peer_as", r.src_peer_as);
    v.Array("dst_as_path", "dst_as_path segment count", r.dst_as_path);
    v.U32Array("communities", "communities count", "community", r.communities);
    v.U32({"local_pref", "localpref"}, r.local_pref);
  }
};
using ExtendedGateway = BasicExtendedGateway<Span>;
struct ExtendedTimestamp {  // 0:1043
  static constexpr uint32_t kFormat = kExtendedTimestampFormat;
  static constexpr const char* kName = "extended_timestamp";
  uint64_t nanoseconds = 0;  // wall clock, ns since the Unix epoch (UTC)

  template <typename Self, typename V>
  static void Fields(Self& r, V& v) {
    v.U64("nanoseconds", r.nanoseconds);
  }
};
using FlowRecord = std::variant<SampledHeader, SampledEthernet, SampledIpv4, SampledIpv6,
                                ExtendedSwitch, ExtendedRouter, ExtendedGateway, ExtendedTimestamp>;

// ---- counter records ----
struct GenericInterfaceCounters {  // 0:1
  static constexpr uint32_t kFormat = kGenericInterfaceFormat;
  static constexpr const char* kName = "if_counters";
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

  template <typename Self, typename V>
  static void Fields(Self& r, V& v) {
    v.U32("if_index", r.if_index);
    v.U32("if_type", r.if_type);
    v.U64("if_speed", r.if_speed);
    v.U32("if_direction", r.if_direction);
    v.U32("if_status", r.if_status);
    v.U64("in_octets", r.in_octets);
    v.U32("in_ucast_pkts", r.in_ucast_pkts);
    v.U32("in_multicast_pkts", r.in_multicast_pkts);
    v.U32("in_broadcast_pkts", r.in_broadcast_pkts);
    v.U32("in_discards", r.in_discards);
    v.U32("in_errors", r.in_errors);
    v.U32("in_unknown_protos", r.in_unknown_protos);
    v.U64("out_octets", r.out_octets);
    v.U32("out_ucast_pkts", r.out_ucast_pkts);
    v.U32("out_multicast_pkts", r.out_multicast_pkts);
    v.U32("out_broadcast_pkts", r.out_broadcast_pkts);
    v.U32("out_discards", r.out_discards);
    v.U32("out_errors", r.out_errors);
    v.U32("promiscuous_mode", r.promiscuous_mode);
  }
};
struct EthernetInterfaceCounters {  // 0:2 (dot3Stats)
  static constexpr uint32_t kFormat = kEthernetInterfaceFormat;
  static constexpr const char* kName = "ethernet_counters";
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

  template <typename Self, typename V>
  static void Fields(Self& r, V& v) {
    v.U32("alignment_errors", r.alignment_errors);
    v.U32("fcs_errors", r.fcs_errors);
    v.U32("single_collision_frames", r.single_collision_frames);
    v.U32("multiple_collision_frames", r.multiple_collision_frames);
    v.U32("sqe_test_errors", r.sqe_test_errors);
    v.U32("deferred_transmissions", r.deferred_transmissions);
    v.U32("late_collisions", r.late_collisions);
    v.U32("excessive_collisions", r.excessive_collisions);
    v.U32("internal_mac_transmit_errors", r.internal_mac_transmit_errors);
    v.U32("carrier_sense_errors", r.carrier_sense_errors);
    v.U32("frame_too_longs", r.frame_too_longs);
    v.U32("internal_mac_receive_errors", r.internal_mac_receive_errors);
    v.U32("symbol_errors", r.symbol_errors);
  }
};
struct VlanCounters {  // 0:5
  static constexpr uint32_t kFormat = kVlanFormat;
  static constexpr const char* kName = "vlan_counters";
  uint32_t vlan_id = 0;
  uint64_t octets = 0;
  uint32_t ucast_pkts = 0;
  uint32_t multicast_pkts = 0;
  uint32_t broadcast_pkts = 0;
  uint32_t discards = 0;

  template <typename Self, typename V>
  static void Fields(Self& r, V& v) {
    v.U32("vlan_id", r.vlan_id);
    v.U64("octets", r.octets);
    v.U32("ucast_pkts", r.ucast_pkts);
    v.U32("multicast_pkts", r.multicast_pkts);
    v.U32("broadcast_pkts", r.broadcast_pkts);
    v.U32("discards", r.discards);
  }
};
struct ProcessorCounters {  // 0:1001
  static constexpr uint32_t kFormat = kProcessorFormat;
  static constexpr const char* kName = "processor";
  uint32_t cpu_5s = 0;  // percent x 100 (5000 = 50%)
  uint32_t cpu_1m = 0;
  uint32_t cpu_5m = 0;
  uint64_t total_memory = 0;  // bytes
  uint64_t free_memory = 0;

  template <typename Self, typename V>
  static void Fields(Self& r, V& v) {
    v.U32("cpu_5s", r.cpu_5s);
    v.U32("cpu_1m", r.cpu_1m);
    v.U32("cpu_5m", r.cpu_5m);
    v.U64("total_memory", r.total_memory);
    v.U64("free_memory", r.free_memory);
  }
};
// XDR string<255>: longer names are cut by the encoder rather than emitting a record that a
// strict collector rejects, and refused by the decoder.
constexpr size_t kMaxPortNameBytes = 255;
template <typename Text>
struct BasicPortName {  // 0:1005
  static constexpr uint32_t kFormat = kPortNameFormat;
  static constexpr const char* kName = "port_name";
  Text name;  // raw bytes (the spec says ASCII; not checked)

  template <typename Self, typename V>
  static void Fields(Self& r, V& v) {
    v.String("name", "name length", kMaxPortNameBytes, r.name);
  }
};
using PortName = BasicPortName<ByteView>;

// ---- host counter records (sflow_host.txt; the MIB-2 groups: RFC 1213 / 4022 / 4113) ----
// machine_type and os_name values of host_descr.
enum MachineType : uint32_t {
  kMachineUnknown = 0,
  kMachineOther = 1,
  kMachineX86 = 2,
  kMachineX86_64 = 3,
  kMachineIa64 = 4,
  kMachineSparc = 5,
  kMachineAlpha = 6,
  kMachinePowerpc = 7,
  kMachineM68k = 8,
  kMachineMips = 9,
  kMachineArm = 10,
  kMachineHppa = 11,
  kMachineS390 = 12,
};
enum OsName : uint32_t { kOsUnknown = 0, kOsOther = 1, kOsLinux = 2 };
constexpr size_t kMaxHostnameBytes = 64;
constexpr size_t kMaxOsReleaseBytes = 32;
template <typename Text>
struct BasicHostDescr {  // 0:2000
  static constexpr uint32_t kFormat = kHostDescrFormat;
  static constexpr const char* kName = "host_descr";
  Text hostname;          // string<64>, empty if unknown
  uint8_t uuid[16] = {};  // opaque[16] (the spec's erratum: fixed, not <16>); zeros unknown
  uint32_t machine_type = kMachineUnknown;
  uint32_t os_name = kOsUnknown;
  Text os_release;  // string<32>, e.g. "6.1.0-13-amd64"

  template <typename Self, typename V>
  static void Fields(Self& r, V& v) {
    v.String("hostname", "hostname length", kMaxHostnameBytes, r.hostname);
    v.Uuid("uuid", r.uuid);
    v.U32("machine_type", r.machine_type);
    v.U32("os_name", r.os_name);
    v.String("os_release", "os_release length", kMaxOsReleaseBytes, r.os_release);
  }
};
using HostDescr = BasicHostDescr<ByteView>;

struct HostMac {  // one mac_address of a host_adapter: opaque[6], padded to 8 bytes
  uint8_t mac[6] = {};

  template <typename Self, typename V>
  static void Fields(Self& r, V& v) {
    v.Mac("mac", r.mac);
  }
};
template <template <typename> class Seq>
struct BasicHostAdapter {
  uint32_t if_index = 0;
  Seq<HostMac> macs;

  template <typename Self, typename V>
  static void Fields(Self& r, V& v) {
    v.U32({"if_index", "adapter ifIndex"}, r.if_index);
    v.Array("macs", "adapter mac_address count", r.macs);
  }
};
using HostAdapter = BasicHostAdapter<Span>;
template <template <typename> class Seq>
struct BasicHostAdapters {  // 0:2001
  static constexpr uint32_t kFormat = kHostAdaptersFormat;
  static constexpr const char* kName = "host_adapters";
  Seq<BasicHostAdapter<Seq>> adapters;

  template <typename Self, typename V>
  static void Fields(Self& r, V& v) {
    v.Array("adapters", "adapters count", r.adapters);
  }
};
using HostAdapters = BasicHostAdapters<Span>;

struct HostCpu {  // 0:2003
  static constexpr uint32_t kFormat = kHostCpuFormat;
  static constexpr const char* kName = "host_cpu";
  float load_one = 0;  // load averages
  float load_five = 0;
  float load_fifteen = 0;
  uint32_t proc_run = 0;    // running threads
  uint32_t proc_total = 0;  // threads
  uint32_t cpu_num = 0;
  uint32_t cpu_speed = 0;  // MHz
  uint32_t uptime = 0;     // seconds since boot
  uint32_t cpu_user = 0;   // the times are ms summed over CPUs (wrap at 2^32)
  uint32_t cpu_nice = 0;
  uint32_t cpu_system = 0;
  uint32_t cpu_idle = 0;
  uint32_t cpu_wio = 0;
  uint32_t cpu_intr = 0;
  uint32_t cpu_sintr = 0;
  uint32_t interrupts = 0;
  uint32_t contexts = 0;

  template <typename Self, typename V>
  static void Fields(Self& r, V& v) {
    v.F32("load_one", r.load_one);
    v.F32("load_five", r.load_five);
    v.F32("load_fifteen", r.load_fifteen);
    v.U32("proc_run", r.proc_run);
    v.U32("proc_total", r.proc_total);
    v.U32("cpu_num", r.cpu_num);
    v.U32("cpu_speed", r.cpu_speed);
    v.U32("uptime", r.uptime);
    v.U32("cpu_user", r.cpu_user);
    v.U32("cpu_nice", r.cpu_nice);
    v.U32("cpu_system", r.cpu_system);
    v.U32("cpu_idle", r.cpu_idle);
    v.U32("cpu_wio", r.cpu_wio);
    v.U32("cpu_intr", r.cpu_intr);
    v.U32("cpu_sintr", r.cpu_sintr);
    v.U32("interrupts", r.interrupts);
    v.U32("contexts", r.contexts);
  }
};
struct HostMemory {  // 0:2004, bytes; the page and swap counts are pages
  static constexpr uint32_t kFormat = kHostMemoryFormat;
  static constexpr const char* kName = "host_memory";
  uint64_t mem_total = 0;
  uint64_t mem_free = 0;
  uint64_t mem_shared = 0;
  uint64_t mem_buffers = 0;
  uint64_t mem_cached = 0;
  uint64_t swap_total = 0;
  uint64_t swap_free = 0;
  uint32_t page_in = 0;
  uint32_t page_out = 0;
  uint32_t swap_in = 0;
  uint32_t swap_out = 0;

  template <typename Self, typename V>
  static void Fields(Self& r, V& v) {
    v.U64("mem_total", r.mem_total);
    v.U64("mem_free", r.mem_free);
    v.U64("mem_shared", r.mem_shared);
    v.U64("mem_buffers", r.mem_buffers);
    v.U64("mem_cached", r.mem_cached);
    v.U64("swap_total", r.swap_total);
    v.U64("swap_free", r.swap_free);
    v.U32("page_in", r.page_in);
    v.U32("page_out", r.page_out);
    v.U32("swap_in", r.swap_in);
    v.U32("swap_out", r.swap_out);
  }
};
constexpr uint32_t kPercentUnknown = 0xFFFFFFFFu;  // the spec's "percentage" -1
struct HostDiskIo {                                // 0:2005
  static constexpr uint32_t kFormat = kHostDiskIoFormat;
  static constexpr const char* kName = "host_disk_io";
  uint64_t disk_total = 0;  // bytes, summed over the local file systems
  uint64_t disk_free = 0;
  uint32_t part_max_used = kPercentUnknown;  // of the fullest one, percent x 100
  uint32_t reads = 0;
  uint64_t bytes_read = 0;
  uint32_t read_time = 0;  // ms
  uint32_t writes = 0;
  uint64_t bytes_written = 0;
  uint32_t write_time = 0;

  template <typename Self, typename V>
  static void Fields(Self& r, V& v) {
    v.U64("disk_total", r.disk_total);
    v.U64("disk_free", r.disk_free);
    v.U32("part_max_used", r.part_max_used);
    v.U32("reads", r.reads);
    v.U64("bytes_read", r.bytes_read);
    v.U32("read_time", r.read_time);
    v.U32("writes", r.writes);
    v.U64("bytes_written", r.bytes_written);
    v.U32("write_time", r.write_time);
  }
};
struct HostNetIo {  // 0:2006, summed over the adapters (loopback excluded)
  static constexpr uint32_t kFormat = kHostNetIoFormat;
  static constexpr const char* kName = "host_net_io";
  uint64_t bytes_in = 0;
  uint32_t pkts_in = 0;
  uint32_t errs_in = 0;
  uint32_t drops_in = 0;
  uint64_t bytes_out = 0;
  uint32_t pkts_out = 0;
  uint32_t errs_out = 0;
  uint32_t drops_out = 0;

  template <typename Self, typename V>
  static void Fields(Self& r, V& v) {
    v.U64("bytes_in", r.bytes_in);
    v.U32("pkts_in", r.pkts_in);
    v.U32("errs_in", r.errs_in);
    v.U32("drops_in", r.drops_in);
    v.U64("bytes_out", r.bytes_out);
    v.U32("pkts_out", r.pkts_out);
    v.U32("errs_out", r.errs_out);
    v.U32("drops_out", r.drops_out);
  }
};
// The MIB-2 groups: every field a u32 in MIB order, so each record is its name list.
// clang-format off
#define XFLOWD_SFLOW_U32_FIELD(name) v.U32(#name, r.name);
#define XFLOWD_SFLOW_U32_MEMBER(name) uint32_t name = 0;
#define XFLOWD_SFLOW_MIB2_IP(X)                                                          \
  X(ip_forwarding) X(ip_default_ttl) X(ip_in_receives) X(ip_in_hdr_errors)               \
  X(ip_in_addr_errors) X(ip_forw_datagrams) X(ip_in_unknown_protos) X(ip_in_discards)    \
  X(ip_in_delivers) X(ip_out_requests) X(ip_out_discards) X(ip_out_no_routes)            \
  X(ip_reasm_timeout) X(ip_reasm_reqds) X(ip_reasm_oks) X(ip_reasm_fails) X(ip_frag_oks) \
  X(ip_frag_fails) X(ip_frag_creates)
#define XFLOWD_SFLOW_MIB2_ICMP(X)                                                            \
  X(icmp_in_msgs) X(icmp_in_errors) X(icmp_in_dest_unreachs) X(icmp_in_time_excds)           \
  X(icmp_in_param_probs) X(icmp_in_src_quenchs) X(icmp_in_redirects) X(icmp_in_echos)        \
  X(icmp_in_echo_reps) X(icmp_in_timestamps) X(icmp_in_addr_masks) X(icmp_in_addr_mask_reps) \
  X(icmp_out_msgs) X(icmp_out_errors) X(icmp_out_dest_unreachs) X(icmp_out_time_excds)       \
  X(icmp_out_param_probs) X(icmp_out_src_quenchs) X(icmp_out_redirects) X(icmp_out_echos)    \
  X(icmp_out_echo_reps) X(icmp_out_timestamps) X(icmp_out_timestamp_reps)                    \
  X(icmp_out_addr_masks) X(icmp_out_addr_mask_reps)
#define XFLOWD_SFLOW_MIB2_TCP(X)                                                         \
  X(tcp_rto_algorithm) X(tcp_rto_min) X(tcp_rto_max) X(tcp_max_conn) X(tcp_active_opens) \
  X(tcp_passive_opens) X(tcp_attempt_fails) X(tcp_estab_resets) X(tcp_curr_estab)        \
  X(tcp_in_segs) X(tcp_out_segs) X(tcp_retrans_segs) X(tcp_in_errs) X(tcp_out_rsts)      \
  X(tcp_in_csum_errors)
#define XFLOWD_SFLOW_MIB2_UDP(X)                                       \
  X(udp_in_datagrams) X(udp_no_ports) X(udp_in_errors) X(udp_out_datagrams) \
  X(udp_rcvbuf_errors) X(udp_sndbuf_errors) X(udp_in_csum_errors)
// clang-format on
struct Mib2Ip {  // 0:2007
  static constexpr uint32_t kFormat = kMib2IpFormat;
  static constexpr const char* kName = "mib2_ip_group";
  XFLOWD_SFLOW_MIB2_IP(XFLOWD_SFLOW_U32_MEMBER)
  template <typename Self, typename V>
  static void Fields(Self& r, V& v) {
    XFLOWD_SFLOW_MIB2_IP(XFLOWD_SFLOW_U32_FIELD)
  }
};
struct Mib2Icmp {  // 0:2008
  static constexpr uint32_t kFormat = kMib2IcmpFormat;
  static constexpr const char* kName = "mib2_icmp_group";
  XFLOWD_SFLOW_MIB2_ICMP(XFLOWD_SFLOW_U32_MEMBER)
  template <typename Self, typename V>
  static void Fields(Self& r, V& v) {
    XFLOWD_SFLOW_MIB2_ICMP(XFLOWD_SFLOW_U32_FIELD)
  }
};
struct Mib2Tcp {  // 0:2009 (tcp_max_conn: -1 = dynamic, as the MIB says)
  static constexpr uint32_t kFormat = kMib2TcpFormat;
  static constexpr const char* kName = "mib2_tcp_group";
  XFLOWD_SFLOW_MIB2_TCP(XFLOWD_SFLOW_U32_MEMBER)
  template <typename Self, typename V>
  static void Fields(Self& r, V& v) {
    XFLOWD_SFLOW_MIB2_TCP(XFLOWD_SFLOW_U32_FIELD)
  }
};
struct Mib2Udp {  // 0:2010
  static constexpr uint32_t kFormat = kMib2UdpFormat;
  static constexpr const char* kName = "mib2_udp_group";
  XFLOWD_SFLOW_MIB2_UDP(XFLOWD_SFLOW_U32_MEMBER)
  template <typename Self, typename V>
  static void Fields(Self& r, V& v) {
    XFLOWD_SFLOW_MIB2_UDP(XFLOWD_SFLOW_U32_FIELD)
  }
};
using CounterRecord =
    std::variant<GenericInterfaceCounters, EthernetInterfaceCounters, VlanCounters,
                 ProcessorCounters, PortName, HostDescr, HostAdapters, HostCpu, HostMemory,
                 HostDiskIo, HostNetIo, Mib2Ip, Mib2Icmp, Mib2Tcp, Mib2Udp>;

// ---- samples ----
// A sample's fields before its records are listed once too, in Fields(self, v, expanded): the
// compact forms (0:1, 0:2) pack the data source (type:8 | index:24) and each interface
// (format:2 | value:30) in one word, the expanded forms (0:3, 0:4, 0:5) give each part a word.
// The encoder's samples below and the decoder's (sflow_decoder.h) share these bases and differ
// only in how they hold the records. Visitors of samples add:
//   Source(n, DataSource&, expanded)  Interface(InterfaceField, Interface&, expanded)
struct FlowSampleFields {  // 0:1, or 0:3 when expanded
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

  template <typename Self, typename V>
  static void Fields(Self& s, V& v, bool expanded) {
    v.U32({"sequence", "sequence_number"}, s.sequence);
    v.Source("source_id", s.source, expanded);
    v.U32("sampling_rate", s.sampling_rate);
    v.U32("sample_pool", s.sample_pool);
    v.U32("drops", s.drops);
    v.Interface({"input", "input format", "input value"}, s.input, expanded);
    v.Interface({"output", "output format", "output value"}, s.output, expanded);
  }
};

struct CounterSampleFields {  // 0:2, or 0:4 when expanded
  bool expanded = false;      // 0:4 instead of 0:2
  uint32_t sequence = 0;      // per poller
  DataSource source;

  template <typename Self, typename V>
  static void Fields(Self& s, V& v, bool expanded) {
    v.U32({"sequence", "sequence_number"}, s.sequence);
    v.Source("source_id", s.source, expanded);
  }
};

// 0:5, sflow_drops.txt. Always in the expanded data source / interface forms.
struct DiscardSampleFields {
  uint32_t sequence = 0;
  DataSource source;
  uint32_t drops = 0;  // discards lost before this one could be reported
  uint32_t input = 0;  // ifIndex, 0 unknown
  uint32_t output = 0;
  uint32_t reason = 0;  // drop_reason code from sflow_drops.txt

  template <typename Self, typename V>
  static void Fields(Self& s, V& v, bool) {
    v.U32({"sequence", "sequence_number"}, s.sequence);
    v.Source("source_id", s.source, true);
    v.U32("drops", s.drops);
    v.U32({"input", "inputInterface"}, s.input);
    v.U32({"output", "outputInterface"}, s.output);
    v.U32("reason", s.reason, ValueNames::kDropReason);
  }
};

// What the agent hands the encoder: the records point at the caller's memory.
struct FlowSample : FlowSampleFields {
  const FlowRecord* records = nullptr;
  uint32_t record_count = 0;
};
struct CounterSample : CounterSampleFields {
  const CounterRecord* records = nullptr;
  uint32_t record_count = 0;
};
struct DiscardSample : DiscardSampleFields {
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
