// MappedFileSource: a PacketSource over a capture file read through CaptureMap (mmap; classic
// pcap or pcapng), for `xflowd -r` (--reader mmap, the default for regular files). Same
// contract as pcap::PcapFileSource: packet time as the samples' timestamps, fd() = -1, drain
// in a loop until done(); a cut or broken record ends reading, is counted in parse_errors and
// said in read_error(), and everything before it was delivered. Sample headers point into
// the mapping (no copy).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "hal/base/status.h"
#include "hal/capfile/capture_map.h"
#include "hal/link_type.h"
#include "hal/packet_source.h"
#include "hal/pcap/skip_sampler.h"

namespace xflowd::hal::capfile {

struct MappedFileOptions {
  // input_ifindex of interface 0's samples; pcapng interface k gives ifindex + k.
  uint32_t ifindex = 1;
  // 1 = every packet; N > 1 = software 1-in-N (pcap::SkipSampler, as PcapFileSource).
  uint32_t sampling_rate = 1;
  uint64_t seed = 1;
};

class MappedFileSource final : public PacketSource {
 public:
  // Errors: those of CaptureMap::Open, or a first interface whose link type LinkTypeFromPcap
  // does not know.
  static base::Result<std::unique_ptr<MappedFileSource>> Create(
      const std::string& path, const MappedFileOptions& options = {});
  // Over bytes the caller keeps (tests).
  static base::Result<std::unique_ptr<MappedFileSource>> FromBytes(
      base::ByteView bytes, const std::string& name, const MappedFileOptions& options = {});

  int fd() const override { return -1; }
  size_t Drain(PacketSampleSink& sink, size_t budget) override;
  PacketSourceStats stats() const override { return stats_; }

  bool done() const { return done_; }
  const std::string& read_error() const { return read_error_; }
  uint64_t packets_read() const { return packets_read_; }

 private:
  MappedFileSource(std::unique_ptr<CaptureMap> map, const MappedFileOptions& options)
      : map_(std::move(map)), options_(options), sampler_(options.sampling_rate, options.seed) {}
  static base::Result<std::unique_ptr<MappedFileSource>> Wrap(
      base::Result<std::unique_ptr<CaptureMap>> map, const MappedFileOptions& options);

  std::unique_ptr<CaptureMap> map_;
  MappedFileOptions options_;
  pcap::SkipSampler sampler_;
  PacketSourceStats stats_;
  bool done_ = false;
  std::string read_error_;
  uint64_t packets_read_ = 0;
  // The last record's LINKTYPE_ and what it maps to (records of one interface repeat it).
  uint32_t raw_link_ = 0xFFFFFFFF;
  LinkType link_ = LinkType::kEthernet;
};

}  // namespace xflowd::hal::capfile
