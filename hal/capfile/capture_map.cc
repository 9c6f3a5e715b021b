#include "hal/capfile/capture_map.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <utility>

namespace xflowd::hal::capfile {
namespace {

using base::InvalidArgumentError;
using base::Result;
using base::Status;

constexpr size_t kFileHeaderBytes = 24;
constexpr size_t kRecordHeaderBytes = 16;
// As in pcap_reader.cc: no capture record is this large; a bigger length is corruption.
constexpr uint32_t kMaxRecordBytes = 256u << 20;

constexpr uint32_t kMagicMicro = 0xA1B2C3D4;
constexpr uint32_t kMagicMicroSwapped = 0xD4C3B2A1;
constexpr uint32_t kMagicNano = 0xA1B23C4D;
constexpr uint32_t kMagicNanoSwapped = 0x4D3CB2A1;
constexpr uint32_t kLinkTypeMask = 0x0000FFFF;

// pcapng (draft-ietf-opsawg-pcapng).
constexpr uint32_t kBlockShb = 0x0A0D0D0A;
constexpr uint32_t kBlockIdb = 1;
constexpr uint32_t kBlockSpb = 3;
constexpr uint32_t kBlockEpb = 6;
constexpr uint32_t kByteOrderMagic = 0x1A2B3C4D;
constexpr size_t kBlockOverhead = 12;  // type, length, trailing length
constexpr uint16_t kOptEnd = 0;
constexpr uint16_t kOptTsResol = 9;
constexpr uint16_t kOptTsOffset = 14;
// Read this far ahead of the record being parsed: the walk is bound by first touches of new
// memory (a cache miss per record, a TLB miss per page), which a prefetch overlaps.
constexpr size_t kPrefetchBytes = 4096;
// Pages this far behind the reader are dropped from the mapping, so the resident set stays
// bounded (the page cache keeps them; nothing is read twice).
constexpr size_t kReleaseBytes = 64u << 20;

uint32_t Be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

int64_t Pow10(int e) {
  int64_t v = 1;
  while (e-- > 0) v *= 10;
  return v;
}

}  // namespace

Result<std::unique_ptr<CaptureMap>> CaptureMap::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return base::ErrnoError("cannot open capture file '" + path + "'", err);
  }
  struct stat st = {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const bool dir = S_ISDIR(st.st_mode);
    ::close(fd);
    if (dir) return InvalidArgumentError("'" + path + "' is a directory, not a capture file");
    return InvalidArgumentError("'" + path +
                                "' is not a regular file; the mapped reader cannot read it "
                                "(use --reader stream)");
  }
  const auto size = static_cast<size_t>(st.st_size);
  const uint8_t* data = nullptr;
  if (size > 0) {
    void* m = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      return base::ErrnoError("cannot map capture file '" + path +
                                  "' (too big for the address space? use "
                                  "--reader stream)",
                              err);
    }
    // One pass from start to end: read ahead aggressively, drop pages behind.
    ::madvise(m, size, MADV_SEQUENTIAL);
    ::madvise(m, size, MADV_WILLNEED);
    data = static_cast<const uint8_t*>(m);
  }
  ::close(fd);  // the mapping keeps the file
  std::unique_ptr<CaptureMap> c(new CaptureMap(data, size, path, size > 0));
  XFLOWD_RETURN_IF_ERROR(c->ReadHeader());
  return c;
}

Result<std::unique_ptr<CaptureMap>> CaptureMap::FromBytes(base::ByteView bytes,
                                                          const std::string& name) {
  std::unique_ptr<CaptureMap> c(new CaptureMap(bytes.data(), bytes.size(), name, false));
  XFLOWD_RETURN_IF_ERROR(c->ReadHeader());
  return c;
}

CaptureMap::~CaptureMap() {
  if (mapped_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

uint32_t CaptureMap::U32(const uint8_t* p) const {
  const uint32_t v = Be32(p);
  return swapped_ ? __builtin_bswap32(v) : v;
}

uint16_t CaptureMap::U16(const uint8_t* p) const {
  const auto v = static_cast<uint16_t>((p[0] << 8) | p[1]);
  return swapped_ ? __builtin_bswap16(v) : v;
}

Status CaptureMap::Corrupt(const std::string& what) const {
  return InvalidArgumentError(name_ + ": record " + std::to_string(records_ + 1) + " " + what +
                              "; the file is corrupt");
}

Status CaptureMap::ReadHeader() {
  if (size_ < 4) return InvalidArgumentError(name_ + ": too short to be a pcap file");
  const uint32_t magic = Be32(data_);
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
    case kBlockShb: {
      pcapng_ = true;
      XFLOWD_RETURN_IF_ERROR(Section(0));
      // The link type of the first interface, for the caller's check: walk blocks up to the
      // first IDB without consuming anything.
      size_t at = pos_;
      while (at + kBlockOverhead <= size_) {
        const uint32_t type = U32(data_ + at);
        const uint32_t len = U32(data_ + at + 4);
        if (type == kBlockShb || len < kBlockOverhead || len > size_ - at) break;
        if (type == kBlockIdb && len >= kBlockOverhead + 8) {
          first_link_type_ = U16(data_ + at + 8);
          break;
        }
        at += len;
      }
      return Status::Ok();
    }
    default: {
      char buf[16];
      std::snprintf(buf, sizeof(buf), "0x%08x", magic);
      return InvalidArgumentError(name_ + ": not a pcap or pcapng file (magic " + buf + ")");
    }
  }
  if (size_ < kFileHeaderBytes) return InvalidArgumentError(name_ + ": pcap file header cut short");
  const uint16_t major = U16(data_ + 4);
  if (major != 2) {
    return InvalidArgumentError(name_ + ": pcap version " + std::to_string(major) +
                                " is not supported (expected 2)");
  }
  classic_link_type_ = U32(data_ + 20) & kLinkTypeMask;
  first_link_type_ = classic_link_type_;
  pos_ = kFileHeaderBytes;
  return Status::Ok();
}

// A section header block at `at`: its byte order, and a new set of interfaces.
Status CaptureMap::Section(size_t at) {
  if (size_ - at < 28) return InvalidArgumentError(name_ + ": pcapng section header cut short");
  const uint32_t bom = Be32(data_ + at + 8);
  if (bom == kByteOrderMagic) {
    swapped_ = false;
  } else if (bom == __builtin_bswap32(kByteOrderMagic)) {
    swapped_ = true;
  } else {
    return InvalidArgumentError(name_ + ": pcapng section header with a bad byte-order magic");
  }
  const uint32_t len = U32(data_ + at + 4);
  const uint16_t major = U16(data_ + at + 12);
  if (major != 1) {
    return InvalidArgumentError(name_ + ": pcapng version " + std::to_string(major) +
                                " is not supported (expected 1)");
  }
  if (len < 28 || len % 4 != 0 || len > size_ - at) {
    return InvalidArgumentError(name_ + ": pcapng section header has a bad length");
  }
  interfaces_.clear();
  pos_ = at + len;
  return Status::Ok();
}

Status CaptureMap::InterfaceBlock(const uint8_t* body, size_t body_len) {
  if (body_len < 8) return Corrupt("(an interface description) is too short");
  Interface itf;
  itf.link_type = U16(body);
  itf.snaplen = U32(body + 4);
  size_t o = 8;
  while (o + 4 <= body_len) {
    const uint16_t code = U16(body + o);
    const uint16_t len = U16(body + o + 2);
    o += 4;
    if (code == kOptEnd || len > body_len - o) break;
    if (code == kOptTsResol && len >= 1) {
      const uint8_t r = body[o];
      if (r & 0x80) {
        itf.exp2 = r & 0x7F;
        itf.exp10 = -1;
      } else {
        itf.exp10 = r;
      }
      if (itf.exp2 > 63 || itf.exp10 > 18) return Corrupt("has a time resolution beyond 1e-18 s");
    } else if (code == kOptTsOffset && len >= 8) {
      itf.offset_s = static_cast<int64_t>((uint64_t{U32(body + o)} << 32) | U32(body + o + 4));
      if (swapped_) {  // a 64-bit option in the section's order: swap the halves read above
        itf.offset_s = static_cast<int64_t>((uint64_t{U32(body + o + 4)} << 32) | U32(body + o));
      }
    }
    o += (len + 3u) & ~3u;
  }
  if (first_link_type_ == 0 && interfaces_.empty()) first_link_type_ = itf.link_type;
  interfaces_.push_back(itf);
  return Status::Ok();
}

int64_t CaptureMap::TimeNs(const Interface& itf, uint64_t ticks) const {
  // Unsigned arithmetic: a corrupt time wraps instead of overflowing.
  uint64_t ns;
  if (itf.exp10 >= 0) {
    ns = itf.exp10 <= 9 ? ticks * static_cast<uint64_t>(Pow10(9 - itf.exp10))
                        : ticks / static_cast<uint64_t>(Pow10(itf.exp10 - 9));
  } else {
    const uint64_t sec = ticks >> itf.exp2;
    const uint64_t frac = ticks - (sec << itf.exp2);
    ns = sec * 1000000000u +
         static_cast<uint64_t>(static_cast<long double>(frac) * 1e9L /
                               static_cast<long double>(uint64_t{1} << itf.exp2));
  }
  return static_cast<int64_t>(ns + static_cast<uint64_t>(itf.offset_s) * 1000000000u);
}

Result<bool> CaptureMap::Next(CaptureRecord* out) {
  const size_t start = pos_;
  if (start + kPrefetchBytes < size_) __builtin_prefetch(data_ + start + kPrefetchBytes);
  if (mapped_ && start - released_ >= kReleaseBytes) Release(start);
  return pcapng_ ? NextPcapng(out) : NextClassic(out);
}

void CaptureMap::Release(size_t upto) {
  // Only whole pages before `upto`: the record at `upto` and after are still to be read.
  static const size_t kPage = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t end = upto / kPage * kPage;
  if (end > released_) {
    ::madvise(const_cast<uint8_t*>(data_) + released_, end - released_, MADV_DONTNEED);
    released_ = end;
  }
}

Result<bool> CaptureMap::NextClassic(CaptureRecord* out) {
  const size_t left = size_ - pos_;
  if (left == 0) return false;
  if (left < kRecordHeaderBytes) {
    truncated_ = true;
    return false;
  }
  const uint8_t* h = data_ + pos_;
  const uint32_t caplen = U32(h + 8);
  if (caplen > kMaxRecordBytes) {
    return Corrupt("claims " + std::to_string(caplen) + " captured bytes");
  }
  if (caplen > left - kRecordHeaderBytes) {
    truncated_ = true;
    return false;
  }
  const uint32_t sec = U32(h);
  const uint32_t frac = U32(h + 4);
  out->time_ns = int64_t{sec} * 1000000000 + (nanosecond_ ? int64_t{frac} : int64_t{frac} * 1000);
  out->original_length = U32(h + 12);
  out->interface = 0;
  out->link_type = classic_link_type_;
  out->data = base::ByteView(h + kRecordHeaderBytes, caplen);
  pos_ += kRecordHeaderBytes + caplen;
  ++records_;
  return true;
}

Result<bool> CaptureMap::NextPcapng(CaptureRecord* out) {
  for (;;) {
    const size_t left = size_ - pos_;
    if (left == 0) return false;
    if (left < 8) {
      truncated_ = true;
      return false;
    }
    const uint8_t* b = data_ + pos_;
    if (Be32(b) == kBlockShb) {  // the type reads the same in either order
      XFLOWD_RETURN_IF_ERROR(Section(pos_));
      continue;
    }
    const uint32_t type = U32(b);
    const uint32_t len = U32(b + 4);
    if (len < kBlockOverhead || len % 4 != 0 || len > kMaxRecordBytes) {
      return Corrupt("is in a pcapng block of length " + std::to_string(len));
    }
    if (len > left) {
      truncated_ = true;
      return false;
    }
    if (U32(b + len - 4) != len) return Corrupt("is in a pcapng block whose two lengths differ");
    const uint8_t* body = b + 8;
    const size_t body_len = len - kBlockOverhead;
    pos_ += len;
    if (type == kBlockIdb) {
      XFLOWD_RETURN_IF_ERROR(InterfaceBlock(body, body_len));
      continue;
    }
    if (type == kBlockEpb) {
      if (body_len < 20) return Corrupt("(an enhanced packet block) is too short");
      const uint32_t id = U32(body);
      if (id >= interfaces_.size()) {
        return Corrupt("is on interface " + std::to_string(id) + ", which no IDB described");
      }
      const uint32_t caplen = U32(body + 12);
      if (caplen > body_len - 20) return Corrupt("claims more bytes than its block holds");
      const Interface& itf = interfaces_[id];
      const uint64_t ticks = (uint64_t{U32(body + 4)} << 32) | U32(body + 8);
      out->time_ns = TimeNs(itf, ticks);
      out->original_length = U32(body + 16);
      out->interface = id;
      out->link_type = itf.link_type;
      out->data = base::ByteView(body + 20, caplen);
      last_time_ns_ = out->time_ns;
      ++records_;
      return true;
    }
    if (type == kBlockSpb) {
      if (body_len < 4) return Corrupt("(a simple packet block) is too short");
      if (interfaces_.empty()) return Corrupt("is on interface 0, which no IDB described");
      const Interface& itf = interfaces_[0];
      const uint32_t orig = U32(body);
      uint32_t caplen = orig;
      if (itf.snaplen != 0 && caplen > itf.snaplen) caplen = itf.snaplen;
      if (caplen > body_len - 4) caplen = static_cast<uint32_t>(body_len - 4);
      out->time_ns = last_time_ns_;  // an SPB has no time: the previous packet's
      out->original_length = orig;
      out->interface = 0;
      out->link_type = itf.link_type;
      out->data = base::ByteView(body + 4, caplen);
      ++records_;
      return true;
    }
    // Name resolution, statistics, secrets, custom and obsolete blocks: nothing for flows.
  }
}

}  // namespace xflowd::hal::capfile
