// The control protocol's request parser and reply encoding (docs/control.md).
#include "agent/control/protocol.h"

#include <gtest/gtest.h>

#include <string>

namespace xflowd::agent::control {
namespace {

using nlohmann::json;

TEST(ControlProtocolTest, ParsesCommandAndArgs) {
  auto r = ParseRequest(R"({"command": "top", "args": {"n": 5}})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->command, "top");
  EXPECT_EQ(r->args, json({{"n", 5}}));
}

TEST(ControlProtocolTest, ArgsAreOptionalAndNullIsEmpty) {
  for (const char* line : {R"({"command":"status"})", R"({"command":"status","args":null})",
                           "{\"command\":\"status\"}\r", R"(  {"command":"status"}  )"}) {
    auto r = ParseRequest(line);
    ASSERT_TRUE(r.ok()) << line << ": " << r.status().ToString();
    EXPECT_EQ(r->command, "status");
    EXPECT_TRUE(r->args.is_object() && r->args.empty()) << line;
  }
}

TEST(ControlProtocolTest, BadRequestsSayWhatIsWrong) {
  struct Case {
    const char* line;
    const char* error;
  };
  for (const Case& c : {
           Case{"", "request is not JSON"}, Case{"status", "request is not JSON"},
           Case{R"({"command": "status")", "request is not JSON"},
           Case{R"(["status"])", "must be a JSON object"}, Case{"42", "must be a JSON object"},
           Case{R"({})", "no \"command\""}, Case{R"({"args": {}})", "no \"command\""},
           Case{R"({"command": 1})", "\"command\" must be a non-empty string"},
           Case{R"({"command": ""})", "\"command\" must be a non-empty string"},
           Case{R"({"command": "top", "args": [5]})", "\"args\" must be an object"},
           Case{R"({"command": "top", "n": 5})", "unknown request member \"n\""},
           Case{"{\"command\": \"\xff\"}", "request is not JSON"},  // not UTF-8
       }) {
    auto r = ParseRequest(c.line);
    ASSERT_FALSE(r.ok()) << c.line;
    EXPECT_NE(r.status().message().find(c.error), std::string::npos)
        << c.line << " -> " << r.status().message();
  }
}

TEST(ControlProtocolTest, RepliesAreOneLineOfJson) {
  const std::string ok = EncodeOk(json{{"a", 1}, {"b", "x\ny"}});
  EXPECT_EQ(ok, "{\"ok\":true,\"result\":{\"a\":1,\"b\":\"x\\ny\"}}\n");
  const std::string err = EncodeError("no such \"thing\"");
  EXPECT_EQ(err, "{\"error\":\"no such \\\"thing\\\"\",\"ok\":false}\n");
  EXPECT_EQ(json::parse(err)["error"], "no such \"thing\"");
}

TEST(ControlProtocolTest, InvalidUtf8IsReplacedNotThrown) {
  // A command name echoed in an error may hold any bytes a client sent.
  std::string err;
  EXPECT_NO_THROW(err = EncodeError(std::string("unknown command \"\xff\xfe\"")));
  EXPECT_EQ(err.back(), '\n');
  EXPECT_EQ(err.find('\n'), err.size() - 1);
  EXPECT_NE(err.find("\xef\xbf\xbd"), std::string::npos) << err;  // U+FFFD
  EXPECT_FALSE(json::parse(err, nullptr, false).is_discarded());
}

TEST(ControlProtocolTest, EncodedRequestParsesBack) {
  const std::string line = EncodeRequest("top", json{{"n", 3}});
  ASSERT_EQ(line.back(), '\n');
  auto r = ParseRequest(std::string_view(line).substr(0, line.size() - 1));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->command, "top");
  EXPECT_EQ(r->args["n"], 3);
  EXPECT_EQ(EncodeRequest("status"), "{\"command\":\"status\"}\n");
}

TEST(ControlProtocolTest, UintArgChecksTypeAndRange) {
  EXPECT_EQ(*UintArg(json::object(), "n", 10, 1, 1000), 10u);
  EXPECT_EQ(*UintArg(json{{"n", 7}}, "n", 10, 1, 1000), 7u);
  EXPECT_FALSE(UintArg(json{{"n", 0}}, "n", 10, 1, 1000).ok());
  EXPECT_FALSE(UintArg(json{{"n", 1001}}, "n", 10, 1, 1000).ok());
  EXPECT_FALSE(UintArg(json{{"n", -1}}, "n", 10, 1, 1000).ok());
  EXPECT_FALSE(UintArg(json{{"n", 2.5}}, "n", 10, 1, 1000).ok());
  EXPECT_FALSE(UintArg(json{{"n", "5"}}, "n", 10, 1, 1000).ok());
}

}  // namespace
}  // namespace xflowd::agent::control
