// xflowd-pcapgen: writes a synthetic Ethernet capture (classic pcap) and its ground truth, for
// testing and benchmarking flow exporters (xflowd -r, softflowd -r, pmacctd) on the same file.
//
// Truth CSV, one line per flow key, after a header line:
//   ip_version,src,dst,protocol,src_port,dst_port,packets,bytes
// ICMP/ICMPv6: src_port 0, dst_port type*256+code (what NetFlow exporters put there).
// bytes = IP bytes (IPv4 total length, IPv6 payload length + 40): frame minus L2 header.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "hal/base/ip_address.h"
#include "hal/base/prng.h"
#include "sim/packet_builder.h"
#include "sim/pcap_writer.h"
#include "sim/traffic_model.h"

namespace xflowd::sim {
namespace {

using hal::base::IpAddress;
using hal::base::Prng;

constexpr char kUsage[] =
    "usage: xflowd-pcapgen --out FILE.pcap [--truth FILE.csv] [options]\n"
    "  --packets N        packets to write (default 1000000)\n"
    "  --flows F          flows (default 50000; --mode many: 5000)\n"
    "  --seconds S        time span of the capture in packet time (default 60)\n"
    "  --start UNIX_S     time of the first packet (default 1767225600 = 2026-01-01)\n"
    "  --seed N           PRNG seed (default 1)\n"
    "  --ipv6-share X     share of IPv6 flows, 0..1 (default 0.2)\n"
    "  --icmp-share X     share of ICMP/ICMPv6 echo flows (default 0.02)\n"
    "  --vlan-share X     share of 802.1Q-tagged flows (default 0.1)\n"
    "  --frame-size A..B  frame sizes in bytes without FCS (default 64..1518; raised to the\n"
    "                     headers' length where a frame needs more)\n"
    "  --zipf S           flow popularity exponent (default 0.9)\n"
    "  --snaplen N        captured bytes per packet (default 0 = whole frames); lengths and\n"
    "                     IP headers still say the full size\n"
    "  --nanosecond       nanosecond timestamps (default microsecond)\n"
    "  --mode M           mix (default): TCP/UDP/ICMP, IPv4/IPv6, Zipf flows, no FIN/RST;\n"
    "                     gap: one UDP flow, 10 packets 1 s apart, a 20 s gap, 10 more;\n"
    "                     long: one TCP flow, a packet every second for 2 hours (7201);\n"
    "                     finrst: TCP flows of 10 packets ending with FIN, with RST, and\n"
    "                       without either (--flows 3K: K of each), 100 ms apart;\n"
    "                     many: --flows (5000) concurrent UDP flows, round robin,\n"
    "                       --packets (10 per flow) over --seconds\n";

enum class Mode { kMix, kGap, kLong, kFinRst, kMany };

struct Options {
  uint64_t packets = 1000000;
  bool packets_set = false;
  uint32_t flows = 50000;
  bool flows_set = false;
  double seconds = 60;
  int64_t start = 1767225600;
  uint64_t seed = 1;
  std::string out;
  std::string truth;
  double ipv6_share = 0.2;
  double icmp_share = 0.02;
  double vlan_share = 0.1;
  uint32_t frame_min = 64;
  uint32_t frame_max = 1518;
  double zipf = 0.9;
  uint32_t snaplen = 0;
  bool nanosecond = false;
  Mode mode = Mode::kMix;
};

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "xflowd-pcapgen: %s\n", msg.c_str());
  std::exit(2);
}

uint64_t ParseU64(const std::string& name, const std::string& v) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long x = std::strtoull(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0 || v[0] == '-') Die("bad " + name + ": " + v);
  return x;
}

double ParseDouble(const std::string& name, const std::string& v, double lo, double hi) {
  char* end = nullptr;
  const double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || !(x >= lo && x <= hi)) {
    Die("bad " + name + ": " + v + " (want " + std::to_string(lo) + ".." + std::to_string(hi) +
        ")");
  }
  return x;
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string val;
    const size_t eq = arg.find('=');
    const bool has_eq = arg.rfind("--", 0) == 0 && eq != std::string::npos;
    if (has_eq) {
      val = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    auto value = [&]() -> std::string {
      if (has_eq) return val;
      if (i + 1 >= argc) Die(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (arg == "--packets") {
      o.packets = ParseU64(arg, value());
      o.packets_set = true;
    } else if (arg == "--flows") {
      const uint64_t f = ParseU64(arg, value());
      if (f == 0 || f > (1u << 24) - 2) Die("--flows must be 1..16777214");
      o.flows = static_cast<uint32_t>(f);
      o.flows_set = true;
    } else if (arg == "--seconds") {
      o.seconds = ParseDouble(arg, value(), 0, 1e7);
    } else if (arg == "--start") {
      const uint64_t s = ParseU64(arg, value());
      if (s > 4000000000ull) Die("--start must fit the pcap's 32-bit seconds");
      o.start = static_cast<int64_t>(s);
    } else if (arg == "--seed") {
      o.seed = ParseU64(arg, value());
    } else if (arg == "--out") {
      o.out = value();
    } else if (arg == "--truth") {
      o.truth = value();
    } else if (arg == "--ipv6-share") {
      o.ipv6_share = ParseDouble(arg, value(), 0, 1);
    } else if (arg == "--icmp-share") {
      o.icmp_share = ParseDouble(arg, value(), 0, 1);
    } else if (arg == "--vlan-share") {
      o.vlan_share = ParseDouble(arg, value(), 0, 1);
    } else if (arg == "--zipf") {
      o.zipf = ParseDouble(arg, value(), 0, 10);
    } else if (arg == "--snaplen") {
      const uint64_t s = ParseU64(arg, value());
      if (s > 262144) Die("--snaplen must be <= 262144");
      o.snaplen = static_cast<uint32_t>(s);
    } else if (arg == "--nanosecond") {
      o.nanosecond = true;
    } else if (arg == "--frame-size") {
      const std::string v = value();
      const size_t dots = v.find("..");
      if (dots == std::string::npos) Die("--frame-size wants MIN..MAX, got " + v);
      const uint64_t lo = ParseU64(arg, v.substr(0, dots));
      const uint64_t hi = ParseU64(arg, v.substr(dots + 2));
      if (lo < 14 || lo > hi || hi > 65535) Die("--frame-size wants 14 <= MIN <= MAX <= 65535");
      o.frame_min = static_cast<uint32_t>(lo);
      o.frame_max = static_cast<uint32_t>(hi);
    } else if (arg == "--mode") {
      const std::string m = value();
      if (m == "mix") {
        o.mode = Mode::kMix;
      } else if (m == "gap") {
        o.mode = Mode::kGap;
      } else if (m == "long") {
        o.mode = Mode::kLong;
      } else if (m == "finrst") {
        o.mode = Mode::kFinRst;
      } else if (m == "many") {
        o.mode = Mode::kMany;
      } else {
        Die("unknown --mode " + m + " (mix, gap, long, finrst, many)");
      }
    } else {
      Die("unknown option " + arg + "\n" + kUsage);
    }
  }
  if (o.out.empty()) Die(std::string("--out is required\n") + kUsage);
  return o;
}

struct Flow {
  PacketSpec spec;
  uint64_t packets = 0;
  uint64_t bytes = 0;  // IP bytes
};

class Generator {
 public:
  Generator(const Options& o, PcapWriter& w) : o_(o), w_(w), prng_(o.seed) {
    buf_.resize(o.snaplen ? o.snaplen : 65536);
  }

  std::vector<Flow>& flows() { return flows_; }

  // Flow number `i` with attributes drawn from the PRNG. Sources are unique by construction
  // (10.0.0.0/8 or fd00:0:0:1::/64 + i), so keys never collide.
  Flow MakeFlow(uint32_t i, int version, uint8_t protocol, bool vlan) {
    Flow f;
    PacketSpec& s = f.spec;
    const uint32_t host = i + 1;
    s.src_mac[0] = 0x02;
    s.src_mac[3] = static_cast<uint8_t>(host >> 16);
    s.src_mac[4] = static_cast<uint8_t>(host >> 8);
    s.src_mac[5] = static_cast<uint8_t>(host);
    const uint32_t server = prng_.Uniform(1, 4000);
    s.dst_mac[0] = 0x02;
    s.dst_mac[1] = 0x01;
    s.dst_mac[4] = static_cast<uint8_t>(server >> 8);
    s.dst_mac[5] = static_cast<uint8_t>(server);
    if (vlan) {
      s.vlan_count = 1;
      s.vlan_id[0] = static_cast<uint16_t>(prng_.Uniform(2, 4094));
    }
    s.ip_version = static_cast<uint8_t>(version);
    s.protocol = protocol;
    s.ttl = 64;
    if (version == 4) {
      PutBe32(s.src_ip, (10u << 24) + host);
      PutBe32(s.dst_ip, (172u << 24) | (16u << 16) | server);
    } else {
      const uint8_t src[8] = {0xfd, 0, 0, 0, 0, 0, 0, 1};
      const uint8_t dst[8] = {0xfd, 0, 0, 0, 0, 0, 0, 2};
      std::memcpy(s.src_ip, src, 8);
      std::memcpy(s.dst_ip, dst, 8);
      PutBe32(s.src_ip + 12, host);
      PutBe32(s.dst_ip + 12, server);
      s.flow_label = host & 0xFFFFF;
    }
    if (protocol == kIpProtoIcmp || protocol == kIpProtoIcmpv6) {
      const bool reply = prng_.Uniform(0, 1) == 1;
      if (protocol == kIpProtoIcmp) {
        s.src_port = reply ? 0 : 8;  // type: echo reply / request
      } else {
        s.src_port = reply ? 129 : 128;
      }
      s.dst_port = 0;  // code
      s.icmp_id = static_cast<uint16_t>(host);
    } else {
      static constexpr uint16_t kTcpPorts[] = {443, 443, 443, 80, 80, 22, 8080, 993, 25, 8443};
      static constexpr uint16_t kUdpPorts[] = {53, 53, 443, 123, 5001, 9000, 514, 161, 10000};
      s.src_port = static_cast<uint16_t>(prng_.Uniform(1024, 65535));
      s.dst_port =
          protocol == kIpProtoTcp ? kTcpPorts[prng_.Uniform(0, 9)] : kUdpPorts[prng_.Uniform(0, 8)];
      s.tcp_seq = prng_.Next32();
      s.tcp_ack = prng_.Next32();
    }
    return f;
  }

  uint32_t DrawSize() {
    const uint32_t lo = o_.frame_min;
    const uint32_t hi = o_.frame_max;
    const double r = prng_.NextDouble();
    if (r < 0.4) return prng_.Uniform(lo, lo + std::min<uint32_t>(64, hi - lo));   // small
    if (r < 0.7) return prng_.Uniform(hi - std::min<uint32_t>(100, hi - lo), hi);  // full size
    return prng_.Uniform(lo, hi);
  }

  // Writes one packet of `f` at `t_ns`. tcp_flags 0 = SYN for the first packet, else ACK|PSH.
  void Emit(Flow& f, int64_t t_ns, uint8_t tcp_flags = 0) {
    PacketSpec& s = f.spec;
    const uint32_t frame = std::max(DrawSize(), HeaderLength(s));
    const uint32_t l2 = L2HeaderLength(s);
    if (s.protocol == kIpProtoTcp) {
      s.tcp_flags = tcp_flags ? tcp_flags : (f.packets == 0 ? 0x02 : 0x18);
    }
    const size_t n = BuildFrame(s, frame, buf_.data(), buf_.size());
    if (n == 0) Die("internal error: BuildFrame refused a frame of " + std::to_string(frame));
    const hal::base::Status st = w_.Write(t_ns, hal::base::ByteView(buf_.data(), n), frame);
    if (!st.ok()) Die(st.ToString());
    ++f.packets;
    f.bytes += frame - l2;
    // Per-flow header fields move on like a real stream's.
    ++s.ip_id;
    ++s.icmp_seq;
    if (s.protocol == kIpProtoTcp) s.tcp_seq += frame - HeaderLength(s) + (f.packets == 1);
  }

  void RunMix() {
    const uint32_t nf = o_.flows;
    flows_.reserve(nf);
    for (uint32_t i = 0; i < nf; ++i) {
      const int version = prng_.NextDouble() < o_.ipv6_share ? 6 : 4;
      uint8_t proto;
      if (prng_.NextDouble() < o_.icmp_share) {
        proto = version == 4 ? kIpProtoIcmp : kIpProtoIcmpv6;
      } else {
        proto = prng_.NextDouble() < 0.6 ? kIpProtoTcp : kIpProtoUdp;
      }
      const bool vlan = prng_.NextDouble() < o_.vlan_share;
      flows_.push_back(MakeFlow(i, version, proto, vlan));
    }
    ZipfTable zipf(nf, o_.zipf);
    const double step = o_.packets ? o_.seconds * 1e9 / static_cast<double>(o_.packets) : 0;
    const int64_t t0 = o_.start * 1000000000;
    for (uint64_t i = 0; i < o_.packets; ++i) {
      Flow& f = flows_[zipf.Draw(prng_)];
      Emit(f, t0 + static_cast<int64_t>(std::llround(static_cast<double>(i) * step)));
    }
  }

  void RunGap() {
    flows_.push_back(MakeFlow(0, 4, kIpProtoUdp, false));
    const int64_t t0 = o_.start * 1000000000;
    for (int i = 0; i < 10; ++i) Emit(flows_[0], t0 + int64_t{i} * 1000000000);
    for (int i = 0; i < 10; ++i) Emit(flows_[0], t0 + int64_t{29 + i} * 1000000000);
  }

  void RunLong() {
    flows_.push_back(MakeFlow(0, 4, kIpProtoTcp, false));
    const int64_t t0 = o_.start * 1000000000;
    for (int i = 0; i <= 7200; ++i) Emit(flows_[0], t0 + int64_t{i} * 1000000000);
  }

  void RunFinRst() {
    const uint32_t k = o_.flows_set ? std::max<uint32_t>(1, o_.flows / 3) : 1;
    for (uint32_t i = 0; i < 3 * k; ++i) flows_.push_back(MakeFlow(i, 4, kIpProtoTcp, false));
    const int64_t t0 = o_.start * 1000000000;
    int64_t n = 0;
    for (int p = 0; p < 10; ++p) {
      for (uint32_t i = 0; i < 3 * k; ++i) {
        uint8_t flags = 0;
        if (p == 9 && i % 3 == 0) flags = 0x11;  // FIN|ACK
        if (p == 9 && i % 3 == 1) flags = 0x04;  // RST
        Emit(flows_[i], t0 + n++ * 100000000, flags);
      }
    }
  }

  void RunMany() {
    const uint32_t nf = o_.flows_set ? o_.flows : 5000;
    const uint64_t packets = o_.packets_set ? o_.packets : uint64_t{10} * nf;
    for (uint32_t i = 0; i < nf; ++i) flows_.push_back(MakeFlow(i, 4, kIpProtoUdp, false));
    const double step = packets ? o_.seconds * 1e9 / static_cast<double>(packets) : 0;
    const int64_t t0 = o_.start * 1000000000;
    for (uint64_t i = 0; i < packets; ++i) {
      Emit(flows_[i % nf], t0 + static_cast<int64_t>(std::llround(static_cast<double>(i) * step)));
    }
  }

 private:
  static void PutBe32(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
  }

  const Options& o_;
  PcapWriter& w_;
  Prng prng_;
  std::vector<Flow> flows_;
  std::vector<uint8_t> buf_;
};

IpAddress Address(const PacketSpec& s, const uint8_t* ip) {
  return s.ip_version == 4 ? IpAddress::V4(ip) : IpAddress::V6(ip);
}

uint64_t WriteTruth(const std::string& path, const std::vector<Flow>& flows) {
  std::FILE* f = path.empty() ? nullptr : std::fopen(path.c_str(), "w");
  if (!path.empty() && f == nullptr) Die("cannot create " + path + ": " + std::strerror(errno));
  if (f) std::fputs("ip_version,src,dst,protocol,src_port,dst_port,packets,bytes\n", f);
  uint64_t n = 0;
  for (const Flow& fl : flows) {
    if (fl.packets == 0) continue;
    ++n;
    if (!f) continue;
    const PacketSpec& s = fl.spec;
    const bool icmp = s.protocol == kIpProtoIcmp || s.protocol == kIpProtoIcmpv6;
    const unsigned sp = icmp ? 0 : s.src_port;
    const unsigned dp = icmp ? ((s.src_port & 0xFF) << 8) | (s.dst_port & 0xFF) : s.dst_port;
    std::fprintf(f, "%d,%s,%s,%u,%u,%u,%llu,%llu\n", s.ip_version,
                 Address(s, s.src_ip).ToString().c_str(), Address(s, s.dst_ip).ToString().c_str(),
                 unsigned{s.protocol}, sp, dp, static_cast<unsigned long long>(fl.packets),
                 static_cast<unsigned long long>(fl.bytes));
  }
  if (f && (std::ferror(f) || std::fclose(f) != 0)) Die("writing " + path + " failed");
  return n;
}

int Main(int argc, char** argv) {
  const Options o = ParseArgs(argc, argv);
  const auto began = std::chrono::steady_clock::now();
  PcapWriterOptions wo;
  wo.unit = o.nanosecond ? PcapTimestampUnit::kNanosecond : PcapTimestampUnit::kMicrosecond;
  wo.snaplen = o.snaplen ? o.snaplen : 262144;
  wo.buffer_bytes = size_t{8} << 20;
  auto w = PcapWriter::Create(o.out, wo);
  if (!w.ok()) Die(w.status().ToString());
  Generator g(o, **w);
  switch (o.mode) {
    case Mode::kMix:
      g.RunMix();
      break;
    case Mode::kGap:
      g.RunGap();
      break;
    case Mode::kLong:
      g.RunLong();
      break;
    case Mode::kFinRst:
      g.RunFinRst();
      break;
    case Mode::kMany:
      g.RunMany();
      break;
  }
  const hal::base::Status st = (*w)->Close();
  if (!st.ok()) Die(st.ToString());
  const uint64_t flows = WriteTruth(o.truth, g.flows());
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  std::printf("xflowd-pcapgen: %llu packets, %llu flows, %llu bytes in %s%s%s (%.2f s)\n",
              static_cast<unsigned long long>((*w)->packets()),
              static_cast<unsigned long long>(flows),
              static_cast<unsigned long long>((*w)->file_bytes()), o.out.c_str(),
              o.truth.empty() ? "" : ", truth in ", o.truth.c_str(), secs);
  return 0;
}

}  // namespace
}  // namespace xflowd::sim

int main(int argc, char** argv) { return xflowd::sim::Main(argc, argv); }
