#include "tools/xflowctl/ctl_format.h"

#include <gtest/gtest.h>

namespace xflowd::tools::xflowctl {
namespace {

using nlohmann::json;

TEST(CtlFormatTest, PortsTableAlignsColumns) {
  const json ports = json::array(
      {json{{"ifindex", 1},
            {"name", "swp1"},
            {"oper_up", true},
            {"direction", "both"},
            {"egress", {{"samples", 7}}},
            {"requested_rate", 1000},
            {"rate", 1024},
            {"samples", 12},
            {"pool", 12288},
            {"drops", 0},
            {"polling_interval_s", 20},
            {"counter_samples", 3},
            {"counters", {{"in_ucast_pkts", 12345}, {"in_octets", nullptr}, {"in_discards", 0}}},
            {"receiver", "snmp-1"},
            {"poller_receiver", "config"}},
       json{{"ifindex", 10},
            {"name", "swp10"},
            {"oper_up", false},
            {"direction", nullptr},
            {"egress", nullptr},
            {"requested_rate", 1000},
            {"rate", nullptr},
            {"samples", nullptr},
            {"pool", nullptr},
            {"drops", nullptr},
            {"polling_interval_s", 20},
            {"counter_samples", 0},
            {"counters", nullptr},
            {"receiver", nullptr},
            {"poller_receiver", "none"}}});
  EXPECT_EQ(FormatResult("ports", ports),
            "IFINDEX  NAME    UP  DIR   RATE_WANTED  RATE  SAMPLES   POOL  DROPS  EG_SAMPLES  "
            "POLL_S  CTR_SAMPLES  IN_PKTS  IN_OCTETS  IN_DISCARDS  RCVR    CP_RCVR\n"
            "      1  swp1   yes  both         1000  1024       12  12288      0           7  "
            "    20            3    12345          -            0  snmp-1  config\n"
            "     10  swp10   no  -            1000     -        -      -      -           -  "
            "    20            0        -          -            -  -       none\n");
}

TEST(CtlFormatTest, CollectorsShowStateAndDetails) {
  const json c = json::array({json{{"protocol", "sflow"},
                                   {"receiver", "config"},
                                   {"transport", "udp 192.0.2.1:6343"},
                                   {"state", "down"},
                                   {"datagrams", 10},
                                   {"bytes", 14000},
                                   {"send_errors", 0},
                                   {"lost", 4},
                                   {"last_error", "Connection refused"},
                                   {"details", "refused 4 (ICMP port unreachable)"}}});
  const std::string s = FormatResult("collectors", c);
  EXPECT_NE(s.find("sflow     config    udp 192.0.2.1:6343  down"), std::string::npos) << s;
  EXPECT_NE(s.find("Connection refused"), std::string::npos) << s;
  EXPECT_NE(s.find("  udp 192.0.2.1:6343: refused 4 (ICMP port unreachable)\n"), std::string::npos)
      << s;
  EXPECT_EQ(FormatResult("collectors", json::array()), "no collectors\n");
}

TEST(CtlFormatTest, ObjectsAreKeyValueLinesWithDottedKeys) {
  EXPECT_EQ(FormatResult("flows", json{{"enabled", true},
                                       {"active", 3},
                                       {"records_by_reason", {{"idle", 1}, {"forced", 2}}}}),
            "active:                   3\n"
            "enabled:                  yes\n"
            "records_by_reason.forced: 2\n"
            "records_by_reason.idle:   1\n");
  EXPECT_EQ(FormatResult("flows", json{{"enabled", false}}),
            "no flow cache (no NetFlow/IPFIX collector configured)\n");
  EXPECT_EQ(FormatResult("flush", json{{"enabled", true}, {"records", 42}}),
            "flushed: 42 records exported\n");
  // Whatever a daemon sends, the table never throws.
  EXPECT_EQ(FormatResult("flows", json{{"enabled", "x"}}), "enabled: x\n");
  EXPECT_EQ(FormatResult("ports", json::array({1, "a", nullptr})),
            "IFINDEX  NAME  UP  DIR  RATE_WANTED  RATE  SAMPLES  POOL  DROPS  EG_SAMPLES  POLL_S  "
            "CTR_SAMPLES  IN_PKTS  IN_OCTETS  IN_DISCARDS  RCVR  CP_RCVR\n"
            "      -  -      -  -              -     -        -     -      -           -       -  "
            "          -        -          -            -  -     -\n"
            "      -  -      -  -              -     -        -     -      -           -       -  "
            "          -        -          -            -  -     -\n"
            "      -  -      -  -              -     -        -     -      -           -       -  "
            "          -        -          -            -  -     -\n");
  EXPECT_EQ(FormatResult("status", json{{"uptime_s", 12.3456}, {"last_reload", nullptr}}),
            "last_reload: -\nuptime_s:    12.35\n");
}

TEST(CtlFormatTest, UnknownShapesFallBackToTables) {
  // top and check come from other components: rows in "rows" become a table.
  const json top = {{"window_s", 10},
                    {"rows", json::array({json{{"src", "10.0.0.1"}, {"bytes_per_s", 1500}},
                                          json{{"src", "10.0.0.22"}, {"bytes_per_s", 20}}})}};
  EXPECT_EQ(FormatResult("top", top),
            "window_s: 10\n\n"
            "bytes_per_s  src\n"
            "       1500  10.0.0.1\n"
            "         20  10.0.0.22\n");
  EXPECT_EQ(FormatResult("check", json::array({json{{"port", "swp1"}, {"ok", true}}})),
            " ok  port\nyes  swp1\n");
}

}  // namespace
}  // namespace xflowd::tools::xflowctl
