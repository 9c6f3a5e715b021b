#include "agent/run/run.h"

#include <cstdio>
#include <memory>
#include <utility>

#include "agent/control/daemon_commands.h"
#include "agent/snmp/agentx_subagent.h"

namespace xflowd::agent::run {

using hal::base::LogLevel;
using hal::base::Status;

int Fail(hal::base::Logger& logger, const Status& status, const std::string& context) {
  if (context.empty()) {
    logger.Log(LogLevel::kError, "%s", status.message().c_str());
  } else {
    logger.Log(LogLevel::kError, "%s: %s", context.c_str(), status.message().c_str());
  }
  return kExitFailure;
}

void LogLines(hal::base::Logger& logger, const char* prefix, const std::string& text) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    logger.Log(LogLevel::kInfo, "%s%s", prefix, text.substr(start, end - start).c_str());
    start = end + 1;
  }
}

int RunDaemon(const config::Config& config, const daemon::Platform& platform,
              const hal::base::Clock& clock, hal::base::Logger& logger,
              const daemon::ConfigLoader& loader, const std::function<Status()>& after_run) {
  daemon::DaemonSettings settings;
  settings.loader = loader;
  auto daemon = daemon::Daemon::Create(config, platform, clock, logger, std::move(settings));
  if (!daemon.ok()) return Fail(logger, daemon.status());
  // The control socket (xflowctl).
  control::DaemonCommands commands(**daemon, config.config_file);
  std::unique_ptr<control::ControlServer> control_server;
  if (!config.control.socket.empty()) {
    control::ControlServerOptions co;
    co.path = config.control.socket;
    co.group = config.control.group;
    auto server = control::StartControlServer(co, **daemon, commands, logger);
    if (server.ok()) {
      control_server = std::move(server.value());
    } else if (co.path == control::kDefaultSocketPath && co.group.empty()) {
      // Only the default path: an xflowd run by a user (a demo, a test) has no /run/xflowd.
      logger.Log(LogLevel::kWarning, "%s; running without it (--control-socket PATH to choose one)",
                 server.status().message().c_str());
    } else {
      return Fail(logger, server.status());
    }
  }
  // The sFlow MIB over AgentX (docs/snmp.md).
  std::unique_ptr<snmp::AgentxSubagent> subagent;
  if (config.snmp.enabled) {
    auto s = snmp::StartAgentxSubagent(config.snmp, **daemon, logger);
    if (!s.ok()) return Fail(logger, s.status());
    subagent = std::move(s.value());
    snmp::AgentxSubagent* a = subagent.get();
    commands.AddStats("snmp", [a] { return a->Counters(); });
  }
  auto reason = (*daemon)->Run();
  // The configuration running at the end: a reload may have changed it.
  if (!(*daemon)->config().log.quiet) {
    std::string summary = (*daemon)->Summary();
    if (control_server) summary += "\n" + control_server->Summary();
    if (subagent) summary += "\n" + subagent->Summary();
    std::fprintf(stderr, "%s\n", summary.c_str());
  }
  control_server.reset();  // removes the socket file before the after-run work
  subagent.reset();        // after the server: `stats` reads its counters
  if (after_run) {
    Status st = after_run();
    if (!st.ok()) return Fail(logger, st);
  }
  if (!reason.ok()) return Fail(logger, reason.status());
  return kExitOk;
}

int Run(const config::Config& config, hal::base::Logger& logger,
        const daemon::ConfigLoader& loader) {
  const bool probe_mode = config.source.kind == config::SourceKind::kInterface ||
                          config.source.kind == config::SourceKind::kFile;
  if (probe_mode && !config.control.socket.empty() &&
      config.control.socket != control::kDefaultSocketPath) {
    logger.Log(LogLevel::kWarning,
               "control socket %s: not available with -i or -r yet (only --sim and --sample); "
               "running without it",
               config.control.socket.c_str());
  }
  switch (config.source.kind) {
    case config::SourceKind::kSim:
      return RunSim(config, logger, loader);
    case config::SourceKind::kLinux:
      return RunLinux(config, logger, loader);
    case config::SourceKind::kInterface:
      return RunInterface(config, logger);
    case config::SourceKind::kFile:
      return RunFile(config, logger);
  }
  return kExitUsage;
}

}  // namespace xflowd::agent::run
