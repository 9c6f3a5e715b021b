// Non-owning views of bytes, a bounds-checked big-endian reader and a bounded writer.
// Network byte order (big-endian) everywhere: sFlow/XDR, NetFlow and IPFIX are all big-endian.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace xflowd::hal::base {

// A view of bytes owned by someone else. Whoever hands one out documents its lifetime.
class ByteView {
 public:
  constexpr ByteView() = default;
  constexpr ByteView(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  ByteView(std::string_view s)  // NOLINT: convenient for tests
      : data_(reinterpret_cast<const uint8_t*>(s.data())), size_(s.size()) {}

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  uint8_t operator[](size_t i) const { return data_[i]; }
  const uint8_t* begin() const { return data_; }
  const uint8_t* end() const { return data_ + size_; }

  // Clamped: never extends past the end.
  ByteView Subview(size_t offset, size_t len = SIZE_MAX) const {
    if (offset > size_) return ByteView(data_ + size_, 0);
    size_t avail = size_ - offset;
    return ByteView(data_ + offset, len < avail ? len : avail);
  }
  // Bounds-checked big-endian loads at an offset; false if out of range (out untouched).
  bool U8At(size_t off, uint8_t* out) const {
    if (off >= size_) return false;
    *out = data_[off];
    return true;
  }
  bool U16At(size_t off, uint16_t* out) const {
    if (off > size_ || size_ - off < 2) return false;
    *out = static_cast<uint16_t>((data_[off] << 8) | data_[off + 1]);
    return true;
  }
  bool U32At(size_t off, uint32_t* out) const {
    if (off > size_ || size_ - off < 4) return false;
    *out = (uint32_t{data_[off]} << 24) | (uint32_t{data_[off + 1]} << 16) |
           (uint32_t{data_[off + 2]} << 8) | uint32_t{data_[off + 3]};
    return true;
  }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Sequential big-endian reader. After the first failed read, ok() is false and every later
// read fails too, so a parser can read a whole structure and check once.
class ByteReader {
 public:
  explicit ByteReader(ByteView v) : v_(v) {}

  bool ok() const { return ok_; }
  size_t offset() const { return off_; }
  size_t remaining() const { return ok_ ? v_.size() - off_ : 0; }

  uint8_t U8() {
    uint8_t x = 0;
    if (!Need(1)) return 0;
    x = v_[off_];
    off_ += 1;
    return x;
  }
  uint16_t U16() {
    if (!Need(2)) return 0;
    uint16_t x = 0;
    v_.U16At(off_, &x);
    off_ += 2;
    return x;
  }
  uint32_t U32() {
    if (!Need(4)) return 0;
    uint32_t x = 0;
    v_.U32At(off_, &x);
    off_ += 4;
    return x;
  }
  uint64_t U64() {
    uint64_t hi = U32();
    uint64_t lo = U32();
    return (hi << 32) | lo;
  }
  // A view of the next n bytes (empty and !ok() if fewer remain).
  ByteView Bytes(size_t n) {
    if (!Need(n)) return ByteView();
    ByteView out = v_.Subview(off_, n);
    off_ += n;
    return out;
  }
  bool Skip(size_t n) {
    if (!Need(n)) return false;
    off_ += n;
    return true;
  }

 private:
  bool Need(size_t n) {
    if (!ok_ || v_.size() - off_ < n) {
      ok_ = false;
      return false;
    }
    return true;
  }
  ByteView v_;
  size_t off_ = 0;
  bool ok_ = true;
};

// Bounded big-endian writer into caller-owned memory. A write that does not fit writes
// nothing and sets overflowed(); later writes are ignored. Never allocates.
class ByteWriter {
 public:
  ByteWriter(uint8_t* buf, size_t capacity) : buf_(buf), cap_(capacity) {}

  size_t size() const { return len_; }
  size_t capacity() const { return cap_; }
  size_t remaining() const { return cap_ - len_; }
  bool overflowed() const { return overflow_; }
  const uint8_t* data() const { return buf_; }
  ByteView view() const { return ByteView(buf_, len_); }
  // Forget what was written (keeps the buffer).
  void Reset() {
    len_ = 0;
    overflow_ = false;
  }
  // Drop everything after `size` (used to undo a partly written record).
  void Truncate(size_t size) {
    if (size < len_) len_ = size;
    overflow_ = false;
  }

  void U8(uint8_t x) {
    if (Need(1)) buf_[len_++] = x;
  }
  void U16(uint16_t x) {
    if (!Need(2)) return;
    buf_[len_++] = static_cast<uint8_t>(x >> 8);
    buf_[len_++] = static_cast<uint8_t>(x);
  }
  void U32(uint32_t x) {
    if (!Need(4)) return;
    buf_[len_++] = static_cast<uint8_t>(x >> 24);
    buf_[len_++] = static_cast<uint8_t>(x >> 16);
    buf_[len_++] = static_cast<uint8_t>(x >> 8);
    buf_[len_++] = static_cast<uint8_t>(x);
  }
  void U64(uint64_t x) {
    if (!Need(8)) return;
    U32(static_cast<uint32_t>(x >> 32));
    U32(static_cast<uint32_t>(x));
  }
  void Bytes(const void* p, size_t n) {
    if (!Need(n)) return;
    if (n) std::memcpy(buf_ + len_, p, n);
    len_ += n;
  }
  void Bytes(ByteView v) { Bytes(v.data(), v.size()); }
  void Zeros(size_t n) {
    if (!Need(n)) return;
    std::memset(buf_ + len_, 0, n);
    len_ += n;
  }
  // Overwrite a big-endian u32 already written at `offset` (for lengths and counts).
  void PatchU32(size_t offset, uint32_t x) {
    if (offset > len_ || len_ - offset < 4) return;
    buf_[offset] = static_cast<uint8_t>(x >> 24);
    buf_[offset + 1] = static_cast<uint8_t>(x >> 16);
    buf_[offset + 2] = static_cast<uint8_t>(x >> 8);
    buf_[offset + 3] = static_cast<uint8_t>(x);
  }
  void PatchU16(size_t offset, uint16_t x) {
    if (offset > len_ || len_ - offset < 2) return;
    buf_[offset] = static_cast<uint8_t>(x >> 8);
    buf_[offset + 1] = static_cast<uint8_t>(x);
  }

 private:
  bool Need(size_t n) {
    if (overflow_ || cap_ - len_ < n) {
      overflow_ = true;
      return false;
    }
    return true;
  }
  uint8_t* buf_;
  size_t cap_;
  size_t len_ = 0;
  bool overflow_ = false;
};

// "00 01 02 ..." with a newline every 16 bytes; used by golden tests and debug output.
std::string HexDump(ByteView v);
// Parses hex digits, ignoring whitespace and '#'-to-end-of-line comments. Returns false on a
// stray character or an odd digit count. For golden files and tests.
bool ParseHex(std::string_view text, std::basic_string<uint8_t>* out);

}  // namespace xflowd::hal::base
