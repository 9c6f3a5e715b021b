// The vendor plugin loader and adapter (hal/vendor): the table checks, dlopen errors, and what
// VendorBackend makes of a plugin that fails, rounds, loses samples or loses a port. A fake
// plugin table (C functions over a struct) stands in for a vendor's; the reference plugin and
// two plugins that must be refused are real shared objects (tests/vendor/CMakeLists.txt).
#include "hal/vendor/vendor_plugin.h"

#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

namespace xflowd::hal::vendor {
namespace {

using base::StatusCode;

// ---- a fake plugin: its behaviour is the test's to set ----
struct FakeState {
  int init_rc = XFV_OK;
  int set_rc = XFV_OK;
  uint32_t round_to = 0;  // set: applied = round_to if non-zero
  uint32_t readback = 0;  // get returns this (0: the applied rate)
  uint32_t applied = 0;
  std::vector<xfv_sample> to_deliver;
  std::vector<std::pair<uint32_t, xfv_port>> events;
  std::vector<uint32_t> gone;  // ifindexes read_counters refuses
  int fd = -1;
  int fini_calls = 0;
  std::vector<uint8_t> header = std::vector<uint8_t>(64, 0xAB);
};
FakeState* g_state = nullptr;  // the fake's init hands it over as ctx

int FakeInit(const char*, const xfv_host* host, void** ctx) {
  if (g_state->init_rc != XFV_OK) {
    host->log(host->arg, XFV_LOG_ERROR, "fake SDK: no ASIC found");
    return g_state->init_rc;
  }
  *ctx = g_state;
  return XFV_OK;
}
void FakeFini(void* ctx) { ++static_cast<FakeState*>(ctx)->fini_calls; }
int FakeList(void*, xfv_port* ports, uint32_t capacity, uint32_t* count) {
  *count = 2;
  if (capacity < 2) return XFV_ERR_BUFFER;
  for (uint32_t i = 0; i < 2; ++i) {
    std::memset(&ports[i], 0, sizeof(xfv_port));
    ports[i].ifindex = 10 + i;
    std::snprintf(ports[i].name, sizeof(ports[i].name), "Ethernet%u", i * 4);
    ports[i].speed_bps = 100000000000ull;
    ports[i].oper_up = 1;
  }
  return XFV_OK;
}
int FakeSet(void* ctx, uint32_t, uint32_t, uint32_t rate, uint32_t, uint32_t* applied) {
  auto* s = static_cast<FakeState*>(ctx);
  if (s->set_rc != XFV_OK) return s->set_rc;
  s->applied = s->round_to ? s->round_to : rate;
  *applied = s->applied;
  return XFV_OK;
}
int FakeGet(void* ctx, uint32_t, uint32_t, uint32_t* rate) {
  auto* s = static_cast<FakeState*>(ctx);
  *rate = s->readback ? s->readback : s->applied;
  return XFV_OK;
}
int FakeCounters(void* ctx, uint32_t ifindex, xfv_counters* c) {
  auto* s = static_cast<FakeState*>(ctx);
  for (uint32_t g : s->gone) {
    if (g == ifindex) return XFV_ERR_NOT_FOUND;
  }
  c->in_octets = 12345;
  c->out_ucast_pkts = 7;
  return XFV_OK;
}
int FakeFd(void* ctx) { return static_cast<FakeState*>(ctx)->fd; }
int FakePoll(void* ctx, uint32_t budget, xfv_sample_cb on_sample, xfv_port_event_cb on_event,
             void* arg, uint32_t* delivered) {
  auto* s = static_cast<FakeState*>(ctx);
  for (const auto& [event, port] : s->events) on_event(arg, event, &port);
  s->events.clear();
  *delivered = 0;
  size_t i = 0;
  for (; i < s->to_deliver.size() && *delivered < budget; ++i) {
    xfv_sample x = s->to_deliver[i];
    x.header = s->header.data();
    on_sample(arg, &x);
    ++*delivered;
  }
  s->to_deliver.erase(s->to_deliver.begin(), s->to_deliver.begin() + i);
  return XFV_OK;
}

xfv_plugin FakeTable() {
  xfv_plugin t{};
  t.abi_major = XFV_ABI_MAJOR;
  t.abi_minor = XFV_ABI_MINOR;
  t.struct_size = sizeof(xfv_plugin);
  t.name = "fake";
  t.version = "0";
  t.init = FakeInit;
  t.fini = FakeFini;
  t.list_ports = FakeList;
  t.set_sampling_rate = FakeSet;
  t.get_sampling_rate = FakeGet;
  t.read_counters = FakeCounters;
  t.sample_fd = FakeFd;
  t.poll = FakePoll;
  return t;
}

xfv_sample Sample(uint32_t ifindex, uint32_t seq) {
  xfv_sample s{};
  s.input_ifindex = ifindex;
  s.direction = XFV_INGRESS;
  s.sampling_rate = 4096;
  s.sequence = seq;
  s.frame_length = 1500;
  s.stripped = 4;
  s.header_length = 64;
  return s;
}

struct Collect : PacketSampleSink {
  std::vector<PacketSample> got;
  void OnSample(const PacketSample& s) override { got.push_back(s); }
};

class VendorBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state_.fd = eventfd(0, EFD_CLOEXEC);
    g_state = &state_;
    table_ = FakeTable();
  }
  void TearDown() override {
    close(state_.fd);
    g_state = nullptr;
  }
  std::unique_ptr<VendorBackend> Make() {
    auto b = VendorBackend::Create(nullptr, &table_, "", clock_, logger_);
    EXPECT_TRUE(b.ok()) << b.status().message();
    return b.ok() ? std::move(*b) : nullptr;
  }
  FakeState state_;
  xfv_plugin table_{};
  base::ManualClock clock_{base::MonoTime::FromSeconds(100)};
  std::vector<std::string> lines_;
  base::Logger logger_{[this](base::LogLevel, const std::string& m) { lines_.push_back(m); }};
};

TEST(VendorTableTest, WrongMajorIsRefusedWithWhatToDo) {
  xfv_plugin t = FakeTable();
  t.abi_major = XFV_ABI_MAJOR + 1;
  t.abi_minor = 3;
  base::Status st = CheckPluginTable(&t);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("built for vendor ABI 2.3"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("this xflowd speaks ABI 1.x"), std::string::npos);
  EXPECT_NE(st.message().find("rebuild the plugin"), std::string::npos);
}

TEST(VendorTableTest, NewerMinorWithALargerTableIsAccepted) {
  xfv_plugin t = FakeTable();
  t.abi_minor = XFV_ABI_MINOR + 5;
  t.struct_size = sizeof(xfv_plugin) + 64;
  EXPECT_TRUE(CheckPluginTable(&t).ok());
}

TEST(VendorTableTest, ShortTableOrMissingFunctionIsRefused) {
  xfv_plugin t = FakeTable();
  t.struct_size = 16;
  EXPECT_NE(CheckPluginTable(&t).message().find("table of 16 bytes"), std::string::npos);
  t = FakeTable();
  t.poll = nullptr;
  EXPECT_NE(CheckPluginTable(&t).message().find("has no poll"), std::string::npos);
  EXPECT_FALSE(CheckPluginTable(nullptr).ok());
}

TEST(VendorLoadTest, MissingFileNamesThePath) {
  auto p = VendorPlugin::Load("/nonexistent/libnothing.so");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kNotFound);
  EXPECT_NE(p.status().message().find("/nonexistent/libnothing.so"), std::string::npos);
}

#ifdef XFLOWD_VENDOR_BAD_MAJOR_PLUGIN
TEST(VendorLoadTest, PluginOfAnotherMajorIsRefused) {
  auto p = VendorPlugin::Load(XFLOWD_VENDOR_BAD_MAJOR_PLUGIN);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("built for vendor ABI 2.0"), std::string::npos)
      << p.status().message();
}

TEST(VendorLoadTest, SharedObjectWithoutTheEntryIsRefused) {
  auto p = VendorPlugin::Load(XFLOWD_VENDOR_NO_ENTRY_PLUGIN);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("no symbol xflowd_vendor_plugin"), std::string::npos)
      << p.status().message();
}

TEST(VendorLoadTest, ReferencePluginRunsBehindTheHal) {
  auto p = VendorPlugin::Load(XFLOWD_VENDOR_REF_PLUGIN);
  ASSERT_TRUE(p.ok()) << p.status().message();
  const xfv_plugin* t = (*p)->table();
  base::ManualClock clock;
  base::Logger logger = base::Logger::Null();
  auto b = VendorBackend::Create(std::move(*p), t, "clock=manual,ports=4,pps=50000,seed=3", clock,
                                 logger);
  ASSERT_TRUE(b.ok()) << b.status().message();
  auto ports = (*b)->ListPorts();
  ASSERT_TRUE(ports.ok());
  ASSERT_EQ(ports->size(), 4u);
  EXPECT_EQ((*ports)[2].name, "swp3");
  EXPECT_EQ((*ports)[2].ifindex, 3u);
  // The simulated ASIC rounds to a power of two: the read-back rate is what is reported.
  auto rate = (*b)->SetSamplingRate(1, Direction::kIngress, 1000, 128);
  ASSERT_TRUE(rate.ok());
  EXPECT_EQ(*rate, 1024u);
  Collect sink;
  for (int i = 0; i < 50; ++i) (*b)->Drain(sink, 64);
  ASSERT_FALSE(sink.got.empty());
  for (const PacketSample& s : sink.got) {
    EXPECT_EQ(s.input_ifindex, 1u);
    EXPECT_EQ(s.sampling_rate, 1024u);
    EXPECT_TRUE(s.has_source_sequence);
    EXPECT_LE(s.header.size(), 128u);
  }
  EXPECT_EQ((*b)->stats().samples, sink.got.size());
  auto c = (*b)->ReadCounters(1);
  ASSERT_TRUE(c.ok());
  EXPECT_GT(c->in_octets, 0u);
  EXPECT_EQ(c->in_unknown_protos, PortCounters::kUnknown64);
}
#endif

TEST_F(VendorBackendTest, InitFailureSaysWhy) {
  state_.init_rc = XFV_ERR_HARDWARE;
  auto b = VendorBackend::Create(nullptr, &table_, "unit=0", clock_, logger_);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("init: SDK error"), std::string::npos)
      << b.status().message();
  ASSERT_FALSE(lines_.empty());
  EXPECT_EQ(lines_[0], "vendor plugin: fake SDK: no ASIC found");
  EXPECT_EQ(state_.fini_calls, 0);  // init failed: nothing to finish
}

TEST_F(VendorBackendTest, FailureToSetARateIsAnErrorNamingThePort) {
  auto b = Make();
  state_.set_rc = XFV_ERR_HARDWARE;
  auto r = b->SetSamplingRate(11, Direction::kIngress, 4096, 128);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("set_sampling_rate: SDK error (-4): ifindex 11 ingress "
                                      "1-in-4096"),
            std::string::npos)
      << r.status().message();
  state_.set_rc = XFV_ERR_UNSUPPORTED;
  r = b->SetSamplingRate(11, Direction::kEgress, 4096, 128);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnimplemented);
}

TEST_F(VendorBackendTest, ReadBackRateWinsOverWhatSetSaid) {
  auto b = Make();
  state_.round_to = 4096;
  state_.readback = 8192;
  auto r = b->SetSamplingRate(10, Direction::kIngress, 5000, 128);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 8192u);
  EXPECT_EQ(b->vendor_stats().rate_readback_differs, 1u);
}

TEST_F(VendorBackendTest, SequenceGapIsCountedAndPassedOn) {
  auto b = Make();
  state_.to_deliver = {Sample(10, 1), Sample(10, 2), Sample(11, 7), Sample(10, 5), Sample(11, 8)};
  Collect sink;
  EXPECT_EQ(b->Drain(sink, 100), 5u);
  ASSERT_EQ(sink.got.size(), 5u);
  EXPECT_EQ(b->stats().source_drops, 2u);  // 3 and 4 on ifindex 10; 11's sequence is its own
  EXPECT_EQ(b->vendor_stats().sequence_gaps, 2u);
  EXPECT_TRUE(sink.got[3].has_source_sequence);
  EXPECT_EQ(sink.got[3].source_sequence, 5u);  // the sampler sees the gap too
  EXPECT_EQ(sink.got[3].sampling_rate, 4096u);
  EXPECT_EQ(sink.got[3].frame_length, 1500u);
  EXPECT_EQ(sink.got[3].stripped, 4u);
  EXPECT_EQ(sink.got[3].header.size(), 64u);
  EXPECT_EQ(sink.got[3].timestamp, clock_.Now());  // unstamped: xflowd's clock
}

TEST_F(VendorBackendTest, BudgetIsPassedToThePlugin) {
  auto b = Make();
  state_.to_deliver = {Sample(10, 1), Sample(10, 2), Sample(10, 3)};
  Collect sink;
  EXPECT_EQ(b->Drain(sink, 2), 2u);
  EXPECT_EQ(b->Drain(sink, 2), 1u);
  EXPECT_EQ(b->stats().source_drops, 0u);
}

TEST_F(VendorBackendTest, MalformedSampleIsCountedNotPassed) {
  auto b = Make();
  xfv_sample bad = Sample(10, 1);
  bad.header_length = 2000;  // longer than the frame
  xfv_sample no_rate = Sample(10, 2);
  no_rate.sampling_rate = 0;
  state_.to_deliver = {bad, no_rate};
  Collect sink;
  b->Drain(sink, 10);
  EXPECT_TRUE(sink.got.empty());
  EXPECT_EQ(b->stats().parse_errors, 2u);
}

TEST_F(VendorBackendTest, VanishedPortIsRemovedBetweenDrains) {
  auto b = Make();
  std::vector<std::pair<PortEvent, uint32_t>> seen;
  b->SetListener([&seen](PortEvent e, const PortInfo& p) { seen.emplace_back(e, p.ifindex); });
  xfv_port p{};
  p.ifindex = 11;
  std::snprintf(p.name, sizeof(p.name), "Ethernet4");
  state_.events = {{XFV_PORT_REMOVED, p}};
  state_.gone = {11};
  Collect sink;
  b->Drain(sink, 10);
  EXPECT_TRUE(seen.empty());  // not inside the drain
  b->DeliverPortEvents();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].first, PortEvent::kRemoved);
  EXPECT_EQ(seen[0].second, 11u);
  auto c = b->ReadCounters(11);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(b->ReadCounters(10).ok());
  b->DeliverPortEvents();
  EXPECT_EQ(seen.size(), 1u);  // delivered once
}

TEST_F(VendorBackendTest, PortsAndCountersComeAcross) {
  auto b = Make();
  auto ports = b->ListPorts();
  ASSERT_TRUE(ports.ok());
  ASSERT_EQ(ports->size(), 2u);
  EXPECT_EQ((*ports)[1].name, "Ethernet4");
  EXPECT_EQ((*ports)[1].speed_bps, 100000000000ull);
  EXPECT_TRUE((*ports)[1].oper_up);
  auto c = b->ReadCounters(10);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->in_octets, 12345u);
  EXPECT_EQ(c->out_ucast_pkts, 7u);
  EXPECT_EQ(c->in_errors, PortCounters::kUnknown64);  // the plugin left it: unknown
  EXPECT_FALSE(c->has_ethernet);
}

TEST_F(VendorBackendTest, FiniRunsOnce) {
  { auto b = Make(); }
  EXPECT_EQ(state_.fini_calls, 1);
}

}  // namespace
}  // namespace xflowd::hal::vendor
