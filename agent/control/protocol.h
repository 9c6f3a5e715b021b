// The control protocol (docs/control.md): one JSON object per line each way, over the unix
// socket of ControlServer.
//   request: {"command": "ports", "args": {...}}          ("args" optional, an object)
//   reply:   {"ok": true, "result": ...}  or  {"ok": false, "error": "..."}
// Parsing and encoding go through nlohmann-json; this header is for the control code only
// (the library is heavy to compile: keep it out of the daemon's headers).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "hal/base/status.h"

namespace xflowd::agent::control {

struct Request {
  std::string command;
  nlohmann::json args = nlohmann::json::object();
};

// One request line (without its newline; a trailing '\r' is allowed). Errors say what is
// wrong for the user: not JSON, not an object, no "command" string, "args" not an object, an
// unknown member. Never throws.
hal::base::Result<Request> ParseRequest(std::string_view line);

// One reply line each, ending in '\n'. Strings that are not valid UTF-8 are written with
// U+FFFD in place of the bad bytes, so encoding never fails.
std::string EncodeOk(const nlohmann::json& result);
std::string EncodeError(const std::string& message);

// A request line as a client sends it (xflowctl, tests): ends in '\n'.
std::string EncodeRequest(const std::string& command,
                          const nlohmann::json& args = nlohmann::json::object());

// The numeric argument `name` of `args`: absent -> `fallback`; not a whole number in
// [min, max] -> an error naming it.
hal::base::Result<uint64_t> UintArg(const nlohmann::json& args, const char* name, uint64_t fallback,
                                    uint64_t min, uint64_t max);

}  // namespace xflowd::agent::control
