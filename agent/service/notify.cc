#include "agent/service/notify.h"

#include <time.h>

#include <cstdio>
#include <cstdlib>

#ifdef XFLOWD_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace xflowd::agent::service {

bool HaveSystemd() {
#ifdef XFLOWD_HAVE_SYSTEMD
  return true;
#else
  return false;
#endif
}

hal::base::LogOutput ResolveLogOutput(config::LogTarget target, bool stderr_is_journal,
                                      bool daemonize) {
  using hal::base::LogOutput;
  switch (target) {
    case config::LogTarget::kSyslog:
      return LogOutput::kSyslog;
    case config::LogTarget::kStderr:
      return stderr_is_journal ? LogOutput::kJournal : LogOutput::kStderr;
    case config::LogTarget::kAuto:
      break;
  }
  if (stderr_is_journal) return LogOutput::kJournal;
  return daemonize ? LogOutput::kSyslog : LogOutput::kStderr;
}

bool Notifier::enabled() const { return HaveSystemd() && std::getenv("NOTIFY_SOCKET") != nullptr; }

void Notifier::Send(const std::string& message) const {
#ifdef XFLOWD_HAVE_SYSTEMD
  // 0: NOTIFY_SOCKET stays set for the messages that follow. Failures are not fatal: the
  // service manager times the start out and says so.
  (void)sd_notify(0, message.c_str());
#else
  (void)message;
#endif
}

void Notifier::Ready(const std::string& status) const {
  if (enabled()) Send("READY=1\nSTATUS=" + status);
}

void Notifier::Reloading() const {
  if (!enabled()) return;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  char line[96];
  std::snprintf(line, sizeof(line), "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading",
                static_cast<unsigned long long>(ts.tv_sec) * 1000000ull +
                    static_cast<unsigned long long>(ts.tv_nsec / 1000));
  Send(line);
}

void Notifier::Stopping() const {
  if (enabled()) Send("STOPPING=1\nSTATUS=stopping");
}

void Notifier::Status(const std::string& status) const {
  if (enabled()) Send("STATUS=" + status);
}

}  // namespace xflowd::agent::service
