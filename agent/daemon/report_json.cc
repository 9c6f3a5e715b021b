#include "agent/daemon/report_json.h"

#include <cmath>

namespace xflowd::agent::daemon {

namespace {

// JSON has no infinity: an undefined ratio is null.
nlohmann::json Number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

}  // namespace

nlohmann::json SelfCheckJson(const SelfCheckReport& report) {
  nlohmann::json ports = nlohmann::json::array();
  for (const PortCheck& c : report.ports) {
    const WindowJudgement& j = c.judgement;
    const bool judged =
        j.verdict == SelfCheckVerdict::kInside || j.verdict == SelfCheckVerdict::kOutside;
    ports.push_back({
        {"ifindex", c.ifindex},
        {"name", c.name},
        {"direction", c.direction == hal::Direction::kIngress ? "ingress" : "egress"},
        {"sampling_rate", c.sampling_rate},
        {"windows", c.windows},
        {"samples", c.last.samples},
        {"drops", c.last.drops},
        {"source_drops", c.last.source_drops},
        {"estimate_packets", Number(c.last.packets)},
        {"pool_packets", c.last.pool},
        {"counter_packets",
         c.last.have_counters ? nlohmann::json(c.last.counter_packets) : nlohmann::json()},
        {"expected_samples", Number(j.expected_samples)},
        {"relative_difference", c.last.have_counters && c.last.counter_packets > 0
                                    ? Number(j.relative_difference)
                                    : nlohmann::json()},
        {"interval", judged ? Number(j.interval) : nlohmann::json()},
        {"verdict", SelfCheckVerdictName(j.verdict)},
        {"outside_in_a_row", c.outside_in_a_row},
        {"flagged", c.flagged},
        {"reason", c.reason},
    });
  }
  return {
      {"window_s", static_cast<double>(report.window.count()) / 1e9},
      {"windows", report.windows},
      {"flagged", report.flagged},
      {"ports", ports},
  };
}

nlohmann::json TopTalkersJson(const std::vector<TopTalker>& top, double span_s) {
  nlohmann::json talkers = nlohmann::json::array();
  for (const TopTalker& t : top) {
    nlohmann::json j = {
        {"ip_version", t.key.ip_version}, {"protocol", t.key.protocol_name()},
        {"bytes_per_s", t.bytes_per_s},   {"packets_per_s", t.packets_per_s},
        {"samples", t.samples},
    };
    if (t.key.ip_version != 0) {
      j["protocol_number"] = t.key.protocol;
      j["src"] = t.key.src_address();
      j["dst"] = t.key.dst_address();
      j["src_port"] = t.key.src_port;
      j["dst_port"] = t.key.dst_port;
    }
    talkers.push_back(j);
  }
  return {{"span_s", span_s}, {"talkers", talkers}};
}

nlohmann::json TopTalkersJson(const TopTalkers& talkers, size_t n, hal::base::MonoTime now) {
  return TopTalkersJson(talkers.Top(n, now), talkers.SpanSeconds(now));
}

}  // namespace xflowd::agent::daemon
