// xflowctl: asks a running xflowd over its control socket (docs/control.md) and prints the
// answer as a table, or with --json as JSON. Exit status: 0 ok, 1 the daemon answered an
// error, 2 usage error, 3 cannot reach the daemon.
#include <cstdio>
#include <cstring>
#include <string>

#include "tools/xflowctl/ctl_client.h"
#include "tools/xflowctl/ctl_format.h"
#include "tools/xflowctl/ctl_options.h"

namespace ctl = xflowd::tools::xflowctl;

int main(int argc, char** argv) {
  const char* slash = argc > 0 && argv[0] ? std::strrchr(argv[0], '/') : nullptr;
  const std::string program = slash ? slash + 1 : "xflowctl";
  ctl::CtlOptions o;
  xflowd::hal::base::Status st = ctl::ParseCtlOptions(argc, argv, &o);
  if (!st.ok()) {
    std::fprintf(stderr, "%s: %s\nTry '%s --help' for more information.\n", program.c_str(),
                 st.message().c_str(), program.c_str());
    return ctl::kExitUsage;
  }
  if (o.help) {
    std::fputs(ctl::CtlHelpText(program).c_str(), stdout);
    return ctl::kExitOk;
  }
  nlohmann::json request = nlohmann::json::object();
  request["command"] = o.command;
  if (!o.args.empty()) request["args"] = o.args;
  const ctl::CallOutcome r = ctl::Call(o.socket, request.dump() + "\n", o.timeout_s);
  if (!r.reached) {
    std::fprintf(stderr, "%s: %s\n", program.c_str(), r.error.c_str());
    return ctl::kExitNoConnection;
  }
  if (!r.reply["ok"].get<bool>()) {
    const nlohmann::json& e = r.reply.contains("error") ? r.reply["error"] : nlohmann::json();
    std::fprintf(stderr, "%s: %s: %s\n", program.c_str(), o.command.c_str(),
                 e.is_string() ? e.get<std::string>().c_str() : "error");
    return ctl::kExitDaemonError;
  }
  const nlohmann::json result = r.reply.contains("result") ? r.reply["result"] : nlohmann::json();
  if (o.json) {
    std::printf("%s\n",
                result.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::fputs(ctl::FormatResult(o.command, result).c_str(), stdout);
  }
  return ctl::kExitOk;
}
