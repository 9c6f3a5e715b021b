// Sampler: 1-in-N packet sampling for one data source (ifindex + direction), as in the sFlow v5
// spec: sample pool, drops, and its own flow-sample sequence number.
//
// Software input (PacketSample::sampling_rate == 1): the sampler itself picks packets, with
// skips drawn uniformly from [1, 2N-1] (mean N) from the agent's seeded PRNG.
// Hardware input (rate R > 1, already sampled): drops = gaps in the source's sequence numbers;
// pool grows by R x (1 + gap). If the export budget forced a rate N above R, the sampler
// sub-samples by k = N / R (integer; skips in [1, 2k-1]) and reports k x R, the rate those
// samples were really taken at (== N when N is a multiple of R, the usual case).
//
// A sample with a source sequence number is a hardware sample at any rate, 1-in-1 included.
//
// Export budget: at most max_samples_per_s samples in a tick interval; over it, the rate
// doubles (datagrams say so in sampling_rate) and SamplingControl is asked for the new rate
// when the hardware samples. After 10 ticks in a row at no more than a quarter of the budget,
// the rate halves back, never below the configured rate (the same way: datagrams and
// SamplingControl). The quarter leaves the halved rate at about half the budget.
//
// A flow sample larger than the receiver's datagrams has its header bytes trimmed to fit;
// one that cannot fit at all counts in drops and does not use up a sequence number.
#pragma once

#include <cstdint>

#include "agent/sflow/receiver.h"
#include "hal/base/prng.h"
#include "hal/packet_sample.h"
#include "hal/route_table.h"
#include "hal/sampling_control.h"

namespace xflowd::agent::packet {
struct ParsedPacket;
}  // namespace xflowd::agent::packet

namespace xflowd::agent::sflow {

struct SamplerConfig {
  uint32_t sampling_rate = 1000;   // 1-in-N; 0 disables
  uint32_t header_bytes = 128;     // bytes of each sampled header exported
  uint32_t max_samples_per_s = 0;  // export budget; 0 = unlimited
  bool expanded = false;           // force expanded (0:3) samples; also used if ifindex >= 2^24
  bool timestamp_record = false;   // add the extended timestamp record 0:1043
  // Add the extended router record 0:1002 (next hop, source and destination prefix lengths)
  // from the route table set with set_routes(), for IP packets whose destination has a route.
  bool extended_router = false;
  // The sample pool comes from outside (PacketSample::pool_added, AddToSamplePool), not from
  // counting the samples: for kernel filters that cannot count the packets they reject
  // (AF_PACKET, NFLOG), the platform hands the interface's packet counter deltas with the
  // samples. Drops are still counted from sequence gaps.
  bool external_pool = false;
};

struct SamplerStats {
  uint64_t samples = 0;          // flow samples exported
  uint64_t source_drops = 0;     // lost between source and agent (sequence gaps)
  uint64_t backoffs = 0;         // times the budget doubled the rate
  uint64_t header_errors = 0;    // headers the packet parser rejected (still exported)
  uint64_t control_errors = 0;   // SamplingControl refused a new rate (backoff: sub-sample)
  uint64_t recoveries = 0;       // times a calm budget halved the rate back
  uint64_t headers_trimmed = 0;  // headers cut shorter to fit the receiver's datagrams
  uint64_t oversize_drops = 0;   // samples that fit no datagram: counted in drops, not sent
  uint64_t router_records = 0;   // extended router records added (extended_router)
  uint64_t no_route = 0;         // IP samples whose destination had no route: no router record
};

class Sampler {
 public:
  // `control` may be null (software source, or nothing to program). Not owned.
  Sampler(uint32_t ifindex, hal::Direction direction, const SamplerConfig& config,
          Receiver& receiver, hal::base::Prng& prng, const hal::base::Clock& clock,
          hal::SamplingControl* control);

  // Data plane: one packet (software) or one hardware sample.
  void OnSample(const hal::PacketSample& sample);
  // With external_pool: `packets` more packets could have been sampled (the interface counter
  // delta since the last call); the same as a sample's pool_added. The pool wraps at 2^32 as the
  // spec allows.
  void AddToSamplePool(uint64_t packets) { pool_ += static_cast<uint32_t>(packets); }
  // Once a second: applies the export budget (backoff and recovery).
  void Tick(hal::base::MonoTime now);
  // Control plane (reload): new settings. The flow-sample sequence number, sample pool, drops
  // and stats continue. A new rate or budget restarts the budget's backoff from the new rate;
  // the caller has programmed SamplingControl (config.sampling_rate is the applied rate).
  void Reconfigure(const SamplerConfig& config);

  uint32_t ifindex() const { return ifindex_; }
  hal::Direction direction() const { return direction_; }
  // N, after any backoff. Hardware samples taken at R >= N are reported at R.
  uint32_t sampling_rate() const { return rate_; }
  const SamplerConfig& config() const { return config_; }
  uint32_t sample_pool() const { return pool_; }
  uint32_t drops() const { return drops_; }
  uint32_t sequence() const { return sequence_; }
  const SamplerStats& stats() const { return stats_; }
  // Null: idle (no receiver; samples are ignored, nothing counts).
  Receiver* receiver() const { return receiver_; }
  // Control plane: the receiver of the next samples (null: idle). The sequence number, pool
  // and drops continue across receivers; what the source sent while idle is not a drop.
  void set_receiver(Receiver* receiver);
  // Control plane: the table the extended router record looks in (null: none, the record is
  // left out). Not owned; it must outlive the sampler or be unset first.
  void set_routes(const hal::RouteTable* routes) {
    routes_ = routes;
    router_ = config_.extended_router ? routes_ : nullptr;
  }

 private:
  void Export(const hal::PacketSample& sample, uint32_t reported_rate);
  // Appends the extended router record of `parsed` (an IP packet) if its destination has a
  // route; counts no_route otherwise.
  void AddRouterRecord(const packet::ParsedPacket& parsed, wire::FlowRecord* records,
                       uint32_t* record_count);
  // Shortens hdr (a copy of fs's header record) so that fs fits an empty datagram, if that
  // is needed and possible; true if it did.
  bool TrimHeaderToFit(const wire::FlowSample& fs, wire::SampledHeader& hdr);
  // Asks SamplingControl for `wanted` when the hardware samples. Returns the rate applied
  // (`wanted` when there is nothing to program), or 0 if the platform refused (counted).
  uint32_t Program(uint32_t wanted);
  uint32_t NextSkip(uint32_t n);
  // Counts one packet against a 1-in-n countdown; true when this one is sampled.
  bool Take(uint32_t n);

  uint32_t ifindex_;
  hal::Direction direction_;
  SamplerConfig config_;
  Receiver* receiver_;  // null: idle
  hal::base::Prng& prng_;
  const hal::base::Clock& clock_;
  hal::SamplingControl* control_;
  const hal::RouteTable* routes_ = nullptr;
  const hal::RouteTable* router_ = nullptr;  // routes_ if extended_router: one test per sample

  uint32_t rate_;              // N: the configured rate, doubled by each backoff
  uint32_t floor_rate_;        // recovery stops here: the configured (or lowest possible) rate
  uint32_t calm_ticks_ = 0;    // ticks in a row at <= a quarter of the budget
  uint32_t skip_ = 0;          // packets (or hw samples) to let pass before the next
  uint32_t pool_ = 0;          // sFlow sample_pool (wraps, as the spec allows)
  uint32_t drops_ = 0;         // sFlow drops
  uint32_t sequence_ = 0;      // last flow sample sequence number sent
  uint32_t in_this_tick_ = 0;  // samples exported since the last tick
  bool have_source_seq_ = false;
  uint32_t last_source_seq_ = 0;
  bool hardware_input_ = false;  // last sample arrived already sampled (rate > 1)
  SamplerStats stats_;
};

}  // namespace xflowd::agent::sflow
