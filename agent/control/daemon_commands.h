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
#include <vector>

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
  // Counters of a component the run wiring adds (the SNMP sub-agent): `stats` shows them as
  // the object `section`. The function is called on each request; it must outlive this.
  using CounterList = std::vector<std::pair<std::string, uint64_t>>;
  void AddStats(std::string section, std::function<CounterList()> counters) {
    extra_stats_.emplace_back(std::move(section), std::move(counters));
  }

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
  std::vector<std::pair<std::string, std::function<CounterList()>>> extra_stats_;
};

// The control socket of `daemon`, answering DaemonCommands; `commands` must outlive it.
hal::base::Result<std::unique_ptr<ControlServer>> StartControlServer(
    const ControlServerOptions& options, daemon::Daemon& daemon, DaemonCommands& commands,
    hal::base::Logger& logger);

}  // namespace xflowd::agent::control
