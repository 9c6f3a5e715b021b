// The daemon's discard path: drop events from the platform's DropSource go to a
// DiscardNotifier that sends discard samples to the configuration's receiver.
#include <sys/epoll.h>

#include <cstdio>

#include "agent/config/diff.h"
#include "agent/daemon/daemon.h"

namespace xflowd::agent::daemon {
namespace {

using hal::base::LogLevel;
using hal::base::Status;

constexpr size_t kDropBudget = 256;  // events per loop wake-up
constexpr uint64_t kDiscardSeedSalt = 0xD15CA4D5ull;

sflow::DiscardConfig DiscardConfigFor(const config::Config& c) {
  sflow::DiscardConfig d;
  d.sampling_rate = c.drops.sampling_rate;
  d.max_per_s = c.drops.max_per_s;
  d.header_bytes = c.ports.header_bytes;
  return d;
}

unsigned long long U(uint64_t v) { return static_cast<unsigned long long>(v); }

}  // namespace

Status Daemon::StartDiscards() {
  if (platform_.drops == nullptr || platform_.flow_only || !config_.drops.enabled) {
    return Status::Ok();
  }
  discards_ = std::make_unique<sflow::DiscardNotifier>(DiscardConfigFor(config_), receiver_,
                                                       config_.seed ^ kDiscardSeedSalt);
  logger_.Log(LogLevel::kInfo, "discard samples: 1 in %u drops, at most %u per second",
              config_.drops.sampling_rate, config_.drops.max_per_s);
  return loop_->AddFd(platform_.drops->fd(), EPOLLIN,
                      [this](uint32_t) { platform_.drops->Drain(*discards_, kDropBudget); });
}

void Daemon::DrainDiscards() {
  if (!discards_) return;
  for (int round = 0; round < 256; ++round) {
    if (platform_.drops->Drain(*discards_, kDropBudget) < kDropBudget) break;
  }
}

void Daemon::ReloadDiscards(const config::Config& old, std::vector<std::string>* changes) {
  if (!config::Diff(old, config_).drops) return;
  if (!discards_) {
    if (config_.drops.enabled) {
      changes->push_back(
          "drops: not enabled (the drop monitor is opened at start: restart xflowd)");
    }
    return;
  }
  discards_->Reconfigure(DiscardConfigFor(config_));
  discards_->SetReceiver(config_.drops.enabled ? receiver_ : nullptr);
  char line[160];
  std::snprintf(line, sizeof(line), "drops: %s, 1 in %u, at most %u per second",
                config_.drops.enabled ? "on" : "off (events counted, not sent)",
                config_.drops.sampling_rate, config_.drops.max_per_s);
  changes->push_back(line);
}

std::string Daemon::DiscardSummary() const {
  if (!discards_) return "";
  const sflow::DiscardStats& d = discards_->stats();
  const hal::DropSourceStats src = platform_.drops->stats();
  char s[512];
  std::snprintf(s, sizeof(s),
                " Drops: %llu events (%llu software, %llu hardware; %llu lost in the kernel "
                "socket, %llu malformed), %llu not drops, %llu sampled out, %llu over the "
                "rate limit, %llu discard samples exported, %llu unsent.",
                U(d.events), U(d.software), U(d.hardware), U(src.lost), U(src.parse_errors),
                U(d.ignored), U(d.sampled_out), U(d.rate_limited), U(d.exported),
                U(d.oversize + d.no_receiver));
  return s;
}

}  // namespace xflowd::agent::daemon
