// Byte-exact tests of the sFlow v5 encoder. Expected bytes are hand-written from the spec
// (sflow.org/sflow_version_5.txt, sflow_drops.txt), field by field, never produced by the
// encoder: inline below for single records, in tests/testdata/sflow/*.hex for whole datagrams.
// Failures print both sides as hex dumps so the differing word is easy to find.
#include <algorithm>
#include <string>

#include "exporter/sflow/sflow_encoder.h"
#include "gtest/gtest.h"
#include "hal/base/byte_view.h"
#include "tests/support/golden.h"

namespace xflowd::exporter::sflow {
namespace {

using hal::base::ByteView;
using hal::base::ByteWriter;
using hal::base::HexDump;
using hal::base::IpAddress;
using hal::base::ParseHex;
using Bytes = std::basic_string<uint8_t>;

Bytes Hex(std::string_view text) {
  Bytes out;
  EXPECT_TRUE(ParseHex(text, &out)) << "bad hex in test: " << text;
  return out;
}

std::string Dump(const Bytes& b) { return HexDump(ByteView(b.data(), b.size())); }

Bytes ReadGolden(const std::string& name) {
  return xflowd::testing::ReadGoldenHex("sflow/" + name);
}

IpAddress Ip(const char* text) { return IpAddress::Parse(text).value(); }

uint32_t U32At(const Bytes& b, size_t off) {
  uint32_t x = 0;
  EXPECT_TRUE(ByteView(b.data(), b.size()).U32At(off, &x));
  return x;
}

// Encodes `record` as the only record of a fixed compact flow sample and returns the record's
// bytes (tag, length, body), after checking the 40-byte sample prefix that comes before them.
Bytes EncodeFlowRecord(const FlowRecord& record) {
  FlowSample s;
  s.sequence = 1;
  s.source = {0, 7};
  s.sampling_rate = 1000;
  s.sample_pool = 5000;
  s.input = {0, 7};
  s.output = {0, 8};
  s.records = &record;
  s.record_count = 1;
  uint8_t buf[1024];
  ByteWriter w(buf, sizeof(buf));
  EXPECT_TRUE(Encode(s, w));
  const Bytes out(buf, w.size());
  if (out.size() < 40) {
    ADD_FAILURE() << "sample shorter than its header";
    return Bytes();
  }
  EXPECT_EQ(U32At(out, 0), 1u) << "tag 0:1";
  EXPECT_EQ(U32At(out, 4), out.size() - 8) << "sample length";
  EXPECT_EQ(Dump(out.substr(8, 32)), Dump(Hex(R"(
      00 00 00 01  # sequence 1
      00 00 00 07  # source_id 0:7
      00 00 03 e8  # sampling_rate 1000
      00 00 13 88  # sample_pool 5000
      00 00 00 00  # drops 0
      00 00 00 07  # input 7
      00 00 00 08  # output 8
      00 00 00 01  # 1 record
  )")));
  return out.substr(40);
}

// Same for counter records, in a compact counter sample (20-byte prefix).
Bytes EncodeCounterRecord(const CounterRecord& record) {
  CounterSample s;
  s.sequence = 2;
  s.source = {0, 7};
  s.records = &record;
  s.record_count = 1;
  uint8_t buf[1024];
  ByteWriter w(buf, sizeof(buf));
  EXPECT_TRUE(Encode(s, w));
  const Bytes out(buf, w.size());
  if (out.size() < 20) {
    ADD_FAILURE() << "sample shorter than its header";
    return Bytes();
  }
  EXPECT_EQ(U32At(out, 0), 2u) << "tag 0:2";
  EXPECT_EQ(U32At(out, 4), out.size() - 8) << "sample length";
  EXPECT_EQ(Dump(out.substr(8, 12)), Dump(Hex(R"(
      00 00 00 02  # sequence 2
      00 00 00 07  # source_id 0:7
      00 00 00 01  # 1 record
  )")));
  return out.substr(20);
}

template <typename Sample>
Bytes EncodeSample(const Sample& s) {
  uint8_t buf[2048];
  ByteWriter w(buf, sizeof(buf));
  EXPECT_TRUE(Encode(s, w));
  return Bytes(buf, w.size());
}

Bytes ToBytes(ByteView v) { return Bytes(v.data(), v.size()); }

const uint8_t kHeaderBytes[] = {0xa1, 0xa2, 0xa3, 0xa4, 0xa5};

SampledHeader HeaderOfLength(size_t n) {
  SampledHeader h;
  h.protocol = kHeaderEthernet;
  h.frame_length = 64;
  h.stripped = 4;
  h.header = ByteView(kHeaderBytes, n);
  return h;
}

// ---------------------------------------------------------------------------------------------
// Flow records
// ---------------------------------------------------------------------------------------------

TEST(SflowEncoderGoldenTest, SampledHeaderLen0) {
  EXPECT_EQ(Dump(EncodeFlowRecord(HeaderOfLength(0))), Dump(Hex(R"(
      00 00 00 01  # data_format 0:1 sampled_header
      00 00 00 10  # length 16
      00 00 00 01  # header_protocol 1 = ethernet
      00 00 00 40  # frame_length 64
      00 00 00 04  # stripped 4
      00 00 00 00  # header length 0, no bytes and no padding
  )")));
}

TEST(SflowEncoderGoldenTest, SampledHeaderLen1) {
  EXPECT_EQ(Dump(EncodeFlowRecord(HeaderOfLength(1))), Dump(Hex(R"(
      00 00 00 01  # data_format 0:1
      00 00 00 14  # length 20
      00 00 00 01  # header_protocol
      00 00 00 40  # frame_length
      00 00 00 04  # stripped
      00 00 00 01  # header length 1
      a1 00 00 00  # 1 byte + 3 padding
  )")));
}

TEST(SflowEncoderGoldenTest, SampledHeaderLen2) {
  EXPECT_EQ(Dump(EncodeFlowRecord(HeaderOfLength(2))), Dump(Hex(R"(
      00 00 00 01  # data_format 0:1
      00 00 00 14  # length 20
      00 00 00 01  # header_protocol
      00 00 00 40  # frame_length
      00 00 00 04  # stripped
      00 00 00 02  # header length 2
      a1 a2 00 00  # 2 bytes + 2 padding
  )")));
}

TEST(SflowEncoderGoldenTest, SampledHeaderLen3) {
  EXPECT_EQ(Dump(EncodeFlowRecord(HeaderOfLength(3))), Dump(Hex(R"(
      00 00 00 01  # data_format 0:1
      00 00 00 14  # length 20
      00 00 00 01  # header_protocol
      00 00 00 40  # frame_length
      00 00 00 04  # stripped
      00 00 00 03  # header length 3
      a1 a2 a3 00  # 3 bytes + 1 padding
  )")));
}

TEST(SflowEncoderGoldenTest, SampledHeaderLen4) {
  EXPECT_EQ(Dump(EncodeFlowRecord(HeaderOfLength(4))), Dump(Hex(R"(
      00 00 00 01  # data_format 0:1
      00 00 00 14  # length 20
      00 00 00 01  # header_protocol
      00 00 00 40  # frame_length
      00 00 00 04  # stripped
      00 00 00 04  # header length 4
      a1 a2 a3 a4  # 4 bytes, no padding
  )")));
}

TEST(SflowEncoderGoldenTest, SampledHeaderLen5) {
  EXPECT_EQ(Dump(EncodeFlowRecord(HeaderOfLength(5))), Dump(Hex(R"(
      00 00 00 01  # data_format 0:1
      00 00 00 18  # length 24
      00 00 00 01  # header_protocol
      00 00 00 40  # frame_length
      00 00 00 04  # stripped
      00 00 00 05  # header length 5
      a1 a2 a3 a4  # 5 bytes
      a5 00 00 00  #   + 3 padding
  )")));
}

TEST(SflowEncoderGoldenTest, SampledEthernet) {
  SampledEthernet e;
  e.length = 1518;
  const uint8_t src[6] = {0x02, 0, 0, 0, 0, 0x01};
  const uint8_t dst[6] = {0x02, 0, 0, 0, 0, 0x02};
  std::copy(src, src + 6, e.src_mac);
  std::copy(dst, dst + 6, e.dst_mac);
  e.type = 0x86dd;
  EXPECT_EQ(Dump(EncodeFlowRecord(e)), Dump(Hex(R"(
      00 00 00 02              # data_format 0:2 sampled_ethernet
      00 00 00 18              # length 24
      00 00 05 ee              # length 1518
      02 00 00 00 00 01 00 00  # src_mac, opaque[6] padded to 8
      02 00 00 00 00 02 00 00  # dst_mac, padded to 8
      00 00 86 dd              # type IPv6
  )")));
}

TEST(SflowEncoderGoldenTest, SampledIpv4) {
  SampledIpv4 r;
  r.length = 1500;
  r.protocol = 6;
  const uint8_t src[4] = {10, 0, 0, 1};
  const uint8_t dst[4] = {10, 0, 0, 2};
  std::copy(src, src + 4, r.src_ip);
  std::copy(dst, dst + 4, r.dst_ip);
  r.src_port = 80;
  r.dst_port = 40000;
  r.tcp_flags = 0x12;
  r.tos = 0xb8;
  EXPECT_EQ(Dump(EncodeFlowRecord(r)), Dump(Hex(R"(
      00 00 00 03  # data_format 0:3 sampled_ipv4
      00 00 00 20  # length 32
      00 00 05 dc  # length 1500
      00 00 00 06  # protocol TCP
      0a 00 00 01  # src 10.0.0.1
      0a 00 00 02  # dst 10.0.0.2
      00 00 00 50  # src_port 80
      00 00 9c 40  # dst_port 40000
      00 00 00 12  # tcp_flags SYN|ACK
      00 00 00 b8  # tos (DSCP EF)
  )")));
}

TEST(SflowEncoderGoldenTest, SampledIpv6) {
  SampledIpv6 r;
  r.length = 60;
  r.protocol = 58;
  const IpAddress src = Ip("2001:db8::1");
  const IpAddress dst = Ip("ff02::1");
  std::copy(src.bytes(), src.bytes() + 16, r.src_ip);
  std::copy(dst.bytes(), dst.bytes() + 16, r.dst_ip);
  r.priority = 5;
  EXPECT_EQ(Dump(EncodeFlowRecord(r)), Dump(Hex(R"(
      00 00 00 04              # data_format 0:4 sampled_ipv6
      00 00 00 38              # length 56
      00 00 00 3c              # length 60
      00 00 00 3a              # protocol ICMPv6
      20 01 0d b8 00 00 00 00  # src 2001:db8::1
      00 00 00 00 00 00 00 01
      ff 02 00 00 00 00 00 00  # dst ff02::1
      00 00 00 00 00 00 00 01
      00 00 00 00              # src_port
      00 00 00 00              # dst_port
      00 00 00 00              # tcp_flags
      00 00 00 05              # priority 5
  )")));
}

TEST(SflowEncoderGoldenTest, ExtendedSwitch) {
  ExtendedSwitch r;
  r.src_vlan = 4095;
  r.src_priority = 7;
  r.dst_vlan = 1;
  r.dst_priority = 0;
  EXPECT_EQ(Dump(EncodeFlowRecord(r)), Dump(Hex(R"(
      00 00 03 e9  # data_format 0:1001 extended_switch
      00 00 00 10  # length 16
      00 00 0f ff  # src_vlan 4095
      00 00 00 07  # src_priority 7
      00 00 00 01  # dst_vlan 1
      00 00 00 00  # dst_priority 0
  )")));
}

TEST(SflowEncoderGoldenTest, ExtendedRouterIpv4NextHop) {
  ExtendedRouter r;
  r.next_hop = Ip("10.0.0.254");
  r.src_mask_len = 24;
  r.dst_mask_len = 0;
  EXPECT_EQ(Dump(EncodeFlowRecord(r)), Dump(Hex(R"(
      00 00 03 ea  # data_format 0:1002 extended_router
      00 00 00 10  # length 16
      00 00 00 01  # address type IPv4
      0a 00 00 fe  # next hop 10.0.0.254
      00 00 00 18  # src_mask_len 24
      00 00 00 00  # dst_mask_len 0
  )")));
}

TEST(SflowEncoderGoldenTest, ExtendedRouterIpv6NextHop) {
  ExtendedRouter r;
  r.next_hop = Ip("2001:db8::fe");
  r.src_mask_len = 64;
  r.dst_mask_len = 128;
  EXPECT_EQ(Dump(EncodeFlowRecord(r)), Dump(Hex(R"(
      00 00 03 ea              # data_format 0:1002 extended_router
      00 00 00 1c              # length 28
      00 00 00 02              # address type IPv6
      20 01 0d b8 00 00 00 00  # next hop 2001:db8::fe
      00 00 00 00 00 00 00 fe
      00 00 00 40              # src_mask_len 64
      00 00 00 80              # dst_mask_len 128
  )")));
}

TEST(SflowEncoderGoldenTest, ExtendedRouterUnknownNextHop) {
  ExtendedRouter r;  // next_hop left unset: the XDR union's UNKNOWN arm carries no bytes
  r.src_mask_len = 8;
  r.dst_mask_len = 16;
  EXPECT_EQ(Dump(EncodeFlowRecord(r)), Dump(Hex(R"(
      00 00 03 ea  # data_format 0:1002 extended_router
      00 00 00 0c  # length 12
      00 00 00 00  # address type 0 = UNKNOWN, no address bytes
      00 00 00 08  # src_mask_len 8
      00 00 00 10  # dst_mask_len 16
  )")));
}

TEST(SflowEncoderGoldenTest, ExtendedGateway) {
  const uint32_t seq_path[] = {65010, 65020};
  const uint32_t set_path[] = {4200000000u};
  const AsPathSegment path[] = {{2, {seq_path, 2}}, {1, {set_path, 1}}};
  const uint32_t communities[] = {0xfde80064, 0xfde800c8};
  ExtendedGateway r;
  r.next_hop = Ip("2001:db8::1");
  r.as = 65000;
  r.src_as = 65001;
  r.src_peer_as = 65002;
  r.dst_as_path = {path, 2};
  r.communities = {communities, 2};
  r.local_pref = 200;
  EXPECT_EQ(Dump(EncodeFlowRecord(r)), Dump(Hex(R"(
      00 00 03 eb              # data_format 0:1003 extended_gateway
      00 00 00 50              # length 80
      00 00 00 02              # next hop address type IPv6
      20 01 0d b8 00 00 00 00  # next hop 2001:db8::1
      00 00 00 00 00 00 00 01
      00 00 fd e8              # as 65000
      00 00 fd e9              # src_as 65001
      00 00 fd ea              # src_peer_as 65002
      00 00 00 02              # dst_as_path: 2 segments
      00 00 00 02              #   AS_SEQUENCE
      00 00 00 02              #   2 ASes
      00 00 fd f2              #   65010
      00 00 fd fc              #   65020
      00 00 00 01              #   AS_SET
      00 00 00 01              #   1 AS
      fa 56 ea 00              #   4200000000 (4-byte AS)
      00 00 00 02              # communities: 2
      fd e8 00 64              #   65000:100
      fd e8 00 c8              #   65000:200
      00 00 00 c8              # localpref 200
  )")));
}

TEST(SflowEncoderGoldenTest, ExtendedGatewayEmptyPathAndCommunities) {
  ExtendedGateway r;
  r.next_hop = Ip("10.0.0.254");
  r.as = 64512;
  r.local_pref = 100;
  EXPECT_EQ(Dump(EncodeFlowRecord(r)), Dump(Hex(R"(
      00 00 03 eb  # data_format 0:1003 extended_gateway
      00 00 00 20  # length 32
      00 00 00 01  # next hop address type IPv4
      0a 00 00 fe  # next hop 10.0.0.254
      00 00 fc 00  # as 64512
      00 00 00 00  # src_as 0
      00 00 00 00  # src_peer_as 0
      00 00 00 00  # dst_as_path: 0 segments
      00 00 00 00  # communities: 0
      00 00 00 64  # localpref 100
  )")));
}

TEST(SflowEncoderGoldenTest, ExtendedGatewayEmptySegment) {
  const AsPathSegment path[] = {{1, {nullptr, 0}}};
  ExtendedGateway r;
  r.next_hop = Ip("10.0.0.254");
  r.dst_as_path = {path, 1};
  EXPECT_EQ(Dump(EncodeFlowRecord(r)), Dump(Hex(R"(
      00 00 03 eb  # data_format 0:1003 extended_gateway
      00 00 00 28  # length 40
      00 00 00 01  # next hop address type IPv4
      0a 00 00 fe  # next hop
      00 00 00 00  # as
      00 00 00 00  # src_as
      00 00 00 00  # src_peer_as
      00 00 00 01  # dst_as_path: 1 segment
      00 00 00 01  #   AS_SET
      00 00 00 00  #   0 ASes
      00 00 00 00  # communities: 0
      00 00 00 00  # localpref 0
  )")));
}

TEST(SflowEncoderGoldenTest, ExtendedTimestamp) {
  ExtendedTimestamp r;
  r.nanoseconds = 0x0102030405060708ull;
  EXPECT_EQ(Dump(EncodeFlowRecord(r)), Dump(Hex(R"(
      00 00 04 13              # data_format 0:1043 extended_timestamp
      00 00 00 08              # length 8
      01 02 03 04 05 06 07 08  # nanoseconds, big-endian u64
  )")));
}

// ---------------------------------------------------------------------------------------------
// Counter records
// ---------------------------------------------------------------------------------------------

TEST(SflowEncoderGoldenTest, GenericInterfaceCounters) {
  GenericInterfaceCounters c;
  c.if_index = 7;
  c.if_type = 6;
  c.if_speed = 25000000000ull;
  c.if_direction = 2;
  c.if_status = 1;
  c.in_octets = 0x1122334455667788ull;
  c.in_ucast_pkts = 1;
  c.in_multicast_pkts = 2;
  c.in_broadcast_pkts = 3;
  c.in_discards = 4;
  c.in_errors = 5;
  c.in_unknown_protos = 6;
  c.out_octets = 0x8877665544332211ull;
  c.out_ucast_pkts = 7;
  c.out_multicast_pkts = 8;
  c.out_broadcast_pkts = 9;
  c.out_discards = 10;
  c.out_errors = 11;
  c.promiscuous_mode = 1;
  EXPECT_EQ(Dump(EncodeCounterRecord(c)), Dump(Hex(R"(
      00 00 00 01              # data_format 0:1 if_counters
      00 00 00 58              # length 88
      00 00 00 07              # ifIndex 7
      00 00 00 06              # ifType 6
      00 00 00 05 d2 1d ba 00  # ifSpeed 25000000000
      00 00 00 02              # ifDirection half-duplex
      00 00 00 01              # ifStatus admin up, oper down
      11 22 33 44 55 66 77 88  # ifInOctets
      00 00 00 01              # ifInUcastPkts
      00 00 00 02              # ifInMulticastPkts
      00 00 00 03              # ifInBroadcastPkts
      00 00 00 04              # ifInDiscards
      00 00 00 05              # ifInErrors
      00 00 00 06              # ifInUnknownProtos
      88 77 66 55 44 33 22 11  # ifOutOctets
      00 00 00 07              # ifOutUcastPkts
      00 00 00 08              # ifOutMulticastPkts
      00 00 00 09              # ifOutBroadcastPkts
      00 00 00 0a              # ifOutDiscards
      00 00 00 0b              # ifOutErrors
      00 00 00 01              # ifPromiscuousMode
  )")));
}

TEST(SflowEncoderGoldenTest, EthernetInterfaceCountersDefaultToUnknown) {
  EXPECT_EQ(Dump(EncodeCounterRecord(EthernetInterfaceCounters{})), Dump(Hex(R"(
      00 00 00 02  # data_format 0:2 ethernet_counters
      00 00 00 34  # length 52
      ff ff ff ff  # dot3StatsAlignmentErrors: unknown
      ff ff ff ff  # dot3StatsFCSErrors
      ff ff ff ff  # dot3StatsSingleCollisionFrames
      ff ff ff ff  # dot3StatsMultipleCollisionFrames
      ff ff ff ff  # dot3StatsSQETestErrors
      ff ff ff ff  # dot3StatsDeferredTransmissions
      ff ff ff ff  # dot3StatsLateCollisions
      ff ff ff ff  # dot3StatsExcessiveCollisions
      ff ff ff ff  # dot3StatsInternalMacTransmitErrors
      ff ff ff ff  # dot3StatsCarrierSenseErrors
      ff ff ff ff  # dot3StatsFrameTooLongs
      ff ff ff ff  # dot3StatsInternalMacReceiveErrors
      ff ff ff ff  # dot3StatsSymbolErrors
  )")));
}

TEST(SflowEncoderGoldenTest, EthernetInterfaceCountersFieldOrder) {
  EthernetInterfaceCounters c;
  c.alignment_errors = 1;
  c.fcs_errors = 2;
  c.single_collision_frames = 3;
  c.multiple_collision_frames = 4;
  c.sqe_test_errors = 5;
  c.deferred_transmissions = 6;
  c.late_collisions = 7;
  c.excessive_collisions = 8;
  c.internal_mac_transmit_errors = 9;
  c.carrier_sense_errors = 10;
  c.frame_too_longs = 11;
  c.internal_mac_receive_errors = 12;
  c.symbol_errors = 13;
  EXPECT_EQ(Dump(EncodeCounterRecord(c)), Dump(Hex(R"(
      00 00 00 02  # data_format 0:2 ethernet_counters
      00 00 00 34  # length 52
      00 00 00 01  # dot3StatsAlignmentErrors
      00 00 00 02  # dot3StatsFCSErrors
      00 00 00 03  # dot3StatsSingleCollisionFrames
      00 00 00 04  # dot3StatsMultipleCollisionFrames
      00 00 00 05  # dot3StatsSQETestErrors
      00 00 00 06  # dot3StatsDeferredTransmissions
      00 00 00 07  # dot3StatsLateCollisions
      00 00 00 08  # dot3StatsExcessiveCollisions
      00 00 00 09  # dot3StatsInternalMacTransmitErrors
      00 00 00 0a  # dot3StatsCarrierSenseErrors
      00 00 00 0b  # dot3StatsFrameTooLongs
      00 00 00 0c  # dot3StatsInternalMacReceiveErrors
      00 00 00 0d  # dot3StatsSymbolErrors
  )")));
}

TEST(SflowEncoderGoldenTest, VlanCounters) {
  VlanCounters c;
  c.vlan_id = 4094;
  c.octets = 0x100000000ull;
  c.ucast_pkts = 1;
  c.multicast_pkts = 2;
  c.broadcast_pkts = 3;
  c.discards = 4;
  EXPECT_EQ(Dump(EncodeCounterRecord(c)), Dump(Hex(R"(
      00 00 00 05              # data_format 0:5 vlan_counters
      00 00 00 1c              # length 28
      00 00 0f fe              # vlan_id 4094
      00 00 00 01 00 00 00 00  # octets 2^32
      00 00 00 01              # ucastPkts
      00 00 00 02              # multicastPkts
      00 00 00 03              # broadcastPkts
      00 00 00 04              # discards
  )")));
}

TEST(SflowEncoderGoldenTest, ProcessorCounters) {
  ProcessorCounters c;
  c.cpu_5s = 10000;
  c.cpu_1m = 5000;
  c.cpu_5m = 0;
  c.total_memory = 8ull << 30;
  c.free_memory = 2ull << 30;
  EXPECT_EQ(Dump(EncodeCounterRecord(c)), Dump(Hex(R"(
      00 00 03 e9              # data_format 0:1001 processor
      00 00 00 1c              # length 28
      00 00 27 10              # 5s_cpu 100.00%
      00 00 13 88              # 1m_cpu 50.00%
      00 00 00 00              # 5m_cpu 0
      00 00 00 02 00 00 00 00  # total_memory 8 GiB
      00 00 00 00 80 00 00 00  # free_memory 2 GiB
  )")));
}

PortName NameOf(const char* s) {
  PortName p;
  p.name = ByteView(std::string_view(s));
  return p;
}

TEST(SflowEncoderGoldenTest, PortNameLen0) {
  EXPECT_EQ(Dump(EncodeCounterRecord(NameOf(""))), Dump(Hex(R"(
      00 00 03 ed  # data_format 0:1005 port_name
      00 00 00 04  # length 4
      00 00 00 00  # string length 0, no bytes
  )")));
}

TEST(SflowEncoderGoldenTest, PortNameLen1) {
  EXPECT_EQ(Dump(EncodeCounterRecord(NameOf("e"))), Dump(Hex(R"(
      00 00 03 ed  # data_format 0:1005 port_name
      00 00 00 08  # length 8
      00 00 00 01  # string length 1
      65 00 00 00  # "e" + 3 padding
  )")));
}

TEST(SflowEncoderGoldenTest, PortNameLen2) {
  EXPECT_EQ(Dump(EncodeCounterRecord(NameOf("et"))), Dump(Hex(R"(
      00 00 03 ed  # data_format 0:1005 port_name
      00 00 00 08  # length 8
      00 00 00 02  # string length 2
      65 74 00 00  # "et" + 2 padding
  )")));
}

TEST(SflowEncoderGoldenTest, PortNameLen3) {
  EXPECT_EQ(Dump(EncodeCounterRecord(NameOf("eth"))), Dump(Hex(R"(
      00 00 03 ed  # data_format 0:1005 port_name
      00 00 00 08  # length 8
      00 00 00 03  # string length 3
      65 74 68 00  # "eth" + 1 padding
  )")));
}

TEST(SflowEncoderGoldenTest, PortNameLen4) {
  EXPECT_EQ(Dump(EncodeCounterRecord(NameOf("eth0"))), Dump(Hex(R"(
      00 00 03 ed  # data_format 0:1005 port_name
      00 00 00 08  # length 8
      00 00 00 04  # string length 4
      65 74 68 30  # "eth0", no padding
  )")));
}

// ---------------------------------------------------------------------------------------------
// Samples without records (the datagram files below cover samples with records)
// ---------------------------------------------------------------------------------------------

TEST(SflowEncoderGoldenTest, FlowSampleExpandedNoRecords) {
  FlowSample s;
  s.expanded = true;
  s.sequence = 5;
  s.source = {3, 0xffffffff};
  s.sampling_rate = 100;
  s.sample_pool = 200;
  s.drops = 1;
  s.input = {1, 0x12345678};
  s.output = {0, 0};
  EXPECT_EQ(Dump(EncodeSample(s)), Dump(Hex(R"(
      00 00 00 03  # data_format 0:3 flow_sample_expanded
      00 00 00 2c  # length 44
      00 00 00 05  # sequence 5
      00 00 00 03  # source_id_type 3
      ff ff ff ff  # source_id_index
      00 00 00 64  # sampling_rate 100
      00 00 00 c8  # sample_pool 200
      00 00 00 01  # drops 1
      00 00 00 01  # input format 1 (discarded)
      12 34 56 78  # input value
      00 00 00 00  # output format 0
      00 00 00 00  # output value 0
      00 00 00 00  # 0 records
  )")));
}

TEST(SflowEncoderGoldenTest, CounterSampleExpandedNoRecords) {
  CounterSample s;
  s.expanded = true;
  s.sequence = 6;
  s.source = {0, 42};
  EXPECT_EQ(Dump(EncodeSample(s)), Dump(Hex(R"(
      00 00 00 04  # data_format 0:4 counters_sample_expanded
      00 00 00 10  # length 16
      00 00 00 06  # sequence 6
      00 00 00 00  # source_id_type 0
      00 00 00 2a  # source_id_index 42
      00 00 00 00  # 0 records
  )")));
}

TEST(SflowEncoderGoldenTest, CompactCounterSampleWithLargeIndexGoesExpanded) {
  CounterSample s;  // expanded == false, but 2^24 does not fit the compact source_id
  s.sequence = 1;
  s.source = {0, 0x01000000};
  EXPECT_EQ(Dump(EncodeSample(s)), Dump(Hex(R"(
      00 00 00 04  # data_format 0:4 counters_sample_expanded
      00 00 00 10  # length 16
      00 00 00 01  # sequence 1
      00 00 00 00  # source_id_type 0
      01 00 00 00  # source_id_index 16777216
      00 00 00 00  # 0 records
  )")));
}

TEST(SflowEncoderGoldenTest, CompactFlowSampleWithLargeInterfaceGoesExpanded) {
  FlowSample s;  // expanded == false, but 2^30 does not fit the compact interface value
  s.sequence = 1;
  s.source = {0, 1};
  s.sampling_rate = 1;
  s.sample_pool = 1;
  s.input = {0, 0x40000000};
  s.output = {0, 2};
  EXPECT_EQ(Dump(EncodeSample(s)), Dump(Hex(R"(
      00 00 00 03  # data_format 0:3 flow_sample_expanded
      00 00 00 2c  # length 44
      00 00 00 01  # sequence 1
      00 00 00 00  # source_id_type 0
      00 00 00 01  # source_id_index 1
      00 00 00 01  # sampling_rate 1
      00 00 00 01  # sample_pool 1
      00 00 00 00  # drops 0
      00 00 00 00  # input format 0
      40 00 00 00  # input value 2^30
      00 00 00 00  # output format 0
      00 00 00 02  # output value 2
      00 00 00 00  # 0 records
  )")));
}

TEST(SflowEncoderGoldenTest, DiscardSampleNoRecords) {
  DiscardSample s;
  s.sequence = 0x01020304;
  s.source = {0, 0x7fffffff};
  s.drops = 9;
  s.input = 3;
  s.output = 4;
  s.reason = 262;
  EXPECT_EQ(Dump(EncodeSample(s)), Dump(Hex(R"(
      00 00 00 05  # data_format 0:5 discarded_packet
      00 00 00 20  # length 32
      01 02 03 04  # sequence
      00 00 00 00  # source_id type 0 (always the expanded form)
      7f ff ff ff  # source_id index
      00 00 00 09  # drops 9
      00 00 00 03  # inputifindex 3
      00 00 00 04  # outputifindex 4
      00 00 01 06  # reason 262 = pkt_too_big
      00 00 00 00  # 0 records
  )")));
}

// ---------------------------------------------------------------------------------------------
// Whole datagrams (DatagramBuilder), against tests/testdata/sflow/*.hex
// ---------------------------------------------------------------------------------------------

TEST(SflowEncoderGoldenTest, EmptyDatagramIpv4Agent) {
  uint8_t buf[kDefaultMaxDatagramBytes];
  DatagramBuilder b(buf, sizeof(buf), Ip("192.0.2.10"), 0);
  EXPECT_EQ(Dump(ToBytes(b.Finish(1, 2))), Dump(Hex(R"(
      00 00 00 05  # version 5
      00 00 00 01  # agent address type IPv4
      c0 00 02 0a  # agent 192.0.2.10
      00 00 00 00  # sub_agent_id 0
      00 00 00 01  # sequence 1
      00 00 00 02  # uptime 2 ms
      00 00 00 00  # 0 samples
  )")));
}

TEST(SflowEncoderGoldenTest, EmptyDatagramIpv6Agent) {
  uint8_t buf[kDefaultMaxDatagramBytes];
  DatagramBuilder b(buf, sizeof(buf), Ip("2001:db8::a"), 3);
  EXPECT_EQ(Dump(ToBytes(b.Finish(0xdeadbeef, 0x01020304))), Dump(Hex(R"(
      00 00 00 05              # version 5
      00 00 00 02              # agent address type IPv6
      20 01 0d b8 00 00 00 00  # agent 2001:db8::a
      00 00 00 00 00 00 00 0a
      00 00 00 03              # sub_agent_id 3
      de ad be ef              # sequence
      01 02 03 04              # uptime
      00 00 00 00              # 0 samples
  )")));
}

// The 42-byte Ethernet/IPv4/UDP header used by the datagram files.
const uint8_t kUdpPacket[42] = {0x00, 0x00, 0x5e, 0x00, 0x53, 0x01, 0x00, 0x00, 0x5e, 0x00, 0x53,
                                0x02, 0x08, 0x00, 0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00,
                                0x40, 0x11, 0x8e, 0x9a, 0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64,
                                0x01, 0x30, 0x39, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00};

SampledHeader UdpPacketHeader() {
  SampledHeader h;
  h.protocol = kHeaderEthernet;
  h.frame_length = 64;
  h.stripped = 4;
  h.header = ByteView(kUdpPacket, sizeof(kUdpPacket));
  return h;
}

TEST(SflowEncoderGoldenTest, DatagramIpv4FlowSampleCompact) {
  ExtendedSwitch sw;
  sw.src_vlan = 10;
  sw.dst_vlan = 20;
  sw.dst_priority = 3;
  const FlowRecord records[] = {UdpPacketHeader(), sw};
  FlowSample s;
  s.sequence = 42;
  s.source = {0, 3};
  s.sampling_rate = 1024;
  s.sample_pool = 131072;
  s.input = {0, 3};
  s.output = {0, 5};
  s.records = records;
  s.record_count = 2;

  uint8_t buf[kDefaultMaxDatagramBytes];
  DatagramBuilder b(buf, sizeof(buf), Ip("192.0.2.10"), 0);
  ASSERT_TRUE(b.Add(s));
  EXPECT_EQ(Dump(ToBytes(b.Finish(1, 123456))), Dump(ReadGolden("datagram_v4_flow_compact.hex")));
}

TEST(SflowEncoderGoldenTest, DatagramIpv6FlowSampleExpanded) {
  SampledIpv6 ip6;
  ip6.length = 1280;
  ip6.protocol = 6;
  const IpAddress src = Ip("2001:db8::1");
  const IpAddress dst = Ip("2001:db8::2");
  std::copy(src.bytes(), src.bytes() + 16, ip6.src_ip);
  std::copy(dst.bytes(), dst.bytes() + 16, ip6.dst_ip);
  ip6.src_port = 443;
  ip6.dst_port = 50000;
  ip6.tcp_flags = 0x18;
  ExtendedRouter router;
  router.next_hop = Ip("fe80::1");
  router.src_mask_len = 64;
  router.dst_mask_len = 48;
  ExtendedTimestamp ts;
  ts.nanoseconds = 1700000000123456789ull;
  const FlowRecord records[] = {ip6, router, ts};
  FlowSample s;
  s.expanded = true;
  s.sequence = 256;
  s.source = {0, 16777217};
  s.sampling_rate = 512;
  s.sample_pool = 65536;
  s.drops = 2;
  s.input = {0, 16777217};
  s.output = {2, 2};
  s.records = records;
  s.record_count = 3;

  uint8_t buf[kDefaultMaxDatagramBytes];
  DatagramBuilder b(buf, sizeof(buf), Ip("2001:db8::a"), 1);
  ASSERT_TRUE(b.Add(s));
  EXPECT_EQ(Dump(ToBytes(b.Finish(7, 11259375))),
            Dump(ReadGolden("datagram_v6_flow_expanded.hex")));
}

TEST(SflowEncoderGoldenTest, DatagramIpv4FlowSampleAllRecordTypes) {
  SampledEthernet eth;
  eth.length = 64;
  std::copy(kUdpPacket + 6, kUdpPacket + 12, eth.src_mac);
  std::copy(kUdpPacket, kUdpPacket + 6, eth.dst_mac);
  eth.type = 0x0800;
  SampledIpv4 ip4;
  ip4.length = 46;
  ip4.protocol = 17;
  std::copy(kUdpPacket + 26, kUdpPacket + 30, ip4.src_ip);
  std::copy(kUdpPacket + 30, kUdpPacket + 34, ip4.dst_ip);
  ip4.src_port = 12345;
  ip4.dst_port = 53;
  ExtendedRouter router;
  router.next_hop = Ip("192.0.2.254");
  router.src_mask_len = 24;
  router.dst_mask_len = 16;
  const uint32_t as_path[] = {65010, 65020};
  const AsPathSegment segments[] = {{2, {as_path, 2}}};
  const uint32_t communities[] = {0xfde80064};
  ExtendedGateway gw;
  gw.next_hop = Ip("192.0.2.254");
  gw.as = 65000;
  gw.src_as = 65001;
  gw.src_peer_as = 65002;
  gw.dst_as_path = {segments, 1};
  gw.communities = {communities, 1};
  gw.local_pref = 100;
  const FlowRecord records[] = {eth, ip4, router, gw};
  FlowSample s;
  s.sequence = 43;
  s.source = {0, 3};
  s.sampling_rate = 1024;
  s.sample_pool = 132096;
  s.drops = 1;
  s.input = {0, 3};
  s.output = {2, 2};
  s.records = records;
  s.record_count = 4;

  uint8_t buf[kDefaultMaxDatagramBytes];
  DatagramBuilder b(buf, sizeof(buf), Ip("192.0.2.10"), 0);
  ASSERT_TRUE(b.Add(s));
  EXPECT_EQ(Dump(ToBytes(b.Finish(4, 123459))),
            Dump(ReadGolden("datagram_v4_flow_all_records.hex")));
}

TEST(SflowEncoderGoldenTest, DatagramIpv4CounterSampleCompact) {
  GenericInterfaceCounters generic;
  generic.if_index = 3;
  generic.if_type = 6;
  generic.if_speed = 10000000000ull;
  generic.if_direction = 1;
  generic.if_status = 3;
  generic.in_octets = 0x123456789ull;
  generic.in_ucast_pkts = 1000;
  generic.in_multicast_pkts = 10;
  generic.in_broadcast_pkts = 1;
  generic.out_octets = 0x98765432ull;
  generic.out_ucast_pkts = 2000;
  generic.out_multicast_pkts = 20;
  generic.out_broadcast_pkts = 2;
  generic.out_discards = 5;
  EthernetInterfaceCounters ether;
  ether.alignment_errors = 0;
  ether.fcs_errors = 7;
  ether.symbol_errors = 0;
  const CounterRecord records[] = {generic, ether};
  CounterSample s;
  s.sequence = 9;
  s.source = {0, 3};
  s.records = records;
  s.record_count = 2;

  uint8_t buf[kDefaultMaxDatagramBytes];
  DatagramBuilder b(buf, sizeof(buf), Ip("192.0.2.10"), 0);
  ASSERT_TRUE(b.Add(s));
  EXPECT_EQ(Dump(ToBytes(b.Finish(2, 123457))),
            Dump(ReadGolden("datagram_v4_counter_compact.hex")));
}

TEST(SflowEncoderGoldenTest, DatagramIpv6CounterSampleExpanded) {
  VlanCounters vlan;
  vlan.vlan_id = 100;
  vlan.octets = 10000000000ull;
  vlan.ucast_pkts = 5;
  vlan.multicast_pkts = 6;
  vlan.broadcast_pkts = 7;
  vlan.discards = 8;
  ProcessorCounters cpu;
  cpu.cpu_5s = 1234;
  cpu.cpu_1m = 2345;
  cpu.cpu_5m = 3456;
  cpu.total_memory = 16ull << 30;
  cpu.free_memory = 4ull << 30;
  const CounterRecord records[] = {vlan, cpu, NameOf("swp10")};
  CounterSample s;
  s.expanded = true;
  s.sequence = 10;
  s.source = {1, 100};
  s.records = records;
  s.record_count = 3;

  uint8_t buf[kDefaultMaxDatagramBytes];
  DatagramBuilder b(buf, sizeof(buf), Ip("2001:db8::a"), 1);
  ASSERT_TRUE(b.Add(s));
  EXPECT_EQ(Dump(ToBytes(b.Finish(8, 11259376))),
            Dump(ReadGolden("datagram_v6_counter_expanded.hex")));
}

TEST(SflowEncoderGoldenTest, DatagramIpv4DiscardSample) {
  const FlowRecord records[] = {UdpPacketHeader()};
  DiscardSample s;
  s.sequence = 1;
  s.source = {0, 3};
  s.drops = 0;
  s.input = 3;
  s.output = 0;
  s.reason = 258;
  s.records = records;
  s.record_count = 1;

  uint8_t buf[kDefaultMaxDatagramBytes];
  DatagramBuilder b(buf, sizeof(buf), Ip("192.0.2.10"), 0);
  ASSERT_TRUE(b.Add(s));
  EXPECT_EQ(Dump(ToBytes(b.Finish(3, 123458))), Dump(ReadGolden("datagram_v4_discard.hex")));
}

TEST(SflowEncoderGoldenTest, DatagramIpv4ThreeEmptySamples) {
  FlowSample flow;
  flow.sequence = 1;
  flow.source = {2, 5};
  flow.sampling_rate = 1;
  flow.sample_pool = 1;
  flow.input = {0, 0};
  flow.output = {1, 259};
  CounterSample counters;
  counters.sequence = 1;
  counters.source = {1, 100};
  DiscardSample discard;
  discard.sequence = 1;
  discard.source = {0, 3};
  discard.drops = 0xffffffff;

  uint8_t buf[kDefaultMaxDatagramBytes];
  DatagramBuilder b(buf, sizeof(buf), Ip("192.0.2.10"), 2);
  ASSERT_TRUE(b.Add(flow));
  ASSERT_TRUE(b.Add(counters));
  ASSERT_TRUE(b.Add(discard));
  EXPECT_EQ(Dump(ToBytes(b.Finish(0xfffffffe, 0xffffffff))),
            Dump(ReadGolden("datagram_v4_empty_samples.hex")));
}

}  // namespace
}  // namespace xflowd::exporter::sflow
