#include "tools/xflowdump/pcap_reader.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <iostream>

namespace xflowd::tools::xflowdump {
namespace {

using hal::base::ByteView;
using hal::base::InvalidArgumentError;
using hal::base::IpAddress;
using hal::base::Result;
using hal::base::Status;

constexpr size_t kFileHeaderBytes = 24;
constexpr size_t kRecordHeaderBytes = 16;
// No capture record is this large (jumbo frames are 9 KiB, tcpdump's snaplen cap 256 KiB); a
// bigger length means the file is corrupt, and we refuse to allocate for it.
constexpr uint32_t kMaxRecordBytes = 256u << 20;

// Magic numbers as read big-endian from the first four bytes.
constexpr uint32_t kMagicMicro = 0xA1B2C3D4;
constexpr uint32_t kMagicMicroSwapped = 0xD4C3B2A1;
constexpr uint32_t kMagicNano = 0xA1B23C4D;
constexpr uint32_t kMagicNanoSwapped = 0x4D3CB2A1;
constexpr uint32_t kMagicPcapng = 0x0A0D0D0A;
// The link type field's upper bits may carry FCS information; the type is the low 16 bits.
constexpr uint32_t kLinkTypeMask = 0x0000FFFF;

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86DD;
constexpr uint16_t kEtherVlan = 0x8100;
constexpr uint16_t kEtherQinQ = 0x88A8;
constexpr uint16_t kEtherQinQOld = 0x9100;
constexpr int kMaxVlanTags = 4;

constexpr size_t kEthernetBytes = 14;
constexpr size_t kSllBytes = 16;
constexpr size_t kSll2Bytes = 20;
constexpr size_t kLoopbackBytes = 4;
constexpr size_t kIpv4MinBytes = 20;
constexpr size_t kIpv6Bytes = 40;
constexpr size_t kUdpBytes = 8;

constexpr uint8_t kProtoHopByHop = 0;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoRouting = 43;
constexpr uint8_t kProtoFragment = 44;
constexpr uint8_t kProtoAh = 51;
constexpr uint8_t kProtoDestOptions = 60;
constexpr int kMaxIpv6ExtHeaders = 8;

// Address families in loopback headers: AF_INET is 2 everywhere; AF_INET6 differs by OS
// (Linux 10, NetBSD/OpenBSD 24, FreeBSD 28, Darwin 30).
constexpr uint32_t kAfInet = 2;
bool IsAfInet6(uint32_t af) { return af == 10 || af == 24 || af == 28 || af == 30; }

uint32_t Be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

uint16_t Be16(ByteView v, size_t off) {
  uint16_t x = 0;
  v.U16At(off, &x);
  return x;
}

ExtractResult Udp(ByteView l4, bool ip_cut_short, UdpDatagram* out) {
  if (l4.size() < kUdpBytes) return ExtractResult::kTruncated;
  out->source.port = Be16(l4, 0);
  out->destination.port = Be16(l4, 2);
  const uint16_t length = Be16(l4, 4);
  if (length < kUdpBytes) return ExtractResult::kMalformed;
  if (length > l4.size()) {
    return ip_cut_short ? ExtractResult::kTruncated : ExtractResult::kMalformed;
  }
  out->payload = l4.Subview(kUdpBytes, length - kUdpBytes);
  return ExtractResult::kOk;
}

ExtractResult Ipv4(ByteView ip, UdpDatagram* out) {
  if (ip.size() < kIpv4MinBytes) return ExtractResult::kTruncated;
  if ((ip[0] >> 4) != 4) return ExtractResult::kMalformed;
  const size_t ihl = size_t{ip[0] & 0x0Fu} * 4;
  if (ihl < kIpv4MinBytes) return ExtractResult::kMalformed;
  size_t total = Be16(ip, 2);
  // A total length of 0 is what segmentation offload leaves in captured outgoing packets.
  if (total == 0) total = ip.size();
  if (total < ihl) return ExtractResult::kMalformed;
  if (ihl > ip.size()) return ExtractResult::kTruncated;
  const uint16_t frag = Be16(ip, 6);
  if ((frag & 0x2000) != 0 || (frag & 0x1FFF) != 0) return ExtractResult::kFragment;
  if (ip[9] != kProtoUdp) return ExtractResult::kNotUdp;
  out->source.address = IpAddress::V4(ip.data() + 12);
  out->destination.address = IpAddress::V4(ip.data() + 16);
  // Bounded by the IP total length: Ethernet pads short frames.
  return Udp(ip.Subview(ihl, total - ihl), total > ip.size(), out);
}

ExtractResult Ipv6(ByteView ip, UdpDatagram* out) {
  if (ip.size() < kIpv6Bytes) return ExtractResult::kTruncated;
  if ((ip[0] >> 4) != 6) return ExtractResult::kMalformed;
  size_t payload = Be16(ip, 4);
  if (payload == 0) payload = ip.size() - kIpv6Bytes;  // jumbogram or offload: use what is there
  const size_t end = kIpv6Bytes + payload;
  const bool cut_short = end > ip.size();
  const ByteView packet = ip.Subview(0, end);
  uint8_t next = ip[6];
  size_t pos = kIpv6Bytes;
  for (int i = 0; i <= kMaxIpv6ExtHeaders; ++i) {
    if (next == kProtoUdp) {
      out->source.address = IpAddress::V6(ip.data() + 8);
      out->destination.address = IpAddress::V6(ip.data() + 24);
      return Udp(packet.Subview(pos), cut_short, out);
    }
    size_t len = 0;
    switch (next) {
      case kProtoHopByHop:
      case kProtoRouting:
      case kProtoDestOptions:
        if (packet.size() - pos < 2) return ExtractResult::kTruncated;
        len = (size_t{packet[pos + 1]} + 1) * 8;
        break;
      case kProtoFragment: {
        if (packet.size() - pos < 8) return ExtractResult::kTruncated;
        const uint16_t off_flags = Be16(packet, pos + 2);
        if ((off_flags >> 3) != 0 || (off_flags & 1) != 0) return ExtractResult::kFragment;
        len = 8;  // an atomic fragment: the whole datagram follows
        break;
      }
      case kProtoAh:
        if (packet.size() - pos < 2) return ExtractResult::kTruncated;
        len = (size_t{packet[pos + 1]} + 2) * 4;
        break;
      default:
        return ExtractResult::kNotUdp;
    }
    if (packet.size() - pos < len) return ExtractResult::kTruncated;
    next = packet[pos];
    pos += len;
  }
  return ExtractResult::kMalformed;  // an extension header chain longer than anyone sends
}

ExtractResult IpByVersion(ByteView ip, UdpDatagram* out) {
  if (ip.empty()) return ExtractResult::kTruncated;
  switch (ip[0] >> 4) {
    case 4:
      return Ipv4(ip, out);
    case 6:
      return Ipv6(ip, out);
    default:
      return ExtractResult::kNotIp;
  }
}

ExtractResult ByEtherType(uint16_t type, ByteView payload, UdpDatagram* out) {
  switch (type) {
    case kEtherIpv4:
      return Ipv4(payload, out);
    case kEtherIpv6:
      return Ipv6(payload, out);
    default:
      return ExtractResult::kNotIp;
  }
}

ExtractResult Ethernet(ByteView frame, UdpDatagram* out) {
  if (frame.size() < kEthernetBytes) return ExtractResult::kTruncated;
  size_t pos = 12;
  uint16_t type = Be16(frame, pos);
  for (int tags = 0; type == kEtherVlan || type == kEtherQinQ || type == kEtherQinQOld; ++tags) {
    if (tags == kMaxVlanTags) return ExtractResult::kNotIp;
    pos += 4;
    if (frame.size() - pos < 2) return ExtractResult::kTruncated;
    type = Be16(frame, pos);
  }
  return ByEtherType(type, frame.Subview(pos + 2), out);
}

ExtractResult Loopback(ByteView frame, bool network_order, UdpDatagram* out) {
  if (frame.size() < kLoopbackBytes) return ExtractResult::kTruncated;
  const uint32_t be = Be32(frame.data());
  const uint32_t le = (uint32_t{frame[3]} << 24) | (uint32_t{frame[2]} << 16) |
                      (uint32_t{frame[1]} << 8) | frame[0];
  // DLT_NULL is in the byte order of the machine that wrote it, which we do not know; family
  // values are small, so the smaller reading is the right one.
  const uint32_t af = network_order ? be : (le < be ? le : be);
  const ByteView ip = frame.Subview(kLoopbackBytes);
  if (af == kAfInet) return Ipv4(ip, out);
  if (IsAfInet6(af)) return Ipv6(ip, out);
  return ExtractResult::kNotIp;
}

}  // namespace

bool IsSupportedLinkType(uint32_t link_type) {
  switch (link_type) {
    case kLinkNull:
    case kLinkEthernet:
    case kLinkRawDlt12:
    case kLinkRawDlt14:
    case kLinkRaw:
    case kLinkLoop:
    case kLinkLinuxSll:
    case kLinkIpv4:
    case kLinkIpv6:
    case kLinkLinuxSll2:
      return true;
    default:
      return false;
  }
}

const char* ExtractResultName(ExtractResult r) {
  switch (r) {
    case ExtractResult::kOk:
      return "ok";
    case ExtractResult::kNotIp:
      return "not_ip";
    case ExtractResult::kNotUdp:
      return "not_udp";
    case ExtractResult::kFragment:
      return "ip_fragment";
    case ExtractResult::kTruncated:
      return "truncated";
    case ExtractResult::kMalformed:
      return "malformed";
    case ExtractResult::kUnsupportedLink:
      return "unsupported_link";
  }
  return "unknown";
}

ExtractResult ExtractUdp(uint32_t link_type, ByteView frame, UdpDatagram* out) {
  *out = UdpDatagram();
  switch (link_type) {
    case kLinkEthernet:
      return Ethernet(frame, out);
    case kLinkLinuxSll:
      if (frame.size() < kSllBytes) return ExtractResult::kTruncated;
      return ByEtherType(Be16(frame, 14), frame.Subview(kSllBytes), out);
    case kLinkLinuxSll2:
      if (frame.size() < kSll2Bytes) return ExtractResult::kTruncated;
      return ByEtherType(Be16(frame, 0), frame.Subview(kSll2Bytes), out);
    case kLinkRawDlt12:
    case kLinkRawDlt14:
    case kLinkRaw:
      return IpByVersion(frame, out);
    case kLinkIpv4:
      return Ipv4(frame, out);
    case kLinkIpv6:
      return Ipv6(frame, out);
    case kLinkNull:
      return Loopback(frame, false, out);
    case kLinkLoop:
      return Loopback(frame, true, out);
    default:
      return ExtractResult::kUnsupportedLink;
  }
}

Result<std::unique_ptr<PcapReader>> PcapReader::Open(const std::string& path) {
  if (path == "-") {
    std::unique_ptr<PcapReader> r(new PcapReader(&std::cin, nullptr, "<stdin>"));
    XFLOWD_RETURN_IF_ERROR(r->ReadHeader());
    return r;
  }
  auto file = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!file->is_open()) {
    return hal::base::ErrnoError("cannot open capture file '" + path + "'", errno);
  }
  // An ifstream opens a directory and then reads nothing: say what it is.
  struct stat st = {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return InvalidArgumentError("'" + path + "' is a directory, not a capture file");
  }
  return FromStream(std::move(file), path);
}

Result<std::unique_ptr<PcapReader>> PcapReader::FromStream(std::unique_ptr<std::istream> in,
                                                           const std::string& name) {
  std::istream* raw = in.get();
  std::unique_ptr<PcapReader> r(new PcapReader(raw, std::move(in), name));
  XFLOWD_RETURN_IF_ERROR(r->ReadHeader());
  return r;
}

uint32_t PcapReader::U32(const uint8_t* p) const {
  const uint32_t v = Be32(p);
  return swapped_ ? __builtin_bswap32(v) : v;
}

uint16_t PcapReader::U16(const uint8_t* p) const {
  const auto v = static_cast<uint16_t>((p[0] << 8) | p[1]);
  return swapped_ ? __builtin_bswap16(v) : v;
}

Status PcapReader::ReadHeader() {
  uint8_t h[kFileHeaderBytes];
  in_->read(reinterpret_cast<char*>(h), sizeof(h));
  const auto got = static_cast<size_t>(in_->gcount());
  if (got < 4) return InvalidArgumentError(name_ + ": too short to be a pcap file");
  const uint32_t magic = Be32(h);
  switch (magic) {
    case kMagicMicro:
      break;
    case kMagicMicroSwapped:
      swapped_ = true;
      break;
    case kMagicNano:
      nanosecond_ = true;
      break;
    case kMagicNanoSwapped:
      swapped_ = true;
      nanosecond_ = true;
      break;
    case kMagicPcapng:
      return InvalidArgumentError(name_ +
                                  ": this is pcapng; xflowdump reads classic pcap (convert with "
                                  "'editcap -F pcap IN OUT' or capture with 'tcpdump -w')");
    default: {
      char buf[16];
      std::snprintf(buf, sizeof(buf), "0x%08x", magic);
      return InvalidArgumentError(name_ + ": not a pcap file (magic " + buf + ")");
    }
  }
  if (got < kFileHeaderBytes) return InvalidArgumentError(name_ + ": pcap file header cut short");
  const uint16_t major = U16(h + 4);
  if (major != 2) {
    return InvalidArgumentError(name_ + ": pcap version " + std::to_string(major) +
                                " is not supported (expected 2)");
  }
  snaplen_ = U32(h + 16);
  link_type_ = U32(h + 20) & kLinkTypeMask;
  return Status::Ok();
}

Result<bool> PcapReader::Next(PcapRecord* out) {
  uint8_t h[kRecordHeaderBytes];
  in_->read(reinterpret_cast<char*>(h), sizeof(h));
  const auto got = static_cast<size_t>(in_->gcount());
  if (got == 0) return false;
  if (got < sizeof(h)) {
    truncated_ = true;
    return false;
  }
  const uint32_t sec = U32(h);
  const uint32_t frac = U32(h + 4);
  const uint32_t caplen = U32(h + 8);
  const uint32_t origlen = U32(h + 12);
  if (caplen > kMaxRecordBytes) {
    return InvalidArgumentError(name_ + ": record " + std::to_string(records_ + 1) + " claims " +
                                std::to_string(caplen) + " captured bytes; the file is corrupt");
  }
  buf_.resize(caplen);
  in_->read(reinterpret_cast<char*>(buf_.data()), caplen);
  if (static_cast<size_t>(in_->gcount()) < caplen) {
    truncated_ = true;
    return false;
  }
  ++records_;
  const int64_t frac_ns = nanosecond_ ? int64_t{frac} : int64_t{frac} * 1000;
  out->time = hal::base::WallTime::FromNs(int64_t{sec} * 1000000000 + frac_ns);
  out->original_length = origlen;
  out->data = ByteView(buf_.data(), buf_.size());
  return true;
}

}  // namespace xflowd::tools::xflowdump
