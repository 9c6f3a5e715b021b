// The PSAMPLE generic netlink family (include/uapi/linux/psample.h), shadowed here so we build
// against old kernel headers too. Shared by the parser (hal/psample) and the simulator's
// emitter (sim/psample_emitter).
#pragma once

#include <cstddef>
#include <cstdint>

namespace xflowd::hal::psample_wire {

enum Attr : uint16_t {
  kAttrIifindex = 0,
  kAttrOifindex = 1,
  kAttrOrigsize = 2,
  kAttrSampleGroup = 3,
  kAttrGroupSeq = 4,
  kAttrSampleRate = 5,
  kAttrData = 6,
  kAttrGroupRefcount = 7,
  kAttrTunnel = 8,
  kAttrPad = 9,
  kAttrOutTc = 10,
  kAttrOutTcOcc = 11,
  kAttrLatency = 12,
  kAttrTimestamp = 13,
  kAttrProto = 14,
  kAttrUserCookie = 15,
  kAttrSampleProbability = 16,
};
constexpr uint8_t kCmdSample = 0;    // PSAMPLE_CMD_SAMPLE
constexpr uint8_t kGenlVersion = 1;  // PSAMPLE_GENL_VERSION
constexpr char kFamilyName[] = "psample";
constexpr char kPacketsGroupName[] = "packets";
constexpr size_t kMaxMessageBytes = 0xFFFF + 20;  // PSAMPLE_MAX_PACKET_SIZE + headers

}  // namespace xflowd::hal::psample_wire
