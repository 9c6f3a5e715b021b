#include "hal/base/log.h"

#include <cstdio>

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
  } else {
    fprintf(stderr, "xflowd[%s]: %s\n", LogLevelName(level), buf);
  }
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
