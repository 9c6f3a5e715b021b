#include "hal/route_table.h"

#include <algorithm>
#include <cstring>
#include <tuple>

namespace xflowd::hal {
namespace {

unsigned Nibble(const uint8_t* a, unsigned d) { return (a[d >> 1] >> ((d & 1) ? 0 : 4)) & 0xF; }

// Clears every bit after the first `len` of a 16-byte address.
void MaskBits(uint8_t* a, unsigned len) {
  for (unsigned i = 0; i < 16; ++i) {
    const unsigned keep = len >= 8 * (i + 1) ? 8 : (len > 8 * i ? len - 8 * i : 0);
    a[i] &= static_cast<uint8_t>(keep == 0 ? 0 : (0xFF << (8 - keep)));
  }
}

// Levels: 0 is the root (the first 16 bits, prefix lengths 0..16); level d >= 1 is a stride-4
// node holding lengths 16 + 4(d - 1) + 1 .. 16 + 4d, indexed by nibble 3 + d of the address.
unsigned LevelOf(unsigned len) { return len <= 16 ? 0 : 1 + (len - 17) / 4; }
unsigned LevelEnd(unsigned level) { return 16 + 4 * level; }  // bits consumed after it
unsigned LevelMinLen(unsigned level) { return level == 0 ? 0 : LevelEnd(level - 1) + 1; }
unsigned SlotIndex(const uint8_t* a, unsigned level) {
  return level == 0 ? (unsigned{a[0]} << 8 | a[1]) : Nibble(a, 3 + level);
}

bool SameHop(const RouteTable::NextHop& a, const RouteTable::NextHop& b) {
  return a.gateway == b.gateway && (a.oif == b.oif || a.oif == 0 || b.oif == 0);
}

}  // namespace

bool RouteTable::Key::operator==(const Key& o) const {
  return family == o.family && len == o.len && std::memcmp(addr, o.addr, 16) == 0;
}

size_t RouteTable::KeyHash::operator()(const Key& k) const {
  // FNV-1a over the key's bytes.
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](uint8_t b) {
    h ^= b;
    h *= 1099511628211ull;
  };
  mix(k.family);
  mix(k.len);
  for (uint8_t b : k.addr) mix(b);
  return static_cast<size_t>(h);
}

RouteTable::RouteTable() : root4_(EmptyRoot()), root6_(EmptyRoot()) {
  NewNode(0, 0);  // [0]: the "no child" index, never walked
}

const RouteTable::Slot* RouteTable::EmptyRoot() {
  static const Slot kEmpty[kRootSlots] = {};  // zero-initialized: .bss, never written
  return kEmpty;
}

RouteTable::Slot* RouteTable::Root(const Key& key) {
  std::vector<Slot>& store = key.family == 6 ? root6_store_ : root4_store_;
  if (store.empty()) {
    store.assign(kRootSlots, Slot{0, 0});
    (key.family == 6 ? root6_ : root4_) = store.data();
  }
  return store.data();
}

RouteTable::Key RouteTable::MakeKey(const base::IpAddress& prefix, uint8_t len) {
  Key k;
  k.family = prefix.is_v6() ? 6 : 4;
  const unsigned max = k.family == 6 ? 128 : 32;
  k.len = static_cast<uint8_t>(len > max ? max : len);
  std::memcpy(k.addr, prefix.bytes(), prefix.size());
  MaskBits(k.addr, k.len);
  return k;
}

const RouteTable::Route& RouteTable::Best(const Prefix& p) {
  const Route* best = &p.routes.front();
  for (const Route& r : p.routes) {
    if (std::make_tuple(r.tos != 0, r.metric) < std::make_tuple(best->tos != 0, best->metric)) {
      best = &r;
    }
  }
  return *best;
}

uint32_t RouteTable::NewNode(uint32_t parent, uint16_t slot) {
  Node n;
  std::memset(&n, 0, sizeof(n));
  const NodeInfo info{parent, slot, 0, 0};
  if (!free_nodes_.empty()) {
    const uint32_t i = free_nodes_.back();
    free_nodes_.pop_back();
    nodes_[i] = n;
    info_[i] = info;
    return i;
  }
  nodes_.push_back(n);
  info_.push_back(info);
  return static_cast<uint32_t>(nodes_.size() - 1);
}

uint32_t RouteTable::NewMatch() {
  if (!free_matches_.empty()) {
    const uint32_t i = free_matches_.back();
    free_matches_.pop_back();
    return i + 1;
  }
  matches_.emplace_back();
  return static_cast<uint32_t>(matches_.size());
}

void RouteTable::Cover(const Key& key, uint32_t node, uint32_t old_match, uint32_t new_match) {
  const unsigned level = LevelOf(key.len);
  const unsigned span = 1u << (LevelEnd(level) - key.len);
  const unsigned base = SlotIndex(key.addr, level) & ~(span - 1);
  Slot* slots = node == 0 ? Root(key) : nodes_[node].slot;
  for (unsigned s = base; s < base + span; ++s) {
    const uint32_t m = slots[s].match;
    if (old_match == 0) {
      // Only prefixes of this level are here; within the range, a longer one stays.
      if (m == 0 || matches_[m - 1].prefix_len <= key.len) slots[s].match = new_match;
    } else if (m == old_match) {
      slots[s].match = new_match;
    }
  }
}

void RouteTable::Link(const Key& key, uint32_t match) {
  const unsigned level = LevelOf(key.len);
  Slot* root = Root(key);
  uint32_t node = 0;
  for (unsigned l = 0; l < level; ++l) {
    const unsigned idx = SlotIndex(key.addr, l);
    uint32_t next = l == 0 ? root[idx].child : nodes_[node].slot[idx].child;
    if (next == 0) {
      next = NewNode(node, static_cast<uint16_t>(idx));  // may move nodes_
      (l == 0 ? root[idx] : nodes_[node].slot[idx]).child = next;
      if (l != 0) ++info_[node].children;
    }
    node = next;
  }
  if (node != 0) ++info_[node].prefixes;
  Cover(key, node, 0, match);
}

void RouteTable::Unlink(const Key& key, uint32_t match) {
  const unsigned level = LevelOf(key.len);
  Slot* root = Root(key);
  uint32_t node = 0;
  for (unsigned l = 0; l < level; ++l) {
    const unsigned idx = SlotIndex(key.addr, l);
    node = l == 0 ? root[idx].child : nodes_[node].slot[idx].child;
    if (node == 0) return;  // cannot happen: the prefix was linked
  }
  // Its slots fall back to the longest shorter prefix of the same level that covers it (any
  // prefix covering one of its slots covers all of them).
  uint32_t fallback = 0;
  for (int len = key.len - 1; len >= static_cast<int>(LevelMinLen(level)) && fallback == 0; --len) {
    Key probe = key;
    probe.len = static_cast<uint8_t>(len);
    MaskBits(probe.addr, probe.len);
    auto it = prefixes_.find(probe);
    if (it != prefixes_.end()) fallback = it->second.match;
  }
  Cover(key, node, match, fallback);
  if (node == 0) return;
  --info_[node].prefixes;
  // Nodes with nothing left go back to the free list, up to the first that still holds some.
  while (node != 0 && info_[node].prefixes == 0 && info_[node].children == 0) {
    const uint32_t parent = info_[node].parent;
    const uint16_t slot = info_[node].parent_slot;
    if (parent == 0) {
      root[slot].child = 0;
    } else {
      nodes_[parent].slot[slot].child = 0;
      --info_[parent].children;
    }
    free_nodes_.push_back(node);
    node = parent;
  }
}

void RouteTable::Add(const Route& route, bool append) {
  const Key key = MakeKey(route.prefix, route.prefix_len);
  auto [it, inserted] = prefixes_.try_emplace(key);
  Prefix& p = it->second;
  auto same = std::find_if(p.routes.begin(), p.routes.end(), [&](const Route& r) {
    return r.tos == route.tos && r.metric == route.metric;
  });
  if (same == p.routes.end()) {
    p.routes.push_back(route);
    p.routes.back().prefix_len = key.len;
    ++route_count_;
  } else if (append) {
    for (const NextHop& h : route.hops) {
      if (std::none_of(same->hops.begin(), same->hops.end(),
                       [&](const NextHop& x) { return SameHop(x, h); })) {
        same->hops.push_back(h);
      }
    }
  } else {
    *same = route;
    same->prefix_len = key.len;
  }
  if (inserted) {
    p.match = NewMatch();
    (key.family == 6 ? prefixes_v6_ : prefixes_v4_)++;
  }
  const Route& best = Best(p);
  Match& m = matches_[p.match - 1];
  m.prefix_len = key.len;
  m.gateway = best.hops.empty() ? base::IpAddress() : best.hops.front().gateway;
  m.oif = best.hops.empty() ? 0 : best.hops.front().oif;
  if (inserted) Link(key, p.match);
}

bool RouteTable::Remove(const Route& route) {
  const Key key = MakeKey(route.prefix, route.prefix_len);
  auto it = prefixes_.find(key);
  if (it == prefixes_.end()) return false;
  Prefix& p = it->second;
  auto same = std::find_if(p.routes.begin(), p.routes.end(), [&](const Route& r) {
    return r.tos == route.tos && r.metric == route.metric;
  });
  if (same == p.routes.end()) return false;
  bool whole = true;
  if (!route.hops.empty() && same->hops.size() > 1) {
    std::vector<NextHop> left;
    for (const NextHop& h : same->hops) {
      if (std::none_of(route.hops.begin(), route.hops.end(),
                       [&](const NextHop& x) { return SameHop(x, h); })) {
        left.push_back(h);
      }
    }
    // Nothing named matched: the kernel removed the route we knew under other next hops.
    if (!left.empty() && left.size() < same->hops.size()) {
      same->hops = std::move(left);
      whole = false;
    }
  }
  if (whole) {
    p.routes.erase(same);
    --route_count_;
  }
  if (p.routes.empty()) {
    const uint32_t match = p.match;
    prefixes_.erase(it);  // before Unlink: Refill must no longer find it
    (key.family == 6 ? prefixes_v6_ : prefixes_v4_)--;
    Unlink(key, match);
    matches_[match - 1] = Match();
    free_matches_.push_back(match - 1);
    return true;
  }
  const Route& best = Best(p);
  Match& m = matches_[p.match - 1];
  m.gateway = best.hops.empty() ? base::IpAddress() : best.hops.front().gateway;
  m.oif = best.hops.empty() ? 0 : best.hops.front().oif;
  return true;
}

void RouteTable::Clear() {
  nodes_.clear();
  info_.clear();
  free_nodes_.clear();
  matches_.clear();
  free_matches_.clear();
  prefixes_.clear();
  route_count_ = prefixes_v4_ = prefixes_v6_ = 0;
  root4_store_ = std::vector<Slot>();
  root6_store_ = std::vector<Slot>();
  root4_ = root6_ = EmptyRoot();
  NewNode(0, 0);
}

size_t RouteTable::data_bytes() const {
  return (root4_store_.size() + root6_store_.size()) * sizeof(Slot) +
         nodes_.capacity() * sizeof(Node) + info_.capacity() * sizeof(NodeInfo) +
         matches_.capacity() * sizeof(Match);
}

std::vector<RouteTable::Route> RouteTable::Routes() const {
  std::vector<std::pair<Key, const Route*>> all;
  for (const auto& kv : prefixes_) {
    for (const Route& r : kv.second.routes) all.emplace_back(kv.first, &r);
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    if (a.first.family != b.first.family) return a.first.family < b.first.family;
    const int c = std::memcmp(a.first.addr, b.first.addr, 16);
    if (c != 0) return c < 0;
    return std::make_tuple(a.first.len, a.second->tos, a.second->metric) <
           std::make_tuple(b.first.len, b.second->tos, b.second->metric);
  });
  std::vector<Route> out;
  for (const auto& [key, r] : all) {
    Route copy = *r;
    copy.prefix = key.family == 6 ? base::IpAddress::V6(key.addr) : base::IpAddress::V4(key.addr);
    out.push_back(std::move(copy));
  }
  return out;
}

std::vector<std::string> RouteTable::RouteLines() const {
  std::vector<std::string> lines;
  for (const Route& r : Routes()) {
    std::string s = r.prefix.ToString() + "/" + std::to_string(r.prefix_len) + " tos " +
                    std::to_string(r.tos) + " metric " + std::to_string(r.metric);
    for (const NextHop& h : r.hops) {
      if (h.gateway.family() != base::IpAddress::Family::kNone) {
        s += " via " + h.gateway.ToString();
      }
      s += " dev " + std::to_string(h.oif);
    }
    lines.push_back(std::move(s));
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

}  // namespace xflowd::hal
