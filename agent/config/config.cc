#include "agent/config/config.h"

#include <fnmatch.h>

#include <cmath>
#include <cstdlib>
#include <limits>

namespace xflowd::agent::config {

uint32_t DefaultSamplingRate(uint64_t speed_bps) {
  if (speed_bps == 0) return 1000;
  uint64_t rate = speed_bps / 1'000'000;
  if (rate < 100) rate = 100;
  if (rate > std::numeric_limits<uint32_t>::max()) rate = std::numeric_limits<uint32_t>::max();
  return static_cast<uint32_t>(rate);
}

PortSettings SettingsFor(const PortsConfig& ports, const std::string& name, uint64_t speed_bps) {
  PortSettings s;
  s.sampling_rate = ports.sampling_rate ? *ports.sampling_rate : DefaultSamplingRate(speed_bps);
  s.polling_interval_s = ports.polling_interval_s;
  s.header_bytes = ports.header_bytes;
  s.direction = ports.direction;
  s.extended_router = ports.extended_router;
  for (const PortOverride& o : ports.overrides) {
    if (fnmatch(o.pattern.c_str(), name.c_str(), 0) != 0) continue;
    if (o.sampling_rate) s.sampling_rate = *o.sampling_rate;
    if (o.polling_interval_s) s.polling_interval_s = *o.polling_interval_s;
    if (o.header_bytes) s.header_bytes = *o.header_bytes;
    if (o.direction) s.direction = *o.direction;
    if (o.extended_router) s.extended_router = *o.extended_router;
    s.enabled = o.enabled;
    break;
  }
  return s;
}

const char* SampleDirectionName(SampleDirection direction) {
  switch (direction) {
    case SampleDirection::kIngress:
      return "ingress";
    case SampleDirection::kEgress:
      return "egress";
    case SampleDirection::kBoth:
      return "both";
  }
  return "?";
}

std::optional<SampleDirection> ParseSampleDirection(const std::string& text) {
  for (SampleDirection d :
       {SampleDirection::kIngress, SampleDirection::kEgress, SampleDirection::kBoth}) {
    if (text == SampleDirectionName(d)) return d;
  }
  return std::nullopt;
}

const SflowCollector* FindCollector(const std::vector<SflowCollector>& collectors,
                                    const hal::base::Endpoint& endpoint) {
  for (const SflowCollector& c : collectors) {
    if (c.address == endpoint.address && c.port == endpoint.port) return &c;
  }
  return nullptr;
}

std::string FormatSpeed(uint64_t bps) {
  struct Unit {
    uint64_t factor;
    const char* suffix;
  };
  for (Unit u : {Unit{1'000'000'000'000ull, "T"}, Unit{1'000'000'000ull, "G"},
                 Unit{1'000'000ull, "M"}, Unit{1'000ull, "K"}}) {
    if (bps >= u.factor && bps % u.factor == 0) return std::to_string(bps / u.factor) + u.suffix;
  }
  return std::to_string(bps);
}

const char* SampleBackendName(SampleBackend backend) {
  switch (backend) {
    case SampleBackend::kAfPacket:
      return "afpacket";
    case SampleBackend::kPsample:
      return "psample";
    case SampleBackend::kNflog:
      return "nflog";
  }
  return "?";
}

const char* LogTargetName(LogTarget target) {
  switch (target) {
    case LogTarget::kAuto:
      return "auto";
    case LogTarget::kStderr:
      return "stderr";
    case LogTarget::kSyslog:
      return "syslog";
  }
  return "?";
}

const std::string& ServiceConfig::effective_user() const {
  static const std::string kDefault = kDefaultServiceUser;
  return user ? *user : kDefault;
}

std::optional<uint64_t> ParseSpeedText(const std::string& text) {
  std::string num = text;
  double mult = 1.0;
  if (!num.empty()) {
    switch (num.back()) {
      case 'k':
      case 'K':
        mult = 1e3;
        break;
      case 'm':
      case 'M':
        mult = 1e6;
        break;
      case 'g':
      case 'G':
        mult = 1e9;
        break;
      case 't':
      case 'T':
        mult = 1e12;
        break;
      default:
        break;
    }
    if (mult != 1.0) num.pop_back();
  }
  if (num.empty() || !((num[0] >= '0' && num[0] <= '9') || num[0] == '.')) return std::nullopt;
  char* end = nullptr;
  const double v = strtod(num.c_str(), &end) * mult;
  if (*end != '\0' || !std::isfinite(v) || v < 1.0 || v > 1e13) return std::nullopt;
  return static_cast<uint64_t>(std::llround(v));
}

}  // namespace xflowd::agent::config
