#include "tools/xflowdump/dumper.h"

#include <poll.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "exporter/sflow/sflow_decoder.h"
#include "hal/capfile/pcap_reader.h"
#include "hal/link_type.h"
#include "tools/xflowdump/udp_listener.h"

namespace xflowd::tools::xflowdump {

using hal::base::ByteView;
using hal::base::Duration;
using hal::base::MonoTime;
using hal::base::Status;
using hal::base::WallTime;

namespace {

constexpr MonoTime kNever = MonoTime(Duration::max());
// Datagrams handled per poll wake-up before the loop checks its timers again.
constexpr int kReceiveBudget = 256;

Duration FromSeconds(double s) {
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s));
}

}  // namespace

Dumper::Dumper(const DumpOptions& options, std::ostream& out, bool flush_each)
    : options_(options),
      out_(out),
      flush_each_(flush_each),
      interval_(FromSeconds(options.interval_s)) {}

void Dumper::Start(MonoTime now) {
  started_ = true;
  start_ = now;
  last_ = now;
  interval_start_ = now;
}

double Dumper::Seconds(MonoTime from, MonoTime to) const {
  return std::chrono::duration<double>(to - from).count();
}

void Dumper::Write(const std::string& s) {
  out_ << s;
  if (flush_each_) out_.flush();
}

void Dumper::OnDatagram(ByteView payload, const DatagramMeta& meta, MonoTime now) {
  if (!started_) Start(now);
  last_ = std::max(last_, now);
  ++seen_;
  auto decoded = exporter::sflow::DecodeDatagram(payload);
  if (!decoded.ok()) {
    const std::string message = decoded.status().message();
    stats_.AddDecodeError(meta.source, payload.size(), message);
    if (options_.mode == OutputMode::kText) {
      text_.clear();
      AppendTextError(meta, message, &text_);
      Write(text_);
    } else if (options_.mode == OutputMode::kJson) {
      json_.Clear();
      WriteJsonError(meta, message, &json_);
      Write(json_.str() + "\n");
    }
    return;
  }
  stats_.AddDatagram(*decoded, payload.size(), meta.destination);
  if (options_.mode == OutputMode::kText) {
    text_.clear();
    AppendText(*decoded, meta, TextOptions{options_.hex}, &text_);
    Write(text_);
  } else if (options_.mode == OutputMode::kJson) {
    json_.Clear();
    WriteJson(*decoded, meta, &json_);
    Write(json_.str() + "\n");
  }
}

MonoTime Dumper::NextTick() const {
  if (options_.mode != OutputMode::kSummary || !started_) return kNever;
  return interval_start_ + interval_;
}

void Dumper::Tick(MonoTime now, WallTime wall) {
  if (!started_) Start(now);
  last_ = std::max(last_, now);
  if (options_.mode != OutputMode::kSummary) return;
  const MonoTime end = interval_start_ + interval_;
  if (now < end) return;
  // Everything counted so far arrived before `end`: the summary covers exactly one interval.
  // Intervals that passed since without data (a quiet stretch of a capture) print nothing;
  // live input ticks every interval, so there each one is printed.
  text_.clear();
  AppendIntervalSummary(stats_, Seconds(interval_start_, end), wall - (now - end), &text_);
  Write(text_);
  stats_.ResetInterval();
  const auto periods = (now - interval_start_) / interval_;
  interval_start_ += interval_ * periods;
}

bool Dumper::CountReached() const { return options_.count != 0 && seen_ >= options_.count; }

MonoTime Dumper::Deadline() const {
  if (options_.duration_s <= 0 || !started_) return kNever;
  return start_ + FromSeconds(options_.duration_s);
}

bool Dumper::TimeUp(MonoTime now) const { return started_ && now >= Deadline(); }

void Dumper::Finish(MonoTime now, WallTime wall) {
  if (!started_) Start(now);
  last_ = std::max(last_, now);
  const double duration = Seconds(start_, last_);
  text_.clear();
  if (options_.mode == OutputMode::kSummary) {
    const Counters& c = stats_.interval();
    if (c.datagrams != 0 || c.decode_errors != 0) {
      // Live input stopped part way through the interval: rates over the part that ran. A
      // capture ends where its last packet is, which says nothing about the traffic after it:
      // the interval counts as whole.
      double elapsed = Seconds(interval_start_, last_);
      if (input_.is_pcap || elapsed <= 0) elapsed = options_.interval_s;
      const MonoTime end = interval_start_ + FromSeconds(elapsed);
      AppendIntervalSummary(stats_, elapsed, wall + (end - last_), &text_);
    }
  }
  if (options_.mode == OutputMode::kJson) {
    json_.Clear();
    WriteSummaryJson(stats_, input_, duration, &json_);
    text_ = json_.str() + "\n";
  } else {
    AppendFinalReport(stats_, input_, duration, &text_);
  }
  out_ << text_;
  out_.flush();
}

Status RunPcap(const DumpOptions& options, std::ostream& out) {
  auto reader = hal::capfile::PcapReader::Open(options.read_file);
  if (!reader.ok()) return reader.status();
  hal::capfile::PcapReader& r = **reader;
  hal::LinkType link = hal::LinkType::kEthernet;
  if (!hal::LinkTypeFromPcap(r.link_type(), &link)) {
    return hal::base::InvalidArgumentError(
        options.read_file + ": link type " + std::to_string(r.link_type()) +
        " is not supported (Ethernet, Linux cooked, raw IP and loopback are)");
  }
  // A capture read from a pipe (tcpdump -w - | xflowdump -r -) is live: show each datagram
  // as it comes.
  Dumper d(options, out, /*flush_each=*/options.read_file == "-");
  d.input().is_pcap = true;
  d.input().name = options.read_file == "-" ? "<stdin>" : options.read_file;
  d.input().link_type = r.link_type();
  hal::capfile::PcapRecord rec;
  MonoTime now;
  WallTime wall;
  Status status;
  for (;;) {
    auto more = r.Next(&rec);
    if (!more.ok()) {
      status = more.status();
      break;
    }
    if (!*more) break;
    ++d.input().packets;
    UdpDatagram udp;
    const ExtractResult er = ExtractUdp(link, rec.data, &udp);
    ++d.input().count(er);
    if (er != ExtractResult::kOk) continue;
    if (options.port != 0 && udp.destination.port != options.port) {
      ++d.input().other_port;
      continue;
    }
    now = MonoTime::FromNs(rec.time.ns());
    wall = rec.time;
    if (!d.started()) d.Start(now);
    if (d.TimeUp(now)) break;
    d.Tick(now, wall);
    d.OnDatagram(udp.payload,
                 DatagramMeta{rec.time, udp.source, udp.destination, udp.payload.size()}, now);
    if (d.CountReached() || !out) break;
  }
  d.input().file_truncated = r.truncated();
  d.Finish(now, wall);
  // As xflowd -r: a cut capture is reported in full, then fails the run (exit status 1).
  if (status.ok() && r.truncated()) {
    status = hal::base::InvalidArgumentError(
        d.input().name + ": the file ends inside a packet (everything before it was decoded)");
  }
  return status;
}

Status RunLive(const DumpOptions& options, const hal::base::Clock& clock, int stop_fd,
               std::ostream& out, std::ostream& log) {
  auto listener = UdpListener::Create(options.listen);
  if (!listener.ok()) return listener.status();
  UdpListener& l = **listener;
  Dumper d(options, out, true);
  d.input().is_pcap = false;
  d.input().name = l.local().ToString();
  log << "xflowdump: listening on udp " << l.local().ToString() << "\n";
  log.flush();
  d.Start(clock.Now());
  Status status;
  bool done = false;
  while (!done && out) {
    const MonoTime now = clock.Now();
    if (d.TimeUp(now)) break;
    d.Tick(now, clock.WallNow());
    const MonoTime wake = std::min(d.NextTick(), d.Deadline());
    int timeout_ms = 1000;  // wake now and then even with nothing to do
    if (wake != kNever) {
      const int64_t ms = hal::base::ToMs(wake - now) + 1;
      timeout_ms = static_cast<int>(std::clamp<int64_t>(ms, 0, 1000));
    }
    pollfd fds[2] = {{l.fd(), POLLIN, 0}, {stop_fd, POLLIN, 0}};
    const int n = poll(fds, stop_fd >= 0 ? 2 : 1, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      status = hal::base::ErrnoError("poll", errno);
      break;
    }
    if (stop_fd >= 0 && (fds[1].revents & POLLIN)) break;
    if ((fds[0].revents & POLLIN) == 0) continue;
    for (int i = 0; i < kReceiveBudget && !done; ++i) {
      ByteView payload;
      hal::base::Endpoint from;
      auto got = l.Receive(&payload, &from);
      if (!got.ok()) {
        status = got.status();
        done = true;
        break;
      }
      if (!*got) break;
      d.OnDatagram(payload, DatagramMeta{clock.WallNow(), from, {}, payload.size()}, clock.Now());
      done = d.CountReached();
    }
  }
  d.input().receive_truncated = l.truncated();
  d.Finish(clock.Now(), clock.WallNow());
  return status;
}

}  // namespace xflowd::tools::xflowdump
