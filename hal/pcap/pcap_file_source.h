// PcapFileSource: a PacketSource that reads a capture file (classic pcap, either byte order,
// micro- or nanosecond, or pcapng) through libpcap. Used by `xflowd -r FILE` to run the flow
// path over a capture as fast as the file reads.
//
// Files are not pollable: fd() returns -1, and the caller drains in a loop until done().
// Timestamps are the packets' own times (MonoTime::FromNs(unix ns)), so a flow cache fed
// from a file ages flows by packet time, and a replay gives the same flows at any speed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "hal/base/status.h"
#include "hal/base/time.h"
#include "hal/link_type.h"
#include "hal/packet_source.h"
#include "hal/pcap/skip_sampler.h"

struct pcap;  // libpcap's pcap_t, kept out of our headers

namespace xflowd::hal::pcap {

struct PcapFileOptions {
  // input_ifindex of every sample (a file has no interfaces we could map).
  uint32_t ifindex = 1;
  // 1 = every packet (sampling_rate 1 in the samples); N > 1 = software 1-in-N with skips
  // drawn uniformly from [1, 2N-1], and sampling_rate N in the samples.
  uint32_t sampling_rate = 1;
  uint64_t seed = 1;  // of the sampling PRNG
};

class PcapFileSource final : public PacketSource {
 public:
  // Opens `path`. Errors: NOT_FOUND (no such file), PERMISSION_DENIED (unreadable),
  // INVALID_ARGUMENT (not a capture file, or a link type LinkTypeFromPcap does not know).
  static base::Result<std::unique_ptr<PcapFileSource>> Create(const std::string& path,
                                                              const PcapFileOptions& options = {});
  ~PcapFileSource() override;
  PcapFileSource(const PcapFileSource&) = delete;
  PcapFileSource& operator=(const PcapFileSource&) = delete;

  // -1: a file is never "readable later"; drain it in a loop until done().
  int fd() const override { return -1; }
  // Reads until `budget` samples were handed to `sink` (with 1-in-N sampling it reads about
  // N x budget packets), the file ends or a read fails. Never blocks on anything but the
  // disk. `header` points into libpcap's buffer and is valid only during OnSample.
  size_t Drain(PacketSampleSink& sink, size_t budget) override;
  // samples: handed to the sink; parse_errors: 1 if reading stopped at a broken or cut
  // record; source_drops: always 0.
  PacketSourceStats stats() const override { return stats_; }

  // True after the end of the file or a read error; Drain then returns 0.
  bool done() const { return done_; }
  // Why reading stopped early ("" at a clean end): e.g. libpcap's "truncated dump file; ...".
  // Everything read before the bad record was delivered.
  const std::string& read_error() const { return read_error_; }
  // Records read from the file (sampled or not).
  uint64_t packets_read() const { return packets_read_; }
  // Times of the first and last record read (UTC); zero before the first one.
  base::WallTime first_packet_time() const { return first_time_; }
  base::WallTime last_packet_time() const { return last_time_; }
  const std::string& path() const { return path_; }
  // The file's link type; every sample carries it.
  LinkType link_type() const { return link_type_; }

 private:
  PcapFileSource(::pcap* handle, std::string path, const PcapFileOptions& options);

  std::unique_ptr<char[]> file_buffer_;  // the FILE's stdio buffer
  ::pcap* handle_;
  std::string path_;
  PcapFileOptions options_;
  LinkType link_type_ = LinkType::kEthernet;
  SkipSampler sampler_;
  PacketSourceStats stats_;
  bool done_ = false;
  std::string read_error_;
  uint64_t packets_read_ = 0;
  base::WallTime first_time_;
  base::WallTime last_time_;
};

}  // namespace xflowd::hal::pcap
