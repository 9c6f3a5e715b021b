// The link-type golden captures (tests/testdata/pcap/linktype_*.pcap, written by
// make_link_type_captures.py and checked with tshark) through both capture readers and the flow
// meter: every link header must give the same flow keys as the Ethernet path would.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/flow/flow_meter.h"
#include "exporter/netflow/flow_record.h"
#include "hal/base/ip_address.h"
#include "hal/capfile/capture_file_source.h"
#ifdef XFLOWD_HAVE_PCAP
#include "hal/pcap/pcap_file_source.h"
#endif

namespace xflowd::agent::daemon {
namespace {

using exporter::netflow::FlowRecord;
using hal::LinkType;
using hal::capfile::CaptureFileSource;

struct Collect : exporter::netflow::FlowRecordSink {
  void OnFlow(const FlowRecord& r) override {
    const auto& k = r.key;
    const bool v4 = k.ip_version == 4;
    const std::string src = v4 ? hal::base::IpAddress::V4(k.src_ip).ToString()
                               : hal::base::IpAddress::V6(k.src_ip).ToString();
    const std::string dst = v4 ? hal::base::IpAddress::V4(k.dst_ip).ToString()
                               : hal::base::IpAddress::V6(k.dst_ip).ToString();
    flows.push_back("if " + std::to_string(k.input_ifindex) + " vlan " +
                    std::to_string(k.vlan_outer) + " proto " + std::to_string(k.protocol) + " " +
                    src + " " + std::to_string(k.src_port) + " > " + dst + " " +
                    std::to_string(k.dst_port) + " bytes " + std::to_string(r.bytes) + " packets " +
                    std::to_string(r.packets) + " flags " + std::to_string(r.tcp_flags));
  }
  std::vector<std::string> flows;
};

struct Golden {
  const char* file;
  LinkType link;
  bool sll_vlan_frame;  // the SLL file also has a tagged copy of the IPv4 packet
  uint64_t not_ip;      // ARP, or a loopback family that is not IP
};

const Golden kGoldens[] = {
    {"linktype_sll.pcap", LinkType::kLinuxSll, true, 1},
    {"linktype_sll2.pcap", LinkType::kLinuxSll2, false, 1},
    {"linktype_raw101.pcap", LinkType::kRawIp, false, 0},
    {"linktype_raw12.pcap", LinkType::kRawIp, false, 0},
    {"linktype_raw14.pcap", LinkType::kRawIp, false, 0},
    {"linktype_null.pcap", LinkType::kNull, false, 1},
    {"linktype_loop.pcap", LinkType::kLoop, false, 1},
};

std::vector<std::string> Expected(const Golden& g) {
  std::vector<std::string> e = {
      "if 1 vlan 0 proto 17 10.0.0.1 1234 > 10.0.0.2 5000 bytes 100 packets 1 flags 0",
      "if 1 vlan 0 proto 6 2001:db8::1 40000 > 2001:db8::2 443 bytes 60 packets 1 flags 2",
  };
  if (g.sll_vlan_frame) {
    e.push_back("if 1 vlan 100 proto 17 10.0.0.1 1234 > 10.0.0.2 5000 bytes 100 packets 1 flags 0");
  }
  std::sort(e.begin(), e.end());
  return e;
}

struct Metered {
  std::vector<std::string> flows;
  flow::FlowMeterStats stats;
};

Metered Meter(hal::PacketSource& source, const std::function<bool()>& done) {
  Collect sink;
  flow::FlowMeter meter(flow::FlowMeterOptions{}, sink);
  while (!done()) source.Drain(meter, 64);
  meter.Flush(hal::base::MonoTime::FromNs(int64_t{2000000000} * 1000000000));
  std::sort(sink.flows.begin(), sink.flows.end());
  return {sink.flows, meter.stats()};
}

std::string Path(const char* file) { return std::string(XFLOWD_TESTDATA_DIR) + "/pcap/" + file; }

TEST(LinkTypeCaptureGoldenTest, OwnReaderDecodesEveryLinkTypeToTheSameFlows) {
  for (const Golden& g : kGoldens) {
    SCOPED_TRACE(g.file);
    auto src = CaptureFileSource::Create(Path(g.file));
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    CaptureFileSource& s = **src;
    EXPECT_EQ(s.link_type(), g.link);
    const Metered m = Meter(s, [&s] { return s.done(); });
    EXPECT_EQ(s.read_error(), "");
    EXPECT_EQ(m.flows, Expected(g));
    EXPECT_EQ(m.stats.not_ip, g.not_ip);
    EXPECT_EQ(m.stats.truncated + m.stats.bad_length, 0u);
  }
}

TEST(LinkTypeCaptureGoldenTest, OwnReaderRefusesUnknownLinkTypesWithTheList) {
  // A classic pcap header (little-endian, v2.4, snaplen 65535) with LINKTYPE_USER0 (147).
  const unsigned char header[24] = {0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0,   0, 0, 0,
                                    0,    0,    0,    0,    0, 0, 1, 0, 147, 0, 0, 0};
  const std::string path = ::testing::TempDir() + "link_type_user0.pcap";
  {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(header), sizeof(header));
  }
  auto src = CaptureFileSource::Create(path);
  std::remove(path.c_str());
  ASSERT_FALSE(src.ok());
  EXPECT_NE(src.status().message().find("link type 147 is not supported; supported are"),
            std::string::npos)
      << src.status().message();
}

#ifdef XFLOWD_HAVE_PCAP
TEST(LinkTypeCaptureGoldenTest, LibpcapReaderDecodesEveryLinkTypeToTheSameFlows) {
  for (const Golden& g : kGoldens) {
    SCOPED_TRACE(g.file);
    auto src = hal::pcap::PcapFileSource::Create(Path(g.file));
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    hal::pcap::PcapFileSource& s = **src;
    EXPECT_EQ(s.link_type(), g.link);
    const Metered m = Meter(s, [&s] { return s.done(); });
    EXPECT_EQ(s.read_error(), "");
    EXPECT_EQ(m.flows, Expected(g));
    EXPECT_EQ(m.stats.not_ip, g.not_ip);
    EXPECT_EQ(m.stats.truncated + m.stats.bad_length, 0u);
  }
}
#endif

}  // namespace
}  // namespace xflowd::agent::daemon
