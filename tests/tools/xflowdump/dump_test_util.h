// Builders shared by the xflowdump tests: sFlow datagrams (through the encoder), in memory.
// Frames and pcap files come from tests/support/frames.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "exporter/sflow/sflow_encoder.h"
#include "hal/base/ip_address.h"
#include "tests/support/frames.h"

namespace xflowd::tools::xflowdump::testing {

using ::xflowd::testing::Append;
using ::xflowd::testing::Bytes;
using ::xflowd::testing::Ethernet;
using ::xflowd::testing::Ip;
using ::xflowd::testing::Ipv4Udp;
using ::xflowd::testing::Ipv6Udp;
using ::xflowd::testing::PcapFile;
using ::xflowd::testing::Put16;
using ::xflowd::testing::Put32;
namespace sf = ::xflowd::exporter::sflow;

// The first 54 bytes of a TCP/IPv4 Ethernet frame (IP total length 1500, ACK), as an agent
// samples it.
inline Bytes TcpFrame(const char* src, const char* dst, uint16_t sport, uint16_t dport) {
  Bytes f = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00};
  const Bytes ip = {0x45, 0, 0x05, 0xdc, 0, 0, 0x40, 0, 64, 6, 0, 0};
  Append(f, ip);
  const hal::base::IpAddress s = Ip(src), d = Ip(dst);
  f.insert(f.end(), s.bytes(), s.bytes() + 4);
  f.insert(f.end(), d.bytes(), d.bytes() + 4);
  Put16(f, sport);
  Put16(f, dport);
  Put32(f, 1);
  Put32(f, 0);
  Append(f, {0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0});
  return f;
}

// One datagram from the encoder: `add` is called with the builder to add samples.
template <typename AddFn>
Bytes Datagram(const char* agent, uint32_t sub_agent, uint32_t sequence, uint32_t uptime_ms,
               AddFn add) {
  Bytes buf(sf::kMaxDatagramBytes);
  sf::DatagramBuilder b(buf.data(), buf.size(), Ip(agent), sub_agent);
  add(b);
  hal::base::ByteView v = b.Finish(sequence, uptime_ms);
  return Bytes(v.begin(), v.end());
}

inline Bytes EmptyDatagram(const char* agent, uint32_t sub_agent, uint32_t sequence,
                           uint32_t uptime_ms = 1000) {
  return Datagram(agent, sub_agent, sequence, uptime_ms, [](sf::DatagramBuilder&) {});
}

// A flow sample from ifIndex `port` carrying `records`.
inline sf::FlowSample FlowSampleOn(uint32_t port, uint32_t sequence, uint32_t rate,
                                   const sf::FlowRecord* records, uint32_t count) {
  sf::FlowSample s;
  s.sequence = sequence;
  s.source = {0, port};
  s.sampling_rate = rate;
  s.sample_pool = rate * sequence;
  s.input = {0, port};
  s.records = records;
  s.record_count = count;
  return s;
}

inline sf::CounterSample CounterSampleOn(uint32_t port, uint32_t sequence) {
  sf::CounterSample s;
  s.sequence = sequence;
  s.source = {0, port};
  return s;
}

}  // namespace xflowd::tools::xflowdump::testing
