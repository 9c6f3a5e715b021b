// xflowd: reads the config file and the command line into the configuration model and runs it
// (agent/run): the simulated switch, the ports of this Linux host or switch, a live interface
// or a capture file. Exit status: 0 ok, 1 runtime failure, 2 usage error (or an invalid
// configuration with --check-config).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/config_file.h"
#include "agent/config/validate.h"
#include "agent/daemon/options.h"
#include "agent/run/run.h"
#include "agent/service/notify.h"
#include "agent/service/privileges.h"
#include "agent/service/process.h"
#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "hal/base/status.h"

namespace {

namespace daemon = xflowd::agent::daemon;
namespace run = xflowd::agent::run;
namespace service = xflowd::agent::service;
using xflowd::hal::base::Status;

std::string ProgramName(const char* argv0) {
  const char* slash = argv0 ? std::strrchr(argv0, '/') : nullptr;
  return slash ? slash + 1 : (argv0 && *argv0 ? argv0 : "xflowd");
}

int UsageError(const std::string& program, const Status& status) {
  std::fprintf(stderr, "%s: %s\nTry '%s --help' for more information.\n", program.c_str(),
               status.message().c_str(), program.c_str());
  return run::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string program = ProgramName(argc > 0 ? argv[0] : nullptr);
  daemon::DaemonOptions options;
  Status st = daemon::ParseFlags(argc, argv, &options);
  if (!st.ok()) return UsageError(program, st);
  if (options.help) {
    std::fputs(daemon::HelpText(program).c_str(), stdout);
    return run::kExitOk;
  }
  if (options.version) {
    std::printf("%s %s\n", program.c_str(), daemon::kVersion);
    return run::kExitOk;
  }
  // The config file: --config FILE, else the default one if it exists, else none.
  std::string path = options.config_path;
  bool default_missing = false;
  if (path.empty()) {
    if (access(xflowd::agent::config::kDefaultConfigPath, F_OK) == 0) {
      path = xflowd::agent::config::kDefaultConfigPath;
    } else {
      default_missing = true;
    }
  }
  // --check-config reports an invalid configuration without the usage hint.
  auto invalid = [&](const Status& status) {
    if (!options.check_config) return UsageError(program, status);
    std::fprintf(stderr, "%s: %s\n", program.c_str(), status.message().c_str());
    return run::kExitUsage;
  };
  if (path.empty()) {
    // The command line alone: its own checks first, so its messages speak of options.
    st = daemon::FinishOptions(&options);
    if (!st.ok()) return invalid(st);
    st = daemon::CheckSupported(options, run::HaveSim(), run::HavePcap(), run::HaveLinux());
    if (!st.ok()) return invalid(st);
  }
  xflowd::hal::base::Result<xflowd::agent::config::Config> loaded =
      daemon::LoadEffectiveConfig(path, options);
  if (!loaded.ok()) return invalid(loaded.status());
  xflowd::agent::config::Config& config = *loaded;
  config.config_file = path;
  st = daemon::CheckSupported(config, run::HaveSim(), run::HavePcap(), run::HaveLinux());
  if (!st.ok()) return invalid(st);
  st = service::CheckUserSupported(config.service);
  if (!st.ok()) return invalid(st);
  if (options.check_config) {
    std::printf("# %s: %s is valid\n%s", program.c_str(),
                path.empty() ? "the command line" : path.c_str(),
                xflowd::agent::config::FormatConfig(config).c_str());
    return run::kExitOk;
  }

  xflowd::hal::base::Logger logger;
  logger.set_min_level(config.log.level);
  // log.target: the journal stamps each line itself; anywhere else a line carries its time.
  // Under --daemon, syslog lines go to the terminal too until the start is done.
  xflowd::hal::base::SystemClock log_clock;
  const auto output = service::ResolveLogOutput(
      config.log.target,
      xflowd::hal::base::FdIsJournalStream(std::getenv("JOURNAL_STREAM"), STDERR_FILENO),
      options.daemonize);
  logger.set_output(output, options.daemonize);
  if (output != xflowd::hal::base::LogOutput::kJournal) logger.set_timestamp_clock(&log_clock);
  if (default_missing && options.config_path.empty()) {
    logger.Log(xflowd::hal::base::LogLevel::kDebug,
               "no config file %s: running on the command line alone",
               xflowd::agent::config::kDefaultConfigPath);
  } else if (!path.empty()) {
    logger.Log(xflowd::hal::base::LogLevel::kInfo, "configuration from %s", path.c_str());
  }
  // SIGHUP and `xflowctl reload` read the file again with the same command line on top. The
  // last configuration read stands in for the running one: a collector's host name that stops
  // resolving keeps the address it had then (a warning, not an error).
  auto last = std::make_shared<xflowd::agent::config::Config>(config);
  const daemon::ConfigLoader loader =
      [path, options, last, &logger]() -> xflowd::hal::base::Result<xflowd::agent::config::Config> {
    std::vector<std::string> warnings;
    auto next = daemon::LoadEffectiveConfig(path, options, last.get(), &warnings);
    for (const std::string& w : warnings) {
      logger.Log(xflowd::hal::base::LogLevel::kWarning, "reload: %s", w.c_str());
    }
    if (!next.ok()) return next.status();
    next->config_file = path;
    *last = *next;
    return next;
  };

  // Running as a service: whom to become once everything is open, --daemon, the pid file,
  // readiness for systemd.
  auto plan = service::PlanDrop(config.service, geteuid(), logger);
  if (!plan.ok()) return invalid(plan.status());
  std::optional<service::Detached> detached;
  if (options.daemonize) {
    auto d = service::Daemonize();
    if (!d.ok()) return run::Fail(logger, d.status());
    detached.emplace(std::move(*d));
  }
  std::unique_ptr<service::PidFile> pid_file;
  if (!config.service.pid_file.empty()) {
    const uid_t uid = plan->drop ? plan->uid : static_cast<uid_t>(-1);
    const gid_t gid = plan->drop ? plan->gid : static_cast<gid_t>(-1);
    auto pf = service::PidFile::Create(config.service.pid_file, uid, gid, logger);
    if (!pf.ok()) return run::Fail(logger, pf.status());
    pid_file = std::move(*pf);
  }
  const service::Notifier notifier;
  run::ServiceHooks hooks;
  hooks.drop = *plan;
  auto status = std::make_shared<std::string>();
  hooks.ready = [&notifier, &detached, &logger, status](const std::string& text) {
    *status = text;
    notifier.Ready(text);
    if (detached) {
      detached->Ready();
      logger.set_mirror_stderr(false);
    }
    logger.Log(xflowd::hal::base::LogLevel::kDebug, "ready: %s", text.c_str());
  };
  hooks.reloading = [&notifier, status](bool begin) {
    if (begin) {
      notifier.Reloading();
    } else {
      notifier.Ready(*status);
    }
  };
  hooks.stopping = [&notifier] { notifier.Stopping(); };
  return run::Run(config, logger, loader, hooks);
}
