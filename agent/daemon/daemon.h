// Daemon: the sFlow agent wired to a platform and to collectors, run by the event loop.
//
// Built from the configuration model (agent/config) and a Platform (the HAL interfaces of one
// back-end: the simulated switch, the Linux ports of --sample, or a host capture, -i, which feeds
// the flow probe only): one Transport per collector, one
// Receiver for them (plus the receivers SNMP managers claim, each with its own collector; a
// port's sampler and poller send to one receiver each, SetPortReceivers), and for every port of the
// PortInventory an ingress Sampler (its rate programmed through SamplingControl; the rate the
// platform applied is the one reported) and a Poller. The loop drains the PacketSource into the
// agent, ticks the agent once a second and, for a simulator, advances its time every 10 ms. When
// the loop stops (signal, --duration, Stop()), what is queued is drained and the agent flushes.
// Every sample also goes to the top talkers, and the tick runs the self-check after the agent
// (docs/selfcheck.md).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "agent/config/config.h"
#include "agent/daemon/event_loop.h"
#include "agent/daemon/flow_probe.h"
#include "agent/daemon/self_check.h"
#include "agent/daemon/top_talkers.h"
#include "agent/sflow/agent.h"
#include "agent/sflow/discard_notifier.h"
#include "exporter/transport.h"
#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "hal/base/prng.h"
#include "hal/base/status.h"
#include "hal/counter_source.h"
#include "hal/drop_source.h"
#include "hal/host/host_files.h"
#include "hal/host/host_reader.h"
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
  // Dropped-packet notifications for discard samples ([drops]); null: none.
  hal::DropSource* drops = nullptr;
  // /proc and /sys of the host, for the host counters (config host.*); null: none.
  hal::host::HostFiles* host_files = nullptr;
  // The platform's own periodic work, called every advance_period with the clock's time (and
  // once at stop): a simulator makes the traffic up to then, a capture reads its link events.
  // Empty for back-ends that need none.
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
  // Lines (each ending in a newline) the summary and SIGUSR1 start with: a capture's own
  // counters. May be empty.
  std::function<std::string()> summary;
  // The platform's own counters for `xflowctl stats`, as the object `stats_section` (name,
  // value pairs). May be empty.
  std::string stats_section;
  std::function<std::vector<std::pair<std::string, uint64_t>>()> stats;
  // A host capture (-i): every sample feeds the flow probe only. The daemon makes no samplers
  // or pollers and needs no agent address (no sFlow collector is allowed); the ports only name
  // the interfaces in the flow options data. The summary is the platform's and the probe's.
  bool flow_only = false;
  // The rate the source samples every packet at (-i --sampling), for the flow options data.
  uint32_t flow_sampling_rate = 1;
  // The kernel's routing table for the extended router record (ports with extended-router),
  // made on the first call (a route dump) and kept up to date by the platform on the loop
  // thread. Empty: the platform has none (the record is left out, with a warning).
  std::function<hal::base::Result<const hal::RouteTable*>()> route_table;
  // Flow meters on the platform's own threads, each with a partition of the flow cache (-i
  // with fanout workers, D58): the flow probe starts them and exports what they finish; the
  // PacketSource's Drain then hands records to the probe, not samples. Null: the probe meters
  // the samples on the loop thread.
  ExternalMeters* flow_meters = nullptr;
};
// Every hook above is called by the daemon, down into the platform; none calls up into the
// agent. What a back-end has to tell the agent travels with the samples
// (PacketSample::pool_added) or through the PortInventory's events.

// Makes the transport of one sFlow collector (its endpoint and send options).
using TransportFactory = std::function<hal::base::Result<std::unique_ptr<exporter::Transport>>(
    const config::SflowCollector& collector)>;

// Reads the configuration again for a reload (SIGHUP, `xflowctl reload`): the whole of it,
// validated (config::Validate). An error says where (file:line:column) and what.
using ConfigLoader = std::function<hal::base::Result<config::Config>()>;

// What main leaves at the defaults and tests change.
struct DaemonSettings {
  EventLoopOptions loop;
  TransportFactory make_transport;           // empty: exporter::UdpTransport::Create
  FlowTransportFactory make_flow_transport;  // empty: UDP, or TCP for IPFIX over TCP
  ConfigLoader loader;                       // empty: SIGHUP is logged and nothing reloads
  // Real time for the flow probe's transports (FlowProbeSettings::clock): with it, the exit
  // waits up to 2 s for what TCP collectors have not taken yet. Null (tests on a manual
  // clock): the probe's flow time, and no wait.
  const hal::base::Clock* flow_clock = nullptr;
  // software_rate 0: the configured sampling rate (1000 if it goes by link speed).
  TopTalkersConfig top_talkers;
};

// The outcome of the last reload, for the log and `xflowctl status`.
struct ReloadResult {
  bool attempted = false;            // false until the first reload
  hal::base::MonoTime time;          // the clock's time of the reload
  int64_t unix_ms = 0;               // the same as wall time
  hal::base::Status status;          // OK, or why nothing was applied (the old config runs on)
  std::vector<std::string> changes;  // what was applied, one line each; empty: no change
  // One line: "ok: no change", "ok: <change>; <change>", "failed: <error>".
  std::string Summary() const;
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

  // Control plane, on the loop thread between callbacks (never from a signal handler).
  // Applies only what differs between the running configuration and `next`, which the
  // caller has validated (docs/usage.md "Reload", docs/decisions.md D28): sFlow collectors and
  // flow exporters added or removed one by one (the others' sequence numbers, templates and
  // stats untouched), ports reprogrammed, started or stopped one by one (samplers and pollers
  // keep sequence numbers and pools), flow timeouts applied to the cached flows, the flow
  // cache flushed and remade only if its size or key changes, agent identity and datagram
  // size in place, the log level. The source, the seed and the duration cannot change
  // while running: such a reload is refused naming the setting, and so is one that would
  // leave no collector or no agent address. A refused or failed reload changes nothing.
  // Records the outcome (last_reload()) and logs it.
  hal::base::Status Reload(const config::Config& next);
  // Calls the ConfigLoader, then Reload. A loader error (or no loader) keeps the running
  // configuration; it is logged, recorded in last_reload() and returned, so `xflowctl reload`
  // can print it. SIGHUP runs this.
  hal::base::Status ReloadFromLoader();
  void set_config_loader(ConfigLoader loader) { loader_ = std::move(loader); }
  // Checks a reload's configuration against what this process can still do (after the
  // privilege drop: the capabilities it kept); an error refuses the reload. Empty: none.
  void set_reload_check(std::function<hal::base::Status(const config::Config&)> check) {
    reload_check_ = std::move(check);
  }
  // Called around each ReloadFromLoader: `begin` true before the configuration is read, false
  // once it is applied or refused (systemd's RELOADING=1 and READY=1). Empty: none.
  void set_reload_observer(std::function<void(bool begin)> observer) {
    reload_observer_ = std::move(observer);
  }
  // Adds what was set at run time (SNMP, docs/snmp.md) to each configuration the loader reads,
  // before ReloadFromLoader applies it. Empty: the loader's configuration as it is.
  using ConfigOverlay = std::function<void(config::Config* loaded)>;
  void set_config_overlay(ConfigOverlay overlay) { overlay_ = std::move(overlay); }
  const ReloadResult& last_reload() const { return last_reload_; }

  // Receivers beside the configuration's (SNMP's claimed sFlowRcvrTable rows, docs/snmp.md),
  // each an agent Receiver of its own: its datagrams, datagram sequence and size, one
  // collector. Ids are >= 1; kConfigReceiver names the configuration's receiver.
  static constexpr uint32_t kConfigReceiver = 0xFFFFFFFFu;
  struct ExtraReceiver {
    config::SflowCollector collector;
    std::unique_ptr<exporter::Transport> transport;
    sflow::Receiver* receiver = nullptr;
    uint64_t errors_seen = 0;
  };
  // Makes receiver `id` or points it at another collector / datagram size (what is pending is
  // sent first; its datagram sequence continues). An error (the transport) changes nothing.
  hal::base::Status SetExtraReceiver(uint32_t id, const config::SflowCollector& collector,
                                     uint32_t max_datagram_bytes);
  // Removes receiver `id`: it sends what is pending; the samplers and pollers sending to it go
  // idle.
  void RemoveExtraReceiver(uint32_t id);
  const std::map<uint32_t, ExtraReceiver>& extra_receivers() const { return extra_; }
  // Where a port's sampler and poller send: kConfigReceiver (the default for every port), an
  // extra receiver's id, or 0 (idle). Kept for ports that come, go or restart on reload.
  void SetPortReceivers(uint32_t ifindex, uint32_t sampler_id, uint32_t poller_id);
  // The receiver an id names now: null for 0, an unknown id, or the configuration's receiver
  // while the configuration has no sFlow collector.
  sflow::Receiver* ReceiverById(uint32_t id);
  // The id the port's sampler (or poller) is attached to by SetPortReceivers' rules.
  std::pair<uint32_t, uint32_t> PortReceivers(uint32_t ifindex) const;
  // The configuration running now (the last one a reload applied).
  const config::Config& config() const { return config_; }

  // Steps the daemon without its event loop, as one loop turn with a tick would: the
  // platform's traffic up to `now` (a simulator), every queued sample, then the 1 s tick. For
  // tests and benchmarks on a manual clock.
  void Step(hal::base::MonoTime now);

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
  // The host counters' reader (null: the platform has none, or host.enabled is false).
  const hal::host::HostReader* host_reader() const { return host_reader_.get(); }
  // Ports with a sampler whose rate could not be programmed (logged at start).
  uint32_t ports_without_sampling() const { return ports_without_sampling_; }

  // For the control socket (xflowctl): read-only views of the running daemon.
  const Platform& platform() const { return platform_; }
  const sflow::Agent& agent() const { return *agent_; }
  const EventLoop& loop() const { return *loop_; }
  const hal::base::Clock& clock() const { return clock_; }
  const hal::base::Logger& logger() const { return logger_; }
  // The platform's ports, enabled or not, by ifindex.
  const std::map<uint32_t, hal::PortInfo>& ports() const { return ports_; }
  // Seconds since Run() started (0 before).
  double uptime_s() const;
  // xflowctl flush: ends every flow in the cache now (end reason forced, as at exit) and sends
  // them. Records ended; 0 without flow collectors.
  uint64_t FlushFlows();
  // Discard samples ([drops] with a platform DropSource); null when off.
  const sflow::DiscardNotifier* discards() const { return discards_.get(); }

 private:
  Daemon(const config::Config& config, const Platform& platform, const hal::base::Clock& clock,
         hal::base::Logger& logger);
  hal::base::Status Init(DaemonSettings settings);
  hal::base::Status AddPort(const hal::PortInfo& port);
  // Programs the port's rate (platform rounding logged) and starts its sampler; an error
  // (logged) when the platform refuses: the port has no sampler then.
  // Starts a sampler for each direction the settings ask for that has none yet; the first
  // error, the other direction running on.
  hal::base::Status StartSampler(const hal::PortInfo& port, const config::PortSettings& settings);
  hal::base::Status StartSamplerIn(const hal::PortInfo& port, const config::PortSettings& settings,
                                   hal::Direction direction);
  // Asks the platform for 1-in-`wanted` on the port and direction; the rate it applied.
  hal::base::Result<uint32_t> ProgramRate(const hal::PortInfo& port, uint32_t wanted,
                                          uint32_t header_bytes,
                                          hal::Direction direction = hal::Direction::kIngress);
  // Ends the sampler of one direction and turns that direction's sampling off.
  void StopSampler(const hal::PortInfo& port, hal::Direction direction);
  // ReloadPorts for one direction of one port: starts, stops or reprograms its sampler.
  void ReloadSampler(const hal::PortInfo& port, const config::PortSettings& was,
                     const config::PortSettings& now, hal::Direction direction, bool shared,
                     std::vector<std::string>* rates, std::vector<std::string>* refused);
  // Ends the port's sampler and poller and turns its sampling off (a port disabled by reload).
  void StopPort(const hal::PortInfo& port);
  sflow::SamplerConfig SamplerConfigFor(const hal::PortInfo& port,
                                        const config::PortSettings& settings, uint32_t rate) const;
  sflow::PollerConfig PollerConfigFor(const config::PortSettings& settings) const;
  hal::base::Status StartFlowProbe();
  // The flow options data name every port the platform has now.
  void NameFlowInterfaces();
  hal::base::Status ReloadFromLoaderNow();
  hal::base::Status ApplyReload(const config::Config& next, std::vector<std::string>* changes);
  void ReloadCollectors(const config::Config& next,
                        std::map<std::string, std::unique_ptr<exporter::Transport>> made,
                        std::vector<std::string>* changes);
  void ReloadPorts(const config::Config& old, std::vector<std::string>* changes);
  void RecordReload(hal::base::Status status, std::vector<std::string> changes);
  void OnPortEvent(hal::PortEvent event, const hal::PortInfo& port);
  void OnTick(hal::base::MonoTime now);
  // Reads back what the collector refused, and reports new send errors (rate-limited).
  void PollTransport(hal::base::MonoTime now, exporter::Transport& transport,
                     uint64_t* errors_seen);
  void DrainAll();
  // Starts, reconfigures or stops the host counters' poller per config_.host (agent/sflow/
  // host_poller.h). Returns a line for the reload's changes, empty if nothing changed.
  std::string ApplyHostCounters(const config::Config* old);
  // Attaches every sampler and poller to the receiver port_receivers_ names.
  void AttachPorts();
  // Discard samples (agent/daemon/discards.cc): start with the loop, reload, summary line.
  hal::base::Status StartDiscards();
  void ReloadDiscards(const config::Config& old, std::vector<std::string>* changes);
  void DrainDiscards();
  std::string DiscardSummary() const;

  config::Config config_;
  Platform platform_;
  const hal::base::Clock& clock_;
  hal::base::Logger& logger_;
  hal::base::RateLimitedLog send_error_log_;
  hal::base::Prng prng_;
  std::vector<std::unique_ptr<exporter::Transport>> transports_;
  std::vector<uint64_t> errors_seen_;  // send_errors per transport at the last tick
  std::unique_ptr<sflow::Agent> agent_;
  std::unique_ptr<hal::host::HostReader> host_reader_;
  sflow::Receiver* receiver_ = nullptr;
  std::unique_ptr<EventLoop> loop_;
  // Samples go to the sFlow agent, the top talkers and, with flow collectors, the flow probe.
  // The loop holds this sink for good; a reload only changes where it forwards.
  class Fanout final : public hal::PacketSampleSink {
   public:
    // `agent` null: a flow-only platform (nothing to sample for sFlow).
    Fanout(hal::PacketSampleSink* agent, hal::PacketSampleSink& talkers)
        : agent_(agent), talkers_(talkers) {}
    void OnSample(const hal::PacketSample& s) override {
      if (agent_ != nullptr) agent_->OnSample(s);
      talkers_.OnSample(s);
      // Ingress samples only: with both directions sampled, a packet could be metered once
      // where it enters and again where it leaves (decisions.md D37).
      if (probe_ != nullptr && s.direction == hal::Direction::kIngress) probe_->OnSample(s);
    }
    void set_probe(hal::PacketSampleSink* probe) { probe_ = probe; }

   private:
    hal::PacketSampleSink* agent_;
    hal::PacketSampleSink& talkers_;
    hal::PacketSampleSink* probe_ = nullptr;
  };
  std::unique_ptr<FlowProbe> flow_probe_;
  std::unique_ptr<sflow::DiscardNotifier> discards_;
  std::unique_ptr<SelfCheck> self_check_;
  std::unique_ptr<TopTalkers> top_talkers_;
  std::unique_ptr<Fanout> fanout_;
  FlowTransportFactory make_flow_transport_;
  const hal::base::Clock* flow_clock_ = nullptr;
  TransportFactory make_transport_;
  std::vector<std::string> transport_keys_;  // the collector (Endpoint::ToString) of each
  std::map<uint32_t, hal::PortInfo> ports_;  // the platform's ports, enabled or not
  ConfigLoader loader_;
  std::function<hal::base::Status(const config::Config&)> reload_check_;
  std::function<void(bool begin)> reload_observer_;
  ConfigOverlay overlay_;
  std::map<uint32_t, ExtraReceiver> extra_;
  std::map<uint32_t, std::pair<uint32_t, uint32_t>> port_receivers_;  // (sampler, poller) ids
  ReloadResult last_reload_;
  uint32_t ports_without_sampling_ = 0;
  // The route table is asked for once (the first port with extended-router, or a reload that
  // turns it on); a failure is logged once and asked again at the next reload.
  bool EnsureRouteTable();
  bool route_table_failed_ = false;
  uint32_t ports_rounded_ = 0;  // the platform applied another rate than asked
  std::string rounded_example_;
  bool listening_ = false;
  hal::base::MonoTime started_;
  hal::base::MonoTime stopped_;
  bool ran_ = false;
  bool running_ = false;  // in Run(): Summary() counts the time up to now
};

}  // namespace xflowd::agent::daemon
