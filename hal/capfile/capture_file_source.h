// CaptureFileSource: a PacketSource over a classic pcap file read by our own reader
// (pcap_reader.h), for `xflowd -r` in builds without libpcap (firmware profiles,
// targets Debian has no libpcap for). With libpcap, pcap::PcapFileSource is used instead
// (it also reads pcapng). Same contract: packet time as the samples' timestamps, fd() = -1,
// drain in a loop until done(); a cut or broken record ends reading and is counted.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "hal/base/status.h"
#include "hal/capfile/pcap_reader.h"
#include "hal/link_type.h"
#include "hal/packet_source.h"

namespace xflowd::hal::capfile {

class CaptureFileSource final : public PacketSource {
 public:
  // Errors: the file cannot be opened, is not a classic pcap (pcapng: convert with
  // `editcap -F pcap`), or has a link type LinkTypeFromPcap does not know.
  static base::Result<std::unique_ptr<CaptureFileSource>> Create(const std::string& path,
                                                                 uint32_t ifindex = 1);

  int fd() const override { return -1; }
  size_t Drain(PacketSampleSink& sink, size_t budget) override;
  PacketSourceStats stats() const override { return stats_; }

  bool done() const { return done_; }
  const std::string& read_error() const { return read_error_; }
  uint64_t packets_read() const { return stats_.samples; }
  LinkType link_type() const { return link_type_; }

 private:
  CaptureFileSource(std::unique_ptr<PcapReader> reader, uint32_t ifindex, LinkType link_type)
      : reader_(std::move(reader)), ifindex_(ifindex), link_type_(link_type) {}

  std::unique_ptr<PcapReader> reader_;
  uint32_t ifindex_;
  LinkType link_type_;
  PacketSourceStats stats_;
  bool done_ = false;
  std::string read_error_;
};

}  // namespace xflowd::hal::capfile
