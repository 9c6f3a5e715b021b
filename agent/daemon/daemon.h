// Daemon: the sFlow agent wired to a platform and to collectors, run by the event loop.
//
// Built from the configuration model (agent/config) and a Platform (the HAL interfaces of one
// back-end: the simulated switch today, Linux back-ends later): one Transport per collector, one
// Receiver, and for every port of the PortInventory an ingress Sampler (its rate programmed through
// SamplingControl; the rate the platform applied is the one reported) and a Poller.
// The loop drains the PacketSource into the agent, ticks the agent once a second and, for a
// simulator, advances its time every 10 ms. When the loop stops (signal, --duration, Stop()),
// what is queued is drained and the agent flushes. Every sample also goes to the top talkers, and
// the tick runs the self-check after the agent (docs/selfcheck.md).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/daemon/event_loop.h"
#include "agent/daemon/flow_probe.h"
#include "agent/daemon/self_check.h"
#include "agent/daemon/top_talkers.h"
#include "agent/sflow/agent.h"
#include "exporter/transport.h"
#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "hal/base/prng.h"
#include "hal/base/status.h"
#include "hal/counter_source.h"
#include "hal/packet_source.h"
#include "hal/port_inventory.h"
#include "hal/sampling_control.h"

namespace xflowd::agent::daemon {

// The HAL of one back-end. Nothing here is owned; everything must outlive the Daemon.
struct Platform {
  hal::PacketSource* packets = nullptr;      // required
  hal::SamplingControl* sampling = nullptr;  // null: the agent samples in software
  hal::CounterSource* counters = nullptr;    // required
  hal::PortInventory* ports = nullptr;       // required
  // For a simulator: called every advance_period with the clock's time so it makes the
  // traffic up to then. Empty for real back-ends.
  std::function<void(hal::base::MonoTime now)> advance;
  hal::base::Duration advance_period = hal::base::milliseconds(10);
  // Called once by Run() with the clock's time, just before the loop starts. A simulator
  // lets its links idle up to then: otherwise the traffic of the start-up time (making and
  // programming every port) would come out at the first advance, in one burst. May be empty.
  std::function<void(hal::base::MonoTime now)> start;
  // For logs and the summary: "simulated switch, 48 x 10G at 20% load".
  std::string description;
  // Kernel filters that cannot count what they reject (AF_PACKET, NFLOG): true for the ports
  // whose sample pool the platform supplies from interface counters
  // (SamplerConfig::external_pool). Empty: every pool comes from the samples.
  std::function<bool(uint32_t ifindex)> pool_from_counters;
};

using TransportFactory = std::function<hal::base::Result<std::unique_ptr<exporter::Transport>>(
    const hal::base::Endpoint& collector)>;

// What main leaves at the defaults and tests change.
struct DaemonSettings {
  EventLoopOptions loop;
  TransportFactory make_transport;           // empty: exporter::UdpTransport::Create
  FlowTransportFactory make_flow_transport;  // empty: UDP, or TCP for IPFIX over TCP
  SelfCheckConfig self_check;
  // software_rate 0: the configured sampling rate (1000 if it goes by link speed).
  TopTalkersConfig top_talkers;
};

class Daemon {
 public:
  // Control plane: every failure is a Status with a message for the user. No ports yet, or
  // ports that all refuse sampling, are warnings, not failures (see Init).
  static hal::base::Result<std::unique_ptr<Daemon>> Create(const config::Config& config,
                                                           const Platform& platform,
                                                           const hal::base::Clock& clock,
                                                           hal::base::Logger& logger,
                                                           DaemonSettings settings = {});
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Runs until SIGINT/SIGTERM, Stop() or --duration, then drains and flushes. An error only
  // if the event loop itself failed.
  hal::base::Result<StopReason> Run();
  void Stop() { loop_->Stop(); }

  // One paragraph of what happened (samples, datagrams, errors, per collector) for stderr.
  std::string Summary() const;

  sflow::Agent& agent() { return *agent_; }
  EventLoop& loop() { return *loop_; }
  const std::vector<std::unique_ptr<exporter::Transport>>& transports() const {
    return transports_;
  }
  // The NetFlow/IPFIX side, when -n collectors are configured (null otherwise).
  const FlowProbe* flow_probe() const { return flow_probe_.get(); }
  // `xflowctl check` and `xflowctl top`: updated by the tick; read them from the loop's thread.
  const SelfCheck& self_check() const { return *self_check_; }
  const TopTalkers& top_talkers() const { return *top_talkers_; }
  // Ports with a sampler whose rate could not be programmed (logged at start).
  uint32_t ports_without_sampling() const { return ports_without_sampling_; }

 private:
  Daemon(const config::Config& config, const Platform& platform, const hal::base::Clock& clock,
         hal::base::Logger& logger);
  hal::base::Status Init(DaemonSettings settings);
  hal::base::Status AddPort(const hal::PortInfo& port);
  void OnPortEvent(hal::PortEvent event, const hal::PortInfo& port);
  void OnTick(hal::base::MonoTime now);
  void DrainAll();

  config::Config config_;
  Platform platform_;
  const hal::base::Clock& clock_;
  hal::base::Logger& logger_;
  hal::base::RateLimitedLog send_error_log_;
  hal::base::Prng prng_;
  std::vector<std::unique_ptr<exporter::Transport>> transports_;
  std::vector<uint64_t> errors_seen_;  // send_errors per transport at the last tick
  std::unique_ptr<sflow::Agent> agent_;
  sflow::Receiver* receiver_ = nullptr;
  std::unique_ptr<EventLoop> loop_;
  // Samples go to the sFlow agent, the top talkers and, with -n collectors, the flow probe.
  class Tee final : public hal::PacketSampleSink {
   public:
    explicit Tee(std::vector<hal::PacketSampleSink*> sinks) : sinks_(std::move(sinks)) {}
    void OnSample(const hal::PacketSample& s) override {
      for (hal::PacketSampleSink* sink : sinks_) sink->OnSample(s);
    }

   private:
    std::vector<hal::PacketSampleSink*> sinks_;
  };
  std::unique_ptr<FlowProbe> flow_probe_;
  std::unique_ptr<SelfCheck> self_check_;
  std::unique_ptr<TopTalkers> top_talkers_;
  std::unique_ptr<Tee> tee_;
  hal::PacketSampleSink* sink_ = nullptr;  // the tee
  uint32_t ports_without_sampling_ = 0;
  uint32_t ports_rounded_ = 0;  // the platform applied another rate than asked
  std::string rounded_example_;
  bool listening_ = false;
  hal::base::MonoTime started_;
  hal::base::MonoTime stopped_;
  bool ran_ = false;
  bool running_ = false;  // in Run(): Summary() counts the time up to now
};

}  // namespace xflowd::agent::daemon
