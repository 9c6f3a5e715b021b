#include "hal/base/log.h"

#include <sys/stat.h>
#include <syslog.h>
#include <time.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>

namespace xflowd::hal::base {

const char* LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "?";
}

bool JournalStreamIs(const char* journal_stream, uint64_t dev, uint64_t ino) {
  if (journal_stream == nullptr) return false;
  uint64_t want_dev = 0;
  uint64_t want_ino = 0;
  int end = 0;
  if (std::sscanf(journal_stream, "%" SCNu64 ":%" SCNu64 "%n", &want_dev, &want_ino, &end) != 2 ||
      journal_stream[end] != '\0') {
    return false;
  }
  return want_dev == dev && want_ino == ino;
}

bool FdIsJournalStream(const char* journal_stream, int fd) {
  if (journal_stream == nullptr) return false;
  struct stat st;
  if (fstat(fd, &st) != 0) return false;
  return JournalStreamIs(journal_stream, static_cast<uint64_t>(st.st_dev),
                         static_cast<uint64_t>(st.st_ino));
}

int SyslogPriority(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return LOG_DEBUG;
    case LogLevel::kInfo:
      return LOG_INFO;
    case LogLevel::kWarning:
      return LOG_WARNING;
    case LogLevel::kError:
      return LOG_ERR;
  }
  return LOG_ERR;
}

void Logger::set_output(LogOutput output, bool mirror_stderr) {
  output_ = output;
  mirror_stderr_ = mirror_stderr;
  if (output == LogOutput::kSyslog && !syslog_open_) {
    openlog("xflowd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
    syslog_open_ = true;
  }
}

std::string Logger::FormatLine(LogLevel level, const char* message) const {
  char stamp[40] = "";
  if (output_ == LogOutput::kJournal) {
    std::snprintf(stamp, sizeof(stamp), "<%d>", SyslogPriority(level));
  } else if (timestamp_clock_ != nullptr) {
    const int64_t ns = timestamp_clock_->WallNow().ns();
    const time_t secs = static_cast<time_t>(ns / 1000000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    const size_t n = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(stamp + n, sizeof(stamp) - n, ".%03dZ ", static_cast<int>((ns / 1000000) % 1000));
  }
  return std::string(stamp) + "xflowd[" + LogLevelName(level) + "]: " + message;
}

std::string Logger::SuppressedNote() const {
  if (suppressed_ == 0) return "";
  return "\nxflowd: " + std::to_string(suppressed_) + " log lines suppressed by rate limits.";
}

void Logger::Log(LogLevel level, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  LogV(level, fmt, ap);
  va_end(ap);
}

void Logger::LogV(LogLevel level, const char* fmt, va_list ap) {
  if (!Enabled(level)) return;
  char buf[1024];
  vsnprintf(buf, sizeof(buf), fmt, ap);
  if (sink_) {
    sink_(level, buf);
    return;
  }
  if (output_ == LogOutput::kSyslog) {
    syslog(SyslogPriority(level), "%s", buf);
    if (!mirror_stderr_) return;
  }
  fprintf(stderr, "%s\n", FormatLine(level, buf).c_str());
}

void RateLimitedLog::Log(MonoTime now, LogLevel level, const char* fmt, ...) {
  if (!logger_.Enabled(level)) return;
  if (!started_ || now - window_start_ >= interval_) {
    started_ = true;
    window_start_ = now;
    in_window_ = 0;
  }
  if (in_window_ >= burst_) {
    ++suppressed_pending_;
    ++suppressed_total_;
    logger_.CountSuppressed();
    return;
  }
  ++in_window_;
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  if (suppressed_pending_ > 0) {
    logger_.Log(level, "%s (%llu similar messages suppressed)", buf,
                static_cast<unsigned long long>(suppressed_pending_));
    suppressed_pending_ = 0;
  } else {
    logger_.Log(level, "%s", buf);
  }
}

}  // namespace xflowd::hal::base
