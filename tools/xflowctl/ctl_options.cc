#include "tools/xflowctl/ctl_options.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace xflowd::tools::xflowctl {

using hal::base::InvalidArgumentError;
using hal::base::Status;

namespace {

// The commands and how many words follow each.
struct CommandSpec {
  const char* name;
  int max_args;
};
constexpr CommandSpec kCommands[] = {
    {"status", 0}, {"ports", 0},  {"collectors", 0}, {"flows", 0}, {"top", 1},
    {"check", 0},  {"reload", 0}, {"flush", 0},      {"stats", 0}, {"help", 0},
};

}  // namespace

Status ParseCtlOptions(int argc, const char* const* argv, CtlOptions* out) {
  CtlOptions o;
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a.empty() || a[0] != '-') break;
    if (a == "--") {
      ++i;
      break;
    }
    std::string value;
    bool has_value = false;
    const size_t eq = a.find('=');
    if (a.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
      has_value = true;
    }
    auto take = [&](const std::string& name) -> Status {
      if (has_value) return Status::Ok();
      if (i + 1 >= argc) return InvalidArgumentError(name + ": needs a value");
      value = argv[++i];
      return Status::Ok();
    };
    if (a == "-h" || a == "--help") {
      o.help = true;
      *out = o;
      return Status::Ok();
    } else if (a == "--json" || a == "-j") {
      o.json = true;
    } else if (a == "--socket" || a == "-s") {
      XFLOWD_RETURN_IF_ERROR(take(a));
      if (value.empty()) return InvalidArgumentError(a + ": needs a path");
      o.socket = value;
    } else if (a == "--timeout" || a == "-t") {
      XFLOWD_RETURN_IF_ERROR(take(a));
      char* end = nullptr;
      errno = 0;
      const double v = std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0' || errno != 0 || !std::isfinite(v) || v <= 0 || v > 3600) {
        return InvalidArgumentError(a + ": expected seconds, more than 0 and at most 3600, got '" +
                                    value + "'");
      }
      o.timeout_s = v;
    } else {
      return InvalidArgumentError("unknown option '" + a + "'");
    }
  }
  if (i >= argc) return InvalidArgumentError("no command given");
  o.command = argv[i++];
  const CommandSpec* spec = nullptr;
  for (const CommandSpec& c : kCommands) {
    if (o.command == c.name) spec = &c;
  }
  if (spec == nullptr) {
    return InvalidArgumentError("unknown command '" + o.command +
                                "' (status, ports, collectors, flows, top, check, reload, "
                                "flush, stats, help)");
  }
  const int rest = argc - i;
  if (rest > spec->max_args) {
    return InvalidArgumentError("'" + o.command + "' takes " +
                                (spec->max_args == 0
                                     ? std::string("no arguments")
                                     : "at most " + std::to_string(spec->max_args) + " argument"));
  }
  if (o.command == "top" && rest == 1) {
    const std::string n = argv[i];
    char* end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(n.c_str(), &end, 10);
    if (n.empty() || n[0] < '0' || n[0] > '9' || *end != '\0' || errno != 0 || v < 1 || v > 1000) {
      return InvalidArgumentError("top N: expected a whole number from 1 to 1000, got '" + n + "'");
    }
    o.args["n"] = static_cast<uint64_t>(v);
  }
  *out = std::move(o);
  return Status::Ok();
}

std::string CtlHelpText(const std::string& program) {
  std::string p = program;
  return p + R"( - ask a running xflowd for its state, or tell it to reload or flush

Usage:
  )" + p +
         R"( [--socket PATH] [--json] [--timeout S] COMMAND [ARGS]

Commands:
  status        version, mode, uptime, config file, last reload
  ports         per port: requested and applied sampling rate, samples, pool,
                drops, polling interval, interface counters
  collectors    per sFlow / NetFlow / IPFIX collector: datagrams, bytes, send
                errors, refusals (ICMP), state (TCP), last error
  flows         flow cache: occupancy, records by end reason, evictions
  top [N]       the top N talkers of the recent samples (default 10)
  check         self-check: sampling against the interface counters
  reload        re-read the configuration file; prints the error if it fails
  flush         export every flow in the cache now (end reason forced)
  stats         every counter (docs/metrics.md)
  help          the commands the daemon knows

Options:
  -s, --socket PATH   the daemon's control socket (default
                      /run/xflowd/xflowd.sock; xflowd --control-socket)
  -j, --json          print the reply's result as JSON (for scripts)
  -t, --timeout S     wait at most S seconds for the reply (default 5)
  -h, --help          show this help

The protocol is one JSON object per line each way (docs/control.md), so scripts
can also talk to the socket directly:
  echo '{"command":"status"}' | socat - UNIX-CONNECT:/run/xflowd/xflowd.sock

Exit status: 0 ok, 1 the daemon answered an error, 2 usage error, 3 cannot
reach the daemon (no socket, no permission, no reply in time).
)";
}

}  // namespace xflowd::tools::xflowctl
