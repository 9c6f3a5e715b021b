// A vendor ASIC plugin (hal/vendor/include/xflowd/vendor_abi.h) as one more back-end behind the
// HAL interfaces: VendorPlugin loads the shared object and checks its table (ABI major, table
// size, every function there); VendorBackend runs it as the PacketSource, SamplingControl,
// CounterSource and PortInventory of a switch (docs/porting.md "Vendor ASIC plugins").
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "hal/base/status.h"
#include "hal/counter_source.h"
#include "hal/packet_source.h"
#include "hal/port_inventory.h"
#include "hal/sampling_control.h"
#include "xflowd/vendor_abi.h"

namespace xflowd::hal::vendor {

// OK if xflowd can use `table`: the same ABI major as xflowd's, a table at least as large as
// that major's first one, and every function of it set. The error names what is wrong and
// what to do ("built for ABI 2.0, this xflowd speaks 1.x: rebuild the plugin against ...").
base::Status CheckPluginTable(const xfv_plugin* table);

// A loaded shared object and its checked table; dlclose when it goes.
class VendorPlugin {
 public:
  // dlopen(path), dlsym(XFV_ENTRY_SYMBOL), CheckPluginTable. Errors name the path.
  static base::Result<std::unique_ptr<VendorPlugin>> Load(const std::string& path);
  ~VendorPlugin();
  VendorPlugin(const VendorPlugin&) = delete;
  VendorPlugin& operator=(const VendorPlugin&) = delete;

  const xfv_plugin* table() const { return table_; }
  const std::string& path() const { return path_; }

 private:
  VendorPlugin(void* handle, const xfv_plugin* table, std::string path)
      : handle_(handle), table_(table), path_(std::move(path)) {}
  void* handle_;
  const xfv_plugin* table_;
  std::string path_;
};

struct VendorStats {
  uint64_t sequence_gaps = 0;          // samples the plugin numbered but never delivered
  uint64_t bad_samples = 0;            // dropped: bad direction, rate 0, header longer than frame
  uint64_t untracked_sessions = 0;     // samples of more sessions than the gap table holds
  uint64_t port_events = 0;            // added / removed / changed, as the plugin reported them
  uint64_t poll_errors = 0;            // poll() returned an error
  uint64_t rate_readback_differs = 0;  // get_sampling_rate disagreed with set's applied rate
};

class VendorBackend final : public PacketSource,
                            public SamplingControl,
                            public CounterSource,
                            public PortInventory {
 public:
  // Checks `table`, calls its init with `options`. `plugin` (may be null: a table linked in, as
  // the tests do) is kept loaded until after fini. The clock stamps samples the plugin leaves
  // unstamped. `logger` receives the plugin's log lines and must outlive the backend.
  static base::Result<std::unique_ptr<VendorBackend>> Create(std::unique_ptr<VendorPlugin> plugin,
                                                             const xfv_plugin* table,
                                                             const std::string& options,
                                                             const base::Clock& clock,
                                                             base::Logger& logger);
  ~VendorBackend() override;  // fini, then dlclose
  VendorBackend(const VendorBackend&) = delete;
  VendorBackend& operator=(const VendorBackend&) = delete;

  // PacketSource. Drain hands samples on; port events wait for DeliverPortEvents.
  int fd() const override { return fd_; }
  size_t Drain(PacketSampleSink& sink, size_t budget) override;
  PacketSourceStats stats() const override { return stats_; }

  // SamplingControl: set, then read back; the read-back rate is the one reported.
  base::Result<uint32_t> SetSamplingRate(uint32_t ifindex, Direction direction, uint32_t rate,
                                         uint32_t header_bytes) override;
  // CounterSource: NOT_FOUND if the port is gone.
  base::Result<PortCounters> ReadCounters(uint32_t ifindex) override;
  // PortInventory.
  base::Result<std::vector<PortInfo>> ListPorts() override;
  void SetListener(Listener listener) override { listener_ = std::move(listener); }

  // Hands the port events Drain collected to the listener (the daemon's advance hook: between
  // loop callbacks, never in the middle of a drain). Events past kMaxPendingEvents before
  // that are counted in port_events_lost and logged.
  void DeliverPortEvents();

  const VendorStats& vendor_stats() const { return vstats_; }
  uint64_t port_events_lost() const { return events_lost_; }
  // "name version (path)" for logs and the summary.
  std::string Description() const;
  // Lines for the summary (each ending in a newline).
  std::string Summary() const;

  static constexpr size_t kMaxPendingEvents = 256;
  static constexpr size_t kSessionSlots = 4096;  // (ifindex, direction) pairs whose gaps count

 private:
  VendorBackend(std::unique_ptr<VendorPlugin> plugin, const xfv_plugin* table,
                const base::Clock& clock, base::Logger& logger);
  static void OnSampleThunk(void* arg, const xfv_sample* sample);
  static void OnPortEventThunk(void* arg, uint32_t event, const xfv_port* port);
  static void OnLogThunk(void* arg, int level, const char* message);
  void OnSample(const xfv_sample& s);
  void CountGap(uint32_t ifindex, uint32_t direction, uint32_t sequence);
  base::Status Error(const char* call, int rc, const std::string& what) const;

  std::unique_ptr<VendorPlugin> plugin_;
  const xfv_plugin* table_;
  const base::Clock& clock_;
  base::Logger& logger_;
  xfv_host host_{};
  void* ctx_ = nullptr;
  int fd_ = -1;
  PacketSampleSink* sink_ = nullptr;  // during Drain
  PacketSourceStats stats_;
  VendorStats vstats_;
  Listener listener_;
  struct PendingEvent {
    PortEvent event;
    PortInfo port;
  };
  std::vector<PendingEvent> pending_;
  uint64_t events_lost_ = 0;
  uint64_t events_lost_logged_ = 0;
  struct Session {
    uint64_t key = 0;  // ifindex * 2 + direction + 1; 0 = free
    uint32_t last_sequence = 0;
  };
  std::vector<Session> sessions_;  // open addressing, sized at Create
};

}  // namespace xflowd::hal::vendor
