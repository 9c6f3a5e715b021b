// Readiness for systemd (Type=notify) through libsystemd's sd_notify: READY=1 once everything
// is open and the privilege drop is done, RELOADING=1 (with MONOTONIC_USEC, as systemd 253+
// wants for Type=notify-reload) and READY=1 around a reload, STOPPING=1 at exit, STATUS= a
// short line. Nothing is sent when NOTIFY_SOCKET is unset or the build has no libsystemd.
#pragma once

#include <string>

#include "agent/config/config.h"
#include "hal/base/log.h"

namespace xflowd::agent::service {

class Notifier {
 public:
  Notifier() = default;
  // Whether messages go anywhere (libsystemd and NOTIFY_SOCKET set).
  bool enabled() const;
  void Ready(const std::string& status) const;
  void Reloading() const;
  void Stopping() const;
  void Status(const std::string& status) const;

 private:
  void Send(const std::string& message) const;
};

// Whether this build has libsystemd.
bool HaveSystemd();

// Where log.target sends the log: kAuto is the journal when stderr is its stream, syslog
// with --daemon (stderr goes to /dev/null), else stderr.
hal::base::LogOutput ResolveLogOutput(config::LogTarget target, bool stderr_is_journal,
                                      bool daemonize);

}  // namespace xflowd::agent::service
