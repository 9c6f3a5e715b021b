// xflowdump's text and JSON output, byte for byte, for the golden datagrams of
// tests/testdata/sflow/*.hex and for one datagram with every record type the decoder knows
// (odd values included: unknown next hop, AS_SET and unknown segment types, unnamed header
// protocol, counters at "unknown", unprintable port name). The expected output is
// tests/testdata/sflow/xflowdump_output.txt; on a mismatch the actual output is written next to
// the test's temporary files so the two can be diffed. Regenerate only on purpose.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "hal/base/byte_view.h"
#include "tests/support/golden.h"
#include "tests/tools/xflowdump/dump_test_util.h"
#include "tools/xflowdump/datagram_format.h"

namespace xflowd::tools::xflowdump {
namespace {

namespace sf = exporter::sflow;
using hal::base::ByteView;
using testing::Bytes;

Bytes GoldenDatagram(const std::string& name) {
  const std::basic_string<uint8_t> b = xflowd::testing::ReadGoldenHex("sflow/" + name);
  return Bytes(b.begin(), b.end());
}

// Every flow and counter record type, in two samples.
Bytes EveryRecordDatagram() {
  static const Bytes frame = testing::TcpFrame("10.0.0.1", "10.0.0.2", 443, 50000);
  static const Bytes ip_packet(frame.begin() + 14, frame.end());
  const uint8_t odd_bytes[] = {1, 2, 3, 4, 5};
  sf::SampledEthernet eth;
  eth.length = 1514;
  for (int i = 0; i < 6; ++i) {
    eth.src_mac[i] = static_cast<uint8_t>(i + 1);
    eth.dst_mac[i] = static_cast<uint8_t>(0xa0 + i);
  }
  eth.type = 0x86dd;
  sf::SampledIpv6 v6;
  v6.length = 1280;
  v6.protocol = 6;
  v6.src_ip[0] = 0x20;
  v6.src_ip[15] = 1;
  v6.dst_ip[0] = 0x20;
  v6.dst_ip[15] = 2;
  v6.src_port = 4789;
  v6.dst_port = 80;
  v6.tcp_flags = 0x12;
  v6.priority = 7;
  const uint32_t seq[] = {64512, 64513};
  const uint32_t set[] = {65535, 65534};
  const uint32_t other[] = {7};
  const sf::AsPathSegment path[] = {{2, {seq, 2}}, {1, {set, 2}}, {3, {other, 1}}};
  const uint32_t communities[] = {0xFDE80064, 0x00010002};
  sf::ExtendedGateway gw;
  gw.next_hop = testing::Ip("2001:db8::1");
  gw.as = 64500;
  gw.src_as = 64501;
  gw.src_peer_as = 64502;
  gw.dst_as_path = {path, 3};
  gw.communities = {communities, 2};
  gw.local_pref = 100;
  const sf::FlowRecord flow[] = {
      sf::SampledHeader{sf::kHeaderEthernet, 1500, 4, ByteView(frame.data(), frame.size())},
      sf::SampledHeader{sf::kHeaderIpv4, 1500, 0, ByteView(ip_packet.data(), ip_packet.size())},
      sf::SampledHeader{99, 5, 0, ByteView(odd_bytes, sizeof(odd_bytes))},
      eth,
      sf::SampledIpv4{1500, 6, {10, 1, 2, 3}, {10, 4, 5, 6}, 22, 60000, 0x18, 0x10},
      v6,
      sf::ExtendedSwitch{10, 1, 20, 2},
      sf::ExtendedRouter{},
      sf::ExtendedRouter{testing::Ip("192.0.2.254"), 24, 16},
      gw,
      sf::ExtendedTimestamp{1767225600123456789ull},
  };
  sf::GenericInterfaceCounters g;
  g.if_index = 12;
  g.if_speed = 25000000000ull;
  g.if_direction = 1;
  g.if_status = 3;
  g.in_octets = 0xFFFFFFFF00ull;
  g.in_ucast_pkts = 1;
  g.in_discards = sf::kUnknown32;
  g.out_octets = sf::kUnknown64;
  g.out_errors = 9;
  g.promiscuous_mode = 1;
  sf::EthernetInterfaceCounters e;
  e.fcs_errors = 5;
  const sf::CounterRecord counters[] = {
      g,
      e,
      sf::VlanCounters{100, 1ull << 33, 1, 2, 3, 4},
      sf::ProcessorCounters{1234, 2345, 3456, 64ull << 30, 12ull << 30},
      sf::PortName{ByteView("Ethernet1/1")},
      sf::PortName{ByteView("tab\there\x01")},
  };
  return testing::Datagram("192.0.2.1", 2, 77, 90061001, [&](sf::DatagramBuilder& b) {
    sf::FlowSample fs = testing::FlowSampleOn(7, 1000, 4096, flow, sizeof(flow) / sizeof(flow[0]));
    fs.output = {2, 3};
    ASSERT_TRUE(b.Add(fs));
    sf::CounterSample cs = testing::CounterSampleOn(7, 5);
    cs.expanded = true;
    cs.records = counters;
    cs.record_count = sizeof(counters) / sizeof(counters[0]);
    ASSERT_TRUE(b.Add(cs));
  });
}

// One host counter sample (sflow_host.txt) of entPhysicalEntry 1 with every host record, the
// processor record's unknown (-1) utilisation among them.
Bytes HostRecordDatagram() {
  sf::HostDescr d;
  d.hostname = ByteView("switch-1");
  for (int i = 0; i < 16; ++i) d.uuid[i] = static_cast<uint8_t>(i * 17);
  d.machine_type = sf::kMachineX86_64;
  d.os_name = sf::kOsLinux;
  d.os_release = ByteView("6.1.0-13-amd64");
  sf::HostMac macs[2] = {{{0x02, 0, 0, 0, 0, 1}}, {{0x02, 0, 0, 0, 0, 2}}};
  sf::HostAdapter adapters[2];
  adapters[0].if_index = 2;
  adapters[0].macs = {&macs[0], 1};
  adapters[1].if_index = 3;
  adapters[1].macs = {&macs[1], 1};
  sf::HostAdapters ha;
  ha.adapters = {adapters, 2};
  sf::HostCpu cpu;
  cpu.load_one = 0.5f;
  cpu.load_five = 1.25f;
  cpu.load_fifteen = 16.39f;
  cpu.proc_run = 3;
  cpu.proc_total = 224;
  cpu.cpu_num = 2;
  cpu.cpu_speed = 2096;
  cpu.uptime = 86400;
  cpu.cpu_user = 1026010;
  cpu.cpu_idle = 251960;
  cpu.interrupts = 609627;
  cpu.contexts = 1057792;
  sf::HostMemory mem;
  mem.mem_total = 8ull << 30;
  mem.mem_free = 5ull << 30;
  sf::HostDiskIo disk;
  disk.disk_total = 256ull << 30;
  disk.disk_free = 80ull << 30;
  disk.part_max_used = 1868;
  disk.reads = 39600;
  sf::HostNetIo net{260336640, 7849, 0, 1, 230493, 2859, 2, 0};
  sf::Mib2Ip ip;
  ip.ip_forwarding = 2;
  ip.ip_default_ttl = 64;
  sf::Mib2Tcp tcp;
  tcp.tcp_max_conn = sf::kUnknown32;
  const sf::CounterRecord counters[] = {
      sf::ProcessorCounters{sf::kUnknown32, 2500, 1000, 8ull << 30, 5ull << 30},
      d,
      ha,
      cpu,
      mem,
      disk,
      net,
      ip,
      sf::Mib2Icmp{},
      tcp,
      sf::Mib2Udp{},
  };
  return testing::Datagram("192.0.2.1", 0, 78, 90062001, [&](sf::DatagramBuilder& b) {
    sf::CounterSample cs = testing::CounterSampleOn(1, 6);
    cs.source = {2, 1};
    cs.records = counters;
    cs.record_count = sizeof(counters) / sizeof(counters[0]);
    ASSERT_TRUE(b.Add(cs));
  });
}

// Text (with hex) then the JSON line, under a heading per datagram.
void AppendBoth(const std::string& name, const Bytes& bytes, std::string* out) {
  const DatagramMeta meta{hal::base::WallTime::FromMs(1767225600250),
                          hal::base::Endpoint{testing::Ip("192.0.2.1"), 40000},
                          hal::base::Endpoint{testing::Ip("192.0.2.9"), 6343}, bytes.size()};
  *out += "==== " + name + "\n";
  auto d = sf::DecodeDatagram(ByteView(bytes.data(), bytes.size()));
  ASSERT_TRUE(d.ok()) << name << ": " << d.status().message();
  TextOptions text;
  text.hex = true;
  AppendText(d.value(), meta, text, out);
  JsonWriter w;
  WriteJson(d.value(), meta, &w);
  *out += w.str() + "\n";
}

TEST(DatagramFormatGoldenTest, TextAndJsonOfEveryRecordType) {
  std::string actual;
  for (const char* name : {"datagram_v4_counter_compact.hex", "datagram_v4_discard.hex",
                           "datagram_v4_empty_samples.hex", "datagram_v4_flow_all_records.hex",
                           "datagram_v4_flow_compact.hex", "datagram_v6_counter_expanded.hex",
                           "datagram_v6_flow_expanded.hex"}) {
    AppendBoth(name, GoldenDatagram(name), &actual);
  }
  AppendBoth("every record type", EveryRecordDatagram(), &actual);
  AppendBoth("host records", HostRecordDatagram(), &actual);

  const std::string expected = xflowd::testing::ReadTestdata("sflow/xflowdump_output.txt");
  EXPECT_EQ(actual, expected);
  if (actual != expected) {
    const std::string path = ::testing::TempDir() + "xflowdump_output.actual.txt";
    std::ofstream(path) << actual;
    ADD_FAILURE() << "expected tests/testdata/sflow/xflowdump_output.txt, actual output written to "
                  << path;
  }
}

}  // namespace
}  // namespace xflowd::tools::xflowdump
