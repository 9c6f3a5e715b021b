// OvsSampleTranslator: OVS's sFlow datagrams (sent to xflowd's listener) into PacketSamples,
// through exporter/sflow's decoder.
//
// OVS samples per bridge: each bridge's sFlow agent has one data source (2:1000) with one
// sample sequence and one pool for every port, and names the port a packet came in on in
// the flow sample's input. So a sample goes to its input port's sampler at OVS's rate (the
// sampler's pool grows by the rate per sample), and the gaps in OVS's sequence (datagrams
// lost on the way, or dropped by a full socket) are counted here as source drops: they
// cannot be given to a port (docs/decisions.md D48). OVS's counter samples are ignored:
// counters come from OVSDB (D47).
//
// Data path: no lock; the decoder allocates its result once per datagram (a datagram holds
// up to ~10 samples), which the benchmark measures.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <unordered_set>

#include "hal/base/byte_view.h"
#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "hal/packet_source.h"

namespace xflowd::agent::ovs {

struct OvsSampleStats {
  uint64_t datagrams = 0;         // sFlow datagrams from OVS
  uint64_t bad_datagrams = 0;     // not decodable (sFlow decoder error), dropped
  uint64_t flow_samples = 0;      // handed to the agent
  uint64_t unmapped_samples = 0;  // input port unknown (not ours, or not one port), dropped
  uint64_t lost_samples = 0;      // gaps in OVS's sample sequence: lost on the way to us
  uint64_t no_header = 0;         // flow samples without an Ethernet sampled_header, dropped
  uint64_t counter_samples = 0;   // OVS's own counter samples: ignored
  uint64_t ovs_drops = 0;         // the drops OVS reported in its flow samples
};

class OvsSampleTranslator {
 public:
  OvsSampleTranslator(const hal::base::Clock& clock, hal::base::Logger& logger)
      : clock_(clock), data_log_(logger) {}
  // The ifindexes samples may name as input (the ports of the selected bridges).
  void SetPorts(std::unordered_set<uint32_t> ports) { ports_ = std::move(ports); }
  // One datagram; `source_key` tells OVS's agents apart (their UDP source port). Returns the
  // samples handed to `sink`.
  size_t HandleDatagram(hal::base::ByteView datagram, uint16_t source_key,
                        hal::PacketSampleSink& sink);
  const OvsSampleStats& stats() const { return stats_; }
  hal::PacketSourceStats source_stats() const;

 private:
  struct DataSource {  // one of OVS's samplers (one per bridge)
    bool seen = false;
    uint32_t sequence = 0;
    uint32_t drops = 0;
  };
  const hal::base::Clock& clock_;
  hal::base::RateLimitedLog data_log_;
  std::unordered_set<uint32_t> ports_;
  std::map<uint64_t, DataSource> sources_;  // (source_key << 32) | ds index
  OvsSampleStats stats_;
};

}  // namespace xflowd::agent::ovs
