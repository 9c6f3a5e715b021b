// The commands of the control socket (docs/control.md), answered from the running Daemon:
// status, ports, collectors, flows, top, check, stats, flush and reload. Runs on the loop
// thread, between samples: nothing here may block.
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

class DaemonCommands {
 public:
  // `daemon` must outlive this. `config_path`: the config file in use ("" when none), for
  // `status`. `server` (may be null) adds its counters to `stats`.
  DaemonCommands(daemon::Daemon& daemon, std::string config_path);

  void set_server(const ControlServer* server) { server_ = server; }

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
  std::string config_path_;
  const ControlServer* server_ = nullptr;
};

// The control socket of `daemon`, answering DaemonCommands; `commands` must outlive it.
hal::base::Result<std::unique_ptr<ControlServer>> StartControlServer(
    const ControlServerOptions& options, daemon::Daemon& daemon, DaemonCommands& commands,
    hal::base::Logger& logger);

}  // namespace xflowd::agent::control
