// OvsPlatform: the daemon::Platform of an Open vSwitch host (docs/ovs.md), built on an OVSDB
// client (hal/ovs) and a UDP listener for the sFlow OVS sends.
//
//   PortInventory   the Interfaces of the selected bridges that have a kernel ifindex, from
//                   OVSDB's Bridge/Port/Interface tables (monitored: ports that come and go
//                   are followed; after an OVSDB restart the new monitor reply is compared
//                   with what was there, so only real differences become events).
//   CounterSource   each Interface's statistics column (ovs-vswitchd refreshes it every
//                   stats-update-interval, 5 s by default); docs/decisions.md D47.
//   SamplingControl one sFlow row per bridge: targets = this platform's listener
//                   (127.0.0.1:ephemeral), sampling = the lowest rate asked for the bridge's
//                   ports (OVS samples per bridge), header, polling 0; marked in
//                   external_ids:xflowd. The applied rate is read back from OVSDB. A bridge
//                   whose row xflowd did not make is left alone (its ports get no sampler).
//                   Rows marked as xflowd's on bridges it does not sample (a run killed
//                   with SIGKILL) are removed at start; the rows it made go at exit.
//   PacketSource    the listener: OVS's sFlow datagrams decoded with exporter/sflow's decoder;
//                   each flow sample becomes a PacketSample of its input port at OVS's rate.
//                   OVS samples per bridge (one data source, one sequence and pool for all its
//                   ports), so the gaps in its sequence are counted here (source drops), and
//                   each port's pool grows by the rate per sample (D48). fd() is an epoll over
//                   the listener and the OVSDB socket, so OVSDB updates are handled on the
//                   loop too.
//
// Threading: the event loop thread only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "agent/config/config.h"
#include "agent/daemon/daemon.h"
#include "agent/ovs/ovs_samples.h"
#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "hal/base/status.h"
#include "hal/counter_source.h"
#include "hal/ovs/ovsdb_client.h"
#include "hal/packet_source.h"
#include "hal/port_inventory.h"
#include "hal/sampling_control.h"

namespace xflowd::agent::ovs {

// The external_ids key that marks an sFlow row as xflowd's.
constexpr char kOwnerKey[] = "xflowd";

struct OvsPlatformStats {
  uint64_t row_writes = 0;  // sFlow row transactions
  uint64_t row_errors = 0;  // sFlow row transactions that failed
  uint64_t stale_rows_removed = 0;
};

class OvsPlatform final : public hal::PortInventory,
                          public hal::CounterSource,
                          public hal::SamplingControl,
                          public hal::PacketSource {
 public:
  static hal::base::Result<std::unique_ptr<OvsPlatform>> Create(
      const config::OvsSourceConfig& options, const hal::base::Clock& clock,
      hal::base::Logger& logger);
  ~OvsPlatform() override;  // removes the sFlow rows it made
  OvsPlatform(const OvsPlatform&) = delete;
  OvsPlatform& operator=(const OvsPlatform&) = delete;

  daemon::Platform platform();

  // PortInventory
  hal::base::Result<std::vector<hal::PortInfo>> ListPorts() override;
  void SetListener(Listener listener) override { listener_ = std::move(listener); }
  // CounterSource
  hal::base::Result<hal::PortCounters> ReadCounters(uint32_t ifindex) override;
  // SamplingControl: ingress only.
  hal::base::Result<uint32_t> SetSamplingRate(uint32_t ifindex, hal::Direction direction,
                                              uint32_t rate, uint32_t header_bytes) override;
  // PacketSource
  int fd() const override { return epoll_fd_; }
  size_t Drain(hal::PacketSampleSink& sink, size_t budget) override;
  hal::PacketSourceStats stats() const override;

  // The loop's periodic work: reconnects OVSDB, follows its changes.
  void Advance(hal::base::MonoTime now);
  uint16_t listen_port() const { return listen_port_; }
  const OvsPlatformStats& ovs_stats() const { return stats_; }
  const hal::ovs::OvsdbClient& client() const { return *client_; }
  // Lines for the summary and SIGUSR1.
  std::string Summary() const;
  // The same counters by name, for `xflowctl stats` (section "ovs").
  std::vector<std::pair<std::string, uint64_t>> Counters() const;

  const OvsSampleTranslator& samples() const { return samples_; }

 private:
  struct Port {
    hal::PortInfo info;
    std::string interface_uuid;
    std::string bridge_uuid;
    hal::PortCounters counters;
  };
  struct Bridge {
    std::string name;
    std::map<uint32_t, uint32_t> wanted;  // ifindex -> rate asked
    uint32_t header_bytes = 128;
    uint32_t applied = 0;
    std::string own_row;  // uuid of the row xflowd wrote, "" if none
  };
  OvsPlatform(const config::OvsSourceConfig& options, const hal::base::Clock& clock,
              hal::base::Logger& logger);
  hal::base::Status Init();
  bool Selected(const std::string& bridge_name) const;
  // Brings ports_ in step with the model; events to the listener. Re-applies the rows after a
  // re-sync.
  void Sync();
  std::map<uint32_t, Port> PortsFromModel() const;
  // Writes (or removes) the bridge's row so it samples at the lowest wanted rate.
  hal::base::Result<uint32_t> ApplyBridge(const std::string& bridge_uuid);
  void RemoveStaleRows();
  void RemoveOwnRows();
  void WatchClient();
  // The translator learns which ifindexes are ports.
  void SharePorts();

  config::OvsSourceConfig options_;
  const hal::base::Clock& clock_;
  hal::base::Logger& logger_;
  OvsSampleTranslator samples_;
  std::unique_ptr<hal::ovs::OvsdbClient> client_;
  int epoll_fd_ = -1;
  int udp_fd_ = -1;
  int watched_client_fd_ = -1;
  uint16_t listen_port_ = 0;
  std::string target_;  // "127.0.0.1:port"
  Listener listener_;
  std::map<uint32_t, Port> ports_;
  std::map<std::string, Bridge> bridges_;  // by bridge uuid
  uint64_t seen_changes_ = 0;
  uint64_t seen_generation_ = 0;
  std::set<std::string> foreign_warned_;
  OvsPlatformStats stats_;
};

}  // namespace xflowd::agent::ovs
