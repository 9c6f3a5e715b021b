#include "sim/pcap_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace xflowd::sim {

using hal::base::ByteView;
using hal::base::ErrnoError;
using hal::base::Result;
using hal::base::Status;
using hal::base::WallTime;

namespace {

constexpr uint32_t kMagicMicro = 0xA1B2C3D4;
constexpr uint32_t kMagicNano = 0xA1B23C4D;
constexpr size_t kDefaultBuffer = size_t{4} << 20;
constexpr size_t kRecordHeader = 16;

// Host byte order, like tcpdump: readers detect the order from the magic number.
void PutHost32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }
void PutHost16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }

Status WriteAll(int fd, const uint8_t* p, size_t n, const std::string& path) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("writing " + path, errno);
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<PcapWriter>> PcapWriter::Create(const std::string& path,
                                                       const PcapWriterOptions& options) {
  if (options.snaplen == 0) return hal::base::InvalidArgumentError("pcap snaplen must be > 0");
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("cannot create " + path, errno);
  std::unique_ptr<PcapWriter> w(new PcapWriter(fd, path, options));
  uint8_t h[24];
  PutHost32(h, options.unit == PcapTimestampUnit::kNanosecond ? kMagicNano : kMagicMicro);
  PutHost16(h + 4, 2);  // version 2.4
  PutHost16(h + 6, 4);
  PutHost32(h + 8, 0);   // thiszone
  PutHost32(h + 12, 0);  // sigfigs
  PutHost32(h + 16, options.snaplen);
  PutHost32(h + 20, options.link_type);
  XFLOWD_RETURN_IF_ERROR(w->Append(h, sizeof h));
  return w;
}

PcapWriter::PcapWriter(int fd, std::string path, const PcapWriterOptions& options)
    : fd_(fd), path_(std::move(path)), options_(options) {
  buf_.resize(options.buffer_bytes ? options.buffer_bytes : kDefaultBuffer);
}

PcapWriter::~PcapWriter() { (void)Close(); }

Status PcapWriter::Append(const void* data, size_t size) {
  if (!error_.ok()) return error_;
  const auto* p = static_cast<const uint8_t*>(data);
  if (size > buf_.size() - used_) {
    XFLOWD_RETURN_IF_ERROR(Flush());
    if (size > buf_.size()) {  // larger than the whole buffer: straight to the file
      error_ = WriteAll(fd_, p, size, path_);
      if (error_.ok()) file_bytes_ += size;
      return error_;
    }
  }
  std::memcpy(buf_.data() + used_, p, size);
  used_ += size;
  file_bytes_ += size;
  return Status::Ok();
}

Status PcapWriter::Write(WallTime time, ByteView captured, uint32_t original_length) {
  if (!error_.ok()) return error_;
  if (fd_ < 0) return hal::base::InternalError(path_ + " is closed");
  if (time.ns() < 0) return hal::base::InvalidArgumentError("pcap time before 1970");
  size_t caplen = captured.size();
  if (caplen > options_.snaplen) caplen = options_.snaplen;
  if (original_length < caplen) original_length = static_cast<uint32_t>(caplen);
  const int64_t ns = time.ns();
  const auto sec = static_cast<uint32_t>(ns / 1000000000);
  auto frac = static_cast<uint32_t>(ns % 1000000000);
  if (options_.unit == PcapTimestampUnit::kMicrosecond) frac /= 1000;

  if (kRecordHeader + caplen <= buf_.size() - used_) {  // the common case: one copy
    uint8_t* p = buf_.data() + used_;
    PutHost32(p, sec);
    PutHost32(p + 4, frac);
    PutHost32(p + 8, static_cast<uint32_t>(caplen));
    PutHost32(p + 12, original_length);
    if (caplen) std::memcpy(p + kRecordHeader, captured.data(), caplen);
    used_ += kRecordHeader + caplen;
    file_bytes_ += kRecordHeader + caplen;
  } else {
    uint8_t h[kRecordHeader];
    PutHost32(h, sec);
    PutHost32(h + 4, frac);
    PutHost32(h + 8, static_cast<uint32_t>(caplen));
    PutHost32(h + 12, original_length);
    XFLOWD_RETURN_IF_ERROR(Append(h, sizeof h));
    XFLOWD_RETURN_IF_ERROR(Append(captured.data(), caplen));
  }
  ++packets_;
  return Status::Ok();
}

Status PcapWriter::Flush() {
  if (!error_.ok()) return error_;
  if (fd_ < 0) return Status::Ok();
  if (used_ > 0) {
    error_ = WriteAll(fd_, buf_.data(), used_, path_);
    used_ = 0;
  }
  return error_;
}

Status PcapWriter::Close() {
  if (fd_ < 0) return error_;
  Status st = Flush();
  if (::close(fd_) != 0 && st.ok()) st = ErrnoError("closing " + path_, errno);
  fd_ = -1;
  if (error_.ok()) error_ = st;
  return error_;
}

}  // namespace xflowd::sim
