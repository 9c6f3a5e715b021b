#include "hal/capfile/pcap_reader.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <iostream>

namespace xflowd::hal::capfile {
namespace {

using base::ByteView;
using base::InvalidArgumentError;
using base::Result;
using base::Status;

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

uint32_t Be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

}  // namespace

Result<std::unique_ptr<PcapReader>> PcapReader::Open(const std::string& path) {
  if (path == "-") {
    std::unique_ptr<PcapReader> r(new PcapReader(&std::cin, nullptr, "<stdin>"));
    XFLOWD_RETURN_IF_ERROR(r->ReadHeader());
    return r;
  }
  auto file = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!file->is_open()) {
    return base::ErrnoError("cannot open capture file '" + path + "'", errno);
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
      return InvalidArgumentError(
          name_ +
          ": this is pcapng; only classic pcap can be read here (convert with "
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
  out->time = base::WallTime::FromNs(int64_t{sec} * 1000000000 + frac_ns);
  out->original_length = origlen;
  out->data = ByteView(buf_.data(), buf_.size());
  return true;
}

}  // namespace xflowd::hal::capfile
