#include "tools/xflowctl/ctl_options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace xflowd::tools::xflowctl {
namespace {

hal::base::Status Parse(std::vector<const char*> args, CtlOptions* o) {
  args.insert(args.begin(), "xflowctl");
  return ParseCtlOptions(static_cast<int>(args.size()), args.data(), o);
}

std::string Error(std::vector<const char*> args) {
  CtlOptions o;
  hal::base::Status st = Parse(std::move(args), &o);
  EXPECT_FALSE(st.ok());
  return st.message();
}

TEST(CtlOptionsTest, DefaultsAndCommand) {
  CtlOptions o;
  ASSERT_TRUE(Parse({"status"}, &o).ok());
  EXPECT_EQ(o.command, "status");
  EXPECT_EQ(o.socket, "/run/xflowd/xflowd.sock");
  EXPECT_FALSE(o.json);
  EXPECT_DOUBLE_EQ(o.timeout_s, 5.0);
  EXPECT_TRUE(o.args.empty());
}

TEST(CtlOptionsTest, EveryOption) {
  CtlOptions o;
  ASSERT_TRUE(Parse({"--socket", "/tmp/x.sock", "--json", "--timeout=0.5", "top", "7"}, &o).ok());
  EXPECT_EQ(o.socket, "/tmp/x.sock");
  EXPECT_TRUE(o.json);
  EXPECT_DOUBLE_EQ(o.timeout_s, 0.5);
  EXPECT_EQ(o.command, "top");
  EXPECT_EQ(o.args, nlohmann::json({{"n", 7}}));
  ASSERT_TRUE(Parse({"-s", "/a", "-j", "-t", "2", "ports"}, &o).ok());
  EXPECT_EQ(o.socket, "/a");
  ASSERT_TRUE(Parse({"--help"}, &o).ok());
  EXPECT_TRUE(o.help);
}

TEST(CtlOptionsTest, UsageErrors) {
  EXPECT_EQ(Error({}), "no command given");
  EXPECT_EQ(Error({"--json"}), "no command given");
  EXPECT_EQ(Error({"stauts"}),
            "unknown command 'stauts' (status, ports, collectors, flows, top, check, reload, "
            "flush, stats, help)");
  EXPECT_EQ(Error({"--bogus", "status"}), "unknown option '--bogus'");
  EXPECT_EQ(Error({"status", "extra"}), "'status' takes no arguments");
  EXPECT_EQ(Error({"top", "1", "2"}), "'top' takes at most 1 argument");
  EXPECT_EQ(Error({"top", "0"}), "top N: expected a whole number from 1 to 1000, got '0'");
  EXPECT_EQ(Error({"top", "x"}), "top N: expected a whole number from 1 to 1000, got 'x'");
  EXPECT_EQ(Error({"--timeout", "0", "status"}),
            "--timeout: expected seconds, more than 0 and at most 3600, got '0'");
  EXPECT_EQ(Error({"--socket"}), "--socket: needs a value");
}

TEST(CtlOptionsTest, HelpNamesEveryCommandAndTheExitCodes) {
  const std::string h = CtlHelpText("xflowctl");
  for (const char* c :
       {"status", "ports", "collectors", "flows", "top [N]", "check", "reload", "flush", "stats",
        "--socket PATH", "--json", "--timeout S", "Exit status: 0 ok, 1", "docs/control.md"}) {
    EXPECT_NE(h.find(c), std::string::npos) << c;
  }
}

}  // namespace
}  // namespace xflowd::tools::xflowctl
