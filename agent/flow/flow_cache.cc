#include "agent/flow/flow_cache.h"

#include <algorithm>
#include <cstring>
#include <iterator>

namespace xflowd::agent::flow {
namespace {

using exporter::netflow::EndReason;
using exporter::netflow::FlowKey;
using exporter::netflow::FlowRecord;
using exporter::netflow::FlowRecordSink;

constexpr uint32_t kNil = 0xffffffffu;
constexpr uint32_t kEmpty = 0xffffffffu;         // index slot; never a valid tag | entry
constexpr uint32_t kHeadTag = 0x80000000u;       // Entry::prev of the first entry of a list
constexpr uint64_t kRebaseAfterMs = 1ull << 31;  // offsets stay below 2^31 + 2^30
constexpr uint32_t kKeyMetaMask = 0xfff;         // protocol and ip_version: the key part of meta
constexpr int kFlagsShift = 12;
constexpr uint32_t kTcpFlagBits = 0x1ff;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoIcmp = 1;
constexpr uint8_t kProtoIcmpv6 = 58;
constexpr uint16_t kTcpFinOrRst = 0x01 | 0x04;
constexpr uint32_t kMinWheelSlots = 256;
constexpr uint32_t kMaxWheelSlots = 65536;

uint32_t NextPow2(uint64_t x) {
  uint64_t p = 1;
  while (p < x) p <<= 1;
  return static_cast<uint32_t>(p);
}

int BitWidth(uint32_t x) {
  int n = 0;
  while (x != 0) {
    ++n;
    x >>= 1;
  }
  return n;
}

uint64_t Rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

// One multiply per 64-bit lane (independent, so they pipeline), lanes combined with
// rotations, then a multiply-xorshift finaliser so that every bit reaches the low bits used
// for the home slot and the high bits used for the tag.
constexpr uint64_t kMul = 0x9e3779b97f4a7c15ull;
constexpr uint64_t kFinal = 0xd6e8feb86659fd93ull;

uint64_t Lane(uint32_t lo, uint32_t hi, uint64_t k) {
  return ((uint64_t{hi} << 32 | lo) ^ k) * kMul;
}

uint64_t Finish(uint64_t h) {
  h ^= h >> 32;
  h *= kFinal;
  h ^= h >> 29;
  h *= kFinal;
  h ^= h >> 32;
  return h;
}

}  // namespace

FlowCache::FlowCache(const FlowCacheOptions& options)
    : capacity_(std::clamp<uint32_t>(options.capacity, 1, kMaxCapacity)),
      tcp_end_(options.tcp_end),
      extended_(options.extended_key),
      active_ms_(0),
      free_head_(0) {
  ApplyTimeouts(options);

  entries_ = FixedArray<Entry>(capacity_);
  for (uint32_t i = 0; i < capacity_; ++i) entries_[i].next = i + 1 < capacity_ ? i + 1 : kNil;
  if (extended_) ext_ = FixedArray<ExtKey>(capacity_);

  // Load <= 0.5. The entry number takes the bits needed for `capacity_` (never all ones, so
  // no slot equals kEmpty); the rest of the slot is a tag from the hash.
  index_ = FixedArray<uint32_t>(std::max<uint32_t>(8, NextPow2(uint64_t{capacity_} * 2)));
  std::fill(index_.begin(), index_.end(), kEmpty);
  index_mask_ = static_cast<uint32_t>(index_.size() - 1);
  entry_mask_ = (1u << BitWidth(capacity_)) - 1;

  wheel_ = FixedArray<uint32_t>(WheelSlotsFor(max_timeout_ms_));
  wheel_tail_ = FixedArray<uint32_t>(wheel_.size());
  std::fill(wheel_.begin(), wheel_.end(), kNil);
  std::fill(wheel_tail_.begin(), wheel_tail_.end(), kNil);
  wheel_mask_ = static_cast<uint32_t>(wheel_.size() - 1);
}

void FlowCache::ApplyTimeouts(const FlowCacheOptions& options) {
  tcp_end_ = options.tcp_end;
  active_ms_ = std::min(options.active_timeout_ms, kMaxTimeoutMs);
  const uint32_t inactive = std::min(options.inactive_timeout_ms, kMaxTimeoutMs);
  auto or_default = [inactive](uint32_t t) {
    return t == 0 ? inactive : std::min(t, kMaxTimeoutMs);
  };
  std::fill(std::begin(inactive_by_proto_), std::end(inactive_by_proto_), inactive);
  inactive_by_proto_[kProtoTcp] = or_default(options.tcp_inactive_timeout_ms);
  inactive_by_proto_[kProtoUdp] = or_default(options.udp_inactive_timeout_ms);
  inactive_by_proto_[kProtoIcmp] = or_default(options.icmp_inactive_timeout_ms);
  inactive_by_proto_[kProtoIcmpv6] = or_default(options.icmp_inactive_timeout_ms);
  max_timeout_ms_ = active_ms_;
  for (uint32_t t : inactive_by_proto_) max_timeout_ms_ = std::max(max_timeout_ms_, t);
}

uint32_t FlowCache::WheelSlotsFor(uint32_t max_timeout_ms) {
  const uint32_t slots = NextPow2((uint64_t{max_timeout_ms} >> kSlotShift) + 2);
  return std::clamp(slots, kMinWheelSlots, kMaxWheelSlots);
}

void FlowCache::SetTimeouts(const FlowCacheOptions& options) {
  // Every live flow out of the wheel into one chain (through `next`), in slot order.
  uint32_t head = kNil;
  uint32_t tail = kNil;
  for (size_t b = 0; b < wheel_.size(); ++b) {
    for (uint32_t e = wheel_[b]; (e & kHeadTag) == 0;) {
      const uint32_t next = entries_[e].next;
      entries_[e].next = kNil;
      if (tail == kNil) {
        head = e;
      } else {
        entries_[tail].next = e;
      }
      tail = e;
      e = next;
    }
  }
  ApplyTimeouts(options);
  const uint32_t slots = WheelSlotsFor(max_timeout_ms_);
  if (slots > wheel_.size()) {
    wheel_ = FixedArray<uint32_t>(slots);
    wheel_tail_ = FixedArray<uint32_t>(slots);
    wheel_mask_ = slots - 1;
  }
  std::fill(wheel_.begin(), wheel_.end(), kNil);
  std::fill(wheel_tail_.begin(), wheel_tail_.end(), kNil);
  // Back in at the new deadlines; one already past goes to the current slot (Link), so the
  // next Expire ends it with its reason.
  hint_slot_ = ~uint64_t{0};
  for (uint32_t e = head; e != kNil;) {
    const uint32_t next = entries_[e].next;
    EndReason unused;
    Link(e, Deadline(entries_[e], &unused));
    e = next;
  }
  if (hint_slot_ == ~uint64_t{0}) hint_slot_ = cursor_slot_;
}

size_t FlowCache::memory_bytes() const {
  return entries_.bytes() + ext_.bytes() + index_.bytes() + wheel_.bytes() + wheel_tail_.bytes();
}

uint64_t FlowCache::Load64(const uint32_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

void FlowCache::Store64(uint32_t* p, uint64_t v) { std::memcpy(p, &v, sizeof(v)); }

void FlowCache::Pack(const FlowKey& key, PackedKey* k) const {
  std::memcpy(&k->key[0], key.src_ip, 16);
  std::memcpy(&k->key[4], key.dst_ip, 16);
  k->key[8] = key.input_ifindex;
  k->key[9] = key.output_ifindex;
  k->key[10] = uint32_t{key.src_port} << 16 | key.dst_port;
  k->key[11] =
      uint32_t{key.vlan_outer & 0xfffu} << 20 | uint32_t{key.vlan_inner & 0xfffu} << 8 | key.tos;
  k->meta = key.protocol | uint32_t{key.ip_version & 0xfu} << 8;
  if (extended_) {
    std::memcpy(k->ext.src_mac, key.src_mac, 6);
    std::memcpy(k->ext.dst_mac, key.dst_mac, 6);
    k->ext.mpls_top = key.mpls_top;
  }
}

uint64_t FlowCache::Hash(const uint32_t* w, uint32_t meta, const ExtKey* ext) const {
  uint64_t h = Lane(w[0], w[1], 0x243f6a8885a308d3ull);
  h += Rotl(Lane(w[2], w[3], 0x13198a2e03707344ull), 9);
  h += Rotl(Lane(w[4], w[5], 0xa4093822299f31d0ull), 19);
  h += Rotl(Lane(w[6], w[7], 0x082efa98ec4e6c89ull), 29);
  h += Rotl(Lane(w[8], w[9], 0x452821e638d01377ull), 37);
  h += Rotl(Lane(w[10], w[11], 0xbe5466cf34e90c6cull), 47);
  h += Rotl(Lane(meta, 0, 0xc0ac29b7c97c50ddull), 55);
  if (ext != nullptr) {
    uint32_t e[4];
    std::memcpy(e, ext, sizeof(e));
    h += Rotl(Lane(e[0], e[1], 0x3f84d5b5b5470917ull), 13);
    h += Rotl(Lane(e[2], e[3], 0x9216d5d98979fb1bull), 41);
  }
  return Finish(h);
}

uint64_t FlowCache::HashOf(uint32_t e) const {
  const Entry& en = entries_[e];
  return Hash(en.key, en.meta & kKeyMetaMask, extended_ ? &ext_[e] : nullptr);
}

bool FlowCache::Matches(uint32_t e, const PackedKey& k) const {
  const Entry& en = entries_[e];
  if ((en.meta & kKeyMetaMask) != k.meta) return false;
  if (std::memcmp(en.key, k.key, sizeof(en.key)) != 0) return false;
  return !extended_ || std::memcmp(&ext_[e], &k.ext, sizeof(ExtKey)) == 0;
}

bool FlowCache::Find(const PackedKey& k, uint64_t hash, uint32_t* pos) const {
  const uint32_t tag = static_cast<uint32_t>(hash >> 32) & ~entry_mask_;
  uint32_t p = static_cast<uint32_t>(hash) & index_mask_;
  for (;;) {
    const uint32_t v = index_[p];
    if (v == kEmpty) break;
    if ((v & ~entry_mask_) == tag && Matches(v & entry_mask_, k)) {
      *pos = p;
      return true;
    }
    p = (p + 1) & index_mask_;
  }
  *pos = p;
  return false;
}

void FlowCache::IndexErase(uint32_t e) {
  const uint64_t h = HashOf(e);
  const uint32_t want = (static_cast<uint32_t>(h >> 32) & ~entry_mask_) | e;
  uint32_t hole = static_cast<uint32_t>(h) & index_mask_;
  while (index_[hole] != want) hole = (hole + 1) & index_mask_;
  // Backward shift: pull later slots of the probe run into the hole unless their home slot
  // lies (cyclically) after the hole, so lookups never need tombstones.
  uint32_t j = hole;
  for (;;) {
    j = (j + 1) & index_mask_;
    const uint32_t v = index_[j];
    if (v == kEmpty) break;
    const uint32_t home = static_cast<uint32_t>(HashOf(v & entry_mask_)) & index_mask_;
    if (((j - home) & index_mask_) >= ((j - hole) & index_mask_)) {
      index_[hole] = v;
      hole = j;
    }
  }
  index_[hole] = kEmpty;
}

uint64_t FlowCache::Deadline(const Entry& e, EndReason* reason) const {
  const uint64_t idle = uint64_t{e.last} + inactive_by_proto_[e.meta & 0xff];
  const uint64_t active = uint64_t{e.first} + active_ms_;
  if (idle <= active) {
    *reason = EndReason::kIdleTimeout;
    return idle;
  }
  *reason = EndReason::kActiveTimeout;
  return active;
}

void FlowCache::Link(uint32_t e, uint64_t deadline_rel) {
  uint64_t slot = (base_ms_ + deadline_rel) >> kSlotShift;
  if (slot < cursor_slot_) slot = cursor_slot_;
  LinkSlot(e, slot);
}

void FlowCache::LinkSlot(uint32_t e, uint64_t slot) {
  // Appended, so each slot's list runs from the flow linked first to the flow linked last.
  const uint32_t b = static_cast<uint32_t>(slot) & wheel_mask_;
  Entry& en = entries_[e];
  en.next = kHeadTag | b;
  const uint32_t tail = wheel_tail_[b];
  if (tail == kNil) {
    en.prev = kHeadTag | b;
    wheel_[b] = e;
  } else {
    en.prev = tail;
    entries_[tail].next = e;
  }
  wheel_tail_[b] = e;
  if (slot < hint_slot_) hint_slot_ = slot;
}

void FlowCache::Unlink(uint32_t e) {
  const uint32_t p = entries_[e].prev;
  const uint32_t n = entries_[e].next;
  if (p & kHeadTag) {
    wheel_[p & ~kHeadTag] = (n & kHeadTag) ? kNil : n;
  } else {
    entries_[p].next = n;
  }
  if (n & kHeadTag) {
    wheel_tail_[n & ~kHeadTag] = (p & kHeadTag) ? kNil : p;
  } else {
    entries_[n].prev = p;
  }
}

void FlowCache::Emit(uint32_t e, EndReason reason, FlowRecordSink& out) {
  const Entry& en = entries_[e];
  FlowRecord r;
  std::memcpy(r.key.src_ip, &en.key[0], 16);
  std::memcpy(r.key.dst_ip, &en.key[4], 16);
  r.key.input_ifindex = en.key[8];
  r.key.output_ifindex = en.key[9];
  r.key.src_port = static_cast<uint16_t>(en.key[10] >> 16);
  r.key.dst_port = static_cast<uint16_t>(en.key[10]);
  r.key.vlan_outer = static_cast<uint16_t>(en.key[11] >> 20);
  r.key.vlan_inner = static_cast<uint16_t>((en.key[11] >> 8) & 0xfffu);
  r.key.tos = static_cast<uint8_t>(en.key[11]);
  r.key.protocol = static_cast<uint8_t>(en.meta);
  r.key.ip_version = static_cast<uint8_t>((en.meta >> 8) & 0xfu);
  if (extended_) {
    std::memcpy(r.key.src_mac, ext_[e].src_mac, 6);
    std::memcpy(r.key.dst_mac, ext_[e].dst_mac, 6);
    r.key.mpls_top = ext_[e].mpls_top;
  }
  r.packets = Load64(en.packets);
  r.bytes = Load64(en.bytes);
  const int64_t first = static_cast<int64_t>(base_ms_ + en.first) + unix_offset_ms_;
  const int64_t last = static_cast<int64_t>(base_ms_ + en.last) + unix_offset_ms_;
  r.first_ms = first < 0 ? 0 : static_cast<uint64_t>(first);
  r.last_ms = last < 0 ? 0 : static_cast<uint64_t>(last);
  r.tcp_flags = static_cast<uint16_t>((en.meta >> kFlagsShift) & kTcpFlagBits);
  r.end_reason = reason;
  ++stats_.records[static_cast<uint8_t>(reason)];
  out.OnFlow(r);
}

void FlowCache::Retire(uint32_t e, EndReason reason, FlowRecordSink& out) {
  Emit(e, reason, out);
  IndexErase(e);
  entries_[e].next = free_head_;
  free_head_ = e;
  --stats_.active_flows;
}

uint64_t FlowCache::Advance(uint64_t now_ms, FlowRecordSink& out) {
  if (!started_) {
    started_ = true;
    base_ms_ = now_ms;
    clock_ms_ = now_ms;
    cursor_slot_ = now_ms >> kSlotShift;
    hint_slot_ = cursor_slot_;
  }
  if (now_ms < clock_ms_) now_ms = clock_ms_;
  clock_ms_ = now_ms;
  if (now_ms - base_ms_ >= kRebaseAfterMs) Rebase(now_ms, out);
  return now_ms;
}

void FlowCache::Add(const FlowKey& key, uint32_t ip_bytes, uint16_t tcp_flags, uint64_t now_ms,
                    FlowRecordSink& out) {
  PackedKey k;
  Pack(key, &k);
  AddPacked(k, Hash(k.key, k.meta, extended_ ? &k.ext : nullptr), ip_bytes, tcp_flags, now_ms, out);
}

void FlowCache::AddBatch(const FlowPacket* packets, size_t count, FlowRecordSink& out) {
  PackedKey keys[kBatchGroup];
  uint64_t hashes[kBatchGroup];
  for (size_t done = 0; done < count; done += kBatchGroup) {
    const size_t n = std::min(kBatchGroup, count - done);
    const FlowPacket* p = packets + done;
    for (size_t i = 0; i < n; ++i) {
      Pack(p[i].key, &keys[i]);
      hashes[i] = Hash(keys[i].key, keys[i].meta, extended_ ? &keys[i].ext : nullptr);
      __builtin_prefetch(&index_[static_cast<uint32_t>(hashes[i]) & index_mask_]);
    }
    for (size_t i = 0; i < n; ++i) {
      const uint32_t v = index_[static_cast<uint32_t>(hashes[i]) & index_mask_];
      if (v == kEmpty) continue;
      // The fields an update touches: key to counters (bytes 0..75 of the entry).
      const char* e = reinterpret_cast<const char*>(&entries_[v & entry_mask_]);
      __builtin_prefetch(e, 1);
      __builtin_prefetch(e + 75, 1);
    }
    for (size_t i = 0; i < n; ++i) {
      AddPacked(keys[i], hashes[i], p[i].ip_bytes, p[i].tcp_flags, p[i].now_ms, out);
    }
  }
}

void FlowCache::AddPacked(const PackedKey& k, uint64_t h, uint32_t ip_bytes, uint16_t tcp_flags,
                          uint64_t now_ms, FlowRecordSink& out) {
  now_ms = Advance(now_ms, out);
  const uint32_t rel = static_cast<uint32_t>(now_ms - base_ms_);
  uint32_t pos = 0;
  uint32_t e = kNil;
  if (Find(k, h, &pos)) {
    e = index_[pos] & entry_mask_;
    Entry& en = entries_[e];
    EndReason reason;
    if (rel >= Deadline(en, &reason)) {
      // Ended before this packet: export it and start again in place. The entry stays in
      // its wheel slot, which is earlier than its new deadline.
      Emit(e, reason, out);
      en.first = rel;
      en.meta &= kKeyMetaMask;
      Store64(en.packets, 0);
      Store64(en.bytes, 0);
      ++stats_.created;
    }
  } else {
    if (free_head_ == kNil) {
      Evict(now_ms, out);
      Find(k, h, &pos);  // the eviction may have moved index slots
    }
    e = free_head_;
    Entry& en = entries_[e];
    free_head_ = en.next;
    std::memcpy(en.key, k.key, sizeof(en.key));
    en.meta = k.meta;
    en.first = rel;
    en.last = rel;
    Store64(en.packets, 0);
    Store64(en.bytes, 0);
    if (extended_) ext_[e] = k.ext;
    index_[pos] = (static_cast<uint32_t>(h >> 32) & ~entry_mask_) | e;
    EndReason unused;
    Link(e, Deadline(en, &unused));
    ++stats_.created;
    ++stats_.active_flows;
  }

  Entry& en = entries_[e];
  Store64(en.packets, Load64(en.packets) + 1);
  Store64(en.bytes, Load64(en.bytes) + ip_bytes);
  en.last = rel;
  en.meta |= uint32_t{tcp_flags & kTcpFlagBits} << kFlagsShift;
  ++stats_.packets;
  stats_.bytes += ip_bytes;

  if (tcp_end_ && (tcp_flags & kTcpFinOrRst) != 0 && (en.meta & 0xff) == kProtoTcp) {
    Unlink(e);
    Retire(e, EndReason::kEndOfFlow, out);
  }
}

void FlowCache::Expire(uint64_t now_ms, FlowRecordSink& out) {
  now_ms = Advance(now_ms, out);
  ExpireUpTo(now_ms, out);
}

void FlowCache::ExpireUpTo(uint64_t now_ms, FlowRecordSink& out) {
  const uint64_t target = now_ms >> kSlotShift;
  if (target < cursor_slot_) return;
  uint64_t start = cursor_slot_;
  if (target - start >= wheel_.size()) start = target - wheel_.size() + 1;  // every slot once
  // The target slot is only partly past: its flows that are not yet due go back into it and
  // the next call looks at it again.
  cursor_slot_ = target;
  if (hint_slot_ < target) hint_slot_ = target;
  const uint64_t now_rel = now_ms - base_ms_;
  for (uint64_t s = start; s <= target; ++s) {
    const uint32_t b = static_cast<uint32_t>(s) & wheel_mask_;
    uint32_t e = wheel_[b];
    wheel_[b] = kNil;
    wheel_tail_[b] = kNil;
    while ((e & kHeadTag) == 0) {
      const uint32_t next = entries_[e].next;
      ++stats_.expire_visits;
      EndReason reason;
      const uint64_t deadline = Deadline(entries_[e], &reason);
      if (deadline <= now_rel) {
        Retire(e, reason, out);
      } else {
        Link(e, deadline);
      }
      e = next;
    }
  }
}

void FlowCache::Evict(uint64_t now_ms, FlowRecordSink& out) {
  // Every flow sits in a slot no later than its deadline's, so the first flow found whose
  // deadline falls in the slot being looked at has the earliest deadline of all (to the
  // slot). Within a slot, the flow linked first goes first.
  const uint64_t now_rel = now_ms - base_ms_;
  for (uint64_t s = std::max(hint_slot_, cursor_slot_);; ++s) {
    const uint32_t b = static_cast<uint32_t>(s) & wheel_mask_;
    uint32_t e = wheel_[b];
    while ((e & kHeadTag) == 0) {
      const uint32_t next = entries_[e].next;
      EndReason reason;
      const uint64_t deadline = Deadline(entries_[e], &reason);
      uint64_t slot = (base_ms_ + deadline) >> kSlotShift;
      if (slot < cursor_slot_) slot = cursor_slot_;
      if (slot <= s) {
        Unlink(e);
        hint_slot_ = s;
        if (deadline <= now_rel) {
          Retire(e, reason, out);  // due anyway: not an eviction
        } else {
          ++stats_.evictions;
          Retire(e, EndReason::kLackOfResources, out);
        }
        return;
      }
      if ((static_cast<uint32_t>(slot) & wheel_mask_) != b) {  // else a later lap: leave it
        Unlink(e);
        LinkSlot(e, slot);
      }
      e = next;
    }
  }
}

void FlowCache::Rebase(uint64_t now_ms, FlowRecordSink& out) {
  // After this every flow's deadline is after now, so first and last are later than
  // now - kMaxTimeoutMs, the new base: offsets stay non-negative.
  ExpireUpTo(now_ms, out);
  const uint64_t new_base = now_ms - kMaxTimeoutMs;
  const uint32_t delta = static_cast<uint32_t>(new_base - base_ms_);
  for (uint32_t head : wheel_) {
    for (uint32_t e = head; (e & kHeadTag) == 0; e = entries_[e].next) {
      entries_[e].first -= delta;
      entries_[e].last -= delta;
    }
  }
  base_ms_ = new_base;
  ++stats_.rebases;
}

void FlowCache::Flush(uint64_t now_ms, FlowRecordSink& out) {
  now_ms = Advance(now_ms, out);
  ExpireUpTo(now_ms, out);
  for (size_t b = 0; b < wheel_.size(); ++b) {
    uint32_t e = wheel_[b];
    wheel_[b] = kNil;
    wheel_tail_[b] = kNil;
    while ((e & kHeadTag) == 0) {
      const uint32_t next = entries_[e].next;
      Retire(e, EndReason::kForcedEnd, out);
      e = next;
    }
  }
}

}  // namespace xflowd::agent::flow
