// LinuxPlatform: the daemon::Platform of a Linux host or switch, built from the Linux
// back-ends and the --sample patterns.
//
//   PortInventory   rtnetlink links filtered by the patterns (FilteredPortInventory): links
//                   that appear, go or are renamed are followed without a restart.
//   CounterSource   rtnetlink IFLA_STATS64 (RtnlCounterSource); speed from ethtool.
//   PacketSource    MultiPacketSource over: one AF_PACKET socket per afpacket port, one
//                   NFLOG socket per nflog port (groups nflog_group, +1, ...), one PSAMPLE
//                   socket for every psample port, and the rtnetlink event socket.
//   SamplingControl this class, routing by the port's back-end: afpacket (re)opens the port's
//                   socket with the new in-kernel 1-in-N filter; psample programs tc matchall
//                   + sample (TcSamplingControl); nflog opens the group and installs the nft
//                   rule (NftSamplingRule). Each direction on its own: an egress AF_PACKET
//                   socket sees only the frames the port sends (PACKET_OUTGOING), an ingress
//                   one ignores them; tc egress filters send to group G + 1; nflog egress
//                   uses the netdev egress hook (kernel 5.16+) with a group of its own.
//
// Sample pool: AF_PACKET and NFLOG filters drop what they do not sample without counting it,
// so for those ports the pool is the interface's received-packet counter delta
// (hal/afpacket/sample_pool.h): the platform reads the port's counters right before each
// Drain of that port's socket (at most every 10 ms) and hands the delta with the next sample
// of the port (PacketSample::pool_added, for a sampler with SamplerConfig::external_pool), so
// the platform never calls into the agent. Samples in the ring were taken
// before the read, so the pool a flow sample carries covers every packet up to it. PSAMPLE
// ports keep the hardware pool (rate x (1 + sequence gap)).
//
// Threading: the event loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/daemon/daemon.h"
#include "agent/linux/multi_packet_source.h"
#include "agent/linux/port_filter.h"
#include "hal/afpacket/afpacket_source.h"
#include "hal/afpacket/sample_pool.h"
#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "hal/base/status.h"
#include "hal/counter_source.h"
#include "hal/packet_source.h"
#include "hal/port_inventory.h"
#include "hal/route_table.h"
#include "hal/rtnl/rtnl_route_feed.h"
#include "hal/sampling_control.h"

namespace xflowd::agent::os_linux {

// The platform's own part of the configuration model.
using LinuxPlatformOptions = config::LinuxSourceConfig;

// Something to keep alive while a port is sampled (an nft rule); its destructor undoes it.
class Installed {
 public:
  virtual ~Installed() = default;
};

// The kernel-facing pieces. Create() fills them with the real back-ends; tests with fakes.
struct LinuxBackends {
  hal::PortInventory* ports = nullptr;     // every link; required, not owned
  hal::CounterSource* counters = nullptr;  // required, not owned
  int port_events_fd = -1;                 // readable when process_port_events has work
  std::function<void()> process_port_events;
  std::function<hal::base::Result<std::unique_ptr<hal::PacketSource>>(
      const hal::afpacket::AfPacketOptions&)>
      open_afpacket;
  // Empty when the build lacks the back-end (the port then fails with UNIMPLEMENTED).
  std::function<hal::base::Result<std::unique_ptr<hal::PacketSource>>()> open_psample;
  std::function<hal::base::Result<std::unique_ptr<hal::SamplingControl>>()> open_tc;
  std::function<hal::base::Result<std::unique_ptr<hal::PacketSource>>(
      uint16_t group, uint32_t rate, uint32_t header_bytes, hal::Direction direction)>
      open_nflog;
  std::function<hal::base::Result<std::unique_ptr<Installed>>(
      const std::string& device, uint32_t rate, uint16_t group, uint32_t header_bytes,
      hal::Direction direction)>
      install_nft;
  // The routing table's feed: dumps table `table_id` into `table`, then follows its events.
  // Empty: no routes (ports with extended-router go without the record, with a warning).
  std::function<hal::base::Result<std::unique_ptr<hal::rtnl::RtnlRouteFeed>>(
      uint32_t table_id, hal::RouteTable& table)>
      open_routes;
};

class LinuxPlatform final : public hal::SamplingControl {
 public:
  // The real back-ends, in the calling thread's network namespace. Needs CAP_NET_ADMIN and
  // CAP_NET_RAW.
  static hal::base::Result<std::unique_ptr<LinuxPlatform>> Create(
      const LinuxPlatformOptions& options, const hal::base::Clock& clock,
      hal::base::Logger& logger);
  // With given back-ends (tests).
  static hal::base::Result<std::unique_ptr<LinuxPlatform>> CreateWith(
      const LinuxPlatformOptions& options, LinuxBackends backends, const hal::base::Clock& clock,
      hal::base::Logger& logger);
  ~LinuxPlatform() override;
  LinuxPlatform(const LinuxPlatform&) = delete;
  LinuxPlatform& operator=(const LinuxPlatform&) = delete;

  // For the Daemon; valid while this object lives.
  daemon::Platform platform();

  // Rate 0 stops sampling the port in that direction. Returns the rate applied.
  hal::base::Result<uint32_t> SetSamplingRate(uint32_t ifindex, hal::Direction direction,
                                              uint32_t rate, uint32_t header_bytes) override;

  MultiPacketSource& packets() { return *packets_; }
  FilteredPortInventory& ports() { return *ports_; }
  // Reads the interface counters of an afpacket/nflog port (at most every 10 ms unless
  // `force`) and returns the packets its sample pool grew by since the last read. Done before
  // each Drain of its socket; the growth goes out with the next sample (pool_added).
  uint64_t RefreshPool(uint32_t ifindex, bool force,
                       hal::Direction direction = hal::Direction::kIngress);
  // The NFLOG group of an nflog port's direction, -1 if none.
  int NflogGroupOf(uint32_t ifindex, hal::Direction direction = hal::Direction::kIngress) const;
  // The routing table (options.route_table), dumped on the first call; its route events are
  // applied from then on, on the loop thread (a watch in packets()).
  hal::base::Result<const hal::RouteTable*> Routes();
  // Null until Routes() succeeded.
  const hal::rtnl::RtnlRouteFeed* route_feed() const { return route_feed_.get(); }

  static constexpr MultiPacketSource::Key kPsampleKey = 1ull << 40;
  static constexpr MultiPacketSource::Key kLinkEventsKey = 2ull << 40;
  static constexpr MultiPacketSource::Key kRouteEventsKey = 3ull << 40;
  static MultiPacketSource::Key AfPacketKey(uint32_t ifindex,
                                            hal::Direction d = hal::Direction::kIngress) {
    return (d == hal::Direction::kEgress ? 4ull << 32 : 0) | ifindex;
  }
  static MultiPacketSource::Key NflogKey(uint32_t ifindex,
                                         hal::Direction d = hal::Direction::kIngress) {
    return (d == hal::Direction::kEgress ? 5ull << 32 : 1ull << 32) | ifindex;
  }

 private:
  // One direction of a port: its sampling and its pool.
  struct DirState {
    explicit DirState(hal::Direction d) : pool(d) {}
    uint32_t rate = 0;
    bool pool_started = false;
    hal::afpacket::InterfacePool pool;
    hal::base::MonoTime last_refresh;
    int nflog_group = -1;
    std::unique_ptr<Installed> nft_rule;
  };
  struct PortState {
    config::SampleBackend backend = config::SampleBackend::kAfPacket;
    DirState dir[2] = {DirState(hal::Direction::kIngress), DirState(hal::Direction::kEgress)};
  };
  LinuxPlatform(const LinuxPlatformOptions& options, LinuxBackends backends,
                const hal::base::Clock& clock, hal::base::Logger& logger);
  hal::base::Status Init();
  // Adds an afpacket/nflog port's source; its samples carry the port's pool growth.
  hal::base::Status AddPooled(MultiPacketSource::Key key, uint32_t ifindex,
                              hal::Direction direction, std::unique_ptr<hal::PacketSource> source);
  void Release(const hal::PortInfo& port, config::SampleBackend backend);
  void StartPool(uint32_t ifindex, DirState& st);
  hal::base::Result<uint32_t> SetAfPacket(const hal::PortInfo& port, hal::Direction direction,
                                          DirState& st, uint32_t rate, uint32_t header_bytes);
  hal::base::Result<uint32_t> SetPsample(const hal::PortInfo& port, hal::Direction direction,
                                         uint32_t rate, uint32_t header_bytes);
  hal::base::Result<uint32_t> SetNflog(const hal::PortInfo& port, hal::Direction direction,
                                       DirState& st, uint32_t rate, uint32_t header_bytes);

  LinuxPlatformOptions options_;
  LinuxBackends backends_;
  const hal::base::Clock& clock_;
  hal::base::Logger& logger_;
  // Real back-ends when built by Create() (backends_ points into them).
  std::unique_ptr<hal::PortInventory> owned_ports_;
  std::unique_ptr<hal::CounterSource> owned_counters_;
  std::unique_ptr<MultiPacketSource> packets_;
  std::unique_ptr<FilteredPortInventory> ports_;
  std::unique_ptr<hal::SamplingControl> tc_;
  bool psample_open_ = false;
  std::map<uint32_t, PortState> state_;
  std::set<int> nflog_groups_;
  std::unique_ptr<hal::RouteTable> routes_;
  std::unique_ptr<hal::rtnl::RtnlRouteFeed> route_feed_;
};

}  // namespace xflowd::agent::os_linux
