#include "agent/sflow/discard_notifier.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "agent/sflow/drop_reasons.h"
#include "hal/base/clock.h"
#include "tests/agent/sflow/sflow_test_util.h"
#include "tests/support/capture_transport.h"

namespace xflowd::agent::sflow {
namespace {

using hal::DropEvent;
using hal::DropOrigin;
using hal::base::ByteView;
using hal::base::IpAddress;
using hal::base::ManualClock;
using hal::base::MonoTime;
using testing::SamplesOf;
using xflowd::testing::CaptureTransport;

DropEvent Software(const char* reason, const char* symbol, uint32_t ifindex = 3) {
  DropEvent e;
  e.origin = DropOrigin::kSoftware;
  e.reason = ByteView(reason);
  e.symbol = ByteView(symbol);
  e.input_ifindex = ifindex;
  return e;
}
DropEvent Hardware(const char* trap, const char* group, uint32_t ifindex = 7) {
  DropEvent e;
  e.origin = DropOrigin::kHardware;
  e.trap_name = ByteView(trap);
  e.trap_group = ByteView(group);
  e.input_ifindex = ifindex;
  return e;
}

TEST(DropReasonMapTest, EveryTableNameIsAnSflowReason) {
  for (const std::string& name : DropReasonMap::TableReasonNames()) {
    if (name.empty()) continue;  // ignore
    EXPECT_NE(DropReasonMap::CodeOf(name), DropReasonMap::kIgnore) << name;
  }
}

TEST(DropReasonMapTest, HardwareTrapsThenGroups) {
  const DropReasonMap m;
  EXPECT_EQ(m.Map(Hardware("ingress_vlan_filter", "l2_drops")), 265);
  EXPECT_EQ(m.Map(Hardware("ttl_value_is_too_small", "l3_exceptions")), 257);  // ttl_exceeded
  EXPECT_EQ(m.Map(Hardware("tail_drop", "buffer_drops")), 259);                // no_buffer_space
  EXPECT_EQ(m.Map(Hardware("early_drop", "buffer_drops")), 260);               // red
  EXPECT_EQ(m.Map(Hardware("ipv4_lpm_miss", "l3_exceptions")), 6);     // dst_net_unknown (ICMP)
  EXPECT_EQ(m.Map(Hardware("some_new_trap", "l2_drops")), 284);        // unknown_l2, by group
  EXPECT_EQ(m.Map(Hardware("lldp", "lldp")), DropReasonMap::kIgnore);  // control, not a drop
  EXPECT_EQ(m.Map(Hardware("who_knows", "who_knows")), DropReasonMap::kIgnore);
}

TEST(DropReasonMapTest, SoftwareReasonThenSymbol) {
  const DropReasonMap m;
  EXPECT_EQ(m.Map(Software("NO_SOCKET", "__udp4_lib_rcv+0x5b6/0xb50")), 3);   // port_unreachable
  EXPECT_EQ(m.Map(Software("NETFILTER_DROP", "nf_hook_slow+0x1/0x2")), 258);  // acl
  EXPECT_EQ(m.Map(Software("QDISC_DROP", "")), 261);                          // traffic_shaping
  // NOT_SPECIFIED and reasons the table does not know fall back to the symbol.
  EXPECT_EQ(m.Map(Software("NOT_SPECIFIED", "br_handle_frame+0x2d2/0x3f0")), 284);  // unknown_l2
  EXPECT_EQ(m.Map(Software("BRAND_NEW_REASON", "tcp_v4_rcv+0x1/0x2")), 289);        // unknown_l4
  EXPECT_EQ(m.Map(Software("", "ip_rcv_core+0x1/0x2")), 285);                       // unknown_l3
  EXPECT_EQ(m.Map(Software("", "kfree_skb_list+0x1/0x2")), 256);                    // unknown
  EXPECT_EQ(m.Map(Software("NOT_DROPPED_YET", "x")), DropReasonMap::kIgnore);
  EXPECT_EQ(m.Map(Software("", "skb_release_data+0x1/0x2")), DropReasonMap::kIgnore);
}

class DiscardNotifierTest : public ::testing::Test {
 protected:
  DiscardNotifierTest()
      : receiver_(ReceiverConfig(), IpAddress::V4(0xC0000201), 0, clock_, MonoTime::FromSeconds(0),
                  {&transport_}) {}
  std::vector<exporter::sflow::DecodedDiscardSample> Sent() {
    receiver_.Flush();
    return SamplesOf<exporter::sflow::DecodedDiscardSample>(transport_);
  }
  ManualClock clock_{MonoTime::FromSeconds(100)};
  CaptureTransport transport_;
  Receiver receiver_;
};

TEST_F(DiscardNotifierTest, SoftwareDropBecomesADiscardSampleWithAnIpHeader) {
  DiscardNotifier n(DiscardConfig(), &receiver_, 1);
  const uint8_t ip[24] = {0x45, 0, 0, 52};
  DropEvent e = Software("NO_SOCKET", "__udp4_lib_rcv+0x5b6/0xb50");
  e.protocol = 0x0800;
  e.original_length = 52;
  e.payload = ByteView(ip, sizeof(ip));
  n.OnDrop(e);
  const auto sent = Sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].sequence, 1u);
  EXPECT_EQ(sent[0].source.type, 0u);
  EXPECT_EQ(sent[0].source.index, 3u);
  EXPECT_EQ(sent[0].input, 3u);
  EXPECT_EQ(sent[0].output, 0u);
  EXPECT_EQ(sent[0].reason, 3u);  // port_unreachable
  EXPECT_EQ(sent[0].drops, 0u);
  ASSERT_EQ(sent[0].records.size(), 1u);
  const auto& h = std::get<exporter::sflow::DecodedSampledHeader>(sent[0].records[0]);
  EXPECT_EQ(h.protocol, 11u);  // IPv4: the bytes start at the network header
  EXPECT_EQ(h.frame_length, 52u);
  EXPECT_EQ(h.stripped, 0u);
  EXPECT_EQ(h.header.size(), 24u);
  EXPECT_EQ(n.stats().exported, 1u);
}

TEST_F(DiscardNotifierTest, HardwareDropKeepsItsEthernetHeaderAndFcs) {
  DiscardConfig c;
  c.header_bytes = 16;
  DiscardNotifier n(c, &receiver_, 1);
  uint8_t frame[60] = {0x02, 0, 0, 0, 0, 1};
  DropEvent e = Hardware("ingress_vlan_filter", "l2_drops");
  e.protocol = 0x8100;
  e.original_length = 60;
  e.payload = ByteView(frame, sizeof(frame));
  n.OnDrop(e);
  const auto sent = Sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].reason, 265u);
  const auto& h = std::get<exporter::sflow::DecodedSampledHeader>(sent[0].records[0]);
  EXPECT_EQ(h.protocol, 1u);
  EXPECT_EQ(h.frame_length, 64u);
  EXPECT_EQ(h.stripped, 4u);
  EXPECT_EQ(h.header.size(), 16u);  // header_bytes
}

TEST_F(DiscardNotifierTest, RateLimitCountsAndReportsWhatItHeldBack) {
  DiscardConfig c;
  c.max_per_s = 3;
  DiscardNotifier n(c, &receiver_, 1);
  for (int i = 0; i < 10; ++i) n.OnDrop(Software("NO_SOCKET", "x", 3));
  EXPECT_EQ(n.stats().exported, 3u);
  EXPECT_EQ(n.stats().rate_limited, 7u);
  n.Tick(clock_.Now());                     // a new second
  n.OnDrop(Software("NO_SOCKET", "x", 4));  // another data source: nothing held back there
  n.OnDrop(Software("NO_SOCKET", "x", 3));
  const auto sent = Sent();
  ASSERT_EQ(sent.size(), 5u);
  EXPECT_EQ(sent[3].source.index, 4u);
  EXPECT_EQ(sent[3].sequence, 1u);
  EXPECT_EQ(sent[3].drops, 0u);
  EXPECT_EQ(sent[4].source.index, 3u);
  EXPECT_EQ(sent[4].sequence, 4u);  // per data source, no gaps
  EXPECT_EQ(sent[4].drops, 7u);     // the seven the limit held back
  EXPECT_EQ(n.sequence(3), 4u);
  EXPECT_EQ(n.sequence(4), 1u);
}

TEST_F(DiscardNotifierTest, IgnoredEventsAndUnknownPortsUseTheAgentSource) {
  DiscardNotifier n(DiscardConfig(), &receiver_, 1);
  n.OnDrop(Hardware("lldp", "lldp"));
  n.OnDrop(Software("NO_SOCKET", "x", 0));  // no input port: data source 0:0
  EXPECT_EQ(n.stats().ignored, 1u);
  const auto sent = Sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].source.index, 0u);
  EXPECT_EQ(n.stats().hardware, 1u);
  EXPECT_EQ(n.stats().software, 1u);
}

TEST_F(DiscardNotifierTest, OneInNSampling) {
  DiscardConfig c;
  c.sampling_rate = 10;
  c.max_per_s = 1000000;
  DiscardNotifier n(c, &receiver_, 42);
  for (int i = 0; i < 10000; ++i) n.OnDrop(Software("NO_SOCKET", "x", 3));
  const uint64_t got = n.stats().exported;
  // 1000 expected; the skips are uniform in [1, 19], so the count is within a few percent.
  EXPECT_GT(got, 900u);
  EXPECT_LT(got, 1100u);
  EXPECT_EQ(got + n.stats().sampled_out, 10000u);
}

TEST_F(DiscardNotifierTest, NoReceiverIsCounted) {
  DiscardNotifier n(DiscardConfig(), nullptr, 1);
  n.OnDrop(Software("NO_SOCKET", "x"));
  EXPECT_EQ(n.stats().no_receiver, 1u);
  EXPECT_EQ(n.stats().exported, 0u);
}

}  // namespace
}  // namespace xflowd::agent::sflow
