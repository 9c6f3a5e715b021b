// Pure parser of rtnetlink link messages (RTM_NEWLINK / RTM_DELLINK) as the kernel sends them
// in a dump (RTM_GETLINK + NLM_F_DUMP), in a reply to a single RTM_GETLINK, or as RTNLGRP_LINK
// events. No sockets here: the input is the raw bytes of one recv(), so the parser is what the
// golden tests and the fuzzer hit.
//
// Byte order: netlink headers, attribute headers and every IFLA_* value are in *host* byte
// order (the kernel and we share a CPU); only IFLA_ADDRESS is a byte string.
// Bad input never crashes: a truncated message ends the buffer, a truncated or wrongly sized
// attribute is skipped, unknown attributes are skipped; each case is counted in ParseStats.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "hal/base/byte_view.h"
#include "hal/counter_source.h"
#include "hal/port_inventory.h"

namespace xflowd::hal::rtnl {

// struct rtnl_link_stats64, as far as this parser uses it (the first 24 fields; the kernel
// sends 23 before 4.6, 24 up to 5.18 and 25 since).
struct LinkStats64 {
  uint64_t rx_packets = 0, tx_packets = 0, rx_bytes = 0, tx_bytes = 0;
  uint64_t rx_errors = 0, tx_errors = 0, rx_dropped = 0, tx_dropped = 0;
  uint64_t multicast = 0, collisions = 0;
  uint64_t rx_length_errors = 0, rx_over_errors = 0, rx_crc_errors = 0, rx_frame_errors = 0;
  uint64_t rx_fifo_errors = 0, rx_missed_errors = 0;
  uint64_t tx_aborted_errors = 0, tx_carrier_errors = 0, tx_fifo_errors = 0;
  uint64_t tx_heartbeat_errors = 0, tx_window_errors = 0;
  uint64_t rx_compressed = 0, tx_compressed = 0;
  uint64_t rx_nohandler = 0;  // only if has_rx_nohandler
  bool has_rx_nohandler = false;
};

// One RTM_NEWLINK / RTM_DELLINK message. Fields the message did not carry keep has_* false.
struct LinkMessage {
  bool is_delete = false;  // RTM_DELLINK
  uint32_t ifindex = 0;    // ifinfomsg.ifi_index
  uint16_t arphrd = 0;     // ifinfomsg.ifi_type (ARPHRD_ETHER = 1, ARPHRD_LOOPBACK = 772)
  uint32_t flags = 0;      // ifinfomsg.ifi_flags (IFF_UP, IFF_RUNNING, IFF_PROMISC, ...)
  bool has_name = false;
  std::string name;  // IFLA_IFNAME
  bool has_alias = false;
  std::string alias;  // IFLA_IFALIAS
  bool has_mac = false;
  uint8_t mac[6] = {};  // IFLA_ADDRESS when it is 6 bytes long
  bool has_mtu = false;
  uint32_t mtu = 0;  // IFLA_MTU, bytes
  bool has_operstate = false;
  uint8_t operstate = 0;  // IFLA_OPERSTATE: RFC 2863 IF_OPER_* (6 = up, 0 = unknown)
  bool has_master = false;
  uint32_t master_ifindex = 0;  // IFLA_MASTER (bridge / bond the port is enslaved to)
  bool has_stats64 = false;
  LinkStats64 stats;  // IFLA_STATS64
  bool has_kind = false;
  std::string kind;  // IFLA_LINKINFO / IFLA_INFO_KIND: "vlan", "veth", "bridge", ...
  bool has_vlan_id = false;
  uint16_t vlan_id = 0;  // IFLA_LINKINFO / IFLA_INFO_DATA / IFLA_VLAN_ID, kind "vlan" only

  bool admin_up() const;  // IFF_UP
  // Operationally up: IF_OPER_UP, or IF_OPER_UNKNOWN (loopback, some tunnels) with
  // IFF_RUNNING set.
  bool oper_up() const;
};

struct ParseStats {
  uint64_t messages = 0;         // netlink messages seen
  uint64_t links = 0;            // link messages handed to the callback
  uint64_t truncated = 0;        // a message or ifinfomsg shorter than its header says
  uint64_t bad_attr_length = 0;  // an attribute too short/long for its type, or overrunning
  uint64_t unknown_attrs = 0;    // attribute types this parser does not use (skipped)
  uint64_t other_messages = 0;   // non-link messages (NLMSG_NOOP, other RTM_*), skipped
  uint64_t error_messages = 0;   // NLMSG_ERROR with a non-zero error
};

// What a buffer ended with, for the request/response code.
struct BufferSummary {
  bool done = false;              // NLMSG_DONE seen (end of a dump)
  bool error_seen = false;        // NLMSG_ERROR seen (ack or error)
  int error = 0;                  // its error: 0 = ack, else a negative errno
  uint32_t error_seq = 0;         // nlmsg_seq of the NLMSG_ERROR
  bool dump_interrupted = false;  // NLM_F_DUMP_INTR on some message: the dump is inconsistent
};

// Parses one netlink message body (ifinfomsg + attributes; `body` excludes the nlmsghdr).
// Returns false (and counts) if the ifinfomsg is truncated.
bool ParseLinkBody(base::ByteView body, bool is_delete, LinkMessage* out, ParseStats* stats);

// Walks every netlink message in one recv() buffer, calling `on_link` for each link message.
// The LinkMessage reference is valid only during the call.
BufferSummary ParseNetlinkBuffer(base::ByteView buf,
                                 const std::function<void(const LinkMessage&)>& on_link,
                                 ParseStats* stats);

// IFLA_STATS64 -> interface MIB counters. Linux has no separate broadcast counters and counts
// broadcasts inside `multicast`, so: in_ucast_pkts = rx_packets - multicast, in_multicast_pkts =
// multicast, in/out broadcast and out multicast unknown, out_ucast_pkts = tx_packets. dot3
// counters (only for ARPHRD_ETHER) come from the Ethernet error counters the kernel documents
// as their IEEE 802.3 equivalents, truncated to 32 bits as the MIB does.
PortCounters ToPortCounters(const LinkMessage& link);

// Fills the PortInfo fields a link message carries (all but speed/duplex, which ethtool gives).
// IANAifType: ARPHRD_ETHER -> 6 (ethernetCsmacd), ARPHRD_LOOPBACK -> 24, anything else -> 1.
// vlan_id: the VLAN id of a "vlan" link, 0 for a link of another kind (kept when the message
// has no IFLA_LINKINFO).
void ApplyToPortInfo(const LinkMessage& link, PortInfo* info);

}  // namespace xflowd::hal::rtnl
