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

void PrintSummary(hal::base::Logger& logger, const std::string& text) {
  if (logger.output() == hal::base::LogOutput::kSyslog) {
    LogLines(logger, "", text);
  } else {
    std::fprintf(stderr, "%s\n", text.c_str());
  }
}

Status Started(const config::Config& config, const ServiceHooks& service, hal::base::Logger& logger,
               const std::string& status) {
  XFLOWD_RETURN_IF_ERROR(
      service::DropPrivileges(service.drop, service::NeededCapabilities(config), logger));
  if (service.ready) service.ready(status);
  return Status::Ok();
}

int RunDaemon(const config::Config& config, const daemon::Platform& platform,
              const hal::base::Clock& clock, hal::base::Logger& logger,
              const daemon::ConfigLoader& loader, const ServiceHooks& service,
              const std::function<Status()>& after_run) {
  daemon::DaemonSettings settings;
  settings.loader = loader;
  settings.flow_clock = &clock;
  auto daemon = daemon::Daemon::Create(config, platform, clock, logger, std::move(settings));
  if (!daemon.ok()) return Fail(logger, daemon.status());
  // The control socket (xflowctl).
  control::DaemonCommands commands(**daemon, config.config_file);
  std::unique_ptr<control::ControlServer> control_server;
  if (!config.control.socket.empty()) {
    control::ControlServerOptions co;
    co.path = config.control.socket;
    co.group = config.control.group;
    if (service.drop.drop) {
      // The user xflowd becomes keeps the socket (and a directory made for it).
      co.owner_uid = service.drop.uid;
      co.owner_gid = service.drop.gid;
    }
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
  if (platform.stats) commands.AddStats(platform.stats_section, platform.stats);
  // The sFlow MIB over AgentX (docs/snmp.md).
  std::unique_ptr<snmp::AgentxSubagent> subagent;
  if (config.snmp.enabled) {
    auto s = snmp::StartAgentxSubagent(config.snmp, **daemon, logger);
    if (!s.ok()) return Fail(logger, s.status());
    subagent = std::move(s.value());
    snmp::AgentxSubagent* a = subagent.get();
    commands.AddStats("snmp", [a] { return a->Counters(); });
  }
  Status st = Started(config, service, logger,
                      (platform.description.empty() ? "sampling" : platform.description));
  if (!st.ok()) return Fail(logger, st);
  if (service.drop.drop) {
    // What was given up cannot come back: a reload that needs it is refused.
    const service::Capabilities kept = service::NeededCapabilities(config);
    const std::string user = service.drop.user;
    (*daemon)->set_reload_check([kept, user](const config::Config& next) {
      return service::CheckReloadCapabilities(kept, user, next);
    });
  }
  if (service.reloading) (*daemon)->set_reload_observer(service.reloading);
  auto reason = (*daemon)->Run();
  if (service.stopping) service.stopping();
  // The configuration running at the end: a reload may have changed it.
  if (!(*daemon)->config().log.quiet) {
    std::string summary = (*daemon)->Summary();
    if (control_server) summary += "\n" + control_server->Summary();
    if (subagent) summary += "\n" + subagent->Summary();
    PrintSummary(logger, summary);
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

int Run(const config::Config& config, hal::base::Logger& logger, const daemon::ConfigLoader& loader,
        const ServiceHooks& service) {
  if (config.source.kind == config::SourceKind::kFile && !config.control.socket.empty() &&
      config.control.socket != control::kDefaultSocketPath) {
    logger.Log(LogLevel::kWarning,
               "control socket %s: not available with -r (a batch run without the event loop); "
               "running without it",
               config.control.socket.c_str());
  }
  switch (config.source.kind) {
    case config::SourceKind::kSim:
      return RunSim(config, logger, loader, service);
    case config::SourceKind::kLinux:
      return RunLinux(config, logger, loader, service);
    case config::SourceKind::kOvs:
      return RunOvs(config, logger, loader, service);
    case config::SourceKind::kInterface:
      return RunInterface(config, logger, loader, service);
    case config::SourceKind::kFile:
      return RunFile(config, logger, service);
    case config::SourceKind::kVendor:
      return RunVendor(config, logger, loader, service);
  }
  return kExitUsage;
}

}  // namespace xflowd::agent::run
