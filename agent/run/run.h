// Running xflowd on one source: main parses the command line into the configuration model and
// calls Run; what differs between the modes is the platform they run on (the simulated switch,
// the ports of this Linux host or switch, a live interface, a capture file). CMake compiles
// each mode's file only when the build has its back-end (the *_none.cc stand-ins otherwise),
// so no #ifdef ladder decides here.
#pragma once

#include <string>

#include "agent/config/config.h"
#include "agent/daemon/daemon.h"
#include "agent/service/privileges.h"
#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "hal/base/status.h"

namespace xflowd::agent::run {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// What main adds when xflowd runs as a service; every part may be left empty.
struct ServiceHooks {
  // Whom to become once everything that needs root is open (service::PlanDrop). Each mode
  // keeps the capabilities service::NeededCapabilities names.
  service::DropPlan drop;
  // Once everything is open and the drop is done, with a one-line status (sd_notify READY=1,
  // --daemon's parent exits).
  std::function<void(const std::string& status)> ready;
  // Around each reload: true before, false after (sd_notify RELOADING=1, READY=1).
  std::function<void(bool begin)> reloading;
  // When the run ends, before the summary (sd_notify STOPPING=1).
  std::function<void()> stopping;
};

// What this build can run.
bool HaveSim();
bool HavePcap();
bool HaveLinux();
bool HaveOvs();
bool HaveVendor();

// Runs the configured source until it ends, --duration passes or SIGINT/SIGTERM; the exit
// status (the summary goes to stderr unless quiet). `loader` re-reads the configuration on
// SIGHUP (the daemon modes, --sim, --sample and -i; -r logs SIGHUP and ignores it).
int Run(const config::Config& config, hal::base::Logger& logger,
        const daemon::ConfigLoader& loader = {}, const ServiceHooks& service = {});

// The modes, one file each.
int RunSim(const config::Config& config, hal::base::Logger& logger,
           const daemon::ConfigLoader& loader = {}, const ServiceHooks& service = {});
int RunLinux(const config::Config& config, hal::base::Logger& logger,
             const daemon::ConfigLoader& loader = {}, const ServiceHooks& service = {});
int RunOvs(const config::Config& config, hal::base::Logger& logger,
           const daemon::ConfigLoader& loader = {}, const ServiceHooks& service = {});
int RunInterface(const config::Config& config, hal::base::Logger& logger,
                 const daemon::ConfigLoader& loader = {}, const ServiceHooks& service = {});
int RunFile(const config::Config& config, hal::base::Logger& logger,
            const ServiceHooks& service = {});
// A switch ASIC through its vendor's plugin (source.vendor, --vendor-plugin).
int RunVendor(const config::Config& config, hal::base::Logger& logger,
              const daemon::ConfigLoader& loader = {}, const ServiceHooks& service = {});

// Everything is open: drops privileges (service.drop, keeping what `config`'s mode needs),
// then reports readiness with `status`. An error if the drop failed (the caller stops).
hal::base::Status Started(const config::Config& config, const ServiceHooks& service,
                          hal::base::Logger& logger, const std::string& status);
// A summary for the end of a run: to stderr, or through the log when that is syslog
// (stderr is /dev/null under --daemon).
void PrintSummary(hal::base::Logger& logger, const std::string& text);

// The sFlow agent (and flow probe, with flow collectors) on `platform`: the wiring every live
// mode shares (--sim, --sample, -i). `loader` (may be empty) is what SIGHUP reloads from
// (Daemon::ReloadFromLoader). `after_run` (may be empty) runs once the daemon stopped and printed
// its summary, before the daemon goes; an error from it fails the run.
int RunDaemon(const config::Config& config, const daemon::Platform& platform,
              const hal::base::Clock& clock, hal::base::Logger& logger,
              const daemon::ConfigLoader& loader, const ServiceHooks& service,
              const std::function<hal::base::Status()>& after_run = {});

// Logs `status` as an error; kExitFailure.
int Fail(hal::base::Logger& logger, const hal::base::Status& status,
         const std::string& context = "");
// A multi-line report (a summary) as one log line per line.
void LogLines(hal::base::Logger& logger, const char* prefix, const std::string& text);

}  // namespace xflowd::agent::run
