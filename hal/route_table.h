// RouteTable: a longest-prefix-match copy of one kernel routing table (IPv4 and IPv6), for the
// extended router record (sFlow 0:1002: next hop, source and destination prefix lengths).
//
// Two parts. The control plane keeps every route it was given, keyed by prefix, length, TOS
// and metric (several metrics per prefix are normal, IPv6 above all), with its next hops in the
// kernel's order; Add/Remove come from the loop thread (an rtnetlink dump, then route events).
// The data plane is a multibit trie of stride 4 per family (a node is 16 slots of child +
// match: 128 bytes, 64-byte aligned, so each level costs one cache line), no leaf pushing: a prefix
// of length L sits in the node at depth (L - 1) / 4, expanded over the 1..16 slots it covers; a
// lookup walks at most 8 (IPv4) or 32 (IPv6) nodes and keeps the last match seen. Lookup never
// allocates, locks or throws.
//
// The route that answers for a prefix is the one with the lowest metric among those with TOS
// 0 (a TOS route matches only packets of that TOS, which the sampled packet rarely is), else
// the lowest metric; a multipath route answers with its first next hop.
//
// Threading: one thread (the event loop) for both parts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "hal/base/ip_address.h"

namespace xflowd::hal {

class RouteTable {
 public:
  struct NextHop {
    base::IpAddress gateway;  // kNone: on-link (directly connected)
    uint32_t oif = 0;         // output ifindex, 0 if unknown
  };
  // One route, as the control plane receives it.
  struct Route {
    base::IpAddress prefix;  // v4 or v6; bits beyond prefix_len are ignored
    uint8_t prefix_len = 0;  // 0..32 / 0..128
    uint8_t tos = 0;
    uint32_t metric = 0;        // RTA_PRIORITY
    std::vector<NextHop> hops;  // in the kernel's order; may be empty (no next hop known)
  };
  // What a lookup finds; valid until the next Add/Remove/Clear.
  struct Match {
    uint8_t prefix_len = 0;
    base::IpAddress gateway;  // kNone: on-link, the destination itself is the next hop
    uint32_t oif = 0;
  };

  RouteTable();

  // Control plane. Add inserts, or replaces the route with the same prefix, TOS and metric;
  // with `append` (NLM_F_APPEND: a next hop added to an IPv6 multipath route) the next hops
  // are added after those there already are.
  void Add(const Route& route, bool append = false);
  // Removes the route with this prefix, TOS and metric. If `route.hops` names next hops the
  // route has and others remain, only those go (IPv6 deletes multipath routes one next hop at
  // a time). False if there was no such route.
  bool Remove(const Route& route);
  void Clear();

  // Data plane: `addr` is 4 (IPv4) or 16 (IPv6) bytes in network order. Null: no route.
  const Match* Lookup4(const uint8_t* addr) const { return Walk(kRoot4, addr, 8); }
  const Match* Lookup6(const uint8_t* addr) const { return Walk(kRoot6, addr, 32); }

  size_t size() const { return route_count_; }  // routes (prefix + TOS + metric)
  size_t prefixes_v4() const { return prefixes_v4_; }
  size_t prefixes_v6() const { return prefixes_v6_; }
  size_t nodes() const { return nodes_.size() - free_nodes_.size(); }
  // Bytes of the data plane (trie nodes and matches, including free slots).
  size_t data_bytes() const;
  // Every route, sorted (family, prefix, length, TOS, metric): for tests and diagnostics.
  std::vector<Route> Routes() const;
  // "10.0.0.0/8 tos 0 metric 0 via 192.0.2.1 dev 3": one line per route, sorted.
  std::vector<std::string> RouteLines() const;

 private:
  struct Key {
    uint8_t family = 0;  // 4 or 6
    uint8_t len = 0;
    uint8_t addr[16] = {};  // masked to len
    bool operator==(const Key& o) const;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  struct Prefix {
    std::vector<Route> routes;  // same prefix, different TOS or metric
    uint32_t match = 0;         // index + 1 into matches_
  };
  // One slot: the child node (0 = none) and the match (index + 1 into matches_; 0 = none),
  // side by side so that a lookup touches one cache line per level.
  struct Slot {
    uint32_t child;
    uint32_t match;
  };
  struct alignas(64) Node {
    Slot slot[16];
  };
  // What only updates need, kept apart from the nodes the lookups walk.
  struct NodeInfo {
    uint32_t parent;
    uint8_t parent_slot;
    uint8_t prefixes;  // prefixes stored in this node (at most 1 + 2 + 4 + 8 + 16)
    uint8_t children;
  };
  static constexpr uint32_t kRoot4 = 0;
  static constexpr uint32_t kRoot6 = 1;

  const Match* Walk(uint32_t node, const uint8_t* addr, unsigned max_depth) const {
    uint32_t best = 0;
    for (unsigned d = 0; d < max_depth; ++d) {
      const unsigned nib = (addr[d >> 1] >> ((d & 1) ? 0 : 4)) & 0xF;
      const Slot& sl = nodes_[node].slot[nib];
      if (sl.match != 0) best = sl.match;
      node = sl.child;
      if (node == 0) break;
    }
    return best != 0 ? &matches_[best - 1] : nullptr;
  }
  static Key MakeKey(const base::IpAddress& prefix, uint8_t len);
  // The route of a prefix that answers lookups.
  static const Route& Best(const Prefix& p);
  uint32_t NewNode(uint32_t parent, uint8_t slot);
  uint32_t NewMatch();
  // Rewrites the slots `key` covers in `node` (at depth d) from the prefixes there are.
  void Refill(uint32_t node, const Key& key);
  void Link(const Key& key, uint32_t match);
  void Unlink(const Key& key);

  std::vector<Node> nodes_;
  std::vector<NodeInfo> info_;  // parallel to nodes_
  std::vector<uint32_t> free_nodes_;
  std::vector<Match> matches_;
  std::vector<uint32_t> free_matches_;
  std::unordered_map<Key, Prefix, KeyHash> prefixes_;
  size_t route_count_ = 0;
  size_t prefixes_v4_ = 0;
  size_t prefixes_v6_ = 0;
};

}  // namespace xflowd::hal
