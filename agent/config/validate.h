// The one check of a configuration model, whoever filled it (command line, config file).
#pragma once

#include "agent/config/config.h"
#include "hal/base/status.h"

namespace xflowd::agent::config {

// INVALID_ARGUMENT naming the first setting out of range by its model path, e.g.
// "flow.active_timeout_s: 0 is out of range 1..1000000". OK when every value can run.
hal::base::Status Validate(const Config& config);

}  // namespace xflowd::agent::config
