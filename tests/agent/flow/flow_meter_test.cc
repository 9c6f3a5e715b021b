#include "agent/flow/flow_meter.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "hal/packet_sample.h"
#include "sim/packet_builder.h"
#include "tests/agent/flow/flow_test_util.h"

namespace xflowd::agent::flow {
namespace {

using exporter::netflow::EndReason;
using exporter::netflow::FlowRecord;
using hal::base::ByteView;
using hal::base::MonoTime;
using testing::RecordingSink;

sim::PacketSpec Spec(uint8_t ip_version = 4, uint8_t protocol = sim::kIpProtoTcp) {
  sim::PacketSpec p;
  p.ip_version = ip_version;
  p.protocol = protocol;
  p.src_ip[0] = ip_version == 4 ? 10 : 0x20;
  p.src_ip[3] = 1;
  p.dst_ip[0] = ip_version == 4 ? 10 : 0x20;
  p.dst_ip[3] = 2;
  p.src_port = 5000;
  p.dst_port = 80;
  return p;
}

// A sampled frame: the first `header_bytes` of a `frame_length`-byte frame (plus a 4-byte FCS
// the source stripped).
struct Frame {
  std::vector<uint8_t> bytes;
  hal::PacketSample sample;
};

Frame Make(const sim::PacketSpec& spec, uint32_t frame_length, uint32_t header_bytes = 128,
           uint32_t ifindex = 3, uint32_t rate = 1000, int64_t ms = 1000) {
  Frame f;
  f.bytes.resize(header_bytes);
  f.bytes.resize(sim::BuildFrame(spec, frame_length, f.bytes.data(), f.bytes.size()));
  f.sample.input_ifindex = ifindex;
  f.sample.output_ifindex = 20;
  f.sample.frame_length = frame_length + 4;
  f.sample.stripped = 4;
  f.sample.sampling_rate = rate;
  f.sample.timestamp = MonoTime::FromMs(ms);
  return f;
}

void Feed(FlowMeter& meter, Frame& f) {
  f.sample.header = ByteView(f.bytes.data(), f.bytes.size());
  meter.OnSample(f.sample);
}

FlowMeterOptions Options() {
  FlowMeterOptions o;
  o.cache.capacity = 1024;
  return o;
}

TEST(FlowMeterTest, CountsIpBytesNotFrameBytes) {
  RecordingSink sink;
  FlowMeter meter(Options(), sink);
  Frame a = Make(Spec(), 1000, 128, 3, 1000, 1000);
  Frame b = Make(Spec(), 1514, 128, 3, 1000, 1500);
  Feed(meter, a);
  Feed(meter, b);
  meter.set_unix_offset_ms(1700000000000);
  meter.Flush(MonoTime::FromMs(2000));
  ASSERT_EQ(sink.records.size(), 1u);
  const FlowRecord& r = sink.records[0];
  EXPECT_EQ(r.packets, 2u);
  EXPECT_EQ(r.bytes, (1000u - 14) + (1514u - 14));
  EXPECT_EQ(r.tcp_flags, 0x10);
  EXPECT_EQ(r.first_ms, 1700000001000u);
  EXPECT_EQ(r.last_ms, 1700000001500u);
  EXPECT_EQ(r.end_reason, EndReason::kForcedEnd);
  EXPECT_EQ(r.sampling_rate, 1000u);
  EXPECT_EQ(r.key.input_ifindex, 3u);
  EXPECT_EQ(r.key.output_ifindex, 20u);
  EXPECT_EQ(r.key.src_port, 5000);
  const FlowMeterStats st = meter.stats();
  EXPECT_EQ(st.packets, 2u);
  EXPECT_EQ(st.metered, 2u);
  EXPECT_EQ(st.bytes, r.bytes);
  EXPECT_EQ(st.flows_created, 1u);
  EXPECT_EQ(st.records_by_reason[static_cast<int>(EndReason::kForcedEnd)], 1u);
  EXPECT_EQ(st.active_flows, 0u);
}

TEST(FlowMeterTest, SamplingRateFollowsTheInputPort) {
  RecordingSink sink;
  FlowMeter meter(Options(), sink);
  Frame a = Make(Spec(), 500, 128, 3, 1000);
  sim::PacketSpec other = Spec();
  other.src_port = 6000;
  Frame b = Make(other, 500, 128, 4, 4096);
  Feed(meter, a);
  Feed(meter, b);
  meter.Flush(MonoTime::FromMs(1000));
  ASSERT_EQ(sink.records.size(), 2u);
  for (const FlowRecord& r : sink.records) {
    EXPECT_EQ(r.sampling_rate, r.key.input_ifindex == 3 ? 1000u : 4096u);
  }
}

// ifindexes 5 and 1029 share a slot of a 1024-slot table indexed by ifindex % 1024: each
// port's records must still carry that port's rate, whichever sampled last.
TEST(FlowMeterTest, SamplingRateIsExactForIfindexesThatShareASlot) {
  RecordingSink sink;
  FlowMeter meter(Options(), sink);
  Frame a = Make(Spec(), 500, 128, 5, 1000);
  sim::PacketSpec other = Spec();
  other.src_port = 6000;
  Frame b = Make(other, 500, 128, 1029, 4096);
  Feed(meter, a);
  Feed(meter, b);
  Feed(meter, a);
  meter.Flush(MonoTime::FromMs(1000));
  ASSERT_EQ(sink.records.size(), 2u);
  for (const FlowRecord& r : sink.records) {
    EXPECT_EQ(r.sampling_rate, r.key.input_ifindex == 5 ? 1000u : 4096u)
        << "ifindex " << r.key.input_ifindex;
  }
  EXPECT_EQ(meter.stats().rate_table_full, 0u);
}

// Every port of the largest simulated switch (4096 ports, ifindexes 1..4096 plus strided ones
// that collide under any modulo) keeps its own rate; the next new ifindex is counted.
TEST(FlowMeterTest, SamplingRateIsExactFor4096PortsThenCounted) {
  RecordingSink sink;
  FlowMeterOptions o = Options();
  o.cache.capacity = 8192;
  FlowMeter meter(o, sink);
  auto ifindex_of = [](uint32_t i) { return i < 2048 ? i + 1 : (i - 2047) * 8192 + 5; };
  for (uint32_t i = 0; i < 4096; ++i) {
    sim::PacketSpec spec = Spec();
    spec.src_port = static_cast<uint16_t>(1000 + i);
    Frame f = Make(spec, 200, 128, ifindex_of(i), 100 + i);
    Feed(meter, f);
  }
  EXPECT_EQ(meter.stats().rate_table_full, 0u);
  sim::PacketSpec extra = Spec();
  extra.src_port = 999;
  Frame f = Make(extra, 200, 128, 7777777, 3);
  Feed(meter, f);
  EXPECT_EQ(meter.stats().rate_table_full, 1u);
  meter.Flush(MonoTime::FromMs(2000));
  ASSERT_EQ(sink.records.size(), 4097u);
  for (const FlowRecord& r : sink.records) {
    if (r.key.src_port == 999) continue;
    const uint32_t i = r.key.src_port - 1000u;
    EXPECT_EQ(r.key.input_ifindex, ifindex_of(i));
    EXPECT_EQ(r.sampling_rate, 100 + i) << "ifindex " << r.key.input_ifindex;
  }
}

TEST(FlowMeterTest, TickEndsIdleFlowsAndFinEndsTcp) {
  RecordingSink sink;
  FlowMeter meter(Options(), sink);
  Frame a = Make(Spec(6, sim::kIpProtoUdp), 300, 128, 3, 1, 0);
  Feed(meter, a);
  meter.Tick(MonoTime::FromMs(14999));
  EXPECT_TRUE(sink.records.empty());
  meter.Tick(MonoTime::FromMs(15000));
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.records[0].end_reason, EndReason::kIdleTimeout);
  EXPECT_EQ(sink.records[0].bytes, 300u - 14);  // IPv6: payload length + 40
  EXPECT_EQ(sink.records[0].key.ip_version, 6);

  sim::PacketSpec fin = Spec();
  fin.tcp_flags = 0x11;  // FIN ACK
  Frame f = Make(fin, 100, 128, 3, 1, 16000);
  Feed(meter, f);
  ASSERT_EQ(sink.records.size(), 2u);
  EXPECT_EQ(sink.records[1].end_reason, EndReason::kEndOfFlow);
  EXPECT_EQ(sink.records[1].tcp_flags, 0x11);
}

TEST(FlowMeterTest, BadInputIsCountedNotMetered) {
  RecordingSink sink;
  FlowMeter meter(Options(), sink);

  Frame arp = Make(Spec(), 100);
  arp.bytes[12] = 0x08;
  arp.bytes[13] = 0x06;
  Feed(meter, arp);

  Frame cut = Make(Spec(), 1000, 14 + 12);  // header ends inside the IPv4 header
  Feed(meter, cut);

  Frame tiny;  // not even an Ethernet header
  tiny.bytes = {1, 2, 3};
  tiny.sample.frame_length = 3;
  Feed(meter, tiny);

  Frame liar = Make(Spec(), 1000);
  liar.sample.frame_length = 600;  // the IP header claims 986 bytes
  Feed(meter, liar);

  Frame bad_ihl = Make(Spec(), 200);
  bad_ihl.bytes[14] = 0x44;  // IHL 4
  Feed(meter, bad_ihl);

  Frame zero_v4 = Make(Spec(), 200);
  zero_v4.bytes[14 + 2] = 0;  // total length 0
  zero_v4.bytes[14 + 3] = 0;
  Feed(meter, zero_v4);

  Frame zero_v6 = Make(Spec(6), 200);
  zero_v6.bytes[14 + 4] = 0;  // payload length 0
  zero_v6.bytes[14 + 5] = 0;
  Feed(meter, zero_v6);

  const FlowMeterStats st = meter.stats();
  EXPECT_EQ(st.packets, 7u);
  EXPECT_EQ(st.not_ip, 1u);
  EXPECT_EQ(st.truncated, 2u);
  EXPECT_EQ(st.bad_length, 3u);
  EXPECT_EQ(st.ipv6_zero_length, 1u);
  EXPECT_EQ(st.metered, 0u);
  EXPECT_EQ(st.flows_created, 0u);

  // Exactly fits: frame_length - stripped - L2 == IP length.
  Frame exact = Make(Spec(), 1000);
  Feed(meter, exact);
  EXPECT_EQ(meter.stats().metered, 1u);
  EXPECT_EQ(meter.stats().bad_length, 3u);
}

TEST(FlowMeterTest, FragmentsAreCountedAndLaterOnesHaveNoPorts) {
  RecordingSink sink;
  FlowMeter meter(Options(), sink);
  Frame first = Make(Spec(4, sim::kIpProtoUdp), 1514);
  first.bytes[14 + 6] = 0x20;  // MF
  Frame later = Make(Spec(4, sim::kIpProtoUdp), 600);
  later.bytes[14 + 6] = 0x00;
  later.bytes[14 + 7] = 185;  // offset 1480
  Feed(meter, first);
  Feed(meter, later);
  meter.Flush(MonoTime::FromMs(2000));
  EXPECT_EQ(meter.stats().fragments, 2u);
  EXPECT_EQ(meter.stats().metered, 2u);
  ASSERT_EQ(sink.records.size(), 2u);
  bool saw_ports = false;
  bool saw_portless = false;
  for (const FlowRecord& r : sink.records) {
    if (r.key.src_port == 5000) {
      saw_ports = true;
      EXPECT_EQ(r.bytes, 1500u);
    } else {
      saw_portless = r.key.src_port == 0 && r.key.dst_port == 0;
      EXPECT_EQ(r.bytes, 586u);
    }
  }
  EXPECT_TRUE(saw_ports);
  EXPECT_TRUE(saw_portless);
}

TEST(FlowMeterTest, MacKeyOption) {
  RecordingSink sink;
  FlowMeterOptions o = Options();
  o.key.macs = true;
  FlowMeter meter(o, sink);
  sim::PacketSpec a = Spec();
  a.src_mac[5] = 1;
  sim::PacketSpec b = Spec();
  b.src_mac[5] = 2;
  Frame fa = Make(a, 200);
  Frame fb = Make(b, 200);
  Feed(meter, fa);
  Feed(meter, fb);
  EXPECT_EQ(meter.stats().active_flows, 2u);
  meter.Flush(MonoTime::FromMs(2000));
  ASSERT_EQ(sink.records.size(), 2u);
  EXPECT_NE(sink.records[0].key.src_mac[5], sink.records[1].key.src_mac[5]);
}

}  // namespace
}  // namespace xflowd::agent::flow
