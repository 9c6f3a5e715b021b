// Samples/s on one core along the Open vSwitch path of the daemon, without OVS: three sFlow
// datagrams ovs-vswitchd sent (tests/testdata/ovs, 27 flow samples of 60-byte UDP frames,
// 1-in-10) replayed in a loop -> OvsSampleTranslator (exporter/sflow's decoder) ->
// sflow::Agent (Sampler -> Receiver -> sFlow encoder) -> UdpTransport -> a real UDP socket on
// 127.0.0.1 that nobody reads (the kernel drops what overflows). With Arg(1) every sample
// also goes through the flow meter's packet parser, as the NetFlow/IPFIX path does.
#include <benchmark/benchmark.h>

#ifdef XFLOWD_HAVE_OVS

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "agent/ovs/ovs_samples.h"
#include "agent/packet/packet_parser.h"
#include "agent/sflow/agent.h"
#include "exporter/udp_transport.h"
#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "hal/base/prng.h"

namespace xflowd {
namespace {

std::vector<std::vector<uint8_t>> Datagrams() {
  std::ifstream in(std::string(XFLOWD_TESTDATA_DIR) + "/ovs/ovs_sflow_datagrams.hex");
  std::vector<std::vector<uint8_t>> out;
  for (std::string line; std::getline(in, line);) {
    std::vector<uint8_t> d;
    for (size_t i = 0; i + 1 < line.size(); i += 2) {
      d.push_back(static_cast<uint8_t>(std::stoul(line.substr(i, 2), nullptr, 16)));
    }
    out.push_back(d);
  }
  return out;
}

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

// Both sinks, as the daemon's fan-out: the agent, then (Arg 1) the flow path's parser.
class Fanout final : public hal::PacketSampleSink {
 public:
  Fanout(hal::PacketSampleSink& agent, bool parse) : agent_(agent), parse_(parse) {}
  void OnSample(const hal::PacketSample& s) override {
    agent_.OnSample(s);
    if (!parse_) return;
    agent::packet::ParsedPacket p;
    benchmark::DoNotOptimize(agent::packet::ParsePacket(s.header, s.link_type, &p));
  }

 private:
  hal::PacketSampleSink& agent_;
  bool parse_;
};

void BM_OvsDatagramToSflowUdp(benchmark::State& state) {
  const auto datagrams = Datagrams();
  if (datagrams.empty()) {
    state.SkipWithError("tests/testdata/ovs/ovs_sflow_datagrams.hex not found");
    return;
  }
  SinkSocket sink;
  hal::base::Endpoint ep;
  ep.address = *hal::base::IpAddress::Parse("127.0.0.1");
  ep.port = sink.port;
  auto udp = exporter::UdpTransport::Create(ep);
  if (!udp.ok()) {
    state.SkipWithError(udp.status().ToString().c_str());
    return;
  }
  hal::base::ManualClock clock;
  hal::base::Prng prng{1};
  hal::base::Logger logger = hal::base::Logger::Null();
  agent::sflow::Agent agent(
      agent::sflow::AgentConfig{*hal::base::IpAddress::Parse("192.0.2.254"), 0}, clock, prng,
      logger);
  auto& rx = agent.AddReceiver(agent::sflow::ReceiverConfig{}, {udp->get()});
  agent::sflow::SamplerConfig sc;
  sc.sampling_rate = 10;  // OVS's rate in the capture: every sample is exported
  for (uint32_t p : {4u, 5u}) agent.AddSampler(p, hal::Direction::kIngress, sc, rx, nullptr);
  agent::ovs::OvsSampleTranslator translator(clock, logger);
  translator.SetPorts({4, 5});
  Fanout fanout(agent, state.range(0) != 0);
  size_t i = 0;
  uint64_t samples = 0;
  for (auto _ : state) {
    const auto& d = datagrams[i];
    samples += translator.HandleDatagram(hal::base::ByteView(d.data(), d.size()), 1, fanout);
    if (++i == datagrams.size()) i = 0;
  }
  agent.Flush();
  state.SetItemsProcessed(static_cast<int64_t>(samples));
  state.counters["lost"] = static_cast<double>(translator.stats().lost_samples);
  state.counters["bad"] = static_cast<double>(translator.stats().bad_datagrams);
  state.counters["datagrams_out"] = static_cast<double>((*udp)->stats().datagrams_sent);
  state.counters["no_sampler"] = static_cast<double>(agent.stats().no_sampler);
}
BENCHMARK(BM_OvsDatagramToSflowUdp)->Arg(0)->Arg(1);

}  // namespace
}  // namespace xflowd

#endif  // XFLOWD_HAVE_OVS

BENCHMARK_MAIN();
