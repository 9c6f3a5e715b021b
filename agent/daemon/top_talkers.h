// TopTalkers: the heaviest 5-tuples of the recent samples, scaled by the sampling rate, for
// `xflowctl top`. A PacketSampleSink the daemon tees every sample into.
//
// The table is fixed at construction (capacity entries in buckets of kWays, set-associative):
// a sample parses its header, hashes the 5-tuple and looks at one bucket (its tags share one
// cache line). A key not in the bucket takes a free way or evicts the way with the fewest
// recent bytes (the least recently updated on a tie), so heavy talkers stay and one-sample
// flows churn. No allocation, lock or syscall per sample. A talker's figures count from when
// it entered the table; see docs/decisions.md (D29) for the choice and its measured cost.
//
// Time is bucketed in intervals (10 s by default) advanced by OnTick: a talker keeps the bytes
// of the current and the previous interval, and Top divides them by the time they cover (one
// to two intervals; less just after the start).
//
// Software input (sampling_rate 1 without a source sequence: every packet of the interface)
// is counted 1 in software_rate, deterministically, and scaled by it. Only ingress samples
// count, as only ingress is sampled by the daemon: a forwarded packet sampled on its way in
// and again on its way out would count twice.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hal/base/time.h"
#include "hal/packet_sample.h"

namespace xflowd::agent::daemon {

struct TopTalkersConfig {
  uint32_t capacity = 4096;  // entries; rounded up to a power of two, at least kWays
  hal::base::Duration interval = hal::base::seconds(10);
  uint32_t software_rate = 1;  // see the header comment; 0 is taken as 1
};

// A talker: the 5-tuple of a sampled packet (ip_version 0 = not IP: everything else zero).
// Ports are TCP/UDP/SCTP ports, or ICMP type and code; zero otherwise.
struct TalkerKey {
  uint8_t ip_version = 0;
  uint8_t protocol = 0;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint8_t pad[2] = {};  // zero: keys compare and hash as bytes
  uint8_t src[16] = {};
  uint8_t dst[16] = {};
  bool operator==(const TalkerKey& o) const;
  std::string src_address() const;
  std::string dst_address() const;
  std::string protocol_name() const;  // "tcp", "udp", "icmp", "proto 47", "non-IP"
  // "tcp 10.0.0.1:443 -> 10.0.0.2:51000", "icmp 10.0.0.1 -> 10.0.0.2", "non-IP".
  std::string ToString() const;
};

struct TopTalker {
  TalkerKey key;
  double bytes_per_s = 0;    // frame bytes (as the samples' frame_length) x rate, per second
  double packets_per_s = 0;  // rate, summed, per second
  uint64_t samples = 0;      // samples behind the figures
};

struct TopTalkersStats {
  uint64_t samples = 0;      // samples seen
  uint64_t not_ingress = 0;  // egress samples, not counted (see OnSample)
  uint64_t counted = 0;      // samples counted (software input: 1 in software_rate)
  uint64_t not_ip = 0;       // counted under the non-IP key
  uint64_t evictions = 0;    // talkers pushed out of a full bucket
};

class TopTalkers final : public hal::PacketSampleSink {
 public:
  static constexpr uint32_t kWays = 8;

  explicit TopTalkers(const TopTalkersConfig& config);
  ~TopTalkers() override;

  // Data plane.
  void OnSample(const hal::PacketSample& sample) override;
  // Control plane, once a second (the daemon's tick): moves to the interval `now` falls in.
  // The first call starts the clock.
  void OnTick(hal::base::MonoTime now);

  // The `n` talkers with the most bytes over the recent intervals as of `now`, heaviest first.
  // Allocates: call from the control plane.
  std::vector<TopTalker> Top(size_t n, hal::base::MonoTime now) const;
  // Seconds the rates of Top(n, now) are averaged over.
  double SpanSeconds(hal::base::MonoTime now) const;

  const TopTalkersStats& stats() const { return stats_; }
  const TopTalkersConfig& config() const { return config_; }
  uint32_t capacity() const { return mask_ * kWays + kWays; }

 private:
  struct Entry;
  struct Bucket;
  uint32_t EpochOf(hal::base::MonoTime now) const;

  TopTalkersConfig config_;
  std::unique_ptr<Bucket[]> buckets_;
  uint32_t mask_ = 0;  // buckets - 1
  uint32_t software_countdown_ = 1;
  bool started_ = false;
  hal::base::MonoTime origin_;
  uint32_t epoch_ = 0;    // current interval number since origin_
  uint32_t touched_ = 0;  // update counter, for least-recently-updated eviction ties
  TopTalkersStats stats_;
};

// Human table for `xflowctl top`; `span_s` as SpanSeconds gives it.
std::string TopTalkersTable(const std::vector<TopTalker>& top, double span_s);
// The same for the `n` heaviest talkers as of `now` (the daemon's clock).
std::string TopTalkersTable(const TopTalkers& talkers, size_t n, hal::base::MonoTime now);

}  // namespace xflowd::agent::daemon
