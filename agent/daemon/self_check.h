// SelfCheck: does each port's sampling tell the truth? Per data source (sampler), over a
// window (60 s by default), the packets its samples stand for ((samples + drops) x rate) are
// compared with the interface's own packet counter delta (ucast + multicast + broadcast, read
// through the same CounterSource the pollers use). With c samples expected, sampling theory
// puts the estimate within 1.96 x sqrt(1/c) of the counter 95% of the time (docs/selfcheck.md).
// A port outside that interval in N windows in a row (2 by default) is flagged, and so is a port
// whose samples were lost (sFlow drops: sequence gaps, oversize samples) in the last window.
//
// Cost: nothing on the sample path. OnTick reads each sampler's counters (samples, drops, pool,
// rate) once a second and the interface counters once per window.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/sflow/agent.h"
#include "hal/base/log.h"
#include "hal/base/time.h"
#include "hal/counter_source.h"
#include "hal/packet_sample.h"

namespace xflowd::agent::daemon {

struct SelfCheckConfig {
  hal::base::Duration window = hal::base::seconds(60);
  uint32_t flag_after_windows = 2;  // outside the interval this many windows in a row: flagged
  // Below this many samples expected (counter delta / rate) and seen, no verdict: the interval
  // would be too wide to mean anything (100 samples: +-19.6%).
  uint32_t min_samples = 100;
  double z = 1.96;  // the interval's width in standard errors: 1.96 = 95%
};

enum class SelfCheckVerdict : uint8_t {
  kWaiting,        // no whole window yet
  kNoCounters,     // the counter source gives no packet counters for the port
  kTooFewSamples,  // too little traffic for a verdict
  kInside,         // the estimate is inside the interval
  kOutside,        // the estimate is outside the interval
};
const char* SelfCheckVerdictName(SelfCheckVerdict verdict);

// What one window measured on one data source.
struct WindowCounts {
  uint64_t samples = 0;       // flow samples the sampler exported
  uint64_t drops = 0;         // sFlow drops: samples lost (sequence gaps, oversize)
  uint64_t source_drops = 0;  // of which sequence gaps (lost between the hardware and us)
  double packets = 0;         // (samples + drops) x the rate each was taken at
  uint64_t pool = 0;          // sample pool delta
  bool have_counters = false;
  uint64_t counter_packets = 0;  // interface counter delta, packets in the sampler's direction
};

// The statistics of one window, apart so tests can reach them.
struct WindowJudgement {
  SelfCheckVerdict verdict = SelfCheckVerdict::kWaiting;
  double expected_samples = 0;     // counter_packets / the mean rate
  double relative_difference = 0;  // (packets - counter_packets) / counter_packets
  double interval = 0;             // half-width of the interval, relative: z x sqrt(1 / expected)
};
// `rate` is the rate to use when the window had no samples (the sampler's current one).
WindowJudgement JudgeWindow(const WindowCounts& w, uint32_t rate, const SelfCheckConfig& config);
// z x sqrt(1 / samples): the relative error sampling theory allows (1.96 for 95%).
double SamplingErrorBound(double samples, double z = 1.96);

struct PortCheck {
  uint32_t ifindex = 0;
  hal::Direction direction = hal::Direction::kIngress;
  std::string name;            // from the port inventory, if the port is polled
  uint32_t sampling_rate = 0;  // now
  uint64_t windows = 0;        // windows judged on this port
  WindowCounts last;           // the last whole window
  WindowJudgement judgement;   // of the last whole window
  uint32_t outside_in_a_row = 0;
  bool flagged = false;
  std::string reason;  // why it is flagged; empty if not
};

struct SelfCheckReport {
  hal::base::Duration window{0};
  uint64_t windows = 0;                 // windows closed since the start
  hal::base::MonoTime last_window_end;  // of the last closed window (if windows > 0)
  uint32_t flagged = 0;                 // ports flagged
  std::vector<PortCheck> ports;         // by ifindex, then direction
};

class SelfCheck {
 public:
  // None is owned; all must outlive the SelfCheck. `logger` (may be null) gets a warning when
  // a port becomes flagged and a note when it no longer is.
  SelfCheck(const SelfCheckConfig& config, const sflow::Agent& agent, hal::CounterSource& counters,
            hal::base::Logger* logger = nullptr);

  // The daemon's tick, after the agent's (the rate read now is the one in force until the next
  // tick). The first call starts the first window.
  void OnTick(hal::base::MonoTime now);

  const SelfCheckReport& report() const { return report_; }
  const SelfCheckConfig& config() const { return config_; }

 private:
  struct Track {
    const sflow::Sampler* sampler = nullptr;
    bool seen = false;       // in this tick's sampler list
    bool in_window = false;  // has a baseline from the current window's start
    uint64_t last_samples = 0;
    uint32_t last_drops = 0;
    uint64_t last_source_drops = 0;
    uint32_t last_pool = 0;
    uint32_t rate = 0;  // in force since the last read
    bool have_counter_base = false;
    uint64_t counter_base = 0;
    WindowCounts window;
    PortCheck check;
  };
  void Snapshot(Track& t);
  void CloseWindow(hal::base::MonoTime now);
  // Packets in the sampler's direction, if the source has them.
  bool ReadPackets(uint32_t ifindex, hal::Direction direction, uint64_t* packets);

  SelfCheckConfig config_;
  const sflow::Agent& agent_;
  hal::CounterSource& counters_;
  hal::base::Logger* logger_;
  bool started_ = false;
  hal::base::MonoTime window_start_;
  std::unordered_map<uint64_t, Track> tracks_;  // by ifindex << 1 | direction
  SelfCheckReport report_;
};

// Human table for `xflowctl check` (JSON: report_json.h).
std::string SelfCheckTable(const SelfCheckReport& report);

}  // namespace xflowd::agent::daemon
