// NET_DM (drop monitor) netlink message parser: pure (no libnl, no syscalls, no allocation), so
// it is what the golden tests and the fuzzer hit. DropmonSource (dropmon_source.h) is the thin
// socket wrapper around it.
//
// Wire format (generic netlink, family "NET_DM", multicast group "events", packet alert mode):
// one NET_DM_CMD_PACKET_ALERT message per dropped packet: nlmsghdr (16 bytes) + genlmsghdr
// (4 bytes) + attributes, each 4-byte aligned, in HOST byte order. As net/core/drop_monitor.c
// writes them:
//   ORIGIN            u16, 0 software (kfree_skb), 1 hardware (devlink trap)
//   PC                u64 (software), the address that freed the packet; PAD may precede it
//   SYMBOL            string (software), "%pS" of PC: "tcp_v4_rcv+0x8f/0x1a0"
//   REASON            string (software, kernel >= 5.18), "NO_SOCKET" (SKB_DROP_REASON_ name)
//   HW_TRAP_GROUP_NAME, HW_TRAP_NAME  strings (hardware): devlink's names
//   IN_PORT           nested: PORT_NETDEV_IFINDEX u32, PORT_NETDEV_NAME string
//   TIMESTAMP         u64 ns, CLOCK_REALTIME (0 when the skb had no timestamp)
//   ORIG_LEN          u32, skb->len
//   PROTO             u16, ethertype (host order)
//   FLOW_ACTION_COOKIE binary (hardware, skipped)
//   PAYLOAD           the first bytes of the packet (up to the configured truncation)
// Strings carry their NUL; the views handed out leave it off.
#pragma once

#include <cstddef>
#include <cstdint>

#include "hal/base/byte_view.h"
#include "hal/base/time.h"
#include "hal/drop_source.h"
#include "hal/dropmon_wire.h"

namespace xflowd::hal::dropmon {

// Why a message (or a buffer) was not turned into an event. All counters only grow.
struct ParseStats {
  uint64_t messages = 0;          // netlink messages looked at
  uint64_t events = 0;            // PACKET_ALERT messages turned into events
  uint64_t short_buffer = 0;      // fewer bytes than a nlmsghdr + genlmsghdr left
  uint64_t bad_nlmsg_len = 0;     // nlmsg_len < header or past the end of the buffer
  uint64_t wrong_family = 0;      // nlmsg_type is not the NET_DM family
  uint64_t other_command = 0;     // a valid message of another command (summary alerts, replies)
  uint64_t truncated_attr = 0;    // nla_len < 4 or past the end of its message / nest
  uint64_t bad_attr_size = 0;     // a fixed-size attribute with the wrong payload size
  uint64_t unknown_attr = 0;      // attribute type we do not know (skipped, still an event)
  uint64_t netlink_errors = 0;    // NLMSG_ERROR with a non-zero error
  uint64_t netlink_acks = 0;      // NLMSG_ERROR with error 0
  uint64_t netlink_overruns = 0;  // NLMSG_OVERRUN

  // Malformed messages, for DropSourceStats::parse_errors. Acks, other commands and unknown
  // attributes are not errors.
  uint64_t errors() const {
    return short_buffer + bad_nlmsg_len + wrong_family + truncated_attr + bad_attr_size;
  }
};

enum class MessageResult : uint8_t {
  kEvent,      // *event is filled
  kNotEvent,   // a valid message of another command
  kMalformed,  // counted in stats by kind
};

// Parses ONE message: `msg` starts at the nlmsghdr and is exactly nlmsg_len bytes. family_id 0
// accepts any generic netlink family. Fills *event except timestamp when the message has none
// (then `fallback_time`); TIMESTAMP (wall ns) + wall_to_mono_ns is the monotonic time. Views in
// *event point into `msg`. Never reads outside `msg`.
MessageResult ParseAlertMessage(base::ByteView msg, uint16_t family_id, int64_t wall_to_mono_ns,
                                base::MonoTime fallback_time, DropEvent* event, ParseStats* stats);

// Parses every message of one recv() buffer (messages back to back), handing events to `sink`.
// A bad nlmsg_len ends the buffer (no way to resync). Returns events handed over.
size_t ParseBuffer(base::ByteView buf, uint16_t family_id, int64_t wall_to_mono_ns,
                   base::MonoTime fallback_time, DropEventSink& sink, ParseStats* stats);

}  // namespace xflowd::hal::dropmon
