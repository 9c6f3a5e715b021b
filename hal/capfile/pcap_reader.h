// PcapReader: reads classic pcap files (the tcpdump -w format; not pcapng) record by record,
// without libpcap: both byte orders, microsecond and nanosecond timestamps. A pure reader: it
// hands out the captured bytes and the file's LINKTYPE_, and leaves the frames to the packet
// parser (agent/packet). Used by CaptureFileSource (xflowd -r without libpcap) and xflowdump.
#pragma once

#include <cstdint>
#include <istream>
#include <memory>
#include <string>
#include <vector>

#include "hal/base/byte_view.h"
#include "hal/base/status.h"
#include "hal/base/time.h"

namespace xflowd::hal::capfile {

struct PcapRecord {
  base::WallTime time;
  uint32_t original_length = 0;  // on the wire; data may be shorter (snaplen)
  base::ByteView data;           // valid until the next call to Next()
};

class PcapReader {
 public:
  // Opens `path` ("-" reads standard input) and reads the file header.
  static base::Result<std::unique_ptr<PcapReader>> Open(const std::string& path);
  // Reads from `in`, which the reader keeps (tests pass an istringstream).
  static base::Result<std::unique_ptr<PcapReader>> FromStream(std::unique_ptr<std::istream> in,
                                                              const std::string& name);

  // LINKTYPE_ of every record in the file (FCS bits masked off); hal::LinkTypeFromPcap maps it.
  uint32_t link_type() const { return link_type_; }
  uint32_t snaplen() const { return snaplen_; }
  bool nanosecond() const { return nanosecond_; }

  // Next record: true and *out filled, false at the end of the file. A file that ends in the
  // middle of a record (a capture that was cut short) ends there too, with truncated() set.
  // A record header that cannot be right (a length beyond 256 MiB) is an error.
  base::Result<bool> Next(PcapRecord* out);
  bool truncated() const { return truncated_; }
  uint64_t records() const { return records_; }

 private:
  PcapReader(std::istream* in, std::unique_ptr<std::istream> owned, std::string name)
      : in_(in), owned_(std::move(owned)), name_(std::move(name)) {}
  base::Status ReadHeader();
  uint32_t U32(const uint8_t* p) const;
  uint16_t U16(const uint8_t* p) const;

  std::istream* in_;
  std::unique_ptr<std::istream> owned_;
  std::string name_;
  bool swapped_ = false;  // file written little-endian (the usual case on x86)
  bool nanosecond_ = false;
  uint32_t link_type_ = 0;
  uint32_t snaplen_ = 0;
  bool truncated_ = false;
  uint64_t records_ = 0;
  std::vector<uint8_t> buf_;
};

}  // namespace xflowd::hal::capfile
