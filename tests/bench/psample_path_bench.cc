// Samples/s on one core along the PSAMPLE path of the daemon, without the kernel: a pre-built
// stream of PSAMPLE netlink messages (as recv() would hand them over, one per datagram) ->
// PsampleStreamParser -> sflow::Agent (Sampler -> Receiver -> sFlow encoder) -> UdpTransport ->
// a real UDP socket on 127.0.0.1 that nobody reads (the kernel drops what overflows).
// Target: >= 1M samples/s. Nothing on the path allocates.
#include <benchmark/benchmark.h>

#ifdef XFLOWD_HAVE_PSAMPLE

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "agent/sflow/agent.h"
#include "exporter/udp_transport.h"
#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "hal/base/prng.h"
#include "hal/psample/psample_parser.h"
#include "sim/psample_emitter.h"

namespace xflowd {
namespace {

using hal::base::ByteView;

// A 128-byte TCP/IPv4 frame with an 802.1Q tag.
std::vector<uint8_t> Frame(uint32_t i) {
  std::vector<uint8_t> f(128, 0);
  const uint8_t eth[] = {0x02, 0, 0, 0,    0,    1,    0x02, 0,    0,
                         0,    0, 2, 0x81, 0x00, 0x00, 0x64, 0x08, 0x00};
  std::memcpy(f.data(), eth, sizeof(eth));
  uint8_t* ip = f.data() + sizeof(eth);
  ip[0] = 0x45;
  ip[2] = 0x05;
  ip[3] = 0xdc;
  ip[8] = 64;
  ip[9] = 6;
  const uint8_t src[] = {192, 0, 2, static_cast<uint8_t>(i)}, dst[] = {198, 51, 100, 7};
  std::memcpy(ip + 12, src, 4);
  std::memcpy(ip + 16, dst, 4);
  ip[20] = 0x1f;
  ip[21] = 0x90;
  ip[22] = 0xc3;
  ip[23] = 0x50;
  ip[32] = 0x50;
  ip[33] = 0x10;
  return f;
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

// One message per data source (4 rounds of them); each message's GROUP_SEQ is rewritten in
// place as the stream loops, so the parser sees an unbroken sequence and counts no drops.
void BM_PsampleToSflowUdp(benchmark::State& state) {
  const uint32_t ports = 48;
  const bool with_egress = state.range(0) != 0;
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
  sc.sampling_rate = 4096;
  for (uint32_t p = 1; p <= ports; ++p) {
    agent.AddSampler(p, hal::Direction::kIngress, sc, rx, nullptr);
    if (with_egress) agent.AddSampler(p, hal::Direction::kEgress, sc, rx, nullptr);
  }

  // Pre-build: 4 messages per data source, each 4-byte aligned in one buffer.
  std::vector<uint8_t> buf;
  std::vector<size_t> off, len, seq_at;
  std::vector<uint32_t> group;
  for (uint32_t round = 0; round < 4; ++round) {
    for (uint32_t p = 1; p <= ports; ++p) {
      for (int d = 0; d < (with_egress ? 2 : 1); ++d) {
        std::vector<uint8_t> frame = Frame(p + round);
        sim::PsampleMessage m;
        m.in_ifindex = p;
        m.out_ifindex = p % ports + 1;
        m.sample_rate = 4096;
        m.orig_size = 1518;
        m.group = d == 0 ? 1 : 2;
        m.timestamp_ns = 1767225600000000000ull;
        m.proto = 0x8100;
        m.data = ByteView(frame.data(), frame.size());
        uint8_t tmp[512];
        const size_t n = sim::EncodePsampleMessage(m, tmp, sizeof(tmp));
        off.push_back(buf.size());
        len.push_back(n);
        group.push_back(m.group);
        buf.insert(buf.end(), tmp, tmp + n);
        // GROUP_SEQ's payload: header 20 + IIF 8 + OIF 8 + RATE 8 + ORIGSIZE 8 + GROUP 8 + 4.
        seq_at.push_back(off.back() + 20 + 8 + 8 + 8 + 8 + 8 + 4);
      }
    }
  }
  hal::psample::PsampleStreamParser parser;
  uint32_t next_seq[3] = {0, 0, 0};
  size_t i = 0;
  const hal::base::MonoTime now = clock.Now();
  for (auto _ : state) {
    const uint32_t seq = next_seq[group[i]]++;
    std::memcpy(&buf[seq_at[i]], &seq, 4);
    parser.ParseBuffer(ByteView(buf.data() + off[i], len[i]), now, agent);
    if (++i == off.size()) i = 0;
  }
  agent.Flush();
  state.SetItemsProcessed(state.iterations());
  state.counters["parse_errors"] = static_cast<double>(parser.stats().errors());
  state.counters["drops"] = static_cast<double>(parser.stats().drops);
  state.counters["datagrams"] = static_cast<double>((*udp)->stats().datagrams_sent);
  state.counters["send_errors"] = static_cast<double>((*udp)->stats().send_errors);
  state.counters["no_sampler"] = static_cast<double>(agent.stats().no_sampler);
}
BENCHMARK(BM_PsampleToSflowUdp)->Arg(0)->Arg(1);

// The parser alone (no agent, no socket), for the split of the cost.
class NullSink final : public hal::PacketSampleSink {
 public:
  void OnSample(const hal::PacketSample& s) override { benchmark::DoNotOptimize(s.header.data()); }
};

void BM_PsampleParseOnly(benchmark::State& state) {
  std::vector<uint8_t> frame = Frame(1);
  sim::PsampleMessage m;
  m.in_ifindex = 3;
  m.sample_rate = 4096;
  m.orig_size = 1518;
  m.group = 1;
  m.data = ByteView(frame.data(), frame.size());
  uint8_t msg[512];
  const size_t n = sim::EncodePsampleMessage(m, msg, sizeof(msg));
  hal::psample::PsampleStreamParser parser;
  NullSink sink;
  const size_t seq_at = 20 + 8 + 8 + 8 + 8 + 4;
  uint32_t seq = 0;
  for (auto _ : state) {
    std::memcpy(msg + seq_at, &seq, 4);
    ++seq;
    parser.ParseBuffer(ByteView(msg, n), hal::base::MonoTime(), sink);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["drops"] = static_cast<double>(parser.stats().drops);
}
BENCHMARK(BM_PsampleParseOnly);

}  // namespace
}  // namespace xflowd

#endif  // XFLOWD_HAVE_PSAMPLE

BENCHMARK_MAIN();
