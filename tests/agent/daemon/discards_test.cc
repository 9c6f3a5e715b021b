// The daemon's discard path on the simulator: SimDrops writes NET_DM messages into a
// socketpair, the real DropmonSource reads them, the daemon's notifier sends discard samples.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <vector>

#include "agent/daemon/daemon.h"
#include "agent/daemon/sim_platform.h"
#include "hal/base/clock.h"
#include "hal/dropmon/dropmon_source.h"
#include "sim/dropmon_emitter.h"
#include "sim/sim_switch.h"
#include "tests/agent/sflow/sflow_test_util.h"
#include "tests/support/capture_transport.h"

namespace xflowd::agent::daemon {
namespace {

using hal::base::Endpoint;
using hal::base::IpAddress;
using hal::base::ManualClock;
using hal::base::MonoTime;
using hal::base::Result;
using xflowd::testing::CaptureTransport;

TEST(DaemonDiscardsScenarioTest, SimulatedDropsBecomeRateLimitedDiscardSamples) {
  ManualClock clock(MonoTime::FromSeconds(1000));
  hal::base::Logger logger = hal::base::Logger::Null();
  sim::SimConfig sc;
  sc.num_ports = 4;
  sc.load = 0.01;
  auto sw = sim::SimSwitch::Create(sc, clock.Now());
  ASSERT_TRUE(sw.ok());
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
  int bytes = 4 << 20;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
  sim::SimDropsConfig dc;
  dc.drops_per_s = 400;
  dc.num_ports = 4;
  dc.seed = 3;
  sim::SimDrops drops(dc, sv[0], clock.Now());
  auto source = hal::dropmon::DropmonSource::FromFd(sv[1], dc.family_id, nullptr, clock, logger);
  ASSERT_TRUE(source.ok());

  config::Config c;
  c.agent.address = *IpAddress::Parse("192.0.2.10");
  c.agent.collectors = {*Endpoint::Parse("127.0.0.1:6343", 6343)};
  c.drops.enabled = true;
  c.drops.max_per_s = 50;
  Platform platform = SimPlatform(**sw);
  platform.drops = source->get();
  CaptureTransport* capture = nullptr;
  DaemonSettings settings;
  settings.make_transport =
      [&](const config::SflowCollector&) -> Result<std::unique_ptr<exporter::Transport>> {
    auto t = std::make_unique<CaptureTransport>();
    capture = t.get();
    return std::unique_ptr<exporter::Transport>(std::move(t));
  };
  auto d = Daemon::Create(c, platform, clock, logger, settings);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_NE((*d)->discards(), nullptr);
  for (int s = 0; s < 5; ++s) {  // five simulated seconds, one step each
    clock.Advance(hal::base::seconds(1));
    drops.AdvanceTo(clock.Now());
    (*d)->Step(clock.Now());
  }
  (*d)->agent().Flush();
  const sflow::DiscardStats& st = (*d)->discards()->stats();
  EXPECT_EQ(st.events, 2000u);
  EXPECT_EQ(st.ignored, 0u);     // every simulated kind maps to a reason
  EXPECT_EQ(st.exported, 250u);  // 50 per second
  EXPECT_EQ(st.rate_limited, 1750u);

  // Per data source: sequence numbers without gaps; the drops fields add up to what the
  // limit held back (minus what is still pending for the next sample).
  std::map<uint32_t, uint32_t> last_seq;
  uint64_t reported = 0;
  size_t n = 0;
  for (const auto& s : sflow::testing::AllSamples(*capture)) {
    const auto* ds = std::get_if<exporter::sflow::DecodedDiscardSample>(&s);
    if (ds == nullptr) continue;
    ++n;
    EXPECT_EQ(ds->sequence, last_seq[ds->source.index] + 1);
    last_seq[ds->source.index] = ds->sequence;
    EXPECT_GE(ds->source.index, 1u);
    EXPECT_LE(ds->source.index, 4u);
    EXPECT_NE(exporter::sflow::DropReasonName(ds->reason), nullptr) << ds->reason;
    reported += ds->drops;
  }
  EXPECT_EQ(n, 250u);
  EXPECT_LE(reported, st.rate_limited);
  EXPECT_GT(reported, st.rate_limited - 4 * 400);
  EXPECT_NE((*d)->Summary().find("250 discard samples exported"), std::string::npos);
  close(sv[0]);
}

}  // namespace
}  // namespace xflowd::agent::daemon
