// SimSwitch: a switch made of software. N ports carry traffic from a seeded model (Zipf flows,
// IPv4/IPv6, TCP/UDP/ICMP, VLAN tags, a size mix); its ASIC samples 1-in-N per port and
// direction like a real one (PSAMPLE-style sequence numbers, optional power-of-two rates,
// optional sample loss); its counters agree exactly with the traffic it made, and the traffic
// it made is exposed as ground truth.
//
// Cost is proportional to samples and flow bursts, not to packets: traffic is generated as
// bursts ("trains") of identical-size packets of one flow, and the ASIC walks its skip
// countdown across each train, materialising a header only for the packets it samples.
// So 48 x 10G runs in real time on one core, and an hour of simulated time in seconds.
//
// Time: traffic is made in fixed slices (slice_us) on a grid starting at `start`. AdvanceTo(now)
// makes every slice that ends at or before `now`, so traffic, counters and the sample stream
// depend only on the seed and the configuration calls, not on how time was split into
// AdvanceTo calls (queue overflow aside, which depends on when Drain runs). Each slice, each
// port offers load x speed x slice bytes times a burst factor (log-normal, mean 1, correlated
// over ~10 slices), as trains_per_slice trains in evenly spaced time bands; a train's flow is
// drawn by Zipf popularity and its frame size from the flow's size profile, and the trains of
// one port and slice share one packet count, so small-frame flows carry few bytes (the mean
// frame is ~500 bytes with the default mix). The model's frame sizes are bytes without FCS:
// 60..1514, plus 4 per VLAN tag; on the wire, in samples, counters and ground truth every frame
// has its 4-byte FCS too (docs/architecture.md, "Frame bytes and the FCS").
//
// Sampling: per port and direction, skips are drawn uniformly in [1, 2N-1]. Samples carry
// sampling_rate = N, frame_length = the frame size with its FCS, stripped = 4 (the FCS, which
// the header bytes leave out, as the sFlow spec has it), the VLAN tags in the header
// bytes (vlan_valid = false), and a sequence number per port and direction that counts every
// sample taken from 0, including lost ones (lost samples show as gaps). Timestamps lie inside
// the train's time band and never decrease per port and direction; across ports they are
// only roughly ordered (queued band by band, port by port within a band).
//
// Single-threaded: call everything from one thread (the event loop).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hal/base/prng.h"
#include "hal/base/status.h"
#include "hal/base/time.h"
#include "hal/counter_source.h"
#include "hal/packet_source.h"
#include "hal/port_inventory.h"
#include "hal/sampling_control.h"

namespace xflowd::sim {

// A port that lies, for testing the agent's self-check (docs/selfcheck.md).
struct PortFault {
  uint32_t ifindex = 0;
  // Share of the samples taken that vanish without a trace: no sequence number is used up, so
  // nothing downstream can tell (a lossy path that renumbers, a buggy driver).
  double hide_fraction = 0.0;
  // Share of the samples taken that are lost with a sequence gap (hardware drops: the agent
  // counts them as drops).
  double drop_fraction = 0.0;
  // The ASIC samples at rate x rate_factor (rounded, at least 1) but reports the rate it was
  // asked for, in SetSamplingRate's answer and in every sample.
  double rate_factor = 1.0;
};

struct SimConfig {
  uint32_t num_ports = 48;
  uint64_t port_speed_bps = 10'000'000'000ull;
  uint32_t first_ifindex = 1;            // ports are first_ifindex .. first_ifindex + num_ports - 1
  std::string port_name_prefix = "swp";  // swp1, swp2, ...
  double load = 0.2;                     // mean offered load per port, fraction of line rate
  uint64_t seed = 1;
  uint32_t flows_per_port = 1000;  // distinct flows entering each port
  double zipf_s = 1.1;             // flow popularity exponent
  double ipv6_fraction = 0.3;
  double vlan_fraction = 0.5;     // share of flows that carry an 802.1Q tag
  double qinq_fraction = 0.05;    // share of tagged flows with two tags
  uint32_t header_bytes = 128;    // bytes of each sampled packet handed over
  bool round_rate_pow2 = false;   // ASIC rounds 1-in-N to a power of two (reports it)
  double sample_loss = 0.0;       // probability a taken sample never reaches the host
  size_t queue_capacity = 65536;  // samples waiting for Drain; overflow = loss (seq gap)
  // Traffic model details.
  uint32_t slice_us = 10000;         // traffic step; the event loop's timer should match it
  uint32_t trains_per_slice = 8;     // per port per slice
  double burstiness = 0.4;           // sigma of the log-normal per-slice load factor; 0 = steady
  double multicast_fraction = 0.02;  // share of flows to a multicast group
  double broadcast_fraction = 0.01;  // share of flows to the broadcast MAC (IPv4 only)
  // Ports that lie (at most one entry per ifindex; each must be a port of this switch).
  std::vector<PortFault> faults;
  // Ports that are 802.1Q VLAN devices (PortInfo::vlan_id): ifindex -> VLAN id 1..4094.
  std::vector<std::pair<uint32_t, uint16_t>> vlan_ports;
};

// What the simulated traffic really was, for tests.
struct PortTruth {
  uint64_t in_packets = 0;
  uint64_t in_bytes = 0;  // frame bytes with FCS: the unit of frame_length and ifInOctets
  uint64_t out_packets = 0;
  uint64_t out_bytes = 0;
  uint64_t in_ucast = 0, in_mcast = 0, in_bcast = 0;
  uint64_t out_ucast = 0, out_mcast = 0, out_bcast = 0;
  uint64_t samples_taken = 0;   // by the ASIC on this port (all directions)
  uint64_t samples_lost = 0;    // taken but never delivered (sample_loss or queue overflow)
  uint64_t samples_hidden = 0;  // taken and discarded without a sequence gap (PortFault)
};

struct FlowTruth {
  uint32_t input_ifindex = 0;
  uint32_t output_ifindex = 0;
  uint8_t ip_version = 4;
  uint8_t protocol = 0;
  uint8_t src_ip[16] = {};
  uint8_t dst_ip[16] = {};
  uint16_t src_port = 0;  // ICMP: type
  uint16_t dst_port = 0;  // ICMP: code
  uint16_t vlan = 0;      // outer VLAN id, 0 = untagged
  uint8_t vlan_tags = 0;  // 0, 1, or 2 (QinQ: outer 802.1ad)
  uint64_t packets = 0;
  uint64_t bytes = 0;  // frame bytes with FCS
};

class SimSwitch final : public hal::PacketSource,
                        public hal::SamplingControl,
                        public hal::CounterSource,
                        public hal::PortInventory {
 public:
  // Opens an eventfd (readable while samples wait). Traffic starts at `start`.
  static hal::base::Result<std::unique_ptr<SimSwitch>> Create(const SimConfig& config,
                                                              hal::base::MonoTime start);
  ~SimSwitch() override;

  // Generates the traffic between the previous call and `now` (monotonic, never backwards).
  // Samples the ASIC takes are queued for Drain with their own timestamps.
  void AdvanceTo(hal::base::MonoTime now);
  // Lets the links idle up to `now`: no traffic is made for the slices that end by then (the
  // time a daemon spends starting up), so that time does not come out later in one burst.
  // Counters and ground truth agree (they saw no traffic either).
  void SkipTo(hal::base::MonoTime now);
  // Traffic exists up to here (the end of the last whole slice made).
  hal::base::MonoTime generated_until() const;

  // hal::PacketSource. Drain hands samples in the order taken; each header view points into
  // the sample's ring slot and is valid only during OnSample. stats().source_drops counts
  // samples lost to sample_loss and to a full queue.
  int fd() const override;
  size_t Drain(hal::PacketSampleSink& sink, size_t budget) override;
  hal::PacketSourceStats stats() const override;

  // hal::SamplingControl. Rate 0 = off (the default for every port until set). header_bytes is
  // capped at SimConfig::header_bytes (the ring slot size); 0 means SimConfig::header_bytes.
  // With round_rate_pow2 the nearest power of two is applied (ties round up) and returned.
  // Every call restarts the skip countdown. NOT_FOUND for an unknown or removed port.
  hal::base::Result<uint32_t> SetSamplingRate(uint32_t ifindex, hal::Direction direction,
                                              uint32_t rate, uint32_t header_bytes) override;

  // hal::CounterSource: counters as of the last AdvanceTo (octets are frame bytes with FCS, as
  // a switch ASIC counts ifInOctets; discards, errors and dot3 counters are 0). NOT_FOUND for
  // an unknown or removed port.
  hal::base::Result<hal::PortCounters> ReadCounters(uint32_t ifindex) override;

  // hal::PortInventory: present ports, named port_name_prefix + (index + 1), MAC
  // 02:58:46:<ifindex, 24 bits>.
  hal::base::Result<std::vector<hal::PortInfo>> ListPorts() override;
  void SetListener(Listener listener) override;

  // Test hooks: change the inventory like a real switch would, calling the listener. A port
  // that is removed or oper-down carries no traffic (flows towards it pick another flow);
  // its counters and sampler settings are kept and resume when it comes back.
  hal::base::Status SetPortPresent(uint32_t ifindex, bool present);  // kAdded / kRemoved
  hal::base::Status SetPortOperUp(uint32_t ifindex, bool up);        // kChanged

  // Test hook: the mean offered load of every port from the next slice on (a burst, a lull).
  // INVALID_ARGUMENT outside [0, 1].
  hal::base::Status SetLoad(double load);

  // Ground truth. An unknown ifindex gives all zeros.
  const PortTruth& port_truth(uint32_t ifindex) const;
  // Every flow that carried traffic, with its totals (order unspecified).
  std::vector<FlowTruth> flow_truth() const;
  const SimConfig& config() const { return config_; }

 private:
  explicit SimSwitch(const SimConfig& config, hal::base::MonoTime start);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  SimConfig config_;
};

}  // namespace xflowd::sim
