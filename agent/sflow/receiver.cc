#include "agent/sflow/receiver.h"

#include <utility>

namespace xflowd::agent::sflow {

ReceiverConfig Receiver::Clamped(const ReceiverConfig& config) {
  ReceiverConfig c = config;
  if (c.max_datagram_bytes < wire::kMinDatagramBytes)
    c.max_datagram_bytes = wire::kMinDatagramBytes;
  if (c.max_datagram_bytes > wire::kMaxDatagramBytes)
    c.max_datagram_bytes = wire::kMaxDatagramBytes;
  return c;
}

Receiver::Receiver(const ReceiverConfig& config, const hal::base::IpAddress& agent_address,
                   uint32_t sub_agent_id, const hal::base::Clock& clock, hal::base::MonoTime boot,
                   std::vector<exporter::Transport*> transports)
    : config_(Clamped(config)),
      clock_(clock),
      boot_(boot),
      transports_(std::move(transports)),
      buffer_(new uint8_t[config_.max_datagram_bytes]),
      builder_(buffer_.get(), config_.max_datagram_bytes, agent_address, sub_agent_id),
      // The header is at most 40 bytes and the minimum datagram 200, so this never underflows.
      sample_room_(config_.max_datagram_bytes - wire::DatagramHeaderSize(agent_address)) {}

template <typename Sample>
bool Receiver::AddSample(const Sample& sample, uint64_t* counter) {
  if (builder_.Add(sample)) {
    ++*counter;
    return true;
  }
  // Does not fit in what is left. A sample too big for any datagram is dropped on its own:
  // flushing first would only send the pending samples early for nothing.
  if (wire::EncodedSize(sample) > sample_room_) {
    ++stats_.oversize_drops;
    return false;
  }
  Flush();
  if (builder_.Add(sample)) {
    ++*counter;
    return true;
  }
  ++stats_.oversize_drops;  // unreachable unless EncodedSize and Encode disagree
  return false;
}

bool Receiver::Add(const wire::FlowSample& sample) {
  return AddSample(sample, &stats_.flow_samples);
}
bool Receiver::Add(const wire::CounterSample& sample) {
  return AddSample(sample, &stats_.counter_samples);
}
bool Receiver::Add(const wire::DiscardSample& sample) {
  return AddSample(sample, &stats_.discard_samples);
}

void Receiver::Flush() {
  if (builder_.empty()) return;
  ++sequence_;
  // sFlow uptime is a 32-bit millisecond count; it wraps after ~49.7 days, as on switches.
  const auto uptime_ms = static_cast<uint32_t>(hal::base::ToMs(clock_.Now() - boot_));
  const hal::base::ByteView datagram = builder_.Finish(sequence_, uptime_ms);
  ++stats_.datagrams;
  for (exporter::Transport* t : transports_) {
    if (t == nullptr) continue;
    // One failing collector must not starve the others: count and carry on.
    if (!t->Send(datagram)) ++stats_.send_errors;
  }
  builder_.Reset();
}

void Receiver::SetTransports(std::vector<exporter::Transport*> transports) {
  Flush();
  transports_ = std::move(transports);
}

void Receiver::Reconfigure(const ReceiverConfig& config, const hal::base::IpAddress& agent_address,
                           uint32_t sub_agent_id) {
  Flush();
  config_ = Clamped(config);
  buffer_.reset(new uint8_t[config_.max_datagram_bytes]);
  builder_ =
      wire::DatagramBuilder(buffer_.get(), config_.max_datagram_bytes, agent_address, sub_agent_id);
  sample_room_ = config_.max_datagram_bytes - wire::DatagramHeaderSize(agent_address);
}

}  // namespace xflowd::agent::sflow
