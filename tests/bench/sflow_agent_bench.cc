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
#include "hal/route_table.h"
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

// A routing table of `count` prefixes, seeded: a default route, /16s and /24s (a tenth are /16),
// the shape of a router's table, plus 256 frames whose addresses fall in random prefixes of it.
struct RoutedFrames {
  hal::RouteTable table;
  std::vector<std::vector<uint8_t>> frames;
  explicit RoutedFrames(uint32_t count) {
    hal::base::Prng prng(5);
    std::vector<uint32_t> dsts;
    hal::RouteTable::Route def;
    def.prefix = hal::base::IpAddress::V4(0u);
    def.hops.push_back({hal::base::IpAddress::V4(0xC0000201u), 2});
    if (count > 0) table.Add(def);
    for (uint32_t i = 1; i < count; ++i) {
      const bool wide = i % 10 == 0;
      hal::RouteTable::Route r;
      const uint32_t a =
          prng.Uniform(0x01000000u, 0xDFFFFFFFu) & (wide ? 0xFFFF0000u : 0xFFFFFF00u);
      r.prefix = hal::base::IpAddress::V4(a);
      r.prefix_len = wide ? 16 : 24;
      r.hops.push_back({hal::base::IpAddress::V4(0x0A000000u | (i & 0xFFFF)), 3});
      table.Add(r);
      if (dsts.size() < 512) dsts.push_back(a | prng.Uniform(1, 254));
    }
    for (uint32_t i = 0; i < 256; ++i) {
      std::vector<uint8_t> f = testing::TaggedTcpHeader();
      const uint32_t src = dsts.empty() ? 0xC0000201u : dsts[(2 * i) % dsts.size()];
      const uint32_t dst = dsts.empty() ? 0xC6336407u : dsts[(2 * i + 1) % dsts.size()];
      for (int b = 0; b < 4; ++b) {
        f[30 + b] = static_cast<uint8_t>(src >> (24 - 8 * b));  // IPv4 source (after the tag)
        f[34 + b] = static_cast<uint8_t>(dst >> (24 - 8 * b));
      }
      frames.push_back(std::move(f));
    }
  }
};

// BM_HardwareSamples with the extended router record on every port and a table of
// state.range(0) routes (0: the record off, the same 256 frames: the baseline to compare with).
void BM_HardwareSamplesExtendedRouter(benchmark::State& state) {
  const uint32_t routes = static_cast<uint32_t>(state.range(0));
  const uint32_t ports = 48;
  RoutedFrames rf(routes);
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
  sc.extended_router = routes > 0;
  agent.SetRouteTable(&rf.table);
  for (uint32_t p = 1; p <= ports; ++p)
    agent.AddSampler(p, hal::Direction::kIngress, sc, rx, nullptr);
  hal::PacketSample s;
  s.frame_length = 1518;
  s.sampling_rate = 10000;
  s.has_source_sequence = true;
  std::vector<uint32_t> seq(ports + 1, 0);
  uint32_t port = 1, frame = 0;
  for (auto _ : state) {
    const auto& f = rf.frames[frame++ & 255];
    s.header = ByteView(f.data(), f.size());
    s.input_ifindex = port;
    s.output_ifindex = (port % ports) + 1;
    s.source_sequence = ++seq[port];
    agent.OnSample(s);
    if (++port > ports) port = 1;
  }
  agent.Flush();
  state.SetItemsProcessed(state.iterations());
  uint64_t records = 0;
  for (const auto& sp : agent.samplers()) records += sp->stats().router_records;
  state.counters["router_records"] = static_cast<double>(records);
  state.counters["table_MB"] = static_cast<double>(rf.table.data_bytes()) / 1e6;
}
BENCHMARK(BM_HardwareSamplesExtendedRouter)->Arg(0)->Arg(10000)->Arg(100000);

// One longest-prefix match in a table of state.range(0) routes, for addresses spread over the
// whole table (few cache hits: the worst case for the trie) and for 256 addresses (hot).
void BM_RouteLookup(benchmark::State& state) {
  RoutedFrames rf(static_cast<uint32_t>(state.range(0)));
  hal::base::Prng prng(9);
  std::vector<uint32_t> addrs(state.range(1) ? 1 << 20 : 256);
  for (uint32_t& a : addrs) a = prng.Uniform(0x01000000u, 0xDFFFFFFFu);
  // Half of them in a prefix of the table, so lookups go deep.
  const auto routes = rf.table.Routes();
  for (size_t i = 0; i < addrs.size(); i += 2) {
    const auto& r = routes[prng.Uniform(0, static_cast<uint32_t>(routes.size() - 1))];
    const uint8_t* b = r.prefix.bytes();
    addrs[i] =
        (uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8) | (addrs[i] & 0xFF);
  }
  std::vector<uint8_t> bytes(addrs.size() * 4);
  for (size_t i = 0; i < addrs.size(); ++i) {
    for (int b = 0; b < 4; ++b) bytes[4 * i + b] = static_cast<uint8_t>(addrs[i] >> (24 - 8 * b));
  }
  size_t i = 0, hits = 0;
  const size_t mask = addrs.size() - 1;
  for (auto _ : state) {
    const hal::RouteTable::Match* m = rf.table.Lookup4(&bytes[4 * (i++ & mask)]);
    hits += m != nullptr;
    benchmark::DoNotOptimize(m);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["nodes"] = static_cast<double>(rf.table.nodes());
  state.counters["hits"] = static_cast<double>(hits);
}
BENCHMARK(BM_RouteLookup)->Args({10000, 0})->Args({100000, 0})->Args({100000, 1});

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
