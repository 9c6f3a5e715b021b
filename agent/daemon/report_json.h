// JSON views of the self-check and the top talkers, for the control socket (`xflowctl check`,
// `xflowctl top`). Apart from self_check.h and top_talkers.h so that only the control code
// pulls in nlohmann/json. Field names and units: docs/selfcheck.md.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "agent/daemon/self_check.h"
#include "agent/daemon/top_talkers.h"

namespace xflowd::agent::daemon {

nlohmann::json SelfCheckJson(const SelfCheckReport& report);
// `span_s`: TopTalkers::SpanSeconds(now), the seconds the rates are averaged over.
nlohmann::json TopTalkersJson(const std::vector<TopTalker>& top, double span_s);
// The same for the `n` heaviest talkers as of `now` (the daemon's clock).
nlohmann::json TopTalkersJson(const TopTalkers& talkers, size_t n, hal::base::MonoTime now);

}  // namespace xflowd::agent::daemon
