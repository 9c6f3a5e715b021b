// The simulator's traffic model: what flows look like (addresses, protocols, tags, packet
// sizes, unicast/multicast/broadcast) and how popular they are (Zipf). Pure functions of a
// Prng, so a seed fixes everything; no knowledge of ports beyond their indexes.
#pragma once

#include <cstdint>
#include <vector>

#include "hal/base/prng.h"
#include "sim/packet_builder.h"

namespace xflowd::sim {

enum class CastType : uint8_t { kUnicast, kMulticast, kBroadcast };

// How a flow picks the frame size of each train.
enum class SizeProfile : uint8_t {
  kBulk,     // mostly full-size frames (TCP bulk transfer)
  kSmall,    // near-minimum frames (ACKs, DNS, ICMP)
  kImix,     // simple IMIX: 7:4:1 of small, ~590 and full size
  kUniform,  // uniform between the flow's minimum and maximum
};

// Frame sizes in bytes without FCS: 60..1514 untagged, + 4 per VLAN tag.
constexpr uint32_t kMinUntaggedFrame = 60;
constexpr uint32_t kMaxUntaggedFrame = 1514;

struct FlowMix {
  double ipv6_fraction = 0.3;
  double vlan_fraction = 0.5;        // flows with at least one 802.1Q tag
  double qinq_fraction = 0.05;       // tagged flows with two tags
  double multicast_fraction = 0.02;  // flows to a multicast group (UDP)
  double broadcast_fraction = 0.01;  // flows to ff:ff:ff:ff:ff:ff (IPv4 UDP; IPv6 -> multicast)
};

// Ports are indexes 0..num_ports-1 here; the switch maps them to ifindexes.
constexpr uint32_t kNoPort = 0xFFFFFFFFu;

// What DrawFrameLength needs, small enough to sit in a per-train hot path.
struct FrameSizes {
  SizeProfile profile = SizeProfile::kImix;
  uint8_t vlan_tags = 0;
  uint16_t min_frame = kMinUntaggedFrame;  // >= HeaderLength(packet), includes the tags
  uint16_t max_frame = kMaxUntaggedFrame;  // includes the tags
};

struct FlowSpec {
  PacketSpec packet;
  uint32_t input_port = 0;
  uint32_t output_port = kNoPort;  // != input_port; kNoPort when the switch has one port
  CastType cast = CastType::kUnicast;
  FrameSizes sizes;
};

// Draws one flow entering `input_port` of a switch with `num_ports` ports. Protocols: TCP 80%,
// UDP 17%, ICMP/ICMPv6 3% (multicast and broadcast flows are UDP). Addresses: IPv4 sources in
// 198.18.<input>.0/24, destinations in 198.19.<output>.0/24 or the TEST-NETs (192.0.2.0/24,
// 198.51.100.0/24, 203.0.113.0/24); IPv6 in 2001:db8::/32 with the port in the third group.
FlowSpec MakeFlow(const FlowMix& mix, uint32_t input_port, uint32_t num_ports,
                  hal::base::Prng& prng);

// The frame size (bytes, no FCS) of one train, in [min_frame, max_frame].
uint32_t DrawFrameLength(const FrameSizes& sizes, hal::base::Prng& prng);

// Uniform in [0, n), exactly (Lemire's multiply-and-reject; a division only on the rare
// reject path). n >= 1. For hot paths: Prng::Uniform divides twice per draw.
inline uint32_t UniformBelow(hal::base::Prng& prng, uint32_t n) {
  uint64_t m = uint64_t{prng.Next32()} * n;
  if (static_cast<uint32_t>(m) < n) {
    const uint32_t threshold = (0u - n) % n;
    while (static_cast<uint32_t>(m) < threshold) m = uint64_t{prng.Next32()} * n;
  }
  return static_cast<uint32_t>(m >> 32);
}

// Roughly standard normal (Irwin-Hall of four 16-bit uniforms, rescaled), from one draw and
// no transcendental functions; enough for burst factors.
inline double ApproxNormal(hal::base::Prng& prng) {
  const uint64_t r = prng.Next64();
  const double sum =
      static_cast<double>((r & 0xFFFF) + ((r >> 16) & 0xFFFF) + ((r >> 32) & 0xFFFF) + (r >> 48));
  return (sum / 65536.0 - 2.0) * 1.7320508075688772;  // mean 0, variance 1
}

// Zipf(s) over ranks 0..n-1 (rank 0 most popular), drawn in O(1) with Walker's alias method
// from one 64-bit draw. Allocates only in the constructor.
class ZipfTable {
 public:
  ZipfTable(uint32_t n, double s);
  uint32_t size() const { return static_cast<uint32_t>(threshold_.size()); }
  // P(rank), for tests.
  double probability(uint32_t rank) const { return p_[rank]; }
  uint32_t Draw(hal::base::Prng& prng) const {
    const uint64_t r = prng.Next64();
    const uint32_t i = static_cast<uint32_t>(((r >> 32) * threshold_.size()) >> 32);
    return (r & 0xFFFFFFFFu) < threshold_[i] ? i : alias_[i];
  }

 private:
  std::vector<double> p_;
  std::vector<uint64_t> threshold_;  // keep i if the low 32 bits are below this (2^32: always)
  std::vector<uint32_t> alias_;
};

}  // namespace xflowd::sim
