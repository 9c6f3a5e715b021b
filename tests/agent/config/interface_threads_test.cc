#include <gtest/gtest.h>

#include "agent/config/config.h"
#include "agent/config/config_file.h"

namespace xflowd::agent::config {
namespace {

TEST(InterfaceThreadsTest, DefaultOneParsedRangeCheckedAndFormatted) {
  EXPECT_EQ(Config{}.source.interface.threads, 1u);
  auto c =
      ParseConfigText("[source.interface]\nname = \"eth0\"\nthreads = 4\n", "t.toml", Config{});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->source.interface.threads, 4u);
  EXPECT_NE(FormatConfig(*c).find("[source.interface]\nname = \"eth0\"\npromiscuous = true\n"
                                  "snaplen = 256\nthreads = 4\n"),
            std::string::npos)
      << FormatConfig(*c);
  auto bad =
      ParseConfigText("[source.interface]\nname = \"eth0\"\nthreads = 65\n", "t.toml", Config{});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("threads"), std::string::npos);
}

}  // namespace
}  // namespace xflowd::agent::config
