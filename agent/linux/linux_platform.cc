#include "agent/linux/linux_platform.h"

#include <cinttypes>
#include <string>
#include <utility>
#include <vector>

#include "hal/rtnl/rtnl_port_inventory.h"
#ifdef XFLOWD_HAVE_PSAMPLE
#include "hal/psample/psample_source.h"
#endif
#ifdef XFLOWD_HAVE_TC
#include "hal/tc/tc_sampling_control.h"
#endif
#ifdef XFLOWD_HAVE_NFLOG
#include "hal/nflog/nflog_source.h"
#include "hal/nflog/nft_sampling_rule.h"
#endif

namespace xflowd::agent::os_linux {

using config::SampleBackend;
using hal::base::InvalidArgumentError;
using hal::base::LogLevel;
using hal::base::NotFoundError;
using hal::base::Result;
using hal::base::Status;
using hal::base::UnimplementedError;

namespace {

// Counter reads for the pool are one netlink round trip: not more often than this per port.
constexpr hal::base::Duration kPoolRefreshPeriod = hal::base::milliseconds(10);

template <typename T>
Result<std::unique_ptr<hal::PacketSource>> AsSource(Result<std::unique_ptr<T>> r) {
  if (!r.ok()) return r.status();
  return std::unique_ptr<hal::PacketSource>(std::move(r).value());
}

// A port's AF_PACKET or NFLOG source whose samples carry the pool growth the platform read
// from the interface counters (PacketSample::pool_added, on the first sample after the read),
// so the pool reaches the port's sampler with the samples instead of through the agent.
class PoolStampingSource final : public hal::PacketSource {
 public:
  PoolStampingSource(std::unique_ptr<hal::PacketSource> inner, std::function<uint64_t()> refresh,
                     uint32_t ifindex, hal::Direction direction)
      : inner_(std::move(inner)),
        refresh_(std::move(refresh)),
        ifindex_(ifindex),
        direction_(direction) {}
  int fd() const override { return inner_->fd(); }
  hal::PacketSourceStats stats() const override { return inner_->stats(); }
  size_t Drain(hal::PacketSampleSink& sink, size_t budget) override {
    pending_ += refresh_();
    Stamp stamp(sink, pending_, ifindex_, direction_);
    return inner_->Drain(stamp, budget);
  }

 private:
  class Stamp final : public hal::PacketSampleSink {
   public:
    Stamp(hal::PacketSampleSink& out, uint64_t& pending, uint32_t ifindex, hal::Direction d)
        : out_(out), pending_(pending), ifindex_(ifindex), direction_(d) {}
    void OnSample(const hal::PacketSample& sample) override {
      const bool egress = direction_ == hal::Direction::kEgress;
      const uint32_t port = egress ? sample.output_ifindex : sample.input_ifindex;
      if (pending_ == 0 && port == ifindex_ && sample.direction == direction_) {
        return out_.OnSample(sample);
      }
      hal::PacketSample s = sample;
      // The socket samples this port in this direction only; the NFLOG egress hook leaves
      // the output device out of some messages.
      s.direction = direction_;
      (egress ? s.output_ifindex : s.input_ifindex) = ifindex_;
      // The sFlow pool is a wrapping 32-bit counter: only the low bits matter.
      s.pool_added = static_cast<uint32_t>(pending_);
      pending_ = 0;
      out_.OnSample(s);
    }

   private:
    hal::PacketSampleSink& out_;
    uint64_t& pending_;
    uint32_t ifindex_;
    hal::Direction direction_;
  };
  std::unique_ptr<hal::PacketSource> inner_;
  std::function<uint64_t()> refresh_;
  uint32_t ifindex_;
  hal::Direction direction_;
  uint64_t pending_ = 0;  // read from the counters, not yet handed with a sample
};

#ifdef XFLOWD_HAVE_NFLOG
class InstalledNftRule final : public Installed {
 public:
  explicit InstalledNftRule(std::unique_ptr<hal::nflog::NftSamplingRule> rule)
      : rule_(std::move(rule)) {}

 private:
  std::unique_ptr<hal::nflog::NftSamplingRule> rule_;
};
#endif

}  // namespace

LinuxPlatform::LinuxPlatform(const LinuxPlatformOptions& options, LinuxBackends backends,
                             const hal::base::Clock& clock, hal::base::Logger& logger)
    : options_(options), backends_(std::move(backends)), clock_(clock), logger_(logger) {}

LinuxPlatform::~LinuxPlatform() {
  // Sockets and rules go before the tc filters, which go before the inventory.
  state_.clear();
}

Result<std::unique_ptr<LinuxPlatform>> LinuxPlatform::Create(const LinuxPlatformOptions& options,
                                                             const hal::base::Clock& clock,
                                                             hal::base::Logger& logger) {
  auto inventory = hal::rtnl::RtnlPortInventory::Create();
  if (!inventory.ok()) return inventory.status().WithContext("rtnetlink link inventory");
  auto counters = hal::rtnl::RtnlCounterSource::Create();
  if (!counters.ok()) return counters.status().WithContext("rtnetlink counters");
  hal::rtnl::RtnlPortInventory* inv = inventory->get();

  LinuxBackends b;
  b.ports = inv;
  b.counters = counters->get();
  b.port_events_fd = inv->fd();
  b.process_port_events = [inv] { inv->ProcessEvents(); };
  b.open_afpacket = [&clock](const hal::afpacket::AfPacketOptions& o) {
    return AsSource(hal::afpacket::AfPacketSource::Create(o, clock));
  };
#ifdef XFLOWD_HAVE_PSAMPLE
  b.open_psample = [&clock, &logger, group = options.psample_group]() {
    hal::psample::PsampleSourceOptions o;
    o.parser = hal::psample::ParserOptions::WithBaseGroup(group);
    o.parser.wall_to_mono_ns = clock.Now().ns() - clock.WallNow().ns();
    return AsSource(hal::psample::PsamplePacketSource::Create(o, clock, logger));
  };
#endif
#ifdef XFLOWD_HAVE_TC
  b.open_tc = [group = options.psample_group,
               &logger]() -> Result<std::unique_ptr<hal::SamplingControl>> {
    hal::tc::TcSamplingOptions o;
    o.logger = &logger;
    o.ingress_group = group;
    o.egress_group = group + 1;
    auto tc = hal::tc::TcSamplingControl::Create(o);
    if (!tc.ok()) return tc.status();
    return std::unique_ptr<hal::SamplingControl>(std::move(tc).value());
  };
#endif
#ifdef XFLOWD_HAVE_NFLOG
  b.open_nflog = [&clock](uint16_t group, uint32_t rate, uint32_t header_bytes,
                          hal::Direction direction) {
    hal::nflog::NflogOptions o;
    o.group = group;
    o.direction = direction;
    o.sampling_rate = rate;
    o.copy_range = header_bytes;
    return AsSource(hal::nflog::NflogSource::Create(o, clock));
  };
  b.install_nft = [](const std::string& device, uint32_t rate, uint16_t group,
                     uint32_t header_bytes,
                     hal::Direction direction) -> Result<std::unique_ptr<Installed>> {
    hal::nflog::NftRuleOptions o;
    o.device = device;
    o.direction = direction;
    o.sampling_rate = rate;
    o.group = group;
    o.snaplen = header_bytes;
    auto rule = hal::nflog::NftSamplingRule::Install(o);
    if (!rule.ok()) return rule.status();
    return std::unique_ptr<Installed>(new InstalledNftRule(std::move(rule).value()));
  };
#endif
  b.open_routes = [](uint32_t table_id, hal::RouteTable& table) {
    return hal::rtnl::RtnlRouteFeed::Create(table_id, table);
  };
  std::unique_ptr<LinuxPlatform> p(new LinuxPlatform(options, std::move(b), clock, logger));
  p->owned_ports_ = std::move(inventory).value();
  p->owned_counters_ = std::move(counters).value();
  XFLOWD_RETURN_IF_ERROR(p->Init());
  return p;
}

Result<std::unique_ptr<LinuxPlatform>> LinuxPlatform::CreateWith(
    const LinuxPlatformOptions& options, LinuxBackends backends, const hal::base::Clock& clock,
    hal::base::Logger& logger) {
  std::unique_ptr<LinuxPlatform> p(new LinuxPlatform(options, std::move(backends), clock, logger));
  XFLOWD_RETURN_IF_ERROR(p->Init());
  return p;
}

Status LinuxPlatform::Init() {
  if (!backends_.ports || !backends_.counters || !backends_.open_afpacket) {
    return InvalidArgumentError("Linux platform: port inventory, counters and AF_PACKET needed");
  }
  if (options_.patterns.empty()) {
    return InvalidArgumentError("no --sample PATTERN: which ports should be sampled?");
  }
  auto packets = MultiPacketSource::Create();
  if (!packets.ok()) return packets.status();
  packets_ = std::move(packets).value();
  ports_ = std::make_unique<FilteredPortInventory>(*backends_.ports, options_.patterns);
  ports_->SetReleaseHook(
      [this](const hal::PortInfo& port, SampleBackend backend) { Release(port, backend); });
  if (backends_.port_events_fd >= 0 && backends_.process_port_events) {
    XFLOWD_RETURN_IF_ERROR(packets_->AddWatch(kLinkEventsKey, backends_.port_events_fd,
                                              backends_.process_port_events));
  }
  return Status::Ok();
}

daemon::Platform LinuxPlatform::platform() {
  daemon::Platform p;
  p.packets = packets_.get();
  p.sampling = this;
  p.counters = backends_.counters;
  p.ports = ports_.get();
  std::string what;
  for (const config::SamplePattern& sp : options_.patterns) {
    what += (what.empty() ? "" : ", ") + sp.pattern + "=" + config::SampleBackendName(sp.backend);
  }
  p.description = "Linux ports " + what;
  p.route_table = [this] { return Routes(); };
  p.summary = [this]() -> std::string {
    std::string out;
    if (tc_) {
      out += "tc: " + std::to_string(tc_->unconfirmed_rates()) +
             " applied rates not read back (reported as asked)\n";
    }
    if (!route_feed_) return out;
    const hal::rtnl::RouteFeedStats& s = route_feed_->stats();
    const hal::rtnl::RouteParseStats& ps = route_feed_->parse_stats();
    char line[320];
    snprintf(
        line, sizeof(line),
        "routes: table %u, %zu routes (%zu IPv4, %zu IPv6 prefixes), %" PRIu64 " events, %" PRIu64
        " dumps, %" PRIu64 " overruns, %" PRIu64 " dump errors, %" PRIu64 " malformed messages\n",
        route_feed_->table_id(), routes_->size(), routes_->prefixes_v4(), routes_->prefixes_v6(),
        s.events, s.dumps, s.overruns, s.dump_errors, ps.truncated + ps.bad_attr_length);
    return out + line;
  };
  p.stats_section = "linux";
  p.stats = [this] {
    return std::vector<std::pair<std::string, uint64_t>>{
        {"tc_unconfirmed_rates", tc_ ? tc_->unconfirmed_rates() : 0}};
  };
  p.pool_from_counters = [this](uint32_t ifindex) {
    const FilteredPortInventory::Port* port = ports_->Find(ifindex);
    return port != nullptr && port->backend != SampleBackend::kPsample;
  };
  return p;
}

Result<const hal::RouteTable*> LinuxPlatform::Routes() {
  if (routes_) return routes_.get();
  if (!backends_.open_routes) return UnimplementedError("this build has no routing table source");
  auto table = std::make_unique<hal::RouteTable>();
  auto feed = backends_.open_routes(options_.route_table, *table);
  if (!feed.ok()) {
    return feed.status().WithContext("routing table " + std::to_string(options_.route_table));
  }
  hal::rtnl::RtnlRouteFeed* f = feed->get();
  XFLOWD_RETURN_IF_ERROR(packets_->AddWatch(kRouteEventsKey, f->fd(), [f] { f->ProcessEvents(); }));
  routes_ = std::move(table);
  route_feed_ = std::move(feed).value();
  return static_cast<const hal::RouteTable*>(routes_.get());
}

int LinuxPlatform::NflogGroupOf(uint32_t ifindex, hal::Direction direction) const {
  auto it = state_.find(ifindex);
  return it == state_.end() ? -1 : it->second.dir[static_cast<int>(direction)].nflog_group;
}

void LinuxPlatform::StartPool(uint32_t ifindex, DirState& st) {
  if (st.pool_started) return;
  Result<hal::PortCounters> c = backends_.counters->ReadCounters(ifindex);
  if (!c.ok()) return;  // the first Advance starts from its read instead
  st.pool.Reset(*c);
  st.pool_started = true;
  st.last_refresh = clock_.Now();
}

uint64_t LinuxPlatform::RefreshPool(uint32_t ifindex, bool force, hal::Direction direction) {
  auto it = state_.find(ifindex);
  if (it == state_.end() || it->second.backend == SampleBackend::kPsample) return 0;
  DirState& st = it->second.dir[static_cast<int>(direction)];
  const hal::base::MonoTime now = clock_.Now();
  if (!force && st.pool_started && now - st.last_refresh < kPoolRefreshPeriod) return 0;
  Result<hal::PortCounters> c = backends_.counters->ReadCounters(ifindex);
  if (!c.ok()) return 0;
  st.last_refresh = now;
  if (!st.pool_started) {
    st.pool.Reset(*c);
    st.pool_started = true;
    return 0;
  }
  return st.pool.Advance(*c);
}

hal::base::Status LinuxPlatform::AddPooled(MultiPacketSource::Key key, uint32_t ifindex,
                                           hal::Direction direction,
                                           std::unique_ptr<hal::PacketSource> source) {
  return packets_->Add(
      key, std::make_unique<PoolStampingSource>(
               std::move(source),
               [this, ifindex, direction] { return RefreshPool(ifindex, false, direction); },
               ifindex, direction));
}

Result<uint32_t> LinuxPlatform::SetSamplingRate(uint32_t ifindex, hal::Direction direction,
                                                uint32_t rate, uint32_t header_bytes) {
  const FilteredPortInventory::Port* port = ports_->Find(ifindex);
  if (port == nullptr) {
    return NotFoundError("ifindex " + std::to_string(ifindex) + " is not a port matching --sample");
  }
  PortState& ps = state_[ifindex];
  ps.backend = port->backend;
  DirState& st = ps.dir[static_cast<int>(direction)];
  Result<uint32_t> r = 0u;
  switch (port->backend) {
    case SampleBackend::kAfPacket:
      r = SetAfPacket(port->info, direction, st, rate, header_bytes);
      break;
    case SampleBackend::kPsample:
      r = SetPsample(port->info, direction, rate, header_bytes);
      break;
    case SampleBackend::kNflog:
      r = SetNflog(port->info, direction, st, rate, header_bytes);
      break;
  }
  if (r.ok()) st.rate = *r;
  if (ps.dir[0].rate == 0 && ps.dir[1].rate == 0) {
    state_.erase(ifindex);
  }
  return r;
}

Result<uint32_t> LinuxPlatform::SetAfPacket(const hal::PortInfo& port, hal::Direction direction,
                                            DirState& st, uint32_t rate, uint32_t header_bytes) {
  const bool egress = direction == hal::Direction::kEgress;
  packets_->Remove(AfPacketKey(port.ifindex, direction));
  if (rate == 0) return 0u;
  if (egress && options_.ingress_only) {
    return InvalidArgumentError(
        "egress sampling on " + port.name +
        ": --ingress-only (source.linux.ingress-only) keeps AF_PACKET from seeing sent frames");
  }
  hal::afpacket::AfPacketOptions o;
  o.ifname = port.name;
  o.sampling_rate = rate;
  o.snaplen = header_bytes;
  // Each direction has its own socket (own rate, pool and drops): the ingress one never sees
  // the frames the port sends, which would otherwise reach no sampler.
  o.ingress_only = !egress;
  o.egress_only = egress;
  auto src = backends_.open_afpacket(o);
  if (!src.ok()) return src.status().WithContext("AF_PACKET on " + port.name);
  StartPool(port.ifindex, st);
  const uint32_t ifindex = port.ifindex;
  XFLOWD_RETURN_IF_ERROR(
      AddPooled(AfPacketKey(ifindex, direction), ifindex, direction, std::move(src).value()));
  return rate;
}

Result<uint32_t> LinuxPlatform::SetPsample(const hal::PortInfo& port, hal::Direction direction,
                                           uint32_t rate, uint32_t header_bytes) {
  if (!backends_.open_tc || !backends_.open_psample) {
    return UnimplementedError("psample on " + port.name +
                              ": this xflowd was built without the PSAMPLE/tc back-ends "
                              "(PSAMPLE needs libnl-genl-3-dev at build time)");
  }
  if (!tc_) {
    auto tc = backends_.open_tc();
    if (!tc.ok()) return tc.status().WithContext("tc sampling control");
    tc_ = std::move(tc).value();
  }
  if (!psample_open_ && rate > 0) {
    auto src = backends_.open_psample();
    if (!src.ok()) return src.status().WithContext("PSAMPLE socket");
    XFLOWD_RETURN_IF_ERROR(packets_->Add(kPsampleKey, std::move(src).value()));
    psample_open_ = true;
  }
  auto r = tc_->SetSamplingRate(port.ifindex, direction, rate, header_bytes);
  if (!r.ok()) return r.status().WithContext("tc sample on " + port.name);
  return r;
}

Result<uint32_t> LinuxPlatform::SetNflog(const hal::PortInfo& port, hal::Direction direction,
                                         DirState& st, uint32_t rate, uint32_t header_bytes) {
  if (!backends_.open_nflog || !backends_.install_nft) {
    return UnimplementedError("nflog on " + port.name +
                              ": this xflowd was built without the NFLOG back-end "
                              "(XFLOWD_WITH_NFLOG=OFF)");
  }
  st.nft_rule.reset();
  packets_->Remove(NflogKey(port.ifindex, direction));
  if (rate == 0) {
    if (st.nflog_group >= 0) nflog_groups_.erase(st.nflog_group);
    st.nflog_group = -1;
    return 0u;
  }
  if (st.nflog_group < 0) {
    // One group per port: NFLOG numbers packets per group, and the sampler reads gaps in that
    // numbering as drops of its own port.
    int g = static_cast<int>(options_.nflog_group);
    while (nflog_groups_.count(g) > 0) ++g;
    if (g > 65535) return hal::base::ResourceExhaustedError("no free NFLOG group");
    nflog_groups_.insert(g);
    st.nflog_group = g;
  }
  const uint16_t group = static_cast<uint16_t>(st.nflog_group);
  auto src = backends_.open_nflog(group, rate, header_bytes, direction);
  if (!src.ok()) return src.status().WithContext("NFLOG group " + std::to_string(group));
  const uint32_t ifindex = port.ifindex;
  XFLOWD_RETURN_IF_ERROR(
      AddPooled(NflogKey(ifindex, direction), ifindex, direction, std::move(src).value()));
  auto rule = backends_.install_nft(port.name, rate, group, header_bytes, direction);
  if (!rule.ok()) {
    packets_->Remove(NflogKey(ifindex, direction));
    return rule.status().WithContext("nft sampling rule on " + port.name);
  }
  st.nft_rule = std::move(rule).value();
  StartPool(ifindex, st);
  return rate;
}

void LinuxPlatform::Release(const hal::PortInfo& port, SampleBackend backend) {
  for (hal::Direction d : {hal::Direction::kIngress, hal::Direction::kEgress}) {
    packets_->Remove(AfPacketKey(port.ifindex, d));
    packets_->Remove(NflogKey(port.ifindex, d));
  }
  auto it = state_.find(port.ifindex);
  if (it != state_.end()) {
    for (const DirState& st : it->second.dir) {
      if (st.nflog_group >= 0) nflog_groups_.erase(st.nflog_group);
    }
    state_.erase(it);
  }
  if (backend == SampleBackend::kPsample && tc_) {
    // Gone devices take their filters with them; a renamed one keeps them until now.
    (void)tc_->SetSamplingRate(port.ifindex, hal::Direction::kIngress, 0, 0);
    (void)tc_->SetSamplingRate(port.ifindex, hal::Direction::kEgress, 0, 0);
  }
  logger_.Log(LogLevel::kDebug, "port %s (ifindex %u): %s sampling released", port.name.c_str(),
              port.ifindex, config::SampleBackendName(backend));
}

}  // namespace xflowd::agent::os_linux
