// Logging. A Logger is owned by main and passed by reference (no global logger). On the data
// path use RateLimitedLog, which lets a few lines per interval through and counts the rest.
#pragma once

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

#include "hal/base/clock.h"
#include "hal/base/time.h"

namespace xflowd::hal::base {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };
const char* LogLevelName(LogLevel level);

// systemd's journal sets JOURNAL_STREAM="DEV:INODE" to the stream it gives a service; stderr
// goes to the journal only if it still is that file (not when redirected, or in a child of the
// service writing elsewhere). The journal stamps each line itself.
bool JournalStreamIs(const char* journal_stream, uint64_t dev, uint64_t ino);
// The same for an open fd (fstat). False when journal_stream is null or the fd is bad.
bool FdIsJournalStream(const char* journal_stream, int fd);

// Where a Logger without a sink writes.
enum class LogOutput {
  kStderr,   // "xflowd[level]: message", after a timestamp when a clock is set
  kJournal,  // stderr is the journal's stream: "<N>xflowd[level]: message", the journal
             // takes the priority N (sd-daemon(3)) and stamps the line itself
  kSyslog,   // syslog(3), ident "xflowd", facility daemon, priority by level
};
// The syslog priority of a level (LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR).
int SyslogPriority(LogLevel level);

class Logger {
 public:
  using Sink = std::function<void(LogLevel, const std::string&)>;
  // Writes "xflowd[level]: message\n" to stderr, after a timestamp when a clock is set.
  Logger() = default;
  explicit Logger(Sink sink) : sink_(std::move(sink)) {}

  void set_min_level(LogLevel level) { min_level_ = level; }
  LogLevel min_level() const { return min_level_; }
  bool Enabled(LogLevel level) const { return level >= min_level_; }

  // Prefixes each stderr line with `clock`'s wall time, UTC to the millisecond (main sets it
  // unless stderr is the journal). Null: no prefix. Must outlive the logger.
  void set_timestamp_clock(const Clock* clock) { timestamp_clock_ = clock; }
  // A stderr line without its newline: "2026-01-01T00:00:01.500Z xflowd[info]: message"
  // (kJournal: "<6>xflowd[info]: message").
  std::string FormatLine(LogLevel level, const char* message) const;

  // kSyslog opens the syslog connection at once (before a privilege drop or chroot). With
  // `mirror_stderr`, kSyslog lines go to stderr too, until set_mirror_stderr(false): --daemon
  // keeps start-up errors on the terminal that started it.
  void set_output(LogOutput output, bool mirror_stderr = false);
  LogOutput output() const { return output_; }
  void set_mirror_stderr(bool mirror) { mirror_stderr_ = mirror; }

  // Lines a RateLimitedLog held back, all of them together (xflowctl stats, the summary).
  void CountSuppressed() { ++suppressed_; }
  uint64_t suppressed() const { return suppressed_; }
  // For exit summaries: "\nxflowd: N log lines suppressed by rate limits." when there were
  // any, else "".
  std::string SuppressedNote() const;

  void Log(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
  void LogV(LogLevel level, const char* fmt, va_list ap);

  // A logger that discards everything (tests, benchmarks).
  static Logger Null() {
    Logger l([](LogLevel, const std::string&) {});
    l.set_min_level(LogLevel::kError);
    return l;
  }

 private:
  Sink sink_;
  LogLevel min_level_ = LogLevel::kInfo;
  const Clock* timestamp_clock_ = nullptr;
  LogOutput output_ = LogOutput::kStderr;
  bool mirror_stderr_ = false;
  bool syslog_open_ = false;
  uint64_t suppressed_ = 0;
};

// At most `burst` lines per `interval`; the lines dropped are counted and reported with the
// next line that gets through ("... (N similar messages suppressed)").
class RateLimitedLog {
 public:
  RateLimitedLog(Logger& logger, Duration interval = seconds(10), uint32_t burst = 5)
      : logger_(logger), interval_(interval), burst_(burst) {}

  void Log(MonoTime now, LogLevel level, const char* fmt, ...)
      __attribute__((format(printf, 4, 5)));
  uint64_t suppressed_total() const { return suppressed_total_; }

 private:
  Logger& logger_;
  Duration interval_;
  uint32_t burst_;
  MonoTime window_start_;
  bool started_ = false;
  uint32_t in_window_ = 0;
  uint64_t suppressed_pending_ = 0;
  uint64_t suppressed_total_ = 0;
};

}  // namespace xflowd::hal::base
