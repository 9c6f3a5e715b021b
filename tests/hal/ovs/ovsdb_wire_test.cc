#include "hal/ovs/ovsdb_wire.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace xflowd::hal::ovs {
namespace {

// Captured from ovsdb-server 3.1 (Debian 12) by a "monitor" of xflowd's columns on a netdev
// bridge br0 with ports p1, p2: the reply, then the updates of
//   ovs-vsctl -- --id=@s create sFlow targets="127.0.0.1:6343" sampling=64 polling=0
//     header=128 external_ids:xflowd=test -- set Bridge br0 sflow=@s
//   ovs-vsctl del-port br0 p2
//   ovs-vsctl clear Bridge br0 sflow
// and a statistics refresh by ovs-vswitchd. One JSON text per line.
std::vector<std::string> Session() {
  std::ifstream in(std::string(XFLOWD_TESTDATA_DIR) + "/ovs/monitor_session.jsonl");
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string Stream() {
  std::string all;
  for (const std::string& m : Session()) all += m;  // OVSDB sends them back to back
  return all;
}

TEST(OvsdbWireGoldenTest, SplitterFindsEveryMessageWhateverTheChunks) {
  const std::vector<std::string> want = Session();
  ASSERT_EQ(want.size(), 5u);
  const std::string all = Stream();
  for (size_t chunk : {size_t{1}, size_t{7}, size_t{4096}, all.size()}) {
    JsonStreamSplitter s;
    std::vector<std::string> got;
    for (size_t off = 0; off < all.size(); off += chunk) {
      s.Feed(all.data() + off, std::min(chunk, all.size() - off));
      for (;;) {
        auto next = s.Next();
        ASSERT_TRUE(next.ok()) << next.status().message();
        if (!next->has_value()) break;
        got.push_back(**next);
      }
    }
    EXPECT_EQ(got, want) << "chunk " << chunk;
    EXPECT_EQ(s.buffered(), 0u);
  }
}

TEST(OvsdbWireGoldenTest, MonitorReplyBuildsTheModel) {
  auto m = ParseMessage(Session()[0]);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->kind, OvsdbMessage::Kind::kReply);
  EXPECT_EQ(m->id, 1);
  OvsdbModel model;
  ASSERT_TRUE(model.ApplyUpdates(m->result_json).ok());
  ASSERT_EQ(model.bridges().size(), 1u);
  const BridgeRow* br = model.FindBridge("br0");
  ASSERT_NE(br, nullptr);
  EXPECT_EQ(br->datapath_type, "netdev");
  EXPECT_EQ(br->ports.size(), 3u);
  EXPECT_EQ(br->sflow, "");
  ASSERT_EQ(model.interfaces().size(), 3u);
  const InterfaceRow& p1 = model.interfaces().at("ba29d3cf-a4d3-445c-b327-c4755d0342c8");
  EXPECT_EQ(p1.name, "p1");
  EXPECT_EQ(p1.ifindex, 4);
  EXPECT_EQ(p1.ofport, 1);
  EXPECT_EQ(p1.link_state, "up");
  EXPECT_EQ(p1.link_speed, 10000000000);
  EXPECT_EQ(p1.mtu, 1500);
  EXPECT_EQ(p1.type, "");
  EXPECT_EQ(p1.statistics.count("rx_packets"), 1u);
  EXPECT_TRUE(p1.external_ids.empty());
  const InterfaceRow& internal = model.interfaces().at("014c9d54-fd1a-41b8-bbbd-4a715243cffe");
  EXPECT_EQ(internal.name, "br0");
  EXPECT_EQ(internal.type, "internal");
  EXPECT_EQ(internal.ofport, 65534);
  EXPECT_EQ(internal.admin_state, "down");
  EXPECT_EQ(internal.statistics.at("tx_dropped"), 12);
  EXPECT_EQ(model.BridgeOfInterface(p1.uuid), br);
}

TEST(OvsdbWireGoldenTest, UpdatesFollowTheDatabase) {
  const std::vector<std::string> s = Session();
  OvsdbModel model;
  ASSERT_TRUE(model.ApplyUpdates(ParseMessage(s[0])->result_json).ok());

  auto add_sflow = ParseMessage(s[1]);
  ASSERT_TRUE(add_sflow.ok());
  EXPECT_EQ(add_sflow->kind, OvsdbMessage::Kind::kNotification);
  EXPECT_EQ(add_sflow->method, "update");
  ASSERT_TRUE(model.ApplyUpdates(add_sflow->update_json).ok());
  const BridgeRow* br = model.FindBridge("br0");
  ASSERT_NE(br->sflow, "");
  const SflowRow* row = model.FindSflow(br->sflow);
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row->targets, std::vector<std::string>{"127.0.0.1:6343"});
  EXPECT_EQ(row->sampling, 64);
  EXPECT_EQ(row->polling, 0);
  EXPECT_EQ(row->header, 128);
  EXPECT_EQ(row->agent, "");
  EXPECT_EQ(row->external_ids.at("xflowd"), "test");

  ASSERT_TRUE(model.ApplyUpdates(ParseMessage(s[2])->update_json).ok());  // del-port p2
  EXPECT_EQ(model.FindBridge("br0")->ports.size(), 2u);
  EXPECT_EQ(model.interfaces().size(), 2u);
  EXPECT_EQ(model.ports().size(), 2u);

  ASSERT_TRUE(model.ApplyUpdates(ParseMessage(s[3])->update_json).ok());  // clear sflow
  EXPECT_EQ(model.FindBridge("br0")->sflow, "");
  EXPECT_TRUE(model.sflows().empty());

  const int64_t before =
      model.interfaces().at("ba29d3cf-a4d3-445c-b327-c4755d0342c8").statistics.at("rx_packets");
  ASSERT_TRUE(model.ApplyUpdates(ParseMessage(s[4])->update_json).ok());  // statistics
  EXPECT_GT(
      model.interfaces().at("ba29d3cf-a4d3-445c-b327-c4755d0342c8").statistics.at("rx_packets"),
      before);
}

TEST(OvsdbWireTest, BadInputIsAnErrorAndChangesNothing) {
  OvsdbModel model;
  ASSERT_TRUE(model.ApplyUpdates(ParseMessage(Session()[0])->result_json).ok());
  const size_t n = model.interfaces().size();
  for (
      const char* bad : {
          "",
          "[",
          "not json",
          "[1,2]",
          R"({"Interface": 5})",
          R"({"Interface": {"u1": 5}})",
          R"({"Interface": {"u1": {"new": {"ofport": "one"}}}})",
          R"({"Interface": {"u1": {"new": {"statistics": ["map", [["rx", "x"]]]}}}})",
          R"({"Interface": {"u1": {"new": {"statistics": ["map", 3]}}}})",
          R"({"Bridge": {"b": {"new": {"ports": ["uuid", 7]}}}})",
          R"({"Bridge": {"b": {"new": {"ports": ["set", [1]]}}}, "Interface": {"u2": {"new": {}}}})",
          R"({"sFlow": {"s": {"new": {"targets": ["set", [1]]}}}})",
      }) {
    EXPECT_FALSE(model.ApplyUpdates(bad).ok()) << bad;
  }
  EXPECT_EQ(model.interfaces().size(), n);
  for (const char* bad : {"", "{", "[]", "{}", R"({"method": 1, "params": []})",
                          R"({"method": "update", "params": [1]})", R"({"method": "update"})"}) {
    EXPECT_FALSE(ParseMessage(bad).ok()) << bad;
  }
  JsonStreamSplitter s;
  s.Feed("x{}", 3);
  EXPECT_FALSE(s.Next().ok());
  JsonStreamSplitter deep;
  const std::string nested(100, '[');
  deep.Feed(nested.data(), nested.size());
  EXPECT_FALSE(deep.Next().ok());
}

TEST(OvsdbWireTest, StringsWithBracketsDoNotConfuseTheSplitter) {
  JsonStreamSplitter s;
  const std::string text = R"({"a":"}]\"{["} [1] )";
  s.Feed(text.data(), text.size());
  auto a = s.Next();
  ASSERT_TRUE(a.ok() && a->has_value());
  EXPECT_EQ(**a, R"({"a":"}]\"{["})");
  auto b = s.Next();
  ASSERT_TRUE(b.ok() && b->has_value());
  EXPECT_EQ(**b, "[1]");
  auto c = s.Next();
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->has_value());
}

TEST(OvsdbWireTest, EchoAndMonitorRequests) {
  auto echo = ParseMessage(R"({"method":"echo","params":["x"],"id":"echo"})");
  ASSERT_TRUE(echo.ok());
  EXPECT_EQ(echo->kind, OvsdbMessage::Kind::kRequest);
  EXPECT_EQ(EchoReply(*echo), R"({"error":null,"id":"echo","result":["x"]})");
  const nlohmann::json mon = nlohmann::json::parse(MonitorRequest(9));
  EXPECT_EQ(mon["method"], "monitor");
  EXPECT_EQ(mon["id"], 9);
  EXPECT_EQ(mon["params"][0], "Open_vSwitch");
  for (const char* t : {"Bridge", "Port", "Interface", "sFlow"}) {
    EXPECT_TRUE(mon["params"][2].contains(t)) << t;
  }
  auto err = ParseMessage(R"({"id":3,"result":null,"error":"unknown database"})");
  ASSERT_TRUE(err.ok());
  EXPECT_EQ(err->error, "unknown database");
}

TEST(OvsdbWireTest, SflowTransactions) {
  SflowWrite insert;
  insert.bridge_uuid = "b-1";
  insert.settings.targets = {"127.0.0.1:4000"};
  insert.settings.sampling = 256;
  insert.settings.header = 128;
  insert.settings.external_ids["xflowd"] = "pid 1";
  const nlohmann::json t = nlohmann::json::parse(SflowTransaction(5, {insert}));
  EXPECT_EQ(t["method"], "transact");
  ASSERT_EQ(t["params"].size(), 3u);
  EXPECT_EQ(t["params"][1]["op"], "insert");
  EXPECT_EQ(t["params"][1]["table"], "sFlow");
  EXPECT_EQ(t["params"][1]["row"]["sampling"], 256);
  EXPECT_EQ(t["params"][1]["row"]["targets"],
            nlohmann::json::parse(R"(["set",["127.0.0.1:4000"]])"));
  EXPECT_EQ(t["params"][1]["row"]["agent"], nlohmann::json::parse(R"(["set",[]])"));
  EXPECT_EQ(t["params"][1]["row"]["external_ids"],
            nlohmann::json::parse(R"(["map",[["xflowd","pid 1"]]])"));
  EXPECT_EQ(t["params"][2]["op"], "update");
  EXPECT_EQ(t["params"][2]["table"], "Bridge");
  EXPECT_EQ(t["params"][2]["row"]["sflow"][0], "named-uuid");
  EXPECT_EQ(t["params"][2]["row"]["sflow"][1], t["params"][1]["uuid-name"]);

  SflowWrite update = insert;
  update.existing_sflow_uuid = "s-1";
  const nlohmann::json u = nlohmann::json::parse(SflowTransaction(6, {update}));
  ASSERT_EQ(u["params"].size(), 2u);
  EXPECT_EQ(u["params"][1]["op"], "update");
  EXPECT_EQ(u["params"][1]["where"], nlohmann::json::parse(R"([["_uuid","==",["uuid","s-1"]]])"));

  const nlohmann::json d = nlohmann::json::parse(SflowDetachTransaction(7, {{"b-1", "s-1"}}));
  EXPECT_EQ(d["params"][1]["where"][1], nlohmann::json::parse(R"(["sflow","==",["uuid","s-1"]])"));
  EXPECT_EQ(d["params"][1]["row"]["sflow"], nlohmann::json::parse(R"(["set",[]])"));

  EXPECT_EQ(TransactError(R"([{"uuid":["uuid","s-9"]},{"count":1}])"), "");
  EXPECT_EQ(InsertedUuid(R"([{"uuid":["uuid","s-9"]},{"count":1}])", 0), "s-9");
  EXPECT_EQ(InsertedUuid(R"([{"count":1}])", 0), "");
  EXPECT_EQ(TransactError(R"([{"count":1},{"error":"constraint violation","details":"no"}])"),
            "operation 2: constraint violation: no");
  auto sampling = SelectedSampling(R"([{"rows":[{"sampling":256}]}])");
  ASSERT_TRUE(sampling.ok());
  EXPECT_EQ(*sampling, 256);
  EXPECT_FALSE(SelectedSampling(R"([{"rows":[]}])").ok());
  EXPECT_FALSE(SelectedSampling(R"([{"rows":[{"sampling":"x"}]}])").ok());
}

}  // namespace
}  // namespace xflowd::hal::ovs
