// libFuzzer target: NFLOG packet messages (one recv() buffer) -> NflogPacket -> rebuilt
// Ethernet frame and original length. Must never crash or read/write out of bounds.
#include <cstddef>
#include <cstdint>

#include "hal/nflog/nflog_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace xflowd::hal;
  nflog::ParseStats stats;
  int last_error = 0;
  static uint8_t frame[14 + 256];
  uint64_t sink = 0;
  nflog::ParseNflogBuffer(
      base::ByteView(data, size),
      [&](const nflog::NflogPacket& p) {
        sink += nflog::BuildEthernetFrame(p, frame, sizeof(frame));
        sink += nflog::OriginalFrameLength(p);
        sink += nflog::BuildEthernetFrame(p, frame, 20);
      },
      &stats, &last_error);
  nflog::NflogPacket p;
  nflog::ParsePacketBody(base::ByteView(data, size), &p, &stats);
  return sink == 0xdeadbeef ? 1 : 0;
}
