// xflowctl's command line: [--socket PATH] [--json] [--timeout S] COMMAND [ARGS]. Pure: no I/O.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "hal/base/status.h"

namespace xflowd::tools::xflowctl {

constexpr int kExitOk = 0;
constexpr int kExitDaemonError = 1;  // the daemon answered "ok": false
constexpr int kExitUsage = 2;
constexpr int kExitNoConnection = 3;  // no socket, no permission, no reply in time

constexpr char kDefaultSocket[] = "/run/xflowd/xflowd.sock";

struct CtlOptions {
  bool help = false;
  bool json = false;  // print the reply's result as JSON
  std::string socket = kDefaultSocket;
  double timeout_s = 5.0;
  std::string command;
  nlohmann::json args = nlohmann::json::object();
};

// Parses argv[1..]. Errors say what is wrong (main adds the "try --help" line).
hal::base::Status ParseCtlOptions(int argc, const char* const* argv, CtlOptions* out);

std::string CtlHelpText(const std::string& program);

}  // namespace xflowd::tools::xflowctl
