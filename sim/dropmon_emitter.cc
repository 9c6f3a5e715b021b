#include "sim/dropmon_emitter.h"

#include <sys/socket.h>

#include <cmath>
#include <cstring>

#include "hal/netlink_wire.h"
#include "sim/packet_builder.h"

namespace xflowd::sim {
namespace {

using namespace hal::dropmon_wire;  // NOLINT: the wire names
using hal::netlink::Align4;
using hal::netlink::kGenlHdrLen;
using hal::netlink::kNlaHdrLen;
using hal::netlink::kNlmsgHdrLen;

constexpr uint16_t kNlaFNested = 0x8000;

class Writer {
 public:
  Writer(uint8_t* out, size_t cap) : out_(out), cap_(cap) {}
  bool Attr(uint16_t type, const void* data, size_t len) {
    const size_t total = Align4(kNlaHdrLen + len);
    if (len > 0xFFFF - kNlaHdrLen || cap_ - off_ < total) return ok_ = false;
    const uint16_t nla_len = static_cast<uint16_t>(kNlaHdrLen + len);
    std::memcpy(out_ + off_, &nla_len, 2);
    std::memcpy(out_ + off_ + 2, &type, 2);
    if (len > 0) std::memcpy(out_ + off_ + kNlaHdrLen, data, len);
    std::memset(out_ + off_ + kNlaHdrLen + len, 0, total - kNlaHdrLen - len);
    off_ += total;
    return true;
  }
  template <typename T>
  bool Value(uint16_t type, T v) {
    return Attr(type, &v, sizeof(v));
  }
  bool String(uint16_t type, const std::string& s) { return Attr(type, s.c_str(), s.size() + 1); }
  // nla_put_u64_64bit: a PAD first when the payload would not be 8-byte aligned.
  bool U64(uint16_t type, uint64_t v, bool pad) {
    if (pad && (off_ + kNlaHdrLen) % 8 != 0 && !Attr(kAttrPad, nullptr, 0)) return false;
    return Value(type, v);
  }
  size_t off_ = 0;
  uint8_t* out_;
  size_t cap_;
  bool ok_ = true;
};

}  // namespace

size_t EncodeDropAlert(const DropAlertMessage& m, uint8_t* out, size_t cap) {
  if (cap < kNlmsgHdrLen + kGenlHdrLen) return 0;
  std::memset(out, 0, kNlmsgHdrLen + kGenlHdrLen);
  std::memcpy(out + 4, &m.family_id, 2);
  out[kNlmsgHdrLen] = kCmdPacketAlert;
  out[kNlmsgHdrLen + 1] = kGenlVersion;
  Writer w(out, cap);
  w.off_ = kNlmsgHdrLen + kGenlHdrLen;
  w.Value<uint16_t>(kAttrOrigin, m.hardware ? kOriginHw : kOriginSw);
  if (m.hardware) {
    if (!m.trap_group.empty()) w.String(kAttrHwTrapGroupName, m.trap_group);
    if (!m.trap_name.empty()) w.String(kAttrHwTrapName, m.trap_name);
  } else {
    w.U64(kAttrPc, m.pc, m.pad_u64);
    if (!m.symbol.empty()) w.String(kAttrSymbol, m.symbol);
    if (!m.reason.empty()) w.String(kAttrReason, m.reason);
  }
  if (m.in_ifindex != 0) {
    uint8_t nest[64];
    Writer n(nest, sizeof(nest));
    n.Value<uint32_t>(kPortAttrIfindex, m.in_ifindex);
    if (!m.in_name.empty()) n.String(kPortAttrName, m.in_name);
    if (!n.ok_) return 0;
    w.Attr(kAttrInPort | kNlaFNested, nest, n.off_);
  }
  w.U64(kAttrTimestamp, m.timestamp_ns, m.pad_u64);
  w.Value<uint32_t>(kAttrOrigLen, m.orig_len);
  if (!m.payload.empty()) {
    w.Value<uint16_t>(kAttrProto, m.proto);
    w.Attr(kAttrPayload, m.payload.data(), m.payload.size());
  }
  if (!w.ok_) return 0;
  const uint32_t len = static_cast<uint32_t>(w.off_);
  std::memcpy(out, &len, 4);
  return len;
}

const std::vector<SimDropKind>& SimDropKinds() {
  static const std::vector<SimDropKind> kKinds = {
      {false, "NO_SOCKET", "__udp4_lib_rcv+0x5b6/0xb50"},
      {false, "NETFILTER_DROP", "nf_hook_slow+0xa6/0xf0"},
      {false, "TCP_CSUM", "tcp_v4_rcv+0x1a4/0xf60"},
      {false, "QDISC_DROP", "__dev_queue_xmit+0x8c1/0xd10"},
      {false, "IP_INHDR", "ip_rcv_core+0x1bd/0x300"},
      {false, "NOT_SPECIFIED", "br_handle_frame+0x2d2/0x3f0"},
      {true, "ingress_vlan_filter", "l2_drops"},
      {true, "blackhole_route", "l3_drops"},
      {true, "ttl_value_is_too_small", "l3_exceptions"},
      {true, "tail_drop", "buffer_drops"},
      {true, "ingress_flow_action_drop", "acl_drops"},
      {true, "early_drop", "buffer_drops"},
  };
  return kKinds;
}

SimDrops::SimDrops(const SimDropsConfig& config, int fd, hal::base::MonoTime start)
    : config_(config), fd_(fd), last_(start), prng_(config.seed ^ 0xD809D809ull) {
  frame_.resize(2048);
  msg_.resize(4096);
}

void SimDrops::SkipTo(hal::base::MonoTime now) {
  if (now > last_) last_ = now;
}

void SimDrops::AdvanceTo(hal::base::MonoTime now) {
  if (now <= last_) return;
  const hal::base::Duration span = now - last_;
  carry_ += config_.drops_per_s * static_cast<double>(span.count()) / 1e9;
  const double whole = std::floor(carry_);
  carry_ -= whole;
  const uint64_t n = static_cast<uint64_t>(whole);
  for (uint64_t i = 0; i < n; ++i) {
    MakeOne(last_ + hal::base::Duration(span.count() * static_cast<int64_t>(i + 1) /
                                        static_cast<int64_t>(n)));
  }
  last_ = now;
}

void SimDrops::MakeOne(hal::base::MonoTime when) {
  const auto& kinds = SimDropKinds();
  const SimDropKind& kind = kinds[prng_.Uniform(0, static_cast<uint32_t>(kinds.size() - 1))];
  const uint32_t port = prng_.Uniform(0, config_.num_ports == 0 ? 0 : config_.num_ports - 1);
  PacketSpec spec;
  spec.src_mac[0] = 0x02;
  spec.src_mac[5] = static_cast<uint8_t>(port + 1);
  spec.dst_mac[0] = 0x02;
  spec.dst_mac[5] = 0xFE;
  spec.ip_version = prng_.Uniform(0, 3) == 0 ? 6 : 4;
  spec.protocol = prng_.Uniform(0, 1) == 0 ? kIpProtoTcp : kIpProtoUdp;
  const uint32_t host = prng_.Next32();
  if (spec.ip_version == 4) {
    const uint8_t src[4] = {10, static_cast<uint8_t>(port), static_cast<uint8_t>(host >> 8),
                            static_cast<uint8_t>(host)};
    const uint8_t dst[4] = {192, 0, 2, static_cast<uint8_t>(host >> 16)};
    std::memcpy(spec.src_ip, src, 4);
    std::memcpy(spec.dst_ip, dst, 4);
  } else {
    spec.src_ip[0] = 0xfd;
    spec.src_ip[15] = static_cast<uint8_t>(host);
    spec.dst_ip[0] = 0x20;
    spec.dst_ip[1] = 0x01;
    spec.dst_ip[2] = 0x0d;
    spec.dst_ip[3] = 0xb8;
    spec.dst_ip[15] = static_cast<uint8_t>(host >> 8);
  }
  spec.src_port = static_cast<uint16_t>(1024 + (host & 0x7FFF));
  spec.dst_port = spec.protocol == kIpProtoTcp ? 443 : 53;
  const uint32_t frame_len = prng_.Uniform(HeaderLength(spec), 1514);
  const size_t built = BuildFrame(spec, frame_len, frame_.data(), frame_.size());
  if (built == 0) return;
  ++stats_.drops;
  ++truth_[kind.reason];

  DropAlertMessage m;
  m.family_id = config_.family_id;
  m.hardware = kind.hardware;
  m.in_ifindex = config_.first_ifindex + port;
  m.in_name = config_.port_name_prefix + std::to_string(port + 1);
  m.timestamp_ns = static_cast<uint64_t>(when.ns() + config_.mono_to_wall_ns);
  m.proto = spec.ip_version == 4 ? kEtherTypeIpv4 : kEtherTypeIpv6;
  size_t from = 0;
  if (kind.hardware) {
    m.trap_name = kind.reason;
    m.trap_group = kind.where;
    m.orig_len = frame_len;
  } else {
    // The kernel's stack has pulled the Ethernet header: the payload starts at IP.
    m.pc = 0xffffffff81000000ull + (host & 0xFFFFF);
    m.symbol = kind.where;
    m.reason = kind.reason;
    from = L2HeaderLength(spec);
    m.orig_len = frame_len - static_cast<uint32_t>(from);
  }
  const size_t avail = built - from;
  m.payload = hal::base::ByteView(frame_.data() + from,
                                  avail < config_.truncate_bytes ? avail : config_.truncate_bytes);
  const size_t len = EncodeDropAlert(m, msg_.data(), msg_.size());
  if (len == 0) return;
  if (send(fd_, msg_.data(), len, MSG_DONTWAIT | MSG_NOSIGNAL) == static_cast<ssize_t>(len)) {
    ++stats_.sent;
  } else {
    ++stats_.send_failures;
  }
}

}  // namespace xflowd::sim
