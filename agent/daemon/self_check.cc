#include "agent/daemon/self_check.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>

namespace xflowd::agent::daemon {

namespace {

uint64_t Key(uint32_t ifindex, hal::Direction d) {
  return (uint64_t{ifindex} << 1) | static_cast<uint64_t>(d);
}

const char* DirectionName(hal::Direction d) { return d == hal::Direction::kIngress ? "in" : "out"; }

}  // namespace

const char* SelfCheckVerdictName(SelfCheckVerdict verdict) {
  switch (verdict) {
    case SelfCheckVerdict::kWaiting:
      return "waiting";
    case SelfCheckVerdict::kNoCounters:
      return "no counters";
    case SelfCheckVerdict::kTooFewSamples:
      return "too few samples";
    case SelfCheckVerdict::kInside:
      return "inside";
    case SelfCheckVerdict::kOutside:
      return "outside";
  }
  return "?";
}

double SamplingErrorBound(double samples, double z) {
  if (samples <= 0) return INFINITY;
  return z * std::sqrt(1.0 / samples);
}

WindowJudgement JudgeWindow(const WindowCounts& w, uint32_t rate, const SelfCheckConfig& config) {
  WindowJudgement j;
  if (!w.have_counters) {
    j.verdict = SelfCheckVerdict::kNoCounters;
    return j;
  }
  // The mean rate of the window's samples; the current one if there were none.
  const double taken = static_cast<double>(w.samples + w.drops);
  const double mean_rate = taken > 0 ? w.packets / taken : static_cast<double>(std::max(rate, 1u));
  // The interval is built on the samples the counter says there should have been, not on the
  // samples seen: a port that lost most of its samples must not look idle.
  j.expected_samples = static_cast<double>(w.counter_packets) / mean_rate;
  const double counter = static_cast<double>(w.counter_packets);
  if (j.expected_samples < config.min_samples && taken < config.min_samples) {
    j.verdict = SelfCheckVerdict::kTooFewSamples;
    if (counter > 0) j.relative_difference = (w.packets - counter) / counter;
    return j;
  }
  if (counter == 0) {  // samples, but the interface saw no packets
    j.verdict = SelfCheckVerdict::kOutside;
    j.relative_difference = INFINITY;
    return j;
  }
  j.relative_difference = (w.packets - counter) / counter;
  j.interval = SamplingErrorBound(j.expected_samples, config.z);
  j.verdict = std::fabs(j.relative_difference) <= j.interval ? SelfCheckVerdict::kInside
                                                             : SelfCheckVerdict::kOutside;
  return j;
}

SelfCheck::SelfCheck(const SelfCheckConfig& config, const sflow::Agent& agent,
                     hal::CounterSource& counters, hal::base::Logger* logger)
    : config_(config), agent_(agent), counters_(counters), logger_(logger) {
  if (config_.flag_after_windows == 0) config_.flag_after_windows = 1;
  if (config_.window <= hal::base::Duration(0)) config_.window = hal::base::seconds(60);
  report_.window = config_.window;
}

bool SelfCheck::ReadPackets(uint32_t ifindex, hal::Direction direction, uint64_t* packets) {
  auto c = counters_.ReadCounters(ifindex);
  if (!c.ok()) return false;
  const bool in = direction == hal::Direction::kIngress;
  const uint64_t u = in ? c->in_ucast_pkts : c->out_ucast_pkts;
  const uint64_t m = in ? c->in_multicast_pkts : c->out_multicast_pkts;
  const uint64_t b = in ? c->in_broadcast_pkts : c->out_broadcast_pkts;
  constexpr uint64_t kUnknown = hal::PortCounters::kUnknown64;
  if (u == kUnknown) return false;
  // Some sources fold multicast or broadcast into unicast and leave these unknown.
  *packets = u + (m == kUnknown ? 0 : m) + (b == kUnknown ? 0 : b);
  return true;
}

void SelfCheck::Snapshot(Track& t) {
  const sflow::Sampler& s = *t.sampler;
  t.last_samples = s.stats().samples;
  t.last_drops = s.drops();
  t.last_source_drops = s.stats().source_drops;
  t.last_pool = s.sample_pool();
  t.rate = s.sampling_rate();
}

void SelfCheck::OnTick(hal::base::MonoTime now) {
  const bool first = !started_;
  if (first) {
    started_ = true;
    window_start_ = now;
  }
  for (auto& [key, t] : tracks_) t.seen = false;
  for (const auto& sp : agent_.samplers()) {
    const sflow::Sampler& s = *sp;
    Track& t = tracks_[Key(s.ifindex(), s.direction())];
    t.seen = true;
    // A new sampler (or one replaced, or whose stats went back) waits for the next window.
    if (t.sampler != &s || s.stats().samples < t.last_samples) {
      const PortCheck kept = t.check;
      t = Track();
      t.seen = true;
      t.sampler = &s;
      t.check = kept;
      t.check.ifindex = s.ifindex();
      t.check.direction = s.direction();
      Snapshot(t);
      // Samplers there from the start are in the first window; later ones join the next.
      if (first) {
        t.in_window = true;
        t.have_counter_base = ReadPackets(s.ifindex(), s.direction(), &t.counter_base);
      }
      continue;
    }
    // Sampling off (rate 0) or idle (no receiver, SNMP): nothing to estimate; the port is
    // judged again from the first whole window in which it samples.
    if (s.sampling_rate() == 0 || s.receiver() == nullptr) t.in_window = false;
    // Per tick, so a rate change (export budget) weighs each sample by its own rate; the
    // 32-bit sFlow counters wrap, their deltas do not.
    const uint64_t samples = s.stats().samples - t.last_samples;
    const uint32_t drops = s.drops() - t.last_drops;
    t.window.samples += samples;
    t.window.drops += drops;
    t.window.source_drops += s.stats().source_drops - t.last_source_drops;
    t.window.pool += static_cast<uint32_t>(s.sample_pool() - t.last_pool);
    t.window.packets += static_cast<double>(samples + drops) * t.rate;
    Snapshot(t);
  }
  for (auto it = tracks_.begin(); it != tracks_.end();) {
    it = it->second.seen ? std::next(it) : tracks_.erase(it);
  }
  if (now - window_start_ >= config_.window) CloseWindow(now);
}

void SelfCheck::CloseWindow(hal::base::MonoTime now) {
  window_start_ = now;
  ++report_.windows;
  report_.last_window_end = now;
  std::unordered_map<uint32_t, const std::string*> names;
  for (const auto& p : agent_.pollers()) names[p->ifindex()] = &p->port().name;

  for (auto& [key, t] : tracks_) {
    PortCheck& c = t.check;
    c.sampling_rate = t.sampler->sampling_rate();
    auto name = names.find(c.ifindex);
    if (name != names.end()) c.name = *name->second;
    uint64_t packets = 0;
    const bool have = ReadPackets(c.ifindex, c.direction, &packets);
    if (t.in_window) {
      t.window.have_counters = have && t.have_counter_base;
      if (t.window.have_counters) t.window.counter_packets = packets - t.counter_base;
      c.last = t.window;
      c.judgement = JudgeWindow(t.window, c.sampling_rate, config_);
      ++c.windows;
      if (c.judgement.verdict == SelfCheckVerdict::kOutside) {
        ++c.outside_in_a_row;
      } else {
        c.outside_in_a_row = 0;
      }
      c.reason.clear();
      if (c.outside_in_a_row >= config_.flag_after_windows) {
        char buf[160];
        std::snprintf(buf, sizeof(buf),
                      "estimate %+.1f%% off the counter (95%% interval +-%.1f%%), %u windows in "
                      "a row",
                      100 * c.judgement.relative_difference, 100 * c.judgement.interval,
                      c.outside_in_a_row);
        c.reason = buf;
      }
      if (c.last.drops > 0) {
        char buf[96];
        std::snprintf(buf, sizeof(buf), "%s%" PRIu64 " samples lost (drops)",
                      c.reason.empty() ? "" : "; ", c.last.drops);
        c.reason += buf;
      }
      const bool was_flagged = c.flagged;
      c.flagged = !c.reason.empty();
      if (logger_ != nullptr && c.flagged != was_flagged) {
        const std::string port = c.name.empty() ? std::to_string(c.ifindex) : c.name;
        if (c.flagged) {
          logger_->Log(hal::base::LogLevel::kWarning, "self-check: %s %s flagged: %s", port.c_str(),
                       DirectionName(c.direction), c.reason.c_str());
        } else {
          logger_->Log(hal::base::LogLevel::kInfo, "self-check: %s %s no longer flagged",
                       port.c_str(), DirectionName(c.direction));
        }
      }
    }
    // The next window starts now, for every port.
    t.window = WindowCounts();
    t.in_window = true;
    t.have_counter_base = have;
    t.counter_base = packets;
  }

  report_.ports.clear();
  report_.flagged = 0;
  for (const auto& [key, t] : tracks_) {
    report_.ports.push_back(t.check);
    if (t.check.flagged) ++report_.flagged;
  }
  std::sort(report_.ports.begin(), report_.ports.end(), [](const PortCheck& a, const PortCheck& b) {
    return Key(a.ifindex, a.direction) < Key(b.ifindex, b.direction);
  });
}

std::string SelfCheckTable(const SelfCheckReport& report) {
  std::string out;
  char line[320];
  std::snprintf(line, sizeof(line),
                "self-check: %" PRIu64 " windows of %.0f s, %u of %zu data sources flagged\n",
                report.windows, static_cast<double>(report.window.count()) / 1e9, report.flagged,
                report.ports.size());
  out += line;
  if (report.windows == 0) return out + "(no whole window yet)\n";
  std::snprintf(line, sizeof(line), "%-12s %-3s %8s %9s %7s %14s %14s %8s %7s %-15s %s\n", "port",
                "dir", "rate", "samples", "drops", "estimate", "counter", "diff", "95%", "verdict",
                "flag");
  out += line;
  for (const PortCheck& c : report.ports) {
    const std::string port = c.name.empty() ? std::to_string(c.ifindex) : c.name;
    const WindowJudgement& j = c.judgement;
    char diff[16] = "-";
    char width[16] = "-";
    if (c.last.have_counters && c.last.counter_packets > 0) {
      std::snprintf(diff, sizeof(diff), "%+.1f%%", 100 * j.relative_difference);
    }
    if (j.interval > 0) std::snprintf(width, sizeof(width), "+-%.1f%%", 100 * j.interval);
    std::snprintf(line, sizeof(line),
                  "%-12s %-3s %8u %9" PRIu64 " %7" PRIu64 " %14.0f %14" PRIu64
                  " %8s %7s %-15s %s\n",
                  port.c_str(), DirectionName(c.direction), c.sampling_rate, c.last.samples,
                  c.last.drops, c.last.packets, c.last.counter_packets, diff, width,
                  SelfCheckVerdictName(j.verdict), c.flagged ? c.reason.c_str() : "");
    out += line;
  }
  return out;
}

}  // namespace xflowd::agent::daemon
