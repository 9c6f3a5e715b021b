// Classic pcap files (the tcpdump -w format; not pcapng) and the UDP payloads inside them, so
// xflowdump can replay captures without libpcap. Both byte orders, microsecond and nanosecond
// timestamps; link types Ethernet (with VLAN tags), Linux cooked v1/v2, raw IP and BSD/Linux
// loopback; IPv4 and IPv6 (extension headers skipped) carrying UDP.
#pragma once

#include <cstdint>
#include <istream>
#include <memory>
#include <string>
#include <vector>

#include "hal/base/byte_view.h"
#include "hal/base/ip_address.h"
#include "hal/base/status.h"
#include "hal/base/time.h"

namespace xflowd::tools::xflowdump {

// LINKTYPE_* values (tcpdump.org/linktypes.html) this reader understands.
enum PcapLinkType : uint32_t {
  kLinkNull = 0,        // BSD loopback: 4-byte address family in the writer's byte order
  kLinkEthernet = 1,    // Ethernet II, optionally 802.1Q/802.1ad tagged
  kLinkRawDlt12 = 12,   // DLT_RAW as some systems wrote it before LINKTYPE_RAW existed
  kLinkRawDlt14 = 14,   // DLT_RAW of BSD/OS and old OpenBSD
  kLinkRaw = 101,       // raw IPv4/IPv6 (version nibble)
  kLinkLoop = 108,      // OpenBSD loopback: address family in network byte order
  kLinkLinuxSll = 113,  // Linux cooked capture v1 (tcpdump -i any)
  kLinkIpv4 = 228,
  kLinkIpv6 = 229,
  kLinkLinuxSll2 = 276,  // Linux cooked capture v2
};
// Whether ExtractUdp can read frames of this link type.
bool IsSupportedLinkType(uint32_t link_type);

struct PcapRecord {
  hal::base::WallTime time;
  uint32_t original_length = 0;  // on the wire; data may be shorter (snaplen)
  hal::base::ByteView data;      // valid until the next call to Next()
};

class PcapReader {
 public:
  // Opens `path` ("-" reads standard input) and reads the file header.
  static hal::base::Result<std::unique_ptr<PcapReader>> Open(const std::string& path);
  // Reads from `in`, which the reader keeps (tests pass an istringstream).
  static hal::base::Result<std::unique_ptr<PcapReader>> FromStream(std::unique_ptr<std::istream> in,
                                                                   const std::string& name);

  // LINKTYPE_ of every record in the file (FCS bits masked off).
  uint32_t link_type() const { return link_type_; }
  uint32_t snaplen() const { return snaplen_; }
  bool nanosecond() const { return nanosecond_; }

  // Next record: true and *out filled, false at the end of the file. A file that ends in the
  // middle of a record (a capture that was cut short) ends there too, with truncated() set.
  // A record header that cannot be right (a length beyond 256 MiB) is an error.
  hal::base::Result<bool> Next(PcapRecord* out);
  bool truncated() const { return truncated_; }
  uint64_t records() const { return records_; }

 private:
  PcapReader(std::istream* in, std::unique_ptr<std::istream> owned, std::string name)
      : in_(in), owned_(std::move(owned)), name_(std::move(name)) {}
  hal::base::Status ReadHeader();
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

// A UDP datagram found in a captured frame. payload points into the frame.
struct UdpDatagram {
  hal::base::Endpoint source;
  hal::base::Endpoint destination;
  hal::base::ByteView payload;
};

enum class ExtractResult {
  kOk = 0,
  kNotIp,      // ARP, LLDP, a loopback family we do not know...
  kNotUdp,     // IP but not UDP
  kFragment,   // an IP fragment (reassembly is not supported)
  kTruncated,  // the capture cut the IP/UDP headers or the payload short (snaplen)
  kMalformed,  // header fields that contradict each other (bad IHL, UDP length < 8)
  kUnsupportedLink,
};
const char* ExtractResultName(ExtractResult r);

// Finds the UDP datagram in `frame`. Never reads outside `frame`.
ExtractResult ExtractUdp(uint32_t link_type, hal::base::ByteView frame, UdpDatagram* out);

}  // namespace xflowd::tools::xflowdump
