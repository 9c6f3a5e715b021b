// Receiver: assembles samples into sFlow datagrams for one set of collectors.
// Keeps the datagram sequence number; flushes *before* a sample would overflow the size limit
// and on every tick; drops (and counts) a sample that could never fit on its own without
// touching what is pending.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "exporter/sflow/sflow_encoder.h"
#include "exporter/transport.h"
#include "hal/base/clock.h"

namespace xflowd::agent::sflow {

namespace wire = ::xflowd::exporter::sflow;

struct ReceiverConfig {
  std::string name = "default";
  // The command line allows 512..9000; the Receiver clamps anything outside 200..9000 into
  // range (samples too big for a small datagram are trimmed or counted by their sampler).
  size_t max_datagram_bytes = wire::kDefaultMaxDatagramBytes;
};

struct ReceiverStats {
  uint64_t datagrams = 0;  // datagrams built (each sent to every transport)
  uint64_t flow_samples = 0;
  uint64_t counter_samples = 0;
  uint64_t discard_samples = 0;
  uint64_t oversize_drops = 0;  // samples larger than an empty datagram: dropped alone
  uint64_t send_errors = 0;     // sum over transports
};

class Receiver {
 public:
  // `transports` are not owned and must outlive the receiver. `boot` is the agent's start
  // time: uptime in datagrams is clock.Now() - boot.
  Receiver(const ReceiverConfig& config, const hal::base::IpAddress& agent_address,
           uint32_t sub_agent_id, const hal::base::Clock& clock, hal::base::MonoTime boot,
           std::vector<exporter::Transport*> transports);

  // Each returns false if the sample can never fit (counted in oversize_drops): the caller
  // keeps its sequence number and counts the loss itself.
  bool Add(const wire::FlowSample& sample);
  bool Add(const wire::CounterSample& sample);
  bool Add(const wire::DiscardSample& sample);
  // Sends what is pending, if anything.
  void Flush();

  // Control plane (reload). Both send what is pending first (to the old collectors, with the
  // old header) and keep the datagram sequence number, so no collector sees a reset.
  // The collectors of the next datagrams; not owned, each must outlive the receiver.
  void SetTransports(std::vector<exporter::Transport*> transports);
  // A new datagram size, agent address or sub-agent id.
  void Reconfigure(const ReceiverConfig& config, const hal::base::IpAddress& agent_address,
                   uint32_t sub_agent_id);

  const ReceiverConfig& config() const { return config_; }
  const ReceiverStats& stats() const { return stats_; }
  uint32_t next_sequence() const { return sequence_ + 1; }
  // Bytes an empty datagram holds for samples: the largest sample that can be sent.
  size_t sample_room() const { return sample_room_; }
  const std::vector<exporter::Transport*>& transports() const { return transports_; }

 private:
  template <typename Sample>
  bool AddSample(const Sample& sample, uint64_t* counter);

  static ReceiverConfig Clamped(const ReceiverConfig& config);

  ReceiverConfig config_;  // max_datagram_bytes already clamped
  const hal::base::Clock& clock_;
  hal::base::MonoTime boot_;
  std::vector<exporter::Transport*> transports_;
  std::unique_ptr<uint8_t[]> buffer_;
  wire::DatagramBuilder builder_;
  size_t sample_room_;     // bytes for samples in an empty datagram (max - header)
  uint32_t sequence_ = 0;  // of the last datagram sent; the first one is 1
  ReceiverStats stats_;
};

}  // namespace xflowd::agent::sflow
