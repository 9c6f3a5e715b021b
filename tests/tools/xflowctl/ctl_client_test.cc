// xflowctl's client against a one-shot server on a real unix socket (a thread that answers one
// line), and its messages when the daemon cannot be reached.
#include "tools/xflowctl/ctl_client.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <thread>

#include "tests/support/temp_dir.h"

namespace xflowd::tools::xflowctl {
namespace {

int Listen(const std::string& path) {
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a = {};
  a.sun_family = AF_UNIX;
  std::snprintf(a.sun_path, sizeof(a.sun_path), "%s", path.c_str());
  EXPECT_EQ(bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  EXPECT_EQ(listen(s, 1), 0);
  return s;
}

std::string ReadLine(int c) {
  std::string got;
  char buf[256];
  while (got.find('\n') == std::string::npos) {
    ssize_t n = read(c, buf, sizeof(buf));
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

TEST(CtlClientTest, SendsTheLineAndParsesTheReply) {
  xflowd::testing::TempDir dir;
  const std::string path = dir.File("x.sock");
  int s = Listen(path);
  std::string got;
  std::thread server([&] {
    int c = accept(s, nullptr, nullptr);
    got = ReadLine(c);
    const std::string reply = "{\"ok\":true,\"result\":{\"x\":1}}\n";
    (void)!write(c, reply.data(), reply.size());
    close(c);
  });
  CallOutcome r = Call(path, "{\"command\":\"status\"}\n", 10);
  server.join();
  close(s);
  ASSERT_TRUE(r.reached) << r.error;
  EXPECT_EQ(got, "{\"command\":\"status\"}\n");
  EXPECT_EQ(r.reply["result"]["x"], 1);
}

TEST(CtlClientTest, ReplyThatIsNotAControlReplyIsAnError) {
  xflowd::testing::TempDir dir;
  const std::string path = dir.File("x.sock");
  int s = Listen(path);
  std::thread server([&] {
    int c = accept(s, nullptr, nullptr);
    // Read the request first, as a real server would: closing before the client has sent
    // makes its send fail with EPIPE instead of reaching the reply.
    ReadLine(c);
    (void)!write(c, "hello\n", 6);
    close(c);
  });
  CallOutcome r = Call(path, "{\"command\":\"status\"}\n", 10);
  server.join();
  close(s);
  EXPECT_FALSE(r.reached);
  EXPECT_NE(r.error.find("is not a control reply: hello"), std::string::npos) << r.error;
}

TEST(CtlClientTest, NoSocketNamesThePathAndAsksIfXflowdRuns) {
  CallOutcome r = Call("/nonexistent-xflowd-test/x.sock", "{}\n", 1);
  EXPECT_FALSE(r.reached);
  EXPECT_NE(r.error.find("cannot connect to /nonexistent-xflowd-test/x.sock"), std::string::npos);
  EXPECT_NE(r.error.find("is xflowd running?"), std::string::npos) << r.error;
  EXPECT_NE(ConnectErrorMessage("/s", EACCES).find("mode 0600"), std::string::npos);
  EXPECT_NE(ConnectErrorMessage("/s", ECONNREFUSED).find("nobody listens"), std::string::npos);
}

TEST(CtlClientTest, ServerThatNeverAnswersTimesOut) {
  xflowd::testing::TempDir dir;
  const std::string path = dir.File("x.sock");
  int s = Listen(path);  // the backlog takes the connection; nobody ever answers
  CallOutcome r = Call(path, "{\"command\":\"status\"}\n", 0.05);
  close(s);
  EXPECT_FALSE(r.reached);
  EXPECT_NE(r.error.find("no reply from " + path), std::string::npos) << r.error;
}

}  // namespace
}  // namespace xflowd::tools::xflowctl
