#include "tools/xflowdump/dump_stats.h"

#include <algorithm>
#include <cstring>
#include <tuple>

#include "agent/packet/packet_parser.h"

namespace xflowd::tools::xflowdump {

namespace sf = exporter::sflow;
namespace packet = agent::packet;
using hal::base::ByteView;
using hal::base::IpAddress;

namespace {

// An uptime this far below the last one is a reboot, not reordering.
constexpr uint32_t kRestartUptimeDropMs = 10000;

int CompareAddress(const IpAddress& a, const IpAddress& b) {
  if (a.family() != b.family()) return a.family() < b.family() ? -1 : 1;
  return std::memcmp(a.bytes(), b.bytes(), 16);
}

bool HasPorts(uint8_t p) { return p == 6 || p == 17 || p == 132; }

}  // namespace

const char* SequenceKindName(SequenceKind kind) {
  switch (kind) {
    case SequenceKind::kDatagram:
      return "datagram";
    case SequenceKind::kFlowSample:
      return "flow_sample";
    case SequenceKind::kCounterSample:
      return "counter_sample";
    case SequenceKind::kDiscardSample:
      return "discard_sample";
  }
  return "unknown";
}

uint64_t Counters::total_gaps() const {
  uint64_t n = 0;
  for (const SequenceCounts& s : sequence) n += s.gaps;
  return n;
}

void Counters::Add(const Counters& o) {
  datagrams += o.datagrams;
  bytes += o.bytes;
  decode_errors += o.decode_errors;
  flow_samples += o.flow_samples;
  counter_samples += o.counter_samples;
  discard_samples += o.discard_samples;
  unknown_samples += o.unknown_samples;
  for (int i = 0; i < kSequenceKinds; ++i) sequence[i].Add(o.sequence[i]);
}

bool AgentKey::operator<(const AgentKey& o) const {
  int c = CompareAddress(address, o.address);
  if (c != 0) return c < 0;
  if (sub_agent_id != o.sub_agent_id) return sub_agent_id < o.sub_agent_id;
  c = CompareAddress(collector.address, o.collector.address);
  if (c != 0) return c < 0;
  return collector.port < o.collector.port;
}

std::string AgentKey::ToString() const {
  std::string s = address.family() == IpAddress::Family::kNone ? "unknown" : address.ToString();
  if (sub_agent_id != 0) s += "/" + std::to_string(sub_agent_id);
  if (collector.address.family() != IpAddress::Family::kNone) {
    s += " -> " + collector.ToString();
  }
  return s;
}

bool TalkerKey::operator<(const TalkerKey& o) const {
  return std::tie(ip_version, protocol, src_port, dst_port) <
             std::tie(o.ip_version, o.protocol, o.src_port, o.dst_port) ||
         (std::tie(ip_version, protocol, src_port, dst_port) ==
              std::tie(o.ip_version, o.protocol, o.src_port, o.dst_port) &&
          (std::memcmp(src, o.src, 16) < 0 ||
           (std::memcmp(src, o.src, 16) == 0 && std::memcmp(dst, o.dst, 16) < 0)));
}

IpAddress TalkerKey::src_address() const {
  return ip_version == 4 ? IpAddress::V4(src) : ip_version == 6 ? IpAddress::V6(src) : IpAddress();
}

IpAddress TalkerKey::dst_address() const {
  return ip_version == 4 ? IpAddress::V4(dst) : ip_version == 6 ? IpAddress::V6(dst) : IpAddress();
}

std::string TalkerKey::ToString() const {
  if (ip_version == 0) return "non-IP";
  const char* name = packet::IpProtocolName(protocol);
  std::string s = name ? name : "proto " + std::to_string(protocol);
  s += " ";
  const IpAddress src_ip = src_address();
  const IpAddress dst_ip = dst_address();
  auto ep = [this](const IpAddress& a, uint16_t port) {
    std::string addr = a.is_v6() ? "[" + a.ToString() + "]" : a.ToString();
    if (!HasPorts(protocol)) return a.ToString();
    return addr + ":" + std::to_string(port);
  };
  return s + ep(src_ip, src_port) + " -> " + ep(dst_ip, dst_port);
}

bool TalkerOf(const sf::DecodedFlowSample& s, TalkerKey* key, uint64_t* frame_bytes) {
  *key = TalkerKey();
  for (const sf::DecodedFlowRecord& r : s.records) {
    const auto* h = std::get_if<sf::DecodedSampledHeader>(&r);
    if (h == nullptr) continue;
    packet::LinkType link;
    if (h->protocol == sf::kHeaderEthernet) {
      link = packet::LinkType::kEthernet;
    } else if (h->protocol == sf::kHeaderIpv4 || h->protocol == sf::kHeaderIpv6) {
      link = packet::LinkType::kRawIp;
    } else {
      continue;
    }
    packet::ParsedPacket p;
    packet::ParsePacket(ByteView(h->header.data(), h->header.size()), link, &p);
    *frame_bytes = h->frame_length;
    if (p.ip_version != 4 && p.ip_version != 6) return true;  // non-IP: key stays zero
    key->ip_version = p.ip_version;
    key->protocol = p.protocol;
    std::memcpy(key->src, p.src_ip, 16);
    std::memcpy(key->dst, p.dst_ip, 16);
    if (p.has_ports) {
      key->src_port = p.src_port;
      key->dst_port = p.dst_port;
    }
    return true;
  }
  for (const sf::DecodedFlowRecord& r : s.records) {
    if (const auto* v4 = std::get_if<sf::SampledIpv4>(&r)) {
      key->ip_version = 4;
      key->protocol = static_cast<uint8_t>(v4->protocol);
      std::memcpy(key->src, v4->src_ip, 4);
      std::memcpy(key->dst, v4->dst_ip, 4);
      if (HasPorts(key->protocol)) {
        key->src_port = static_cast<uint16_t>(v4->src_port);
        key->dst_port = static_cast<uint16_t>(v4->dst_port);
      }
      *frame_bytes = v4->length;
      return true;
    }
    if (const auto* v6 = std::get_if<sf::SampledIpv6>(&r)) {
      key->ip_version = 6;
      key->protocol = static_cast<uint8_t>(v6->protocol);
      std::memcpy(key->src, v6->src_ip, 16);
      std::memcpy(key->dst, v6->dst_ip, 16);
      if (HasPorts(key->protocol)) {
        key->src_port = static_cast<uint16_t>(v6->src_port);
        key->dst_port = static_cast<uint16_t>(v6->dst_port);
      }
      *frame_bytes = v6->length;
      return true;
    }
  }
  return false;
}

bool DumpStats::SourceKey::operator<(const SourceKey& o) const {
  if (agent < o.agent) return true;
  if (o.agent < agent) return false;
  return std::tie(kind, type, index) < std::tie(o.kind, o.type, o.index);
}

void DumpStats::ObserveSource(const AgentKey& agent, uint64_t epoch, SequenceKind kind,
                              const sf::DataSource& source, uint32_t sequence, AgentStats* stats) {
  SourceState& st = sources_[SourceKey{agent, kind, source.type, source.index}];
  const bool restarted = st.tracker.started() && st.epoch != epoch;
  st.epoch = epoch;
  const SequenceTracker::Observation o = st.tracker.Observe(sequence, restarted);
  Count(o, &total_.seq(kind));
  Count(o, &interval_.seq(kind));
  Count(o, &stats->total.seq(kind));
  Count(o, &stats->interval.seq(kind));
}

void DumpStats::AddDatagram(const sf::DecodedDatagram& d, size_t bytes,
                            const hal::base::Endpoint& collector) {
  const AgentKey agent{d.header.agent_address, d.header.sub_agent_id, collector};
  AgentStats& stats = agents_[agent];
  AgentState& state = agent_state_[agent];

  Counters delta;
  delta.datagrams = 1;
  delta.bytes = bytes;

  const uint32_t uptime = d.header.uptime_ms;
  const bool consecutive = d.header.sequence - state.tracker.last() == 1;
  const bool restarted = state.have_uptime && !consecutive &&
                         uptime + uint64_t{kRestartUptimeDropMs} < state.last_uptime_ms;
  const SequenceTracker::Observation o = state.tracker.Observe(d.header.sequence, restarted);
  if (o.step == SequenceTracker::Step::kReset) ++state.epoch;
  if (o.step != SequenceTracker::Step::kLate && o.step != SequenceTracker::Step::kDuplicate) {
    state.have_uptime = true;
    state.last_uptime_ms = uptime;
  }
  // Straight into the running counts (not delta): a late arrival takes back a number that an
  // earlier gap counted as missing.
  for (Counters* c : {&total_, &interval_, &stats.total, &stats.interval}) {
    Count(o, &c->seq(SequenceKind::kDatagram));
  }

  for (const sf::DecodedSample& sample : d.samples) {
    if (const auto* fs = std::get_if<sf::DecodedFlowSample>(&sample)) {
      ++delta.flow_samples;
      ObserveSource(agent, state.epoch, SequenceKind::kFlowSample, fs->source, fs->sequence,
                    &stats);
      AddTalkers(*fs);
    } else if (const auto* cs = std::get_if<sf::DecodedCounterSample>(&sample)) {
      ++delta.counter_samples;
      ObserveSource(agent, state.epoch, SequenceKind::kCounterSample, cs->source, cs->sequence,
                    &stats);
    } else if (const auto* ds = std::get_if<sf::DecodedDiscardSample>(&sample)) {
      ++delta.discard_samples;
      ObserveSource(agent, state.epoch, SequenceKind::kDiscardSample, ds->source, ds->sequence,
                    &stats);
    } else {
      ++delta.unknown_samples;
    }
  }
  // The sequences are counted already; delta carries the rest.
  total_.Add(delta);
  interval_.Add(delta);
  stats.total.Add(delta);
  stats.interval.Add(delta);
  stats.last_sequence = d.header.sequence;
  stats.last_uptime_ms = uptime;
}

void DumpStats::AddDecodeError(const hal::base::Endpoint& source, size_t bytes,
                               const std::string& message) {
  ++total_.decode_errors;
  ++interval_.decode_errors;
  last_error_ = source.ToString() + " (" + std::to_string(bytes) + " bytes): " + message;
  if (first_errors_.size() < max_errors_kept_) {
    first_errors_.push_back(DecodeErrorRecord{source, bytes, message});
  }
}

void DumpStats::AddTalkers(const sf::DecodedFlowSample& s) {
  TalkerKey key;
  uint64_t frame_bytes = 0;
  if (!TalkerOf(s, &key, &frame_bytes)) return;
  AddTalker(key, frame_bytes * s.sampling_rate, s.sampling_rate);
}

void DumpStats::AddTalker(const TalkerKey& key, uint64_t bytes, uint64_t packets) {
  auto add = [&](std::map<TalkerKey, TalkerTotals>& table, TalkerTotals& other) {
    auto it = table.find(key);
    if (it == table.end()) {
      if (table.size() >= max_talkers_) {
        other.bytes += bytes;
        other.packets += packets;
        ++other.samples;
        return;
      }
      it = table.emplace(key, TalkerTotals()).first;
    }
    it->second.bytes += bytes;
    it->second.packets += packets;
    ++it->second.samples;
  };
  add(total_talkers_, total_other_);
  add(interval_talkers_, interval_other_);
}

void DumpStats::ResetInterval() {
  interval_ = Counters();
  for (auto& [key, stats] : agents_) stats.interval = Counters();
  interval_talkers_.clear();
  interval_other_ = TalkerTotals();
}

std::vector<Talker> DumpStats::TopTalkers(size_t n, bool interval) const {
  const auto& table = interval ? interval_talkers_ : total_talkers_;
  std::vector<Talker> all;
  all.reserve(table.size());
  for (const auto& [key, totals] : table) all.push_back(Talker{key, totals});
  const size_t k = std::min(n, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(k), all.end(),
                    [](const Talker& a, const Talker& b) {
                      if (a.totals.bytes != b.totals.bytes) return a.totals.bytes > b.totals.bytes;
                      return a.key < b.key;
                    });
  all.resize(k);
  return all;
}

}  // namespace xflowd::tools::xflowdump
