// Helpers shared by the flow cache and meter tests.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "exporter/netflow/flow_record.h"

namespace xflowd::agent::flow::testing {

class RecordingSink : public exporter::netflow::FlowRecordSink {
 public:
  void OnFlow(const exporter::netflow::FlowRecord& r) override { records.push_back(r); }
  std::vector<exporter::netflow::FlowRecord> records;
};

// A distinct IPv4 key per `i` (addresses and ports vary with i).
inline exporter::netflow::FlowKey KeyN(uint32_t i, uint8_t protocol = 17) {
  exporter::netflow::FlowKey k;
  k.ip_version = 4;
  k.protocol = protocol;
  const uint8_t src[4] = {10, static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 8),
                          static_cast<uint8_t>(i)};
  const uint8_t dst[4] = {192, 0, 2, static_cast<uint8_t>(i * 7)};
  std::memcpy(k.src_ip, src, 4);
  std::memcpy(k.dst_ip, dst, 4);
  k.src_port = static_cast<uint16_t>(1024 + i % 50000);
  k.dst_port = 443;
  k.input_ifindex = 1 + i % 3;
  k.output_ifindex = 7;
  return k;
}

inline bool SameKey(const exporter::netflow::FlowKey& a, const exporter::netflow::FlowKey& b) {
  return std::memcmp(a.src_ip, b.src_ip, 16) == 0 && std::memcmp(a.dst_ip, b.dst_ip, 16) == 0 &&
         a.input_ifindex == b.input_ifindex && a.output_ifindex == b.output_ifindex &&
         a.src_port == b.src_port && a.dst_port == b.dst_port && a.vlan_outer == b.vlan_outer &&
         a.vlan_inner == b.vlan_inner && a.ip_version == b.ip_version && a.protocol == b.protocol &&
         a.tos == b.tos && std::memcmp(a.src_mac, b.src_mac, 6) == 0 &&
         std::memcmp(a.dst_mac, b.dst_mac, 6) == 0 && a.mpls_top == b.mpls_top;
}

}  // namespace xflowd::agent::flow::testing
