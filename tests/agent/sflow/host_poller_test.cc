// HostPoller over the test machine's files (tests/testdata/host): the sample's data source,
// records and values, the processor averages from the per-second CPU history, parts that fail,
// and adapters trimmed to fit a small datagram.
#include "agent/sflow/host_poller.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "agent/sflow/receiver.h"
#include "hal/base/clock.h"
#include "hal/host/host_reader.h"
#include "tests/agent/sflow/sflow_test_util.h"
#include "tests/support/capture_transport.h"
#include "tests/support/golden_host_files.h"

namespace xflowd::agent::sflow {
namespace {

using hal::base::IpAddress;
using hal::base::ManualClock;
using hal::base::MonoTime;
using testing::CounterSamples;
using testing::FindRecord;
using xflowd::testing::CaptureTransport;
using xflowd::testing::GoldenHostFiles;

std::string Root() { return std::string(XFLOWD_TESTDATA_DIR) + "/host"; }

// /proc/stat with `busy` and `idle` ticks (1/100 s) in the aggregate line.
std::string Stat(uint64_t busy, uint64_t idle) {
  return "cpu  " + std::to_string(busy) + " 0 0 " + std::to_string(idle) +
         " 0 0 0 0 0 0\ncpu0 0\ncpu1 0\nintr 5 0\nctxt 9\n";
}

class HostPollerTest : public ::testing::Test {
 protected:
  explicit HostPollerTest(size_t datagram_bytes = 1400)
      : files_(Root()),
        reader_(files_, 100),
        receiver_(ReceiverConfig{"default", datagram_bytes}, IpAddress::V4(0x0A000001), 0, clock_,
                  MonoTime(), {&t_}) {}

  std::vector<wire::DecodedCounterSample> FlushAndRead() {
    receiver_.Flush();
    std::vector<wire::DecodedCounterSample> out = CounterSamples(t_);
    t_.Clear();
    return out;
  }

  ManualClock clock_;
  GoldenHostFiles files_;
  hal::host::HostReader reader_;
  CaptureTransport t_;
  Receiver receiver_;
};

TEST_F(HostPollerTest, SendsTheHostRecordsAsEntPhysicalEntryOne) {
  HostPoller p(HostPollerConfig{20}, &receiver_, reader_, 3);
  for (int i = 0; i < 3; ++i) p.Tick(clock_.Now());
  const auto samples = FlushAndRead();
  ASSERT_EQ(samples.size(), 1u);
  const wire::DecodedCounterSample& s = samples[0];
  EXPECT_EQ(s.sequence, 1u);
  EXPECT_EQ(s.source.type, 2u);
  EXPECT_EQ(s.source.index, 1u);
  // processor, host_descr, host_adapters, cpu, memory, disk, net, and the four MIB-2 groups.
  ASSERT_EQ(s.records.size(), 11u);
  EXPECT_NE(std::get_if<wire::ProcessorCounters>(&s.records[0]), nullptr);  // tshark knows it

  const auto* d = FindRecord<wire::DecodedHostDescr>(s.records);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->hostname, "vm");
  EXPECT_EQ(d->os_release, "6.18.44-fc-v1272");
  EXPECT_EQ(d->machine_type, wire::kMachineX86_64);
  EXPECT_EQ(d->os_name, wire::kOsLinux);
  const auto* a = FindRecord<wire::DecodedHostAdapters>(s.records);
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->adapters.size(), 3u);
  EXPECT_EQ(a->adapters[2].if_index, 4u);
  ASSERT_EQ(a->adapters[2].macs.size(), 1u);
  EXPECT_EQ(a->adapters[2].macs[0].mac[1], 0xfc);
  const auto* c = FindRecord<wire::HostCpu>(s.records);
  ASSERT_NE(c, nullptr);
  EXPECT_FLOAT_EQ(c->load_one, 16.39f);
  EXPECT_EQ(c->proc_run, 18u);
  EXPECT_EQ(c->cpu_num, 2u);
  EXPECT_EQ(c->cpu_speed, 2096u);
  EXPECT_EQ(c->uptime, 800u);
  EXPECT_EQ(c->cpu_user, 1026010u);
  EXPECT_EQ(c->contexts, 1057792u);
  const auto* m = FindRecord<wire::HostMemory>(s.records);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->mem_total, 24683748ull * 1024);
  EXPECT_EQ(m->page_out, 3038248u);
  const auto* k = FindRecord<wire::HostDiskIo>(s.records);
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->disk_total, 270553174016u);
  EXPECT_EQ(k->part_max_used, 1868u);
  EXPECT_EQ(k->bytes_read, 2998890ull * 512);
  const auto* n = FindRecord<wire::HostNetIo>(s.records);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->bytes_in, 260336640u);
  EXPECT_EQ(n->pkts_out, 2859u);
  const auto* tcp = FindRecord<wire::Mib2Tcp>(s.records);
  ASSERT_NE(tcp, nullptr);
  EXPECT_EQ(tcp->tcp_max_conn, 0xFFFFFFFFu);
  EXPECT_EQ(tcp->tcp_in_segs, 7836u);
  const auto* ip = FindRecord<wire::Mib2Ip>(s.records);
  ASSERT_NE(ip, nullptr);
  EXPECT_EQ(ip->ip_in_receives, 7875u);
  EXPECT_EQ(p.stats().samples, 1u);
  EXPECT_EQ(p.stats().read_errors, 0u);
}

TEST_F(HostPollerTest, PollsEveryIntervalWithItsOwnSequence) {
  HostPoller p(HostPollerConfig{10}, &receiver_, reader_, 1);
  for (int i = 0; i < 21; ++i) p.Tick(clock_.Now());
  const auto samples = FlushAndRead();
  ASSERT_EQ(samples.size(), 3u);  // ticks 1, 11, 21
  EXPECT_EQ(samples[2].sequence, 3u);
  p.Reconfigure(HostPollerConfig{0});
  for (int i = 0; i < 30; ++i) p.Tick(clock_.Now());
  EXPECT_TRUE(FlushAndRead().empty());
}

TEST_F(HostPollerTest, ProcessorAveragesComeFromTheSecondsBefore) {
  HostPoller p(HostPollerConfig{300}, &receiver_, reader_, 300);
  // 240 s at 10% busy, then 60 s at 50% busy (2 CPUs: 200 ticks a second).
  uint64_t busy = 0, idle = 0;
  for (int i = 0; i < 300; ++i) {
    const uint64_t b = i < 240 ? 20 : 100;
    busy += b;
    idle += 200 - b;
    files_.Override("/proc/stat", Stat(busy, idle));
    p.Tick(clock_.Now());
  }
  const auto samples = FlushAndRead();
  ASSERT_EQ(samples.size(), 1u);
  const auto* proc = FindRecord<wire::ProcessorCounters>(samples[0].records);
  ASSERT_NE(proc, nullptr);
  EXPECT_EQ(proc->cpu_5s, 5000u);  // the last 5 s: 50%
  EXPECT_EQ(proc->cpu_1m, 5000u);  // the last 60 s: 50%
  // The 299 s there is history for (the first second has none before it): 239 s at 10%, then
  // 60 s at 50%.
  EXPECT_EQ(proc->cpu_5m, (239u * 20 + 60u * 100) * 10000 / (299u * 200));
  EXPECT_EQ(proc->total_memory, 24683748ull * 1024);
}

TEST_F(HostPollerTest, TheFirstPollAveragesSinceBoot) {
  files_.Override("/proc/stat", Stat(300, 900));  // 25% busy since boot
  HostPoller p(HostPollerConfig{5}, &receiver_, reader_, 1);
  p.Tick(clock_.Now());
  const auto samples = FlushAndRead();
  ASSERT_EQ(samples.size(), 1u);
  const auto* proc = FindRecord<wire::ProcessorCounters>(samples[0].records);
  ASSERT_NE(proc, nullptr);
  EXPECT_EQ(proc->cpu_5s, 2500u);
  EXPECT_EQ(proc->cpu_5m, 2500u);
}

TEST_F(HostPollerTest, APartThatFailsIsLeftOutAndCounted) {
  files_.Override("/proc/net/snmp", "garbage\n");
  files_.Override("/proc/diskstats", "8 0 sda 1\n");
  HostPoller p(HostPollerConfig{5}, &receiver_, reader_, 1);
  p.Tick(clock_.Now());
  const auto samples = FlushAndRead();
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].records.size(), 6u);  // no disk record, no MIB-2 groups
  EXPECT_EQ(FindRecord<wire::HostDiskIo>(samples[0].records), nullptr);
  EXPECT_EQ(FindRecord<wire::Mib2Ip>(samples[0].records), nullptr);
  EXPECT_EQ(p.stats().read_errors, 2u);
}

TEST_F(HostPollerTest, IdleWithoutAReceiver) {
  HostPoller p(HostPollerConfig{1}, nullptr, reader_, 1);
  for (int i = 0; i < 5; ++i) p.Tick(clock_.Now());
  EXPECT_EQ(p.stats().samples, 0u);
  p.set_receiver(&receiver_);
  p.Tick(clock_.Now());
  EXPECT_EQ(FlushAndRead().size(), 1u);
}

class SmallDatagramHostPollerTest : public HostPollerTest {
 protected:
  // The full sample takes 736 bytes (+ 28 of datagram header): 760 leaves room for 732.
  SmallDatagramHostPollerTest() : HostPollerTest(760) {}
};

TEST_F(SmallDatagramHostPollerTest, LeavesAdaptersOutToFit) {
  HostPoller p(HostPollerConfig{5}, &receiver_, reader_, 1);
  p.Tick(clock_.Now());
  const auto samples = FlushAndRead();
  ASSERT_EQ(samples.size(), 1u);
  const auto* a = FindRecord<wire::DecodedHostAdapters>(samples[0].records);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->adapters.size(), 2u);  // one 16-byte adapter out is enough
  EXPECT_EQ(p.stats().adapters_left_out, 1u);
  EXPECT_EQ(p.stats().oversize_drops, 0u);
}

}  // namespace
}  // namespace xflowd::agent::sflow
