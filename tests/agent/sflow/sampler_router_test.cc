// The extended router record (0:1002): looked up in a RouteTable from the sampled packet's
// addresses, added when the sampler's config asks for it.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "agent/sflow/receiver.h"
#include "agent/sflow/sampler.h"
#include "exporter/sflow/sflow_decoder.h"
#include "hal/base/clock.h"
#include "hal/base/prng.h"
#include "hal/route_table.h"
#include "tests/agent/sflow/sflow_test_util.h"
#include "tests/support/capture_transport.h"

namespace xflowd::agent::sflow {
namespace {

using hal::Direction;
using hal::PacketSample;
using hal::RouteTable;
using hal::base::ByteView;
using hal::base::IpAddress;
using hal::base::ManualClock;
using hal::base::MonoTime;
using hal::base::Prng;
using testing::FindRecord;
using testing::FlowSamples;
using xflowd::testing::CaptureTransport;

IpAddress Ip(const char* s) { return *IpAddress::Parse(s); }

// Ethernet + IPv4 (src -> dst) + UDP, or Ethernet + IPv6 when v6.
std::vector<uint8_t> Frame(const IpAddress& src, const IpAddress& dst) {
  std::vector<uint8_t> f = {0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02};
  if (src.is_v4()) {
    f.insert(f.end(), {0x08, 0x00, 0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0});
  } else {
    f.insert(f.end(), {0x86, 0xdd, 0x60, 0, 0, 0, 0, 8, 17, 64});
  }
  f.insert(f.end(), src.bytes(), src.bytes() + src.size());
  f.insert(f.end(), dst.bytes(), dst.bytes() + dst.size());
  f.insert(f.end(), {0x30, 0x39, 0x00, 0x35, 0, 8, 0, 0});
  return f;
}

RouteTable::Route R(const char* prefix, uint8_t len, const char* gw) {
  RouteTable::Route r;
  r.prefix = Ip(prefix);
  r.prefix_len = len;
  RouteTable::NextHop h;
  if (gw[0] != 0) h.gateway = Ip(gw);
  h.oif = 2;
  r.hops.push_back(h);
  return r;
}

class SamplerRouterTest : public ::testing::Test {
 protected:
  SamplerRouterTest() {
    ReceiverConfig rc;
    receiver_ = std::make_unique<Receiver>(rc, IpAddress::V4(0x0A000001), 0, clock_, MonoTime(),
                                           std::vector<exporter::Transport*>{&t_});
    routes_.Add(R("0.0.0.0", 0, "192.0.2.1"));
    routes_.Add(R("198.51.100.0", 24, "192.0.2.7"));
    routes_.Add(R("10.0.0.0", 8, ""));  // on-link
    routes_.Add(R("2001:db8::", 32, "fe80::1"));
  }
  // One hardware sample of `frame` through a sampler with `extended_router`; the router
  // record it carried (null: none).
  std::unique_ptr<wire::ExtendedRouter> Send(const std::vector<uint8_t>& frame,
                                             bool extended_router, Sampler** out = nullptr) {
    SamplerConfig config;
    config.sampling_rate = 100;
    config.extended_router = extended_router;
    sampler_ = std::make_unique<Sampler>(3, Direction::kIngress, config, *receiver_, prng_, clock_,
                                         nullptr);
    sampler_->set_routes(&routes_);
    PacketSample p;
    p.input_ifindex = 3;
    p.frame_length = static_cast<uint32_t>(frame.size()) + 4;
    p.stripped = 4;
    p.sampling_rate = 100;
    p.has_source_sequence = true;
    p.source_sequence = 1;
    p.header = ByteView(frame.data(), frame.size());
    sampler_->OnSample(p);
    if (out) *out = sampler_.get();
    receiver_->Flush();
    auto samples = FlowSamples(t_);
    t_.Clear();
    EXPECT_EQ(samples.size(), 1u);
    if (samples.empty()) return nullptr;
    const auto* r = FindRecord<wire::ExtendedRouter>(samples[0].records);
    return r ? std::make_unique<wire::ExtendedRouter>(*r) : nullptr;
  }

  ManualClock clock_{MonoTime::FromSeconds(100)};
  Prng prng_{42};
  CaptureTransport t_;
  std::unique_ptr<Receiver> receiver_;
  RouteTable routes_;
  std::unique_ptr<Sampler> sampler_;
};

TEST_F(SamplerRouterTest, OffByDefault) {
  EXPECT_EQ(Send(Frame(Ip("10.1.1.1"), Ip("198.51.100.9")), false), nullptr);
}

TEST_F(SamplerRouterTest, NextHopAndBothPrefixLengths) {
  Sampler* s = nullptr;
  auto r = Send(Frame(Ip("10.1.1.1"), Ip("198.51.100.9")), true, &s);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->next_hop, Ip("192.0.2.7"));
  EXPECT_EQ(r->dst_mask_len, 24u);
  EXPECT_EQ(r->src_mask_len, 8u);
  EXPECT_EQ(s->stats().router_records, 1u);
}

TEST_F(SamplerRouterTest, OnLinkDestinationIsItsOwnNextHop) {
  auto r = Send(Frame(Ip("203.0.113.5"), Ip("10.2.3.4")), true);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->next_hop, Ip("10.2.3.4"));
  EXPECT_EQ(r->dst_mask_len, 8u);
  EXPECT_EQ(r->src_mask_len, 0u);  // the source matched only the default route
}

TEST_F(SamplerRouterTest, Ipv6) {
  auto r = Send(Frame(Ip("2001:db9::1"), Ip("2001:db8::42")), true);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->next_hop, Ip("fe80::1"));
  EXPECT_EQ(r->dst_mask_len, 32u);
  EXPECT_EQ(r->src_mask_len, 0u);  // no route at all for the source
}

TEST_F(SamplerRouterTest, NoRouteNoRecordCounted) {
  Sampler* s = nullptr;
  EXPECT_EQ(Send(Frame(Ip("2001:db8::1"), Ip("2001:db9::1")), true, &s), nullptr);
  EXPECT_EQ(s->stats().no_route, 1u);
  EXPECT_EQ(s->stats().samples, 1u);  // the sample itself still goes
}

TEST_F(SamplerRouterTest, NoTableNoRecord) {
  SamplerConfig config;
  config.sampling_rate = 1;
  config.extended_router = true;
  Sampler s(3, Direction::kIngress, config, *receiver_, prng_, clock_, nullptr);
  const auto frame = Frame(Ip("10.1.1.1"), Ip("198.51.100.9"));
  PacketSample p;
  p.input_ifindex = 3;
  p.frame_length = 100;
  p.sampling_rate = 1;
  p.header = ByteView(frame.data(), frame.size());
  s.OnSample(p);
  receiver_->Flush();
  auto samples = FlowSamples(t_);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(FindRecord<wire::ExtendedRouter>(samples[0].records), nullptr);
}

TEST_F(SamplerRouterTest, ReloadTurnsTheRecordOnAndOff) {
  Sampler* s = nullptr;
  const auto frame = Frame(Ip("10.1.1.1"), Ip("198.51.100.9"));
  EXPECT_EQ(Send(frame, false, &s), nullptr);
  // The same sampler (its table set while the record was off), reconfigured.
  auto again = [&](bool on) {
    SamplerConfig config = s->config();
    config.extended_router = on;
    s->Reconfigure(config);
    PacketSample p;
    p.input_ifindex = 3;
    p.frame_length = 100;
    p.sampling_rate = 100;
    p.has_source_sequence = true;
    p.source_sequence = static_cast<uint32_t>(s->stats().samples + 1);
    p.header = ByteView(frame.data(), frame.size());
    s->OnSample(p);
    receiver_->Flush();
    auto samples = FlowSamples(t_);
    t_.Clear();
    EXPECT_EQ(samples.size(), 1u);
    return !samples.empty() && FindRecord<wire::ExtendedRouter>(samples[0].records) != nullptr;
  };
  EXPECT_TRUE(again(true));
  EXPECT_FALSE(again(false));
  EXPECT_TRUE(again(true));
  s->set_routes(nullptr);
  EXPECT_FALSE(again(true));
}

}  // namespace
}  // namespace xflowd::agent::sflow
