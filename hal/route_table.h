// RouteTable: a longest-prefix-match copy of one kernel routing table (IPv4 and IPv6), for the
// extended router record (sFlow 0:1002: next hop, source and destination prefix lengths).
//
// Two parts. The control plane keeps every route it was given, keyed by prefix, length, TOS
// and metric (several metrics per prefix are normal, IPv6 above all), with its next hops in the
// kernel's order; Add/Remove come from the loop thread (an rtnetlink dump, then route events).
// The data plane is a multibit trie per family: a root of 2^16 slots indexed by the first 16
// bits (prefixes of length 0..16, one load instead of four stride-4 levels), then nodes of
// stride 4 (16 slots of child + match: 128 bytes, 64-byte aligned, so each level costs one
// cache line). No leaf pushing: a prefix sits in the one node (or the root) whose bits hold its
// last bit, expanded over the slots it covers, a slot keeping the longest; a lookup reads the
// root and at most 4 (IPv4) or 28 (IPv6) nodes and keeps the last match seen. Lookup never
// allocates, locks or throws. A family's root (512 KiB) is allocated with its first route; until
// then its lookups read a shared all-zero root.
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
#include <utility>
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
  // The lookups read the roots through pointers into this object.
  RouteTable(const RouteTable&) = delete;
  RouteTable& operator=(const RouteTable&) = delete;

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
  const Match* Lookup4(const uint8_t* addr) const { return Lookup4Pair(addr, addr).first; }
  const Match* Lookup6(const uint8_t* addr) const { return Lookup6Pair(addr, addr).first; }
  // Two lookups walked side by side, so that their cache misses overlap (the extended router
  // record needs the source's and the destination's). The matches of `a` and `b`.
  std::pair<const Match*, const Match*> Lookup4Pair(const uint8_t* a, const uint8_t* b) const {
    return Walk(root4_, a, b, 8);
  }
  std::pair<const Match*, const Match*> Lookup6Pair(const uint8_t* a, const uint8_t* b) const {
    return Walk(root6_, a, b, 32);
  }

  size_t size() const { return route_count_; }  // routes (prefix + TOS + metric)
  size_t prefixes_v4() const { return prefixes_v4_; }
  size_t prefixes_v6() const { return prefixes_v6_; }
  // Trie nodes in use, counting each family's root as one.
  size_t nodes() const { return nodes_.size() - 1 - free_nodes_.size() + 2; }
  // Bytes of the data plane (roots, trie nodes and matches, including free slots).
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
    uint32_t parent;       // 0: the family's root
    uint16_t parent_slot;  // 0..65535 in a root, 0..15 in a node
    uint8_t prefixes;      // prefixes stored in this node (at most 2 + 4 + 8 + 16)
    uint8_t children;
  };
  static constexpr unsigned kRootBits = 16;
  static constexpr size_t kRootSlots = size_t{1} << kRootBits;

  // nodes_[0] is all zeros: a walk that has ended reads it (no match, no child) instead of
  // branching, so the two walks stay in step.
  std::pair<const Match*, const Match*> Walk(const Slot* root, const uint8_t* a, const uint8_t* b,
                                             unsigned nibbles) const {
    const Slot& ra = root[unsigned{a[0]} << 8 | a[1]];
    const Slot& rb = root[unsigned{b[0]} << 8 | b[1]];
    uint32_t best_a = ra.match, best_b = rb.match;
    uint32_t node_a = ra.child, node_b = rb.child;
    // Nibble d of the address: the root took the first four.
    for (unsigned d = kRootBits / 4; (node_a | node_b) != 0 && d < nibbles; ++d) {
      const unsigned shift = (d & 1) ? 0 : 4;
      const Slot& sa = nodes_[node_a].slot[(a[d >> 1] >> shift) & 0xF];
      const Slot& sb = nodes_[node_b].slot[(b[d >> 1] >> shift) & 0xF];
      best_a = sa.match != 0 ? sa.match : best_a;
      best_b = sb.match != 0 ? sb.match : best_b;
      node_a = sa.child;
      node_b = sb.child;
    }
    return {best_a != 0 ? &matches_[best_a - 1] : nullptr,
            best_b != 0 ? &matches_[best_b - 1] : nullptr};
  }
  static Key MakeKey(const base::IpAddress& prefix, uint8_t len);
  // The route of a prefix that answers lookups.
  static const Route& Best(const Prefix& p);
  uint32_t NewNode(uint32_t parent, uint16_t slot);
  uint32_t NewMatch();
  // The family's root, allocated on first use.
  Slot* Root(const Key& key);
  static const Slot* EmptyRoot();
  // In the slots `key` covers in `node` (0: the root): with `old_match` 0 (an add), puts
  // `new_match` where no longer prefix is; else replaces `old_match` by `new_match`.
  void Cover(const Key& key, uint32_t node, uint32_t old_match, uint32_t new_match);
  void Link(const Key& key, uint32_t match);
  void Unlink(const Key& key, uint32_t match);

  std::vector<Slot> root4_store_;  // kRootSlots, or empty: no IPv4 route yet
  std::vector<Slot> root6_store_;
  const Slot* root4_;  // root4_store_'s slots, or EmptyRoot()
  const Slot* root6_;
  std::vector<Node> nodes_;     // [0] unused: child 0 means none
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
