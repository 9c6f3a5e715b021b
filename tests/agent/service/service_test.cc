// The service pieces that run without root: which capabilities each mode keeps, the drop plan,
// the reload check after a drop, the pid file, where the log goes.
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "agent/service/notify.h"
#include "agent/service/privileges.h"
#include "agent/service/process.h"
#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "tests/support/temp_dir.h"

namespace xflowd::agent::service {
namespace {

using config::Config;
using config::SampleBackend;
using config::SourceKind;
using hal::base::Logger;
using hal::base::LogLevel;
using hal::base::LogOutput;

Config Linux(std::vector<SampleBackend> backends) {
  Config c;
  c.source.kind = SourceKind::kLinux;
  for (SampleBackend b : backends) c.source.linux_ports.patterns.push_back({"p*", b});
  return c;
}

TEST(ServiceTest, EachModeKeepsOnlyWhatItNeedsLater) {
  Config sim;
  EXPECT_EQ(NeededCapabilities(sim).ToString(), "none");
  Config file;
  file.source.kind = SourceKind::kFile;
  EXPECT_EQ(NeededCapabilities(file).ToString(), "none");
  Config iface;
  iface.source.kind = SourceKind::kInterface;
  EXPECT_EQ(NeededCapabilities(iface).ToString(), "CAP_NET_RAW");
  Config ovs;
  ovs.source.kind = SourceKind::kOvs;
  EXPECT_EQ(NeededCapabilities(ovs).ToString(), "CAP_DAC_OVERRIDE");
  EXPECT_EQ(NeededCapabilities(Linux({SampleBackend::kAfPacket})).ToString(), "CAP_NET_RAW");
  EXPECT_EQ(NeededCapabilities(Linux({SampleBackend::kPsample})).ToString(), "CAP_NET_ADMIN");
  EXPECT_EQ(NeededCapabilities(Linux({SampleBackend::kNflog})).ToString(), "CAP_NET_ADMIN");
  EXPECT_EQ(
      NeededCapabilities(Linux({SampleBackend::kPsample, SampleBackend::kAfPacket})).ToString(),
      "CAP_NET_RAW CAP_NET_ADMIN");
  EXPECT_EQ(NeededCapabilities(Linux({})).ToString(), "CAP_NET_RAW");  // afpacket by default
  Config drops = Linux({SampleBackend::kAfPacket});
  drops.drops.enabled = true;  // the drop monitor's STOP at exit
  EXPECT_EQ(NeededCapabilities(drops).ToString(), "CAP_NET_RAW CAP_NET_ADMIN");
  // An override's back-end counts too.
  Config over = Linux({SampleBackend::kAfPacket});
  config::PortOverride o;
  o.pattern = "swp*";
  o.backend = SampleBackend::kNflog;
  over.ports.overrides.push_back(o);
  EXPECT_EQ(NeededCapabilities(over).ToString(), "CAP_NET_RAW CAP_NET_ADMIN");
}

TEST(ServiceTest, AReloadCannotNeedWhatWasGivenUp) {
  const Capabilities raw = NeededCapabilities(Linux({SampleBackend::kAfPacket}));
  EXPECT_TRUE(CheckReloadCapabilities(raw, "xflowd", Linux({SampleBackend::kAfPacket})).ok());
  Config more = Linux({SampleBackend::kAfPacket});
  config::PortOverride o;
  o.pattern = "swp*";
  o.backend = SampleBackend::kPsample;
  more.ports.overrides.push_back(o);
  EXPECT_EQ(CheckReloadCapabilities(raw, "xflowd", more).message(),
            "this configuration needs CAP_NET_ADMIN (psample or nflog ports, or the drop monitor), "
            "which xflowd gave "
            "up when it became user xflowd at start; restart it to apply that");
}

TEST(ServiceTest, DropPlan) {
  std::vector<std::string> lines;
  Logger logger([&](LogLevel level, const std::string& m) {
    lines.push_back(std::string(hal::base::LogLevelName(level)) + ": " + m);
  });
  logger.set_min_level(LogLevel::kDebug);
  config::ServiceConfig s;
  // Not root: nothing to do, a debug line only.
  auto plan = PlanDrop(s, 1000, logger);
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE(plan->drop);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind("debug: running as ", 0), 0u) << lines[0];
  // Root and user "root": no drop.
  s.user = "root";
  plan = PlanDrop(s, 0, logger);
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE(plan->drop);
  // A user that exists: the plan has its ids (when the build can drop).
  s.user = "nobody";
  lines.clear();
  plan = PlanDrop(s, 0, logger);
  if (HaveCapng()) {
    ASSERT_TRUE(plan.ok()) << plan.status().message();
    EXPECT_TRUE(plan->drop);
    EXPECT_EQ(plan->user, "nobody");
    EXPECT_NE(plan->uid, 0u);
  } else {
    EXPECT_FALSE(plan.ok());
  }
  // A named user that does not exist is an error; the default one missing only a warning.
  s.user = "no-such-user-xflowd";
  EXPECT_FALSE(PlanDrop(s, 0, logger).ok());
  if (getpwnam(config::kDefaultServiceUser) == nullptr) {
    s.user.reset();
    lines.clear();
    plan = PlanDrop(s, 0, logger);
    ASSERT_TRUE(plan.ok());
    EXPECT_FALSE(plan->drop);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0],
              "warning: user xflowd does not exist; staying root — create it or set "
              "service.user");
  }
  // Not asked to drop: nothing happens, whatever the build.
  EXPECT_TRUE(DropPrivileges(DropPlan{}, Capabilities{}, logger).ok());
}

TEST(ServiceTest, ParsePid) {
  EXPECT_EQ(ParsePid("1234\n"), 1234);
  EXPECT_EQ(ParsePid(" 77 \n"), 77);
  EXPECT_EQ(ParsePid(""), 0);
  EXPECT_EQ(ParsePid("0\n"), 0);
  EXPECT_EQ(ParsePid("-5\n"), 0);
  EXPECT_EQ(ParsePid("12x\n"), 0);
  EXPECT_EQ(ParsePid("99999999999\n"), 0);
}

std::string Read(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(ServiceTest, PidFile) {
  testing::TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::vector<std::string> lines;
  Logger logger([&](LogLevel, const std::string& m) { lines.push_back(m); });
  const std::string sub = dir.path() + "/run";
  const std::string path = sub + "/xflowd.pid";
  {
    auto f = PidFile::Create(path, static_cast<uid_t>(-1), static_cast<gid_t>(-1), logger);
    ASSERT_TRUE(f.ok()) << f.status().message();
    EXPECT_EQ(Read(path), std::to_string(getpid()) + "\n");  // the directory was made
    // Our own pid in it is not "another running process".
    auto again = PidFile::Create(path, static_cast<uid_t>(-1), static_cast<gid_t>(-1), logger);
    EXPECT_TRUE(again.ok());  // removes the file first; the first finds it gone
  }
  EXPECT_NE(access(path.c_str(), F_OK), 0);  // removed with the object
  // A running process (our parent) in the file: refused.
  std::ofstream(path) << getppid() << "\n";
  auto busy = PidFile::Create(path, static_cast<uid_t>(-1), static_cast<gid_t>(-1), logger);
  ASSERT_FALSE(busy.ok());
  EXPECT_NE(busy.status().message().find("is running"), std::string::npos);
  // Garbage: replaced, with a warning.
  std::ofstream(path) << "not a pid\n";
  lines.clear();
  {
    auto f = PidFile::Create(path, static_cast<uid_t>(-1), static_cast<gid_t>(-1), logger);
    ASSERT_TRUE(f.ok()) << f.status().message();
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("replacing a stale one"), std::string::npos) << lines[0];
  }
  EXPECT_NE(access(path.c_str(), F_OK), 0);
  rmdir(sub.c_str());
}

TEST(ServiceTest, WhereTheLogGoes) {
  using config::LogTarget;
  EXPECT_EQ(ResolveLogOutput(LogTarget::kAuto, false, false), LogOutput::kStderr);
  EXPECT_EQ(ResolveLogOutput(LogTarget::kAuto, true, false), LogOutput::kJournal);
  EXPECT_EQ(ResolveLogOutput(LogTarget::kAuto, false, true), LogOutput::kSyslog);
  EXPECT_EQ(ResolveLogOutput(LogTarget::kAuto, true, true), LogOutput::kJournal);
  EXPECT_EQ(ResolveLogOutput(LogTarget::kStderr, false, true), LogOutput::kStderr);
  EXPECT_EQ(ResolveLogOutput(LogTarget::kStderr, true, false), LogOutput::kJournal);
  EXPECT_EQ(ResolveLogOutput(LogTarget::kSyslog, true, false), LogOutput::kSyslog);
  // The journal reads the priority from the line's "<N>" prefix (sd-daemon(3)).
  Logger logger;
  logger.set_output(LogOutput::kJournal);
  EXPECT_EQ(logger.FormatLine(LogLevel::kError, "x"), "<3>xflowd[error]: x");
  EXPECT_EQ(logger.FormatLine(LogLevel::kWarning, "x"), "<4>xflowd[warning]: x");
  EXPECT_EQ(logger.FormatLine(LogLevel::kInfo, "x"), "<6>xflowd[info]: x");
  EXPECT_EQ(logger.FormatLine(LogLevel::kDebug, "x"), "<7>xflowd[debug]: x");
  EXPECT_EQ(hal::base::SyslogPriority(LogLevel::kWarning), 4);
}

TEST(ServiceTest, SuppressedLinesAreCountedOnTheLogger) {
  Logger logger = Logger::Null();
  logger.set_min_level(LogLevel::kDebug);
  hal::base::RateLimitedLog a(logger, hal::base::seconds(10), 2);
  hal::base::RateLimitedLog b(logger, hal::base::seconds(10), 1);
  const hal::base::MonoTime t;
  for (int i = 0; i < 5; ++i) a.Log(t, LogLevel::kWarning, "a %d", i);
  for (int i = 0; i < 3; ++i) b.Log(t, LogLevel::kWarning, "b %d", i);
  EXPECT_EQ(a.suppressed_total(), 3u);
  EXPECT_EQ(b.suppressed_total(), 2u);
  EXPECT_EQ(logger.suppressed(), 5u);  // every rate-limited log together (xflowctl stats)
}

}  // namespace
}  // namespace xflowd::agent::service
