#include "sim/traffic_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace xflowd::sim {
namespace {

using hal::base::Prng;

constexpr uint16_t kTcpServerPorts[] = {80, 443, 22, 25, 179, 3306, 5432, 6379, 8080, 8443};
constexpr uint16_t kUdpServerPorts[] = {53, 123, 443, 161, 514, 4789, 6343, 2055, 5353, 3478};

template <typename T, size_t N>
T Pick(const T (&a)[N], Prng& prng) {
  return a[prng.Uniform(0, N - 1)];
}

bool Chance(Prng& prng, double p) { return prng.NextDouble() < p; }

uint16_t EphemeralPort(Prng& prng) { return static_cast<uint16_t>(prng.Uniform(32768, 60999)); }

// A random unicast, locally administered MAC.
void HostMac(Prng& prng, uint8_t mac[6]) {
  const uint64_t r = prng.Next64();
  for (int i = 0; i < 6; ++i) mac[i] = static_cast<uint8_t>(r >> (8 * i));
  mac[0] = static_cast<uint8_t>((mac[0] & 0xFC) | 0x02);
}

void SetV4(uint8_t ip[16], uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  ip[0] = a;
  ip[1] = b;
  ip[2] = c;
  ip[3] = d;
}

// 2001:db8:<group3>:<group4>:<random interface id>
void SetV6(uint8_t ip[16], uint16_t group3, uint16_t group4, Prng& prng) {
  const uint8_t prefix[4] = {0x20, 0x01, 0x0d, 0xb8};
  std::memcpy(ip, prefix, 4);
  ip[4] = static_cast<uint8_t>(group3 >> 8);
  ip[5] = static_cast<uint8_t>(group3);
  ip[6] = static_cast<uint8_t>(group4 >> 8);
  ip[7] = static_cast<uint8_t>(group4);
  const uint64_t iid = prng.Next64();
  for (int i = 0; i < 8; ++i) ip[8 + i] = static_cast<uint8_t>(iid >> (8 * i));
}

void Addresses(FlowSpec& f, Prng& prng) {
  PacketSpec& p = f.packet;
  const uint32_t in = f.input_port;
  const uint32_t out = f.output_port == kNoPort ? 0 : f.output_port;
  if (p.ip_version == 4) {
    SetV4(p.src_ip, 198, 18, static_cast<uint8_t>(in), static_cast<uint8_t>(prng.Uniform(1, 254)));
    switch (f.cast) {
      case CastType::kBroadcast:
        SetV4(p.dst_ip, 255, 255, 255, 255);
        std::memset(p.dst_mac, 0xFF, 6);
        break;
      case CastType::kMulticast: {
        const uint32_t g = prng.Uniform(0, 0xFFFFFF);
        SetV4(p.dst_ip, 239, static_cast<uint8_t>(g >> 16), static_cast<uint8_t>(g >> 8),
              static_cast<uint8_t>(g));
        const uint8_t mac[6] = {0x01,
                                0x00,
                                0x5E,
                                static_cast<uint8_t>((g >> 16) & 0x7F),
                                static_cast<uint8_t>(g >> 8),
                                static_cast<uint8_t>(g)};
        std::memcpy(p.dst_mac, mac, 6);
        break;
      }
      case CastType::kUnicast: {
        const uint8_t host = static_cast<uint8_t>(prng.Uniform(1, 254));
        switch (prng.Uniform(0, 3)) {
          case 0:
            SetV4(p.dst_ip, 192, 0, 2, host);
            break;
          case 1:
            SetV4(p.dst_ip, 198, 51, 100, host);
            break;
          case 2:
            SetV4(p.dst_ip, 203, 0, 113, host);
            break;
          default:
            SetV4(p.dst_ip, 198, 19, static_cast<uint8_t>(out), host);
            break;
        }
        HostMac(prng, p.dst_mac);
        break;
      }
    }
  } else {
    SetV6(p.src_ip, static_cast<uint16_t>(in + 1), 0, prng);
    if (f.cast == CastType::kUnicast) {
      if (Chance(prng, 0.5)) {
        SetV6(p.dst_ip, static_cast<uint16_t>(0x8000 | (out + 1)), 0, prng);
      } else {
        SetV6(p.dst_ip, 0xFFFF, static_cast<uint16_t>(prng.Uniform(0, 0xFFFF)), prng);
      }
      HostMac(prng, p.dst_mac);
    } else {
      // ff0e::<group>, mapped to 33:33:<low 32 bits of the group>.
      std::memset(p.dst_ip, 0, 16);
      p.dst_ip[0] = 0xFF;
      p.dst_ip[1] = 0x0E;
      const uint32_t g = prng.Next32();
      for (int i = 0; i < 4; ++i) p.dst_ip[12 + i] = static_cast<uint8_t>(g >> (24 - 8 * i));
      p.dst_mac[0] = 0x33;
      p.dst_mac[1] = 0x33;
      std::memcpy(p.dst_mac + 2, p.dst_ip + 12, 4);
    }
  }
  HostMac(prng, p.src_mac);
}

void Transport(FlowSpec& f, Prng& prng) {
  PacketSpec& p = f.packet;
  switch (p.protocol) {
    case kIpProtoTcp:
    case kIpProtoUdp: {
      uint16_t server;
      if (f.cast == CastType::kBroadcast) {
        // NetBIOS name service. Not DHCP (67): a zero DHCP payload is invalid, and decoders
        // that dissect sampled headers rightly flag it.
        server = 137;
      } else if (f.cast == CastType::kMulticast) {
        server = static_cast<uint16_t>(prng.Uniform(1024, 65535));
      } else {
        server =
            p.protocol == kIpProtoTcp ? Pick(kTcpServerPorts, prng) : Pick(kUdpServerPorts, prng);
      }
      const uint16_t client = EphemeralPort(prng);
      const bool to_server = f.cast != CastType::kUnicast || Chance(prng, 0.5);
      p.src_port = to_server ? client : server;
      p.dst_port = to_server ? server : client;
      p.tcp_flags = Chance(prng, 0.7) ? 0x10 : 0x18;  // ACK, PSH|ACK
      p.tcp_seq = prng.Next32();
      p.tcp_ack = prng.Next32();
      break;
    }
    default: {
      // ICMP type/code: echo request and echo reply. No error messages: those quote the
      // offending packet, and a zero payload would be a bogus quoted IP header to decoders.
      const double u = prng.NextDouble();
      const bool v6 = p.ip_version == 6;
      p.src_port = u < 0.55 ? (v6 ? 128 : 8) : (v6 ? 129 : 0);
      p.dst_port = 0;
      p.icmp_id = static_cast<uint16_t>(prng.Next32());
      break;
    }
  }
}

SizeProfile ChooseProfile(const FlowSpec& f, Prng& prng) {
  const double u = prng.NextDouble();
  if (f.cast == CastType::kBroadcast) return SizeProfile::kSmall;
  if (f.cast == CastType::kMulticast) return u < 0.5 ? SizeProfile::kImix : SizeProfile::kUniform;
  switch (f.packet.protocol) {
    case kIpProtoTcp:
      return u < 0.4 ? SizeProfile::kBulk : u < 0.65 ? SizeProfile::kSmall : SizeProfile::kImix;
    case kIpProtoUdp:
      return u < 0.3 ? SizeProfile::kSmall : u < 0.7 ? SizeProfile::kImix : SizeProfile::kUniform;
    default:
      return u < 0.8 ? SizeProfile::kSmall : SizeProfile::kUniform;
  }
}

}  // namespace

FlowSpec MakeFlow(const FlowMix& mix, uint32_t input_port, uint32_t num_ports, Prng& prng) {
  FlowSpec f;
  PacketSpec& p = f.packet;
  f.input_port = input_port;
  if (num_ports > 1) {
    uint32_t o = prng.Uniform(0, num_ports - 2);
    f.output_port = o >= input_port ? o + 1 : o;
  }

  p.ip_version = Chance(prng, mix.ipv6_fraction) ? 6 : 4;
  const double c = prng.NextDouble();
  if (c < mix.broadcast_fraction) {
    f.cast = p.ip_version == 4 ? CastType::kBroadcast : CastType::kMulticast;
  } else if (c < mix.broadcast_fraction + mix.multicast_fraction) {
    f.cast = CastType::kMulticast;
  }
  if (f.cast != CastType::kUnicast) {
    p.protocol = kIpProtoUdp;
  } else {
    const double u = prng.NextDouble();
    p.protocol = u < 0.80   ? kIpProtoTcp
                 : u < 0.97 ? kIpProtoUdp
                            : (p.ip_version == 6 ? kIpProtoIcmpv6 : kIpProtoIcmp);
  }

  if (Chance(prng, mix.vlan_fraction)) {
    p.vlan_count = Chance(prng, mix.qinq_fraction) ? 2 : 1;
    for (int i = 0; i < p.vlan_count; ++i) {
      p.vlan_id[i] = static_cast<uint16_t>(prng.Uniform(2, 4094));
      p.vlan_pcp[i] = static_cast<uint8_t>(Chance(prng, 0.8) ? 0 : prng.Uniform(1, 7));
    }
    if (p.vlan_count == 2) p.vlan_tpid[0] = kTpid8021AD;
  }

  Addresses(f, prng);
  const double d = prng.NextDouble();
  p.tos = d < 0.85 ? 0 : d < 0.95 ? (10 << 2) : (46 << 2);  // best effort, AF11, EF
  static constexpr uint8_t kTtls[] = {64, 128, 255};
  p.ttl = static_cast<uint8_t>(Pick(kTtls, prng) - prng.Uniform(0, 12));
  p.flow_label = p.ip_version == 6 ? prng.Uniform(1, 0xFFFFF) : 0;
  p.ip_id = static_cast<uint16_t>(prng.Next32());
  p.dont_fragment = p.protocol == kIpProtoTcp;
  Transport(f, prng);

  const uint32_t tags = 4u * p.vlan_count;
  f.sizes.profile = ChooseProfile(f, prng);
  f.sizes.vlan_tags = p.vlan_count;
  f.sizes.min_frame = static_cast<uint16_t>(std::max(kMinUntaggedFrame + tags, HeaderLength(p)));
  f.sizes.max_frame = static_cast<uint16_t>(kMaxUntaggedFrame + tags);
  return f;
}

uint32_t DrawFrameLength(const FrameSizes& s, Prng& prng) {
  const uint32_t lo = s.min_frame;
  const uint32_t hi = s.max_frame;
  const uint32_t tags = 4u * s.vlan_tags;
  // In [a, b], a <= b.
  auto between = [&prng](uint32_t a, uint32_t b) { return a + UniformBelow(prng, b - a + 1); };
  uint32_t len = hi;
  switch (s.profile) {
    case SizeProfile::kBulk:  // 85% full size, else anywhere from 200 bytes up
      len = UniformBelow(prng, 100) < 85 ? hi : between(std::min(hi, 200 + tags), hi);
      break;
    case SizeProfile::kSmall:
      len = between(lo, std::min(hi, lo + 30));
      break;
    case SizeProfile::kImix: {
      const uint32_t u = UniformBelow(prng, 12);
      len = u < 7 ? lo : u < 11 ? 590 + tags : hi;
      break;
    }
    case SizeProfile::kUniform:
      len = between(lo, hi);
      break;
  }
  return std::clamp(len, lo, hi);
}

ZipfTable::ZipfTable(uint32_t n, double s) {
  if (n == 0) n = 1;
  p_.resize(n);
  double sum = 0;
  for (uint32_t i = 0; i < n; ++i) sum += p_[i] = std::pow(1.0 + i, -s);
  for (double& p : p_) p /= sum;

  // Vose's alias method.
  threshold_.assign(n, uint64_t{1} << 32);
  alias_.resize(n);
  std::vector<double> q(n);
  std::vector<uint32_t> small, large;
  for (uint32_t i = 0; i < n; ++i) {
    alias_[i] = i;
    q[i] = p_[i] * n;
    (q[i] < 1.0 ? small : large).push_back(i);
  }
  while (!small.empty() && !large.empty()) {
    const uint32_t a = small.back();
    small.pop_back();
    const uint32_t b = large.back();
    threshold_[a] = static_cast<uint64_t>(q[a] * 4294967296.0);
    alias_[a] = b;
    q[b] -= 1.0 - q[a];
    if (q[b] < 1.0) {
      large.pop_back();
      small.push_back(b);
    }
  }
  // Whatever is left has q == 1 up to rounding: always kept (threshold 2^32).
}

}  // namespace xflowd::sim
