// FlowProbe: the NetFlow/IPFIX side of the daemon. Packets (every packet of a host probe, or
// the sFlow samples of a switch) go through a FlowMeter into the flow cache; finished flows go
// to one FlowExporter per -n collector, each with its own transport, version, templates and
// sequence numbers.
//
// Two clocks, kept apart here so the meter and exporters each see one:
//  - flow time: what ages flows. Live: the monotonic clock. Replaying a file: packet time,
//    so idle gaps and long flows inside a file split exactly as they would live.
//  - Unix ms: what records and message headers carry. Live: wall time, taken as monotonic
//    time + (wall - monotonic at start). File: packet time is already Unix time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/daemon/external_meters.h"
#include "agent/flow/flow_meter.h"
#include "exporter/netflow/flow_exporter.h"
#include "exporter/transport.h"
#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "hal/base/status.h"
#include "hal/base/time.h"
#include "hal/packet_sample.h"
#include "hal/packet_source.h"

namespace xflowd::agent::daemon {

using FlowTransportFactory = std::function<hal::base::Result<std::unique_ptr<exporter::Transport>>(
    const config::FlowCollector&)>;

struct FlowProbeSettings {
  // Flow time -> Unix ms: 0 for packet time, wall - monotonic for live input.
  int64_t unix_offset_ms = 0;
  // Unix ms the exporter started (sysUptime base, IPFIX systemInitTimeMilliseconds).
  uint64_t system_init_unix_ms = 0;
  // 1 = every packet; N = the source samples 1 in N at random (host probe --sampling).
  uint32_t sampling_rate = 1;
  // Empty: UDP (exporter::UdpTransport), or IPFIX over TCP (exporter::TcpTransport), both
  // logging their state changes to the probe's logger.
  FlowTransportFactory make_transport;
  // Real monotonic time for transports' Poll (TCP connects and backoff, UDP ICMP errors): a
  // replay's packet time runs far faster than the collector's. Null: the flow time of Tick.
  const hal::base::Clock* clock = nullptr;
  // Meters on other threads, each with a partition of the cache (the live probe's fanout
  // workers, D58): the probe makes no meter of its own, starts these and exports what they
  // finish. Must outlive the probe. Null: one meter on the calling thread.
  ExternalMeters* external_meters = nullptr;
};

// What a capture replay did, for the summary and the tests.
struct FileRunStats {
  uint64_t samples = 0;
  uint64_t ticks = 0;
  hal::base::MonoTime first;  // packet time of the first and last packet (Unix ns)
  hal::base::MonoTime last;
};

class FlowProbe final : public hal::PacketSampleSink {
 public:
  static hal::base::Result<std::unique_ptr<FlowProbe>> Create(const config::FlowConfig& config,
                                                              const FlowProbeSettings& settings,
                                                              hal::base::Logger& logger);
  FlowProbe(const FlowProbe&) = delete;
  FlowProbe& operator=(const FlowProbe&) = delete;

  // Data plane: one packet into the flow cache.
  void OnSample(const hal::PacketSample& sample) override;

  // Ends the flows whose timeouts passed at flow time `now`, then lets every exporter send
  // what is pending and refresh templates when due. Call once a second.
  void Tick(hal::base::MonoTime now);
  // Ends every flow (end reason 4) and sends everything. The probe stays usable.
  void Finish(hal::base::MonoTime now);
  // Finish on request while running (xflowctl flush, like softflowctl expire-all): counted in
  // flushes(). Returns the records ended (already timed-out flows keep their own reason).
  uint64_t ExpireAll(hal::base::MonoTime now);
  uint64_t flushes() const { return flushes_; }

  // Replays a source that is not pollable (a capture file) until `done()`: drains it as fast
  // as it reads, ticks once per second of packet time, and finishes at the last packet's time.
  FileRunStats RunToEnd(hal::PacketSource& source, const std::function<bool()>& done);
  // The same on two threads (FlowPipeline): `source` is read and parsed on a reader thread
  // until `source_done()` (called there); the cache and the exporters stay on this thread,
  // which calls `between()` now and then (signals, progress). Same records as RunToEnd.
  // samples_so_far, if given, follows the samples read (for progress reports).
  FileRunStats RunToEndPipelined(
      hal::PacketSource& source, const std::function<bool()>& source_done,
      const std::function<void()>& between,
      const std::function<void(std::function<uint64_t()>)>& progress = nullptr);

  // Control plane, for a replay: polls the collectors' transports until all are up (true) or
  // `timeout` of real time passed, so the send buffer of a TCP collector does not fill while
  // it connects; at the end (`until_empty`), until nothing waits unsent. Sleeps; not for the
  // live loop. Without a clock, polls once.
  bool WaitForStreams(hal::base::Duration timeout, bool until_empty);

  // True when records to any collector were lost: in messages the transport refused, messages
  // lost after sending (ICMP refusal, lost connection) or still unsent now.
  bool RecordsLost() const;

  // Interface names for the options data (IPFIX IE 82 / v9 field 82).
  void SetInterfaceNames(const std::vector<exporter::netflow::InterfaceName>& names);
  const std::vector<exporter::netflow::InterfaceName>& interface_names() const { return names_; }

  // Control plane (reload, docs/decisions.md D28): applies `next` against the running
  // configuration at flow time `now`, touching only what differs:
  //  - a collector added, removed or changed (version, TCP): that exporter alone is made or
  //    ended (its pending records sent first); the others keep their sequence numbers and
  //    templates;
  //  - timeouts and tcp_end: applied to the flows already in the cache (FlowCache::SetTimeouts);
  //  - cache size or key fields (MACs, MPLS): every flow is exported (forced end) and a new
  //    cache of the new size is made; the counters carry on;
  //  - datagram size, observation domain, template refresh or key fields: every exporter is
  //    rebuilt on its transport (fresh templates; sequence numbers restart, as for a new
  //    exporting process).
  // The transports of new collectors are made first: if one fails, nothing changed and the
  // error is returned. `next` must have a collector. One line per change goes to `changes`.
  hal::base::Status Reload(const config::FlowConfig& next, hal::base::MonoTime now,
                           std::vector<std::string>* changes);

  // "flows: 1234 records (idle 1000, active 3, end 200, forced 31, evicted 0) to 2
  // collectors; ..." for the exit summary.
  std::string Summary() const;

  // The current meter (a reload that resizes the cache makes a new one). Only without
  // external meters (has_meter()).
  bool has_meter() const { return meter_ != nullptr; }
  const agent::flow::FlowMeter& meter() const { return *meter_; }
  // The cache, whichever meters hold it: flows cached now, capacity, bytes allocated.
  uint64_t cached_flows() const;
  uint64_t cache_capacity() const;
  size_t cache_memory_bytes() const;
  // The meter's counters, including those of the meters a reload replaced.
  agent::flow::FlowMeterStats meter_stats() const;
  const config::FlowConfig& config() const { return config_; }
  const std::vector<std::unique_ptr<exporter::netflow::FlowExporter>>& exporters() const {
    return exporters_;
  }
  const std::vector<std::unique_ptr<exporter::Transport>>& transports() const {
    return transports_;
  }

 private:
  FlowProbe(const config::FlowConfig& config, const FlowProbeSettings& settings,
            hal::base::Logger& logger);
  uint64_t UnixMs(hal::base::MonoTime flow_time) const;
  hal::base::Result<std::unique_ptr<exporter::Transport>> MakeTransport(
      const config::FlowCollector& collector);
  // An exporter for `collector` on `transport`, with the options of `config`.
  hal::base::Result<std::unique_ptr<exporter::netflow::FlowExporter>> MakeExporter(
      const config::FlowCollector& collector, const config::FlowConfig& config,
      exporter::Transport& transport);
  std::unique_ptr<agent::flow::FlowMeter> MakeMeter(const config::FlowConfig& config) const;
  static agent::flow::FlowMeterOptions MeterOptions(const config::FlowConfig& config);
  // Finish (stop: external meters meter nothing more) and ExpireAll.
  void FlushAll(hal::base::MonoTime now, bool stop);
  // Records of external meters into the exporters; message headers never older than them.
  class ExportSink final : public exporter::netflow::FlowRecordSink {
   public:
    explicit ExportSink(FlowProbe& p) : p_(p) {}
    void OnFlow(const exporter::netflow::FlowRecord& r) override;

   private:
    FlowProbe& p_;
    uint64_t unix_ms_ = 0;
  };

  config::FlowConfig config_;
  FlowProbeSettings settings_;
  hal::base::Logger& logger_;
  std::vector<config::FlowCollector> collectors_;  // of each exporter, in the same order
  std::vector<std::unique_ptr<exporter::Transport>> transports_;
  std::vector<std::unique_ptr<exporter::netflow::FlowExporter>> exporters_;
  std::vector<exporter::netflow::InterfaceName> names_;
  agent::flow::FlowMeterStats earlier_;  // meters a reload replaced
  std::unique_ptr<exporter::netflow::ExporterSet> set_;
  std::unique_ptr<agent::flow::FlowMeter> meter_;
  hal::base::MonoTime first_;   // first sample's time (flow time)
  hal::base::MonoTime latest_;  // newest sample time seen (flow time)
  bool seen_sample_ = false;
  uint64_t flushes_ = 0;
  ExportSink export_sink_{*this};
};

}  // namespace xflowd::agent::daemon
