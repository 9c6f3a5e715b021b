#include "sim/sim_switch.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <string>
#include <utility>

#include "sim/packet_builder.h"
#include "sim/traffic_model.h"

namespace xflowd::sim {
namespace {

using hal::Direction;
using hal::base::Duration;
using hal::base::MonoTime;
using hal::base::Prng;
using hal::base::Result;
using hal::base::Status;

// Correlation of the log burst factor from one slice to the next (AR(1)): with 10 ms slices,
// bursts last ~100 ms.
constexpr double kBurstCorrelation = 0.9;
constexpr uint32_t kMaxRate = 1u << 31;
// Ethernet FCS: on the wire and in the counters, not in the frames the traffic model builds.
constexpr uint32_t kFcsBytes = 4;
// How often a train re-draws its flow when the drawn one leads to a port that is down.
constexpr int kFlowRetries = 4;

int Dir(Direction d) { return d == Direction::kIngress ? 0 : 1; }

// What the train loop touches of a flow: 32 bytes, apart from its (cold) FlowSpec, so the
// random Zipf accesses over 48 x 1000 flows mostly hit cache.
struct FlowState {
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint32_t output_port = kNoPort;
  FrameSizes sizes;
  CastType cast = CastType::kUnicast;
};
constexpr uint32_t kNoFlow = 0xFFFFFFFFu;

struct SamplerState {
  uint32_t rate = 0;       // 0 = off; the rate reported
  uint32_t walk_rate = 0;  // the rate really sampled at (rate x PortFault::rate_factor)
  uint32_t header_bytes = 0;
  uint64_t countdown = 0;  // packets until the next sample, counting it; >= 1 while on
  uint32_t sequence = 0;   // of the next sample taken
  MonoTime last_timestamp;
  Prng prng{0};
};

// One train planned for the current slice.
struct PlannedTrain {
  uint32_t flow = kNoFlow;  // kNoFlow: every flow drawn led to a port that is down
  uint32_t frame_length = 0;
};

struct Port {
  uint32_t ifindex = 0;
  bool present = true;
  bool oper_up = true;
  PortTruth truth;
  Prng traffic{0};
  double burst_log = 0;            // AR(1) state of the log burst factor
  double packets_per_train = 0;    // in the current slice
  double packet_carry = 0;         // fraction of a packet not yet sent, in [0, 1)
  std::vector<PlannedTrain> plan;  // trains_per_slice entries
  std::vector<FlowState> flows;    // [flows_per_port], by Zipf rank
  std::vector<FlowSpec> specs;     // same index
  SamplerState sampler[2];         // [Dir()]
  PortFault fault;                 // ifindex 0: none

  bool carries_traffic() const { return present && oper_up; }
};

struct QueuedSample {
  uint32_t input_ifindex = 0;
  uint32_t output_ifindex = 0;
  Direction direction = Direction::kIngress;
  uint32_t frame_length = 0;
  uint32_t sampling_rate = 0;
  uint32_t sequence = 0;
  uint32_t header_length = 0;
  MonoTime timestamp;
};

uint32_t RoundToPowerOfTwo(uint32_t n) {
  if (n <= 2) return n;
  uint32_t lo = 1;
  while (lo <= n / 2) lo <<= 1;  // largest power of two <= n
  if (lo == n || lo == kMaxRate) return lo;
  const uint32_t hi = lo << 1;
  return n - lo < hi - n ? lo : hi;
}

void CountCast(CastType cast, uint64_t m, uint64_t& ucast, uint64_t& mcast, uint64_t& bcast) {
  switch (cast) {
    case CastType::kUnicast:
      ucast += m;
      break;
    case CastType::kMulticast:
      mcast += m;
      break;
    case CastType::kBroadcast:
      bcast += m;
      break;
  }
}

Status Validate(const SimConfig& c) {
  auto bad = [](const std::string& m) { return hal::base::InvalidArgumentError("sim: " + m); };
  auto fraction = [](double x) { return x >= 0.0 && x <= 1.0; };
  if (c.num_ports == 0) return bad("num_ports must be at least 1");
  if (c.first_ifindex == 0) return bad("first_ifindex must be at least 1");
  if (c.first_ifindex > UINT32_MAX - c.num_ports) return bad("ifindex range overflows 32 bits");
  if (c.flows_per_port == 0) return bad("flows_per_port must be at least 1");
  if (!fraction(c.load)) return bad("load must be in [0, 1]");
  if (!fraction(c.ipv6_fraction) || !fraction(c.vlan_fraction) || !fraction(c.qinq_fraction) ||
      !fraction(c.sample_loss) || !fraction(c.multicast_fraction) ||
      !fraction(c.broadcast_fraction)) {
    return bad("fractions (ipv6, vlan, qinq, multicast, broadcast, sample_loss) must be in [0, 1]");
  }
  if (!(c.zipf_s >= 0.0 && c.zipf_s < 100.0)) return bad("zipf_s must be in [0, 100)");
  if (!(c.burstiness >= 0.0 && c.burstiness <= 4.0)) return bad("burstiness must be in [0, 4]");
  if (c.header_bytes == 0 || c.header_bytes > 65535) return bad("header_bytes must be 1..65535");
  if (c.queue_capacity == 0 || c.queue_capacity > (uint64_t{1} << 32) / c.header_bytes) {
    return bad("queue_capacity must be at least 1 and queue_capacity x header_bytes <= 4 GiB");
  }
  if (c.slice_us == 0) return bad("slice_us must be at least 1");
  if (c.trains_per_slice == 0) return bad("trains_per_slice must be at least 1");
  for (size_t i = 0; i < c.faults.size(); ++i) {
    const PortFault& f = c.faults[i];
    const std::string port = "fault on ifindex " + std::to_string(f.ifindex) + ": ";
    if (f.ifindex < c.first_ifindex || f.ifindex - c.first_ifindex >= c.num_ports) {
      return bad(port + "no such port");
    }
    for (size_t j = 0; j < i; ++j) {
      if (c.faults[j].ifindex == f.ifindex) return bad(port + "given twice");
    }
    if (!fraction(f.hide_fraction) || !fraction(f.drop_fraction)) {
      return bad(port + "fractions must be in [0, 1]");
    }
    if (!(f.rate_factor > 0.0 && f.rate_factor <= 1000.0)) {
      return bad(port + "rate factor must be in (0, 1000]");
    }
  }
  return Status::Ok();
}

}  // namespace

struct SimSwitch::Impl {
  Impl(const SimConfig& c, MonoTime start)
      : config(c),
        slice(std::chrono::microseconds(c.slice_us)),
        next_slice_start(start),
        zipf(c.flows_per_port, c.zipf_s),
        slots(c.queue_capacity),
        slot_bytes(new uint8_t[c.queue_capacity * c.header_bytes]) {
    Prng master(c.seed);
    const FlowMix mix{c.ipv6_fraction, c.vlan_fraction, c.qinq_fraction, c.multicast_fraction,
                      c.broadcast_fraction};
    ports.resize(c.num_ports);
    for (uint32_t i = 0; i < c.num_ports; ++i) {
      Port& p = ports[i];
      p.ifindex = c.first_ifindex + i;
      p.traffic = master.Fork();
      for (SamplerState& s : p.sampler) {
        s.prng = master.Fork();
        s.header_bytes = c.header_bytes;
        s.last_timestamp = start;
      }
      Prng flow_prng = master.Fork();
      p.plan.resize(c.trains_per_slice);
      p.flows.resize(c.flows_per_port);
      p.specs.resize(c.flows_per_port);
      for (uint32_t f = 0; f < c.flows_per_port; ++f) {
        const FlowSpec& spec = p.specs[f] = MakeFlow(mix, i, c.num_ports, flow_prng);
        p.flows[f].output_port = spec.output_port;
        p.flows[f].sizes = spec.sizes;
        p.flows[f].cast = spec.cast;
      }
    }
    for (const PortFault& f : c.faults) ports[f.ifindex - c.first_ifindex].fault = f;
  }

  ~Impl() {
    if (event_fd >= 0) close(event_fd);
  }

  Port* Find(uint32_t ifindex) {
    if (ifindex < config.first_ifindex || ifindex - config.first_ifindex >= ports.size()) {
      return nullptr;
    }
    return &ports[ifindex - config.first_ifindex];
  }
  Port* FindPresent(uint32_t ifindex) {
    Port* p = Find(ifindex);
    return p && p->present ? p : nullptr;
  }

  hal::PortInfo Info(const Port& p) const {
    hal::PortInfo info;
    info.ifindex = p.ifindex;
    info.name = config.port_name_prefix + std::to_string(p.ifindex - config.first_ifindex + 1);
    info.speed_bps = config.port_speed_bps;
    info.if_type = 6;
    info.duplex = 1;
    info.admin_up = true;
    info.oper_up = p.oper_up;
    for (const auto& [ifindex, vlan] : config.vlan_ports) {
      if (ifindex == p.ifindex) info.vlan_id = vlan;
    }
    const uint8_t mac[6] = {0x02,
                            0x58,
                            0x46,
                            static_cast<uint8_t>(p.ifindex >> 16),
                            static_cast<uint8_t>(p.ifindex >> 8),
                            static_cast<uint8_t>(p.ifindex)};
    std::memcpy(info.mac, mac, 6);
    return info;
  }

  void RunSlice(MonoTime t0);
  void EmitTrain(Port& in, uint32_t flow, uint32_t frame_length, uint64_t m, MonoTime start,
                 int64_t duration_ns);
  void Walk(Port& port, Direction dir, const FlowSpec& flow, uint32_t frame_length, uint64_t m,
            uint64_t first_ordinal, MonoTime start, int64_t duration_ns);
  void Take(Port& port, Direction dir, const FlowSpec& flow, uint32_t frame_length,
            uint64_t ordinal, MonoTime timestamp);
  void Signal();
  void Unsignal();

  SimConfig config;
  Duration slice;
  MonoTime next_slice_start;
  ZipfTable zipf;
  std::vector<Port> ports;
  PortTruth no_truth;

  // Sample ring: slot i's header bytes are slot_bytes[i * header_bytes ...].
  std::vector<QueuedSample> slots;
  std::unique_ptr<uint8_t[]> slot_bytes;
  size_t head = 0;
  size_t count = 0;
  int event_fd = -1;
  hal::PacketSourceStats stats;
  Listener listener;
};

// Each port's slice is planned first: trains_per_slice (flow, frame size) draws, then one
// packet count shared by all of them so the bytes add up to the offered load. Equal packet
// counts (not equal bytes) per train make small-packet flows carry few bytes, as on real
// links; the mean frame is the mean of the drawn sizes. Trains then go out band by band,
// all ports interleaved, so time advances together across ports.
void SimSwitch::Impl::RunSlice(MonoTime t0) {
  const double line_bytes_per_slice =
      static_cast<double>(config.port_speed_bps) / 8.0 * static_cast<double>(slice.count()) * 1e-9;
  const double sigma = config.burstiness;
  const double innovation = sigma * std::sqrt(1.0 - kBurstCorrelation * kBurstCorrelation);
  // Draw every port's flows first and prefetch them: the flow table is larger than the cache
  // and these random reads are most of the cost of a slice.
  for (Port& p : ports) {
    for (PlannedTrain& t : p.plan) {
      t.flow = zipf.Draw(p.traffic);
      __builtin_prefetch(&p.flows[t.flow]);
    }
  }
  for (Port& p : ports) {
    double factor = 1.0;
    if (sigma > 0) {
      p.burst_log = kBurstCorrelation * p.burst_log + innovation * ApproxNormal(p.traffic);
      factor = std::exp(p.burst_log - sigma * sigma / 2);  // mean 1
    }
    p.packets_per_train = 0;
    if (!p.carries_traffic()) continue;
    const double bytes = std::min(config.load * factor, 1.0) * line_bytes_per_slice;
    double planned_bytes = 0;
    for (PlannedTrain& t : p.plan) {
      // A flow towards a port that is down is redrawn (a few times, then the train is dropped).
      for (int attempt = 1; t.flow != kNoFlow; ++attempt) {
        const uint32_t out = p.flows[t.flow].output_port;
        if (out == kNoPort || ports[out].carries_traffic()) break;
        t.flow = attempt < kFlowRetries ? zipf.Draw(p.traffic) : kNoFlow;
      }
      if (t.flow == kNoFlow) continue;
      t.frame_length = DrawFrameLength(p.flows[t.flow].sizes, p.traffic);
      planned_bytes += t.frame_length;
    }
    if (planned_bytes > 0) p.packets_per_train = bytes / planned_bytes;
  }

  const int64_t slice_ns = slice.count();
  const uint32_t k_max = config.trains_per_slice;
  for (uint32_t k = 0; k < k_max; ++k) {
    const int64_t from = slice_ns * k / k_max;
    const int64_t to = slice_ns * (k + 1) / k_max;
    const MonoTime start = t0 + Duration(from);
    for (Port& p : ports) {
      const PlannedTrain& t = p.plan[k];
      if (p.packets_per_train <= 0 || t.flow == kNoFlow) continue;
      // Whole packets; the fraction carries over to the port's next train.
      p.packet_carry += p.packets_per_train;
      const uint64_t m = static_cast<uint64_t>(p.packet_carry);
      p.packet_carry -= static_cast<double>(m);
      if (m == 0) continue;
      EmitTrain(p, t.flow, t.frame_length, m, start, to - from);
    }
  }
}

void SimSwitch::Impl::EmitTrain(Port& in, uint32_t flow, uint32_t frame_length, uint64_t m,
                                MonoTime start, int64_t duration_ns) {
  FlowState& f = in.flows[flow];
  const FlowSpec& spec = in.specs[flow];  // touched only when a sample is taken
  const uint64_t bytes = m * (uint64_t{frame_length} + kFcsBytes);
  const uint64_t first_ordinal = f.packets;
  f.packets += m;
  f.bytes += bytes;

  PortTruth& it = in.truth;
  it.in_packets += m;
  it.in_bytes += bytes;
  CountCast(f.cast, m, it.in_ucast, it.in_mcast, it.in_bcast);
  Walk(in, Direction::kIngress, spec, frame_length, m, first_ordinal, start, duration_ns);

  if (f.output_port == kNoPort) return;
  Port& out = ports[f.output_port];
  PortTruth& ot = out.truth;
  ot.out_packets += m;
  ot.out_bytes += bytes;
  CountCast(f.cast, m, ot.out_ucast, ot.out_mcast, ot.out_bcast);
  Walk(out, Direction::kEgress, spec, frame_length, m, first_ordinal, start, duration_ns);
}

// Walks the sampler's skip countdown across a train of m packets: O(1) plus O(samples).
void SimSwitch::Impl::Walk(Port& port, Direction dir, const FlowSpec& flow, uint32_t frame_length,
                           uint64_t m, uint64_t first_ordinal, MonoTime start,
                           int64_t duration_ns) {
  SamplerState& s = port.sampler[Dir(dir)];
  if (s.rate == 0) return;
  uint64_t left = m;
  uint64_t index = 0;  // 1-based index in the train of the packet just sampled
  while (s.countdown <= left) {
    index += s.countdown;
    left -= s.countdown;
    // Packets are spread evenly over the train's time band.
    const double at = (static_cast<double>(index) - 0.5) / static_cast<double>(m);
    MonoTime ts = start + Duration(static_cast<int64_t>(at * static_cast<double>(duration_ns)));
    if (ts < s.last_timestamp) ts = s.last_timestamp;
    s.last_timestamp = ts;
    Take(port, dir, flow, frame_length, first_ordinal + index - 1, ts);
    s.countdown = 1 + UniformBelow(s.prng, 2 * s.walk_rate - 1);
  }
  s.countdown -= left;
}

void SimSwitch::Impl::Take(Port& port, Direction dir, const FlowSpec& flow, uint32_t frame_length,
                           uint64_t ordinal, MonoTime timestamp) {
  SamplerState& s = port.sampler[Dir(dir)];
  ++port.truth.samples_taken;
  // Faults draw from the sampler's PRNG only when set, so honest ports keep their streams.
  const PortFault& fault = port.fault;
  if (fault.hide_fraction > 0 && s.prng.NextDouble() < fault.hide_fraction) {
    ++port.truth.samples_hidden;
    return;
  }
  const uint32_t sequence = s.sequence++;
  const bool lost_in_asic = (config.sample_loss > 0 && s.prng.NextDouble() < config.sample_loss) ||
                            (fault.drop_fraction > 0 && s.prng.NextDouble() < fault.drop_fraction);
  if (lost_in_asic || count == slots.size()) {
    ++port.truth.samples_lost;
    ++stats.source_drops;
    return;
  }
  size_t i = head + count;
  if (i >= slots.size()) i -= slots.size();
  QueuedSample& q = slots[i];
  q.input_ifindex = ports[flow.input_port].ifindex;
  q.output_ifindex = flow.output_port == kNoPort ? 0 : ports[flow.output_port].ifindex;
  q.direction = dir;
  q.frame_length = frame_length + kFcsBytes;
  q.sampling_rate = s.rate;
  q.sequence = sequence;
  q.timestamp = timestamp;

  // Per-packet fields move along with the packet's position in its flow.
  PacketSpec pkt = flow.packet;
  const uint32_t payload = frame_length - HeaderLength(pkt);
  pkt.ip_id = static_cast<uint16_t>(pkt.ip_id + ordinal);
  pkt.tcp_seq = static_cast<uint32_t>(pkt.tcp_seq + ordinal * payload);
  pkt.icmp_seq = static_cast<uint16_t>(ordinal);
  q.header_length = static_cast<uint32_t>(
      BuildFrame(pkt, frame_length, slot_bytes.get() + i * config.header_bytes, s.header_bytes));
  if (count++ == 0) Signal();
}

void SimSwitch::Impl::Signal() {
  if (event_fd < 0) return;
  const uint64_t one = 1;
  // Cannot fail short of counter overflow; a missed wake-up would only delay the next Drain.
  ssize_t r = write(event_fd, &one, sizeof(one));
  (void)r;
}

void SimSwitch::Impl::Unsignal() {
  if (event_fd < 0) return;
  uint64_t value;
  ssize_t r = read(event_fd, &value, sizeof(value));  // EAGAIN if already clear: fine
  (void)r;
}

Result<std::unique_ptr<SimSwitch>> SimSwitch::Create(const SimConfig& config, MonoTime start) {
  XFLOWD_RETURN_IF_ERROR(Validate(config));
  std::unique_ptr<SimSwitch> sw(new SimSwitch(config, start));
  sw->impl_->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (sw->impl_->event_fd < 0) return hal::base::ErrnoError("sim: eventfd", errno);
  return sw;
}

SimSwitch::SimSwitch(const SimConfig& config, MonoTime start)
    : impl_(std::make_unique<Impl>(config, start)), config_(config) {}

SimSwitch::~SimSwitch() = default;

void SimSwitch::AdvanceTo(MonoTime now) {
  Impl& im = *impl_;
  while (im.next_slice_start + im.slice <= now) {
    im.RunSlice(im.next_slice_start);
    im.next_slice_start += im.slice;
  }
}

Status SimSwitch::SetLoad(double load) {
  if (!(load >= 0.0 && load <= 1.0))
    return hal::base::InvalidArgumentError("sim: load must be in [0, 1]");
  impl_->config.load = load;
  config_.load = load;
  return Status::Ok();
}

void SimSwitch::SkipTo(MonoTime now) {
  Impl& im = *impl_;
  if (im.next_slice_start + im.slice > now) return;
  const int64_t slices = (now - im.next_slice_start).count() / im.slice.count();
  im.next_slice_start += Duration(slices * im.slice.count());
}

MonoTime SimSwitch::generated_until() const { return impl_->next_slice_start; }

int SimSwitch::fd() const { return impl_->event_fd; }

size_t SimSwitch::Drain(hal::PacketSampleSink& sink, size_t budget) {
  Impl& im = *impl_;
  size_t n = 0;
  const size_t capacity = im.slots.size();
  while (n < budget && im.count > 0) {
    const QueuedSample& q = im.slots[im.head];
    hal::PacketSample s;
    s.input_ifindex = q.input_ifindex;
    s.output_ifindex = q.output_ifindex;
    s.direction = q.direction;
    s.frame_length = q.frame_length;
    s.stripped = kFcsBytes;
    s.sampling_rate = q.sampling_rate;
    s.source_sequence = q.sequence;
    s.has_source_sequence = true;
    s.timestamp = q.timestamp;
    s.header = hal::base::ByteView(im.slot_bytes.get() + im.head * im.config.header_bytes,
                                   q.header_length);
    sink.OnSample(s);
    // Free the slot only after the callback: the view points into it.
    im.head = im.head + 1 == capacity ? 0 : im.head + 1;
    --im.count;
    ++im.stats.samples;
    ++n;
  }
  if (n > 0 && im.count == 0) im.Unsignal();
  return n;
}

hal::PacketSourceStats SimSwitch::stats() const { return impl_->stats; }

Result<uint32_t> SimSwitch::SetSamplingRate(uint32_t ifindex, Direction direction, uint32_t rate,
                                            uint32_t header_bytes) {
  Port* p = impl_->FindPresent(ifindex);
  if (p == nullptr) {
    return hal::base::NotFoundError("sim: no port with ifindex " + std::to_string(ifindex));
  }
  uint32_t applied = std::min(rate, kMaxRate);
  if (config_.round_rate_pow2) applied = RoundToPowerOfTwo(applied);
  SamplerState& s = p->sampler[Dir(direction)];
  s.rate = applied;
  s.walk_rate = applied;
  if (applied != 0 && p->fault.rate_factor != 1.0) {
    const double walk = std::round(static_cast<double>(applied) * p->fault.rate_factor);
    s.walk_rate = static_cast<uint32_t>(std::min(std::max(walk, 1.0), double{kMaxRate}));
  }
  s.header_bytes =
      header_bytes == 0 ? config_.header_bytes : std::min(header_bytes, config_.header_bytes);
  s.countdown = s.walk_rate == 0 ? 0 : 1 + UniformBelow(s.prng, 2 * s.walk_rate - 1);
  return applied;
}

Result<hal::PortCounters> SimSwitch::ReadCounters(uint32_t ifindex) {
  const Port* p = impl_->FindPresent(ifindex);
  if (p == nullptr) {
    return hal::base::NotFoundError("sim: no port with ifindex " + std::to_string(ifindex));
  }
  const PortTruth& t = p->truth;
  hal::PortCounters c;
  c.in_octets = t.in_bytes;
  c.in_ucast_pkts = t.in_ucast;
  c.in_multicast_pkts = t.in_mcast;
  c.in_broadcast_pkts = t.in_bcast;
  c.in_discards = 0;
  c.in_errors = 0;
  c.in_unknown_protos = 0;
  c.out_octets = t.out_bytes;
  c.out_ucast_pkts = t.out_ucast;
  c.out_multicast_pkts = t.out_mcast;
  c.out_broadcast_pkts = t.out_bcast;
  c.out_discards = 0;
  c.out_errors = 0;
  c.has_ethernet = true;
  c.dot3_alignment_errors = 0;
  c.dot3_fcs_errors = 0;
  c.dot3_single_collision_frames = 0;
  c.dot3_multiple_collision_frames = 0;
  c.dot3_sqe_test_errors = 0;
  c.dot3_deferred_transmissions = 0;
  c.dot3_late_collisions = 0;
  c.dot3_excessive_collisions = 0;
  c.dot3_internal_mac_transmit_errors = 0;
  c.dot3_carrier_sense_errors = 0;
  c.dot3_frame_too_longs = 0;
  c.dot3_internal_mac_receive_errors = 0;
  c.dot3_symbol_errors = 0;
  return c;
}

Result<std::vector<hal::PortInfo>> SimSwitch::ListPorts() {
  std::vector<hal::PortInfo> out;
  out.reserve(impl_->ports.size());
  for (const Port& p : impl_->ports) {
    if (p.present) out.push_back(impl_->Info(p));
  }
  return out;
}

void SimSwitch::SetListener(Listener listener) { impl_->listener = std::move(listener); }

Status SimSwitch::SetPortPresent(uint32_t ifindex, bool present) {
  Port* p = impl_->Find(ifindex);
  if (p == nullptr) {
    return hal::base::NotFoundError("sim: no port with ifindex " + std::to_string(ifindex));
  }
  if (p->present == present) return Status::Ok();
  p->present = present;
  if (impl_->listener) {
    impl_->listener(present ? hal::PortEvent::kAdded : hal::PortEvent::kRemoved, impl_->Info(*p));
  }
  return Status::Ok();
}

Status SimSwitch::SetPortOperUp(uint32_t ifindex, bool up) {
  Port* p = impl_->FindPresent(ifindex);
  if (p == nullptr) {
    return hal::base::NotFoundError("sim: no port with ifindex " + std::to_string(ifindex));
  }
  if (p->oper_up == up) return Status::Ok();
  p->oper_up = up;
  if (impl_->listener) impl_->listener(hal::PortEvent::kChanged, impl_->Info(*p));
  return Status::Ok();
}

const PortTruth& SimSwitch::port_truth(uint32_t ifindex) const {
  const Port* p = impl_->Find(ifindex);
  return p ? p->truth : impl_->no_truth;
}

std::vector<FlowTruth> SimSwitch::flow_truth() const {
  std::vector<FlowTruth> out;
  for (const Port& p : impl_->ports) {
    for (size_t i = 0; i < p.flows.size(); ++i) {
      const FlowState& f = p.flows[i];
      if (f.packets == 0) continue;
      const PacketSpec& k = p.specs[i].packet;
      FlowTruth t;
      t.input_ifindex = p.ifindex;
      t.output_ifindex = f.output_port == kNoPort ? 0 : impl_->ports[f.output_port].ifindex;
      t.ip_version = k.ip_version;
      t.protocol = k.protocol;
      std::memcpy(t.src_ip, k.src_ip, 16);
      std::memcpy(t.dst_ip, k.dst_ip, 16);
      t.src_port = k.src_port;
      t.dst_port = k.dst_port;
      t.vlan = k.vlan_count > 0 ? k.vlan_id[0] : 0;
      t.vlan_tags = k.vlan_count;
      t.packets = f.packets;
      t.bytes = f.bytes;
      out.push_back(t);
    }
  }
  return out;
}

}  // namespace xflowd::sim
