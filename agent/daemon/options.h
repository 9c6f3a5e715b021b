// Command-line options of xflowd: the command-line front end of the configuration model
// (agent/config). Parsing is pure (no I/O, no globals): main() prints the help or the error and
// picks the exit code. Only main includes this header.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "hal/base/ip_address.h"
#include "hal/base/log.h"
#include "hal/base/status.h"

namespace xflowd::agent::daemon {

// Keep in step with project(... VERSION ...) in the top CMakeLists.txt.
#ifdef XFLOWD_VERSION
inline constexpr char kVersion[] = XFLOWD_VERSION;
#else
inline constexpr char kVersion[] = "0.1.0";
#endif

// The model types the command line fills (agent/config/config.h).
using config::FlowCollector;
using config::kDatagramBytesMax;
using config::kDatagramBytesMin;
using config::kDefaultIpfixPort;
using config::kDefaultNetflowPort;
using config::kDefaultSflowPort;
using config::SampleBackend;
using config::SampleBackendName;
using config::SamplePattern;

// The command line as given, one field per flag; ToConfig turns it into the model.
struct DaemonOptions {
  bool help = false;
  bool version = false;

  // The config file: --config FILE, or --check-config [FILE] (validate, print, exit).
  std::string config_path;  // empty: the default file if present, else the command line alone
  bool check_config = false;
  // The long names of the options given ("sampling", "collector", ...; -t NAME=S records
  // "inactive-timeout", "active-timeout", "tcp-timeout", ...): only these override the file.
  std::set<std::string> given;

  // Platform.
  bool sim = false;
  uint32_t sim_ports = 48;
  uint64_t sim_speed_bps = 10'000'000'000ull;
  double sim_load = 0.2;         // fraction of line rate, 0..1
  uint64_t seed = 1;             // simulator traffic and the agent's sampling PRNG
  double sim_sample_loss = 0.0;  // probability the sim ASIC loses a sample, 0..1
  bool sim_pow2 = false;         // sim ASIC rounds rates to powers of two
  std::string sim_truth_path;    // write per-port ground truth (CSV) here at exit

  // --sim-lose-samples, --sim-drop-samples, --sim-wrong-rate.
  std::vector<config::SimPortFault> sim_faults;
  std::vector<config::SimVlanPort> sim_vlan_ports;  // --sim-vlan-port

  // sFlow.
  std::optional<uint32_t> sampling_rate;  // 1-in-N on every port; unset = by link speed
  uint32_t polling_interval_s = 20;       // 0 = no counter samples
  std::vector<hal::base::Endpoint> collectors;
  std::optional<hal::base::IpAddress> agent_address;  // unset: 127.0.0.1 with --sim
  uint32_t sub_agent_id = 0;
  uint32_t max_datagram_bytes = 1400;  // kDatagramBytesMin..kDatagramBytesMax
  uint32_t header_bytes = 128;         // 14..256
  uint32_t max_samples_per_s = 0;      // per sampler; 0 = no export budget
  bool expanded_samples = false;       // always 0:3 / 0:4, not only for ifindex >= 2^24

  // Host probe (libpcap): at most one of sim, interface and read_file.
  std::string interface;    // -i: capture every packet (or 1 in --sampling) on this interface
  std::string read_file;    // -r: replay this capture file as fast as it reads, then exit
  bool promiscuous = true;  // --no-promisc turns it off
  uint32_t threads = 0;     // --threads: -r's reader/parser + cache threads, 0 = auto
  config::FileReader reader = config::FileReader::kAuto;  // --reader
  uint32_t snaplen = 256;  // bytes captured per packet (headers only are needed)

  // Linux host or switch: sample the ports matching these patterns (mode kLinux).
  std::vector<SamplePattern> sample_patterns;
  uint32_t psample_group = 1;  // PSAMPLE group G for ingress (G + 1 egress)
  uint32_t nflog_group = 5;    // first NFLOG group; each nflog port gets its own from here
  bool ingress_only = false;   // AF_PACKET: do not see frames the host sends
  config::SampleDirection direction = config::SampleDirection::kIngress;
  bool extended_router = false;  // every port: the extended router record (0:1002)
  uint32_t route_table = 254;    // the kernel routing table it follows (254 = main)

  // Open vSwitch: its ports from OVSDB, sampled by OVS (mode kOvs, docs/ovs.md).
  bool ovs = false;
  std::string ovs_db_socket = config::kDefaultOvsDbSocket;
  std::vector<std::string> ovs_bridges;  // --ovs-bridge, repeatable; empty: every bridge

  // A switch ASIC through its vendor's plugin (mode kVendor).
  std::string vendor_plugin;   // --vendor-plugin PATH: the shared object
  std::string vendor_options;  // --vendor-options STRING: handed to its init

  // NetFlow v5/v9 and IPFIX.
  std::vector<FlowCollector> flow_collectors;
  uint8_t flow_version = 9;         // --netflow-version: for -n without /VERSION
  uint32_t observation_domain = 0;  // v9 source id / IPFIX observation domain
  uint32_t flow_cache_size = 262144;
  uint32_t inactive_timeout_s = 15;
  uint32_t active_timeout_s = 1800;
  uint32_t tcp_timeout_s = 0;  // per-protocol inactive timeouts, 0 = inactive_timeout_s
  uint32_t udp_timeout_s = 0;
  uint32_t icmp_timeout_s = 0;
  bool tcp_end = true;  // FIN/RST end a flow (--no-tcp-end: only timeouts do)
  uint32_t template_refresh_packets = 20;
  uint32_t template_refresh_s = 600;
  bool flow_key_macs = false;
  bool flow_key_mpls = false;

  // Run.
  std::optional<uint32_t> duration_s;  // unset = until SIGINT/SIGTERM
  hal::base::LogLevel log_level = hal::base::LogLevel::kInfo;
  bool quiet = false;  // warnings and errors only, no summary at exit
  // --control-socket: unset = the default path; "" = none (given as "" or "none").
  std::optional<std::string> control_socket;

  // Running as a service (docs/usage.md "Running as a service").
  std::optional<std::string> user;  // --user: unset = service.user's default
  bool daemonize = false;           // --daemon: fork, detach, the parent exits once ready
  std::string pid_file;             // --pid-file FILE
  config::LogTarget log_target = config::LogTarget::kAuto;  // --log-target
};

// Parses argv[1..argc-1] for the command line alone: ParseFlags, then FinishOptions. Accepts
// "--name value" and "--name=value". On error the message says what was wrong and how to fix it
// (without the "try --help" line, which main adds). Stops checking at --help/--version: those
// win over every other error.
hal::base::Status ParseOptions(int argc, const char* const* argv, DaemonOptions* out);

// The two halves of ParseOptions. ParseFlags checks each option by itself and records which
// were given; FinishOptions checks them together as a whole configuration (a source, a
// collector, ...) and fills the defaults that depend on each other. With a config file,
// LoadEffectiveConfig does the second half on the merged configuration instead.
hal::base::Status ParseFlags(int argc, const char* const* argv, DaemonOptions* out);
hal::base::Status FinishOptions(DaemonOptions* options);

// The options given on the command line (options.given) applied on top of `base` (a config
// file's configuration): each replaces the setting(s) it names; --collector, -n and --sample
// replace the whole list; --sim, -i, -r and --sample replace the source.
hal::base::Result<config::Config> ApplyOptions(const DaemonOptions& options, config::Config base);

// The configuration xflowd runs: the config file at `path` (an error if it cannot be read or
// parsed, naming FILE:LINE:COLUMN and the key), the options given on the command line on top
// (ApplyOptions), then the checks of the whole (a source and a collector are needed, defaults
// that depend on the source) and config::Validate. An empty `path` means the command line
// alone (FinishOptions, ToConfig, Validate). Host names and an agent interface are resolved
// again on each call. A reload calls this with the same path and options main started with,
// and the configuration running as `previous`: then a collector host name that no longer
// resolves keeps the address it has in `previous` (same host name, sFlow or NetFlow/IPFIX)
// and a line saying so goes to *warnings (if not null), instead of an error; a name new in the
// file that does not resolve is still an error.
hal::base::Result<config::Config> LoadEffectiveConfig(const std::string& path,
                                                      const DaemonOptions& flags,
                                                      const config::Config* previous = nullptr,
                                                      std::vector<std::string>* warnings = nullptr);

// What the options ask for: the simulated switch, a live interface, a capture file, or the
// ports of this Linux host or switch (--sample).
config::SourceKind ModeOf(const DaemonOptions& options);

// Checks what this build can run (UNIMPLEMENTED naming what is missing), e.g. -i and -r need
// the libpcap back-end, --sim a build with the simulator, --sample the Linux back-ends
// (rtnetlink + AF_PACKET at least).
hal::base::Status CheckSupported(const DaemonOptions& options, bool have_sim, bool have_pcap,
                                 bool have_linux = false);
// The same for a configuration (from a config file).
hal::base::Status CheckSupported(const config::Config& config, bool have_sim, bool have_pcap,
                                 bool have_linux);

using config::DefaultSamplingRate;

// The rate to program on a port: --sampling if given, else DefaultSamplingRate.
uint32_t SamplingRateFor(const DaemonOptions& options, uint64_t port_speed_bps);

// The configuration model the options ask for (a -n collector without /VERSION gets
// --netflow-version already at parse time).
config::Config ToConfig(const DaemonOptions& options);

// "1G", "10G", "2.5G", "100M", "12345" (bit/s) -> bit/s; "10G" is 10^10. Error if not > 0.
hal::base::Result<uint64_t> ParseSpeed(const std::string& text);
using config::FormatSpeed;

// The --help text. `program` is argv[0]'s basename.
std::string HelpText(const std::string& program);

}  // namespace xflowd::agent::daemon
