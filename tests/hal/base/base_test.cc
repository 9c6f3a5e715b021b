#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "hal/base/byte_view.h"
#include "hal/base/clock.h"
#include "hal/base/ip_address.h"
#include "hal/base/log.h"
#include "hal/base/prng.h"
#include "hal/base/status.h"

namespace xflowd::hal::base {
namespace {

TEST(StatusTest, OkAndErrors) {
  EXPECT_TRUE(Status::Ok().ok());
  Status s = InvalidArgumentError("bad port");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.ToString(), "INVALID_ARGUMENT: bad port");
  EXPECT_EQ(s.WithContext("line 3").message(), "line 3: bad port");
  EXPECT_EQ(ErrnoError("open", ENOENT).code(), StatusCode::kNotFound);
}

TEST(StatusTest, ResultHoldsValueOrError) {
  Result<int> r = 5;
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 5);
  Result<int> e = NotFoundError("no port");
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kNotFound);
}

TEST(ByteViewTest, ReaderStopsAtEndAndStaysFailed) {
  const uint8_t b[] = {1, 2, 3, 4, 5, 6};
  ByteReader r(ByteView(b, sizeof(b)));
  EXPECT_EQ(r.U32(), 0x01020304u);
  EXPECT_EQ(r.remaining(), 2u);
  EXPECT_EQ(r.U32(), 0u);  // only 2 left
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.U8(), 0u);  // stays failed
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(ByteViewTest, BoundedLoadsNeverPassTheEnd) {
  const uint8_t b[] = {0xaa, 0xbb, 0xcc};
  ByteView v(b, 3);
  uint16_t x16 = 0;
  uint32_t x32 = 0;
  EXPECT_TRUE(v.U16At(1, &x16));
  EXPECT_EQ(x16, 0xbbccu);
  EXPECT_FALSE(v.U16At(2, &x16));
  EXPECT_FALSE(v.U32At(0, &x32));
  EXPECT_FALSE(v.U32At(SIZE_MAX - 1, &x32));  // no overflow in the bounds check
  EXPECT_EQ(v.Subview(5).size(), 0u);
  EXPECT_EQ(v.Subview(1, 100).size(), 2u);
}

TEST(ByteViewTest, WriterOverflowWritesNothingAndSticks) {
  uint8_t buf[6];
  ByteWriter w(buf, sizeof(buf));
  w.U32(0x01020304);
  w.U32(0x05060708);  // does not fit
  EXPECT_TRUE(w.overflowed());
  EXPECT_EQ(w.size(), 4u);
  w.U8(9);  // ignored after overflow
  EXPECT_EQ(w.size(), 4u);
  w.Truncate(2);
  EXPECT_FALSE(w.overflowed());
  w.U16(0xbeef);
  w.PatchU16(0, 0xcafe);
  EXPECT_EQ(HexDump(w.view()), "ca fe be ef\n");
}

TEST(ByteViewTest, HexRoundTripWithComments) {
  std::basic_string<uint8_t> out;
  ASSERT_TRUE(ParseHex("00 01 # version\n  ff\tFe # x\n", &out));
  EXPECT_EQ(out, (std::basic_string<uint8_t>{0x00, 0x01, 0xff, 0xfe}));
  EXPECT_FALSE(ParseHex("0", &out));
  EXPECT_FALSE(ParseHex("zz", &out));
}

TEST(PrngTest, SameSeedSameSequenceAndKnownValues) {
  Prng a(42), b(42), c(43);
  std::vector<uint64_t> va, vb, vc;
  for (int i = 0; i < 100; ++i) {
    va.push_back(a.Next64());
    vb.push_back(b.Next64());
    vc.push_back(c.Next64());
  }
  EXPECT_EQ(va, vb);
  EXPECT_NE(va, vc);
}

TEST(PrngTest, UniformCoversRangeInclusiveAndIsUnbiased) {
  Prng p(7);
  std::vector<int> counts(5, 0);
  for (int i = 0; i < 100000; ++i) {
    uint32_t x = p.Uniform(1, 5);
    ASSERT_GE(x, 1u);
    ASSERT_LE(x, 5u);
    ++counts[x - 1];
  }
  // Each bucket expects 20000, sd ~126; 5 sd bound.
  for (int c : counts) EXPECT_NEAR(c, 20000, 640);
  EXPECT_EQ(p.Uniform(9, 9), 9u);
  EXPECT_LE(p.Uniform64(0, UINT64_MAX), UINT64_MAX);
}

TEST(PrngTest, DoubleInUnitInterval) {
  Prng p(1);
  double sum = 0;
  for (int i = 0; i < 10000; ++i) {
    double d = p.NextDouble();
    ASSERT_GE(d, 0.0);
    ASSERT_LT(d, 1.0);
    sum += d;
  }
  EXPECT_NEAR(sum / 10000, 0.5, 0.02);
}

TEST(ClockTest, ManualClockMovesOnlyWhenTold) {
  ManualClock c;
  MonoTime t0 = c.Now();
  EXPECT_EQ(c.Now(), t0);
  c.Advance(seconds(3));
  EXPECT_EQ((c.Now() - t0), Duration(seconds(3)));
  EXPECT_EQ(c.WallNow().seconds_count(), 1767225600 + 3);
}

TEST(ClockTest, SystemClockIsMonotonic) {
  SystemClock c;
  MonoTime a = c.Now();
  MonoTime b = c.Now();
  EXPECT_LE(a, b);
  EXPECT_GT(c.WallNow().seconds_count(), 1600000000);
}

TEST(IpAddressTest, ParseAndFormat) {
  auto v4 = IpAddress::Parse("192.0.2.1");
  ASSERT_TRUE(v4.ok());
  EXPECT_TRUE(v4->is_v4());
  EXPECT_EQ(v4->ToString(), "192.0.2.1");
  auto v6 = IpAddress::Parse("2001:db8::1");
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(v6->is_v6());
  EXPECT_EQ(v6->size(), 16u);
  EXPECT_FALSE(IpAddress::Parse("collector.example").ok());
  EXPECT_EQ(IpAddress::V4(0xc0000201u), *v4);
}

TEST(IpAddressTest, EndpointForms) {
  auto a = Endpoint::Parse("127.0.0.1:6343", 1);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->port, 6343);
  auto b = Endpoint::Parse("127.0.0.1", 6343);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->port, 6343);
  auto c = Endpoint::Parse("[::1]:9999", 6343);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->ToString(), "[::1]:9999");
  auto d = Endpoint::Parse("::1", 6343);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->port, 6343);
  EXPECT_FALSE(Endpoint::Parse("127.0.0.1:0", 1).ok());
  EXPECT_FALSE(Endpoint::Parse("127.0.0.1:70000", 1).ok());
  EXPECT_FALSE(Endpoint::Parse("[::1", 1).ok());
  // A ':' with no port is not the default port; signs and spaces are not digits.
  for (const char* bad : {"127.0.0.1:", "[::1]:", "127.0.0.1:+43001", "127.0.0.1: 43001",
                          "127.0.0.1:-65535", "127.0.0.1:000000443"}) {
    EXPECT_FALSE(Endpoint::Parse(bad, 6343).ok()) << bad;
  }
}

TEST(LogTest, RateLimitedLogSuppressesAndReportsCount) {
  std::vector<std::string> lines;
  Logger logger([&](LogLevel, const std::string& m) { lines.push_back(m); });
  RateLimitedLog rl(logger, seconds(10), 2);
  MonoTime t;
  for (int i = 0; i < 5; ++i) rl.Log(t, LogLevel::kWarning, "drop %d", i);
  EXPECT_EQ(lines.size(), 2u);
  EXPECT_EQ(rl.suppressed_total(), 3u);
  rl.Log(t + seconds(11), LogLevel::kWarning, "drop again");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[2], "drop again (3 similar messages suppressed)");
}

TEST(LogTest, StderrLinesCarryAWallTimestampWhenAClockIsSet) {
  Logger logger;
  EXPECT_EQ(logger.FormatLine(LogLevel::kWarning, "link down"), "xflowd[warning]: link down");
  ManualClock clock(MonoTime::FromSeconds(0), WallTime::FromSeconds(1767225600));  // 2026-01-01
  clock.Advance(seconds(3661) + milliseconds(42));
  logger.set_timestamp_clock(&clock);
  EXPECT_EQ(logger.FormatLine(LogLevel::kInfo, "capture re-opened"),
            "2026-01-01T01:01:01.042Z xflowd[info]: capture re-opened");
}

TEST(LogTest, JournalStreamMustNameTheFileStderrIs) {
  EXPECT_TRUE(JournalStreamIs("8:12345", 8, 12345));
  EXPECT_FALSE(JournalStreamIs("8:12345", 8, 12346));  // another stream: redirected
  EXPECT_FALSE(JournalStreamIs("9:12345", 8, 12345));
  EXPECT_FALSE(JournalStreamIs(nullptr, 8, 12345));  // not under systemd
  EXPECT_FALSE(JournalStreamIs("", 0, 0));
  EXPECT_FALSE(JournalStreamIs("8:12345x", 8, 12345));
  EXPECT_FALSE(JournalStreamIs("8", 8, 0));

  FILE* a = tmpfile();
  FILE* b = tmpfile();
  ASSERT_TRUE(a != nullptr && b != nullptr);
  struct stat st;
  ASSERT_EQ(fstat(fileno(a), &st), 0);
  const std::string env = std::to_string(static_cast<uint64_t>(st.st_dev)) + ":" +
                          std::to_string(static_cast<uint64_t>(st.st_ino));
  EXPECT_TRUE(FdIsJournalStream(env.c_str(), fileno(a)));
  EXPECT_FALSE(FdIsJournalStream(env.c_str(), fileno(b)));
  EXPECT_FALSE(FdIsJournalStream(nullptr, fileno(a)));
  EXPECT_FALSE(FdIsJournalStream(env.c_str(), -1));
  fclose(a);
  fclose(b);
}

}  // namespace
}  // namespace xflowd::hal::base
