// The xflowdump printers derived from a record's field list: what a new record type prints
// before (or without) a text layout of its own, and its JSON body. One made-up record with
// every field kind.
#include "tools/xflowdump/record_fields.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace xflowd::tools::xflowdump {
namespace {

namespace sf = exporter::sflow;
using hal::base::IpAddress;

struct Item {
  uint32_t id = 0;
  std::vector<uint32_t> values;

  template <typename Self, typename V>
  static void Fields(Self& r, V& v) {
    v.U32("id", r.id);
    v.U32Array("values", "value count", "value", r.values);
  }
};

struct EveryKind {
  uint32_t count = 7;
  uint32_t protocol = sf::kHeaderIpv6;
  uint32_t reason = 99;  // unassigned drop reason
  uint64_t bytes = 1ull << 40;
  uint8_t v4[4] = {192, 0, 2, 1};
  uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x0a};
  IpAddress hop;  // unknown
  std::vector<uint8_t> data = {0xde, 0xad, 0xbe};
  std::string name = "eth\x01";
  std::vector<uint32_t> list = {1, 2};
  std::vector<Item> items = {{5, {6}}, {8, {}}};

  template <typename Self, typename V>
  static void Fields(Self& r, V& v) {
    v.U32("count", r.count);
    v.U32("protocol", r.protocol, sf::ValueNames::kHeaderProtocol);
    v.U32("reason", r.reason, sf::ValueNames::kDropReason);
    v.U64("bytes", r.bytes);
    v.Ipv4("v4", r.v4);
    v.Ipv6("v6", r.v6);
    v.Mac("mac", r.mac);
    v.Address("hop", r.hop);
    v.Opaque("data", "data length", 64, r.data);
    v.String("name", "name length", 16, r.name);
    v.U32Array("list", "list count", "list item", r.list);
    v.Array("items", "item count", r.items);
  }
};

TEST(RecordFieldsTest, TextListsEveryFieldInOrderThenTheHex) {
  const EveryKind r;
  std::string out;
  TextOptions opt;
  opt.hex = true;
  TextFields text(opt, &out);
  sf::VisitFields(r, text);
  text.Finish();
  EXPECT_EQ(out,
            "  count 7  protocol 12 ipv6  reason 99  bytes 1099511627776  v4 192.0.2.1"
            "  v6 2001:db8::1  mac 02:00:00:00:00:0a  hop unknown  data 3 bytes  name \"eth?\""
            "  list [1 2]  items [{  id 5  values [6] } {  id 8  values [] }]\n"
            "      0000  de ad be\n");

  out.clear();
  TextFields no_hex(TextOptions{}, &out);
  sf::VisitFields(r, no_hex);
  no_hex.Finish();
  EXPECT_EQ(out.find("0000"), std::string::npos);
  EXPECT_EQ(out.back(), '\n');
}

TEST(RecordFieldsTest, JsonUsesTheMemberNames) {
  const EveryKind r;
  JsonWriter w;
  w.BeginObject();
  JsonFields json(&w);
  sf::VisitFields(r, json);
  w.EndObject();
  EXPECT_EQ(w.str(),
            R"({"count":7,"protocol":12,"protocol_name":"ipv6","reason":99,"reason_name":null,)"
            R"("bytes":1099511627776,"v4":"192.0.2.1","v6":"2001:db8::1",)"
            R"("mac":"02:00:00:00:00:0a","hop":null,"data_length":3,"data":"deadbe",)"
            R"("name":"eth\u0001","list":[1,2],)"
            R"("items":[{"id":5,"values":[6]},{"id":8,"values":[]}]})");
}

}  // namespace
}  // namespace xflowd::tools::xflowdump
