// xflowdump: decode sFlow v5 from a UDP port or a pcap file. See DumpUsage() (--help).
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "hal/base/clock.h"
#include "tools/xflowdump/dump_options.h"
#include "tools/xflowdump/dumper.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

// SIGINT/SIGTERM become readable events on an fd the receive loop polls, so a stop request
// ends the loop cleanly (and the final report is printed) without a global flag.
int StopSignalFd() {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  if (sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) return -1;
  return signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
}

}  // namespace

int main(int argc, char** argv) {
  namespace dump = xflowd::tools::xflowdump;
  std::ios::sync_with_stdio(false);
  const std::vector<std::string> args(argv + 1, argv + argc);
  auto options = dump::ParseDumpOptions(args);
  if (!options.ok()) {
    std::cerr << "xflowdump: " << options.status().message() << "\n";
    return kExitUsage;
  }
  if (options->help) {
    std::cout << dump::DumpUsage();
    return kExitOk;
  }

  xflowd::hal::base::Status status;
  if (!options->read_file.empty()) {
    status = dump::RunPcap(*options, std::cout);
  } else {
    const int stop_fd = StopSignalFd();
    xflowd::hal::base::SystemClock clock;
    status = dump::RunLive(*options, clock, stop_fd, std::cout, std::cerr);
    if (stop_fd >= 0) close(stop_fd);
  }
  if (!status.ok()) {
    std::cerr << "xflowdump: " << status.message() << "\n";
    return kExitError;
  }
  return kExitOk;
}
