// Cost per sample of the top talkers (agent/daemon/top_talkers.h), next to the sFlow agent's
// own per-sample cost measured in the same run as the reference: a 128-byte TCP/IPv4 frame
// with an 802.1Q tag, hardware-sampled at 1-in-10000 on 48 ports. The talkers' table holds
// 4096 entries; the flows are drawn uniformly from N distinct 5-tuples (a pre-drawn sequence,
// so no PRNG in the loop): N = 64 (every sample a hit), 4096 (about the table), 1,048,576
// (nearly every sample a miss that evicts).
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "agent/daemon/top_talkers.h"
#include "agent/packet/packet_parser.h"
#include "agent/sflow/agent.h"
#include "exporter/transport.h"
#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "hal/base/prng.h"
#include "tests/support/frames.h"
#include "tests/support/null_transport.h"

namespace xflowd {
namespace {

using hal::base::ByteView;

using testing::NullTransport;

constexpr size_t kSrcIpOffset = 18 + 12;    // Ethernet + 802.1Q, then the IPv4 source
constexpr size_t kSrcPortOffset = 18 + 20;  // TCP source port

// Flow i: source 10.<i>/24 bits, source port from i as well.
void SetFlow(std::vector<uint8_t>& f, uint32_t i) {
  f[kSrcIpOffset + 1] = static_cast<uint8_t>(i >> 16);
  f[kSrcIpOffset + 2] = static_cast<uint8_t>(i >> 8);
  f[kSrcIpOffset + 3] = static_cast<uint8_t>(i);
  f[kSrcPortOffset] = static_cast<uint8_t>(i >> 3);
  f[kSrcPortOffset + 1] = static_cast<uint8_t>(i * 7);
}

std::vector<uint32_t> FlowSequence(uint32_t flows) {
  hal::base::Prng prng(42);
  std::vector<uint32_t> seq(1 << 16);
  for (uint32_t& s : seq) s = prng.Uniform(0, flows - 1);
  return seq;
}

// The reference: the sFlow agent's per-sample work (sampler, receiver, encoder).
void BM_AgentSample(benchmark::State& state) {
  hal::base::ManualClock clock;
  hal::base::Prng prng{1};
  hal::base::Logger logger = hal::base::Logger::Null();
  NullTransport transport;
  agent::sflow::Agent agent(
      agent::sflow::AgentConfig{*hal::base::IpAddress::Parse("192.0.2.254"), 0}, clock, prng,
      logger);
  auto& rx = agent.AddReceiver(agent::sflow::ReceiverConfig{}, {&transport});
  agent::sflow::SamplerConfig sc;
  sc.sampling_rate = 10000;
  const uint32_t ports = 48;
  for (uint32_t p = 1; p <= ports; ++p) {
    agent.AddSampler(p, hal::Direction::kIngress, sc, rx, nullptr);
  }
  std::vector<uint8_t> frame = testing::TaggedTcpHeader();
  const std::vector<uint32_t> flows = FlowSequence(static_cast<uint32_t>(state.range(0)));
  hal::PacketSample s;
  s.frame_length = 1518;
  s.sampling_rate = 10000;
  s.has_source_sequence = true;
  s.header = ByteView(frame.data(), frame.size());
  std::vector<uint32_t> seq(ports + 1, 0);
  uint32_t port = 1;
  size_t k = 0;
  for (auto _ : state) {
    SetFlow(frame, flows[k++ & 0xFFFF]);
    s.input_ifindex = port;
    s.source_sequence = ++seq[port];
    agent.OnSample(s);
    if (++port > ports) port = 1;
  }
  agent.Flush();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AgentSample)->Arg(4096);

void BM_TopTalkersSample(benchmark::State& state) {
  agent::daemon::TopTalkers talkers(agent::daemon::TopTalkersConfig{});
  talkers.OnTick(hal::base::MonoTime::FromSeconds(1));
  std::vector<uint8_t> frame = testing::TaggedTcpHeader();
  const std::vector<uint32_t> flows = FlowSequence(static_cast<uint32_t>(state.range(0)));
  hal::PacketSample s;
  s.frame_length = 1518;
  s.sampling_rate = 10000;
  s.has_source_sequence = true;
  s.header = ByteView(frame.data(), frame.size());
  uint32_t port = 1;
  size_t k = 0;
  for (auto _ : state) {
    SetFlow(frame, flows[k++ & 0xFFFF]);
    s.input_ifindex = port;
    talkers.OnSample(s);
    if (++port > 48) port = 1;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["evicted/sample"] =
      static_cast<double>(talkers.stats().evictions) / static_cast<double>(talkers.stats().samples);
}
BENCHMARK(BM_TopTalkersSample)->Arg(64)->Arg(4096)->Arg(1 << 20);

// The share of the header parse (agent/packet) in both: the same frames, parsed only.
void BM_ParseOnly(benchmark::State& state) {
  std::vector<uint8_t> frame = testing::TaggedTcpHeader();
  const std::vector<uint32_t> flows = FlowSequence(static_cast<uint32_t>(state.range(0)));
  size_t k = 0;
  for (auto _ : state) {
    SetFlow(frame, flows[k++ & 0xFFFF]);
    agent::packet::ParsedPacket parsed;
    benchmark::DoNotOptimize(agent::packet::ParsePacket(ByteView(frame.data(), frame.size()),
                                                        hal::LinkType::kEthernet, &parsed));
    benchmark::DoNotOptimize(parsed.src_port);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseOnly)->Arg(4096);

}  // namespace
}  // namespace xflowd

BENCHMARK_MAIN();
