#include "hal/ovs/ovsdb_client.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "hal/base/clock.h"
#include "hal/base/log.h"

namespace xflowd::hal::ovs {
namespace {

std::vector<std::string> Session() {
  std::ifstream in(std::string(XFLOWD_TESTDATA_DIR) + "/ovs/monitor_session.jsonl");
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// A stand-in ovsdb-server on a unix socket: answers each connection's monitor request with the
// captured reply (its id replaced), echoes back a request "echo" it makes, and can send more.
class FakeServer {
 public:
  FakeServer() {
    char tmpl[] = "/tmp/xf-ovsdb-test.XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/db.sock";
    listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path_.c_str(), sizeof(a.sun_path) - 1);
    EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    EXPECT_EQ(listen(listen_fd_, 4), 0);
  }
  ~FakeServer() {
    if (conn_ >= 0) close(conn_);
    close(listen_fd_);
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  const std::string& path() const { return path_; }
  // Accepts one connection and answers its monitor request (in a thread: the client blocks).
  std::thread ServeMonitor() {
    return std::thread([this] {
      conn_ = accept(listen_fd_, nullptr, nullptr);
      std::string req = ReadOne();
      const nlohmann::json r = nlohmann::json::parse(req);
      nlohmann::json reply = nlohmann::json::parse(Session()[0]);
      reply["id"] = r["id"];
      Send(reply.dump());
    });
  }
  void Send(const std::string& text) {
    ASSERT_EQ(write(conn_, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }
  void Hangup() {
    close(conn_);
    conn_ = -1;
  }
  std::string ReadOne() {
    JsonStreamSplitter s;
    char buf[4096];
    for (;;) {
      auto next = s.Next();
      if (next.ok() && next->has_value()) return **next;
      pollfd p{conn_, POLLIN, 0};
      if (poll(&p, 1, 2000) <= 0) return "";
      ssize_t n = read(conn_, buf, sizeof(buf));
      if (n <= 0) return "";
      s.Feed(buf, static_cast<size_t>(n));
    }
  }

 private:
  std::string dir_, path_;
  int listen_fd_ = -1;
  int conn_ = -1;
};

class OvsdbClientTest : public ::testing::Test {
 protected:
  base::ManualClock clock_;
  base::Logger logger_ = base::Logger::Null();
};

TEST_F(OvsdbClientTest, NoServerIsAnErrorThatNamesTheSocket) {
  auto c = OvsdbClient::Create("/tmp/xf-no-such-dir/db.sock", clock_, logger_, 100);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("/tmp/xf-no-such-dir/db.sock"), std::string::npos);
  EXPECT_NE(c.status().message().find("--ovs"), std::string::npos);
}

TEST_F(OvsdbClientTest, MonitorsFollowsUpdatesAndResyncsAfterARestart) {
  FakeServer server;
  std::thread t = server.ServeMonitor();
  auto c = OvsdbClient::Create(server.path(), clock_, logger_, 2000);
  t.join();
  ASSERT_TRUE(c.ok()) << c.status().message();
  OvsdbClient& client = **c;
  EXPECT_TRUE(client.connected());
  EXPECT_EQ(client.generation(), 1u);
  EXPECT_EQ(client.model().interfaces().size(), 3u);

  // An update (del-port p2) and an echo request arrive.
  server.Send(Session()[2]);
  server.Send(R"({"id":"echo","method":"echo","params":[]})");
  pollfd p{client.fd(), POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 2000), 1);
  client.OnReadable();
  EXPECT_EQ(client.model().interfaces().size(), 2u);
  EXPECT_EQ(client.stats().updates, 1u);
  const nlohmann::json echo = nlohmann::json::parse(server.ReadOne());
  EXPECT_EQ(echo["id"], "echo");
  EXPECT_TRUE(echo["error"].is_null());

  // ovsdb-server goes away: the client notices, waits its backoff, then connects again and
  // its model is the new monitor reply (p2 back, as the capture has it), not a sum of both.
  server.Hangup();
  ASSERT_EQ(poll(&p, 1, 2000), 1);
  client.OnReadable();
  EXPECT_FALSE(client.connected());
  EXPECT_EQ(client.fd(), -1);
  client.Tick(clock_.Now());  // too early: nothing
  EXPECT_EQ(client.stats().connects, 1u);
  clock_.Advance(OvsdbClient::kMinBackoff);
  std::thread t2 = server.ServeMonitor();
  client.Tick(clock_.Now());
  t2.join();
  EXPECT_TRUE(client.connected());
  EXPECT_EQ(client.generation(), 2u);
  EXPECT_EQ(client.stats().connects, 2u);
  EXPECT_EQ(client.stats().disconnects, 1u);
  EXPECT_EQ(client.model().interfaces().size(), 3u);
  EXPECT_EQ(client.model().bridges().size(), 1u);
}

TEST_F(OvsdbClientTest, AnUpdateThatDoesNotApplyResetsTheConnection) {
  FakeServer server;
  std::thread t = server.ServeMonitor();
  auto c = OvsdbClient::Create(server.path(), clock_, logger_, 2000);
  t.join();
  ASSERT_TRUE(c.ok());
  server.Send(
      R"({"id":null,"method":"update","params":["xflowd",{"Interface":{"u":{"new":{"ofport":"x"}}}}]})");
  pollfd p{(*c)->fd(), POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 2000), 1);
  (*c)->OnReadable();
  EXPECT_EQ((*c)->stats().bad_messages, 1u);
  EXPECT_FALSE((*c)->connected());
  EXPECT_EQ((*c)->model().interfaces().size(), 3u);  // the last good state, until re-synced
}

}  // namespace
}  // namespace xflowd::hal::ovs
