// One request to the control socket and its reply line (docs/control.md).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace xflowd::tools::xflowctl {

struct CallOutcome {
  bool reached = false;  // false: no connection or no reply; `error` says why
  std::string error;     // for the user, naming the socket path
  nlohmann::json reply;  // the parsed reply object, when reached
};

// Connects to `socket_path`, sends `request_line` (one line, with its '\n') and reads one
// reply line, waiting at most `timeout_s` in all.
CallOutcome Call(const std::string& socket_path, const std::string& request_line, double timeout_s);

// The message for a failed connect: the path, and what errno suggests (is xflowd running,
// with this socket? permissions?).
std::string ConnectErrorMessage(const std::string& socket_path, int err);

}  // namespace xflowd::tools::xflowctl
