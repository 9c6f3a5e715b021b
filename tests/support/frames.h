// Frames and captures for tests, built in memory: byte helpers, Ethernet/IPv4/IPv6/UDP
// frames and classic pcap files. Shared by the capture-file reader (hal/capfile) and xflowdump
// tests.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "hal/base/ip_address.h"

namespace xflowd::testing {

using Bytes = std::vector<uint8_t>;

inline hal::base::IpAddress Ip(const char* s) { return hal::base::IpAddress::Parse(s).value(); }

inline void Put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
inline void Put32(Bytes& b, uint32_t v) {
  Put16(b, static_cast<uint16_t>(v >> 16));
  Put16(b, static_cast<uint16_t>(v));
}
inline void PutLe32(Bytes& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
inline void Append(Bytes& b, const Bytes& tail) { b.insert(b.end(), tail.begin(), tail.end()); }

// The first 128 bytes of a 1500-byte TCP/IPv4 frame with an 802.1Q tag (VLAN 100), as a
// sampled header: 192.0.2.1:8080 -> 198.51.100.7:50000, ACK. For benchmarks of the sample path.
inline Bytes TaggedTcpHeader() {
  Bytes f(128, 0);
  const uint8_t eth[] = {0x02, 0, 0, 0,    0,    1,    0x02, 0,    0,
                         0,    0, 2, 0x81, 0x00, 0x00, 0x64, 0x08, 0x00};
  std::copy(eth, eth + sizeof(eth), f.begin());
  uint8_t* ip = f.data() + sizeof(eth);
  ip[0] = 0x45;
  ip[2] = 0x05;
  ip[3] = 0xdc;  // total length 1500
  ip[8] = 64;
  ip[9] = 6;
  const uint8_t src[] = {192, 0, 2, 1}, dst[] = {198, 51, 100, 7};
  std::copy(src, src + 4, ip + 12);
  std::copy(dst, dst + 4, ip + 16);
  ip[20] = 0x1f;
  ip[21] = 0x90;
  ip[22] = 0xc3;
  ip[23] = 0x50;
  ip[32] = 0x50;
  ip[33] = 0x10;
  return f;
}

inline Bytes Ipv4Udp(const char* src, const char* dst, uint16_t sport, uint16_t dport,
                     const Bytes& payload) {
  Bytes p = {0x45, 0};
  Put16(p, static_cast<uint16_t>(20 + 8 + payload.size()));
  Append(p, {0, 1, 0, 0, 64, 17, 0, 0});
  const hal::base::IpAddress s = Ip(src), d = Ip(dst);
  p.insert(p.end(), s.bytes(), s.bytes() + 4);
  p.insert(p.end(), d.bytes(), d.bytes() + 4);
  Put16(p, sport);
  Put16(p, dport);
  Put16(p, static_cast<uint16_t>(8 + payload.size()));
  Put16(p, 0);
  Append(p, payload);
  return p;
}

// IPv6 with a hop-by-hop options header before UDP.
inline Bytes Ipv6Udp(const char* src, const char* dst, uint16_t sport, uint16_t dport,
                     const Bytes& payload, bool hop_by_hop = false) {
  Bytes p = {0x60, 0, 0, 0};
  const size_t ext = hop_by_hop ? 8 : 0;
  Put16(p, static_cast<uint16_t>(ext + 8 + payload.size()));
  p.push_back(hop_by_hop ? 0 : 17);
  p.push_back(64);
  const hal::base::IpAddress s = Ip(src), d = Ip(dst);
  p.insert(p.end(), s.bytes(), s.bytes() + 16);
  p.insert(p.end(), d.bytes(), d.bytes() + 16);
  if (hop_by_hop) Append(p, {17, 0, 1, 4, 0, 0, 0, 0});
  Put16(p, sport);
  Put16(p, dport);
  Put16(p, static_cast<uint16_t>(8 + payload.size()));
  Put16(p, 0);
  Append(p, payload);
  return p;
}

inline Bytes Ethernet(uint16_t ethertype, const Bytes& payload,
                      const std::vector<uint16_t>& vlans = {}) {
  Bytes f = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb};
  for (uint16_t vlan : vlans) {
    Put16(f, 0x8100);
    Put16(f, vlan);
  }
  Put16(f, ethertype);
  Append(f, payload);
  return f;
}

// A classic pcap file in memory (sim::PcapWriter writes files on disk).
class PcapFile {
 public:
  // little_endian: as written on x86 (magic d4 c3 b2 a1 on disk).
  explicit PcapFile(uint32_t link_type, bool little_endian = true, bool nanosecond = false)
      : le_(little_endian) {
    Word(nanosecond ? 0xA1B23C4D : 0xA1B2C3D4);
    Half(2);
    Half(4);
    Word(0);
    Word(0);
    Word(65535);
    Word(link_type);
  }
  PcapFile& Add(uint32_t sec, uint32_t frac, const Bytes& frame, uint32_t orig_len = 0) {
    Word(sec);
    Word(frac);
    Word(static_cast<uint32_t>(frame.size()));
    Word(orig_len ? orig_len : static_cast<uint32_t>(frame.size()));
    Append(b_, frame);
    return *this;
  }
  const Bytes& bytes() const { return b_; }
  std::string str() const { return std::string(b_.begin(), b_.end()); }

 private:
  void Word(uint32_t v) {
    if (le_) {
      PutLe32(b_, v);
    } else {
      Put32(b_, v);
    }
  }
  void Half(uint16_t v) {
    if (le_) {
      b_.push_back(static_cast<uint8_t>(v));
      b_.push_back(static_cast<uint8_t>(v >> 8));
    } else {
      Put16(b_, v);
    }
  }
  bool le_;
  Bytes b_;
};

}  // namespace xflowd::testing
