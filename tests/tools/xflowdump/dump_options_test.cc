// Command line, listen addresses, the UDP listener and the JSON writer.
#include "tools/xflowdump/dump_options.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tools/xflowdump/json_writer.h"
#include "tools/xflowdump/udp_listener.h"

namespace xflowd::tools::xflowdump {
namespace {

using ::testing::HasSubstr;

DumpOptions Parse(std::vector<std::string> args) {
  auto r = ParseDumpOptions(args);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : DumpOptions();
}

std::string ParseError(std::vector<std::string> args) {
  auto r = ParseDumpOptions(args);
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : r.status().message();
}

TEST(DumpOptionsTest, Defaults) {
  DumpOptions o = Parse({});
  EXPECT_EQ(o.listen.ToString(), "0.0.0.0:6343");
  EXPECT_TRUE(o.read_file.empty());
  EXPECT_EQ(o.mode, OutputMode::kText);
  EXPECT_EQ(o.port, 6343);
  EXPECT_EQ(o.interval_s, 1.0);
  EXPECT_EQ(o.count, 0u);
  EXPECT_EQ(o.duration_s, 0.0);
}

TEST(DumpOptionsTest, EveryOption) {
  DumpOptions o =
      Parse({"-r", "x.pcap", "-p", "9999", "-o", "json", "-c", "10", "-t", "2.5", "-i", "5", "-x"});
  EXPECT_EQ(o.read_file, "x.pcap");
  EXPECT_EQ(o.port, 9999);
  EXPECT_EQ(o.mode, OutputMode::kJson);
  EXPECT_EQ(o.count, 10u);
  EXPECT_EQ(o.duration_s, 2.5);
  EXPECT_EQ(o.interval_s, 5.0);
  EXPECT_TRUE(o.hex);
  o = Parse({"--listen=[::]:16343", "--output=summary", "--count", "3", "--help"});
  EXPECT_EQ(o.listen.ToString(), "[::]:16343");
  EXPECT_EQ(o.mode, OutputMode::kSummary);
  EXPECT_TRUE(o.help);
  EXPECT_EQ(Parse({"-l", "16343"}).listen.ToString(), "0.0.0.0:16343");
  EXPECT_EQ(Parse({"-l", "127.0.0.1:1"}).listen.ToString(), "127.0.0.1:1");
  EXPECT_EQ(Parse({"-r", "-", "-p", "0"}).port, 0);
}

TEST(DumpOptionsTest, ErrorsSayWhatIsWrong) {
  EXPECT_THAT(ParseError({"-o", "xml"}), HasSubstr("-o: 'xml' is not text, json or summary"));
  EXPECT_THAT(ParseError({"-c"}), HasSubstr("-c needs a value"));
  EXPECT_THAT(ParseError({"-c", "0"}), HasSubstr("at least 1"));
  EXPECT_THAT(ParseError({"-c", "-5"}), HasSubstr("not a whole number"));
  EXPECT_THAT(ParseError({"-t", "soon"}), HasSubstr("positive number of seconds"));
  EXPECT_THAT(ParseError({"-i", "0"}), HasSubstr("positive number of seconds"));
  EXPECT_THAT(ParseError({"-r", "x", "-p", "70000"}), HasSubstr("more than 65535"));
  EXPECT_THAT(ParseError({"-l", "99999"}), HasSubstr("bad port"));
  EXPECT_THAT(ParseError({"-l", "host.example:6343"}), HasSubstr("not an IPv4 or IPv6"));
  EXPECT_THAT(ParseError({"-r", "x", "-l", "1"}), HasSubstr("exclude each other"));
  EXPECT_THAT(ParseError({"-p", "1"}), HasSubstr("use -l PORT"));
  EXPECT_THAT(ParseError({"--frobnicate"}), HasSubstr("unknown option '--frobnicate'"));
}

TEST(DumpOptionsTest, UsageMentionsEveryOption) {
  const std::string u = DumpUsage();
  for (const char* opt :
       {"-l, --listen", "-r, --read", "-p, --port", "-o, --output", "-i, --interval", "-x, --hex",
        "-c, --count", "-t, --time", "Exit status", "sequence_gaps"}) {
    EXPECT_THAT(u, HasSubstr(opt));
  }
  size_t start = 0;
  while (start < u.size()) {
    const size_t end = u.find('\n', start);
    const std::string line = u.substr(start, end - start);
    EXPECT_LE(line.size(), 80u) << line;
    start = end == std::string::npos ? u.size() : end + 1;
  }
}

TEST(ListenAddressTest, Forms) {
  EXPECT_EQ(ParseListenAddress("", 6343)->ToString(), "0.0.0.0:6343");
  EXPECT_EQ(ParseListenAddress("7000", 6343)->ToString(), "0.0.0.0:7000");
  EXPECT_EQ(ParseListenAddress(":7000", 6343)->ToString(), "0.0.0.0:7000");
  EXPECT_EQ(ParseListenAddress("192.0.2.1", 6343)->ToString(), "192.0.2.1:6343");
  EXPECT_EQ(ParseListenAddress("192.0.2.1:7", 6343)->ToString(), "192.0.2.1:7");
  EXPECT_EQ(ParseListenAddress("[::1]:7", 6343)->ToString(), "[::1]:7");
  EXPECT_EQ(ParseListenAddress("::", 6343)->ToString(), "[::]:6343");
  EXPECT_FALSE(ParseListenAddress("123456", 6343).ok());
}

TEST(UdpListenerTest, ReceivesIpv4AndIpv6) {
  for (const char* addr : {"127.0.0.1", "::1"}) {
    auto ep = hal::base::IpAddress::Parse(addr);
    ASSERT_TRUE(ep.ok());
    auto l = UdpListener::Create(hal::base::Endpoint{*ep, 0});  // the kernel picks a port
    if (!l.ok() && ep->is_v6()) {
      GTEST_SKIP() << "no IPv6 loopback: " << l.status().ToString();
    }
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    const uint16_t port = (*l)->local().port;
    ASSERT_NE(port, 0);

    hal::base::ByteView payload;
    hal::base::Endpoint from;
    EXPECT_FALSE((*l)->Receive(&payload, &from).value());  // nothing yet: does not block

    const bool v6 = ep->is_v6();
    const int s = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
    ASSERT_GE(s, 0);
    sockaddr_storage ss{};
    socklen_t len;
    if (v6) {
      auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
      sin6->sin6_family = AF_INET6;
      sin6->sin6_port = htons(port);
      sin6->sin6_addr = in6addr_loopback;
      len = sizeof(*sin6);
    } else {
      auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
      sin->sin_family = AF_INET;
      sin->sin_port = htons(port);
      sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      len = sizeof(*sin);
    }
    const char msg[] = "sflow?";
    ASSERT_EQ(sendto(s, msg, 6, 0, reinterpret_cast<sockaddr*>(&ss), len), 6);
    close(s);
    bool got = false;
    for (int i = 0; i < 1000 && !got; ++i) {  // loopback delivery is immediate in practice
      auto r = (*l)->Receive(&payload, &from);
      ASSERT_TRUE(r.ok());
      got = *r;
    }
    ASSERT_TRUE(got);
    EXPECT_EQ(std::string(payload.begin(), payload.end()), "sflow?");
    EXPECT_EQ(from.address.ToString(), v6 ? "::1" : "127.0.0.1");
  }
}

TEST(UdpListenerTest, BindErrorsAreReported) {
  auto first = UdpListener::Create(hal::base::Endpoint{hal::base::IpAddress::V4(0x7f000001), 0});
  ASSERT_TRUE(first.ok());
  hal::base::Endpoint same = (*first)->local();
  auto second = UdpListener::Create(same);
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.status().message(), HasSubstr("already running"));
}

TEST(JsonWriterTest, NestingCommasAndEscapes) {
  JsonWriter w;
  w.BeginObject()
      .Field("a", uint64_t{18446744073709551615ull})
      .Key("b")
      .BeginArray()
      .Uint(1)
      .Int(-2)
      .Bool(true)
      .Null()
      .BeginObject()
      .EndObject()
      .EndArray()
      .Field("s", std::string("q\"\\\n\t\x01\xe9"))
      .Key("d")
      .Double(1.5, 3)
      .EndObject();
  EXPECT_EQ(w.str(),
            R"({"a":18446744073709551615,"b":[1,-2,true,null,{}],"s":"q\"\\\n\t\u0001\u00e9",)"
            R"("d":1.500})");
  w.Clear();
  w.BeginArray().EndArray();
  EXPECT_EQ(w.str(), "[]");
  EXPECT_EQ(HexString(reinterpret_cast<const uint8_t*>("\x00\xff\x10"), 3), "00ff10");
}

}  // namespace
}  // namespace xflowd::tools::xflowdump
