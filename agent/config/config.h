// The configuration model of xflowd: plain typed structs, one per component. The command line
// (agent/daemon/options.h) fills a Config; a config file will fill the same model, and a reload
// compares two of them (diff.h). Components take their own struct and never see how it was
// filled. Validate (validate.h) is the one place that checks the values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hal/base/ip_address.h"
#include "hal/base/log.h"

namespace xflowd::agent::config {

// Datagram size range. 512 holds the largest counter sample the agent sends (IPv6 agent,
// expanded, generic + Ethernet + a 255-byte port name: 488 bytes) and every NetFlow/IPFIX
// template set, so no accepted size loses samples.
constexpr uint32_t kDatagramBytesMin = 512;
constexpr uint32_t kDatagramBytesMax = 9000;

constexpr uint16_t kDefaultSflowPort = 6343;
constexpr uint16_t kDefaultNetflowPort = 2055;  // NetFlow v5/v9 (nfcapd -p 2055, pmacct)
constexpr uint16_t kDefaultIpfixPort = 4739;    // IPFIX (RFC 7011), UDP and TCP

// How datagrams leave for one collector (exporter::UdpTransportOptions).
struct SendOptions {
  std::optional<hal::base::IpAddress> source_address;  // the collector's family
  std::string bind_device;                             // VRF master or port; empty = any
  std::optional<uint8_t> dscp;                         // 0..63; unset = kernel default
  bool operator==(const SendOptions& o) const {
    return source_address == o.source_address && bind_device == o.bind_device && dscp == o.dscp;
  }
  bool operator!=(const SendOptions& o) const { return !(*this == o); }
};

// One sFlow collector: its endpoint (an Endpoint, so code that only needs the address and port
// takes it as one), the host name it was resolved from, and how datagrams leave for it.
struct SflowCollector : hal::base::Endpoint {
  SflowCollector() = default;
  SflowCollector(const hal::base::Endpoint& e) : hal::base::Endpoint(e) {}  // NOLINT: implicit
  std::string host;  // as written in the config file; empty = the address itself
  SendOptions send;
};

// The collector in `collectors` at `endpoint` (address and port), or null.
const SflowCollector* FindCollector(const std::vector<SflowCollector>& collectors,
                                    const hal::base::Endpoint& endpoint);

// The sFlow agent and its receivers (collectors).
struct AgentConfig {
  std::optional<hal::base::IpAddress> address;  // required to run
  std::string address_interface;  // the address was taken from this interface (config file)
  uint32_t sub_agent_id = 0;
  std::vector<SflowCollector> collectors;
  uint32_t max_datagram_bytes = 1400;  // kDatagramBytesMin..kDatagramBytesMax
};

// Where a port's samples come from on a Linux host or switch.
enum class SampleBackend : uint8_t {
  kAfPacket,  // AF_PACKET socket with an in-kernel random 1-in-N filter (any interface)
  kPsample,   // tc matchall + sample action to PSAMPLE (switch ASICs offload it)
  kNflog,     // nftables `numgen random` rule logging to an NFLOG group
};
const char* SampleBackendName(SampleBackend backend);

// Which directions of a port are sampled: each one a sampler of its own (own pool and flow
// sample sequence), both under the port's ifIndex data source.
enum class SampleDirection : uint8_t { kIngress, kEgress, kBoth };
// "ingress", "egress", "both".
const char* SampleDirectionName(SampleDirection direction);
// The text above -> the value; nullopt for anything else.
std::optional<SampleDirection> ParseSampleDirection(const std::string& text);

// Sampling and polling settings of the ports whose name matches `pattern` (fnmatch glob).
// Unset fields keep the PortsConfig value; the first matching override decides.
struct PortOverride {
  std::string pattern;
  std::optional<uint32_t> sampling_rate;
  std::optional<uint32_t> polling_interval_s;
  std::optional<uint32_t> header_bytes = std::nullopt;  // 14..256
  bool enabled = true;  // false: the port gets no sampler and no poller
  std::optional<SampleBackend> backend =
      std::nullopt;  // the Linux source only (LinuxSourceConfig::patterns)
  std::optional<SampleDirection> direction = std::nullopt;
  std::optional<bool> extended_router = std::nullopt;  // unset: PortsConfig::extended_router
};

// Every port's samplers and pollers.
struct PortsConfig {
  std::optional<uint32_t> sampling_rate;  // 1-in-N on every port; unset = by link speed
  uint32_t polling_interval_s = 20;       // 0 = no counter samples
  uint32_t header_bytes = 128;            // 14..256
  uint32_t max_samples_per_s = 0;         // per sampler; 0 = no export budget
  bool expanded_samples = false;          // always 0:3 / 0:4, not only for ifindex >= 2^24
  // Add the extended router record (0:1002) from the kernel's routing table (Linux source).
  bool extended_router = false;
  std::vector<PortOverride> overrides;
  SampleDirection direction = SampleDirection::kIngress;
};

// What one port gets once the overrides are applied.
struct PortSettings {
  uint32_t sampling_rate = 0;
  uint32_t polling_interval_s = 0;
  uint32_t header_bytes = 0;
  bool enabled = true;
  SampleDirection direction = SampleDirection::kIngress;
  // Whether this port samples in direction `egress` (false: ingress).
  bool Samples(bool egress) const {
    return direction == SampleDirection::kBoth ||
           direction == (egress ? SampleDirection::kEgress : SampleDirection::kIngress);
  }
  bool extended_router = false;
};

// The default 1-in-N for a port, as hsflowd picks it: speed in bit/s / 1,000,000, at least
// 100 (1G -> 1000, 10G -> 10000, 100G -> 100000). Unknown speed (0): 1000.
uint32_t DefaultSamplingRate(uint64_t speed_bps);
// The settings of the port `name` at `speed_bps`: its override, else the ports' values, else
// the default rate for its speed.
PortSettings SettingsFor(const PortsConfig& ports, const std::string& name, uint64_t speed_bps);

// 10000000000 -> "10G" (exact multiples only; otherwise plain bit/s).
std::string FormatSpeed(uint64_t bps);
// "10G", "2.5g", "100M", "1k" or a whole number of bit/s (1..10^13) -> bit/s; nullopt if not.
std::optional<uint64_t> ParseSpeedText(const std::string& text);

// One NetFlow/IPFIX exporter and its collector.
struct FlowCollector {
  hal::base::Endpoint endpoint;
  uint8_t version = 9;  // 5, 9 or 10 (IPFIX)
  bool tcp = false;     // IPFIX over TCP
  // Defaulted members, so that {endpoint, version, tcp} still initializes all the rest.
  std::string host = {};  // as written in the config file; empty = the address itself
  SendOptions send = {};  // UDP only (not IPFIX over TCP yet)
  // The file gave no protocol (version from flow.default-protocol) or no port (the default
  // for the version): --netflow-version on the command line sets them again.
  bool version_defaulted = false;
  bool port_defaulted = false;
};

// The flow cache and its exporters.
struct FlowConfig {
  std::vector<FlowCollector> collectors;  // empty: no flow export
  uint8_t default_version = 9;            // for collectors given without a version
  uint32_t observation_domain = 0;        // v9 source id / IPFIX observation domain
  uint32_t max_datagram_bytes = 1400;     // kDatagramBytesMin..kDatagramBytesMax
  uint32_t cache_size = 262144;
  uint32_t inactive_timeout_s = 15;
  uint32_t active_timeout_s = 1800;
  uint32_t tcp_timeout_s = 0;  // per-protocol inactive timeouts, 0 = inactive_timeout_s
  uint32_t udp_timeout_s = 0;
  uint32_t icmp_timeout_s = 0;
  bool tcp_end = true;  // FIN/RST end a flow
  uint32_t template_refresh_packets = 20;
  uint32_t template_refresh_s = 600;
  bool key_macs = false;
  bool key_mpls = false;
};

// Ports whose name matches the shell glob `pattern` (fnmatch) are sampled with `backend`. The
// first pattern that matches a port decides.
struct SamplePattern {
  std::string pattern;
  SampleBackend backend = SampleBackend::kAfPacket;
};

// The ports of this Linux host or switch.
struct LinuxSourceConfig {
  std::vector<SamplePattern> patterns;
  uint32_t psample_group = 1;  // PSAMPLE group G for ingress (G + 1 egress)
  uint32_t nflog_group = 5;    // first NFLOG group; each nflog port gets its own from here
  bool ingress_only = false;   // AF_PACKET: do not see frames the host sends
  // The kernel routing table the extended router record follows (254 = main).
  uint32_t route_table = 254;
};

// The ports of an Open vSwitch (docs/ovs.md): inventory and counters from OVSDB, samples
// from OVS's own sFlow, sent to a listener of xflowd's.
constexpr char kDefaultOvsDbSocket[] = "/var/run/openvswitch/db.sock";
struct OvsSourceConfig {
  std::string db_socket = kDefaultOvsDbSocket;  // ovsdb-server's unix socket
  std::vector<std::string> bridges;             // the bridges sampled; empty: every bridge
};

// A live interface, every packet (or 1 in PortsConfig::sampling_rate) captured.
struct InterfaceSourceConfig {
  std::string name;
  bool promiscuous = true;
  uint32_t snaplen = 256;  // bytes captured per packet (headers only are needed)
  // 1: libpcap on the loop thread; 2 or more: that many AF_PACKET fanout workers
  // (agent/run/fanout_meters.h: each meters into its own cache partition); 0: one per core.
  uint32_t threads = 1;
};

// A capture file replayed as fast as it reads.
// How -r reads the file: mmap (classic pcap and pcapng, zero copy), libpcap (any file
// libpcap reads; the stream reader in builds without it), or auto: mmap for regular files.
enum class FileReader { kAuto, kMmap, kLibpcap };
struct FileSourceConfig {
  std::string path;
  FileReader reader = FileReader::kAuto;
  // 1: read, parse and count on one thread; 2 or more: a reader/parser thread ahead of the
  // cache/export thread (agent/daemon/flow_pipeline.h); 0: 2 when the machine has 2 or more
  // cores, else 1.
  uint32_t threads = 0;
};

// A simulated port that lies, to try the self-check (docs/selfcheck.md).
struct SimPortFault {
  uint32_t ifindex = 0;
  double hide_fraction = 0.0;  // samples lost without a sequence gap, 0..1
  double drop_fraction = 0.0;  // samples lost with a sequence gap (hardware drops), 0..1
  double rate_factor = 1.0;    // samples at rate x factor, announces the rate, (0, 1000]
};

// A simulated port that is an 802.1Q VLAN device (its counter samples carry VLAN counters).
struct SimVlanPort {
  uint32_t ifindex = 0;
  uint16_t vlan_id = 0;  // 1..4094
};

// The simulated switch.
struct SimConfig {
  uint32_t ports = 48;
  uint64_t speed_bps = 10'000'000'000ull;
  double load = 0.2;         // fraction of line rate, 0..1
  double sample_loss = 0.0;  // probability the sim ASIC loses a sample, 0..1
  bool pow2 = false;         // the sim ASIC rounds rates to powers of two
  std::string truth_path;    // write per-port ground truth (CSV) here at exit
  uint32_t drops_per_s = 0;  // dropped packets/s the sim reports (with [drops] enabled)

  // Lying ports, one entry per ifindex.
  std::vector<SimPortFault> faults;
  // VLAN devices, one entry per ifindex.
  std::vector<SimVlanPort> vlan_ports;
};

// A switch ASIC through its vendor's plugin (hal/vendor, docs/porting.md "Vendor ASIC plugins").
struct VendorSourceConfig {
  std::string plugin;   // the shared object's path (dlopen)
  std::string options;  // handed to the plugin's init as it is
};

// Where packets come from: exactly one of these runs.
enum class SourceKind { kSim, kInterface, kFile, kLinux, kOvs, kVendor };
struct SourceConfig {
  SourceKind kind = SourceKind::kSim;
  SimConfig sim;
  InterfaceSourceConfig interface;
  FileSourceConfig file;
  LinuxSourceConfig linux_ports;
  OvsSourceConfig ovs;
  VendorSourceConfig vendor;
};

// The control socket of xflowctl (docs/control.md).
constexpr char kDefaultControlSocket[] = "/run/xflowd/xflowd.sock";
struct ControlConfig {
  // Absolute, shorter than 108 bytes; empty: no control socket.
  std::string socket = kDefaultControlSocket;
  std::string group;  // empty: mode 0600 (owner only); a group name: 0660 with that group
};

// Where log lines go (docs/usage.md "Running as a service").
enum class LogTarget : uint8_t {
  kAuto,    // the journal if stderr is its stream, else syslog with --daemon, else stderr
  kStderr,  // stderr, with timestamps unless it is the journal's stream
  kSyslog,  // syslog(3), ident "xflowd", facility daemon
};
const char* LogTargetName(LogTarget target);

// The sFlow MIB over AgentX (docs/snmp.md); needs a build with Net-SNMP.
constexpr char kDefaultAgentxSocket[] = "/var/agentx/master";  // Net-SNMP's default
constexpr uint32_t kSnmpReceiversMax = 64;
struct SnmpConfig {
  bool enabled = false;
  std::string agentx_socket = kDefaultAgentxSocket;  // a path, or a Net-SNMP transport "tcp:..."
  uint32_t ping_interval_s = 5;  // 1..3600: how soon a restarted snmpd is found again
  uint32_t receivers = 4;        // 0..kSnmpReceiversMax sFlowRcvrTable rows a manager may claim
};

struct LogConfig {
  hal::base::LogLevel level = hal::base::LogLevel::kInfo;
  bool quiet = false;  // warnings and errors only, no summary at exit
  LogTarget target = LogTarget::kAuto;
};

// Running as a service: whom to become after start, and the pid file.
constexpr char kDefaultServiceUser[] = "xflowd";
struct ServiceConfig {
  // After opening what needs root, xflowd (started as root) becomes this user, keeping only
  // the capabilities its mode still needs. Unset: kDefaultServiceUser, and if no such user
  // exists xflowd warns and stays root; a user named here must exist. "root": no drop.
  std::optional<std::string> user;
  std::string pid_file;  // absolute; empty: none
  const std::string& effective_user() const;
};

// The self-check of the sampling against the interface counters (docs/selfcheck.md).
struct SelfCheckSettings {
  uint32_t window_s = 60;      // 10..86400
  uint32_t flag_after = 2;     // windows outside the 95% interval in a row before a port is flagged
  uint32_t min_samples = 100;  // fewer samples expected in a window: no verdict
};

// Discard samples (0:5) from the drop monitor (NET_DM; the simulator's drops with --sim).
struct DropsConfig {
  bool enabled = false;
  uint32_t sampling_rate = 1;  // 1-in-N drops reported, 1..2^24
  uint32_t max_per_s = 100;    // discard samples per second at most (0: none)
};

// Host counters (sflow_host.txt) of the physical host, data source entPhysicalEntry 1
// (docs/linux.md "Host counters"). Platforms that have none (-i, -r) ignore this. Off unless
// asked for: tshark/Wireshark 4.0 cannot decode the host records and misreads the rest of a
// datagram that holds one (docs/decisions.md D40).
struct HostCountersConfig {
  bool enabled = false;
  // Seconds between host counter samples, 0..86400 (0 = off); unset: ports.polling_interval_s.
  std::optional<uint32_t> polling_interval_s;
  uint32_t EffectiveInterval(uint32_t ports_interval_s) const {
    return enabled ? polling_interval_s.value_or(ports_interval_s) : 0;
  }
};

struct Config {
  std::string config_file;  // the file this was read from; empty: the command line alone
  AgentConfig agent;
  PortsConfig ports;
  FlowConfig flow;
  SourceConfig source;
  LogConfig log;
  ControlConfig control;
  ServiceConfig service;
  SelfCheckSettings self_check;
  SnmpConfig snmp;
  DropsConfig drops;
  HostCountersConfig host;
  uint64_t seed = 1;                   // simulator traffic and every sampling PRNG
  std::optional<uint32_t> duration_s;  // unset = until SIGINT/SIGTERM
};

}  // namespace xflowd::agent::config
