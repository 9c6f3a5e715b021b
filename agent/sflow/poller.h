// Poller: periodic counter samples for one data source, with its own sequence number. The
// first countdown is random in [1, interval] so ports do not all poll in the same second.
#pragma once

#include <cstdint>

#include "agent/sflow/receiver.h"
#include "hal/base/prng.h"
#include "hal/counter_source.h"
#include "hal/port_inventory.h"

namespace xflowd::agent::sflow {

struct PollerConfig {
  uint32_t interval_s = 20;  // 0 disables
  bool expanded = false;     // force 0:4; also used if ifindex >= 2^24
  bool port_name = true;     // add the port name record 0:1005
};

struct PollerStats {
  uint64_t samples = 0;
  uint64_t read_errors = 0;  // CounterSource failed: no sample that interval
  // Larger than the receiver's datagrams can carry: dropped, no sequence number used.
  uint64_t oversize_drops = 0;
};

// The VLAN counters record (0:5) of a port that is a VLAN device: each counter is the port's
// in + out (all ones when either is unknown), octets 64-bit, packets truncated to 32 bits.
wire::VlanCounters VlanCountersOf(uint16_t vlan_id, const hal::PortCounters& counters);

class Poller {
 public:
  Poller(const hal::PortInfo& port, const PollerConfig& config, Receiver& receiver,
         hal::CounterSource& counters, hal::base::Prng& prng);

  // Once a second. Sends a counter sample when the countdown reaches zero.
  void Tick(hal::base::MonoTime now);
  // Port properties changed (speed, status, name).
  void UpdatePort(const hal::PortInfo& port) { port_ = port; }
  // Ticks until the next poll, clamped to [1, interval]. The Agent uses it to spread the
  // first polls of all its pollers evenly (no-op when polling is disabled).
  void set_countdown(uint32_t ticks);
  // Control plane (reload): a new interval or expanded flag; the sequence number continues.
  // The countdown is kept when it fits the new interval (else clamped into it).
  void Reconfigure(const PollerConfig& config);

  uint32_t ifindex() const { return port_.ifindex; }
  const hal::PortInfo& port() const { return port_; }
  uint32_t countdown() const { return countdown_; }
  const PollerConfig& config() const { return config_; }
  uint32_t sequence() const { return sequence_; }
  // Null: idle (no polls; the countdown waits).
  Receiver* receiver() const { return receiver_; }
  // Control plane: the receiver of the next counter samples (null: idle); the sequence number
  // continues across receivers.
  void set_receiver(Receiver* receiver) { receiver_ = receiver; }
  const PollerStats& stats() const { return stats_; }

 private:
  hal::PortInfo port_;
  PollerConfig config_;
  Receiver* receiver_;  // null: idle
  hal::CounterSource& counters_;
  uint32_t countdown_;
  uint32_t sequence_ = 0;
  PollerStats stats_;
};

}  // namespace xflowd::agent::sflow
