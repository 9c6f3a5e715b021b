// The Linux drop monitor for [drops] (discard samples): NET_DM through hal/dropmon_genl.
#pragma once

#include <memory>

#include "agent/config/config.h"
#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "hal/drop_source.h"

namespace xflowd::agent::os_linux {

// Null when [drops] is off, or (after one warning that says why) when the kernel has no
// NET_DM, another program holds it, or this build has no libnl-genl: xflowd runs on without
// discard samples.
std::unique_ptr<hal::DropSource> OpenDrops(const config::DropsConfig& config,
                                           const hal::base::Clock& clock,
                                           hal::base::Logger& logger);

}  // namespace xflowd::agent::os_linux
