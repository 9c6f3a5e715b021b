// Byte-exact tests of the host counter records (sflow_host.txt: 0:2000..2006, and the MIB-2
// groups 0:2007..2010). Expected bytes are hand-written from the spec's XDR, field by field;
// each record is also decoded back and compared, and sized by EncodedSize.
#include <cstring>
#include <string>

#include "exporter/sflow/sflow_decoder.h"
#include "exporter/sflow/sflow_encoder.h"
#include "gtest/gtest.h"
#include "hal/base/byte_view.h"

namespace xflowd::exporter::sflow {
namespace {

using hal::base::ByteView;
using hal::base::ByteWriter;
using hal::base::HexDump;
using hal::base::ParseHex;
using Bytes = std::basic_string<uint8_t>;

Bytes Hex(std::string_view text) {
  Bytes out;
  EXPECT_TRUE(ParseHex(text, &out)) << "bad hex in test: " << text;
  return out;
}
std::string Dump(const Bytes& b) { return HexDump(ByteView(b.data(), b.size())); }

// The record's bytes (tag, length, body) as the only record of an expanded counter sample of
// the host (2:1), after checking the sample's own words; also checks EncodedSize.
Bytes EncodeHostRecord(const CounterRecord& record) {
  CounterSample s;
  s.expanded = true;
  s.sequence = 3;
  s.source = {2, 1};
  s.records = &record;
  s.record_count = 1;
  uint8_t buf[2048];
  ByteWriter w(buf, sizeof(buf));
  EXPECT_TRUE(Encode(s, w));
  const Bytes out(buf, w.size());
  EXPECT_EQ(EncodedSize(s), out.size());
  EXPECT_EQ(EncodedSize(record), out.size() - 24);
  EXPECT_EQ(Dump(out.substr(0, 24)), Dump(Hex(R"(
      00 00 00 04                          # counter_sample_expanded
  )") + out.substr(4, 4) + Hex(R"(
      00 00 00 03                          # sequence 3
      00 00 00 02 00 00 00 01              # source_id entPhysicalEntry 1
      00 00 00 01                          # 1 record
  )")));
  return out.substr(24);
}

// Decodes `record` back from a datagram holding the sample.
DecodedCounterRecord RoundTrip(const CounterRecord& record) {
  CounterSample s;
  s.sequence = 3;
  s.source = {2, 1};
  s.records = &record;
  s.record_count = 1;
  uint8_t buf[2048];
  DatagramBuilder b(buf, sizeof buf, hal::base::IpAddress::Parse("192.0.2.1").value(), 0);
  b.Reset();
  EXPECT_TRUE(b.Add(s));
  ByteView dg = b.Finish(1, 1000);
  auto d = DecodeDatagram(dg);
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  if (!d.ok() || d->samples.size() != 1) return UnknownRecord{};
  const auto* cs = std::get_if<DecodedCounterSample>(&d->samples[0]);
  EXPECT_NE(cs, nullptr);
  if (cs == nullptr || cs->records.size() != 1) return UnknownRecord{};
  EXPECT_EQ(cs->source.type, 2u);
  EXPECT_EQ(cs->source.index, 1u);
  return cs->records[0];
}

TEST(SflowHostRecordsGoldenTest, HostDescr) {
  HostDescr d;
  d.hostname = ByteView(std::string_view("vm"));
  for (int i = 0; i < 16; ++i) d.uuid[i] = static_cast<uint8_t>(0xa0 + i);
  d.machine_type = kMachineX86_64;
  d.os_name = kOsLinux;
  d.os_release = ByteView(std::string_view("6.1.0-13"));
  EXPECT_EQ(Dump(EncodeHostRecord(d)), Dump(Hex(R"(
      00 00 07 d0                          # data_format 0:2000 host_descr
      00 00 00 2c                          # length 44
      00 00 00 02 76 6d 00 00              # hostname<64> "vm", padded
      a0 a1 a2 a3 a4 a5 a6 a7              # uuid[16] (fixed: the spec's erratum)
      a8 a9 aa ab ac ad ae af
      00 00 00 03                          # machine_type x86_64
      00 00 00 02                          # os_name linux
      00 00 00 08 36 2e 31 2e 30 2d 31 33  # os_release<32> "6.1.0-13"
  )")));
  auto back = RoundTrip(d);
  const auto* r = std::get_if<DecodedHostDescr>(&back);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->hostname, "vm");
  EXPECT_EQ(r->os_release, "6.1.0-13");
  EXPECT_EQ(r->uuid[15], 0xaf);
  EXPECT_EQ(r->machine_type, 3u);
}

TEST(SflowHostRecordsGoldenTest, HostDescrCutsLongNames) {
  const std::string name(70, 'h');  // string<64>: the encoder cuts, never exceeds
  HostDescr d;
  d.hostname = ByteView(std::string_view(name));
  const Bytes b = EncodeHostRecord(d);
  EXPECT_EQ(Dump(b.substr(8, 4)), Dump(Hex("00 00 00 40")));
}

TEST(SflowHostRecordsGoldenTest, HostAdapters) {
  HostMac macs[2];
  const uint8_t m0[6] = {0x02, 0xfc, 0, 0, 0, 1};
  const uint8_t m1[6] = {0xde, 0xd0, 0x10, 0xb7, 0xb3, 0xaa};
  std::memcpy(macs[0].mac, m0, 6);
  std::memcpy(macs[1].mac, m1, 6);
  HostAdapter a[2];
  a[0].if_index = 4;
  a[0].macs = {&macs[0], 1};
  a[1].if_index = 2;
  a[1].macs = {&macs[1], 1};
  HostAdapters ha;
  ha.adapters = {a, 2};
  EXPECT_EQ(Dump(EncodeHostRecord(ha)), Dump(Hex(R"(
      00 00 07 d1                          # data_format 0:2001 host_adapters
      00 00 00 24                          # length 36
      00 00 00 02                          # 2 adapters
      00 00 00 04                          # ifIndex 4
      00 00 00 01                          # 1 MAC
      02 fc 00 00 00 01 00 00              # opaque[6], padded to 8
      00 00 00 02                          # ifIndex 2
      00 00 00 01                          # 1 MAC
      de d0 10 b7 b3 aa 00 00
  )")));
  auto back = RoundTrip(ha);
  const auto* r = std::get_if<DecodedHostAdapters>(&back);
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->adapters.size(), 2u);
  EXPECT_EQ(r->adapters[1].if_index, 2u);
  ASSERT_EQ(r->adapters[1].macs.size(), 1u);
  EXPECT_EQ(r->adapters[1].macs[0].mac[5], 0xaa);
}

TEST(SflowHostRecordsGoldenTest, HostCpu) {
  HostCpu c;
  c.load_one = 0.25f;
  c.load_five = 1.5f;
  c.load_fifteen = 16.39f;
  c.proc_run = 18;
  c.proc_total = 224;
  c.cpu_num = 2;
  c.cpu_speed = 2096;
  c.uptime = 800;
  c.cpu_user = 1026010;
  c.cpu_nice = 1;
  c.cpu_system = 305570;
  c.cpu_idle = 251960;
  c.cpu_wio = 4770;
  c.cpu_intr = 2;
  c.cpu_sintr = 2600;
  c.interrupts = 609627;
  c.contexts = 1057792;
  EXPECT_EQ(Dump(EncodeHostRecord(c)), Dump(Hex(R"(
      00 00 07 d3                          # data_format 0:2003 host_cpu
      00 00 00 44                          # length 68
      3e 80 00 00                          # load_one 0.25 (IEEE 754, big-endian)
      3f c0 00 00                          # load_five 1.5
      41 83 1e b8                          # load_fifteen 16.39
      00 00 00 12                          # proc_run 18
      00 00 00 e0                          # proc_total 224
      00 00 00 02                          # cpu_num
      00 00 08 30                          # cpu_speed 2096 MHz
      00 00 03 20                          # uptime 800 s
      00 0f a7 da                          # cpu_user 1026010 ms
      00 00 00 01                          # cpu_nice
      00 04 a9 a2                          # cpu_system 305570
      00 03 d8 38                          # cpu_idle 251960
      00 00 12 a2                          # cpu_wio 4770
      00 00 00 02                          # cpu_intr
      00 00 0a 28                          # cpu_sintr 2600
      00 09 4d 5b                          # interrupts 609627
      00 10 24 00                          # contexts 1057792
  )")));
  auto back = RoundTrip(c);
  const auto* r = std::get_if<HostCpu>(&back);
  ASSERT_NE(r, nullptr);
  EXPECT_FLOAT_EQ(r->load_fifteen, 16.39f);
  EXPECT_EQ(r->contexts, 1057792u);
}

TEST(SflowHostRecordsGoldenTest, HostMemory) {
  HostMemory m;
  m.mem_total = 24683748ull * 1024;
  m.mem_free = 1;
  m.mem_shared = 2;
  m.mem_buffers = 3;
  m.mem_cached = 4;
  m.swap_total = 5;
  m.swap_free = 6;
  m.page_in = 7;
  m.page_out = 8;
  m.swap_in = 9;
  m.swap_out = 10;
  EXPECT_EQ(Dump(EncodeHostRecord(m)), Dump(Hex(R"(
      00 00 07 d4                          # data_format 0:2004 host_memory
      00 00 00 48                          # length 72
      00 00 00 05 e2 93 90 00              # mem_total 24683748 KiB
      00 00 00 00 00 00 00 01              # mem_free
      00 00 00 00 00 00 00 02              # mem_shared
      00 00 00 00 00 00 00 03              # mem_buffers
      00 00 00 00 00 00 00 04              # mem_cached
      00 00 00 00 00 00 00 05              # swap_total
      00 00 00 00 00 00 00 06              # swap_free
      00 00 00 07                          # page_in
      00 00 00 08                          # page_out
      00 00 00 09                          # swap_in
      00 00 00 0a                          # swap_out
  )")));
  auto back = RoundTrip(m);
  ASSERT_NE(std::get_if<HostMemory>(&back), nullptr);
  EXPECT_EQ(std::get<HostMemory>(back).mem_total, m.mem_total);
}

TEST(SflowHostRecordsGoldenTest, HostDiskIo) {
  HostDiskIo d;
  d.disk_total = 270553174016ull;
  d.disk_free = 83548262400ull;
  d.part_max_used = 1868;
  d.reads = 39600;
  d.bytes_read = 2998890ull * 512;
  d.read_time = 11717;
  d.writes = 53250;
  d.bytes_written = 6079328ull * 512;
  d.write_time = 38817;
  EXPECT_EQ(Dump(EncodeHostRecord(d)), Dump(Hex(R"(
      00 00 07 d5                          # data_format 0:2005 host_disk_io
      00 00 00 34                          # length 52
      00 00 00 3e fe 39 d0 00              # disk_total 270553174016
      00 00 00 13 73 dd 50 00              # disk_free 83548262400
      00 00 07 4c                          # part_max_used 18.68%
      00 00 9a b0                          # reads 39600
      00 00 00 00 5b 84 d4 00              # bytes_read 2998890 sectors
      00 00 2d c5                          # read_time 11717 ms
      00 00 d0 02                          # writes 53250
      00 00 00 00 b9 86 c0 00              # bytes_written 6079328 sectors
      00 00 97 a1                          # write_time 38817 ms
  )")));
  HostDiskIo unknown;  // part_max_used -1 when no file system was measured
  EXPECT_EQ(Dump(EncodeHostRecord(unknown).substr(24, 4)), Dump(Hex("ff ff ff ff")));
}

TEST(SflowHostRecordsGoldenTest, HostNetIo) {
  HostNetIo n;
  n.bytes_in = 260336640;
  n.pkts_in = 7849;
  n.errs_in = 1;
  n.drops_in = 2;
  n.bytes_out = 1ull << 32;
  n.pkts_out = 2859;
  n.errs_out = 3;
  n.drops_out = 4;
  EXPECT_EQ(Dump(EncodeHostRecord(n)), Dump(Hex(R"(
      00 00 07 d6                          # data_format 0:2006 host_net_io
      00 00 00 28                          # length 40
      00 00 00 00 0f 84 6c 00              # bytes_in 260336640
      00 00 1e a9                          # pkts_in 7849
      00 00 00 01                          # errs_in
      00 00 00 02                          # drops_in
      00 00 00 01 00 00 00 00              # bytes_out 2^32
      00 00 0b 2b                          # pkts_out 2859
      00 00 00 03                          # errs_out
      00 00 00 04                          # drops_out
  )")));
}

// The MIB-2 groups: u32s in MIB order; the golden bytes count 1, 2, 3, ... so a field out of
// place shows.
template <typename Group>
Group Counting() {
  Group g;
  uint32_t next = 1;
  struct Fill {
    uint32_t* next;
    void U32(FieldName, uint32_t& x) { x = (*next)++; }
  } fill{&next};
  Group::Fields(g, fill);
  return g;
}
Bytes CountingBody(uint32_t n) {
  Bytes b;
  for (uint32_t i = 1; i <= n; ++i) {
    const uint8_t w[4] = {0, 0, 0, static_cast<uint8_t>(i)};
    b.append(w, 4);
  }
  return b;
}

TEST(SflowHostRecordsGoldenTest, Mib2Groups) {
  EXPECT_EQ(Dump(EncodeHostRecord(Counting<Mib2Ip>())),
            Dump(Hex("00 00 07 d7  00 00 00 4c") + CountingBody(19)));  // 0:2007, 76 bytes
  EXPECT_EQ(Dump(EncodeHostRecord(Counting<Mib2Icmp>())),
            Dump(Hex("00 00 07 d8  00 00 00 64") + CountingBody(25)));  // 0:2008, 100 bytes
  EXPECT_EQ(Dump(EncodeHostRecord(Counting<Mib2Tcp>())),
            Dump(Hex("00 00 07 d9  00 00 00 3c") + CountingBody(15)));  // 0:2009, 60 bytes
  EXPECT_EQ(Dump(EncodeHostRecord(Counting<Mib2Udp>())),
            Dump(Hex("00 00 07 da  00 00 00 1c") + CountingBody(7)));  // 0:2010, 28 bytes
  // Spot checks of the MIB order (RFC 1213): the first and last fields of each group.
  EXPECT_EQ(Counting<Mib2Ip>().ip_forwarding, 1u);
  EXPECT_EQ(Counting<Mib2Ip>().ip_frag_creates, 19u);
  EXPECT_EQ(Counting<Mib2Icmp>().icmp_in_addr_mask_reps, 12u);
  EXPECT_EQ(Counting<Mib2Icmp>().icmp_out_addr_mask_reps, 25u);
  EXPECT_EQ(Counting<Mib2Tcp>().tcp_curr_estab, 9u);
  EXPECT_EQ(Counting<Mib2Udp>().udp_in_csum_errors, 7u);
  auto back = RoundTrip(Counting<Mib2Tcp>());
  ASSERT_NE(std::get_if<Mib2Tcp>(&back), nullptr);
  EXPECT_EQ(std::get<Mib2Tcp>(back).tcp_in_csum_errors, 15u);
  EXPECT_STREQ(CounterRecordName(MakeTag(0, kMib2UdpFormat)), "mib2_udp_group");
  EXPECT_STREQ(CounterRecordName(MakeTag(0, kHostCpuFormat)), "host_cpu");
}

TEST(SflowHostRecordsGoldenTest, DecoderRefusesAWrongLength) {
  // host_cpu with 64 bytes instead of 68: a strict decoder says so.
  Bytes dg = Hex(R"(
      00 00 00 05 00 00 00 01 c0 00 02 01 00 00 00 00  # v5, agent 192.0.2.1, sub-agent 0
      00 00 00 01 00 00 03 e8 00 00 00 01              # seq 1, uptime, 1 sample
      00 00 00 02 00 00 00 54                          # counter_sample, 84 bytes
      00 00 00 01 02 00 00 01 00 00 00 01              # seq, source 2:1, 1 record
      00 00 07 d3 00 00 00 40                          # host_cpu, length 64
  )");
  dg += Bytes(64, 0);
  auto d = DecodeDatagram(ByteView(dg.data(), dg.size()));
  EXPECT_FALSE(d.ok());
}

}  // namespace
}  // namespace xflowd::exporter::sflow
