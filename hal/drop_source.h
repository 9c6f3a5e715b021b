// DropSource: where dropped-packet notifications come from (the Linux drop monitor, NET_DM,
// or the simulator through the same messages). A DropEvent is a plain struct on the stack;
// its views are valid only during the call.
#pragma once

#include <cstddef>
#include <cstdint>

#include "hal/base/byte_view.h"
#include "hal/base/time.h"

namespace xflowd::hal {

enum class DropOrigin : uint8_t { kSoftware = 0, kHardware = 1 };

struct DropEvent {
  DropOrigin origin = DropOrigin::kSoftware;
  uint32_t input_ifindex = 0;  // 0 = unknown
  // Bytes of the packet when dropped (skb->len: no FCS), 0 = unknown.
  uint32_t original_length = 0;
  uint16_t protocol = 0;  // ethertype (host order), 0 = unknown
  base::MonoTime timestamp;
  // Software drops: the kernel function that freed the packet ("tcp_v4_rcv+0x8f/0x1a0") and,
  // from kernel 5.18 on, the SKB_DROP_REASON_ name without its prefix ("NO_SOCKET").
  // Hardware drops: the devlink trap and its group ("ingress_vlan_filter", "l2_drops").
  // Each may be empty. Views into the message; valid only during the call.
  base::ByteView symbol;
  base::ByteView reason;
  base::ByteView trap_name;
  base::ByteView trap_group;
  // The first bytes of the packet as the kernel had it: software drops usually start at the
  // network header (the link header was already pulled), hardware drops at the Ethernet header.
  base::ByteView payload;
};

// Receives drop events. Must not block, allocate or throw.
class DropEventSink {
 public:
  virtual ~DropEventSink() = default;
  virtual void OnDrop(const DropEvent& event) = 0;
};

struct DropSourceStats {
  uint64_t events = 0;        // handed to the sink
  uint64_t lost = 0;          // lost before we saw them (socket buffer overrun)
  uint64_t parse_errors = 0;  // malformed messages, dropped
};

class DropSource {
 public:
  virtual ~DropSource() = default;
  // Readable when events are waiting (for epoll).
  virtual int fd() const = 0;
  // Hands up to `budget` waiting events to `sink` without blocking. Returns how many.
  virtual size_t Drain(DropEventSink& sink, size_t budget) = 0;
  virtual DropSourceStats stats() const = 0;
};

}  // namespace xflowd::hal
