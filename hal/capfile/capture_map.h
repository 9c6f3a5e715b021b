// CaptureMap: reads a capture file mapped into memory (mmap), classic pcap (either byte order,
// micro- or nanosecond) or pcapng (SHB, IDB, EPB, SPB; several interfaces and sections, either
// byte order; other blocks are skipped). Records hand out views into the mapping: no copy
// between the page cache and the packet parser, which is what makes `xflowd -r` run at the
// speed of a walk over memory (docs/performance.md, decision D50).
//
// Memory: the mapping is read once, front to back; pages more than 64 MiB behind the reader
// are dropped from it (they stay in the page cache), so the resident set stays bounded
// whatever the file's size. A record's view is valid until the next call to Next.
//
// Errors follow the stream reader (pcap_reader.h): a file that ends inside a record ends
// reading with truncated() set; a record that cannot be right (a length beyond 256 MiB or
// past its block, a pcapng block whose two lengths differ, a packet on an interface no IDB
// described) is an error naming the record. Everything read before stays delivered.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hal/base/byte_view.h"
#include "hal/base/status.h"

namespace xflowd::hal::capfile {

struct CaptureRecord {
  int64_t time_ns = 0;           // Unix ns
  uint32_t original_length = 0;  // on the wire; data may be shorter (snaplen)
  uint32_t interface = 0;        // pcapng interface id (0 in classic pcap)
  uint32_t link_type = 0;        // LINKTYPE_ of the record's interface (FCS bits masked off)
  base::ByteView data;           // into the mapping: valid until the next Next()
};

class CaptureMap {
 public:
  // Maps `path` (a regular file) and reads its header. Errors: NOT_FOUND, PERMISSION_DENIED,
  // INVALID_ARGUMENT (not a capture file, a directory, not mappable: a pipe).
  static base::Result<std::unique_ptr<CaptureMap>> Open(const std::string& path);
  // Reads `bytes`, which the caller keeps alive and unchanged (tests, the fuzz target).
  static base::Result<std::unique_ptr<CaptureMap>> FromBytes(base::ByteView bytes,
                                                             const std::string& name);
  ~CaptureMap();
  CaptureMap(const CaptureMap&) = delete;
  CaptureMap& operator=(const CaptureMap&) = delete;

  bool pcapng() const { return pcapng_; }
  // Link type of the first record's interface (classic: the file's; pcapng: the first IDB's,
  // 0 before one is read; Open reads up to the first IDB).
  uint32_t link_type() const { return first_link_type_; }
  bool nanosecond() const { return nanosecond_; }  // classic pcap only

  // Next record: true and *out filled, false at the end (or a cut: truncated()).
  base::Result<bool> Next(CaptureRecord* out);
  bool truncated() const { return truncated_; }
  uint64_t records() const { return records_; }
  const std::string& name() const { return name_; }

 private:
  struct Interface {
    uint32_t link_type = 0;
    uint32_t snaplen = 0;
    // Timestamp units: ticks per second as a power of 10 (exp10 >= 0) or of 2 (exp2 >= 0).
    int exp10 = 6;
    int exp2 = -1;
    int64_t offset_s = 0;
  };

  CaptureMap(const uint8_t* data, size_t size, std::string name, bool mapped)
      : data_(data), size_(size), name_(std::move(name)), mapped_(mapped) {}
  base::Status ReadHeader();
  base::Result<bool> NextClassic(CaptureRecord* out);
  base::Result<bool> NextPcapng(CaptureRecord* out);
  base::Status Section(size_t at);
  void Release(size_t upto);
  base::Status InterfaceBlock(const uint8_t* body, size_t body_len);
  base::Status Corrupt(const std::string& what) const;
  int64_t TimeNs(const Interface& itf, uint64_t ticks) const;
  uint32_t U32(const uint8_t* p) const;
  uint16_t U16(const uint8_t* p) const;

  const uint8_t* data_;
  size_t size_;
  std::string name_;
  bool mapped_;
  size_t pos_ = 0;
  size_t released_ = 0;   // bytes before this were dropped from the mapping (MADV_DONTNEED)
  bool swapped_ = false;  // file byte order differs from big-endian reads (see U32)
  bool pcapng_ = false;
  bool nanosecond_ = false;
  uint32_t first_link_type_ = 0;
  uint32_t classic_link_type_ = 0;
  std::vector<Interface> interfaces_;  // of the current pcapng section
  int64_t last_time_ns_ = 0;           // for SPBs, which carry no time
  bool truncated_ = false;
  uint64_t records_ = 0;
};

}  // namespace xflowd::hal::capfile
