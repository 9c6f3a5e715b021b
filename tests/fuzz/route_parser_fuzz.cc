// libFuzzer target: rtnetlink route messages (one recv() buffer) -> RouteMessage, applied to a
// RouteTable, then looked up. Must never crash, leak or read out of bounds, and the table
// must stay consistent (a lookup after any sequence of messages).
#include <cstddef>
#include <cstdint>

#include "hal/route_table.h"
#include "hal/rtnl/route_parser.h"
#include "hal/rtnl/rtnl_route_feed.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace xflowd::hal;
  rtnl::RouteParseStats stats;
  rtnl::RouteFeedStats feed;
  RouteTable table;
  const xflowd::hal::base::ByteView buf(data, size);
  rtnl::ParseRouteBuffer(
      buf,
      [&](const rtnl::RouteMessage& m) {
        // Every table id the input names, so the table sees the routes.
        rtnl::ApplyRouteMessage(m, m.table, table, &feed);
      },
      &stats);
  (void)rtnl::CountSilentRouteFlushes(buf);
  rtnl::RouteMessage m;
  rtnl::ParseRouteBody(buf, false, &m, &stats);
  uint8_t a[16] = {};
  for (size_t i = 0; i < 16 && i < size; ++i) a[i] = data[size - 1 - i];
  const RouteTable::Match* m4 = table.Lookup4(a);
  const RouteTable::Match* m6 = table.Lookup6(a);
  return (m4 && m6 && m4->prefix_len == 0xFF) ? 1 : 0;
}
