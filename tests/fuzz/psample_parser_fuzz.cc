// libFuzzer target for the PSAMPLE netlink parser (hal/psample/psample_parser.h): one recv()
// buffer of netlink messages, parsed as a stream (with sequence accounting) and as one message.
#include <cstddef>
#include <cstdint>

#include "hal/psample/psample_parser.h"

namespace {

class Sink final : public xflowd::hal::psample::PsampleSink {
 public:
  void OnPsample(const xflowd::hal::PacketSample& s,
                 const xflowd::hal::psample::PsampleMeta& m) override {
    // Touch every byte the parser hands out: ASan catches a view past the input.
    for (uint8_t b : s.header) sum_ += b;
    sum_ += m.group + s.frame_length + s.source_sequence;
  }
  uint64_t sum_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace xflowd::hal;
  const base::ByteView in(data, size);
  psample::ParserOptions options;
  options.family_id = size > 0 && (data[0] & 1) ? 0x1c : 0;
  options.sequence_mode = static_cast<psample::SequenceMode>(size > 1 ? data[1] % 3 : 0);
  static psample::PsampleStreamParser* parser = nullptr;
  // One long-lived parser too, so sequence state carries across inputs like a real stream.
  if (parser == nullptr) parser = new psample::PsampleStreamParser(psample::ParserOptions());
  psample::PsampleStreamParser fresh(options);
  Sink sink;
  fresh.ParseBuffer(in, base::MonoTime(), sink);
  parser->ParseBuffer(in, base::MonoTime(), sink);
  PacketSample s;
  psample::PsampleMeta m;
  psample::ParseStats st;
  if (psample::ParseSampleMessage(in, 0, &s, &m, &st) == psample::MessageResult::kSample) {
    for (uint8_t b : s.header) sink.sum_ += b;
  }
  return 0;
}
