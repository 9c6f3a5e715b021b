// Samples/s through the agent's data path on one core: Agent::OnSample -> Sampler (hardware
// input, rate 1-in-N already applied) -> Receiver -> sFlow encoder -> a Transport that drops
// the datagram. And software sampling, where the sampler sees every packet.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "agent/sflow/agent.h"
#include "exporter/transport.h"
#include "exporter/udp_transport.h"
#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "hal/base/prng.h"
#include "tests/support/frames.h"
#include "tests/support/null_transport.h"

namespace xflowd {
namespace {

using hal::base::ByteView;

using testing::NullTransport;

struct Fixture {
  hal::base::ManualClock clock;
  hal::base::Prng prng{1};
  hal::base::Logger logger = hal::base::Logger::Null();
  NullTransport transport;
  agent::sflow::Agent agent;
  std::vector<uint8_t> frame = testing::TaggedTcpHeader();

  explicit Fixture(uint32_t ports, uint32_t rate, bool egress_too = false)
      : agent(agent::sflow::AgentConfig{*hal::base::IpAddress::Parse("192.0.2.254"), 0}, clock,
              prng, logger) {
    auto& rx = agent.AddReceiver(agent::sflow::ReceiverConfig{}, {&transport});
    agent::sflow::SamplerConfig sc;
    sc.sampling_rate = rate;
    for (uint32_t p = 1; p <= ports; ++p) {
      agent.AddSampler(p, hal::Direction::kIngress, sc, rx, nullptr);
      if (egress_too) agent.AddSampler(p, hal::Direction::kEgress, sc, rx, nullptr);
    }
  }
};

void BM_HardwareSamples(benchmark::State& state) {
  const uint32_t ports = 48;
  Fixture fx(ports, 10000);
  hal::PacketSample s;
  s.frame_length = 1518;
  s.sampling_rate = 10000;
  s.has_source_sequence = true;
  s.header = ByteView(fx.frame.data(), fx.frame.size());
  std::vector<uint32_t> seq(ports + 1, 0);
  uint32_t port = 1;
  for (auto _ : state) {
    s.input_ifindex = port;
    s.output_ifindex = (port % ports) + 1;
    s.source_sequence = ++seq[port];
    fx.agent.OnSample(s);
    if (++port > ports) port = 1;
  }
  fx.agent.Flush();
  state.SetItemsProcessed(state.iterations());
  state.counters["datagrams"] = static_cast<double>(fx.transport.stats().datagrams_sent);
}
BENCHMARK(BM_HardwareSamples);

// The same with every port sampled both ways (96 samplers): samples alternate between one
// port's ingress sampler and another port's egress sampler, each with its own sequence.
void BM_HardwareSamplesBothDirections(benchmark::State& state) {
  const uint32_t ports = 48;
  Fixture fx(ports, 10000, /*egress_too=*/true);
  hal::PacketSample s;
  s.frame_length = 1518;
  s.sampling_rate = 10000;
  s.has_source_sequence = true;
  s.header = ByteView(fx.frame.data(), fx.frame.size());
  std::vector<uint32_t> seq(2 * (ports + 1), 0);
  uint32_t port = 1;
  bool egress = false;
  for (auto _ : state) {
    s.input_ifindex = port;
    s.output_ifindex = (port % ports) + 1;
    s.direction = egress ? hal::Direction::kEgress : hal::Direction::kIngress;
    const uint32_t source = egress ? s.output_ifindex : port;
    s.source_sequence = ++seq[2 * source + (egress ? 1 : 0)];
    fx.agent.OnSample(s);
    egress = !egress;
    if (!egress && ++port > ports) port = 1;
  }
  fx.agent.Flush();
  state.SetItemsProcessed(state.iterations());
  state.counters["datagrams"] = static_cast<double>(fx.transport.stats().datagrams_sent);
}
BENCHMARK(BM_HardwareSamplesBothDirections);

// Every packet goes through the sampler; 1 in 256 becomes a sample.
void BM_SoftwarePackets(benchmark::State& state) {
  Fixture fx(1, 256);
  hal::PacketSample s;
  s.input_ifindex = 1;
  s.frame_length = 1518;
  s.sampling_rate = 1;
  s.header = ByteView(fx.frame.data(), fx.frame.size());
  for (auto _ : state) fx.agent.OnSample(s);
  fx.agent.Flush();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SoftwarePackets);

// A UDP socket on 127.0.0.1 that is never read: the kernel drops what overflows its buffer,
// so sendto costs the full send path and nothing waits.
struct SinkSocket {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  uint16_t port = 0;
  SinkSocket() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    socklen_t len = sizeof(a);
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~SinkSocket() { close(fd); }
};

// The reference for the two above, measured in the same run: one sendto of a full datagram.
void BM_SendtoBaseline(benchmark::State& state) {
  SinkSocket sink;
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(sink.port);
  uint8_t datagram[1400] = {};
  for (auto _ : state) {
    benchmark::DoNotOptimize(sendto(fd, datagram, sizeof(datagram), MSG_DONTWAIT,
                                    reinterpret_cast<sockaddr*>(&to), sizeof(to)));
  }
  close(fd);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SendtoBaseline);

// Hardware samples all the way to a real UDP socket (the daemon's path, one core).
void BM_HardwareSamplesToUdp(benchmark::State& state) {
  SinkSocket sink;
  hal::base::Endpoint ep;
  ep.address = *hal::base::IpAddress::Parse("127.0.0.1");
  ep.port = sink.port;
  auto udp = exporter::UdpTransport::Create(ep);
  if (!udp.ok()) {
    state.SkipWithError(udp.status().ToString().c_str());
    return;
  }
  const uint32_t ports = 48;
  hal::base::ManualClock clock;
  hal::base::Prng prng{1};
  hal::base::Logger logger = hal::base::Logger::Null();
  agent::sflow::Agent agent(
      agent::sflow::AgentConfig{*hal::base::IpAddress::Parse("192.0.2.254"), 0}, clock, prng,
      logger);
  auto& rx = agent.AddReceiver(agent::sflow::ReceiverConfig{}, {udp->get()});
  agent::sflow::SamplerConfig sc;
  sc.sampling_rate = 10000;
  for (uint32_t p = 1; p <= ports; ++p)
    agent.AddSampler(p, hal::Direction::kIngress, sc, rx, nullptr);
  std::vector<uint8_t> frame = testing::TaggedTcpHeader();
  hal::PacketSample s;
  s.frame_length = 1518;
  s.sampling_rate = 10000;
  s.has_source_sequence = true;
  s.header = ByteView(frame.data(), frame.size());
  std::vector<uint32_t> seq(ports + 1, 0);
  uint32_t port = 1;
  for (auto _ : state) {
    s.input_ifindex = port;
    s.source_sequence = ++seq[port];
    agent.OnSample(s);
    if (++port > ports) port = 1;
  }
  agent.Flush();
  state.SetItemsProcessed(state.iterations());
  state.counters["send_errors"] = static_cast<double>((*udp)->stats().send_errors);
}
BENCHMARK(BM_HardwareSamplesToUdp);

}  // namespace
}  // namespace xflowd

BENCHMARK_MAIN();
