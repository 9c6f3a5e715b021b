// xflowd: parses the command line, builds the packet source (the simulated switch, the ports
// of this Linux host or switch, a live interface or a capture file) and the daemon or flow
// probe, runs it. Exit status: 0 ok,
// 1 runtime failure, 2 usage error.
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "agent/config/validate.h"
#include "agent/daemon/capture_file_source.h"
#include "agent/daemon/daemon.h"
#include "agent/daemon/event_loop.h"
#include "agent/daemon/flow_probe.h"
#include "agent/daemon/options.h"
#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "hal/base/status.h"

#ifdef XFLOWD_HAVE_SIM
#include "agent/daemon/sim_platform.h"
#include "sim/sim_switch.h"
#endif
#ifdef XFLOWD_HAVE_LINUX
#include "agent/linux/linux_platform.h"
#endif
#ifdef XFLOWD_HAVE_PCAP
#include "hal/pcap/pcap_file_source.h"
#include "hal/pcap/pcap_live_source.h"
#endif

namespace {

using xflowd::agent::daemon::Daemon;
using xflowd::agent::daemon::DaemonOptions;
using xflowd::agent::daemon::Platform;
using xflowd::agent::daemon::ToConfig;
using xflowd::hal::base::Logger;
using xflowd::hal::base::LogLevel;
using xflowd::hal::base::Status;

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

std::string ProgramName(const char* argv0) {
  const char* slash = argv0 ? std::strrchr(argv0, '/') : nullptr;
  return slash ? slash + 1 : (argv0 && *argv0 ? argv0 : "xflowd");
}

// A multi-line report (a summary) as one log line per line.
void LogLines(Logger& logger, const char* prefix, const std::string& text) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    logger.Log(LogLevel::kInfo, "%s%s", prefix, text.substr(start, end - start).c_str());
    start = end + 1;
  }
}

int UsageError(const std::string& program, const Status& status) {
  std::fprintf(stderr, "%s: %s\nTry '%s --help' for more information.\n", program.c_str(),
               status.message().c_str(), program.c_str());
  return kExitUsage;
}

#ifdef XFLOWD_HAVE_SIM
// One line per port: what the simulated traffic really was, for checking collectors.
Status WriteSimTruth(xflowd::sim::SimSwitch& sw, const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return xflowd::hal::base::ErrnoError("--sim-truth " + path, errno);
  std::fprintf(f,
               "ifindex,name,in_packets,in_bytes,out_packets,out_bytes,samples_taken,"
               "samples_lost,in_qinq_packets,in_qinq_bytes\n");
  // Double-tagged traffic per input port: some collectors cannot decode it (see
  // docs/interop.md), so checks against them need it apart.
  std::map<uint32_t, std::pair<uint64_t, uint64_t>> qinq;
  for (const auto& flow : sw.flow_truth()) {
    if (flow.vlan_tags < 2) continue;
    qinq[flow.input_ifindex].first += flow.packets;
    qinq[flow.input_ifindex].second += flow.bytes;
  }
  auto ports = sw.ListPorts();
  if (ports.ok()) {
    for (const auto& p : *ports) {
      const auto& t = sw.port_truth(p.ifindex);
      std::fprintf(f, "%u,%s,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu\n", p.ifindex, p.name.c_str(),
                   static_cast<unsigned long long>(t.in_packets),
                   static_cast<unsigned long long>(t.in_bytes),
                   static_cast<unsigned long long>(t.out_packets),
                   static_cast<unsigned long long>(t.out_bytes),
                   static_cast<unsigned long long>(t.samples_taken),
                   static_cast<unsigned long long>(t.samples_lost),
                   static_cast<unsigned long long>(qinq[p.ifindex].first),
                   static_cast<unsigned long long>(qinq[p.ifindex].second));
    }
  }
  if (std::fclose(f) != 0) return xflowd::hal::base::ErrnoError("--sim-truth " + path, errno);
  return Status::Ok();
}
#endif

using xflowd::agent::daemon::FlowProbe;
using xflowd::agent::daemon::FlowProbeSettings;

// A capture file as a PacketSource: libpcap's reader (pcap and pcapng, software sampling) when
// this build has it, else xflowd's own (classic pcap).
struct CaptureInput {
  std::unique_ptr<xflowd::hal::PacketSource> source;
  std::function<bool()> done;
  std::function<std::string()> read_error;
  std::function<uint64_t()> packets_read;
};

xflowd::hal::base::Result<CaptureInput> OpenCapture(const std::string& path, uint32_t sampling,
                                                    uint64_t seed) {
  CaptureInput in;
#ifdef XFLOWD_HAVE_PCAP
  namespace pc = xflowd::hal::pcap;
  pc::PcapFileOptions fo;
  fo.sampling_rate = sampling;
  fo.seed = seed;
  auto s = pc::PcapFileSource::Create(path, fo);
  if (!s.ok()) return s.status();
  pc::PcapFileSource* raw = s->get();
  in.source = std::move(s.value());
  in.done = [raw] { return raw->done(); };
  in.read_error = [raw] { return raw->read_error(); };
  in.packets_read = [raw] { return raw->packets_read(); };
#else
  (void)sampling;
  (void)seed;
  auto s = xflowd::agent::daemon::CaptureFileSource::Create(path);
  if (!s.ok()) return s.status();
  xflowd::agent::daemon::CaptureFileSource* raw = s->get();
  in.source = std::move(s.value());
  in.done = [raw] { return raw->done(); };
  in.read_error = [raw] { return raw->read_error(); };
  in.packets_read = [raw] { return raw->packets_read(); };
#endif
  return in;
}

// -r FILE: packet time drives the flow timers; the exporters' clock starts at the first packet.
int RunFile(const DaemonOptions& options, Logger& logger) {
  xflowd::hal::base::SystemClock clock;
  // No event loop here: SIGUSR1/SIGUSR2/SIGPIPE wait in a signalfd, looked at between
  // batches of packets, so none of them ends the replay; SIGUSR1 logs the progress.
  sigset_t mask;
  sigemptyset(&mask);
  for (int sig : {SIGUSR1, SIGUSR2, SIGPIPE}) sigaddset(&mask, sig);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  const int signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  struct CloseFd {
    int fd;
    ~CloseFd() {
      if (fd >= 0) close(fd);
    }
  } close_signal_fd{signal_fd};
  const uint32_t sampling = options.sampling_rate.value_or(1);
  auto input = OpenCapture(options.read_file, sampling, options.seed);
  if (!input.ok()) {
    logger.Log(LogLevel::kError, "-r %s: %s", options.read_file.c_str(),
               input.status().message().c_str());
    return kExitFailure;
  }
  // sysUptime 0 = the first packet: read it once to learn its time.
  uint64_t first_ms = 0;
  {
    struct Peek : xflowd::hal::PacketSampleSink {
      uint64_t ms = 0;
      void OnSample(const xflowd::hal::PacketSample& s) override { ms = s.timestamp.ms(); }
    } peek;
    auto again = OpenCapture(options.read_file, 1, options.seed);
    if (again.ok()) {
      again->source->Drain(peek, 1);
      first_ms = peek.ms;
    }
  }
  FlowProbeSettings fs;
  fs.unix_offset_ms = 0;  // packet time is Unix time
  fs.system_init_unix_ms = first_ms;
  fs.sampling_rate = sampling;
  fs.clock = &clock;
  auto probe = FlowProbe::Create(ToConfig(options).flow, fs, logger);
  if (!probe.ok()) {
    logger.Log(LogLevel::kError, "%s", probe.status().message().c_str());
    return kExitFailure;
  }
  (*probe)->SetInterfaceNames({{1, "pcap"}});
  if (!(*probe)->WaitForStreams(xflowd::hal::base::seconds(5), false)) {
    logger.Log(LogLevel::kWarning,
               "a collector is not up after 5 s; its messages wait in its send buffer "
               "until it is, and are dropped when that is full");
  }
  CaptureInput& in = *input;
  const auto t0 = clock.Now();
  FlowProbe& p = **probe;
  auto done = [&] {
    signalfd_siginfo si;
    while (signal_fd >= 0 && read(signal_fd, &si, sizeof(si)) == sizeof(si)) {
      if (si.ssi_signo == SIGUSR1) {
        char line[160];
        std::snprintf(line, sizeof(line), "xflowd: read %llu packets from %s so far\n",
                      static_cast<unsigned long long>(in.packets_read()),
                      options.read_file.c_str());
        LogLines(logger, "SIGUSR1: ", line + p.Summary());
      } else if (si.ssi_signo == SIGUSR2) {
        logger.Log(LogLevel::kInfo, "SIGUSR2: ignored (SIGUSR1 logs the counters)");
      }
    }
    return in.done();
  };
  auto run = (*probe)->RunToEnd(*in.source, done);
  (*probe)->WaitForStreams(xflowd::hal::base::seconds(5), true);
  const double secs = static_cast<double>((clock.Now() - t0).count()) / 1e9;
  const std::string read_error = in.read_error();
  if (!read_error.empty()) {
    logger.Log(LogLevel::kWarning,
               "-r %s: reading stopped early: %s (every flow read before "
               "was exported)",
               options.read_file.c_str(), read_error.c_str());
  }
  if (!options.quiet) {
    const uint64_t packets = in.packets_read();
    std::fprintf(stderr,
                 "xflowd: read %llu packets from %s in %.2f s (%.2f Mpps), %.1f s of packet "
                 "time\n%s\n",
                 static_cast<unsigned long long>(packets), options.read_file.c_str(), secs,
                 secs > 0 ? static_cast<double>(packets) / secs / 1e6 : 0.0,
                 static_cast<double>((run.last - run.first).count()) / 1e9,
                 (*probe)->Summary().c_str());
  }
  if ((*probe)->RecordsLost()) {
    logger.Log(LogLevel::kError, "-r %s: records to a collector were lost (see the summary)",
               options.read_file.c_str());
    return kExitFailure;
  }
  return read_error.empty() ? kExitOk : kExitFailure;
}

#ifdef XFLOWD_HAVE_PCAP
// -i IFACE: the live host probe on the event loop; monotonic time drives the flow timers.
int RunInterface(const DaemonOptions& options, Logger& logger) {
  namespace pc = xflowd::hal::pcap;
  xflowd::hal::base::SystemClock clock;
  pc::PcapLiveOptions lo;
  lo.interface = options.interface;
  lo.snaplen = options.snaplen;
  lo.promiscuous = options.promiscuous;
  lo.sampling_rate = options.sampling_rate.value_or(1);
  lo.seed = options.seed;
  for (const auto& c : options.flow_collectors) lo.exclude_collectors.push_back(c.endpoint);
  auto source = pc::PcapLiveSource::Create(lo, clock, logger);
  if (!source.ok()) {
    logger.Log(LogLevel::kError, "-i %s: %s", options.interface.c_str(),
               source.status().message().c_str());
    return kExitFailure;
  }
  FlowProbeSettings fs;
  const int64_t wall_ms = clock.WallNow().ms();
  fs.unix_offset_ms = wall_ms - clock.Now().ms();
  fs.system_init_unix_ms = static_cast<uint64_t>(wall_ms);
  fs.sampling_rate = lo.sampling_rate;
  fs.clock = &clock;
  auto probe = FlowProbe::Create(ToConfig(options).flow, fs, logger);
  if (!probe.ok()) {
    logger.Log(LogLevel::kError, "%s", probe.status().message().c_str());
    return kExitFailure;
  }
  (*probe)->SetInterfaceNames({{(*source)->ifindex(), options.interface}});
  auto loop = xflowd::agent::daemon::EventLoop::Create({}, logger);
  if (!loop.ok()) {
    logger.Log(LogLevel::kError, "%s", loop.status().message().c_str());
    return kExitFailure;
  }
  Status st = (*loop)->AddPacketSource(**source, **probe, "-i " + options.interface);
  if (!st.ok()) {
    logger.Log(LogLevel::kError, "%s", st.message().c_str());
    return kExitFailure;
  }
  FlowProbe& p = **probe;
  pc::PcapLiveSource& src = **source;
  uint32_t named_ifindex = src.ifindex();
  (*loop)->OnTick([&p, &clock, &src, &named_ifindex, &options] {
    src.ProcessLinkEvents();
    // A re-created interface comes back with a new ifindex: keep the options data in step.
    if (src.ifindex() != named_ifindex) {
      named_ifindex = src.ifindex();
      p.SetInterfaceNames({{named_ifindex, options.interface}});
    }
    p.Tick(clock.Now());
  });
  // The exit summary; SIGUSR1 logs the same lines while running.
  auto summary = [&p, &src, &options] {
    const auto ps = src.stats();
    char line[320];
    std::snprintf(line, sizeof(line),
                  "xflowd: captured %llu packets on %s, %llu dropped by the kernel; link down "
                  "%llu times, capture lost %llu times, re-opened %llu times%s\n",
                  static_cast<unsigned long long>(src.packets_read()), options.interface.c_str(),
                  static_cast<unsigned long long>(ps.source_drops),
                  static_cast<unsigned long long>(src.link_downs()),
                  static_cast<unsigned long long>(src.losses()),
                  static_cast<unsigned long long>(src.reopens()),
                  src.capturing() ? "" : " (lost now)");
    return line + p.Summary();
  };
  (*loop)->OnStatus([&summary, &logger] { LogLines(logger, "SIGUSR1: ", summary()); });
  logger.Log(LogLevel::kInfo, "capturing on %s (ifindex %u)%s", options.interface.c_str(),
             (*source)->ifindex(), (*source)->filter().empty() ? "" : ", own export excluded");
  std::optional<xflowd::hal::base::Duration> run_for;
  if (options.duration_s) run_for = xflowd::hal::base::seconds(*options.duration_s);
  auto reason = (*loop)->Run(run_for);
  while ((*source)->Drain(p, 4096) > 0) {
  }
  p.Finish(clock.Now());
  p.WaitForStreams(xflowd::hal::base::seconds(2), true);
  if (!options.quiet) std::fprintf(stderr, "%s\n", summary().c_str());
  if (!reason.ok()) {
    logger.Log(LogLevel::kError, "%s", reason.status().message().c_str());
    return kExitFailure;
  }
  return kExitOk;
}
#endif

#ifdef XFLOWD_HAVE_LINUX
// --sample: the ports of this host or switch, followed as links come and go.
int RunLinux(const DaemonOptions& options, Logger& logger) {
  namespace ol = xflowd::agent::os_linux;
  xflowd::hal::base::SystemClock clock;
  const ol::LinuxPlatformOptions lo = ToConfig(options).source.linux_ports;
  auto linux_platform = ol::LinuxPlatform::Create(lo, clock, logger);
  if (!linux_platform.ok()) {
    logger.Log(LogLevel::kError, "%s", linux_platform.status().message().c_str());
    return kExitFailure;
  }
  Platform platform = (*linux_platform)->platform();
  auto daemon = Daemon::Create(ToConfig(options), platform, clock, logger);
  if (!daemon.ok()) {
    logger.Log(LogLevel::kError, "%s", daemon.status().message().c_str());
    return kExitFailure;
  }
  auto reason = (*daemon)->Run();
  if (!options.quiet) std::fprintf(stderr, "%s\n", (*daemon)->Summary().c_str());
  daemon->reset();  // before the platform it points into
  if (!reason.ok()) {
    logger.Log(LogLevel::kError, "%s", reason.status().message().c_str());
    return kExitFailure;
  }
  return kExitOk;
}
#endif

int Run(const DaemonOptions& options, Logger& logger) {
  xflowd::hal::base::SystemClock clock;
  Platform platform;
#ifdef XFLOWD_HAVE_SIM
  xflowd::sim::SimConfig sim_config;
  sim_config.num_ports = options.sim_ports;
  sim_config.port_speed_bps = options.sim_speed_bps;
  sim_config.load = options.sim_load;
  sim_config.seed = options.seed;
  sim_config.header_bytes = options.header_bytes;
  sim_config.round_rate_pow2 = options.sim_pow2;
  sim_config.sample_loss = options.sim_sample_loss;
  auto sim = xflowd::sim::SimSwitch::Create(sim_config, clock.Now());
  if (!sim.ok()) {
    logger.Log(LogLevel::kError, "cannot start the simulated switch: %s",
               sim.status().message().c_str());
    return kExitFailure;
  }
  xflowd::sim::SimSwitch& sw = **sim;
  platform = xflowd::agent::daemon::SimPlatform(sw);
  char description[160];
  std::snprintf(description, sizeof(description), "simulated switch (%u x %s at %g%% load%s)",
                options.sim_ports,
                xflowd::agent::daemon::FormatSpeed(options.sim_speed_bps).c_str(),
                options.sim_load * 100, options.sim_pow2 ? ", power-of-two rates" : "");
  platform.description = description;
#else
  logger.Log(LogLevel::kError,
             "this xflowd was built without the simulated switch "
             "(XFLOWD_BUILD_SIM=OFF), and it has no live back-end yet");
  return kExitUsage;
#endif

  auto daemon = Daemon::Create(ToConfig(options), platform, clock, logger);
  if (!daemon.ok()) {
    logger.Log(LogLevel::kError, "%s", daemon.status().message().c_str());
    return kExitFailure;
  }
  auto reason = (*daemon)->Run();
  if (!options.quiet) std::fprintf(stderr, "%s\n", (*daemon)->Summary().c_str());
#ifdef XFLOWD_HAVE_SIM
  if (!options.sim_truth_path.empty()) {
    Status written = WriteSimTruth(sw, options.sim_truth_path);
    if (!written.ok()) {
      logger.Log(LogLevel::kError, "%s", written.message().c_str());
      return kExitFailure;
    }
  }
#endif
  if (!reason.ok()) {
    logger.Log(LogLevel::kError, "%s", reason.status().message().c_str());
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string program = ProgramName(argc > 0 ? argv[0] : nullptr);
  DaemonOptions options;
  Status st = xflowd::agent::daemon::ParseOptions(argc, argv, &options);
  if (!st.ok()) return UsageError(program, st);
  if (options.help) {
    std::fputs(xflowd::agent::daemon::HelpText(program).c_str(), stdout);
    return kExitOk;
  }
  if (options.version) {
    std::printf("%s %s\n", program.c_str(), xflowd::agent::daemon::kVersion);
    return kExitOk;
  }
#ifdef XFLOWD_HAVE_SIM
  constexpr bool kHaveSim = true;
#else
  constexpr bool kHaveSim = false;
#endif
#ifdef XFLOWD_HAVE_PCAP
  constexpr bool kHavePcap = true;
#else
  constexpr bool kHavePcap = false;
#endif
#ifdef XFLOWD_HAVE_LINUX
  constexpr bool kHaveLinux = true;
#else
  constexpr bool kHaveLinux = false;
#endif
  st = xflowd::agent::daemon::CheckSupported(options, kHaveSim, kHavePcap, kHaveLinux);
  if (!st.ok()) return UsageError(program, st);
  st = xflowd::agent::config::Validate(ToConfig(options));
  if (!st.ok()) return UsageError(program, st);

  Logger logger;
  logger.set_min_level(options.log_level);
  // The journal stamps each line itself; anywhere else a line carries its time.
  xflowd::hal::base::SystemClock log_clock;
  if (!xflowd::hal::base::FdIsJournalStream(std::getenv("JOURNAL_STREAM"), STDERR_FILENO)) {
    logger.set_timestamp_clock(&log_clock);
  }
  switch (xflowd::agent::daemon::ModeOf(options)) {
    case xflowd::agent::daemon::RunMode::kSim:
      return Run(options, logger);
    case xflowd::agent::daemon::RunMode::kLinux:
#ifdef XFLOWD_HAVE_LINUX
      return RunLinux(options, logger);
#else
      return kExitUsage;  // CheckSupported refused it
#endif
    case xflowd::agent::daemon::RunMode::kFile:
      return RunFile(options, logger);
#ifdef XFLOWD_HAVE_PCAP
    case xflowd::agent::daemon::RunMode::kInterface:
      return RunInterface(options, logger);
#else
    default:
      return kExitUsage;  // CheckSupported refused it
#endif
  }
  return kExitUsage;
}
