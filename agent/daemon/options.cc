#include "agent/daemon/options.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string_view>
#include <utility>

namespace xflowd::agent::daemon {

using hal::base::Endpoint;
using hal::base::InvalidArgumentError;
using hal::base::IpAddress;
using hal::base::LogLevel;
using hal::base::Result;
using hal::base::Status;
using hal::base::UnimplementedError;

namespace {

// "--name: expected ..., got 'text'".
Status Bad(const std::string& name, const std::string& expected, const std::string& text) {
  return InvalidArgumentError(name + ": expected " + expected + ", got '" + text + "'");
}

Result<uint64_t> ParseU64(const std::string& name, const std::string& text, uint64_t min,
                          uint64_t max) {
  const std::string expected =
      "a whole number from " + std::to_string(min) + " to " + std::to_string(max);
  if (text.empty() || text[0] < '0' || text[0] > '9') return Bad(name, expected, text);
  errno = 0;
  char* end = nullptr;
  unsigned long long v = strtoull(text.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || v < min || v > max) return Bad(name, expected, text);
  return static_cast<uint64_t>(v);
}

Result<uint32_t> ParseU32(const std::string& name, const std::string& text, uint32_t min,
                          uint32_t max) {
  Result<uint64_t> v = ParseU64(name, text, min, max);
  if (!v.ok()) return v.status();
  return static_cast<uint32_t>(*v);
}

// A fraction 0..1, or a percentage "20%".
Result<double> ParseFraction(const std::string& name, const std::string& text, bool allow_one) {
  const std::string expected =
      std::string("a fraction from 0 to 1") + (allow_one ? "" : " (not 1)") + " or a percentage";
  if (text.empty()) return Bad(name, expected, text);
  std::string num = text;
  double scale = 1.0;
  if (num.back() == '%') {
    num.pop_back();
    scale = 0.01;
  }
  if (num.empty() || !((num[0] >= '0' && num[0] <= '9') || num[0] == '.')) {
    return Bad(name, expected, text);
  }
  char* end = nullptr;
  double v = strtod(num.c_str(), &end) * scale;
  if (*end != '\0' || !std::isfinite(v) || v < 0.0 || v > 1.0 || (!allow_one && v >= 1.0)) {
    return Bad(name, expected, text);
  }
  return v;
}

enum class Opt {
  kSim,
  kPorts,
  kSpeed,
  kLoad,
  kSeed,
  kSampling,
  kPolling,
  kCollector,
  kAgentAddress,
  kSubAgentId,
  kMaxDatagram,
  kHeaderBytes,
  kMaxSamplesPerSecond,
  kDuration,
  kSimSampleLoss,
  kSimPow2,
  kSimTruth,
  kVerbose,
  kQuiet,
  kHelp,
  kVersion,
};

struct OptSpec {
  const char* long_name;  // without "--"
  char short_name;        // 0 = none
  bool takes_value;
  bool sim_only;
  Opt opt;
};

constexpr OptSpec kOpts[] = {
    {"sim", 0, false, false, Opt::kSim},
    {"ports", 0, true, true, Opt::kPorts},
    {"speed", 0, true, true, Opt::kSpeed},
    {"load", 0, true, true, Opt::kLoad},
    {"seed", 0, true, false, Opt::kSeed},
    {"sampling", 0, true, false, Opt::kSampling},
    {"polling", 0, true, false, Opt::kPolling},
    {"collector", 0, true, false, Opt::kCollector},
    {"agent-address", 0, true, false, Opt::kAgentAddress},
    {"sub-agent-id", 0, true, false, Opt::kSubAgentId},
    {"max-datagram", 0, true, false, Opt::kMaxDatagram},
    {"header-bytes", 0, true, false, Opt::kHeaderBytes},
    {"max-samples-per-second", 0, true, false, Opt::kMaxSamplesPerSecond},
    {"duration", 0, true, false, Opt::kDuration},
    {"sim-sample-loss", 0, true, true, Opt::kSimSampleLoss},
    {"sim-pow2", 0, false, true, Opt::kSimPow2},
    {"sim-truth", 0, true, true, Opt::kSimTruth},
    {"verbose", 'v', false, false, Opt::kVerbose},
    {"quiet", 'q', false, false, Opt::kQuiet},
    {"help", 'h', false, false, Opt::kHelp},
    {"version", 0, false, false, Opt::kVersion},
};

const OptSpec* FindLong(std::string_view name) {
  for (const OptSpec& s : kOpts) {
    if (name == s.long_name) return &s;
  }
  return nullptr;
}

const OptSpec* FindShort(char c) {
  for (const OptSpec& s : kOpts) {
    if (s.short_name != 0 && s.short_name == c) return &s;
  }
  return nullptr;
}

Status Apply(const OptSpec& spec, const std::string& name, const std::string& value,
             DaemonOptions* o, bool* verbose, bool* quiet) {
  switch (spec.opt) {
    case Opt::kSim:
      o->sim = true;
      break;
    case Opt::kPorts: {
      Result<uint32_t> v = ParseU32(name, value, 1, 4096);
      if (!v.ok()) return v.status();
      o->sim_ports = *v;
      break;
    }
    case Opt::kSpeed: {
      Result<uint64_t> v = ParseSpeed(value);
      if (!v.ok()) return v.status().WithContext(name);
      o->sim_speed_bps = *v;
      break;
    }
    case Opt::kLoad: {
      Result<double> v = ParseFraction(name, value, true);
      if (!v.ok()) return v.status();
      o->sim_load = *v;
      break;
    }
    case Opt::kSeed: {
      Result<uint64_t> v = ParseU64(name, value, 0, std::numeric_limits<uint64_t>::max());
      if (!v.ok()) return v.status();
      o->seed = *v;
      break;
    }
    case Opt::kSampling: {
      Result<uint32_t> v = ParseU32(name, value, 1, std::numeric_limits<uint32_t>::max());
      if (!v.ok()) return v.status();
      o->sampling_rate = *v;
      break;
    }
    case Opt::kPolling: {
      Result<uint32_t> v = ParseU32(name, value, 0, 86400);
      if (!v.ok()) return v.status();
      o->polling_interval_s = *v;
      break;
    }
    case Opt::kCollector: {
      Result<Endpoint> ep = Endpoint::Parse(value, kDefaultSflowPort);
      if (!ep.ok()) {
        return InvalidArgumentError(
            name + " '" + value + "': " + ep.status().message() +
            " (give an IPv4 or IPv6 address, e.g. 127.0.0.1:6343 or [::1]:6343; host names "
            "are not resolved)");
      }
      for (const Endpoint& existing : o->collectors) {
        if (existing.address == ep->address && existing.port == ep->port) {
          return InvalidArgumentError(name + " " + ep->ToString() + " is given twice");
        }
      }
      o->collectors.push_back(*ep);
      break;
    }
    case Opt::kAgentAddress: {
      Result<IpAddress> a = IpAddress::Parse(value);
      if (!a.ok()) return InvalidArgumentError(name + ": " + a.status().message());
      o->agent_address = *a;
      break;
    }
    case Opt::kSubAgentId: {
      Result<uint32_t> v = ParseU32(name, value, 0, std::numeric_limits<uint32_t>::max());
      if (!v.ok()) return v.status();
      o->sub_agent_id = *v;
      break;
    }
    case Opt::kMaxDatagram: {
      Result<uint32_t> v = ParseU32(name, value, 200, 9000);
      if (!v.ok()) return v.status();
      o->max_datagram_bytes = *v;
      break;
    }
    case Opt::kHeaderBytes: {
      Result<uint32_t> v = ParseU32(name, value, 14, 256);
      if (!v.ok()) return v.status();
      o->header_bytes = *v;
      break;
    }
    case Opt::kMaxSamplesPerSecond: {
      Result<uint32_t> v = ParseU32(name, value, 0, std::numeric_limits<uint32_t>::max());
      if (!v.ok()) return v.status();
      o->max_samples_per_s = *v;
      break;
    }
    case Opt::kDuration: {
      if (value == "0") {
        return InvalidArgumentError(name +
                                    ": must be at least 1 second (leave it out to run until "
                                    "stopped)");
      }
      Result<uint32_t> v = ParseU32(name, value, 1, std::numeric_limits<uint32_t>::max());
      if (!v.ok()) return v.status();
      o->duration_s = *v;
      break;
    }
    case Opt::kSimSampleLoss: {
      Result<double> v = ParseFraction(name, value, false);
      if (!v.ok()) return v.status();
      o->sim_sample_loss = *v;
      break;
    }
    case Opt::kSimPow2:
      o->sim_pow2 = true;
      break;
    case Opt::kSimTruth:
      if (value.empty()) return InvalidArgumentError(name + ": needs a file name");
      o->sim_truth_path = std::string(value);
      break;
    case Opt::kVerbose:
      *verbose = true;
      break;
    case Opt::kQuiet:
      *quiet = true;
      break;
    case Opt::kHelp:
      o->help = true;
      break;
    case Opt::kVersion:
      o->version = true;
      break;
  }
  return Status::Ok();
}

}  // namespace

Result<uint64_t> ParseSpeed(const std::string& text) {
  const std::string expected = "a speed such as 1G, 10G, 25G, 40G, 100G, 100M or bit/s";
  std::string num = text;
  double mult = 1.0;
  if (!num.empty()) {
    switch (num.back()) {
      case 'k':
      case 'K':
        mult = 1e3;
        break;
      case 'm':
      case 'M':
        mult = 1e6;
        break;
      case 'g':
      case 'G':
        mult = 1e9;
        break;
      case 't':
      case 'T':
        mult = 1e12;
        break;
      default:
        break;
    }
    if (mult != 1.0) num.pop_back();
  }
  if (num.empty() || !((num[0] >= '0' && num[0] <= '9') || num[0] == '.')) {
    return InvalidArgumentError("expected " + expected + ", got '" + text + "'");
  }
  char* end = nullptr;
  double v = strtod(num.c_str(), &end) * mult;
  if (*end != '\0' || !std::isfinite(v) || v < 1.0 || v > 1e13) {
    return InvalidArgumentError("expected " + expected + ", got '" + text + "'");
  }
  return static_cast<uint64_t>(std::llround(v));
}

std::string FormatSpeed(uint64_t bps) {
  struct Unit {
    uint64_t factor;
    const char* suffix;
  };
  for (Unit u : {Unit{1'000'000'000'000ull, "T"}, Unit{1'000'000'000ull, "G"},
                 Unit{1'000'000ull, "M"}, Unit{1'000ull, "K"}}) {
    if (bps >= u.factor && bps % u.factor == 0) return std::to_string(bps / u.factor) + u.suffix;
  }
  return std::to_string(bps);
}

uint32_t DefaultSamplingRate(uint64_t speed_bps) {
  if (speed_bps == 0) return 1000;
  uint64_t rate = speed_bps / 1'000'000;
  if (rate < 100) rate = 100;
  if (rate > std::numeric_limits<uint32_t>::max()) rate = std::numeric_limits<uint32_t>::max();
  return static_cast<uint32_t>(rate);
}

uint32_t SamplingRateFor(const DaemonOptions& options, uint64_t port_speed_bps) {
  return options.sampling_rate ? *options.sampling_rate : DefaultSamplingRate(port_speed_bps);
}

Status ParseOptions(int argc, const char* const* argv, DaemonOptions* out) {
  DaemonOptions o;
  // --help and --version answer even when the rest of the line is wrong.
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--") break;
    if (a == "-h" || a == "--help") o.help = true;
    if (a == "--version") o.version = true;
  }
  if (o.help || o.version) {
    *out = o;
    return Status::Ok();
  }

  bool verbose = false;
  bool quiet = false;
  std::vector<std::string> sim_only_given;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    const OptSpec* spec = nullptr;
    std::string name;
    std::optional<std::string> value;
    if (arg.size() > 2 && arg[0] == '-' && arg[1] == '-') {
      std::string body = arg.substr(2);
      size_t eq = body.find('=');
      if (eq != std::string::npos) {
        value = body.substr(eq + 1);
        body = body.substr(0, eq);
      }
      spec = FindLong(body);
      name = "--" + body;
    } else if (arg.size() == 2 && arg[0] == '-' && arg[1] != '-') {
      spec = FindShort(arg[1]);
      name = arg;
    } else if (arg == "--") {
      if (i + 1 < argc) {
        return InvalidArgumentError(std::string("unexpected argument '") + argv[i + 1] + "'");
      }
      break;
    } else {
      return InvalidArgumentError("unexpected argument '" + arg + "' (options start with --)");
    }
    if (!spec) return InvalidArgumentError("unknown option '" + name + "'");

    if (spec->takes_value) {
      if (!value) {
        std::string_view next = i + 1 < argc ? argv[i + 1] : "";
        if (i + 1 >= argc || (next.size() > 2 && next.substr(0, 2) == "--")) {
          return InvalidArgumentError(name + " needs a value");
        }
        value = argv[++i];
      }
    } else if (value) {
      return InvalidArgumentError(name + " takes no value");
    }
    if (spec->sim_only) sim_only_given.push_back(name);
    XFLOWD_RETURN_IF_ERROR(Apply(*spec, name, value.value_or(""), &o, &verbose, &quiet));
  }

  if (verbose && quiet) return InvalidArgumentError("--verbose and --quiet contradict each other");
  if (verbose) o.log_level = LogLevel::kDebug;
  if (quiet) {
    o.log_level = LogLevel::kWarning;
    o.quiet = true;
  }
  if (!o.sim && !sim_only_given.empty()) {
    return InvalidArgumentError(sim_only_given.front() +
                                " applies to the simulated switch only: "
                                "add --sim");
  }
  if (o.collectors.empty()) {
    return InvalidArgumentError(
        "no collector: give at least one --collector HOST[:PORT], e.g. "
        "--collector 127.0.0.1:6343");
  }
  if (o.sim && !o.agent_address) o.agent_address = *IpAddress::Parse("127.0.0.1");
  *out = o;
  return Status::Ok();
}

Status CheckSupported(const DaemonOptions& options) {
  if (!options.sim) {
    return UnimplementedError(
        "live back-ends (PSAMPLE, AF_PACKET, NFLOG) are not built yet; this xflowd can only "
        "run on the simulated switch: add --sim");
  }
  return Status::Ok();
}

// {P} is the program name, {V} the version.
constexpr char kHelpTemplate[] = R"({P} {V} - sFlow v5 agent: samples packets and polls interface
counters on a switch or Linux host, and sends sFlow datagrams to collectors.

Usage:
  {P} --sim --collector HOST[:PORT] [options]
  {P} --help | --version

Live back-ends (PSAMPLE, AF_PACKET, NFLOG) are not built yet: --sim is required.

Collectors and agent:
  --collector HOST[:PORT]     send sFlow to this collector; repeat for several.
                              IPv4 or IPv6 address; [::1]:6343 for IPv6 with
                              a port (default port 6343; no name lookups)
  --agent-address IP          agent address in every datagram
                              (default with --sim: 127.0.0.1)
  --sub-agent-id N            sub-agent id (default 0)
  --max-datagram BYTES        largest datagram, 200..9000 (default 1400)

Sampling and polling (every port, ingress):
  --sampling N                sample 1 in N packets (default: by link speed,
                              speed / 1,000,000, at least 100: 1G -> 1000,
                              10G -> 10000, 100G -> 100000)
  --polling SECONDS           counter polling interval, 0 = off (default 20)
  --header-bytes N            bytes of each sampled header exported, 14..256
                              (default 128)
  --max-samples-per-second N  export budget per port: over it the sampling rate
                              doubles; 0 = no limit (default 0)

Simulated switch:
  --sim                       run on the simulated switch (software traffic)
  --ports N                   number of ports, 1..4096 (default 48)
  --speed SPEED               port speed: 1G, 10G, 25G, 40G, 100G or bit/s
                              (default 10G)
  --load FRACTION             mean offered load per port, 0..1 or 0%..100%
                              (default 0.2)
  --seed N                    seed of the traffic and of sampling: same seed,
                              same traffic (default 1)
  --sim-sample-loss P         probability that the ASIC loses a sample, 0..1
                              (default 0)
  --sim-pow2                  the ASIC rounds sampling rates to a power of two
  --sim-truth FILE            at exit, write what the simulated traffic was
                              (per port, CSV) to FILE, to check collectors

Running:
  --duration SECONDS          run this long, then flush and exit 0
                              (default: until SIGINT or SIGTERM)
  -v, --verbose               debug logging
  -q, --quiet                 warnings and errors only, no summary at exit
  -h, --help                  show this help
  --version                   show the version

SIGINT/SIGTERM send what is pending, print a summary and exit 0. SIGHUP is
reserved for reloading the configuration (nothing to reload yet).
Exit status: 0 ok, 1 runtime failure, 2 usage error.

Examples:
  {P} --sim --collector 127.0.0.1:6343
      the demo: 48 simulated 10G ports at 20% load, 1-in-10000 sampling, to a
      collector on this host (watch: tshark -i lo -f 'udp port 6343')
  {P} --sim --ports 8 --speed 1G --sampling 512 --polling 10 \
      --collector 127.0.0.1 --collector [::1]:6343
      8 x 1G ports, 1-in-512, counters every 10 s, to two collectors
  {P} --sim --duration 10 --seed 7 --collector 127.0.0.1:6343
      run for 10 s, print a summary and exit
)";

std::string HelpText(const std::string& program) {
  std::string h = kHelpTemplate;
  for (auto [key, value] : {std::pair<std::string, std::string>{"{P}", program},
                            std::pair<std::string, std::string>{"{V}", kVersion}}) {
    for (size_t at = h.find(key); at != std::string::npos; at = h.find(key, at + value.size())) {
      h.replace(at, key.size(), value);
    }
  }
  return h;
}

}  // namespace xflowd::agent::daemon
