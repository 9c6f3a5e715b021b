#include "agent/run/run.h"

#include <cstdio>
#include <utility>

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
  auto reason = (*daemon)->Run();
  // The configuration running at the end: a reload may have changed it.
  if (!(*daemon)->config().log.quiet) {
    std::fprintf(stderr, "%s\n", (*daemon)->Summary().c_str());
  }
  if (after_run) {
    Status st = after_run();
    if (!st.ok()) return Fail(logger, st);
  }
  if (!reason.ok()) return Fail(logger, reason.status());
  return kExitOk;
}

int Run(const config::Config& config, hal::base::Logger& logger,
        const daemon::ConfigLoader& loader) {
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
