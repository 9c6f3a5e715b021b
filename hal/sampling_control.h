// SamplingControl: programs 1-in-N sampling on a port (tc sample action, OVS, the sim ASIC).
#pragma once

#include <cstdint>

#include "hal/base/status.h"
#include "hal/packet_sample.h"

namespace xflowd::hal {

class SamplingControl {
 public:
  virtual ~SamplingControl() = default;
  // Sets 1-in-`rate` sampling (0 = off) on ifindex/direction, truncating sampled headers to
  // `header_bytes`. Returns the rate actually applied (hardware may round, e.g. to a power of
  // two); samples then arrive carrying that rate.
  virtual base::Result<uint32_t> SetSamplingRate(uint32_t ifindex, Direction direction,
                                                 uint32_t rate, uint32_t header_bytes) = 0;
  // Rates applied whose value could not be read back from the hardware (the rate asked for
  // was reported instead). For the summary and `xflowctl stats`.
  virtual uint64_t unconfirmed_rates() const { return 0; }
};

}  // namespace xflowd::hal
