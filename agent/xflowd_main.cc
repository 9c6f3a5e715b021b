// xflowd: parses the command line into the configuration model and runs it (agent/run): the
// simulated switch, the ports of this Linux host or switch, a live interface or a capture
// file. Exit status: 0 ok, 1 runtime failure, 2 usage error.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "agent/config/validate.h"
#include "agent/daemon/options.h"
#include "agent/run/run.h"
#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "hal/base/status.h"

namespace {

namespace daemon = xflowd::agent::daemon;
namespace run = xflowd::agent::run;
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
  Status st = daemon::ParseOptions(argc, argv, &options);
  if (!st.ok()) return UsageError(program, st);
  if (options.help) {
    std::fputs(daemon::HelpText(program).c_str(), stdout);
    return run::kExitOk;
  }
  if (options.version) {
    std::printf("%s %s\n", program.c_str(), daemon::kVersion);
    return run::kExitOk;
  }
  st = daemon::CheckSupported(options, run::HaveSim(), run::HavePcap(), run::HaveLinux());
  if (!st.ok()) return UsageError(program, st);
  const xflowd::agent::config::Config config = daemon::ToConfig(options);
  st = xflowd::agent::config::Validate(config);
  if (!st.ok()) return UsageError(program, st);

  xflowd::hal::base::Logger logger;
  logger.set_min_level(config.log.level);
  // The journal stamps each line itself; anywhere else a line carries its time.
  xflowd::hal::base::SystemClock log_clock;
  if (!xflowd::hal::base::FdIsJournalStream(std::getenv("JOURNAL_STREAM"), STDERR_FILENO)) {
    logger.set_timestamp_clock(&log_clock);
  }
  // Until a configuration file exists, a reload reads the same command line again: nothing
  // changes, but SIGHUP takes the whole reload path.
  const daemon::ConfigLoader loader =
      [argc, argv]() -> xflowd::hal::base::Result<xflowd::agent::config::Config> {
    daemon::DaemonOptions o;
    XFLOWD_RETURN_IF_ERROR(daemon::ParseOptions(argc, argv, &o));
    xflowd::agent::config::Config c = daemon::ToConfig(o);
    XFLOWD_RETURN_IF_ERROR(xflowd::agent::config::Validate(c));
    return c;
  };
  return run::Run(config, logger, loader);
}
