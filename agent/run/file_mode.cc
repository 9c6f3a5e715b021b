// -r FILE: packet time drives the flow timers; the exporters' clock starts at the first packet.
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <thread>

#include "agent/daemon/flow_pipeline.h"
#include "agent/daemon/flow_probe.h"
#include "agent/run/capture_input.h"
#include "agent/run/run.h"

namespace xflowd::agent::run {

using hal::base::LogLevel;

namespace {

// --threads / source.file.threads: 0 = 2 on a machine with more than one core. More than
// two act as two: the pipeline has two stages.
uint32_t FileThreads(uint32_t configured) {
  if (configured == 0) return std::thread::hardware_concurrency() >= 2 ? 2 : 1;
  return configured > 2 ? 2 : configured;
}

}  // namespace

int RunFile(const config::Config& config, hal::base::Logger& logger, const ServiceHooks& service) {
  hal::base::SystemClock clock;
  const std::string& path = config.source.file.path;
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
  const uint32_t sampling = config.ports.sampling_rate.value_or(1);
  std::string reader_name;
  auto input =
      OpenCaptureWith(config.source.file.reader, path, sampling, config.seed, &reader_name);
  if (!input.ok()) return Fail(logger, input.status(), "-r " + path);
  // sysUptime 0 = the first packet: read it once to learn its time.
  uint64_t first_ms = 0;
  {
    struct Peek : hal::PacketSampleSink {
      uint64_t ms = 0;
      void OnSample(const hal::PacketSample& s) override { ms = s.timestamp.ms(); }
    } peek;
    std::string unused;
    auto again = OpenCaptureWith(config.source.file.reader, path, 1, config.seed, &unused);
    if (again.ok()) {
      again->source->Drain(peek, 1);
      first_ms = peek.ms;
    }
  }
  daemon::FlowProbeSettings fs;
  fs.unix_offset_ms = 0;  // packet time is Unix time
  fs.system_init_unix_ms = first_ms;
  fs.sampling_rate = sampling;
  fs.clock = &clock;
  auto probe = daemon::FlowProbe::Create(config.flow, fs, logger);
  if (!probe.ok()) return Fail(logger, probe.status());
  daemon::FlowProbe& p = **probe;
  p.SetInterfaceNames({{1, "pcap"}});
  if (!p.WaitForStreams(hal::base::seconds(5), false)) {
    logger.Log(LogLevel::kWarning,
               "a collector is not up after 5 s; its messages wait in its send buffer "
               "until it is, and are dropped when that is full");
  }
  CaptureInput& in = *input;
  hal::base::Status started = Started(config, service, logger, "reading " + path);
  if (!started.ok()) return Fail(logger, started);
  const auto t0 = clock.Now();
  const uint32_t threads = FileThreads(config.source.file.threads);
  // With the pipeline the source belongs to the reader thread: progress comes from the
  // pipeline's own counter instead.
  std::function<uint64_t()> pipeline_samples;
  auto signals = [&] {
    signalfd_siginfo si;
    while (signal_fd >= 0 && read(signal_fd, &si, sizeof(si)) == sizeof(si)) {
      if (si.ssi_signo == SIGUSR1) {
        char line[160];
        if (pipeline_samples) {
          std::snprintf(line, sizeof(line), "xflowd: read and parsed %llu packets from %s so far\n",
                        static_cast<unsigned long long>(pipeline_samples()), path.c_str());
        } else {
          std::snprintf(line, sizeof(line), "xflowd: read %llu packets from %s so far\n",
                        static_cast<unsigned long long>(in.packets_read()), path.c_str());
        }
        LogLines(logger, "SIGUSR1: ", line + p.Summary());
      } else if (si.ssi_signo == SIGUSR2) {
        logger.Log(LogLevel::kInfo, "SIGUSR2: ignored (SIGUSR1 logs the counters)");
      }
    }
  };
  if (threads == 1) {
    logger.Log(LogLevel::kInfo, "-r %s: %s reader, 1 thread", path.c_str(), reader_name.c_str());
  } else {
    // Memory: the one flow cache (logged by FlowProbe) plus the ring between the threads.
    logger.Log(LogLevel::kInfo,
               "-r %s: %s reader, 2 threads (reader/parser, cache/export) with a ring of %zu "
               "packets (%.1f MiB); the flow cache stays one cache of %u flows",
               path.c_str(), reader_name.c_str(),
               daemon::FlowPipeline::kBlocks * daemon::FlowPipeline::kBlockPackets,
               static_cast<double>(daemon::FlowPipeline::RingBytes()) / (1024.0 * 1024.0),
               config.flow.cache_size);
  }
  daemon::FileRunStats run;
  if (threads >= 2) {
    run = p.RunToEndPipelined(
        *in.source, [&] { return in.done(); }, signals,
        [&](std::function<uint64_t()> f) { pipeline_samples = std::move(f); });
  } else {
    run = p.RunToEnd(*in.source, [&] {
      signals();
      return in.done();
    });
  }
  p.WaitForStreams(hal::base::seconds(5), true);
  const double secs = static_cast<double>((clock.Now() - t0).count()) / 1e9;
  const std::string read_error = in.read_error();
  if (!read_error.empty()) {
    logger.Log(LogLevel::kWarning,
               "-r %s: reading stopped early: %s (every flow read before "
               "was exported)",
               path.c_str(), read_error.c_str());
  }
  if (service.stopping) service.stopping();
  if (!config.log.quiet) {
    const uint64_t packets = in.packets_read();
    char line[320];
    std::snprintf(line, sizeof(line),
                  "xflowd: read %llu packets from %s in %.2f s (%.2f Mpps), %.1f s of packet "
                  "time; %s reader, %u thread%s\n",
                  static_cast<unsigned long long>(packets), path.c_str(), secs,
                  secs > 0 ? static_cast<double>(packets) / secs / 1e6 : 0.0,
                  static_cast<double>((run.last - run.first).count()) / 1e9, reader_name.c_str(),
                  threads, threads == 1 ? "" : "s");
    PrintSummary(logger, line + p.Summary() + logger.SuppressedNote());
  }
  if (p.RecordsLost()) {
    logger.Log(LogLevel::kError, "-r %s: records to a collector were lost (see the summary)",
               path.c_str());
    return kExitFailure;
  }
  return read_error.empty() ? kExitOk : kExitFailure;
}

}  // namespace xflowd::agent::run
