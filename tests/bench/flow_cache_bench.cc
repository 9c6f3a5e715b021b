// Packets/s through the flow cache on one core, from pre-built keys (no parsing): the cost of
// hashing, the index probe, the key compare and the counter update, with the table far
// larger than the caches. Uniform key choice is the worst case (every packet a cache miss);
// Zipf (s = 1) is closer to real traffic. Also the whole meter (parse + key + cache) per
// sample, and the memory per flow at 1M flows.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "agent/flow/flow_cache.h"
#include "agent/flow/flow_meter.h"
#include "hal/base/prng.h"
#include "sim/packet_builder.h"

namespace xflowd {
namespace {

using agent::flow::FlowCache;
using agent::flow::FlowCacheOptions;
using exporter::netflow::FlowKey;
using exporter::netflow::FlowRecord;

class CountingSink final : public exporter::netflow::FlowRecordSink {
 public:
  void OnFlow(const FlowRecord& r) override {
    ++records;
    benchmark::DoNotOptimize(r.packets);
  }
  uint64_t records = 0;
};

// The key of flow `id`, built in place the way a key is built from a parsed header: a few
// stores into a stack FlowKey that stays in L1. Distinct ids give distinct keys.
void MakeKey(uint32_t id, FlowKey* k) {
  *k = FlowKey();
  const bool v6 = id % 4 == 0;
  k->ip_version = v6 ? 6 : 4;
  k->protocol = id % 3 == 0 ? 17 : 6;
  const uint32_t mixed = id * 2654435761u;  // odd multiplier: a bijection on uint32
  std::memcpy(k->src_ip, &mixed, 4);
  k->dst_ip[0] = v6 ? 0x20 : 10;
  k->dst_ip[v6 ? 15 : 3] = static_cast<uint8_t>(id >> 8);
  k->src_port = static_cast<uint16_t>(id ^ (id >> 16));
  k->dst_port = static_cast<uint16_t>(id % 7 == 0 ? 53 : 443);
  k->input_ifindex = 1 + id % 48;
  k->output_ifindex = 1 + (id / 48) % 48;
  k->vlan_outer = static_cast<uint16_t>(100 + id % 4);
  k->tos = static_cast<uint8_t>(id % 2 ? 0 : 0xb8);
}

// Indices into the key array, uniform or Zipf(s = 1) by inverse CDF, pre-drawn.
std::vector<uint32_t> MakeSequence(uint32_t flows, bool zipf, hal::base::Prng& prng) {
  std::vector<uint32_t> seq(1u << 20);
  if (!zipf) {
    for (uint32_t& x : seq) x = prng.Uniform(0, flows - 1);
    return seq;
  }
  std::vector<double> cdf(flows);
  double sum = 0;
  for (uint32_t i = 0; i < flows; ++i) cdf[i] = (sum += 1.0 / (i + 1));
  // Hot flows spread over the table, not clustered at the first keys.
  std::vector<uint32_t> perm(flows);
  for (uint32_t i = 0; i < flows; ++i) perm[i] = i;
  for (uint32_t i = flows - 1; i > 0; --i) std::swap(perm[i], perm[prng.Uniform(0, i)]);
  for (uint32_t& x : seq) {
    const double u = prng.NextDouble() * sum;
    x = perm[static_cast<uint32_t>(std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin())];
  }
  return seq;
}

void BM_FlowCacheAdd(benchmark::State& state) {
  const uint32_t flows = static_cast<uint32_t>(state.range(0));
  const bool zipf = state.range(1) != 0;
  hal::base::Prng prng(1);
  // Flow ids in packet order, read sequentially; only the cache's memory is read at random.
  const std::vector<uint32_t> seq = MakeSequence(flows, zipf, prng);
  FlowCacheOptions o;
  o.capacity = std::max<uint32_t>(o.capacity, flows);
  FlowCache cache(o);
  CountingSink sink;
  uint64_t now_ms = 1000;
  FlowKey k;
  for (uint32_t i = 0; i < flows; ++i) {
    MakeKey(i, &k);
    cache.Add(k, 100, 0, now_ms, sink);
  }

  size_t pos = 0;
  uint64_t packets = 0;
  for (auto _ : state) {
    MakeKey(seq[pos], &k);
    pos = (pos + 1) & (seq.size() - 1);
    cache.Add(k, 1500, 0x10, now_ms, sink);
    // 1 ms of flow time per 1024 packets, expiry on a 1 s tick: no flow times out.
    if ((++packets & 1023) == 0 && (++now_ms % 1000) == 0) cache.Expire(now_ms, sink);
  }
  state.SetItemsProcessed(static_cast<int64_t>(packets));
  state.counters["bytes_per_flow"] = static_cast<double>(cache.memory_bytes()) / o.capacity;
  state.counters["flows"] = static_cast<double>(cache.size());
  state.counters["records"] = static_cast<double>(sink.records);
}
BENCHMARK(BM_FlowCacheAdd)
    ->ArgNames({"flows", "zipf"})
    ->Args({4096, 0})
    ->Args({200000, 0})
    ->Args({200000, 1})
    ->Args({1000000, 0})
    ->Args({1000000, 1});

// The same through AddBatch: 32 packets a call, their misses overlapped by prefetching.
void BM_FlowCacheAddBatch(benchmark::State& state) {
  const uint32_t flows = static_cast<uint32_t>(state.range(0));
  const bool zipf = state.range(1) != 0;
  hal::base::Prng prng(1);
  const std::vector<uint32_t> seq = MakeSequence(flows, zipf, prng);
  FlowCacheOptions o;
  o.capacity = std::max<uint32_t>(o.capacity, flows);
  FlowCache cache(o);
  CountingSink sink;
  uint64_t now_ms = 1000;
  FlowKey k;
  for (uint32_t i = 0; i < flows; ++i) {
    MakeKey(i, &k);
    cache.Add(k, 100, 0, now_ms, sink);
  }

  // Pre-parsed: the packets' keys are built before the clock starts (as a meter's burst is),
  // and read sequentially; only the cache's own memory is read at random.
  constexpr size_t kBurst = 32;
  std::vector<agent::flow::FlowPacket> pre(seq.size());
  for (size_t i = 0; i < pre.size(); ++i) {
    MakeKey(seq[i], &pre[i].key);
    pre[i].ip_bytes = 1500;
    pre[i].tcp_flags = 0x10;
  }
  size_t pos = 0;
  uint64_t packets = 0;
  for (auto _ : state) {
    agent::flow::FlowPacket* burst = &pre[pos];
    for (size_t i = 0; i < kBurst; ++i) burst[i].now_ms = now_ms;
    pos = (pos + kBurst) & (pre.size() - 1);
    cache.AddBatch(burst, kBurst, sink);
    packets += kBurst;
    if ((packets & 1023) == 0 && (++now_ms % 1000) == 0) cache.Expire(now_ms, sink);
  }
  state.SetItemsProcessed(static_cast<int64_t>(packets));
  state.counters["bytes_per_flow"] = static_cast<double>(cache.memory_bytes()) / o.capacity;
  state.counters["records"] = static_cast<double>(sink.records);
}
BENCHMARK(BM_FlowCacheAddBatch)
    ->ArgNames({"flows", "zipf"})
    ->Args({4096, 0})
    ->Args({200000, 0})
    ->Args({200000, 1})
    ->Args({1000000, 0})
    ->Args({1000000, 1});

// The memory target: bytes per flow at 1M flows, index included (default key).
void BM_FlowCacheMemory(benchmark::State& state) {
  FlowCacheOptions o;
  o.capacity = 1000000;
  o.extended_key = state.range(0) != 0;
  for (auto _ : state) {
    FlowCache cache(o);
    state.counters["bytes_per_flow"] = static_cast<double>(cache.memory_bytes()) / o.capacity;
  }
}
BENCHMARK(BM_FlowCacheMemory)->ArgName("extended_key")->Arg(0)->Arg(1)->Iterations(1);

// The whole path per sample: parse a 128-byte header, build the key, count it.
void BM_FlowMeterOnSample(benchmark::State& state) {
  const uint32_t flows = static_cast<uint32_t>(state.range(0));
  hal::base::Prng prng(2);
  constexpr uint32_t kHeader = 128;
  std::vector<uint8_t> frames(size_t{flows} * kHeader);
  for (uint32_t i = 0; i < flows; ++i) {
    sim::PacketSpec spec;
    spec.protocol = i % 3 == 0 ? sim::kIpProtoUdp : sim::kIpProtoTcp;
    spec.src_ip[0] = 10;
    std::memcpy(spec.src_ip + 1, &i, 3);
    spec.dst_ip[0] = 192;
    spec.dst_ip[3] = static_cast<uint8_t>(i);
    spec.src_port = static_cast<uint16_t>(prng.Next32());
    spec.dst_port = 443;
    sim::BuildFrame(spec, 1514, &frames[size_t{i} * kHeader], kHeader);
  }
  const std::vector<uint32_t> seq = MakeSequence(flows, true, prng);
  agent::flow::FlowMeterOptions o;
  CountingSink sink;
  agent::flow::FlowMeter meter(o, sink);
  hal::PacketSample s;
  s.input_ifindex = 1;
  s.output_ifindex = 2;
  s.frame_length = 1518;
  s.stripped = 4;
  s.sampling_rate = 1;
  int64_t now_ms = 1000;
  size_t pos = 0;
  uint64_t packets = 0;
  for (auto _ : state) {
    s.header = hal::base::ByteView(&frames[size_t{seq[pos]} * kHeader], kHeader);
    pos = (pos + 1) & (seq.size() - 1);
    s.timestamp = hal::base::MonoTime::FromMs(now_ms);
    meter.OnSample(s);
    if ((++packets & 1023) == 0 && (++now_ms % 1000) == 0) {
      meter.Tick(hal::base::MonoTime::FromMs(now_ms));
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(packets));
  state.counters["metered"] = static_cast<double>(meter.stats().metered);
}
BENCHMARK(BM_FlowMeterOnSample)->ArgName("flows")->Arg(200000);

}  // namespace
}  // namespace xflowd

BENCHMARK_MAIN();
