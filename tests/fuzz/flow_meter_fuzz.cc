// The flow path on arbitrary frames: parser -> key -> flow cache -> records, with a small
// cache (evictions), short timeouts (splits) and batching, so every branch of the meter and
// cache runs. The first 4 bytes of the input are the claimed frame length and a time step,
// so lengths that contradict the bytes and time going backwards are covered too.
#include <cstddef>
#include <cstdint>

#include "agent/flow/flow_meter.h"
#include "exporter/netflow/flow_record.h"
#include "hal/packet_sample.h"

namespace {

class Discard : public xflowd::exporter::netflow::FlowRecordSink {
 public:
  void OnFlow(const xflowd::exporter::netflow::FlowRecord& r) override { packets += r.packets; }
  uint64_t packets = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  using namespace xflowd;
  agent::flow::FlowMeterOptions o;
  o.cache.capacity = 8;
  o.cache.inactive_timeout_ms = 50;
  o.cache.active_timeout_ms = 200;
  o.batch = (data[3] & 1) ? 4 : 1;
  o.key.macs = (data[3] & 2) != 0;
  o.key.mpls = (data[3] & 4) != 0;
  Discard sink;
  agent::flow::FlowMeter meter(o, sink);
  const uint32_t claimed = static_cast<uint32_t>(data[0]) << 8 | data[1];
  const int64_t step_ms = static_cast<int8_t>(data[2]);
  const hal::base::ByteView frame(data + 4, size - 4);
  int64_t t = 1000;
  // The same frame several times, each a bit shorter: truncation at every length.
  for (size_t cut = frame.size(), i = 0; i < 16; ++i, cut = cut * 3 / 4) {
    hal::PacketSample s;
    s.header = frame.Subview(0, cut);
    s.frame_length = claimed;
    s.input_ifindex = static_cast<uint32_t>(i % 3);
    s.sampling_rate = static_cast<uint32_t>(i);
    t += step_ms;
    s.timestamp = hal::base::MonoTime::FromMs(t);
    meter.OnSample(s);
    if (i % 5 == 4) meter.Tick(hal::base::MonoTime::FromMs(t));
  }
  meter.Flush(hal::base::MonoTime::FromMs(t + 1000));
  const auto st = meter.stats();
  if (st.active_flows != 0) __builtin_trap();        // Flush empties the cache
  if (sink.packets != st.metered) __builtin_trap();  // every metered packet is in a record
  return 0;
}
