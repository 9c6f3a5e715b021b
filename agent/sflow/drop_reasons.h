// DropReasonMap: which sFlow drop_reason (sflow_drops.txt) a Linux drop event stands for, as
// hsflowd maps them (its dropPoints_hw.h, dropPoints_rn.h, dropPoints_sw.h; the table is in
// docs/linux.md "Discards"):
//   hardware: the devlink trap name; else its trap group; unknown traps and control traps
//             (stp, lldp, bgp, ... groups: packets trapped to the CPU, not dropped) are
//             ignored.
//   software: the kernel's drop reason (REASON, kernel >= 5.18) unless it is NOT_SPECIFIED or
//             unknown to the table; else the freeing function's name (SYMBOL: tcp_* ->
//             unknown_l4, ip_* -> unknown_l3, br_* -> unknown_l2, ...); teardown frees that
//             are not drops (skb_release_data, skb_queue_purge, sk_stream_kill_queues) are
//             ignored; anything else is unknown (256).
// Built once on the control plane; Map() does not allocate.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hal/drop_source.h"

namespace xflowd::agent::sflow {

class DropReasonMap {
 public:
  static constexpr int32_t kIgnore = -1;  // not a drop to report
  DropReasonMap();
  // The sFlow drop_reason code, or kIgnore.
  int32_t Map(const hal::DropEvent& event) const;

  // The sFlow code of a reason name ("acl" -> 258); kIgnore for "" or an unknown name.
  static int32_t CodeOf(const std::string& name);
  // Every name the tables use, for the test that they all resolve.
  static std::vector<std::string> TableReasonNames();

 private:
  struct Entry {
    std::string key;  // trap / group / reason name, or a symbol prefix
    int32_t code;
  };
  static int32_t Lookup(const std::vector<Entry>& table, hal::base::ByteView key, bool prefix,
                        bool* found);
  std::vector<Entry> traps_;
  std::vector<Entry> groups_;
  std::vector<Entry> reasons_;
  std::vector<Entry> symbols_;  // prefixes, first match wins
};

}  // namespace xflowd::agent::sflow
