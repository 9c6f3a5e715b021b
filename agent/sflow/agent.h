// Agent: owns the receivers, samplers and pollers, routes each PacketSample to the sampler of
// its data source, and runs the 1-second tick (samplers, then pollers, then receivers flush).
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "agent/sflow/host_poller.h"
#include "agent/sflow/poller.h"
#include "agent/sflow/receiver.h"
#include "agent/sflow/sampler.h"
#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "hal/base/prng.h"
#include "hal/packet_sample.h"

namespace xflowd::agent::sflow {

struct AgentConfig {
  hal::base::IpAddress agent_address;  // must be set (v4 or v6)
  uint32_t sub_agent_id = 0;
};

struct AgentStats {
  uint64_t samples_in = 0;  // PacketSamples received
  uint64_t no_sampler = 0;  // samples for a port/direction with no sampler: dropped
};

class Agent final : public hal::PacketSampleSink {
 public:
  Agent(const AgentConfig& config, const hal::base::Clock& clock, hal::base::Prng& prng,
        hal::base::Logger& logger);
  ~Agent() override;

  // Transports are not owned and must outlive the agent.
  Receiver& AddReceiver(const ReceiverConfig& config, std::vector<exporter::Transport*> transports);
  // Replaces any sampler already on ifindex/direction. `control` may be null.
  Sampler& AddSampler(uint32_t ifindex, hal::Direction direction, const SamplerConfig& config,
                      Receiver& receiver, hal::SamplingControl* control);
  Poller& AddPoller(const hal::PortInfo& port, const PollerConfig& config, Receiver& receiver,
                    hal::CounterSource& counters);
  // The host counters' poller (at most one; replaces any before; null removes it). Its first
  // poll is placed like a port poller's. Ticked after the port pollers.
  HostPoller* SetHostPoller(const HostPollerConfig& config, Receiver* receiver,
                            hal::host::HostReader* reader);
  HostPoller* host_poller() const { return host_poller_.get(); }
  // Removes a receiver made by AddReceiver: it sends what is pending, and the samplers and
  // pollers attached to it go idle (receiver null).
  void RemoveReceiver(Receiver* receiver);
  // Removes the sampler of ifindex/direction (its samples pending in the receiver stay there).
  // False if there was none.
  bool RemoveSampler(uint32_t ifindex, hal::Direction direction);
  // Control plane: moves the sampler / poller to `receiver` (null: idle). The receiver left
  // sends what it has first; sample sequence numbers continue. False: no such sampler/poller.
  bool SetSamplerReceiver(uint32_t ifindex, hal::Direction direction, Receiver* receiver);
  bool SetPollerReceiver(uint32_t ifindex, Receiver* receiver);
  // Removes the port's samplers and poller (port deleted).
  void RemovePort(uint32_t ifindex);
  // Control plane (reload): new settings for the port's poller (false: no poller there). Its
  // sequence number continues; a new interval places the next poll as AddPoller would, so
  // pollers given a new interval together still spread over it.
  bool ReconfigurePoller(uint32_t ifindex, const PollerConfig& config);
  // Control plane (reload): a new agent address or sub-agent id for every receiver (each sends
  // what is pending first and keeps its sequence numbers).
  void SetIdentity(const AgentConfig& config);
  // Control plane: the route table every sampler (now and later) looks in for the extended
  // router record (SamplerConfig::extended_router). Null: none. Not owned.
  void SetRouteTable(const hal::RouteTable* routes);
  const hal::RouteTable* route_table() const { return routes_; }
  const AgentConfig& config() const { return config_; }

  // Data plane.
  void OnSample(const hal::PacketSample& sample) override;
  // Call once a second with the clock's time: samplers, pollers, then receivers flush what is
  // pending.
  void Tick(hal::base::MonoTime now);
  // Sends whatever is pending now (shutdown).
  void Flush();

  Sampler* FindSampler(uint32_t ifindex, hal::Direction direction);
  Poller* FindPoller(uint32_t ifindex);
  const std::vector<std::unique_ptr<Receiver>>& receivers() const { return receivers_; }
  const std::vector<std::unique_ptr<Sampler>>& samplers() const { return samplers_; }
  const std::vector<std::unique_ptr<Poller>>& pollers() const { return pollers_; }
  const AgentStats& stats() const { return stats_; }
  hal::base::MonoTime boot_time() const { return boot_; }

 private:
  // The first countdown of a poller (re)started with interval_s.
  uint32_t NextCountdown(uint32_t interval_s);
  static uint64_t Key(uint32_t ifindex, hal::Direction d) {
    return (uint64_t{ifindex} << 1) | static_cast<uint64_t>(d);
  }
  AgentConfig config_;
  const hal::base::Clock& clock_;
  hal::base::Prng& prng_;
  hal::base::Logger& logger_;
  hal::base::MonoTime boot_;
  std::vector<std::unique_ptr<Receiver>> receivers_;
  std::vector<std::unique_ptr<Sampler>> samplers_;
  std::vector<std::unique_ptr<Poller>> pollers_;
  std::unique_ptr<HostPoller> host_poller_;
  std::unordered_map<uint64_t, Sampler*> sampler_index_;  // lookups never allocate
  AgentStats stats_;
  // Phase of the next poller's first poll, as a fraction of its interval in 32-bit fixed
  // point; advanced by the golden ratio so any number of pollers spread evenly.
  uint32_t poller_phase_;
  const hal::RouteTable* routes_ = nullptr;
  hal::base::RateLimitedLog data_log_;  // the only logging on the sample path
};

}  // namespace xflowd::agent::sflow
