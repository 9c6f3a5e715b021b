#include "hal/dropmon/dropmon_parser.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "hal/base/byte_view.h"
#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "hal/dropmon/dropmon_source.h"
#include "sim/dropmon_emitter.h"
#include "tests/support/golden.h"

namespace xflowd::hal::dropmon {
namespace {

using base::ByteView;
using base::MonoTime;
using Bytes = std::basic_string<uint8_t>;
using xflowd::testing::LittleEndianHost;

// The golden files are little-endian (x86-64); netlink is host byte order. On a big-endian
// host the integers are swapped in place, field by field as the kernel wrote them, so the
// same golden messages test the parser there too.
void Swap(uint8_t* p, size_t n) { std::reverse(p, p + n); }
void SwapAttrs(uint8_t* p, size_t len, bool nested_port) {
  size_t off = 0;
  while (off + 4 <= len) {
    const uint16_t nla_len = static_cast<uint16_t>(p[off] | p[off + 1] << 8);  // still LE
    if (nla_len < 4 || nla_len > len - off) break;
    const uint16_t type = static_cast<uint16_t>((p[off + 2] | p[off + 3] << 8) & 0x3FFF);
    Swap(p + off, 2);
    Swap(p + off + 2, 2);
    uint8_t* v = p + off + 4;
    const size_t vlen = nla_len - 4u;
    using namespace dropmon_wire;  // NOLINT
    if (nested_port) {
      if (type == kPortAttrIfindex && vlen == 4) Swap(v, 4);
    } else if ((type == kAttrOrigin || type == kAttrProto) && vlen == 2) {
      Swap(v, 2);
    } else if ((type == kAttrOrigLen || type == kAttrTruncLen || type == kAttrQueueLen) &&
               vlen == 4) {
      Swap(v, 4);
    } else if ((type == kAttrPc || type == kAttrTimestamp) && vlen == 8) {
      Swap(v, 8);
    } else if (type == kAttrInPort) {
      SwapAttrs(v, vlen, true);
    }
    off += (nla_len + 3u) & ~3u;
  }
}
Bytes ToHostOrder(Bytes b) {
  if (LittleEndianHost()) return b;
  size_t off = 0;
  while (off + 16 <= b.size()) {
    uint8_t* h = &b[off];
    const uint32_t len = static_cast<uint32_t>(h[0] | h[1] << 8 | h[2] << 16 | h[3] << 24);
    const uint16_t type = static_cast<uint16_t>(h[4] | h[5] << 8);
    if (len < 16 || len > b.size() - off) break;
    Swap(h, 4), Swap(h + 4, 2), Swap(h + 6, 2), Swap(h + 8, 4), Swap(h + 12, 4);
    if (type == 2 && len >= 36) {  // NLMSG_ERROR: error, then the request's header
      Swap(h + 16, 4);
      Swap(h + 20, 4), Swap(h + 24, 2), Swap(h + 26, 2), Swap(h + 28, 4), Swap(h + 32, 4);
    } else if (type >= 0x10 && len >= 20) {
      SwapAttrs(h + 20, len - 20, false);
    }
    if (type == 3) break;  // DONE: what follows is not read
    off += (len + 3u) & ~3u;
  }
  return b;
}
Bytes ReadHex(const std::string& name) {
  return ToHostOrder(xflowd::testing::ReadGoldenHex("dropmon/" + name));
}
ByteView View(const Bytes& b) { return ByteView(b.data(), b.size()); }
std::string Str(ByteView v) { return std::string(v.begin(), v.end()); }

// What a DropEvent said, copied out of the views.
struct Got {
  DropEvent e;
  std::string symbol, reason, trap_name, trap_group;
  std::vector<uint8_t> payload;
};
class Collect final : public DropEventSink {
 public:
  void OnDrop(const DropEvent& e) override {
    Got g{e,
          Str(e.symbol),
          Str(e.reason),
          Str(e.trap_name),
          Str(e.trap_group),
          std::vector<uint8_t>(e.payload.begin(), e.payload.end())};
    got.push_back(g);
  }
  std::vector<Got> got;
};

constexpr int64_t kWallToMono = -1767225000000000000;  // monotonic = wall - this much
const MonoTime kFallback = MonoTime::FromNs(42);

TEST(DropmonParserGoldenTest, SoftwareAlert) {
  const Bytes msg = ReadHex("alert_software.hex");
  ASSERT_EQ(msg.size(), 184u);
  DropEvent e;
  ParseStats st;
  ASSERT_EQ(ParseAlertMessage(View(msg), 0x1d, kWallToMono, kFallback, &e, &st),
            MessageResult::kEvent);
  EXPECT_EQ(e.origin, DropOrigin::kSoftware);
  EXPECT_EQ(e.input_ifindex, 3u);
  EXPECT_EQ(e.original_length, 52u);
  EXPECT_EQ(e.protocol, 0x0800);
  EXPECT_EQ(e.timestamp.ns(), 1767225600123456789 + kWallToMono);
  EXPECT_EQ(Str(e.symbol), "__udp4_lib_rcv+0x5b6/0xb50");  // NUL left off
  EXPECT_EQ(Str(e.reason), "NO_SOCKET");
  EXPECT_TRUE(e.trap_name.empty());
  ASSERT_EQ(e.payload.size(), 40u);
  EXPECT_EQ(e.payload[0], 0x45);
  EXPECT_EQ(st.events, 1u);
  EXPECT_EQ(st.errors(), 0u);
  EXPECT_EQ(st.unknown_attr, 0u);
}

TEST(DropmonParserGoldenTest, HardwareAlert) {
  const Bytes msg = ReadHex("alert_hardware.hex");
  DropEvent e;
  ParseStats st;
  ASSERT_EQ(ParseAlertMessage(View(msg), 0x1d, 0, kFallback, &e, &st), MessageResult::kEvent);
  EXPECT_EQ(e.origin, DropOrigin::kHardware);
  EXPECT_EQ(e.input_ifindex, 7u);
  EXPECT_EQ(e.original_length, 64u);
  EXPECT_EQ(e.protocol, 0x8100);
  EXPECT_EQ(Str(e.trap_name), "ingress_vlan_filter");
  EXPECT_EQ(Str(e.trap_group), "l2_drops");
  EXPECT_TRUE(e.symbol.empty());
  ASSERT_EQ(e.payload.size(), 58u);
  EXPECT_EQ(e.payload[12], 0x81);  // the 802.1Q tag: the payload starts at the MAC header
  EXPECT_EQ(st.errors(), 0u);
}

TEST(DropmonParserGoldenTest, BufferBatch) {
  const Bytes buf = ReadHex("buffer_batch.hex");
  Collect sink;
  ParseStats st;
  EXPECT_EQ(ParseBuffer(View(buf), 0x1d, 0, kFallback, sink, &st), 1u);
  ASSERT_EQ(sink.got.size(), 1u);
  EXPECT_EQ(sink.got[0].reason, "NO_SOCKET");
  EXPECT_EQ(st.netlink_acks, 1u);
  EXPECT_EQ(st.other_command, 1u);
  EXPECT_EQ(st.netlink_overruns, 1u);
  EXPECT_EQ(st.messages, 5u);  // DONE ends the buffer: the bytes after it are never read
  EXPECT_EQ(st.errors(), 0u);
}

TEST(DropmonParserGoldenTest, EmitterWritesTheGoldenBytes) {
  const Bytes golden = ReadHex("alert_software.hex");
  DropEvent e;
  ParseStats st;
  ASSERT_EQ(ParseAlertMessage(View(golden), 0, 0, kFallback, &e, &st), MessageResult::kEvent);
  sim::DropAlertMessage m;
  m.pc = 0xffffffff81a2b3c4ull;
  m.symbol = Str(e.symbol);
  m.reason = Str(e.reason);
  m.in_ifindex = e.input_ifindex;
  m.in_name = "eth0";
  m.timestamp_ns = 1767225600123456789ull;
  m.orig_len = e.original_length;
  m.proto = e.protocol;
  m.payload = e.payload;
  uint8_t out[512];
  const size_t n = sim::EncodeDropAlert(m, out, sizeof(out));
  EXPECT_EQ(base::HexDump(ByteView(out, n)), base::HexDump(View(golden)));
}

// Every cut of a valid message is refused as malformed or parsed without reading past it.
TEST(DropmonParserTest, TruncationsAreErrorsNotCrashes) {
  sim::DropAlertMessage m;
  m.symbol = "ip_rcv_core+0x1/0x2";
  m.reason = "IP_INHDR";
  m.in_ifindex = 9;
  m.orig_len = 100;
  m.proto = 0x0800;
  const uint8_t payload[20] = {0x45};
  m.payload = ByteView(payload, sizeof(payload));
  uint8_t out[512];
  const size_t n = sim::EncodeDropAlert(m, out, sizeof(out));
  ASSERT_GT(n, 0u);
  for (size_t cut = 0; cut < n; ++cut) {
    Bytes b(out, out + cut);
    if (cut >= 4) {  // say the message is as long as what is left
      const uint32_t len = static_cast<uint32_t>(cut);
      std::memcpy(&b[0], &len, 4);
    }
    DropEvent e;
    ParseStats st;
    const MessageResult r = ParseAlertMessage(View(b), 0, 0, kFallback, &e, &st);
    if (r == MessageResult::kMalformed) {
      EXPECT_EQ(st.errors(), 1u) << cut;
    }
  }
}

TEST(DropmonParserTest, WrongFamilyAndBadSizes) {
  sim::DropAlertMessage m;
  m.family_id = 0x22;
  m.orig_len = 10;
  uint8_t out[256];
  size_t n = sim::EncodeDropAlert(m, out, sizeof(out));
  DropEvent e;
  ParseStats st;
  EXPECT_EQ(ParseAlertMessage(ByteView(out, n), 0x1d, 0, kFallback, &e, &st),
            MessageResult::kMalformed);
  EXPECT_EQ(st.wrong_family, 1u);
  // ORIG_LEN with a 2-byte payload.
  m.family_id = 0x1d;
  n = sim::EncodeDropAlert(m, out, sizeof(out));
  const size_t orig = n - 8;  // ORIG_LEN is the last attribute without a payload
  uint16_t type = 0;
  std::memcpy(&type, out + orig + 2, 2);
  ASSERT_EQ(type, dropmon_wire::kAttrOrigLen);
  const uint16_t bad_len = 6;  // host order, as netlink
  std::memcpy(out + orig, &bad_len, 2);
  EXPECT_EQ(ParseAlertMessage(ByteView(out, n), 0x1d, 0, kFallback, &e, &st),
            MessageResult::kMalformed);
  EXPECT_EQ(st.bad_attr_size, 1u);
}

// The read path over a socketpair: SimDrops writes NET_DM messages, DropmonSource reads them.
TEST(DropmonSourceTest, SimDropsOverASocketpair) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
  base::ManualClock clock;
  base::Logger logger = base::Logger::Null();
  sim::SimDropsConfig c;
  c.drops_per_s = 1000;
  c.num_ports = 4;
  c.first_ifindex = 10;
  c.seed = 7;
  c.mono_to_wall_ns = clock.WallNow().ns() - clock.Now().ns();
  sim::SimDrops drops(c, sv[0], clock.Now());
  auto src = DropmonSource::FromFd(sv[1], c.family_id, nullptr, clock, logger);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  drops.AdvanceTo(clock.Now() + base::milliseconds(100));
  EXPECT_EQ(drops.stats().drops, 100u);
  EXPECT_EQ(drops.stats().sent, 100u);
  Collect sink;
  EXPECT_EQ((*src)->Drain(sink, 30), 30u);  // the budget holds
  EXPECT_EQ((*src)->Drain(sink, 1000), 70u);
  EXPECT_EQ((*src)->Drain(sink, 1000), 0u);
  size_t hw = 0;
  for (const Got& g : sink.got) {
    EXPECT_GE(g.e.input_ifindex, 10u);
    EXPECT_LE(g.e.input_ifindex, 13u);
    EXPECT_FALSE(g.payload.empty());
    if (g.e.origin == DropOrigin::kHardware) {
      ++hw;
      EXPECT_FALSE(g.trap_name.empty());
      EXPECT_FALSE(g.trap_group.empty());
    } else {
      EXPECT_FALSE(g.reason.empty());
      EXPECT_FALSE(g.symbol.empty());
      EXPECT_EQ(g.payload[0] >> 4, g.e.protocol == 0x0800 ? 4 : 6);  // from the IP header
    }
  }
  EXPECT_GT(hw, 20u);
  EXPECT_LT(hw, 80u);
  const DropSourceStats s = (*src)->stats();
  EXPECT_EQ(s.events, 100u);
  EXPECT_EQ(s.parse_errors, 0u);
  close(sv[0]);
}

TEST(DropmonSourceTest, MalformedDatagramIsCounted) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
  base::ManualClock clock;
  base::Logger logger = base::Logger::Null();
  auto src = DropmonSource::FromFd(sv[1], 0, nullptr, clock, logger);
  ASSERT_TRUE(src.ok());
  const uint8_t junk[7] = {1, 2, 3, 4, 5, 6, 7};
  ASSERT_EQ(send(sv[0], junk, sizeof(junk), 0), 7);
  Collect sink;
  EXPECT_EQ((*src)->Drain(sink, 10), 0u);
  EXPECT_EQ((*src)->stats().parse_errors, 1u);
  close(sv[0]);
}

}  // namespace
}  // namespace xflowd::hal::dropmon
