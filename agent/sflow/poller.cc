#include "agent/sflow/poller.h"

namespace xflowd::agent::sflow {
namespace {

constexpr uint32_t kCompactIndexLimit = 1u << 24;
constexpr size_t kMaxPortNameBytes = 255;    // sFlow port name record: string<255>
constexpr size_t kVlanRecordBytes = 8 + 28;  // 0:5: tag, length, 28 bytes of counters

// The 32-bit MIB packet counters (ifInUcastPkts, ...) are the low 32 bits of the 64-bit
// ones; "unknown" stays unknown (all ones) rather than being truncated.
uint32_t Mib32(uint64_t v) {
  return v == hal::PortCounters::kUnknown64 ? wire::kUnknown32 : static_cast<uint32_t>(v);
}

}  // namespace

Poller::Poller(const hal::PortInfo& port, const PollerConfig& config, Receiver& receiver,
               hal::CounterSource& counters, hal::base::Prng& prng)
    : port_(port),
      config_(config),
      receiver_(&receiver),
      counters_(counters),
      countdown_(config.interval_s == 0 ? 0 : prng.Uniform(1, config.interval_s)) {}

void Poller::set_countdown(uint32_t ticks) {
  if (config_.interval_s == 0) return;
  if (ticks < 1) ticks = 1;
  if (ticks > config_.interval_s) ticks = config_.interval_s;
  countdown_ = ticks;
}

namespace {

// in + out, unknown if either is (a VLAN's counters count both directions).
uint64_t Both64(uint64_t in, uint64_t out) {
  if (in == hal::PortCounters::kUnknown64 || out == hal::PortCounters::kUnknown64) {
    return hal::PortCounters::kUnknown64;
  }
  return in + out;
}
uint32_t Both32(uint64_t in, uint64_t out) {
  const uint64_t v = Both64(in, out);
  return v == hal::PortCounters::kUnknown64 ? hal::PortCounters::kUnknown32
                                            : static_cast<uint32_t>(v);
}

}  // namespace

wire::VlanCounters VlanCountersOf(uint16_t vlan_id, const hal::PortCounters& c) {
  wire::VlanCounters v;
  v.vlan_id = vlan_id;
  v.octets = Both64(c.in_octets, c.out_octets);
  v.ucast_pkts = Both32(c.in_ucast_pkts, c.out_ucast_pkts);
  v.multicast_pkts = Both32(c.in_multicast_pkts, c.out_multicast_pkts);
  v.broadcast_pkts = Both32(c.in_broadcast_pkts, c.out_broadcast_pkts);
  v.discards = Both32(c.in_discards, c.out_discards);
  return v;
}

void Poller::Reconfigure(const PollerConfig& config) {
  const uint32_t old_interval = config_.interval_s;
  config_ = config;
  if (config_.interval_s == 0) {
    countdown_ = 0;
  } else if (old_interval == 0 || countdown_ == 0) {
    countdown_ = config_.interval_s;
  } else {
    set_countdown(countdown_);
  }
}

void Poller::Tick(hal::base::MonoTime /*now*/) {
  if (config_.interval_s == 0 || countdown_ == 0 || receiver_ == nullptr) return;
  if (--countdown_ > 0) return;
  countdown_ = config_.interval_s;

  hal::base::Result<hal::PortCounters> read = counters_.ReadCounters(port_.ifindex);
  if (!read.ok()) {
    ++stats_.read_errors;
    return;
  }
  const hal::PortCounters& c = *read;

  wire::GenericInterfaceCounters gen;
  gen.if_index = port_.ifindex;
  gen.if_type = port_.if_type;
  gen.if_speed = port_.speed_bps;
  gen.if_direction = port_.duplex;
  gen.if_status = (port_.admin_up ? 1u : 0u) | (port_.oper_up ? 2u : 0u);
  gen.in_octets = c.in_octets;  // kUnknown64 is already the sFlow "unknown" value
  gen.in_ucast_pkts = Mib32(c.in_ucast_pkts);
  gen.in_multicast_pkts = Mib32(c.in_multicast_pkts);
  gen.in_broadcast_pkts = Mib32(c.in_broadcast_pkts);
  gen.in_discards = Mib32(c.in_discards);
  gen.in_errors = Mib32(c.in_errors);
  gen.in_unknown_protos = Mib32(c.in_unknown_protos);
  gen.out_octets = c.out_octets;
  gen.out_ucast_pkts = Mib32(c.out_ucast_pkts);
  gen.out_multicast_pkts = Mib32(c.out_multicast_pkts);
  gen.out_broadcast_pkts = Mib32(c.out_broadcast_pkts);
  gen.out_discards = Mib32(c.out_discards);
  gen.out_errors = Mib32(c.out_errors);
  gen.promiscuous_mode = port_.promiscuous ? 1 : 0;

  wire::CounterRecord records[4] = {gen, wire::EthernetInterfaceCounters{}, wire::PortName{},
                                    wire::VlanCounters{}};
  uint32_t record_count = 1;
  if (c.has_ethernet) {
    wire::EthernetInterfaceCounters eth;
    eth.alignment_errors = c.dot3_alignment_errors;
    eth.fcs_errors = c.dot3_fcs_errors;
    eth.single_collision_frames = c.dot3_single_collision_frames;
    eth.multiple_collision_frames = c.dot3_multiple_collision_frames;
    eth.sqe_test_errors = c.dot3_sqe_test_errors;
    eth.deferred_transmissions = c.dot3_deferred_transmissions;
    eth.late_collisions = c.dot3_late_collisions;
    eth.excessive_collisions = c.dot3_excessive_collisions;
    eth.internal_mac_transmit_errors = c.dot3_internal_mac_transmit_errors;
    eth.carrier_sense_errors = c.dot3_carrier_sense_errors;
    eth.frame_too_longs = c.dot3_frame_too_longs;
    eth.internal_mac_receive_errors = c.dot3_internal_mac_receive_errors;
    eth.symbol_errors = c.dot3_symbol_errors;
    records[record_count++] = eth;
  }
  // Before the port name: tshark (4.0) does not skip records it does not know (0:1005), so a
  // record after one would be misread.
  if (port_.vlan_id != 0) records[record_count++] = VlanCountersOf(port_.vlan_id, c);
  if (config_.port_name && !port_.name.empty()) {
    wire::PortName name;
    // A VLAN port's record (36 bytes) comes out of the name's room, so the largest counter
    // sample still fits the smallest datagram allowed (config.h kDatagramBytesMin).
    const size_t max_name = kMaxPortNameBytes - (port_.vlan_id != 0 ? kVlanRecordBytes : 0);
    name.name = hal::base::ByteView(port_.name).Subview(0, max_name);
    records[record_count++] = name;
  }

  wire::CounterSample cs;
  cs.expanded = config_.expanded || port_.ifindex >= kCompactIndexLimit;
  cs.sequence = sequence_ + 1;
  cs.source = wire::DataSource{0, port_.ifindex};
  cs.records = records;
  cs.record_count = record_count;

  // A sample the receiver can never send does not use up a sequence number: collectors
  // would take the gap for a lost datagram.
  if (!receiver_->Add(cs)) {
    ++stats_.oversize_drops;
    return;
  }
  sequence_ = cs.sequence;
  ++stats_.samples;
}

}  // namespace xflowd::agent::sflow
