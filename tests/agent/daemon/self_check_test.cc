// The self-check's statistics: the interval sampling theory gives and the verdicts at its
// edges. The whole check against a lying simulator: tests/agent/scenario.
#include "agent/daemon/self_check.h"

#include <gtest/gtest.h>

#include <cmath>

namespace xflowd::agent::daemon {
namespace {

WindowCounts Window(uint64_t samples, uint32_t rate, uint64_t counter, uint64_t drops = 0) {
  WindowCounts w;
  w.samples = samples;
  w.drops = drops;
  w.packets = static_cast<double>(samples + drops) * rate;
  w.have_counters = true;
  w.counter_packets = counter;
  return w;
}

TEST(SelfCheckTest, ErrorBoundIs196OverRootOfSamples) {
  EXPECT_DOUBLE_EQ(SamplingErrorBound(10000), 0.0196);
  EXPECT_DOUBLE_EQ(SamplingErrorBound(100), 0.196);
  EXPECT_DOUBLE_EQ(SamplingErrorBound(400, 3.0), 0.15);
  EXPECT_TRUE(std::isinf(SamplingErrorBound(0)));
}

TEST(SelfCheckTest, VerdictAtTheEdgesOfTheInterval) {
  const SelfCheckConfig config;
  // 10,000 samples at 1-in-1000 for 10,000,000 packets: exact.
  WindowJudgement j = JudgeWindow(Window(10000, 1000, 10'000'000), 1000, config);
  EXPECT_EQ(j.verdict, SelfCheckVerdict::kInside);
  EXPECT_DOUBLE_EQ(j.relative_difference, 0.0);
  EXPECT_DOUBLE_EQ(j.expected_samples, 10000.0);
  EXPECT_DOUBLE_EQ(j.interval, 0.0196);
  // 1.9% under the counter: inside; 2.0% under: outside (the interval is on the samples the
  // counter expects, 10,204: +-1.94%).
  EXPECT_EQ(JudgeWindow(Window(10000, 1000, 10'193'680), 1000, config).verdict,
            SelfCheckVerdict::kInside);
  j = JudgeWindow(Window(10000, 1000, 10'204'082), 1000, config);
  EXPECT_EQ(j.verdict, SelfCheckVerdict::kOutside);
  EXPECT_NEAR(j.relative_difference, -0.02, 1e-6);
  EXPECT_NEAR(j.interval, 1.96 / std::sqrt(10204.082), 1e-9);
  // Over the counter as well.
  EXPECT_EQ(JudgeWindow(Window(10300, 1000, 10'000'000), 1000, config).verdict,
            SelfCheckVerdict::kOutside);
}

TEST(SelfCheckTest, DropsCountInTheEstimate) {
  const SelfCheckConfig config;
  // 9,500 exported and 500 lost at 1-in-1000: the samples stand for 10,000,000 packets.
  const WindowJudgement j = JudgeWindow(Window(9500, 1000, 10'000'000, 500), 1000, config);
  EXPECT_EQ(j.verdict, SelfCheckVerdict::kInside);
  EXPECT_DOUBLE_EQ(j.relative_difference, 0.0);
}

TEST(SelfCheckTest, TooFewSamplesNoCountersAndSilentPorts) {
  const SelfCheckConfig config;  // min_samples 100
  EXPECT_EQ(JudgeWindow(Window(50, 1000, 50'000), 1000, config).verdict,
            SelfCheckVerdict::kTooFewSamples);
  EXPECT_EQ(JudgeWindow(Window(0, 1000, 0), 1000, config).verdict,
            SelfCheckVerdict::kTooFewSamples);
  EXPECT_EQ(JudgeWindow(Window(100, 1000, 100'000), 1000, config).verdict,
            SelfCheckVerdict::kInside);
  WindowCounts no_counters = Window(5000, 1000, 0);
  no_counters.have_counters = false;
  EXPECT_EQ(JudgeWindow(no_counters, 1000, config).verdict, SelfCheckVerdict::kNoCounters);
  // No samples at all where the counter expects 1,000 (at the current rate): outside.
  WindowJudgement j = JudgeWindow(Window(0, 1000, 1'000'000), 1000, config);
  EXPECT_EQ(j.verdict, SelfCheckVerdict::kOutside);
  EXPECT_DOUBLE_EQ(j.relative_difference, -1.0);
  EXPECT_DOUBLE_EQ(j.expected_samples, 1000.0);
  // Samples, but the interface counted nothing.
  EXPECT_EQ(JudgeWindow(Window(500, 1000, 0), 1000, config).verdict, SelfCheckVerdict::kOutside);
}

TEST(SelfCheckTest, VerdictNamesAreStable) {
  EXPECT_STREQ(SelfCheckVerdictName(SelfCheckVerdict::kInside), "inside");
  EXPECT_STREQ(SelfCheckVerdictName(SelfCheckVerdict::kOutside), "outside");
  EXPECT_STREQ(SelfCheckVerdictName(SelfCheckVerdict::kTooFewSamples), "too few samples");
  EXPECT_STREQ(SelfCheckVerdictName(SelfCheckVerdict::kNoCounters), "no counters");
  EXPECT_STREQ(SelfCheckVerdictName(SelfCheckVerdict::kWaiting), "waiting");
}

}  // namespace
}  // namespace xflowd::agent::daemon
