// libFuzzer target: the kernel's answers to tc requests (one recv() buffer) -> the read-back
// sample filter (ParseSampleFilter) and the ACK (FindAck). Must never crash, leak or read out
// of bounds. The sequence number looked for is the first message's, so matching messages are
// reached.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "hal/tc/tc_netlink.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace xflowd::hal;
  uint32_t seq = 0;
  if (size >= 12) std::memcpy(&seq, data + 8, 4);
  const base::ByteView buf(data, size);
  tc::AppliedSampleFilter f;
  uint64_t sink = 0;
  if (tc::ParseSampleFilter(buf, seq, &f)) sink += f.rate + f.group + f.trunc_size + f.flags;
  tc::NetlinkAck ack;
  if (tc::FindAck(buf, seq, &ack)) sink += ack.ext_message.size();
  return sink == 0xdeadbeef ? 1 : 0;
}
