#include "agent/daemon/top_talkers.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "agent/packet/packet_parser.h"
#include "hal/base/ip_address.h"

namespace xflowd::agent::daemon {

static_assert(sizeof(TalkerKey) == 40, "TalkerKey is hashed and compared as 40 bytes");

namespace {

bool HasPorts(uint8_t p) { return p == 6 || p == 17 || p == 132; }
bool IsIcmp(uint8_t p) { return p == 1 || p == 58; }

uint64_t Word(const uint8_t* p) {
  uint64_t w;
  std::memcpy(&w, p, sizeof(w));
  return w;
}

// Five 64-bit words mixed by multiply-rotate: a handful of cycles, well spread low bits.
uint64_t Hash(const TalkerKey& k) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(&k);
  uint64_t h = 0x243F6A8885A308D3ull;
  for (int i = 0; i < 5; ++i) {
    h = (h ^ Word(p + 8 * i)) * 0x9E3779B97F4A7C15ull;
    h = (h << 31) | (h >> 33);
  }
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDull;
  h ^= h >> 29;
  return h;
}

std::string Address(uint8_t version, const uint8_t* b) {
  return version == 6 ? hal::base::IpAddress::V6(b).ToString()
                      : hal::base::IpAddress::V4(b).ToString();
}

}  // namespace

bool TalkerKey::operator==(const TalkerKey& o) const {
  return std::memcmp(this, &o, sizeof(TalkerKey)) == 0;
}

std::string TalkerKey::src_address() const {
  return ip_version == 0 ? std::string() : Address(ip_version, src);
}
std::string TalkerKey::dst_address() const {
  return ip_version == 0 ? std::string() : Address(ip_version, dst);
}

std::string TalkerKey::protocol_name() const {
  if (ip_version == 0) return "non-IP";
  const char* name = packet::IpProtocolName(protocol);
  return name ? name : "proto " + std::to_string(protocol);
}

std::string TalkerKey::ToString() const {
  if (ip_version == 0) return "non-IP";
  auto ep = [this](const std::string& a, uint16_t port) {
    if (!HasPorts(protocol)) return a;
    return (ip_version == 6 ? "[" + a + "]" : a) + ":" + std::to_string(port);
  };
  return protocol_name() + " " + ep(src_address(), src_port) + " -> " + ep(dst_address(), dst_port);
}

struct TopTalkers::Entry {
  TalkerKey key;
  uint32_t epoch = 0;      // of bytes[0]
  uint32_t touched = 0;    // TopTalkers::touched_ at the last update
  uint64_t bytes[2] = {};  // [0] the entry's epoch, [1] the one before
  uint64_t packets[2] = {};
  uint32_t samples[2] = {};

  // Moves the entry to `epoch` (>= its own).
  void Roll(uint32_t now_epoch) {
    if (epoch == now_epoch) return;
    const bool adjacent = epoch + 1 == now_epoch;
    bytes[1] = adjacent ? bytes[0] : 0;
    packets[1] = adjacent ? packets[0] : 0;
    samples[1] = adjacent ? samples[0] : 0;
    bytes[0] = packets[0] = samples[0] = 0;
    epoch = now_epoch;
  }
  // Bytes in `now_epoch` and the one before, without changing the entry.
  uint64_t RecentBytes(uint32_t now_epoch) const {
    if (epoch == now_epoch) return bytes[0] + bytes[1];
    return epoch + 1 == now_epoch ? bytes[0] : 0;
  }
};

struct TopTalkers::Bucket {
  uint32_t tags[kWays] = {};  // 0 = free; otherwise the key's hash with the low bit set
  Entry entries[kWays];
};

TopTalkers::TopTalkers(const TopTalkersConfig& config) : config_(config) {
  if (config_.software_rate == 0) config_.software_rate = 1;
  if (config_.interval <= hal::base::Duration(0)) config_.interval = hal::base::seconds(10);
  uint32_t buckets = 1;
  while (buckets * kWays < config_.capacity && buckets < (1u << 24)) buckets <<= 1;
  buckets_.reset(new Bucket[buckets]);
  mask_ = buckets - 1;
  software_countdown_ = config_.software_rate;
}

TopTalkers::~TopTalkers() = default;

void TopTalkers::OnSample(const hal::PacketSample& sample) {
  ++stats_.samples;
  // A forwarded packet can be sampled going in and going out: counting both would double it.
  // The daemon samples ingress only, and so do the talkers.
  if (sample.direction != hal::Direction::kIngress) {
    ++stats_.not_ingress;
    return;
  }
  uint32_t rate = sample.sampling_rate;
  if (rate <= 1 && !sample.has_source_sequence) {
    if (--software_countdown_ > 0) return;
    software_countdown_ = config_.software_rate;
    rate = config_.software_rate;
  }
  if (rate == 0) rate = 1;
  ++stats_.counted;

  packet::ParsedPacket parsed;
  (void)packet::ParsePacket(sample.header, sample.link_type, &parsed);
  TalkerKey key;
  if (parsed.ip_version != 0) {
    key.ip_version = parsed.ip_version;
    key.protocol = parsed.protocol;
    const size_t n = parsed.ip_version == 6 ? 16 : 4;
    std::memcpy(key.src, parsed.src_ip, n);
    std::memcpy(key.dst, parsed.dst_ip, n);
    if (parsed.has_ports && HasPorts(parsed.protocol)) {
      key.src_port = parsed.src_port;
      key.dst_port = parsed.dst_port;
    } else if (parsed.has_icmp && IsIcmp(parsed.protocol)) {
      key.src_port = parsed.icmp_type;
      key.dst_port = parsed.icmp_code;
    }
  } else {
    ++stats_.not_ip;
  }
  // Frame bytes as the sampler exports them: without a pseudo-header for cooked captures.
  uint32_t frame = sample.frame_length;
  if (sample.link_type != hal::LinkType::kEthernet && parsed.ip_version != 0) {
    frame = frame > parsed.l3_offset ? frame - parsed.l3_offset : 0;
  }

  const uint64_t h = Hash(key);
  Bucket& b = buckets_[static_cast<uint32_t>(h) & mask_];
  const uint32_t tag = static_cast<uint32_t>(h >> 32) | 1u;
  Entry* e = nullptr;
  int free_way = -1;
  for (uint32_t w = 0; w < kWays; ++w) {
    if (b.tags[w] == tag && b.entries[w].key == key) {
      e = &b.entries[w];
      break;
    }
    if (b.tags[w] == 0 && free_way < 0) free_way = static_cast<int>(w);
  }
  if (e == nullptr) {
    uint32_t way = static_cast<uint32_t>(free_way);
    if (free_way < 0) {
      // Evict the lightest recent talker; on a tie the one updated longest ago.
      way = 0;
      uint64_t least = b.entries[0].RecentBytes(epoch_);
      uint32_t oldest = touched_ - b.entries[0].touched;  // updates since (wraps safely)
      for (uint32_t w = 1; w < kWays; ++w) {
        const uint64_t v = b.entries[w].RecentBytes(epoch_);
        const uint32_t age = touched_ - b.entries[w].touched;
        if (v < least || (v == least && age > oldest)) {
          least = v;
          oldest = age;
          way = w;
        }
      }
      ++stats_.evictions;
    }
    b.tags[way] = tag;
    e = &b.entries[way];
    *e = Entry();
    e->key = key;
    e->epoch = epoch_;
  }
  e->Roll(epoch_);
  e->touched = ++touched_;
  e->bytes[0] += uint64_t{frame} * rate;
  e->packets[0] += rate;
  ++e->samples[0];
}

uint32_t TopTalkers::EpochOf(hal::base::MonoTime now) const {
  if (!started_ || now <= origin_) return 0;
  return static_cast<uint32_t>((now - origin_).count() / config_.interval.count());
}

void TopTalkers::OnTick(hal::base::MonoTime now) {
  if (!started_) {
    started_ = true;
    origin_ = now;
  }
  epoch_ = EpochOf(now);
}

double TopTalkers::SpanSeconds(hal::base::MonoTime now) const {
  if (!started_ || now <= origin_) return 1.0;
  const uint32_t e = EpochOf(now);
  const hal::base::Duration since_epoch =
      (now - origin_) - hal::base::Duration(int64_t{e} * config_.interval.count());
  hal::base::Duration span = since_epoch + (e >= 1 ? config_.interval : hal::base::Duration(0));
  const double s = static_cast<double>(span.count()) / 1e9;
  return std::max(s, 1.0);  // no wild rates in the first second
}

std::vector<TopTalker> TopTalkers::Top(size_t n, hal::base::MonoTime now) const {
  const uint32_t e = std::max(EpochOf(now), epoch_);
  const double span = SpanSeconds(now);
  std::vector<TopTalker> all;
  for (uint32_t bi = 0; bi <= mask_; ++bi) {
    const Bucket& b = buckets_[bi];
    for (uint32_t w = 0; w < kWays; ++w) {
      if (b.tags[w] == 0) continue;
      Entry x = b.entries[w];
      if (x.RecentBytes(e) == 0 && x.epoch + 1 < e) continue;
      x.Roll(e);
      const uint64_t samples = uint64_t{x.samples[0]} + x.samples[1];
      if (samples == 0) continue;
      TopTalker t;
      t.key = x.key;
      t.bytes_per_s = static_cast<double>(x.bytes[0] + x.bytes[1]) / span;
      t.packets_per_s = static_cast<double>(x.packets[0] + x.packets[1]) / span;
      t.samples = samples;
      all.push_back(t);
    }
  }
  auto heavier = [](const TopTalker& a, const TopTalker& b) {
    if (a.bytes_per_s != b.bytes_per_s) return a.bytes_per_s > b.bytes_per_s;
    return std::memcmp(&a.key, &b.key, sizeof(TalkerKey)) < 0;  // a stable order on ties
  };
  n = std::min(n, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<ptrdiff_t>(n), all.end(), heavier);
  all.resize(n);
  return all;
}

namespace {

std::string Human(double v, const char* unit) {
  static const char* const kPrefix[] = {"", "k", "M", "G", "T"};
  int i = 0;
  while (v >= 1000 && i < 4) {
    v /= 1000;
    ++i;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f %s%s", v, kPrefix[i], unit);
  return buf;
}

}  // namespace

std::string TopTalkersTable(const std::vector<TopTalker>& top, double span_s) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof(line), "top talkers over the last %.0f s (sampled, scaled by rate)\n",
                span_s);
  out += line;
  std::snprintf(line, sizeof(line), "%-4s %14s %14s %8s  %s\n", "#", "bit/s", "packets/s",
                "samples", "flow");
  out += line;
  for (size_t i = 0; i < top.size(); ++i) {
    const TopTalker& t = top[i];
    std::snprintf(line, sizeof(line), "%-4zu %14s %14s %8" PRIu64 "  %s\n", i + 1,
                  Human(t.bytes_per_s * 8, "b/s").c_str(), Human(t.packets_per_s, "p/s").c_str(),
                  t.samples, t.key.ToString().c_str());
    out += line;
  }
  if (top.empty()) out += "(no samples yet)\n";
  return out;
}

std::string TopTalkersTable(const TopTalkers& talkers, size_t n, hal::base::MonoTime now) {
  return TopTalkersTable(talkers.Top(n, now), talkers.SpanSeconds(now));
}

}  // namespace xflowd::agent::daemon
