// libFuzzer target for the NET_DM (drop monitor) parser (hal/dropmon/dropmon_parser.h): one
// recv() buffer of netlink messages, parsed as a buffer and as one message; every event then
// goes through the discard notifier (reason map, sampled header, encoder) into a datagram.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "agent/sflow/discard_notifier.h"
#include "exporter/transport.h"
#include "hal/base/clock.h"
#include "hal/dropmon/dropmon_parser.h"

namespace {

class Sink final : public xflowd::hal::DropEventSink {
 public:
  explicit Sink(xflowd::hal::DropEventSink& next) : next_(next) {}
  void OnDrop(const xflowd::hal::DropEvent& e) override {
    // Touch every byte the parser hands out: ASan catches a view past the input.
    for (auto* v : {&e.symbol, &e.reason, &e.trap_name, &e.trap_group, &e.payload}) {
      for (uint8_t b : *v) sum_ += b;
    }
    next_.OnDrop(e);
  }
  uint64_t sum_ = 0;

 private:
  xflowd::hal::DropEventSink& next_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace xflowd;
  using namespace xflowd::hal;
  static base::ManualClock clock;
  static agent::sflow::Receiver* receiver =
      new agent::sflow::Receiver(agent::sflow::ReceiverConfig(), base::IpAddress::V4(0xC0000201), 0,
                                 clock, clock.Now(), std::vector<exporter::Transport*>());
  static agent::sflow::DiscardNotifier* notifier =
      new agent::sflow::DiscardNotifier(agent::sflow::DiscardConfig(), receiver, 1);
  const base::ByteView in(data, size);
  const uint16_t family = size > 0 && (data[0] & 1) ? 0x1d : 0;
  Sink sink(*notifier);
  dropmon::ParseStats st;
  dropmon::ParseBuffer(in, family, -12345, base::MonoTime(), sink, &st);
  DropEvent e;
  if (dropmon::ParseAlertMessage(in, 0, 0, base::MonoTime(), &e, &st) ==
      dropmon::MessageResult::kEvent) {
    sink.OnDrop(e);
  }
  notifier->Tick(clock.Now());
  receiver->Flush();
  return 0;
}
