// Shared helpers of the NetFlow/IPFIX tests: the records of tests/testdata/netflow/make_golden.py
// and normalisation of records to what each version carries.
#pragma once

#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>

#include "exporter/netflow/flow_exporter.h"
#include "exporter/netflow/flow_record.h"
#include "gtest/gtest.h"
#include "hal/base/byte_view.h"
#include "tests/support/golden.h"

namespace xflowd::exporter::netflow::testing {

using Bytes = std::basic_string<uint8_t>;

constexpr uint64_t kInitMs = 1767225600000;  // 2026-01-01T00:00:00Z
constexpr uint64_t kNowMs = kInitMs + 60000;
constexpr uint32_t kDomain = 7;

inline void SetIp(uint8_t* dst, std::initializer_list<uint8_t> bytes) {
  size_t i = 0;
  for (uint8_t b : bytes) dst[i++] = b;
}

inline FlowRecord RecordA() {
  FlowRecord r;
  SetIp(r.key.src_ip, {192, 0, 2, 1});
  SetIp(r.key.dst_ip, {198, 51, 100, 2});
  r.key.input_ifindex = 3;
  r.key.output_ifindex = 5;
  r.key.src_port = 49152;
  r.key.dst_port = 443;
  r.key.vlan_outer = 100;
  r.key.vlan_inner = 200;
  r.key.ip_version = 4;
  r.key.protocol = 6;
  r.key.tos = 0x28;
  r.packets = 10;
  r.bytes = 4000;
  r.first_ms = kInitMs + 1000;
  r.last_ms = kInitMs + 5000;
  r.tcp_flags = 0x1b;
  r.end_reason = EndReason::kEndOfFlow;
  r.sampling_rate = 1000;
  return r;
}

inline FlowRecord RecordB() {
  FlowRecord r;
  SetIp(r.key.src_ip, {192, 0, 2, 1});
  SetIp(r.key.dst_ip, {192, 0, 2, 2});
  r.key.input_ifindex = 3;
  r.key.dst_port = 0x0800;
  r.key.ip_version = 4;
  r.key.protocol = 1;
  r.packets = 3;
  r.bytes = 252;
  r.first_ms = kInitMs + 2000;
  r.last_ms = kInitMs + 4000;
  r.end_reason = EndReason::kIdleTimeout;
  r.sampling_rate = 1000;
  return r;
}

inline FlowRecord RecordC() {
  FlowRecord r;
  SetIp(r.key.src_ip, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  SetIp(r.key.dst_ip, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2});
  r.key.input_ifindex = 4;
  r.key.output_ifindex = 6;
  r.key.src_port = 1234;
  r.key.dst_port = 80;
  r.key.vlan_outer = 10;
  r.key.ip_version = 6;
  r.key.protocol = 6;
  r.packets = 5;
  r.bytes = 600;
  r.first_ms = kInitMs + 3000;
  r.last_ms = kInitMs + 3500;
  r.tcp_flags = 0x12;
  r.end_reason = EndReason::kActiveTimeout;
  r.sampling_rate = 1000;
  return r;
}

// The record as a decoder sees it after a trip through `v`: fields the version does not carry
// are at their defaults, ICMP has no source port.
inline FlowRecord Carried(FlowRecord r, Version v) {
  FlowRecord out;
  out.key.ip_version = r.key.ip_version;
  std::memcpy(out.key.src_ip, r.key.src_ip, 16);
  std::memcpy(out.key.dst_ip, r.key.dst_ip, 16);
  out.key.input_ifindex = r.key.input_ifindex;
  out.key.output_ifindex = r.key.output_ifindex;
  const bool icmp = (r.key.ip_version == 4 && r.key.protocol == 1) ||
                    (r.key.ip_version == 6 && r.key.protocol == 58);
  out.key.src_port = icmp && v != Version::kV5 ? 0 : r.key.src_port;
  out.key.dst_port = r.key.dst_port;
  out.key.protocol = r.key.protocol;
  out.key.tos = r.key.tos;
  out.packets = r.packets;
  out.bytes = r.bytes;
  out.first_ms = r.first_ms;
  out.last_ms = r.last_ms;
  out.sampling_rate = r.sampling_rate;
  if (v == Version::kV5) {
    out.tcp_flags = r.tcp_flags & 0xFF;
    return out;
  }
  out.key.vlan_outer = r.key.vlan_outer;
  out.key.vlan_inner = r.key.vlan_inner;
  out.tcp_flags = icmp ? 0 : (v == Version::kV9 ? r.tcp_flags & 0xFF : r.tcp_flags);
  if (v == Version::kIpfix) out.end_reason = r.end_reason;
  return out;
}

inline std::string Describe(const FlowRecord& r) {
  std::ostringstream s;
  s << "v" << int(r.key.ip_version) << " proto " << int(r.key.protocol) << " src ";
  for (int i = 0; i < 16; ++i) s << int(r.key.src_ip[i]) << ".";
  s << " dst ";
  for (int i = 0; i < 16; ++i) s << int(r.key.dst_ip[i]) << ".";
  s << " ports " << r.key.src_port << "->" << r.key.dst_port << " if " << r.key.input_ifindex
    << "->" << r.key.output_ifindex << " vlan " << r.key.vlan_outer << "/" << r.key.vlan_inner
    << " tos " << int(r.key.tos) << " pkts " << r.packets << " bytes " << r.bytes << " t "
    << r.first_ms << ".." << r.last_ms << " flags " << r.tcp_flags << " end " << int(r.end_reason)
    << " rate " << r.sampling_rate;
  return s.str();
}

inline bool SameRecord(const FlowRecord& a, const FlowRecord& b) {
  return Describe(a) == Describe(b) && a.key.mpls_top == b.key.mpls_top &&
         std::memcmp(a.key.src_mac, b.key.src_mac, 6) == 0 &&
         std::memcmp(a.key.dst_mac, b.key.dst_mac, 6) == 0;
}

inline Bytes ReadGolden(const std::string& name) {
  return xflowd::testing::ReadGoldenHex("netflow/" + name);
}

inline std::string Dump(const Bytes& b) {
  return hal::base::HexDump(hal::base::ByteView(b.data(), b.size()));
}
inline std::string Dump(const std::vector<uint8_t>& b) {
  return hal::base::HexDump(hal::base::ByteView(b.data(), b.size()));
}
inline hal::base::ByteView View(const std::vector<uint8_t>& b) {
  return hal::base::ByteView(b.data(), b.size());
}

}  // namespace xflowd::exporter::netflow::testing
