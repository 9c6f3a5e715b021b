// sFlow v5 decoder: hand-built datagrams for every sample and record type, strictness (every
// length that disagrees with the contents is an error with its offset), truncation at every
// byte, and round trips through the encoder.
#include "exporter/sflow/sflow_decoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <string>
#include <type_traits>
#include <vector>

#include "exporter/sflow/sflow_encoder.h"

namespace xflowd::exporter::sflow {
namespace {

using ::testing::HasSubstr;

// Builds XDR by hand, independent of the encoder: big-endian words, and (tag, length) elements
// whose length is patched when the element ends.
class Xdr {
 public:
  Xdr& U32(uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) b_.push_back(static_cast<uint8_t>(v >> s));
    return *this;
  }
  Xdr& U64(uint64_t v) {
    U32(static_cast<uint32_t>(v >> 32));
    return U32(static_cast<uint32_t>(v));
  }
  Xdr& Raw(std::vector<uint8_t> bytes) {
    b_.insert(b_.end(), bytes.begin(), bytes.end());
    return *this;
  }
  Xdr& Zeros(size_t n) {
    b_.insert(b_.end(), n, 0);
    return *this;
  }
  // (tag, length placeholder); End() patches the innermost open element's length.
  Xdr& Begin(uint32_t enterprise, uint32_t format) {
    U32(MakeTag(enterprise, format));
    open_.push_back(b_.size());
    return U32(0);
  }
  Xdr& End() {
    const size_t at = open_.back();
    open_.pop_back();
    const uint32_t len = static_cast<uint32_t>(b_.size() - at - 4);
    for (int i = 0; i < 4; ++i) b_[at + i] = static_cast<uint8_t>(len >> (24 - 8 * i));
    return *this;
  }
  // Overwrite a word already written (to corrupt lengths and counts).
  void Patch(size_t offset, uint32_t v) {
    for (int i = 0; i < 4; ++i) b_[offset + i] = static_cast<uint8_t>(v >> (24 - 8 * i));
  }
  size_t size() const { return b_.size(); }
  const std::vector<uint8_t>& bytes() const { return b_; }
  ByteView view() const { return ByteView(b_.data(), b_.size()); }

 private:
  std::vector<uint8_t> b_;
  std::vector<size_t> open_;
};

// Datagram header with agent 192.0.2.1, sub-agent 7, sequence 1234, uptime 56789: 28 bytes.
constexpr size_t kHeaderBytes = 28;
Xdr Header(uint32_t samples) {
  Xdr x;
  x.U32(5).U32(1).Raw({192, 0, 2, 1}).U32(7).U32(1234).U32(56789).U32(samples);
  return x;
}

// A compact flow sample header (7 words, after the tag and length) then the record count.
void FlowSampleFields(Xdr& x, uint32_t records) {
  x.U32(42)             // sequence
      .U32(0x00000003)  // source 0:3
      .U32(1000)        // rate
      .U32(42000)       // pool
      .U32(5)           // drops
      .U32(3)           // input ifIndex 3
      .U32(0x80000002)  // output: multiple, 2 interfaces
      .U32(records);
}

DecodedDatagram MustDecode(const Xdr& x) {
  auto r = DecodeDatagram(x.view());
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return DecodedDatagram();
  return std::move(r).value();
}

std::string DecodeError(const Xdr& x) {
  auto r = DecodeDatagram(x.view());
  EXPECT_FALSE(r.ok());
  return r.ok() ? std::string() : r.status().message();
}

// Decodes a datagram holding one compact flow sample with one record built by `body`.
template <typename Body>
DecodedFlowRecord OneFlowRecord(uint32_t format, Body body) {
  Xdr x = Header(1);
  x.Begin(0, kFlowSample);
  FlowSampleFields(x, 1);
  x.Begin(0, format);
  body(x);
  x.End().End();
  DecodedDatagram d = MustDecode(x);
  if (d.samples.size() != 1) return UnknownRecord{};
  const auto* fs = std::get_if<DecodedFlowSample>(&d.samples[0]);
  if (!fs || fs->records.size() != 1) return UnknownRecord{};
  return fs->records[0];
}

template <typename Body>
DecodedCounterRecord OneCounterRecord(uint32_t format, Body body) {
  Xdr x = Header(1);
  x.Begin(0, kCounterSample).U32(9).U32(0x00000004).U32(1);
  x.Begin(0, format);
  body(x);
  x.End().End();
  DecodedDatagram d = MustDecode(x);
  if (d.samples.size() != 1) return UnknownRecord{};
  const auto* cs = std::get_if<DecodedCounterSample>(&d.samples[0]);
  if (!cs || cs->records.size() != 1) return UnknownRecord{};
  return cs->records[0];
}

// ---------------------------------------------------------------- header

TEST(SflowDecoderTest, HeaderIpv4) {
  DecodedDatagram d = MustDecode(Header(0));
  EXPECT_EQ(d.version, 5u);
  EXPECT_EQ(d.header.agent_address.ToString(), "192.0.2.1");
  EXPECT_EQ(d.header.sub_agent_id, 7u);
  EXPECT_EQ(d.header.sequence, 1234u);
  EXPECT_EQ(d.header.uptime_ms, 56789u);
  EXPECT_TRUE(d.samples.empty());
}

TEST(SflowDecoderTest, HeaderIpv6AndUnknownAgentAddress) {
  Xdr x;
  x.U32(5).U32(2).Raw({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  x.U32(0).U32(1).U32(2).U32(0);
  DecodedDatagram d = MustDecode(x);
  EXPECT_EQ(d.header.agent_address.ToString(), "2001:db8::1");
  EXPECT_EQ(d.header.uptime_ms, 2u);

  Xdr u;
  u.U32(5).U32(0).U32(0).U32(1).U32(2).U32(0);
  d = MustDecode(u);
  EXPECT_EQ(d.header.agent_address.family(), IpAddress::Family::kNone);
  EXPECT_EQ(d.header.sequence, 1u);
}

TEST(SflowDecoderTest, RejectsOtherVersionsAndAddressTypes) {
  Xdr v4;
  v4.U32(4).U32(1).Raw({10, 0, 0, 1}).U32(0).U32(0).U32(0);
  EXPECT_THAT(DecodeError(v4), HasSubstr("offset 0: sFlow version 4 is not supported"));

  Xdr bad;
  bad.U32(5).U32(3).Raw({10, 0, 0, 1}).U32(0).U32(0).U32(0).U32(0);
  EXPECT_THAT(DecodeError(bad), HasSubstr("offset 4: agent_address has type 3"));

  EXPECT_THAT(DecodeError(Xdr()), HasSubstr("offset 0: datagram header truncated: version"));
}

// ---------------------------------------------------------------- flow records

TEST(SflowDecoderTest, SampledHeaderWithPadding) {
  DecodedFlowRecord rec = OneFlowRecord(kSampledHeaderFormat, [](Xdr& x) {
    x.U32(kHeaderEthernet).U32(1518).U32(4).U32(5).Raw({1, 2, 3, 4, 5}).Zeros(3);
  });
  const auto* h = std::get_if<DecodedSampledHeader>(&rec);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->protocol, kHeaderEthernet);
  EXPECT_EQ(h->frame_length, 1518u);
  EXPECT_EQ(h->stripped, 4u);
  EXPECT_EQ(h->header, (std::vector<uint8_t>{1, 2, 3, 4, 5}));
}

TEST(SflowDecoderTest, SampledEthernet) {
  DecodedFlowRecord rec = OneFlowRecord(kSampledEthernetFormat, [](Xdr& x) {
    x.U32(1500).Raw({0, 1, 2, 3, 4, 5, 0, 0}).Raw({6, 7, 8, 9, 10, 11, 0, 0}).U32(0x0800);
  });
  const auto* e = std::get_if<SampledEthernet>(&rec);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->length, 1500u);
  EXPECT_EQ(std::vector<uint8_t>(e->src_mac, e->src_mac + 6),
            (std::vector<uint8_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(std::vector<uint8_t>(e->dst_mac, e->dst_mac + 6),
            (std::vector<uint8_t>{6, 7, 8, 9, 10, 11}));
  EXPECT_EQ(e->type, 0x0800u);
}

TEST(SflowDecoderTest, SampledIpv4) {
  DecodedFlowRecord rec = OneFlowRecord(kSampledIpv4Format, [](Xdr& x) {
    x.U32(1400)
        .U32(6)
        .Raw({10, 0, 0, 1})
        .Raw({10, 0, 0, 2})
        .U32(443)
        .U32(51000)
        .U32(0x12)
        .U32(0xb8);
  });
  const auto* r = std::get_if<SampledIpv4>(&rec);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->length, 1400u);
  EXPECT_EQ(r->protocol, 6u);
  EXPECT_EQ(IpAddress::V4(r->src_ip).ToString(), "10.0.0.1");
  EXPECT_EQ(IpAddress::V4(r->dst_ip).ToString(), "10.0.0.2");
  EXPECT_EQ(r->src_port, 443u);
  EXPECT_EQ(r->dst_port, 51000u);
  EXPECT_EQ(r->tcp_flags, 0x12u);
  EXPECT_EQ(r->tos, 0xb8u);
}

TEST(SflowDecoderTest, SampledIpv6) {
  DecodedFlowRecord rec = OneFlowRecord(kSampledIpv6Format, [](Xdr& x) {
    x.U32(1280).U32(17);
    x.Raw({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xa});
    x.Raw({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xb});
    x.U32(53).U32(33333).U32(0).U32(3);
  });
  const auto* r = std::get_if<SampledIpv6>(&rec);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->length, 1280u);
  EXPECT_EQ(r->protocol, 17u);
  EXPECT_EQ(IpAddress::V6(r->src_ip).ToString(), "2001:db8::a");
  EXPECT_EQ(IpAddress::V6(r->dst_ip).ToString(), "2001:db8::b");
  EXPECT_EQ(r->src_port, 53u);
  EXPECT_EQ(r->dst_port, 33333u);
  EXPECT_EQ(r->priority, 3u);
}

TEST(SflowDecoderTest, ExtendedSwitch) {
  DecodedFlowRecord rec =
      OneFlowRecord(kExtendedSwitchFormat, [](Xdr& x) { x.U32(100).U32(1).U32(200).U32(5); });
  const auto* r = std::get_if<ExtendedSwitch>(&rec);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->src_vlan, 100u);
  EXPECT_EQ(r->src_priority, 1u);
  EXPECT_EQ(r->dst_vlan, 200u);
  EXPECT_EQ(r->dst_priority, 5u);
}

TEST(SflowDecoderTest, ExtendedRouterV4AndV6) {
  DecodedFlowRecord rec = OneFlowRecord(kExtendedRouterFormat, [](Xdr& x) {
    x.U32(1).Raw({192, 0, 2, 254}).U32(24).U32(16);
  });
  const auto* r = std::get_if<ExtendedRouter>(&rec);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->next_hop.ToString(), "192.0.2.254");
  EXPECT_EQ(r->src_mask_len, 24u);
  EXPECT_EQ(r->dst_mask_len, 16u);

  rec = OneFlowRecord(kExtendedRouterFormat, [](Xdr& x) {
    x.U32(2).Raw({0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}).U32(64).U32(48);
  });
  r = std::get_if<ExtendedRouter>(&rec);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->next_hop.ToString(), "fe80::1");
  EXPECT_EQ(r->dst_mask_len, 48u);
}

TEST(SflowDecoderTest, ExtendedGateway) {
  DecodedFlowRecord rec = OneFlowRecord(kExtendedGatewayFormat, [](Xdr& x) {
    x.U32(1).Raw({198, 51, 100, 1});
    x.U32(65000).U32(65001).U32(65002);
    x.U32(2);                                  // segments
    x.U32(2).U32(3).U32(1).U32(2).U32(3);      // AS_SEQUENCE 1 2 3
    x.U32(1).U32(1).U32(4200000000u);          // AS_SET {4200000000}
    x.U32(2).U32(0xFDE80001).U32(0xFDE80002);  // communities
    x.U32(100);                                // localpref
  });
  const auto* g = std::get_if<DecodedExtendedGateway>(&rec);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->next_hop.ToString(), "198.51.100.1");
  EXPECT_EQ(g->as, 65000u);
  EXPECT_EQ(g->src_as, 65001u);
  EXPECT_EQ(g->src_peer_as, 65002u);
  ASSERT_EQ(g->dst_as_path.size(), 2u);
  EXPECT_EQ(g->dst_as_path[0].type, 2u);
  EXPECT_EQ(g->dst_as_path[0].as_numbers, (std::vector<uint32_t>{1, 2, 3}));
  EXPECT_EQ(g->dst_as_path[1].type, 1u);
  EXPECT_EQ(g->dst_as_path[1].as_numbers, (std::vector<uint32_t>{4200000000u}));
  EXPECT_EQ(g->communities, (std::vector<uint32_t>{0xFDE80001, 0xFDE80002}));
  EXPECT_EQ(g->local_pref, 100u);
}

TEST(SflowDecoderTest, ExtendedTimestamp) {
  DecodedFlowRecord rec =
      OneFlowRecord(kExtendedTimestampFormat, [](Xdr& x) { x.U64(1767225600123456789ull); });
  const auto* t = std::get_if<ExtendedTimestamp>(&rec);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->nanoseconds, 1767225600123456789ull);
}

TEST(SflowDecoderTest, UnknownFlowRecordsAreKept) {
  DecodedFlowRecord rec =
      OneFlowRecord(1004, [](Xdr& x) { x.U32(0xdeadbeef).U32(7); });  // extended_mpls, say
  const auto* u = std::get_if<UnknownRecord>(&rec);
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->enterprise, 0u);
  EXPECT_EQ(u->format, 1004u);
  EXPECT_EQ(u->data, (std::vector<uint8_t>{0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 7}));
  EXPECT_EQ(RecordTag(rec), 1004u);

  // A vendor record that reuses a standard format number under its own enterprise.
  Xdr x = Header(1);
  x.Begin(0, kFlowSample);
  FlowSampleFields(x, 1);
  x.Begin(4413, kExtendedSwitchFormat).U32(1).End().End();
  DecodedDatagram d = MustDecode(x);
  const auto& fs = std::get<DecodedFlowSample>(d.samples[0]);
  const auto* v = std::get_if<UnknownRecord>(&fs.records[0]);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->enterprise, 4413u);
  EXPECT_EQ(v->format, kExtendedSwitchFormat);
  EXPECT_EQ(v->data.size(), 4u);
}

// ---------------------------------------------------------------- samples

TEST(SflowDecoderTest, CompactFlowSampleFields) {
  Xdr x = Header(1);
  x.Begin(0, kFlowSample);
  FlowSampleFields(x, 0);
  x.End();
  DecodedDatagram d = MustDecode(x);
  ASSERT_EQ(d.samples.size(), 1u);
  const auto& s = std::get<DecodedFlowSample>(d.samples[0]);
  EXPECT_FALSE(s.expanded);
  EXPECT_EQ(s.sequence, 42u);
  EXPECT_EQ(s.source.type, 0u);
  EXPECT_EQ(s.source.index, 3u);
  EXPECT_EQ(s.sampling_rate, 1000u);
  EXPECT_EQ(s.sample_pool, 42000u);
  EXPECT_EQ(s.drops, 5u);
  EXPECT_EQ(s.input.format, 0u);
  EXPECT_EQ(s.input.value, 3u);
  EXPECT_EQ(s.output.format, 2u);
  EXPECT_EQ(s.output.value, 2u);
  EXPECT_EQ(SampleTag(d.samples[0]), MakeTag(0, kFlowSample));
}

TEST(SflowDecoderTest, CompactSourceAndDiscardInterface) {
  Xdr x = Header(1);
  x.Begin(0, kFlowSample);
  x.U32(1).U32(0x01FFFFFE).U32(1).U32(1).U32(0).U32(0x40000000 | 258).U32(0).U32(0);
  x.End();
  DecodedDatagram d = MustDecode(x);
  const auto& s = std::get<DecodedFlowSample>(d.samples[0]);
  EXPECT_EQ(s.source.type, 1u);
  EXPECT_EQ(s.source.index, 0xFFFFFEu);
  EXPECT_EQ(s.input.format, 1u);
  EXPECT_EQ(s.input.value, 258u);
}

TEST(SflowDecoderTest, ExpandedFlowSample) {
  Xdr x = Header(1);
  x.Begin(0, kFlowSampleExpanded);
  x.U32(77).U32(2).U32(0x12345678).U32(256).U32(9999).U32(1);
  x.U32(0).U32(0x20000000).U32(2).U32(0x7fffffff);
  x.U32(1).Begin(0, kExtendedSwitchFormat).U32(1).U32(2).U32(3).U32(4).End();
  x.End();
  DecodedDatagram d = MustDecode(x);
  const auto& s = std::get<DecodedFlowSample>(d.samples[0]);
  EXPECT_TRUE(s.expanded);
  EXPECT_EQ(s.sequence, 77u);
  EXPECT_EQ(s.source.type, 2u);
  EXPECT_EQ(s.source.index, 0x12345678u);
  EXPECT_EQ(s.sampling_rate, 256u);
  EXPECT_EQ(s.sample_pool, 9999u);
  EXPECT_EQ(s.drops, 1u);
  EXPECT_EQ(s.input.format, 0u);
  EXPECT_EQ(s.input.value, 0x20000000u);
  EXPECT_EQ(s.output.format, 2u);
  EXPECT_EQ(s.output.value, 0x7fffffffu);
  ASSERT_EQ(s.records.size(), 1u);
  EXPECT_EQ(std::get<ExtendedSwitch>(s.records[0]).dst_priority, 4u);
  EXPECT_EQ(SampleTag(d.samples[0]), MakeTag(0, kFlowSampleExpanded));
}

TEST(SflowDecoderTest, GenericInterfaceCounters) {
  DecodedCounterRecord rec = OneCounterRecord(kGenericInterfaceFormat, [](Xdr& x) {
    x.U32(4).U32(6).U64(25000000000ull).U32(1).U32(3);
    x.U64(0x123456789abcull).U32(11).U32(12).U32(13).U32(14).U32(15).U32(16);
    x.U64(0xfedcba987654ull).U32(21).U32(22).U32(23).U32(24).U32(25).U32(1);
  });
  const auto* g = std::get_if<GenericInterfaceCounters>(&rec);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->if_index, 4u);
  EXPECT_EQ(g->if_type, 6u);
  EXPECT_EQ(g->if_speed, 25000000000ull);
  EXPECT_EQ(g->if_direction, 1u);
  EXPECT_EQ(g->if_status, 3u);
  EXPECT_EQ(g->in_octets, 0x123456789abcull);
  EXPECT_EQ(g->in_ucast_pkts, 11u);
  EXPECT_EQ(g->in_multicast_pkts, 12u);
  EXPECT_EQ(g->in_broadcast_pkts, 13u);
  EXPECT_EQ(g->in_discards, 14u);
  EXPECT_EQ(g->in_errors, 15u);
  EXPECT_EQ(g->in_unknown_protos, 16u);
  EXPECT_EQ(g->out_octets, 0xfedcba987654ull);
  EXPECT_EQ(g->out_ucast_pkts, 21u);
  EXPECT_EQ(g->out_multicast_pkts, 22u);
  EXPECT_EQ(g->out_broadcast_pkts, 23u);
  EXPECT_EQ(g->out_discards, 24u);
  EXPECT_EQ(g->out_errors, 25u);
  EXPECT_EQ(g->promiscuous_mode, 1u);
}

TEST(SflowDecoderTest, EthernetInterfaceCounters) {
  DecodedCounterRecord rec = OneCounterRecord(kEthernetInterfaceFormat, [](Xdr& x) {
    for (uint32_t i = 1; i <= 13; ++i) x.U32(100 + i);
  });
  const auto* e = std::get_if<EthernetInterfaceCounters>(&rec);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->alignment_errors, 101u);
  EXPECT_EQ(e->fcs_errors, 102u);
  EXPECT_EQ(e->single_collision_frames, 103u);
  EXPECT_EQ(e->multiple_collision_frames, 104u);
  EXPECT_EQ(e->sqe_test_errors, 105u);
  EXPECT_EQ(e->deferred_transmissions, 106u);
  EXPECT_EQ(e->late_collisions, 107u);
  EXPECT_EQ(e->excessive_collisions, 108u);
  EXPECT_EQ(e->internal_mac_transmit_errors, 109u);
  EXPECT_EQ(e->carrier_sense_errors, 110u);
  EXPECT_EQ(e->frame_too_longs, 111u);
  EXPECT_EQ(e->internal_mac_receive_errors, 112u);
  EXPECT_EQ(e->symbol_errors, 113u);
}

TEST(SflowDecoderTest, VlanCounters) {
  DecodedCounterRecord rec = OneCounterRecord(
      kVlanFormat, [](Xdr& x) { x.U32(4094).U64(1ull << 40).U32(1).U32(2).U32(3).U32(4); });
  const auto* v = std::get_if<VlanCounters>(&rec);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->vlan_id, 4094u);
  EXPECT_EQ(v->octets, 1ull << 40);
  EXPECT_EQ(v->ucast_pkts, 1u);
  EXPECT_EQ(v->multicast_pkts, 2u);
  EXPECT_EQ(v->broadcast_pkts, 3u);
  EXPECT_EQ(v->discards, 4u);
}

TEST(SflowDecoderTest, ProcessorCounters) {
  DecodedCounterRecord rec = OneCounterRecord(kProcessorFormat, [](Xdr& x) {
    x.U32(5000).U32(2500).U32(1250).U64(16ull << 30).U64(3ull << 30);
  });
  const auto* p = std::get_if<ProcessorCounters>(&rec);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->cpu_5s, 5000u);
  EXPECT_EQ(p->cpu_1m, 2500u);
  EXPECT_EQ(p->cpu_5m, 1250u);
  EXPECT_EQ(p->total_memory, 16ull << 30);
  EXPECT_EQ(p->free_memory, 3ull << 30);
}

TEST(SflowDecoderTest, PortName) {
  DecodedCounterRecord rec = OneCounterRecord(kPortNameFormat, [](Xdr& x) {
    x.U32(5).Raw({'e', 't', 'h', '1', '2'}).Zeros(3);
  });
  const auto* p = std::get_if<DecodedPortName>(&rec);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->name, "eth12");

  rec = OneCounterRecord(kPortNameFormat, [](Xdr& x) { x.U32(0); });
  p = std::get_if<DecodedPortName>(&rec);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->name, "");
}

TEST(SflowDecoderTest, ExpandedCounterSampleWithUnknownRecord) {
  Xdr x = Header(1);
  x.Begin(0, kCounterSampleExpanded).U32(3).U32(0).U32(0x01000000).U32(2);
  x.Begin(0, 2203).U32(1).U32(2).End();  // a host-sFlow structure we do not decode
  x.Begin(0, kVlanFormat).U32(10).U64(1).U32(2).U32(3).U32(4).U32(5).End();
  x.End();
  DecodedDatagram d = MustDecode(x);
  const auto& s = std::get<DecodedCounterSample>(d.samples[0]);
  EXPECT_TRUE(s.expanded);
  EXPECT_EQ(s.sequence, 3u);
  EXPECT_EQ(s.source.index, 0x01000000u);
  ASSERT_EQ(s.records.size(), 2u);
  const auto& u = std::get<UnknownRecord>(s.records[0]);
  EXPECT_EQ(u.format, 2203u);
  EXPECT_EQ(u.data.size(), 8u);
  EXPECT_EQ(std::get<VlanCounters>(s.records[1]).vlan_id, 10u);
  EXPECT_EQ(SampleTag(d.samples[0]), MakeTag(0, kCounterSampleExpanded));
}

TEST(SflowDecoderTest, CompactCounterSample) {
  Xdr x = Header(1);
  x.Begin(0, kCounterSample).U32(8).U32(0x00000011).U32(0).End();
  DecodedDatagram d = MustDecode(x);
  const auto& s = std::get<DecodedCounterSample>(d.samples[0]);
  EXPECT_FALSE(s.expanded);
  EXPECT_EQ(s.sequence, 8u);
  EXPECT_EQ(s.source.type, 0u);
  EXPECT_EQ(s.source.index, 17u);
  EXPECT_TRUE(s.records.empty());
}

TEST(SflowDecoderTest, DiscardSample) {
  Xdr x = Header(1);
  x.Begin(0, kDiscardSample);
  x.U32(12).U32(0).U32(5).U32(2).U32(5).U32(0).U32(258).U32(1);
  x.Begin(0, kSampledHeaderFormat).U32(1).U32(64).U32(0).U32(4).Raw({1, 2, 3, 4}).End();
  x.End();
  DecodedDatagram d = MustDecode(x);
  const auto& s = std::get<DecodedDiscardSample>(d.samples[0]);
  EXPECT_EQ(s.sequence, 12u);
  EXPECT_EQ(s.source.type, 0u);
  EXPECT_EQ(s.source.index, 5u);
  EXPECT_EQ(s.drops, 2u);
  EXPECT_EQ(s.input, 5u);
  EXPECT_EQ(s.output, 0u);
  EXPECT_EQ(s.reason, 258u);
  EXPECT_STREQ(DropReasonName(s.reason), "acl");
  ASSERT_EQ(s.records.size(), 1u);
  EXPECT_EQ(std::get<DecodedSampledHeader>(s.records[0]).frame_length, 64u);
  EXPECT_EQ(SampleTag(d.samples[0]), MakeTag(0, kDiscardSample));
}

TEST(SflowDecoderTest, UnknownSamplesAreKept) {
  Xdr x = Header(2);
  x.Begin(0, 6).U32(1).U32(2).End();       // sFlow-RT metric, say
  x.Begin(4300, 1).U32(0xabcdef01).End();  // vendor sample
  DecodedDatagram d = MustDecode(x);
  ASSERT_EQ(d.samples.size(), 2u);
  const auto& a = std::get<UnknownSample>(d.samples[0]);
  EXPECT_EQ(a.enterprise, 0u);
  EXPECT_EQ(a.format, 6u);
  EXPECT_EQ(a.data.size(), 8u);
  const auto& b = std::get<UnknownSample>(d.samples[1]);
  EXPECT_EQ(b.enterprise, 4300u);
  EXPECT_EQ(b.format, 1u);
  EXPECT_EQ(b.data, (std::vector<uint8_t>{0xab, 0xcd, 0xef, 0x01}));
  EXPECT_EQ(SampleTag(d.samples[1]), MakeTag(4300, 1));
}

TEST(SflowDecoderTest, Names) {
  EXPECT_STREQ(SampleName(MakeTag(0, 1)), "flow_sample");
  EXPECT_STREQ(SampleName(MakeTag(0, 4)), "counters_sample_expanded");
  EXPECT_STREQ(SampleName(MakeTag(1, 1)), "unknown");
  EXPECT_STREQ(FlowRecordName(MakeTag(0, 1003)), "extended_gateway");
  EXPECT_STREQ(CounterRecordName(MakeTag(0, 1005)), "port_name");
  EXPECT_STREQ(HeaderProtocolName(kHeaderIpv6), "ipv6");
  EXPECT_EQ(HeaderProtocolName(99), nullptr);
  EXPECT_STREQ(DropReasonName(0), "net_unreachable");
  EXPECT_STREQ(DropReasonName(259), "no_buffer_space");
  EXPECT_STREQ(DropReasonName(332), "dev_hdr");
  EXPECT_STREQ(DropReasonName(366), "tc_egress");
  EXPECT_EQ(DropReasonName(16), nullptr);
  EXPECT_EQ(DropReasonName(100000), nullptr);
}

// ---------------------------------------------------------------- strictness

TEST(SflowDecoderTest, FixedRecordWithWrongLengthIsAnError) {
  Xdr x = Header(1);
  x.Begin(0, kFlowSample);
  FlowSampleFields(x, 1);
  x.Begin(0, kExtendedSwitchFormat).U32(1).U32(2).U32(3).U32(4).U32(5).End();
  x.End();
  // Header 28, sample tag and length 8, sample fields 28, record count 4: the record's tag is
  // at 68, its length word at 72.
  EXPECT_EQ(DecodeError(x),
            "sample 1 of 1 (0:1 flow_sample at offset 28): record 1 of 1 (0:1001 "
            "extended_switch at offset 68): offset 72: extended_switch record has length 20, "
            "the format takes 16");
}

TEST(SflowDecoderTest, VariableRecordLongerThanItsContentsIsAnError) {
  Xdr x = Header(1);
  x.Begin(0, kFlowSample);
  FlowSampleFields(x, 1);
  x.Begin(0, kExtendedRouterFormat).U32(1).Raw({1, 2, 3, 4}).U32(8).U32(8).U32(0).End();
  x.End();
  EXPECT_THAT(DecodeError(x), HasSubstr("offset 92: extended_router record has length 20 but its "
                                        "contents end 4 bytes earlier"));
}

TEST(SflowDecoderTest, VariableRecordShorterThanItsContentsIsAnError) {
  Xdr x = Header(1);
  x.Begin(0, kFlowSample);
  FlowSampleFields(x, 1);
  x.Begin(0, kExtendedRouterFormat).U32(2).Raw({1, 2, 3, 4, 5, 6, 7, 8}).End();
  x.End();
  EXPECT_THAT(DecodeError(x), HasSubstr("offset 80: extended_router truncated: next_hop needs 16 "
                                        "bytes, 8 left"));
}

TEST(SflowDecoderTest, SampleLongerThanItsRecordsIsAnError) {
  Xdr x = Header(1);
  x.Begin(0, kFlowSample);
  FlowSampleFields(x, 0);
  x.U32(0);
  x.End();
  EXPECT_EQ(DecodeError(x),
            "sample 1 of 1 (0:1 flow_sample at offset 28): offset 68: flow_sample has length 36 "
            "but its records end 4 bytes earlier");
}

TEST(SflowDecoderTest, SampleLengthBeyondTheDatagramIsAnError) {
  Xdr x = Header(1);
  x.Begin(0, kFlowSample);
  FlowSampleFields(x, 0);
  x.End();
  x.Patch(kHeaderBytes + 4, 400);
  EXPECT_EQ(DecodeError(x),
            "sample 1 of 1: offset 32: length 400 exceeds the 32 bytes left in the datagram");
}

TEST(SflowDecoderTest, LengthNotAMultipleOfFourIsAnError) {
  Xdr x = Header(1);
  x.Begin(0, kFlowSample);
  FlowSampleFields(x, 0);
  x.End();
  x.Patch(kHeaderBytes + 4, 31);
  EXPECT_THAT(DecodeError(x), HasSubstr("offset 32: length 31 is not a multiple of 4"));
}

TEST(SflowDecoderTest, TrailingBytesAreAnError) {
  Xdr x = Header(0);
  x.U32(0);
  EXPECT_EQ(DecodeError(x),
            "offset 28: 4 bytes after the last of the 0 samples the header "
            "declares");
}

TEST(SflowDecoderTest, MoreSamplesDeclaredThanPresentIsAnError) {
  // 28 bytes of samples: a 20-byte counter sample and an empty unknown sample (0:0).
  Xdr x = Header(2);
  x.Begin(0, kCounterSample).U32(1).U32(1).U32(0).End();
  x.U32(0).U32(0);
  EXPECT_EQ(MustDecode(x).samples.size(), 2u);
  // A third sample could fit in the count check (28 / 8 = 3) but is not there.
  x.Patch(24, 3);
  EXPECT_EQ(DecodeError(x),
            "sample 3 of 3: offset 56: datagram truncated: data_format needs 4 bytes, 0 left");
  x.Patch(24, 4);
  EXPECT_EQ(DecodeError(x),
            "offset 24: sample count 4 cannot fit in the 28 bytes left (each "
            "takes at least 8)");
}

TEST(SflowDecoderTest, HugeCountsAreErrorsNotAllocations) {
  Xdr x = Header(0xFFFFFFFF);
  EXPECT_THAT(DecodeError(x), HasSubstr("offset 24: sample count 4294967295 cannot fit"));

  Xdr r = Header(1);
  r.Begin(0, kFlowSample);
  FlowSampleFields(r, 0x40000000);
  r.End();
  EXPECT_THAT(DecodeError(r), HasSubstr("record count 1073741824 cannot fit in the 0 bytes"));

  DecodedFlowRecord ok = OneFlowRecord(
      kExtendedGatewayFormat, [](Xdr& g) { g.U32(0).U32(1).U32(2).U32(3).U32(0).U32(0).U32(0); });
  EXPECT_NE(std::get_if<DecodedExtendedGateway>(&ok), nullptr);

  Xdr g = Header(1);
  g.Begin(0, kFlowSample);
  FlowSampleFields(g, 1);
  g.Begin(0, kExtendedGatewayFormat).U32(0).U32(1).U32(2).U32(3).U32(1);
  g.U32(2).U32(0x7FFFFFFF).U32(0).U32(0).End().End();
  EXPECT_THAT(DecodeError(g), HasSubstr("as_path segment length 2147483647 cannot fit"));
}

TEST(SflowDecoderTest, SampledHeaderLengthBeyondTheRecordIsAnError) {
  Xdr x = Header(1);
  x.Begin(0, kFlowSample);
  FlowSampleFields(x, 1);
  x.Begin(0, kSampledHeaderFormat).U32(1).U32(100).U32(0).U32(200).Raw({1, 2, 3, 4}).End();
  x.End();
  EXPECT_THAT(DecodeError(x), HasSubstr("record 1 of 1 (0:1 sampled_header at offset 68): offset "
                                        "88: header_length 200 exceeds the 4 bytes left in the "
                                        "record"));
  // Header bytes present but the XDR padding is not.
  Xdr p = Header(1);
  p.Begin(0, kFlowSample);
  FlowSampleFields(p, 1);
  p.Begin(0, kSampledHeaderFormat).U32(1).U32(100).U32(0).U32(3).Raw({1, 2, 3}).End();
  p.End();
  // Lengths that are not multiples of 4 are caught first.
  EXPECT_THAT(DecodeError(p), HasSubstr("is not a multiple of 4"));
}

TEST(SflowDecoderTest, PortNameLongerThan255IsAnError) {
  Xdr x = Header(1);
  x.Begin(0, kCounterSample).U32(1).U32(1).U32(1);
  x.Begin(0, kPortNameFormat).U32(256).Zeros(256).End();
  x.End();
  EXPECT_THAT(DecodeError(x), HasSubstr("name length 256 exceeds the maximum of 255"));
}

TEST(SflowDecoderTest, BadNextHopAddressTypeIsAnError) {
  Xdr x = Header(1);
  x.Begin(0, kFlowSample);
  FlowSampleFields(x, 1);
  x.Begin(0, kExtendedRouterFormat).U32(9).U32(0).U32(0).End();
  x.End();
  EXPECT_THAT(DecodeError(x), HasSubstr("offset 76: next_hop has type 9"));
}

// A datagram with every kind of sample and several records, for the truncation test.
Xdr MultiSampleDatagram() {
  Xdr x = Header(5);
  x.Begin(0, kFlowSample);
  FlowSampleFields(x, 3);
  x.Begin(0, kSampledHeaderFormat).U32(1).U32(60).U32(4).U32(6).Raw({1, 2, 3, 4, 5, 6});
  x.Zeros(2).End();
  x.Begin(0, kExtendedSwitchFormat).U32(1).U32(2).U32(3).U32(4).End();
  x.Begin(0, kExtendedGatewayFormat).U32(1).Raw({1, 2, 3, 4}).U32(1).U32(2).U32(3);
  x.U32(1).U32(2).U32(2).U32(10).U32(20).U32(1).U32(99).U32(100).End();
  x.End();
  x.Begin(0, kCounterSampleExpanded).U32(1).U32(0).U32(4).U32(2);
  x.Begin(0, kPortNameFormat).U32(3).Raw({'e', 't', 'h'}).Zeros(1).End();
  x.Begin(0, kProcessorFormat).U32(1).U32(2).U32(3).U64(4).U64(5).End();
  x.End();
  x.Begin(0, kDiscardSample).U32(1).U32(0).U32(4).U32(0).U32(4).U32(0).U32(259).U32(1);
  x.Begin(0, kExtendedRouterFormat).U32(2).Zeros(16).U32(1).U32(2).End();
  x.End();
  x.Begin(7, 7).U32(1).End();
  x.Begin(0, kFlowSampleExpanded);
  x.U32(1).U32(0).U32(1).U32(2).U32(3).U32(4).U32(0).U32(1).U32(0).U32(2).U32(1);
  x.Begin(0, kSampledIpv6Format).U32(1).U32(2).Zeros(32).U32(1).U32(2).U32(3).U32(4).End();
  x.End();
  return x;
}

TEST(SflowDecoderTest, TruncationAtEveryOffsetIsAnError) {
  Xdr x = MultiSampleDatagram();
  auto full = DecodeDatagram(x.view());
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  ASSERT_EQ(full->samples.size(), 5u);
  for (size_t n = 0; n < x.size(); ++n) {
    // A copy of exactly n bytes, so a read past the end is caught by the sanitizers too.
    std::vector<uint8_t> cut(x.bytes().begin(), x.bytes().begin() + n);
    auto r = DecodeDatagram(ByteView(cut.data(), cut.size()));
    EXPECT_FALSE(r.ok()) << "decoded a datagram cut to " << n << " bytes";
    if (!r.ok()) {
      EXPECT_THAT(r.status().message(), HasSubstr("offset ")) << n;
    }
  }
}

TEST(SflowDecoderTest, TruncationMessagesNameTheFieldAndOffset) {
  Xdr x = MultiSampleDatagram();
  std::vector<uint8_t> cut(x.bytes().begin(), x.bytes().begin() + 14);
  auto r = DecodeDatagram(ByteView(cut.data(), cut.size()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "offset 12: datagram header truncated: sub_agent_id needs 4 bytes, 2 left");
}

TEST(SflowDecoderTest, EveryCorruptedWordIsHandled) {
  // Overwrite each word in turn with values that break lengths and counts. Whatever the
  // outcome, decoding must not crash or read out of bounds (run under ASan in CI).
  Xdr x = MultiSampleDatagram();
  for (size_t off = 0; off + 4 <= x.size(); off += 4) {
    for (uint32_t v : {0u, 1u, 3u, 0x7FFFFFFFu, 0xFFFFFFFFu, 0x1000u}) {
      Xdr y = x;
      y.Patch(off, v);
      auto r = DecodeDatagram(y.view());
      if (!r.ok()) {
        EXPECT_THAT(r.status().message(), HasSubstr("offset ")) << off;
      }
    }
  }
}

// ---------------------------------------------------------------- round trips

// Re-encodes a decoded datagram with the encoder (the test's way of checking that every field
// survived: the bytes must come back identical).
class Reencoder {
 public:
  std::vector<uint8_t> Encode(const DecodedDatagram& d) {
    std::vector<uint8_t> buf(kMaxDatagramBytes * 8);
    DatagramBuilder b(buf.data(), buf.size(), d.header.agent_address, d.header.sub_agent_id);
    for (const DecodedSample& s : d.samples) {
      bool added = false;
      if (const auto* fs = std::get_if<DecodedFlowSample>(&s)) {
        FlowSample w;
        w.expanded = fs->expanded;
        w.sequence = fs->sequence;
        w.source = fs->source;
        w.sampling_rate = fs->sampling_rate;
        w.sample_pool = fs->sample_pool;
        w.drops = fs->drops;
        w.input = fs->input;
        w.output = fs->output;
        const auto& recs = Flow(fs->records);
        w.records = recs.data();
        w.record_count = static_cast<uint32_t>(recs.size());
        added = b.Add(w);
      } else if (const auto* cs = std::get_if<DecodedCounterSample>(&s)) {
        CounterSample w;
        w.expanded = cs->expanded;
        w.sequence = cs->sequence;
        w.source = cs->source;
        const auto& recs = Counter(cs->records);
        w.records = recs.data();
        w.record_count = static_cast<uint32_t>(recs.size());
        added = b.Add(w);
      } else if (const auto* ds = std::get_if<DecodedDiscardSample>(&s)) {
        DiscardSample w;
        w.sequence = ds->sequence;
        w.source = ds->source;
        w.drops = ds->drops;
        w.input = ds->input;
        w.output = ds->output;
        w.reason = ds->reason;
        const auto& recs = Flow(ds->records);
        w.records = recs.data();
        w.record_count = static_cast<uint32_t>(recs.size());
        added = b.Add(w);
      } else {
        ADD_FAILURE() << "unknown sample cannot be re-encoded";
      }
      EXPECT_TRUE(added);
    }
    ByteView v = b.Finish(d.header.sequence, d.header.uptime_ms);
    return std::vector<uint8_t>(v.begin(), v.end());
  }

 private:
  const std::vector<FlowRecord>& Flow(const std::vector<DecodedFlowRecord>& in) {
    std::vector<FlowRecord>& out = flow_.emplace_back();
    for (const DecodedFlowRecord& r : in) {
      if (const auto* h = std::get_if<DecodedSampledHeader>(&r)) {
        out.push_back(SampledHeader{h->protocol, h->frame_length, h->stripped,
                                    ByteView(h->header.data(), h->header.size())});
      } else if (const auto* g = std::get_if<DecodedExtendedGateway>(&r)) {
        std::vector<AsPathSegment>& segs = segments_.emplace_back();
        for (const DecodedAsPathSegment& s : g->dst_as_path) {
          segs.push_back(AsPathSegment{
              s.type, {s.as_numbers.data(), static_cast<uint32_t>(s.as_numbers.size())}});
        }
        ExtendedGateway w;
        w.next_hop = g->next_hop;
        w.as = g->as;
        w.src_as = g->src_as;
        w.src_peer_as = g->src_peer_as;
        w.dst_as_path = {segs.data(), static_cast<uint32_t>(segs.size())};
        w.communities = {g->communities.data(), static_cast<uint32_t>(g->communities.size())};
        w.local_pref = g->local_pref;
        out.push_back(w);
      } else if (std::holds_alternative<UnknownRecord>(r)) {
        ADD_FAILURE() << "record decoded as unknown";
      } else {
        // The remaining alternatives are the encoder's own structs, at the same index.
        std::visit(
            [&out](const auto& rec) {
              using T = std::decay_t<decltype(rec)>;
              if constexpr (std::is_constructible_v<FlowRecord, T>) out.push_back(rec);
            },
            r);
      }
    }
    return out;
  }

  const std::vector<CounterRecord>& Counter(const std::vector<DecodedCounterRecord>& in) {
    std::vector<CounterRecord>& out = counter_.emplace_back();
    for (const DecodedCounterRecord& r : in) {
      if (const auto* p = std::get_if<DecodedPortName>(&r)) {
        out.push_back(PortName{ByteView(p->name)});
      } else if (std::holds_alternative<UnknownRecord>(r)) {
        ADD_FAILURE() << "record decoded as unknown";
      } else {
        std::visit(
            [&out](const auto& rec) {
              using T = std::decay_t<decltype(rec)>;
              if constexpr (std::is_constructible_v<CounterRecord, T>) out.push_back(rec);
            },
            r);
      }
    }
    return out;
  }

  // deques: references handed out stay valid as more are added.
  std::deque<std::vector<FlowRecord>> flow_;
  std::deque<std::vector<CounterRecord>> counter_;
  std::deque<std::vector<AsPathSegment>> segments_;
};

// Encodes `samples` (each added in order) into one datagram, decodes it, re-encodes what was
// decoded and expects identical bytes.
template <typename... Samples>
DecodedDatagram RoundTrip(const IpAddress& agent, const Samples&... samples) {
  std::vector<uint8_t> buf(kMaxDatagramBytes);
  DatagramBuilder b(buf.data(), buf.size(), agent, 3);
  auto add = [&b](const auto& s) { EXPECT_TRUE(b.Add(s)); };
  (void)add;  // unused when there are no samples
  (add(samples), ...);
  ByteView v = b.Finish(99, 123456);
  std::vector<uint8_t> original(v.begin(), v.end());
  auto r = DecodeDatagram(ByteView(original.data(), original.size()));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return DecodedDatagram();
  EXPECT_EQ(r->header.agent_address, agent);
  EXPECT_EQ(r->header.sub_agent_id, 3u);
  EXPECT_EQ(r->header.sequence, 99u);
  EXPECT_EQ(r->header.uptime_ms, 123456u);
  EXPECT_EQ(r->samples.size(), sizeof...(samples));
  Reencoder re;
  EXPECT_EQ(re.Encode(*r), original);
  return std::move(r).value();
}

IpAddress V4(const char* s) { return IpAddress::Parse(s).value(); }

TEST(SflowDecoderRoundTripTest, EveryFlowRecordType) {
  const uint8_t hdr[] = {
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 1, 2, 3, 4, 5,
      0x08, 0x06, 0,    1,    8,    0,    6, 4, 0, 1, 9};  // 23 bytes: exercises padding
  SampledHeader h{kHeaderEthernet, 64, 4, ByteView(hdr, sizeof(hdr))};
  SampledEthernet eth;
  eth.length = 1514;
  for (int i = 0; i < 6; ++i) {
    eth.src_mac[i] = static_cast<uint8_t>(i + 1);
    eth.dst_mac[i] = static_cast<uint8_t>(0xa0 + i);
  }
  eth.type = 0x86dd;
  SampledIpv4 v4{1500, 6, {10, 1, 2, 3}, {10, 4, 5, 6}, 22, 60000, 0x18, 0x10};
  SampledIpv6 v6;
  v6.length = 1280;
  v6.protocol = 17;
  v6.src_ip[0] = 0x20;
  v6.src_ip[15] = 1;
  v6.dst_ip[0] = 0x20;
  v6.dst_ip[15] = 2;
  v6.src_port = 4789;
  v6.dst_port = 4789;
  v6.priority = 7;
  ExtendedSwitch sw{10, 1, 20, 2};
  const uint8_t nh6[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9};
  ExtendedRouter router{IpAddress::V6(nh6), 64, 56};
  const uint32_t seq[] = {64512, 64513, 4200000001u};
  const uint32_t set[] = {65535};
  const AsPathSegment path[] = {{2, {seq, 3}}, {1, {set, 1}}};
  const uint32_t communities[] = {0xFFFFFF01, 0x00640064};
  ExtendedGateway gw;
  gw.next_hop = V4("203.0.113.1");
  gw.as = 64500;
  gw.src_as = 64501;
  gw.src_peer_as = 64502;
  gw.dst_as_path = {path, 2};
  gw.communities = {communities, 2};
  gw.local_pref = 200;
  ExtendedTimestamp ts{1767225600000000001ull};
  const FlowRecord records[] = {h, eth, v4, v6, sw, router, gw, ts};

  FlowSample fs;
  fs.sequence = 1000;
  fs.source = {0, 7};
  fs.sampling_rate = 4096;
  fs.sample_pool = 4096000;
  fs.drops = 3;
  fs.input = {0, 7};
  fs.output = {0, 8};
  fs.records = records;
  fs.record_count = 8;
  DecodedDatagram d = RoundTrip(V4("192.0.2.10"), fs);
  ASSERT_EQ(d.samples.size(), 1u);
  const auto& s = std::get<DecodedFlowSample>(d.samples[0]);
  ASSERT_EQ(s.records.size(), 8u);
  for (size_t i = 0; i < 8; ++i) EXPECT_EQ(s.records[i].index(), records[i].index()) << i;
  const auto& dh = std::get<DecodedSampledHeader>(s.records[0]);
  EXPECT_EQ(dh.header, std::vector<uint8_t>(hdr, hdr + sizeof(hdr)));
  const auto& dg = std::get<DecodedExtendedGateway>(s.records[6]);
  EXPECT_EQ(dg.dst_as_path[0].as_numbers, (std::vector<uint32_t>{64512, 64513, 4200000001u}));
  EXPECT_EQ(std::get<ExtendedTimestamp>(s.records[7]).nanoseconds, ts.nanoseconds);
}

TEST(SflowDecoderRoundTripTest, EveryCounterRecordType) {
  GenericInterfaceCounters g;
  g.if_index = 12;
  g.if_speed = 100000000000ull;
  g.if_direction = 1;
  g.if_status = 3;
  g.in_octets = 0xFFFFFFFF00ull;
  g.in_ucast_pkts = 1;
  g.out_octets = 77;
  g.out_errors = 9;
  g.promiscuous_mode = 1;
  EthernetInterfaceCounters e;
  e.fcs_errors = 5;
  VlanCounters v{100, 1ull << 33, 1, 2, 3, 4};
  ProcessorCounters p{1234, 2345, 3456, 64ull << 30, 12ull << 30};
  PortName n{ByteView("Ethernet12/1")};
  const CounterRecord records[] = {g, e, v, p, n};
  CounterSample cs;
  cs.sequence = 55;
  cs.source = {0, 12};
  cs.records = records;
  cs.record_count = 5;
  DecodedDatagram d = RoundTrip(V4("192.0.2.10"), cs);
  ASSERT_EQ(d.samples.size(), 1u);
  const auto& s = std::get<DecodedCounterSample>(d.samples[0]);
  ASSERT_EQ(s.records.size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(s.records[i].index(), records[i].index()) << i;
  EXPECT_EQ(std::get<DecodedPortName>(s.records[4]).name, "Ethernet12/1");
  EXPECT_EQ(std::get<GenericInterfaceCounters>(s.records[0]).in_octets, 0xFFFFFFFF00ull);
  EXPECT_EQ(std::get<EthernetInterfaceCounters>(s.records[1]).symbol_errors, kUnknown32);
}

TEST(SflowDecoderRoundTripTest, EverySampleTypeAndForm) {
  ExtendedSwitch sw{1, 0, 2, 0};
  const FlowRecord flow_records[] = {sw};
  FlowSample compact;
  compact.sequence = 1;
  compact.source = {0, 3};
  compact.sampling_rate = 10;
  compact.sample_pool = 10;
  compact.input = {0, 3};
  compact.output = {2, 5};
  compact.records = flow_records;
  compact.record_count = 1;
  FlowSample expanded = compact;
  expanded.expanded = true;
  FlowSample forced = compact;  // index too large for the compact form
  forced.source = {0, 0x01000000};
  forced.input = {0, 0x40000000};

  VlanCounters vlan{7, 1, 2, 3, 4, 5};
  const CounterRecord counter_records[] = {vlan};
  CounterSample cc;
  cc.sequence = 2;
  cc.source = {1, 7};
  cc.records = counter_records;
  cc.record_count = 1;
  CounterSample ce = cc;
  ce.expanded = true;

  const uint8_t pkt[] = {1, 2, 3, 4, 5, 6, 7, 8};
  const FlowRecord discard_records[] = {SampledHeader{kHeaderIpv4, 8, 0, ByteView(pkt, 8)}};
  DiscardSample ds;
  ds.sequence = 3;
  ds.source = {0, 0x02000000};
  ds.drops = 1;
  ds.input = 0x02000000;
  ds.output = 0;
  ds.reason = 257;
  ds.records = discard_records;
  ds.record_count = 1;

  const uint8_t agent6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
  DecodedDatagram d = RoundTrip(IpAddress::V6(agent6), compact, expanded, forced, cc, ce, ds);
  ASSERT_EQ(d.samples.size(), 6u);
  EXPECT_FALSE(std::get<DecodedFlowSample>(d.samples[0]).expanded);
  EXPECT_TRUE(std::get<DecodedFlowSample>(d.samples[1]).expanded);
  const auto& f = std::get<DecodedFlowSample>(d.samples[2]);
  EXPECT_TRUE(f.expanded);
  EXPECT_EQ(f.source.index, 0x01000000u);
  EXPECT_EQ(f.input.value, 0x40000000u);
  EXPECT_EQ(std::get<DecodedFlowSample>(d.samples[0]).output.format, 2u);
  EXPECT_FALSE(std::get<DecodedCounterSample>(d.samples[3]).expanded);
  EXPECT_EQ(std::get<DecodedCounterSample>(d.samples[3]).source.type, 1u);
  EXPECT_TRUE(std::get<DecodedCounterSample>(d.samples[4]).expanded);
  const auto& dd = std::get<DecodedDiscardSample>(d.samples[5]);
  EXPECT_EQ(dd.reason, 257u);
  EXPECT_EQ(dd.input, 0x02000000u);
  EXPECT_EQ(std::get<DecodedSampledHeader>(dd.records[0]).protocol, kHeaderIpv4);
}

TEST(SflowDecoderRoundTripTest, UnknownAgentAddressAndEmptyDatagram) {
  DecodedDatagram d = RoundTrip(IpAddress());
  EXPECT_EQ(d.header.agent_address.family(), IpAddress::Family::kNone);
  EXPECT_TRUE(d.samples.empty());
}

TEST(SflowDecoderRoundTripTest, FullDatagramOfSamples) {
  // Fill a 1400-byte datagram the way a Receiver does and decode it.
  std::vector<uint8_t> buf(kDefaultMaxDatagramBytes);
  DatagramBuilder b(buf.data(), buf.size(), V4("192.0.2.1"), 0);
  uint8_t pkt[128] = {};
  const FlowRecord records[] = {SampledHeader{kHeaderEthernet, 1500, 4, ByteView(pkt, 128)}};
  uint32_t added = 0;
  for (;; ++added) {
    FlowSample fs;
    fs.sequence = added + 1;
    fs.source = {0, 1};
    fs.sampling_rate = 100;
    fs.records = records;
    fs.record_count = 1;
    if (!b.Add(fs)) break;
  }
  ByteView v = b.Finish(1, 1);
  auto r = DecodeDatagram(v);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->samples.size(), added);
  EXPECT_EQ(std::get<DecodedFlowSample>(r->samples.back()).sequence, added);
}

}  // namespace
}  // namespace xflowd::exporter::sflow
