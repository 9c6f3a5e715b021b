#include "hal/route_table.h"

#include <algorithm>
#include <cstring>
#include <tuple>

namespace xflowd::hal {
namespace {

unsigned Nibble(const uint8_t* a, unsigned d) { return (a[d >> 1] >> ((d & 1) ? 0 : 4)) & 0xF; }

void SetNibble(uint8_t* a, unsigned d, unsigned v) {
  if (d & 1) {
    a[d >> 1] = static_cast<uint8_t>((a[d >> 1] & 0xF0) | v);
  } else {
    a[d >> 1] = static_cast<uint8_t>((a[d >> 1] & 0x0F) | (v << 4));
  }
}

// Clears every bit after the first `len` of a 16-byte address.
void MaskBits(uint8_t* a, unsigned len) {
  for (unsigned i = 0; i < 16; ++i) {
    const unsigned keep = len >= 8 * (i + 1) ? 8 : (len > 8 * i ? len - 8 * i : 0);
    a[i] &= static_cast<uint8_t>(keep == 0 ? 0 : (0xFF << (8 - keep)));
  }
}

unsigned DepthOf(unsigned len) { return len == 0 ? 0 : (len - 1) / 4; }

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

RouteTable::RouteTable() {
  NewNode(0, 0);  // kRoot4
  NewNode(0, 0);  // kRoot6
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

uint32_t RouteTable::NewNode(uint32_t parent, uint8_t slot) {
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

void RouteTable::Refill(uint32_t node, const Key& key) {
  const unsigned d = DepthOf(key.len);
  const unsigned k = key.len - 4 * d;  // bits of this node's nibble the prefix fixes: 0..4
  const unsigned span = 1u << (4 - k);
  const unsigned base = Nibble(key.addr, d) & ~(span - 1);
  const unsigned min_k = d == 0 ? 0 : 1;  // length 4d belongs to the parent's node
  for (unsigned s = base; s < base + span; ++s) {
    uint32_t found = 0;
    for (int kk = 4; kk >= static_cast<int>(min_k) && found == 0; --kk) {
      Key probe = key;
      SetNibble(probe.addr, d, s);
      probe.len = static_cast<uint8_t>(4 * d + static_cast<unsigned>(kk));
      MaskBits(probe.addr, probe.len);
      auto it = prefixes_.find(probe);
      if (it != prefixes_.end()) found = it->second.match;
    }
    nodes_[node].slot[s].match = found;
  }
}

void RouteTable::Link(const Key& key, uint32_t /*match*/) {
  const unsigned d = DepthOf(key.len);
  uint32_t node = key.family == 6 ? kRoot6 : kRoot4;
  for (unsigned i = 0; i < d; ++i) {
    const unsigned nib = Nibble(key.addr, i);
    uint32_t next = nodes_[node].slot[nib].child;
    if (next == 0) {
      next = NewNode(node, static_cast<uint8_t>(nib));  // may move nodes_
      nodes_[node].slot[nib].child = next;
      ++info_[node].children;
    }
    node = next;
  }
  ++info_[node].prefixes;
  Refill(node, key);
}

void RouteTable::Unlink(const Key& key) {
  const unsigned d = DepthOf(key.len);
  uint32_t node = key.family == 6 ? kRoot6 : kRoot4;
  for (unsigned i = 0; i < d; ++i) {
    node = nodes_[node].slot[Nibble(key.addr, i)].child;
    if (node == 0) return;  // cannot happen: the prefix was linked
  }
  --info_[node].prefixes;
  Refill(node, key);
  // Nodes with nothing left go back to the free list, up to the first that still holds some.
  while (node != kRoot4 && node != kRoot6 && info_[node].prefixes == 0 &&
         info_[node].children == 0) {
    const uint32_t parent = info_[node].parent;
    nodes_[parent].slot[info_[node].parent_slot].child = 0;
    --info_[parent].children;
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
    Unlink(key);
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
  NewNode(0, 0);
  NewNode(0, 0);
}

size_t RouteTable::data_bytes() const {
  return nodes_.capacity() * sizeof(Node) + info_.capacity() * sizeof(NodeInfo) +
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
