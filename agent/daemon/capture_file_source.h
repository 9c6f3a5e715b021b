// The capture-file reader is a hal back-end (hal/capfile); this name stays for xflowd_main.cc
// until it includes hal/capfile/capture_file_source.h itself.
#pragma once

#include "hal/capfile/capture_file_source.h"

namespace xflowd::agent::daemon {

using CaptureFileSource = hal::capfile::CaptureFileSource;

}  // namespace xflowd::agent::daemon
