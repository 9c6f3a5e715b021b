// xflowdump's command line: parsed into DumpOptions (no globals), with the usage text.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hal/base/ip_address.h"
#include "hal/base/status.h"

namespace xflowd::tools::xflowdump {

constexpr uint16_t kSflowPort = 6343;

enum class OutputMode { kText, kJson, kSummary };

struct DumpOptions {
  // Input: a capture file, or else a UDP socket.
  std::string read_file;       // -r; "-" = standard input
  hal::base::Endpoint listen;  // -l; default 0.0.0.0:6343
  uint16_t port = kSflowPort;  // -p: UDP destination port picked out of a capture (0 = any)
  bool port_set = false;

  OutputMode mode = OutputMode::kText;
  double interval_s = 1.0;  // -i: summary period
  bool hex = false;         // -x

  uint64_t count = 0;     // -c: stop after this many datagrams (0 = no limit)
  double duration_s = 0;  // -t: stop after this long (0 = no limit)

  bool help = false;
};

// Parses argv[1..]. Errors say which option was wrong and why.
hal::base::Result<DumpOptions> ParseDumpOptions(const std::vector<std::string>& args);

// The --help text.
std::string DumpUsage();

}  // namespace xflowd::tools::xflowdump
