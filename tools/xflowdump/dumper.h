// xflowdump's core: takes UDP payloads (from a capture or a socket), decodes them, prints them
// in the chosen output mode, keeps the statistics and prints the summaries. Time is passed in
// (capture time for pcap, the injected clock for live input), so tests drive it by hand.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "hal/base/byte_view.h"
#include "hal/base/clock.h"
#include "hal/base/status.h"
#include "hal/base/time.h"
#include "tools/xflowdump/datagram_format.h"
#include "tools/xflowdump/dump_options.h"
#include "tools/xflowdump/dump_stats.h"
#include "tools/xflowdump/json_writer.h"
#include "tools/xflowdump/summary_report.h"

namespace xflowd::tools::xflowdump {

class Dumper {
 public:
  // `out` must outlive the Dumper. flush_each: flush after every datagram and summary (live
  // input, so a pipe sees lines as they come).
  Dumper(const DumpOptions& options, std::ostream& out, bool flush_each);

  // The run starts at `now` (the first packet's time for a capture).
  void Start(hal::base::MonoTime now);
  bool started() const { return started_; }

  // One UDP payload that should be an sFlow datagram: decoded, printed, counted. A malformed
  // one is reported and counted, never fatal.
  void OnDatagram(hal::base::ByteView payload, const DatagramMeta& meta, hal::base::MonoTime now);
  // Prints the periodic summary if an interval has ended (summary mode; no-op otherwise).
  // `wall` is the wall-clock (or capture) time at `now`.
  void Tick(hal::base::MonoTime now, hal::base::WallTime wall);
  // When Tick next has work to do, for poll timeouts (MonoTime max if never).
  hal::base::MonoTime NextTick() const;

  // -c reached.
  bool CountReached() const;
  // -t passed.
  bool TimeUp(hal::base::MonoTime now) const;
  // When -t ends the run (MonoTime max if never).
  hal::base::MonoTime Deadline() const;

  // Prints what is left: the last partial interval (summary mode) and the final report (text
  // and summary) or the {"summary": ...} line (json).
  void Finish(hal::base::MonoTime now, hal::base::WallTime wall);

  InputStats& input() { return input_; }
  const DumpStats& stats() const { return stats_; }
  uint64_t datagrams_seen() const { return seen_; }

 private:
  void Write(const std::string& s);
  double Seconds(hal::base::MonoTime from, hal::base::MonoTime to) const;

  DumpOptions options_;
  std::ostream& out_;
  bool flush_each_;
  DumpStats stats_;
  InputStats input_;
  JsonWriter json_;
  std::string text_;
  bool started_ = false;
  hal::base::MonoTime start_;
  hal::base::MonoTime last_;  // latest time seen
  hal::base::MonoTime interval_start_;
  hal::base::Duration interval_;
  uint64_t seen_ = 0;  // datagrams, malformed included
};

// Reads a capture file to its end (or -c / -t) and prints it. Errors: the file cannot be
// opened, is not a pcap, has a link type we cannot read, or is corrupt (after the report of
// what was read).
hal::base::Status RunPcap(const DumpOptions& options, std::ostream& out);

// Listens until -c / -t, or until `stop_fd` (a signalfd, or -1) becomes readable. Errors: the
// socket cannot be bound, or receiving fails.
hal::base::Status RunLive(const DumpOptions& options, const hal::base::Clock& clock, int stop_fd,
                          std::ostream& out, std::ostream& log);

}  // namespace xflowd::tools::xflowdump
