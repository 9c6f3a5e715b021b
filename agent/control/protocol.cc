#include "agent/control/protocol.h"

namespace xflowd::agent::control {

using hal::base::InvalidArgumentError;
using hal::base::Result;
using nlohmann::json;

namespace {

std::string Dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace

Result<Request> ParseRequest(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  // Without exceptions: a bad line is a user error, not an exceptional event.
  json j = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return InvalidArgumentError(
        "request is not JSON: send one object per line, e.g. {\"command\": \"status\"}");
  }
  if (!j.is_object()) return InvalidArgumentError("request must be a JSON object");
  Request r;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "command") {
      if (!it.value().is_string() || it.value().get_ref<const std::string&>().empty()) {
        return InvalidArgumentError("\"command\" must be a non-empty string");
      }
      r.command = it.value().get<std::string>();
    } else if (it.key() == "args") {
      if (it.value().is_null()) continue;
      if (!it.value().is_object()) return InvalidArgumentError("\"args\" must be an object");
      r.args = std::move(it.value());
    } else {
      return InvalidArgumentError("unknown request member \"" + it.key() +
                                  "\" (a request has \"command\" and \"args\")");
    }
  }
  if (r.command.empty()) return InvalidArgumentError("request has no \"command\"");
  return r;
}

std::string EncodeOk(const json& result) {
  json j = json::object();
  j["ok"] = true;
  j["result"] = result;
  return Dump(j);
}

std::string EncodeError(const std::string& message) {
  json j = json::object();
  j["ok"] = false;
  j["error"] = message;
  return Dump(j);
}

std::string EncodeRequest(const std::string& command, const json& args) {
  json j = json::object();
  j["command"] = command;
  if (!args.empty()) j["args"] = args;
  return Dump(j);
}

Result<uint64_t> UintArg(const json& args, const char* name, uint64_t fallback, uint64_t min,
                         uint64_t max) {
  auto it = args.find(name);
  if (it == args.end() || it->is_null()) return fallback;
  const std::string range = std::to_string(min) + ".." + std::to_string(max);
  if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<int64_t>() >= 0)) {
    return InvalidArgumentError(std::string("\"") + name + "\" must be a whole number " + range);
  }
  const uint64_t v = it->get<uint64_t>();
  if (v < min || v > max) {
    return InvalidArgumentError(std::string("\"") + name + "\" must be in " + range + ", not " +
                                std::to_string(v));
  }
  return v;
}

}  // namespace xflowd::agent::control
