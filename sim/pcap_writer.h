// PcapWriter: writes classic pcap files (the tcpdump -w format, not pcapng) in the host's byte
// order, with microsecond or nanosecond timestamps. Used by xflowd-pcapgen and by tests that
// need a capture on disk. Records go to a large user-space buffer and reach the file with
// write(2) when it fills, so ten million packets write in seconds.
//
// Errors: a failed write(2) is remembered; every later Write() returns it too, and Close()
// reports it (callers may check only Close()). A writer destroyed without Close() closes the
// file and drops any error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hal/base/byte_view.h"
#include "hal/base/status.h"
#include "hal/base/time.h"

namespace xflowd::sim {

constexpr uint32_t kPcapLinkTypeEthernet = 1;  // LINKTYPE_ETHERNET

enum class PcapTimestampUnit : uint8_t { kMicrosecond, kNanosecond };

struct PcapWriterOptions {
  PcapTimestampUnit unit = PcapTimestampUnit::kMicrosecond;
  // Captured bytes of a record are cut to this many (the file header's snaplen).
  uint32_t snaplen = 262144;
  uint32_t link_type = kPcapLinkTypeEthernet;
  // User-space buffer; 0 picks the default (4 MiB).
  size_t buffer_bytes = 0;
};

class PcapWriter {
 public:
  // Creates (or truncates) `path` and writes the file header.
  static hal::base::Result<std::unique_ptr<PcapWriter>> Create(
      const std::string& path, const PcapWriterOptions& options = {});
  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  // Appends one record: `captured` (cut to snaplen) with its length on the wire. `time` is
  // UTC since the epoch; it must not be negative. Microsecond files round down.
  hal::base::Status Write(hal::base::WallTime time, hal::base::ByteView captured,
                          uint32_t original_length);
  hal::base::Status Write(int64_t unix_ns, hal::base::ByteView captured, uint32_t original_length) {
    return Write(hal::base::WallTime::FromNs(unix_ns), captured, original_length);
  }
  // Writes what is buffered to the file (not fsync).
  hal::base::Status Flush();
  // Flushes and closes; the first error of any write or of close(2). Idempotent.
  hal::base::Status Close();

  uint64_t packets() const { return packets_; }
  // Bytes of the file so far, header and buffered records included.
  uint64_t file_bytes() const { return file_bytes_; }
  const std::string& path() const { return path_; }

 private:
  PcapWriter(int fd, std::string path, const PcapWriterOptions& options);
  hal::base::Status Append(const void* data, size_t size);

  int fd_;
  std::string path_;
  PcapWriterOptions options_;
  std::vector<uint8_t> buf_;
  size_t used_ = 0;
  uint64_t packets_ = 0;
  uint64_t file_bytes_ = 0;
  hal::base::Status error_;  // first write error; sticky
};

}  // namespace xflowd::sim
