#include "agent/config/config_file.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "agent/config/diff.h"
#include "agent/config/validate.h"
#include "agent/daemon/options.h"
#include "tests/support/temp_dir.h"

namespace xflowd::agent::config {
namespace {

using hal::base::IpAddress;
using hal::base::Result;

// Names resolve without the network: "collector.example" is 192.0.2.50, "eth0" has 192.0.2.7,
// "bare0" exists without an address.
NameLookup FakeLookup() {
  NameLookup l;
  l.interface_address = [](const std::string& name) -> Result<IpAddress> {
    if (name == "eth0") return *IpAddress::Parse("192.0.2.7");
    if (name == "bare0") {
      return hal::base::NotFoundError("interface 'bare0' has no IPv4 or IPv6 address");
    }
    return hal::base::NotFoundError("no interface named '" + name + "'");
  };
  l.resolve_host = [](const std::string& host) -> Result<IpAddress> {
    if (host == "collector.example") return *IpAddress::Parse("192.0.2.50");
    if (host == "v6.example") return *IpAddress::Parse("2001:db8::50");
    return hal::base::NotFoundError("Name or service not known");
  };
  return l;
}

Result<Config> Parse(const std::string& text) {
  return ParseConfigText(text, "x.toml", Config{}, FakeLookup());
}

// The error of a parse that must fail.
std::string Error(const std::string& text) {
  Result<Config> c = Parse(text);
  EXPECT_FALSE(c.ok()) << "parse unexpectedly succeeded:\n" << text;
  return c.ok() ? std::string() : c.status().message();
}

// Every key, none at its default.
constexpr char kEveryKey[] = R"(
[agent]
interface = "eth0"
sub-agent-id = 7
max-datagram-bytes = 1200

[[agent.collector]]
host = "collector.example"
port = 6400
source-address = "192.0.2.1"
vrf = "mgmt"
dscp = 46

[[agent.collector]]
host = "2001:db8::9"

[ports]
sampling-rate = 2048
polling-interval = 30
header-bytes = 96
max-samples-per-second = 500
expanded-samples = true

[[port]]
match = "swp1"
enabled = false

[[port]]
match = "swp*"
sampling-rate = 4096
polling-interval = 10
header-bytes = 64
direction = "both"
backend = "psample"
enabled = true

[flow]
default-protocol = "ipfix"
observation-domain = 42
max-datagram-bytes = 1300
cache-size = 1024
inactive-timeout = 20
active-timeout = 600
tcp-timeout = 30
udp-timeout = 40
icmp-timeout = 50
tcp-end = false
template-refresh-packets = 10
template-refresh-seconds = 300
key-macs = true
key-mpls = true

[[flow.collector]]
host = "v6.example"
protocol = "netflow-v5"
source-address = "2001:db8::1"
vrf = "red"
dscp = 8

[[flow.collector]]
host = "127.0.0.1"
port = 4740
protocol = "ipfix-tcp"

[[flow.collector]]
host = "127.0.0.1"

[source]
type = "linux"

[source.linux]
psample-group = 3
nflog-group = 9
ingress-only = true

[log]
level = "debug"
quiet = true
target = "syslog"

[run]
seed = 99
duration = 60

[control]
socket = "/run/x/ctl.sock"
group = "root"  # a group every host has

[service]
user = "root"  # a user every host has
pid-file = "/run/xflowd/xflowd.pid"
)";

TEST(ConfigFileTest, ParsesEveryKey) {
  Result<Config> r = Parse(kEveryKey);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const Config& c = *r;
  EXPECT_EQ(c.agent.address->ToString(), "192.0.2.7");
  EXPECT_EQ(c.agent.address_interface, "eth0");
  EXPECT_EQ(c.agent.sub_agent_id, 7u);
  EXPECT_EQ(c.agent.max_datagram_bytes, 1200u);
  ASSERT_EQ(c.agent.collectors.size(), 2u);
  EXPECT_EQ(c.agent.collectors[0].ToString(), "192.0.2.50:6400");
  EXPECT_EQ(c.agent.collectors[0].host, "collector.example");
  EXPECT_EQ(c.agent.collectors[0].send.source_address->ToString(), "192.0.2.1");
  EXPECT_EQ(c.agent.collectors[0].send.bind_device, "mgmt");
  EXPECT_EQ(c.agent.collectors[0].send.dscp, 46);
  EXPECT_EQ(c.agent.collectors[1].ToString(), "[2001:db8::9]:6343");
  EXPECT_EQ(c.agent.collectors[1].host, "");  // a literal
  EXPECT_EQ(c.agent.collectors[1].send, SendOptions{});

  EXPECT_EQ(c.ports.sampling_rate, 2048u);
  EXPECT_EQ(c.ports.polling_interval_s, 30u);
  EXPECT_EQ(c.ports.header_bytes, 96u);
  EXPECT_EQ(c.ports.max_samples_per_s, 500u);
  EXPECT_TRUE(c.ports.expanded_samples);
  ASSERT_EQ(c.ports.overrides.size(), 2u);
  EXPECT_EQ(c.ports.overrides[0].pattern, "swp1");
  EXPECT_FALSE(c.ports.overrides[0].enabled);
  EXPECT_EQ(c.ports.overrides[1].sampling_rate, 4096u);
  EXPECT_EQ(c.ports.overrides[1].polling_interval_s, 10u);
  EXPECT_EQ(c.ports.overrides[1].header_bytes, 64u);
  EXPECT_EQ(c.ports.overrides[1].backend, SampleBackend::kPsample);
  EXPECT_EQ(c.ports.overrides[1].direction, SampleDirection::kBoth);
  EXPECT_EQ(c.ports.direction, SampleDirection::kIngress);  // [ports] left it out
  EXPECT_TRUE(c.ports.overrides[1].enabled);
  // The Linux source samples the [[port]] patterns, each with its back-end.
  ASSERT_EQ(c.source.linux_ports.patterns.size(), 2u);
  EXPECT_EQ(c.source.linux_ports.patterns[0].pattern, "swp1");
  EXPECT_EQ(c.source.linux_ports.patterns[0].backend, SampleBackend::kAfPacket);
  EXPECT_EQ(c.source.linux_ports.patterns[1].backend, SampleBackend::kPsample);

  const FlowConfig& f = c.flow;
  EXPECT_EQ(f.default_version, 10);
  EXPECT_EQ(f.observation_domain, 42u);
  EXPECT_EQ(f.max_datagram_bytes, 1300u);
  EXPECT_EQ(f.cache_size, 1024u);
  EXPECT_EQ(f.inactive_timeout_s, 20u);
  EXPECT_EQ(f.active_timeout_s, 600u);
  EXPECT_EQ(f.tcp_timeout_s, 30u);
  EXPECT_EQ(f.udp_timeout_s, 40u);
  EXPECT_EQ(f.icmp_timeout_s, 50u);
  EXPECT_FALSE(f.tcp_end);
  EXPECT_EQ(f.template_refresh_packets, 10u);
  EXPECT_EQ(f.template_refresh_s, 300u);
  EXPECT_TRUE(f.key_macs);
  EXPECT_TRUE(f.key_mpls);
  ASSERT_EQ(f.collectors.size(), 3u);
  EXPECT_EQ(f.collectors[0].endpoint.ToString(), "[2001:db8::50]:2055");
  EXPECT_EQ(f.collectors[0].version, 5);
  EXPECT_EQ(f.collectors[0].host, "v6.example");
  EXPECT_EQ(f.collectors[0].send.source_address->ToString(), "2001:db8::1");
  EXPECT_EQ(f.collectors[0].send.bind_device, "red");
  EXPECT_EQ(f.collectors[0].send.dscp, 8);
  EXPECT_EQ(f.collectors[1].endpoint.ToString(), "127.0.0.1:4740");
  EXPECT_TRUE(f.collectors[1].tcp);
  EXPECT_EQ(f.collectors[1].version, 10);
  // No protocol: flow.default-protocol (ipfix), whose port is 4739.
  EXPECT_EQ(f.collectors[2].endpoint.ToString(), "127.0.0.1:4739");
  EXPECT_EQ(f.collectors[2].version, 10);
  EXPECT_FALSE(f.collectors[2].tcp);

  EXPECT_EQ(c.source.kind, SourceKind::kLinux);
  EXPECT_EQ(c.source.linux_ports.psample_group, 3u);
  EXPECT_EQ(c.source.linux_ports.nflog_group, 9u);
  EXPECT_TRUE(c.source.linux_ports.ingress_only);
  EXPECT_EQ(c.log.level, hal::base::LogLevel::kDebug);
  EXPECT_TRUE(c.log.quiet);
  EXPECT_EQ(c.seed, 99u);
  EXPECT_EQ(c.duration_s, 60u);
  EXPECT_EQ(c.control.socket, "/run/x/ctl.sock");
  EXPECT_EQ(c.control.group, "root");
  EXPECT_EQ(c.log.target, LogTarget::kSyslog);
  EXPECT_EQ(c.service.user, "root");
  EXPECT_EQ(c.service.pid_file, "/run/xflowd/xflowd.pid");
  EXPECT_TRUE(Validate(c).ok()) << Validate(c).message();
  Config no_user = c;
  no_user.service.user = "no-such-user-xflowd";
  EXPECT_EQ(Validate(no_user).message(),
            "service.user: no user named 'no-such-user-xflowd' on this host (create it, or set "
            "\"root\" to keep root)");
  // The default user may be missing: xflowd warns at start and stays root.
  no_user.service.user.reset();
  EXPECT_EQ(no_user.service.effective_user(), "xflowd");
  EXPECT_TRUE(Validate(no_user).ok()) << Validate(no_user).message();
  Config no_group = c;
  no_group.control.group = "no-such-group-xflowd";
  EXPECT_EQ(Validate(no_group).message(),
            "control.group: no group named 'no-such-group-xflowd' on this host");
}

TEST(ConfigFileTest, ParsesTheOtherSources) {
  Result<Config> sim = Parse(R"(
[source.sim]
ports = 8
speed = "25G"
load = 0.5
sample-loss = 0.01
pow2 = true
truth-file = "/tmp/truth.csv"
)");
  ASSERT_TRUE(sim.ok()) << sim.status().message();
  EXPECT_EQ(sim->source.kind, SourceKind::kSim);  // the table chooses the type
  EXPECT_EQ(sim->source.sim.ports, 8u);
  EXPECT_EQ(sim->source.sim.speed_bps, 25'000'000'000ull);
  EXPECT_EQ(sim->source.sim.load, 0.5);
  EXPECT_EQ(sim->source.sim.sample_loss, 0.01);
  EXPECT_TRUE(sim->source.sim.pow2);
  EXPECT_EQ(sim->source.sim.truth_path, "/tmp/truth.csv");
  Result<Config> speed = Parse("[source.sim]\nspeed = 2500000000\n");
  ASSERT_TRUE(speed.ok());
  EXPECT_EQ(speed->source.sim.speed_bps, 2'500'000'000ull);

  Result<Config> iface = Parse(R"(
[source]
type = "interface"
[source.interface]
name = "eth1"
promiscuous = false
snaplen = 128
)");
  ASSERT_TRUE(iface.ok()) << iface.status().message();
  EXPECT_EQ(iface->source.kind, SourceKind::kInterface);
  EXPECT_EQ(iface->source.interface.name, "eth1");
  EXPECT_FALSE(iface->source.interface.promiscuous);
  EXPECT_EQ(iface->source.interface.snaplen, 128u);

  Result<Config> file = Parse("[source.file]\npath = \"a.pcap\"\n");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->source.kind, SourceKind::kFile);
  EXPECT_EQ(file->source.file.path, "a.pcap");

  Result<Config> ovs = Parse(R"(
[source.ovs]
db-socket = "/run/openvswitch/db.sock"
bridges = ["br0", "br-int"]
)");
  ASSERT_TRUE(ovs.ok()) << ovs.status().message();
  EXPECT_EQ(ovs->source.kind, SourceKind::kOvs);
  EXPECT_EQ(ovs->source.ovs.db_socket, "/run/openvswitch/db.sock");
  EXPECT_EQ(ovs->source.ovs.bridges, (std::vector<std::string>{"br0", "br-int"}));
  EXPECT_FALSE(Parse("[source.ovs]\ndb-socket = \"db.sock\"\n").ok());
  EXPECT_FALSE(Parse("[source.ovs]\nbridges = \"br0\"\n").ok());
  EXPECT_FALSE(Parse("[source.ovs]\nbridges = [\"\"]\n").ok());

  Result<Config> addr = Parse("[agent]\naddress = \"2001:db8::1\"\n");
  ASSERT_TRUE(addr.ok());
  EXPECT_EQ(addr->agent.address->ToString(), "2001:db8::1");
  EXPECT_EQ(addr->agent.address_interface, "");
}

TEST(ConfigFileTest, ParsesTheSelfCheckAndTheSimulatorsLyingPorts) {
  Result<Config> c = Parse(R"(
[source.sim]
ports = 8
[[source.sim.fault]]
port = 3
lose-samples = 0.1
[[source.sim.fault]]
port = 5
wrong-rate = 1.25
drop-samples = 0.05
[self-check]
window = 10
flag-after = 3
min-samples = 50
)");
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_EQ(c->source.sim.faults.size(), 2u);
  EXPECT_EQ(c->source.sim.faults[0].ifindex, 3u);
  EXPECT_EQ(c->source.sim.faults[0].hide_fraction, 0.1);
  EXPECT_EQ(c->source.sim.faults[0].rate_factor, 1.0);
  EXPECT_EQ(c->source.sim.faults[1].ifindex, 5u);
  EXPECT_EQ(c->source.sim.faults[1].rate_factor, 1.25);
  EXPECT_EQ(c->source.sim.faults[1].drop_fraction, 0.05);
  EXPECT_EQ(c->self_check.window_s, 10u);
  EXPECT_EQ(c->self_check.flag_after, 3u);
  EXPECT_EQ(c->self_check.min_samples, 50u);
  // Printed and read back the same.
  Result<Config> again = Parse(FormatConfig(*c));
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(FormatConfig(*again), FormatConfig(*c));

  EXPECT_EQ(Error("[[source.sim.fault]]\nport = 2\n[[source.sim.fault]]\nport = 2\n"),
            "x.toml:3:1: source.sim.fault: port 2 is listed twice");
  EXPECT_EQ(Error("[[source.sim.fault]]\nwrong-rate = 0\n"),
            "x.toml:2:14: source.sim.fault.wrong-rate: out of range (0, 1000]");
  EXPECT_EQ(Error("[self-check]\nwindow = 0\n"),
            "x.toml:2:10: self-check.window: 0 is out of range 1..86400");
}

TEST(ConfigFileTest, KeysTheFileLeavesOutKeepTheBase) {
  Config base;
  base.ports.polling_interval_s = 5;
  base.flow.cache_size = 4096;
  Result<Config> c = ParseConfigText("[ports]\nheader-bytes = 64\n", "x.toml", base, FakeLookup());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->ports.polling_interval_s, 5u);
  EXPECT_EQ(c->flow.cache_size, 4096u);
  EXPECT_EQ(c->ports.header_bytes, 64u);
}

// FILE:LINE:COLUMN: KEY: what is wrong, for each kind of mistake.
TEST(ConfigFileErrorGoldenTest, SyntaxError) {
  EXPECT_EQ(Error("[agent]\nsub-agent-id = 7\naddress = \n"),
            "x.toml:3:1: address: syntax error: missing value after key-value separator '='");
  EXPECT_EQ(Error("[agent]\n[agent]\n"),
            "x.toml:2:1: syntax error: table (\"agent\") already exists.");
}

TEST(ConfigFileErrorGoldenTest, UnknownKey) {
  EXPECT_EQ(Error("[agent]\naddress = \"192.0.2.1\"\nadress = \"192.0.2.1\"\n"),
            "x.toml:3:10: agent.adress: unknown key (known here: address, interface, "
            "sub-agent-id, max-datagram-bytes, collector)");
  EXPECT_EQ(Error("[[port]]\nmatch = \"swp*\"\nrate = 5\n"),
            "x.toml:3:8: port.rate: unknown key (known here: match, sampling-rate, "
            "polling-interval, header-bytes, direction, backend, enabled, extended-router)");
  EXPECT_EQ(Error("[[flow.collector]]\nhost = \"127.0.0.1\"\nversion = 9\n"),
            "x.toml:3:11: flow.collector.version: unknown key (known here: host, port, "
            "source-address, vrf, dscp, protocol)");
  EXPECT_EQ(Error("sampling = 5\n"),
            "x.toml:1:12: sampling: unknown key (known here: agent, ports, port, flow, source, "
            "log, run, control, service, self-check, snmp, drops, host)");
}

TEST(ConfigFileErrorGoldenTest, NotUtf8) {
  EXPECT_EQ(Error("[agent]\nsub-agent-id = 'a\xff\n"),
            "x.toml:2:18: not UTF-8 (a TOML file must be UTF-8 text)");
  EXPECT_EQ(Error("\xc3"), "x.toml:1:1: not UTF-8 (a TOML file must be UTF-8 text)");
  EXPECT_EQ(Error("a = \"\xed\xa0\x80\"\n"),  // a UTF-16 surrogate
            "x.toml:1:6: not UTF-8 (a TOML file must be UTF-8 text)");
  EXPECT_TRUE(Parse("[agent]\n# caf\xc3\xa9 \xf0\x9f\x98\x80\n").ok());
}

TEST(ConfigFileErrorGoldenTest, WrongType) {
  EXPECT_EQ(Error("[ports]\nsampling-rate = \"4096\"\n"),
            "x.toml:2:17: ports.sampling-rate: expected an integer, got a string");
  EXPECT_EQ(Error("[flow]\ntcp-end = 1\n"),
            "x.toml:2:11: flow.tcp-end: expected true or false, got an integer");
  EXPECT_EQ(Error("agent = 3\n"), "x.toml:1:9: agent: expected a table, got an integer");
}

TEST(ConfigFileTest, ParsesTheSnmpSection) {
  Result<Config> c = Parse(R"(
[snmp]
enabled = true
agentx-socket = "tcp:127.0.0.1:705"
ping-interval = 2
receivers = 8
)");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->snmp.enabled);
  EXPECT_EQ(c->snmp.agentx_socket, "tcp:127.0.0.1:705");
  EXPECT_EQ(c->snmp.ping_interval_s, 2u);
  EXPECT_EQ(c->snmp.receivers, 8u);
  Result<Config> again = Parse(FormatConfig(*c));
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(FormatConfig(*again), FormatConfig(*c));
  EXPECT_EQ(Error("[snmp]\nreceivers = 65\n"),
            "x.toml:2:13: snmp.receivers: 65 is out of range 0..64");
  EXPECT_EQ(Error("[snmp]\nping-interval = 0\n"),
            "x.toml:2:17: snmp.ping-interval: 0 is out of range 1..3600");
  // Validate: the build decides whether the sub-agent exists.
  Config v = *c;
  v.agent.address = *IpAddress::Parse("192.0.2.1");
  hal::base::Status st = Validate(v);
#ifdef XFLOWD_HAVE_SNMP
  EXPECT_TRUE(st.ok()) << st.message();
#else
  EXPECT_NE(st.message().find("built without Net-SNMP"), std::string::npos) << st.message();
#endif
}

TEST(ConfigFileErrorGoldenTest, OutOfRange) {
  EXPECT_EQ(Error("[ports]\nheader-bytes = 300\n"),
            "x.toml:2:16: ports.header-bytes: 300 is out of range 14..256");
  EXPECT_EQ(Error("[[agent.collector]]\nhost = \"127.0.0.1\"\ndscp = 64\n"),
            "x.toml:3:8: agent.collector.dscp: 64 is out of range 0..63");
  EXPECT_EQ(Error("[[flow.collector]]\nhost = \"127.0.0.1\"\nprotocol = \"v9\"\n"),
            "x.toml:3:12: flow.collector.protocol: \"v9\" is not one of \"netflow-v5\", "
            "\"netflow-v9\", \"ipfix\", \"ipfix-tcp\"");
  EXPECT_EQ(Error("[[port]]\nmatch = \"swp*\"\ndirection = \"out\"\n"),
            "x.toml:3:13: port.direction: \"out\" is not one of \"ingress\", \"egress\", "
            "\"both\"");
  EXPECT_EQ(Error("[ports]\ndirection = 1\n"),
            "x.toml:2:13: ports.direction: expected a string, got an integer");
}

TEST(ConfigFileErrorGoldenTest, DuplicateCollector) {
  EXPECT_EQ(Error("[[agent.collector]]\nhost = \"127.0.0.1\"\n\n[[agent.collector]]\n"
                  "host = \"127.0.0.1\"\nport = 6343\n"),
            "x.toml:5:8: agent.collector.host: collector 127.0.0.1:6343 is given twice");
  // A name and the address it resolves to are the same collector.
  EXPECT_EQ(Error("[[flow.collector]]\nhost = \"192.0.2.50\"\n\n[[flow.collector]]\n"
                  "host = \"collector.example\"\n"),
            "x.toml:5:8: flow.collector.host: collector 192.0.2.50:2055 is given twice");
  EXPECT_EQ(Error("[[port]]\nmatch = \"swp*\"\n[[port]]\nmatch = \"swp*\"\n"),
            "x.toml:4:9: port.match: 'swp*' is given twice");
}

TEST(ConfigFileErrorGoldenTest, UnresolvableHostName) {
  // The system's resolver: names under .invalid never resolve (RFC 6761).
  Result<Config> c =
      ParseConfigText("[[agent.collector]]\nhost = \"collector.invalid\"\n", "x.toml", Config{});
  ASSERT_FALSE(c.ok());
  const std::string prefix =
      "x.toml:2:8: agent.collector.host: 'collector.invalid' does not resolve: ";
  EXPECT_EQ(c.status().message().substr(0, prefix.size()), prefix) << c.status().message();
}

TEST(ConfigFileErrorGoldenTest, AgentInterfaceWithoutAddress) {
  EXPECT_EQ(Error("[agent]\ninterface = \"bare0\"\n"),
            "x.toml:2:13: agent.interface: interface 'bare0' has no IPv4 or IPv6 address");
  EXPECT_EQ(Error("[agent]\ninterface = \"nope0\"\n"),
            "x.toml:2:13: agent.interface: no interface named 'nope0'");
  EXPECT_EQ(Error("[agent]\naddress = \"192.0.2.1\"\ninterface = \"eth0\"\n"),
            "x.toml:3:13: agent.interface: give agent.address or agent.interface, not both");
}

TEST(ConfigFileErrorGoldenTest, SettingsThatDependOnEachOther) {
  EXPECT_EQ(Error("[[port]]\nmatch = \"swp*\"\nbackend = \"psample\"\n[source]\ntype = \"sim\"\n"),
            "x.toml:3:11: port.backend: applies to the Linux source only (source.type = "
            "\"linux\")");
  EXPECT_EQ(Error("[source]\ntype = \"sim\"\n[source.linux]\nnflog-group = 3\n"),
            "x.toml:3:1: source.linux: this table is for source.type = \"linux\", but "
            "source.type is \"sim\"");
  EXPECT_EQ(Error("[source.sim]\nports = 2\n[source.file]\npath = \"a.pcap\"\n"),
            "x.toml:1:1: source.sim: several source tables: set source.type to the one that "
            "runs");
  EXPECT_EQ(Error("[[flow.collector]]\nhost = \"127.0.0.1\"\nprotocol = \"ipfix-tcp\"\n"
                  "dscp = 10\n"),
            "x.toml:4:8: flow.collector: source-address, vrf and dscp are not supported for "
            "ipfix-tcp yet (UDP only)");
  EXPECT_EQ(Error("[[agent.collector]]\nhost = \"127.0.0.1\"\nsource-address = \"::1\"\n"),
            "x.toml:3:18: agent.collector.source-address: ::1 is not of the family of "
            "127.0.0.1 (127.0.0.1)");
}

TEST(ConfigFileTest, HostileInputIsAnErrorNotACrash) {
  EXPECT_FALSE(Parse(std::string(100000, '[')).ok());
  EXPECT_FALSE(Parse("a = " + std::string(5000, '[') + std::string(5000, ']')).ok());
  EXPECT_FALSE(Parse(std::string("\xef\xbb\xbf[agent\x00]", 11)).ok());
  EXPECT_FALSE(Parse("[run]\nseed = -1\n").ok());
  EXPECT_FALSE(Parse("[run]\nseed = \"12x\"\n").ok());
  EXPECT_FALSE(Parse("[source.sim]\nload = nan\n").ok());
  EXPECT_FALSE(Parse("[source.sim]\nload = 1.5\n").ok());
  EXPECT_FALSE(Parse("[source.sim]\nspeed = \"fast\"\n").ok());
  EXPECT_FALSE(Parse("[[agent.collector]]\nport = 1\n").ok());  // no host
  EXPECT_FALSE(Parse("[[port]]\nenabled = false\n").ok());      // no match
  EXPECT_FALSE(Parse("[control]\nsocket = \"relative.sock\"\n").ok());
  EXPECT_FALSE(Parse("[service]\npid-file = \"xflowd.pid\"\n").ok());
  EXPECT_FALSE(Parse("[service]\nuser = \"a:b\"\n").ok());
  EXPECT_FALSE(Parse("[service]\nuser = \"\"\n").ok());
  EXPECT_FALSE(Parse("[log]\ntarget = \"journal\"\n").ok());
  EXPECT_FALSE(Parse("[agent]\naddress = 1999-01-01\n").ok());
}

// Both configurations say the same in every setting FormatConfig writes.
void ExpectSame(const Config& a, const Config& b) {
  const ConfigDiff d = Diff(a, b);
  EXPECT_TRUE(d.collectors.empty() && d.exporters.empty() && d.port_overrides.empty());
  EXPECT_FALSE(d.agent);
  EXPECT_FALSE(d.ports);
  EXPECT_FALSE(d.flow_cache);
  EXPECT_FALSE(d.source);
  EXPECT_FALSE(d.log);
  EXPECT_FALSE(d.run);
  EXPECT_EQ(FormatConfig(a), FormatConfig(b));
  EXPECT_EQ(a.agent.address, b.agent.address);
  EXPECT_EQ(a.agent.address_interface, b.agent.address_interface);
  ASSERT_EQ(a.agent.collectors.size(), b.agent.collectors.size());
  for (size_t i = 0; i < a.agent.collectors.size(); ++i) {
    EXPECT_EQ(a.agent.collectors[i].host, b.agent.collectors[i].host);
  }
  ASSERT_EQ(a.flow.collectors.size(), b.flow.collectors.size());
  for (size_t i = 0; i < a.flow.collectors.size(); ++i) {
    EXPECT_EQ(a.flow.collectors[i].host, b.flow.collectors[i].host);
    EXPECT_EQ(a.flow.collectors[i].endpoint.ToString(), b.flow.collectors[i].endpoint.ToString());
  }
  ASSERT_EQ(a.source.linux_ports.patterns.size(), b.source.linux_ports.patterns.size());
  EXPECT_EQ(a.control.socket, b.control.socket);
  EXPECT_EQ(a.control.group, b.control.group);
  EXPECT_EQ(a.log.target, b.log.target);
  EXPECT_EQ(a.service.user, b.service.user);
  EXPECT_EQ(a.service.pid_file, b.service.pid_file);
}

TEST(ConfigFileTest, FormatConfigRoundTrips) {
  const std::vector<std::string> texts = {
      kEveryKey,
      "",
      "[source.sim]\nload = 0.3\nspeed = 2500000000\n[run]\nseed = 9223372036854775807\n",
      "[source.interface]\nname = \"eth1\"\n[[flow.collector]]\nhost = \"::1\"\n",
      "[source.file]\npath = \"a \\\"b\\\"\\n.pcap\"\n",
      "[ports]\ndirection = \"egress\"\n[[port]]\nmatch = \"swp1\"\ndirection = \"both\"\n"
      "[[source.sim.vlan-port]]\nport = 3\nvlan = 100\n",
  };
  for (const std::string& text : texts) {
    SCOPED_TRACE(text);
    Result<Config> a = Parse(text);
    ASSERT_TRUE(a.ok()) << a.status().message();
    const std::string printed = FormatConfig(*a);
    Result<Config> b = Parse(printed);
    ASSERT_TRUE(b.ok()) << b.status().message() << "\n" << printed;
    ExpectSame(*a, *b);
    EXPECT_EQ(a->seed, b->seed);
    EXPECT_EQ(a->source.sim.load, b->source.sim.load);
  }
  // Seeds above TOML's largest integer are written as strings.
  Config big;
  big.seed = UINT64_MAX;
  Result<Config> seed = Parse(FormatConfig(big));
  ASSERT_TRUE(seed.ok()) << seed.status().message();
  EXPECT_EQ(seed->seed, UINT64_MAX);
  // A configuration from the command line prints as a file that reads back the same.
  daemon::DaemonOptions o;
  const char* argv[] = {"xflowd",      "--sample",  "swp*=psample", "--sample",           "eth0",
                        "--collector", "127.0.0.1", "-n",           "127.0.0.1/ipfix-tcp"};
  ASSERT_TRUE(daemon::ParseOptions(static_cast<int>(std::size(argv)), argv, &o).ok());
  const Config flags = daemon::ToConfig(o);
  Result<Config> back = Parse(FormatConfig(flags));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(FormatConfig(*back), FormatConfig(flags));
  EXPECT_FALSE(Diff(flags, *back).source);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const std::string kRepo = std::string(XFLOWD_TESTDATA_DIR) + "/../..";

TEST(ConfigFileTest, EveryKeyIsInTheDocs) {
  const std::string doc = ReadFile(kRepo + "/docs/configuration.md");
  ASSERT_FALSE(doc.empty());
  ASSERT_GT(KnownConfigKeys().size(), 50u);
  for (const std::string& key : KnownConfigKeys()) {
    EXPECT_NE(doc.find("`" + key + "`"), std::string::npos) << key << " is not documented";
  }
}

TEST(ConfigFileTest, EveryKeyIsInTheManPage) {
  // xflowd.toml(5) names each key whole: a word of its own ("Cm agent.collector.host"), or a
  // section in brackets ("[ports]", "[[port]]").
  const std::string page = ReadFile(kRepo + "/man/xflowd.toml.5");
  ASSERT_FALSE(page.empty());
  const auto is_key_char = [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '.';
  };
  for (const std::string& key : KnownConfigKeys()) {
    bool found = false;
    for (size_t at = page.find(key); at != std::string::npos && !found;
         at = page.find(key, at + 1)) {
      const size_t end = at + key.size();
      found = (at == 0 || !is_key_char(page[at - 1])) &&
              (end == page.size() || !is_key_char(page[end]));
    }
    EXPECT_TRUE(found) << key << " is not in man/xflowd.toml.5";
  }
}

TEST(ConfigFileTest, KnownKeysAreTheKeysFormatConfigWrites) {
  // Each "key = " FormatConfig writes, with its table, is a known key.
  Result<Config> c = Parse(kEveryKey);
  ASSERT_TRUE(c.ok());
  std::istringstream in(FormatConfig(*c));
  std::string line, table;
  const std::vector<std::string>& known = KnownConfigKeys();
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '[') {
      table = line.substr(line.find_first_not_of('['));
      table = table.substr(0, table.find(']'));
      EXPECT_NE(std::find(known.begin(), known.end(), table), known.end()) << table;
      continue;
    }
    const std::string key = table + "." + line.substr(0, line.find(" = "));
    EXPECT_NE(std::find(known.begin(), known.end(), key), known.end()) << key;
  }
}

TEST(ConfigFileTest, ExampleFileValidates) {
  daemon::DaemonOptions none;
  Result<Config> c = daemon::LoadEffectiveConfig(kRepo + "/etc/xflowd.toml", none);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_FALSE(c->agent.collectors.empty());
}

class EffectiveConfigTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& text) {
    const std::string path = dir_.File("xflowd.toml");
    std::ofstream(path) << text;
    return path;
  }
  static daemon::DaemonOptions Flags(std::vector<const char*> args) {
    args.insert(args.begin(), "xflowd");
    daemon::DaemonOptions o;
    hal::base::Status st = daemon::ParseFlags(static_cast<int>(args.size()), args.data(), &o);
    EXPECT_TRUE(st.ok()) << st.message();
    return o;
  }
  xflowd::testing::TempDir dir_;
};

constexpr char kSimFile[] = R"(
[agent]
address = "192.0.2.1"
[[agent.collector]]
host = "127.0.0.1"
dscp = 10
[ports]
sampling-rate = 1024
polling-interval = 5
[flow]
default-protocol = "netflow-v5"
inactive-timeout = 30
[source]
type = "sim"
[source.sim]
ports = 4
)";

TEST_F(EffectiveConfigTest, FlagsOverrideTheFileAndOnlyTheFlagsGiven) {
  const std::string path = Write(kSimFile);
  Result<Config> c = daemon::LoadEffectiveConfig(
      path, Flags({"--sampling", "512", "--ports", "8", "-n", "127.0.0.1", "-t", "udp=7"}));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->ports.sampling_rate, 512u);     // flag
  EXPECT_EQ(c->ports.polling_interval_s, 5u);  // file: --polling not given
  EXPECT_EQ(c->source.sim.ports, 8u);          // flag
  EXPECT_EQ(c->flow.udp_timeout_s, 7u);        // flag (-t udp=7)
  EXPECT_EQ(c->flow.inactive_timeout_s, 30u);  // file, not the flag's default
  ASSERT_EQ(c->agent.collectors.size(), 1u);   // file
  EXPECT_EQ(c->agent.collectors[0].send.dscp, 10);
  // -n without a version takes the file's default protocol, and its port.
  ASSERT_EQ(c->flow.collectors.size(), 1u);
  EXPECT_EQ(c->flow.collectors[0].version, 5);
  EXPECT_EQ(c->flow.collectors[0].endpoint.port, 2055);
  EXPECT_EQ(c->agent.address->ToString(), "192.0.2.1");

  // A flag list replaces the file's list; a mode flag replaces the source.
  Result<Config> d = daemon::LoadEffectiveConfig(
      path, Flags({"--collector", "127.0.0.2:7000", "--agent-address", "192.0.2.9"}));
  ASSERT_TRUE(d.ok()) << d.status().message();
  ASSERT_EQ(d->agent.collectors.size(), 1u);
  EXPECT_EQ(d->agent.collectors[0].ToString(), "127.0.0.2:7000");
  EXPECT_EQ(d->agent.address->ToString(), "192.0.2.9");
  Result<Config> e = daemon::LoadEffectiveConfig(path, Flags({"--sample", "eth*"}));
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->source.kind, SourceKind::kLinux);
}

TEST_F(EffectiveConfigTest, EveryKindOfFlagOverridesTheFile) {
  const std::string path = Write(std::string(kSimFile) + R"(
[[source.sim.fault]]
port = 2
lose-samples = 0.5
[[flow.collector]]
host = "127.0.0.1"
[[flow.collector]]
host = "127.0.0.2"
port = 9999
[[flow.collector]]
host = "127.0.0.3"
protocol = "netflow-v9"
[log]
quiet = true
target = "stderr"
[control]
socket = "/run/file.sock"
[service]
user = "root"
pid-file = "/run/file.pid"
)");
  Result<Config> c = daemon::LoadEffectiveConfig(
      path, Flags({"--control-socket", "/tmp/flag.sock", "--sim-wrong-rate", "3:2", "-v",
                   "--netflow-version", "ipfix", "--user", "nobody", "--pid-file", "/tmp/flag.pid",
                   "--log-target", "syslog"}));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->control.socket, "/tmp/flag.sock");
  EXPECT_EQ(c->service.user, "nobody");
  EXPECT_EQ(c->service.pid_file, "/tmp/flag.pid");
  EXPECT_EQ(c->log.target, LogTarget::kSyslog);
  ASSERT_EQ(c->source.sim.faults.size(), 1u);  // the flags' faults replace the file's
  EXPECT_EQ(c->source.sim.faults[0].ifindex, 3u);
  EXPECT_EQ(c->source.sim.faults[0].rate_factor, 2.0);
  EXPECT_EQ(c->log.level, hal::base::LogLevel::kDebug);
  EXPECT_TRUE(c->log.quiet);  // -v sets the level only; the file's quiet stays
  // Collectors that named no protocol take the flag's, and its port unless they gave one.
  ASSERT_EQ(c->flow.collectors.size(), 3u);
  EXPECT_EQ(c->flow.collectors[0].version, 10);
  EXPECT_EQ(c->flow.collectors[0].endpoint.port, 4739);
  EXPECT_EQ(c->flow.collectors[1].version, 10);
  EXPECT_EQ(c->flow.collectors[1].endpoint.port, 9999);
  EXPECT_EQ(c->flow.collectors[2].version, 9);
  EXPECT_EQ(c->flow.collectors[2].endpoint.port, 2055);
  Result<Config> none = daemon::LoadEffectiveConfig(path, Flags({"--control-socket", "none"}));
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_EQ(none->control.socket, "");
  // Flags not given leave the file's service and log settings.
  EXPECT_EQ(none->service.user, "root");
  EXPECT_EQ(none->service.pid_file, "/run/file.pid");
  EXPECT_EQ(none->log.target, LogTarget::kStderr);
  // A user named on the command line must exist too.
  Result<Config> missing =
      daemon::LoadEffectiveConfig(path, Flags({"--user", "no-such-user-xflowd"}));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("service.user: no user named"), std::string::npos)
      << missing.status().message();
}

TEST_F(EffectiveConfigTest, TheWholeIsCheckedAfterTheFlags) {
  const std::string path = Write(kSimFile);
  // The file's values are kept, so the whole must still hold together.
  Result<Config> c = daemon::LoadEffectiveConfig(path, Flags({"--active-timeout", "10"}));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), path +
                                      ": flow.active-timeout (10 s) must not be shorter than "
                                      "flow.inactive-timeout (30 s)");
  Result<Config> d = daemon::LoadEffectiveConfig(path, Flags({"-i", "eth0"}));
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("sFlow collectors"), std::string::npos);
  Result<Config> e = daemon::LoadEffectiveConfig(Write("[agent]\naddress = \"192.0.2.1\"\n"
                                                       "[[agent.collector]]\nhost = "
                                                       "\"127.0.0.1\"\n"),
                                                 Flags({}));
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("no packet source"), std::string::npos);
  Result<Config> f = daemon::LoadEffectiveConfig(dir_.path() + "/missing.toml", Flags({}));
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("missing.toml"), std::string::npos);
}

TEST_F(EffectiveConfigTest, AtAReloadANameThatStopsResolvingKeepsItsAddress) {
  const std::string path = Write(
      "[source]\ntype = \"sim\"\n[[agent.collector]]\nhost = \"collector.invalid\"\n"
      "[[flow.collector]]\nhost = \"flows.invalid\"\n");
  // At start-up (no previous configuration) it is an error.
  Result<Config> first = daemon::LoadEffectiveConfig(path, Flags({}));
  ASSERT_FALSE(first.ok());
  EXPECT_NE(first.status().message().find("does not resolve"), std::string::npos);

  Config previous;
  SflowCollector s(*hal::base::Endpoint::Parse("192.0.2.99:6343", 6343));
  s.host = "collector.invalid";
  previous.agent.collectors = {s};
  FlowCollector f;
  f.endpoint = *hal::base::Endpoint::Parse("192.0.2.98:2055", 2055);
  f.host = "flows.invalid";
  previous.flow.collectors = {f};
  std::vector<std::string> warnings;
  Result<Config> reload = daemon::LoadEffectiveConfig(path, Flags({}), &previous, &warnings);
  ASSERT_TRUE(reload.ok()) << reload.status().message();
  EXPECT_EQ(reload->agent.collectors[0].ToString(), "192.0.2.99:6343");
  EXPECT_EQ(reload->flow.collectors[0].endpoint.ToString(), "192.0.2.98:2055");
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("keeping its address 192.0.2.99"), std::string::npos) << warnings[0];

  // A name the running configuration did not have is still an error.
  previous.flow.collectors.clear();
  EXPECT_FALSE(daemon::LoadEffectiveConfig(path, Flags({}), &previous, &warnings).ok());
}

TEST(ConfigTest, ValidateChecksWhatTheFileAdds) {
  struct Case {
    void (*edit)(Config&);
    const char* message;
  };
  const Case cases[] = {
      {[](Config& c) { c.agent.collectors[0].send.dscp = 64; },
       "agent.collectors[0].dscp: 64 is out of range 0..63"},
      {[](Config& c) { c.agent.collectors[0].send.source_address = *IpAddress::Parse("::1"); },
       "agent.collectors[0].source_address: ::1 is not of the family of the collector "
       "127.0.0.1:6343"},
      {[](Config& c) { c.agent.collectors.push_back(c.agent.collectors[0]); },
       "agent.collectors[1]: 127.0.0.1:6343 is given twice"},
      {[](Config& c) {
         FlowCollector f;
         f.endpoint = *hal::base::Endpoint::Parse("127.0.0.1:4739", 0);
         f.version = 10;
         f.tcp = true;
         f.send.dscp = 1;
         c.flow.collectors = {f};
       },
       "flow.collectors[0]: source address, VRF and DSCP are not supported for IPFIX over TCP "
       "yet (UDP only)"},
      {[](Config& c) {
         PortOverride o;
         o.pattern = "swp*";
         o.header_bytes = 300;
         c.ports.overrides = {o};
       },
       "ports.overrides[0].header_bytes: 300 is out of range 14..256"},
      {[](Config& c) {
         PortOverride o;
         o.pattern = "swp*";
         o.backend = SampleBackend::kNflog;
         c.ports.overrides = {o};
       },
       "ports.overrides[0].backend: applies to the Linux source only"},
      {[](Config& c) { c.control.socket = "x.sock"; },
       "control.socket: 'x.sock' must be an absolute path of at most 107 bytes (or \"\": none)"},
      {[](Config& c) { c.control.group = "a:b"; }, "control.group: 'a:b' is not a group name"},
  };
  for (const Case& k : cases) {
    Config c;
    c.agent.address = *IpAddress::Parse("192.0.2.1");
    c.agent.collectors = {*hal::base::Endpoint::Parse("127.0.0.1:6343", 6343)};
    ASSERT_TRUE(Validate(c).ok());
    k.edit(c);
    EXPECT_EQ(Validate(c).message(), k.message);
  }
}

TEST(ConfigTest, PortOverrideSetsHeaderBytesAndEnabled) {
  PortsConfig p;
  p.header_bytes = 128;
  PortOverride off;
  off.pattern = "swp1";
  off.enabled = false;
  PortOverride small;
  small.pattern = "swp*";
  small.header_bytes = 64;
  p.overrides = {off, small};
  EXPECT_FALSE(SettingsFor(p, "swp1", 0).enabled);
  EXPECT_TRUE(SettingsFor(p, "swp2", 0).enabled);
  EXPECT_EQ(SettingsFor(p, "swp2", 0).header_bytes, 64u);
  EXPECT_EQ(SettingsFor(p, "eth0", 0).header_bytes, 128u);
}

TEST(ConfigFileTest, VendorSource) {
  Result<Config> c = Parse(R"(
[source]
type = "vendor"
[source.vendor]
plugin = "/usr/lib/xflowd/libacme.so"
options = "unit=0"
)");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->source.kind, SourceKind::kVendor);
  EXPECT_EQ(c->source.vendor.plugin, "/usr/lib/xflowd/libacme.so");
  EXPECT_EQ(c->source.vendor.options, "unit=0");
  // Printed back and read again: the same.
  Result<Config> again = Parse(FormatConfig(*c));
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->source.vendor.plugin, c->source.vendor.plugin);
  EXPECT_EQ(again->source.vendor.options, c->source.vendor.options);

  // The table alone picks the type; options may be left out.
  Result<Config> table_only = Parse("[source.vendor]\nplugin = \"libacme.so\"\n");
  ASSERT_TRUE(table_only.ok());
  EXPECT_EQ(table_only->source.kind, SourceKind::kVendor);
  EXPECT_EQ(table_only->source.vendor.options, "");

  Result<Config> wrong = Parse("[source]\ntype = \"sim\"\n[source.vendor]\nplugin = \"a.so\"\n");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("source.vendor"), std::string::npos);

  Config empty;
  empty.source.kind = SourceKind::kVendor;
  EXPECT_NE(Validate(empty).message().find("source.vendor.plugin: empty"), std::string::npos);
}

TEST(ConfigFileTest, HostCounters) {
  Result<Config> d = Parse("[ports]\npolling-interval = 15\n");
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->host.enabled);  // off by default (D40)
  EXPECT_FALSE(d->host.polling_interval_s.has_value());
  EXPECT_EQ(d->host.EffectiveInterval(d->ports.polling_interval_s), 0u);
  Result<Config> on = Parse("[ports]\npolling-interval = 15\n[host]\nenabled = true\n");
  ASSERT_TRUE(on.ok());
  EXPECT_EQ(on->host.EffectiveInterval(on->ports.polling_interval_s), 15u);  // the ports'

  Result<Config> c = Parse("[host]\nenabled = true\npolling-interval = 7\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->host.EffectiveInterval(20), 7u);
  Result<Config> again = Parse(FormatConfig(*c));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->host.polling_interval_s, 7u);
  EXPECT_TRUE(again->host.enabled);

  Result<Config> off = Parse("[host]\nenabled = false\npolling-interval = 7\n");
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(off->host.EffectiveInterval(20), 0u);
  EXPECT_FALSE(Parse(FormatConfig(*off))->host.enabled);

  Result<Config> bad = Parse("[host]\npolling-interval = 86401\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("host.polling-interval"), std::string::npos)
      << bad.status().message();
  EXPECT_FALSE(Parse("[host]\nenable = true\n").ok());  // a misspelt key is an error
}

}  // namespace
}  // namespace xflowd::agent::config

namespace xflowd::agent::daemon {
namespace {

DaemonOptions Flags(std::vector<const char*> args, hal::base::Status* st) {
  args.insert(args.begin(), "xflowd");
  DaemonOptions o;
  *st = ParseFlags(static_cast<int>(args.size()), args.data(), &o);
  return o;
}

TEST(ConfigFileOptionsTest, ConfigFlagsAndTheOptionsGiven) {
  hal::base::Status st;
  DaemonOptions o = Flags({"--config", "/x.toml", "-s", "100", "-t", "tcp=5", "-v"}, &st);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(o.config_path, "/x.toml");
  EXPECT_FALSE(o.check_config);
  EXPECT_EQ(o.given, (std::set<std::string>{"config", "sampling", "tcp-timeout", "verbose"}));
  // --check-config takes an optional file, before other options or at the end.
  o = Flags({"--check-config", "a.toml", "--sim"}, &st);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_TRUE(o.check_config);
  EXPECT_EQ(o.config_path, "a.toml");
  o = Flags({"--check-config", "--sim"}, &st);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_TRUE(o.check_config);
  EXPECT_EQ(o.config_path, "");
  o = Flags({"--sim", "--check-config=b.toml"}, &st);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(o.config_path, "b.toml");
  o = Flags({"--config"}, &st);
  EXPECT_FALSE(st.ok());
  // ParseFlags alone does not ask for a collector: the file may have them.
  o = Flags({"--sim"}, &st);
  EXPECT_TRUE(st.ok());
  EXPECT_FALSE(FinishOptions(&o).ok());
  EXPECT_NE(HelpText("xflowd").find("--check-config [FILE]"), std::string::npos);
}

}  // namespace
}  // namespace xflowd::agent::daemon
