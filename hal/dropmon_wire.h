// The NET_DM generic netlink family (include/uapi/linux/net_dropmon.h), shadowed here so we
// build against old kernel headers too. Shared by the parser (hal/dropmon), the socket set-up
// (hal/dropmon_genl) and the simulator's emitter (sim/dropmon_emitter).
#pragma once

#include <cstddef>
#include <cstdint>

namespace xflowd::hal::dropmon_wire {

enum Cmd : uint8_t {
  kCmdUnspec = 0,
  kCmdAlert = 1,  // summary mode (not used)
  kCmdConfig = 2,
  kCmdStart = 3,
  kCmdStop = 4,
  kCmdPacketAlert = 5,  // one dropped packet (packet mode)
  kCmdConfigGet = 6,
  kCmdConfigNew = 7,
  kCmdStatsGet = 8,
  kCmdStatsNew = 9,
};

enum Attr : uint16_t {
  kAttrUnspec = 0,
  kAttrAlertMode = 1,  // u8
  kAttrPc = 2,         // u64
  kAttrSymbol = 3,     // string
  kAttrInPort = 4,     // nested: kPortAttr...
  kAttrTimestamp = 5,  // u64 ns
  kAttrProto = 6,      // u16, ethertype in host order
  kAttrPayload = 7,    // binary
  kAttrPad = 8,
  kAttrTruncLen = 9,           // u32
  kAttrOrigLen = 10,           // u32
  kAttrQueueLen = 11,          // u32
  kAttrStats = 12,             // nested
  kAttrHwStats = 13,           // nested
  kAttrOrigin = 14,            // u16: kOriginSw / kOriginHw
  kAttrHwTrapGroupName = 15,   // string
  kAttrHwTrapName = 16,        // string
  kAttrHwEntries = 17,         // nested
  kAttrHwEntry = 18,           // nested
  kAttrHwTrapCount = 19,       // u32
  kAttrSwDrops = 20,           // flag
  kAttrHwDrops = 21,           // flag
  kAttrFlowActionCookie = 22,  // binary
  kAttrReason = 23,            // string: the SKB_DROP_REASON_ name without its prefix (>= 5.18)
};

enum PortAttr : uint16_t {
  kPortAttrIfindex = 0,  // u32
  kPortAttrName = 1,     // string
};

constexpr uint8_t kAlertModeSummary = 0;
constexpr uint8_t kAlertModePacket = 1;
constexpr uint16_t kOriginSw = 0;
constexpr uint16_t kOriginHw = 1;
constexpr uint8_t kGenlVersion = 2;  // NET_DM_GENL_VERSION (packet mode needs 2)
constexpr char kFamilyName[] = "NET_DM";
constexpr char kEventsGroupName[] = "events";  // NET_DM_GRP_ALERT

}  // namespace xflowd::hal::dropmon_wire
