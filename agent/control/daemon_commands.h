// The commands of the control socket (docs/control.md), answered from the running Daemon:
// status, ports, collectors, flows, stats, flush, and through hooks that the run wiring sets,
// reload, top and check. Runs on the loop thread, between samples: nothing here may block.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>

#include "agent/control/control_server.h"
#include "agent/control/protocol.h"
#include "agent/daemon/daemon.h"
#include "hal/base/status.h"

namespace xflowd::agent::control {

// What the Daemon itself cannot answer; set by the run wiring. An empty hook: `reload`, `top`
// and `check` answer the error "... not available in this build"; `last_reload` gives null.
struct ControlHooks {
  std::string config_path;  // the config file in use ("" when there is none)
  // Re-reads and applies the configuration; an error Status is the reply's "error".
  std::function<hal::base::Status()> reload;
  // The result of the last reload, any JSON (null when none yet).
  std::function<nlohmann::json()> last_reload;
  // The top `n` talkers (n = 1..1000, default 10) of the recent samples.
  std::function<nlohmann::json(uint32_t n)> top;
  // The self-check of the sampling against the interface counters.
  std::function<nlohmann::json()> check;
};

class DaemonCommands {
 public:
  // `daemon` must outlive this. `server` (may be null) adds its counters to `stats`.
  DaemonCommands(daemon::Daemon& daemon, ControlHooks hooks);

  void set_server(const ControlServer* server) { server_ = server; }
  // For hooks whose owners are made after the commands (the next request sees them).
  void set_hooks(ControlHooks hooks) { hooks_ = std::move(hooks); }

  // One request line -> one reply line (ControlServer::LineHandler).
  std::string HandleLine(std::string_view line, bool* ok);
  // The result of one parsed request, or the error to send back.
  hal::base::Result<nlohmann::json> Run(const Request& request);

  // Each command's answer, also for tests.
  nlohmann::json Status() const;
  nlohmann::json Ports() const;
  nlohmann::json Collectors() const;
  nlohmann::json Flows() const;
  nlohmann::json Stats() const;
  nlohmann::json Flush();

 private:
  daemon::Daemon& daemon_;
  ControlHooks hooks_;
  const ControlServer* server_ = nullptr;
};

// The control socket of `daemon`, answering DaemonCommands; `commands` must outlive it.
hal::base::Result<std::unique_ptr<ControlServer>> StartControlServer(
    const ControlServerOptions& options, daemon::Daemon& daemon, DaemonCommands& commands,
    hal::base::Logger& logger);

}  // namespace xflowd::agent::control
