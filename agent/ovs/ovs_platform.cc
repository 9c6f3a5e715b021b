#include "agent/ovs/ovs_platform.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <utility>
#include <variant>

namespace xflowd::agent::ovs {

using hal::base::ErrnoError;
using hal::base::LogLevel;
using hal::base::NotFoundError;
using hal::base::Result;
using hal::base::Status;
namespace wire = ::xflowd::hal::ovs;

namespace {

constexpr uint64_t kUdpKey = 1;
constexpr uint64_t kOvsdbKey = 2;
constexpr int kRcvBufBytes = 4 << 20;

bool ParseMac(const std::string& text, uint8_t out[6]) {
  unsigned v[6];
  if (std::sscanf(text.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x", &v[0], &v[1], &v[2], &v[3], &v[4],
                  &v[5]) != 6) {
    return false;
  }
  for (int i = 0; i < 6; ++i) out[i] = static_cast<uint8_t>(v[i]);
  return true;
}

uint64_t Stat(const std::map<std::string, int64_t>& s, const char* key) {
  auto it = s.find(key);
  if (it == s.end() || it->second < 0) return hal::PortCounters::kUnknown64;
  return static_cast<uint64_t>(it->second);
}

uint32_t Stat32(const std::map<std::string, int64_t>& s, const char* key) {
  const uint64_t v = Stat(s, key);
  return v == hal::PortCounters::kUnknown64 ? hal::PortCounters::kUnknown32
                                            : static_cast<uint32_t>(v);
}

// OVSDB's statistics column as the interface MIB's counters (docs/ovs.md has the table).
hal::PortCounters CountersFrom(const std::map<std::string, int64_t>& s) {
  constexpr uint64_t kU = hal::PortCounters::kUnknown64;
  hal::PortCounters c;
  c.in_octets = Stat(s, "rx_bytes");
  const uint64_t rx = Stat(s, "rx_packets");
  const uint64_t mc = Stat(s, "rx_multicast_packets");
  c.in_multicast_pkts = mc;
  c.in_ucast_pkts = (rx != kU && mc != kU && rx >= mc) ? rx - mc : rx;
  c.in_discards = Stat(s, "rx_dropped");
  c.in_errors = Stat(s, "rx_errors");
  c.out_octets = Stat(s, "tx_bytes");
  c.out_ucast_pkts = Stat(s, "tx_packets");
  c.out_discards = Stat(s, "tx_dropped");
  c.out_errors = Stat(s, "tx_errors");
  c.has_ethernet = true;
  c.dot3_alignment_errors = Stat32(s, "rx_frame_err");
  c.dot3_fcs_errors = Stat32(s, "rx_crc_err");
  c.dot3_internal_mac_receive_errors = Stat32(s, "rx_over_err");
  return c;
}

bool SameInfo(const hal::PortInfo& a, const hal::PortInfo& b) {
  return a.name == b.name && a.alias == b.alias && a.speed_bps == b.speed_bps &&
         a.admin_up == b.admin_up && a.oper_up == b.oper_up && std::equal(a.mac, a.mac + 6, b.mac);
}

}  // namespace

OvsPlatform::OvsPlatform(const config::OvsSourceConfig& options, const hal::base::Clock& clock,
                         hal::base::Logger& logger)
    : options_(options), clock_(clock), logger_(logger), samples_(clock, logger) {}

OvsPlatform::~OvsPlatform() {
  RemoveOwnRows();
  if (udp_fd_ >= 0) close(udp_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

Result<std::unique_ptr<OvsPlatform>> OvsPlatform::Create(const config::OvsSourceConfig& options,
                                                         const hal::base::Clock& clock,
                                                         hal::base::Logger& logger) {
  std::unique_ptr<OvsPlatform> p(new OvsPlatform(options, clock, logger));
  XFLOWD_RETURN_IF_ERROR(p->Init());
  return p;
}

Status OvsPlatform::Init() {
  auto client = wire::OvsdbClient::Create(options_.db_socket, clock_, logger_);
  if (!client.ok()) return client.status();
  client_ = std::move(client).value();

  udp_fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (udp_fd_ < 0) return ErrnoError("OVS sFlow listener: socket", errno);
  int buf = kRcvBufBytes;
  if (setsockopt(udp_fd_, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) != 0) {
    (void)setsockopt(udp_fd_, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(udp_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return ErrnoError("OVS sFlow listener: bind 127.0.0.1:0", errno);
  }
  socklen_t len = sizeof(addr);
  getsockname(udp_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  listen_port_ = ntohs(addr.sin_port);
  target_ = "127.0.0.1:" + std::to_string(listen_port_);

  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return ErrnoError("epoll_create1", errno);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kUdpKey;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, udp_fd_, &ev) != 0) return ErrnoError("epoll_ctl", errno);
  WatchClient();

  for (const std::string& b : options_.bridges) {
    if (client_->model().FindBridge(b) == nullptr) {
      logger_.Log(LogLevel::kWarning,
                  "OVS bridge %s does not exist (yet): its ports join when it does", b.c_str());
    }
  }
  RemoveStaleRows();
  ports_ = PortsFromModel();
  SharePorts();
  seen_changes_ = client_->changes();
  seen_generation_ = client_->generation();
  logger_.Log(LogLevel::kInfo,
              "OVS: OVSDB %s, %zu bridges, %zu ports with an ifindex; sFlow from OVS to %s",
              options_.db_socket.c_str(), client_->model().bridges().size(), ports_.size(),
              target_.c_str());
  return Status::Ok();
}

void OvsPlatform::WatchClient() {
  const int fd = client_->fd();
  if (fd == watched_client_fd_) return;
  if (watched_client_fd_ >= 0) epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, watched_client_fd_, nullptr);
  watched_client_fd_ = -1;
  if (fd < 0) return;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kOvsdbKey;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0) watched_client_fd_ = fd;
}

daemon::Platform OvsPlatform::platform() {
  daemon::Platform p;
  p.packets = this;
  p.sampling = this;
  p.counters = this;
  p.ports = this;
  p.advance = [this](hal::base::MonoTime now) { Advance(now); };
  p.advance_period = hal::base::milliseconds(100);
  std::string which = "every bridge";
  if (!options_.bridges.empty()) {
    which.clear();
    for (const std::string& b : options_.bridges) which += (which.empty() ? "" : ", ") + b;
  }
  p.description = "Open vSwitch (" + which + ")";
  p.summary = [this] { return Summary(); };
  p.stats_section = "ovs";
  p.stats = [this] { return Counters(); };
  return p;
}

bool OvsPlatform::Selected(const std::string& bridge_name) const {
  if (options_.bridges.empty()) return true;
  for (const std::string& b : options_.bridges) {
    if (b == bridge_name) return true;
  }
  return false;
}

std::map<uint32_t, OvsPlatform::Port> OvsPlatform::PortsFromModel() const {
  std::map<uint32_t, Port> out;
  const wire::OvsdbModel& m = client_->model();
  for (const auto& b : m.bridges()) {
    if (!Selected(b.second.name)) continue;
    for (const std::string& pu : b.second.ports) {
      auto port = m.ports().find(pu);
      if (port == m.ports().end()) continue;
      for (const std::string& iu : port->second.interfaces) {
        auto it = m.interfaces().find(iu);
        if (it == m.interfaces().end()) continue;
        const wire::InterfaceRow& i = it->second;
        uint32_t ifindex = 0;
        if (i.ifindex && *i.ifindex > 0 && *i.ifindex <= 0x7FFFFFFF) {
          ifindex = static_cast<uint32_t>(*i.ifindex);
        } else {
          // ifindex is an ephemeral column: a restarted ovsdb-server has it empty until
          // ovs-vswitchd writes it again. A port we had keeps its ifindex meanwhile.
          for (const auto& kv : ports_) {
            if (kv.second.interface_uuid == i.uuid) ifindex = kv.first;
          }
        }
        // Without a kernel ifindex (patch ports, some tunnels) OVS numbers the port itself.
        if (ifindex == 0) continue;
        const Port* before = nullptr;
        if (auto old = ports_.find(ifindex); old != ports_.end()) before = &old->second;
        const bool refilling = before != nullptr && !i.ifindex;
        Port p;
        p.info.ifindex = ifindex;
        p.info.name = i.name;
        auto id = i.external_ids.find("iface-id");
        if (id != i.external_ids.end()) p.info.alias = id->second;
        p.info.speed_bps =
            i.link_speed && *i.link_speed > 0 ? static_cast<uint64_t>(*i.link_speed) : 0;
        p.info.admin_up = i.admin_state == "up";
        p.info.oper_up = i.link_state == "up";
        p.info.duplex = p.info.oper_up ? 1 : 0;
        (void)ParseMac(i.mac_in_use, p.info.mac);
        p.interface_uuid = i.uuid;
        p.bridge_uuid = b.first;
        p.counters = CountersFrom(i.statistics);
        if (refilling) {
          // Until ovs-vswitchd fills the row again, what it said before still holds.
          p.info = before->info;
          p.counters = before->counters;
        }
        out[p.info.ifindex] = std::move(p);
      }
    }
  }
  return out;
}

Result<std::vector<hal::PortInfo>> OvsPlatform::ListPorts() {
  std::vector<hal::PortInfo> out;
  for (const auto& kv : ports_) out.push_back(kv.second.info);
  return out;
}

Result<hal::PortCounters> OvsPlatform::ReadCounters(uint32_t ifindex) {
  auto it = ports_.find(ifindex);
  if (it == ports_.end())
    return NotFoundError("no OVS port with ifindex " + std::to_string(ifindex));
  return it->second.counters;
}

Result<uint32_t> OvsPlatform::SetSamplingRate(uint32_t ifindex, hal::Direction direction,
                                              uint32_t rate, uint32_t header_bytes) {
  if (direction != hal::Direction::kIngress) {
    return hal::base::UnimplementedError("OVS samples ingress only");
  }
  auto it = ports_.find(ifindex);
  if (it == ports_.end())
    return NotFoundError("no OVS port with ifindex " + std::to_string(ifindex));
  Bridge& br = bridges_[it->second.bridge_uuid];
  if (const wire::BridgeRow* row = client_->model().bridges().count(it->second.bridge_uuid)
                                       ? &client_->model().bridges().at(it->second.bridge_uuid)
                                       : nullptr) {
    br.name = row->name;
  }
  if (rate == 0) {
    br.wanted.erase(ifindex);
  } else {
    br.wanted[ifindex] = rate;
    br.header_bytes = header_bytes;
  }
  Result<uint32_t> applied = ApplyBridge(it->second.bridge_uuid);
  // A port the platform could not sample has no sampler in the daemon: it must not hold the
  // bridge's rate either (nor make Sync retry for it).
  if (!applied.ok()) br.wanted.erase(ifindex);
  return applied;
}

Result<uint32_t> OvsPlatform::ApplyBridge(const std::string& bridge_uuid) {
  Bridge& br = bridges_[bridge_uuid];
  uint32_t rate = 0;
  for (const auto& kv : br.wanted) {
    if (rate == 0 || kv.second < rate) rate = kv.second;
  }
  const wire::OvsdbModel& m = client_->model();
  auto row = m.bridges().find(bridge_uuid);
  if (row == m.bridges().end()) return NotFoundError("OVS bridge " + br.name + " is gone");
  const std::string& current = row->second.sflow;
  if (!current.empty() && current != br.own_row) {
    const wire::SflowRow* s = m.FindSflow(current);
    const bool ours = s != nullptr && s->external_ids.count(kOwnerKey) > 0 &&
                      s->targets.size() == 1 && s->targets[0] == target_;
    if (!ours) {
      std::string targets;
      if (s != nullptr) {
        for (const std::string& t : s->targets) targets += (targets.empty() ? "" : " ") + t;
      }
      return hal::base::Status(hal::base::StatusCode::kAlreadyExists,
                               "bridge " + br.name +
                                   " has an sFlow row xflowd did not make (targets " + targets +
                                   "): left alone; remove it (ovs-vsctl clear Bridge " + br.name +
                                   " sflow) for xflowd to sample this bridge");
    }
    br.own_row = current;
  }
  if (rate == 0) {
    if (!br.own_row.empty()) {
      ++stats_.row_writes;
      auto r = client_->Call([&](int64_t id) {
        return wire::SflowDetachTransaction(id, {{bridge_uuid, br.own_row}});
      });
      if (!r.ok()) ++stats_.row_errors;
      br.own_row.clear();
    }
    br.applied = 0;
    return 0u;
  }
  wire::SflowWrite w;
  w.bridge_uuid = bridge_uuid;
  w.existing_sflow_uuid = m.FindSflow(br.own_row) != nullptr ? br.own_row : "";
  w.settings.targets = {target_};
  w.settings.sampling = rate;
  w.settings.polling = 0;  // counters come from OVSDB (D47)
  w.settings.header = br.header_bytes;
  w.settings.external_ids[kOwnerKey] = "pid " + std::to_string(getpid()) + ", listener " + target_;
  ++stats_.row_writes;
  auto r = client_->Call([&](int64_t id) { return wire::SflowTransaction(id, {w}); });
  std::string err = r.ok() ? wire::TransactError(*r) : r.status().message();
  if (!err.empty()) {
    ++stats_.row_errors;
    return hal::base::UnavailableError("writing the sFlow row of bridge " + br.name + ": " + err);
  }
  if (w.existing_sflow_uuid.empty()) br.own_row = wire::InsertedUuid(*r, 0);
  // What OVSDB holds now is what OVS samples at.
  auto back = client_->Call([&](int64_t id) { return wire::SflowSelect(id, br.own_row); });
  if (!back.ok()) {
    ++stats_.row_errors;
    return back.status().WithContext("reading back the sFlow row of bridge " + br.name);
  }
  auto applied = wire::SelectedSampling(*back);
  if (!applied.ok()) return applied.status().WithContext("bridge " + br.name);
  br.applied = static_cast<uint32_t>(*applied);
  if (br.applied != rate) {
    logger_.Log(LogLevel::kWarning, "OVS bridge %s: asked 1-in-%u, OVSDB holds 1-in-%u",
                br.name.c_str(), rate, br.applied);
  }
  return br.applied;
}

void OvsPlatform::RemoveStaleRows() {
  std::vector<wire::SflowDetach> detach;
  const wire::OvsdbModel& m = client_->model();
  for (const auto& b : m.bridges()) {
    if (b.second.sflow.empty()) continue;
    const wire::SflowRow* s = m.FindSflow(b.second.sflow);
    if (s == nullptr || s->external_ids.count(kOwnerKey) == 0) continue;
    logger_.Log(LogLevel::kInfo,
                "OVS bridge %s: removing the sFlow row an earlier xflowd left (%s)",
                b.second.name.c_str(), s->external_ids.at(kOwnerKey).c_str());
    detach.push_back({b.first, b.second.sflow});
  }
  if (detach.empty()) return;
  auto r = client_->Call([&](int64_t id) { return wire::SflowDetachTransaction(id, detach); });
  std::string err = r.ok() ? wire::TransactError(*r) : r.status().message();
  if (!err.empty()) {
    ++stats_.row_errors;
    logger_.Log(LogLevel::kWarning, "OVS: removing stale sFlow rows: %s", err.c_str());
    return;
  }
  stats_.stale_rows_removed += detach.size();
}

void OvsPlatform::RemoveOwnRows() {
  if (!client_ || !client_->connected()) return;
  std::vector<wire::SflowDetach> detach;
  for (auto& kv : bridges_) {
    if (!kv.second.own_row.empty()) detach.push_back({kv.first, kv.second.own_row});
    kv.second.own_row.clear();
  }
  if (detach.empty()) return;
  auto r =
      client_->Call([&](int64_t id) { return wire::SflowDetachTransaction(id, detach); }, 1000);
  std::string err = r.ok() ? wire::TransactError(*r) : r.status().message();
  if (!err.empty()) {
    logger_.Log(LogLevel::kWarning, "OVS: removing xflowd's sFlow rows at exit: %s", err.c_str());
  } else {
    logger_.Log(LogLevel::kInfo, "OVS: removed xflowd's sFlow rows from %zu bridges",
                detach.size());
  }
}

void OvsPlatform::Sync() {
  WatchClient();
  if (client_->changes() == seen_changes_) return;
  seen_changes_ = client_->changes();
  const bool resynced = client_->generation() != seen_generation_;
  seen_generation_ = client_->generation();

  std::map<uint32_t, Port> next = PortsFromModel();
  std::vector<std::pair<hal::PortEvent, hal::PortInfo>> events;
  for (auto& kv : ports_) {
    auto n = next.find(kv.first);
    if (n == next.end()) {
      events.emplace_back(hal::PortEvent::kRemoved, kv.second.info);
      Bridge& br = bridges_[kv.second.bridge_uuid];
      br.wanted.erase(kv.first);
    } else if (!SameInfo(kv.second.info, n->second.info)) {
      events.emplace_back(hal::PortEvent::kChanged, n->second.info);
    }
  }
  for (auto& kv : next) {
    if (ports_.count(kv.first) == 0) events.emplace_back(hal::PortEvent::kAdded, kv.second.info);
  }
  ports_ = std::move(next);
  SharePorts();
  for (const auto& e : events) {
    if (listener_) listener_(e.first, e.second);
  }
  // Each bridge sampled: its row still there, as written (after a re-sync, a port that left,
  // or someone clearing it).
  for (auto it = bridges_.begin(); it != bridges_.end();) {
    const auto row = client_->model().bridges().find(it->first);
    if (row == client_->model().bridges().end()) {
      it = bridges_.erase(it);  // the bridge went, and its row with it
      continue;
    }
    Bridge& br = it->second;
    const wire::SflowRow* s = client_->model().FindSflow(row->second.sflow);
    const bool intact = !br.own_row.empty() && row->second.sflow == br.own_row && s != nullptr &&
                        s->targets.size() == 1 && s->targets[0] == target_;
    uint32_t lowest = 0;
    for (const auto& w : br.wanted) lowest = lowest == 0 ? w.second : std::min(lowest, w.second);
    const bool rate_ok = intact && s->sampling && *s->sampling == lowest;
    if ((br.wanted.empty() && !br.own_row.empty()) || (!br.wanted.empty() && !rate_ok)) {
      auto r = ApplyBridge(it->first);
      if (!r.ok()) {
        if (foreign_warned_.insert(it->first).second) {
          logger_.Log(LogLevel::kWarning, "OVS: %s", r.status().message().c_str());
        }
      } else {
        foreign_warned_.erase(it->first);
        if (resynced) {
          logger_.Log(LogLevel::kInfo, "OVS bridge %s: sFlow row written again after the re-sync",
                      br.name.c_str());
        }
      }
    }
    ++it;
  }
}

void OvsPlatform::SharePorts() {
  std::unordered_set<uint32_t> ifindexes;
  for (const auto& kv : ports_) ifindexes.insert(kv.first);
  samples_.SetPorts(std::move(ifindexes));
}

void OvsPlatform::Advance(hal::base::MonoTime now) {
  client_->Tick(now);
  Sync();
}

size_t OvsPlatform::Drain(hal::PacketSampleSink& sink, size_t budget) {
  epoll_event events[4];
  const int n = epoll_wait(epoll_fd_, events, 4, 0);
  size_t done = 0;
  for (int i = 0; i < n; ++i) {
    if (events[i].data.u64 == kOvsdbKey) {
      client_->OnReadable();
      Sync();
      continue;
    }
    uint8_t buf[65536];
    while (done < budget) {
      sockaddr_in from{};
      socklen_t from_len = sizeof(from);
      const ssize_t got =
          recvfrom(udp_fd_, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &from_len);
      if (got < 0) break;  // EAGAIN: nothing more
      // Each bridge's sFlow agent in OVS sends from a socket of its own.
      done += samples_.HandleDatagram(hal::base::ByteView(buf, static_cast<size_t>(got)),
                                      ntohs(from.sin_port), sink);
    }
  }
  return done;
}

hal::PacketSourceStats OvsPlatform::stats() const { return samples_.source_stats(); }

std::vector<std::pair<std::string, uint64_t>> OvsPlatform::Counters() const {
  const wire::OvsdbClientStats& c = client_->stats();
  const OvsSampleStats& ss = samples_.stats();
  return {{"datagrams", ss.datagrams},
          {"bad_datagrams", ss.bad_datagrams},
          {"flow_samples", ss.flow_samples},
          {"unmapped_samples", ss.unmapped_samples},
          {"no_header", ss.no_header},
          {"lost_samples", ss.lost_samples},
          {"counter_samples_ignored", ss.counter_samples},
          {"ovs_drops", ss.ovs_drops},
          {"ovsdb_connects", c.connects},
          {"ovsdb_disconnects", c.disconnects},
          {"ovsdb_resyncs", c.resyncs},
          {"ovsdb_updates", c.updates},
          {"ovsdb_bad_messages", c.bad_messages},
          {"row_writes", stats_.row_writes},
          {"row_errors", stats_.row_errors},
          {"stale_rows_removed", stats_.stale_rows_removed}};
}

std::string OvsPlatform::Summary() const {
  const wire::OvsdbClientStats& c = client_->stats();
  const OvsSampleStats& ss = samples_.stats();
  char line[512];
  std::snprintf(
      line, sizeof(line),
      "ovs: %" PRIu64 " datagrams (%" PRIu64 " undecodable), %" PRIu64 " flow samples, %" PRIu64
      " from unknown ports, %" PRIu64 " without an Ethernet header, %" PRIu64
      " lost between OVS and xflowd (sequence "
      "gaps), %" PRIu64 " OVS counter samples ignored, %" PRIu64
      " drops reported by OVS\n"
      "ovsdb: %" PRIu64 " connects, %" PRIu64 " disconnects, %" PRIu64 " re-syncs, %" PRIu64
      " updates, %" PRIu64 " bad messages; sFlow rows: %" PRIu64 " writes, %" PRIu64
      " failed, %" PRIu64 " stale removed\n",
      ss.datagrams, ss.bad_datagrams, ss.flow_samples, ss.unmapped_samples, ss.no_header,
      ss.lost_samples, ss.counter_samples, ss.ovs_drops, c.connects, c.disconnects, c.resyncs,
      c.updates, c.bad_messages, stats_.row_writes, stats_.row_errors, stats_.stale_rows_removed);
  return line;
}

}  // namespace xflowd::agent::ovs
