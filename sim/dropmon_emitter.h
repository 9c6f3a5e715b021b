// The simulator's drops: plays the kernel's side of the drop monitor (NET_DM packet alerts).
// EncodeDropAlert writes one NET_DM_CMD_PACKET_ALERT message byte-exact as
// net/core/drop_monitor.c builds it; SimDrops is a seeded generator of dropped packets on a
// switch's ports, each with why (a kernel drop reason or a devlink trap), written as such
// messages, one datagram each, to an fd (one end of a socketpair). The other end goes to
// hal::dropmon::DropmonSource::FromFd, so xflowd --sim and the tests drive the real read path
// and parser without a kernel that has NET_DM.
//
// Standard library + hal only. Byte order: host (netlink). Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "hal/base/byte_view.h"
#include "hal/base/prng.h"
#include "hal/base/time.h"
#include "hal/dropmon_wire.h"

namespace xflowd::sim {

// Every field of one packet alert. Strings empty = attribute left out.
struct DropAlertMessage {
  uint16_t family_id = 0x1d;  // nlmsg_type: the dynamic id genl_ctrl_resolve would return
  bool hardware = false;      // ORIGIN 1: a devlink trap (trap names), else kfree_skb (symbol)
  uint64_t pc = 0;            // software only
  std::string symbol;         // software only
  std::string reason;         // software only (kernel >= 5.18)
  std::string trap_group;     // hardware only
  std::string trap_name;      // hardware only
  uint32_t in_ifindex = 0;    // IN_PORT nest, left out when 0
  std::string in_name;        // in the IN_PORT nest when not empty
  uint64_t timestamp_ns = 0;  // CLOCK_REALTIME
  uint32_t orig_len = 0;      // skb->len
  uint16_t proto = 0;         // ethertype, host order
  hal::base::ByteView payload;
  bool pad_u64 = false;  // a PAD attribute before each u64 whose payload would be misaligned
};

// Encodes `m` into out[0, cap) in the kernel's attribute order (ORIGIN, PC, SYMBOL, REASON for
// software; ORIGIN, TRAP_GROUP_NAME, TRAP_NAME for hardware; then IN_PORT, TIMESTAMP,
// ORIG_LEN, PROTO, PAYLOAD). Returns nlmsg_len, or 0 if it does not fit. Pure.
size_t EncodeDropAlert(const DropAlertMessage& m, uint8_t* out, size_t cap);

// One kind of drop the simulator makes.
struct SimDropKind {
  bool hardware = false;
  const char* reason;  // software: SKB_DROP_REASON name; hardware: trap name
  const char* where;   // software: symbol; hardware: trap group
};
// The mix SimDrops draws from (uniformly): software reasons and hardware traps that each map
// to an sFlow drop reason.
const std::vector<SimDropKind>& SimDropKinds();

struct SimDropsConfig {
  double drops_per_s = 0;  // mean over the whole switch
  uint32_t first_ifindex = 1;
  uint32_t num_ports = 1;
  std::string port_name_prefix = "swp";
  uint64_t seed = 1;
  uint16_t family_id = 0x1d;
  uint32_t truncate_bytes = 128;  // payload bytes per alert
  int64_t mono_to_wall_ns = 0;    // TIMESTAMP = the drop's monotonic time + this
};

struct SimDropsStats {
  uint64_t drops = 0;          // made
  uint64_t sent = 0;           // written to the fd
  uint64_t send_failures = 0;  // full socket buffer (like a netlink overrun: lost)
};

class SimDrops {
 public:
  // Writes to `fd` (not owned). Drops start at `start`.
  SimDrops(const SimDropsConfig& config, int fd, hal::base::MonoTime start);
  // Makes the drops between the previous call and `now`, spread evenly over that time.
  void AdvanceTo(hal::base::MonoTime now);
  // Starts from `now` without making the drops of the time before.
  void SkipTo(hal::base::MonoTime now);
  const SimDropsStats& stats() const { return stats_; }
  // Drops made, by reason (software) or trap name (hardware).
  const std::map<std::string, uint64_t>& truth() const { return truth_; }

 private:
  void MakeOne(hal::base::MonoTime when);
  SimDropsConfig config_;
  int fd_;
  hal::base::MonoTime last_;
  double carry_ = 0;  // fractional drops owed
  hal::base::Prng prng_;
  SimDropsStats stats_;
  std::map<std::string, uint64_t> truth_;
  std::vector<uint8_t> frame_;
  std::vector<uint8_t> msg_;
};

}  // namespace xflowd::sim
