#include "agent/daemon/options.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "agent/config/validate.h"

namespace xflowd::agent::daemon {
namespace {

using hal::base::LogLevel;
using hal::base::Status;
using hal::base::StatusCode;

struct Parsed {
  Status status;
  DaemonOptions options;
};

Parsed Parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv = {"xflowd"};
  argv.insert(argv.end(), args.begin(), args.end());
  Parsed p;
  p.status = ParseOptions(static_cast<int>(argv.size()), argv.data(), &p.options);
  return p;
}

// The error message of a parse that must fail.
std::string Error(std::initializer_list<const char*> args) {
  Parsed p = Parse(args);
  EXPECT_FALSE(p.status.ok()) << "parse unexpectedly succeeded";
  EXPECT_EQ(p.status.code(), StatusCode::kInvalidArgument);
  return p.status.message();
}

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << (haystack)

TEST(OptionsTest, DemoLineAndDefaults) {
  Parsed p = Parse({"--sim", "--collector", "127.0.0.1:6343"});
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  const DaemonOptions& o = p.options;
  EXPECT_TRUE(o.sim);
  EXPECT_EQ(o.sim_ports, 48u);
  EXPECT_EQ(o.sim_speed_bps, 10'000'000'000ull);
  EXPECT_DOUBLE_EQ(o.sim_load, 0.2);
  EXPECT_EQ(o.seed, 1u);
  EXPECT_FALSE(o.sampling_rate.has_value());
  EXPECT_EQ(SamplingRateFor(o, o.sim_speed_bps), 10000u);
  EXPECT_EQ(o.polling_interval_s, 20u);
  ASSERT_EQ(o.collectors.size(), 1u);
  EXPECT_EQ(o.collectors[0].ToString(), "127.0.0.1:6343");
  ASSERT_TRUE(o.agent_address.has_value());
  EXPECT_EQ(o.agent_address->ToString(), "127.0.0.1");
  EXPECT_EQ(o.sub_agent_id, 0u);
  EXPECT_EQ(o.max_datagram_bytes, 1400u);
  EXPECT_EQ(o.header_bytes, 128u);
  EXPECT_EQ(o.max_samples_per_s, 0u);
  EXPECT_FALSE(o.duration_s.has_value());
  EXPECT_DOUBLE_EQ(o.sim_sample_loss, 0.0);
  EXPECT_FALSE(o.sim_pow2);
  EXPECT_EQ(o.log_level, LogLevel::kInfo);
  EXPECT_FALSE(o.quiet);
  EXPECT_TRUE(CheckSupported(o, true, true).ok());
}

TEST(OptionsTest, EveryOption) {
  Parsed p = Parse({"--sim",
                    "--ports",
                    "8",
                    "--speed",
                    "25G",
                    "--load=0.5",
                    "--seed",
                    "42",
                    "--sampling",
                    "4096",
                    "--polling",
                    "0",
                    "--collector",
                    "127.0.0.1",
                    "--collector",
                    "[::1]:9999",
                    "--collector=::1",
                    "--agent-address",
                    "2001:db8::7",
                    "--sub-agent-id",
                    "3",
                    "--max-datagram",
                    "9000",
                    "--header-bytes",
                    "64",
                    "--max-samples-per-second",
                    "500",
                    "--duration",
                    "10",
                    "--sim-sample-loss",
                    "1%",
                    "--sim-pow2",
                    "-v"});
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  const DaemonOptions& o = p.options;
  EXPECT_EQ(o.sim_ports, 8u);
  EXPECT_EQ(o.sim_speed_bps, 25'000'000'000ull);
  EXPECT_DOUBLE_EQ(o.sim_load, 0.5);
  EXPECT_EQ(o.seed, 42u);
  EXPECT_EQ(o.sampling_rate, 4096u);
  EXPECT_EQ(SamplingRateFor(o, 100'000'000'000ull), 4096u);  // explicit wins over speed
  EXPECT_EQ(o.polling_interval_s, 0u);
  ASSERT_EQ(o.collectors.size(), 3u);
  EXPECT_EQ(o.collectors[0].ToString(), "127.0.0.1:6343");
  EXPECT_EQ(o.collectors[1].ToString(), "[::1]:9999");
  EXPECT_EQ(o.collectors[2].ToString(), "[::1]:6343");
  EXPECT_EQ(o.agent_address->ToString(), "2001:db8::7");
  EXPECT_EQ(o.sub_agent_id, 3u);
  EXPECT_EQ(o.max_datagram_bytes, 9000u);
  EXPECT_EQ(o.header_bytes, 64u);
  EXPECT_EQ(o.max_samples_per_s, 500u);
  EXPECT_EQ(o.duration_s, 10u);
  EXPECT_DOUBLE_EQ(o.sim_sample_loss, 0.01);
  EXPECT_TRUE(o.sim_pow2);
  EXPECT_EQ(o.log_level, LogLevel::kDebug);
}

TEST(OptionsTest, ControlSocket) {
  Parsed p = Parse({"--sim", "--collector", "127.0.0.1"});
  ASSERT_TRUE(p.status.ok());
  EXPECT_EQ(ToConfig(p.options).control.socket, "/run/xflowd/xflowd.sock");
  p = Parse({"--sim", "--collector", "127.0.0.1", "--control-socket", "/tmp/x.sock"});
  ASSERT_TRUE(p.status.ok());
  EXPECT_EQ(ToConfig(p.options).control.socket, "/tmp/x.sock");
  for (const char* off : {"none", ""}) {
    p = Parse({"--sim", "--collector", "127.0.0.1", "--control-socket", off});
    ASSERT_TRUE(p.status.ok()) << off;
    EXPECT_EQ(ToConfig(p.options).control.socket, "") << off;
  }
  EXPECT_CONTAINS(HelpText("xflowd"), "--control-socket PATH");
}

TEST(OptionsTest, Service) {
  Parsed p = Parse({"--sim", "--collector", "127.0.0.1"});
  ASSERT_TRUE(p.status.ok());
  config::Config c = ToConfig(p.options);
  EXPECT_FALSE(c.service.user.has_value());  // the default, xflowd, if it exists
  EXPECT_EQ(c.service.effective_user(), "xflowd");
  EXPECT_EQ(c.service.pid_file, "");
  EXPECT_EQ(c.log.target, config::LogTarget::kAuto);
  EXPECT_FALSE(p.options.daemonize);
  p = Parse({"--sim", "--collector", "127.0.0.1", "--user", "root", "--daemon", "--pid-file",
             "/run/xflowd.pid", "--log-target", "syslog"});
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  c = ToConfig(p.options);
  EXPECT_EQ(c.service.user, "root");
  EXPECT_EQ(c.service.pid_file, "/run/xflowd.pid");
  EXPECT_EQ(c.log.target, config::LogTarget::kSyslog);
  EXPECT_TRUE(p.options.daemonize);
  EXPECT_TRUE(config::Validate(c).ok()) << config::Validate(c).message();
  EXPECT_CONTAINS(Error({"--sim", "--collector", "127.0.0.1", "--log-target", "journal"}),
                  "--log-target: expected auto, stderr or syslog, got 'journal'");
  EXPECT_CONTAINS(Error({"--sim", "--collector", "127.0.0.1", "--pid-file", "x.pid"}),
                  "--pid-file: 'x.pid' must be an absolute file path");
  EXPECT_CONTAINS(Error({"--sim", "--collector", "127.0.0.1", "--user", "a b"}),
                  "--user: 'a b' is not a user name");
  for (const char* flag : {"--user USER", "--daemon", "--pid-file FILE", "--log-target"}) {
    EXPECT_CONTAINS(HelpText("xflowd"), flag);
  }
}

TEST(OptionsTest, Quiet) {
  Parsed p = Parse({"--sim", "-q", "--collector", "127.0.0.1"});
  ASSERT_TRUE(p.status.ok());
  EXPECT_TRUE(p.options.quiet);
  EXPECT_EQ(p.options.log_level, LogLevel::kWarning);
  EXPECT_CONTAINS(Error({"--sim", "-q", "-v", "--collector", "127.0.0.1"}), "contradict");
}

TEST(OptionsTest, HelpAndVersionWinOverErrors) {
  Parsed h = Parse({"--bogus", "-h"});
  ASSERT_TRUE(h.status.ok());
  EXPECT_TRUE(h.options.help);
  Parsed h2 = Parse({"--help"});
  ASSERT_TRUE(h2.status.ok());
  EXPECT_TRUE(h2.options.help);
  Parsed v = Parse({"--ports", "zero", "--version"});
  ASSERT_TRUE(v.status.ok());
  EXPECT_TRUE(v.options.version);
}

TEST(OptionsTest, DefaultSamplingRateFollowsHsflowd) {
  EXPECT_EQ(DefaultSamplingRate(1'000'000'000ull), 1000u);
  EXPECT_EQ(DefaultSamplingRate(10'000'000'000ull), 10000u);
  EXPECT_EQ(DefaultSamplingRate(25'000'000'000ull), 25000u);
  EXPECT_EQ(DefaultSamplingRate(40'000'000'000ull), 40000u);
  EXPECT_EQ(DefaultSamplingRate(100'000'000'000ull), 100000u);
  EXPECT_EQ(DefaultSamplingRate(100'000'000ull), 100u);
  EXPECT_EQ(DefaultSamplingRate(10'000'000ull), 100u);  // minimum
  EXPECT_EQ(DefaultSamplingRate(0), 1000u);             // unknown speed
}

TEST(OptionsTest, Speeds) {
  EXPECT_EQ(*ParseSpeed("1G"), 1'000'000'000ull);
  EXPECT_EQ(*ParseSpeed("10g"), 10'000'000'000ull);
  EXPECT_EQ(*ParseSpeed("2.5G"), 2'500'000'000ull);
  EXPECT_EQ(*ParseSpeed("100M"), 100'000'000ull);
  EXPECT_EQ(*ParseSpeed("400G"), 400'000'000'000ull);
  EXPECT_EQ(*ParseSpeed("1000000"), 1'000'000ull);
  for (const char* bad : {"", "G", "0", "-1G", "10X", "ten", "1e99", "10 G"}) {
    EXPECT_FALSE(ParseSpeed(bad).ok()) << bad;
  }
  EXPECT_EQ(FormatSpeed(10'000'000'000ull), "10G");
  EXPECT_EQ(FormatSpeed(2'500'000'000ull), "2500M");
  EXPECT_EQ(FormatSpeed(123), "123");
  EXPECT_CONTAINS(Error({"--sim", "--speed", "fast", "--collector", "127.0.0.1"}), "--speed");
}

TEST(OptionsTest, NumbersOutOfRange) {
  EXPECT_CONTAINS(Error({"--sim", "--ports", "0", "--collector", "127.0.0.1"}),
                  "--ports: expected a whole number from 1 to 4096, got '0'");
  EXPECT_CONTAINS(Error({"--sim", "--ports", "-3", "--collector", "127.0.0.1"}), "got '-3'");
  EXPECT_CONTAINS(Error({"--sim", "--ports", "12x", "--collector", "127.0.0.1"}), "'12x'");
  EXPECT_CONTAINS(Error({"--sim", "--max-datagram", "511", "--collector", "127.0.0.1"}),
                  "512 to 9000");
  EXPECT_CONTAINS(Error({"--sim", "--max-datagram", "9001", "--collector", "127.0.0.1"}),
                  "512 to 9000");
  EXPECT_CONTAINS(Error({"--sim", "--sampling", "0", "--collector", "127.0.0.1"}), "--sampling");
  EXPECT_CONTAINS(Error({"--sim", "--sampling", "4294967296", "--collector", "127.0.0.1"}),
                  "--sampling");
  EXPECT_CONTAINS(Error({"--sim", "--header-bytes", "4", "--collector", "127.0.0.1"}), "14 to 256");
  EXPECT_CONTAINS(Error({"--sim", "--load", "1.5", "--collector", "127.0.0.1"}), "--load");
  EXPECT_CONTAINS(Error({"--sim", "--load", "150%", "--collector", "127.0.0.1"}), "--load");
  EXPECT_CONTAINS(Error({"--sim", "--sim-sample-loss", "1", "--collector", "127.0.0.1"}),
                  "--sim-sample-loss");
  EXPECT_CONTAINS(Error({"--sim", "--duration", "0", "--collector", "127.0.0.1"}),
                  "at least 1 second");
  EXPECT_CONTAINS(Error({"--sim", "--seed", "", "--collector", "127.0.0.1"}), "--seed");
  EXPECT_CONTAINS(Error({"--sim", "--polling", "86401", "--collector", "127.0.0.1"}), "--polling");
}

// Lying simulated ports: port lists and ranges, one entry per port however many flags name it,
// and errors that say the form.
TEST(OptionsTest, SimFaults) {
  Parsed p = Parse({"--sim", "--collector", "127.0.0.1", "--sim-lose-samples", "3,5-6:10%",
                    "--sim-wrong-rate", "5:1.25", "--sim-drop-samples", "7:0.05"});
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  const config::Config c = ToConfig(p.options);
  const auto& f = c.source.sim.faults;
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[0].ifindex, 3u);
  EXPECT_DOUBLE_EQ(f[0].hide_fraction, 0.1);
  EXPECT_DOUBLE_EQ(f[0].rate_factor, 1.0);
  EXPECT_EQ(f[1].ifindex, 5u);
  EXPECT_DOUBLE_EQ(f[1].hide_fraction, 0.1);
  EXPECT_DOUBLE_EQ(f[1].rate_factor, 1.25);
  EXPECT_EQ(f[2].ifindex, 6u);
  EXPECT_EQ(f[3].ifindex, 7u);
  EXPECT_DOUBLE_EQ(f[3].drop_fraction, 0.05);
  EXPECT_DOUBLE_EQ(f[3].hide_fraction, 0.0);

  for (const char* bad : {"3", ":0.1", "3:", "x:0.1", "0:0.1", "4-2:0.1", "3:1.5", "3,:0.1"}) {
    EXPECT_CONTAINS(Error({"--sim", "--collector", "127.0.0.1", "--sim-lose-samples", bad}),
                    "--sim-lose-samples");
  }
  EXPECT_CONTAINS(Error({"--sim", "--collector", "127.0.0.1", "--sim-wrong-rate", "2:0"}),
                  "PORTS:FACTOR");
  EXPECT_CONTAINS(Error({"--sim", "--collector", "127.0.0.1", "--sim-wrong-rate", "2:1e9"}),
                  "PORTS:FACTOR");
  EXPECT_CONTAINS(Error({"--collector", "127.0.0.1", "-r", "x.pcap", "--sim-wrong-rate", "2:2"}),
                  "simulated switch only");
}

TEST(OptionsTest, DirectionAndSimVlanPorts) {
  Parsed p = Parse({"--sim", "--collector", "127.0.0.1", "--direction", "both", "--sim-vlan-port",
                    "3:100", "--sim-vlan-port", "5:4094"});
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  const config::Config c = ToConfig(p.options);
  EXPECT_EQ(c.ports.direction, config::SampleDirection::kBoth);
  ASSERT_EQ(c.source.sim.vlan_ports.size(), 2u);
  EXPECT_EQ(c.source.sim.vlan_ports[0].ifindex, 3u);
  EXPECT_EQ(c.source.sim.vlan_ports[0].vlan_id, 100u);
  EXPECT_EQ(c.source.sim.vlan_ports[1].vlan_id, 4094u);
  EXPECT_EQ(ToConfig(Parse({"--sim", "--collector", "127.0.0.1"}).options).ports.direction,
            config::SampleDirection::kIngress);
  EXPECT_CONTAINS(Error({"--sim", "--collector", "127.0.0.1", "--direction", "out"}),
                  "ingress, egress or both");
  for (const char* bad : {"3", "3:0", "3:4095", "0:10", "x:1"}) {
    EXPECT_CONTAINS(Error({"--sim", "--collector", "127.0.0.1", "--sim-vlan-port", bad}),
                    "PORT:VLAN");
  }
  EXPECT_CONTAINS(Error({"--sim", "--collector", "127.0.0.1", "--sim-vlan-port", "3:1",
                         "--sim-vlan-port", "3:2"}),
                  "given twice");
  // --ingress-only forbids egress on the AF_PACKET ports it governs.
  Parsed q = Parse(
      {"--sample", "eth*", "--collector", "127.0.0.1", "--ingress-only", "--direction", "egress"});
  ASSERT_TRUE(q.status.ok()) << q.status.ToString();
  const hal::base::Status v = config::Validate(ToConfig(q.options));
  EXPECT_FALSE(v.ok());
  EXPECT_CONTAINS(v.message(), "ports.direction");
}

TEST(OptionsTest, Collectors) {
  EXPECT_CONTAINS(Error({"--sim", "--collector", "collector.example.com"}),
                  "names are not resolved");
  EXPECT_CONTAINS(Error({"--sim", "--collector", "127.0.0.1:0"}), "bad port");
  EXPECT_CONTAINS(Error({"--sim", "--collector", "127.0.0.1:70000"}), "bad port");
  EXPECT_CONTAINS(Error({"--sim", "--collector", "[::1"}), "']'");
  EXPECT_CONTAINS(Error({"--sim", "--collector", "127.0.0.1", "--collector", "127.0.0.1:6343"}),
                  "given twice");
  EXPECT_CONTAINS(Error({"--sim"}), "no collector");
  EXPECT_CONTAINS(Error({"--sim", "--collector"}), "--collector needs a value");
  EXPECT_CONTAINS(Error({"--collector", "--sim"}), "--collector needs a value");
  EXPECT_CONTAINS(Error({"--sim", "--agent-address", "localhost", "--collector", "127.0.0.1"}),
                  "--agent-address");
}

// A ':' promises a port: an empty one is not the default, and only plain digits are a port.
TEST(OptionsTest, CollectorPortsAreDigitsOnly) {
  for (const char* bad : {"127.0.0.1:", "127.0.0.1:+43001", "127.0.0.1: 43001",
                          "[::1]:", "127.0.0.1:-1", "127.0.0.1:43001 ", "127.0.0.1:0x10"}) {
    EXPECT_CONTAINS(Error({"--sim", "--collector", bad}), "bad port");
    EXPECT_CONTAINS(Error({"-r", "x.pcap", "-n", bad}), "bad port");
    EXPECT_CONTAINS(Error({"-r", "x.pcap", "-n", (std::string(bad) + "/9").c_str()}), "bad port");
  }
  Parsed p = Parse({"--sim", "--collector", "127.0.0.1:06343", "-n", "[::1]:2056/9"});
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_EQ(p.options.collectors.at(0).port, 6343);
  EXPECT_EQ(p.options.flow_collectors.at(0).endpoint.port, 2056);
}

TEST(OptionsTest, SyntaxErrors) {
  EXPECT_CONTAINS(Error({"--sim", "--colector", "127.0.0.1"}), "unknown option '--colector'");
  EXPECT_CONTAINS(Error({"--sim", "-x", "--collector", "127.0.0.1"}), "unknown option '-x'");
  EXPECT_CONTAINS(Error({"--sim", "extra", "--collector", "127.0.0.1"}),
                  "unexpected argument 'extra'");
  EXPECT_CONTAINS(Error({"--sim=yes", "--collector", "127.0.0.1"}), "--sim takes no value");
  EXPECT_CONTAINS(Error({"--sim", "--collector", "127.0.0.1", "--", "more"}),
                  "unexpected argument 'more'");
}

TEST(OptionsTest, SimOnlyOptionsNeedSim) {
  EXPECT_CONTAINS(Error({"--ports", "8", "--collector", "127.0.0.1"}),
                  "--ports applies to the simulated switch only: add --sim");
  EXPECT_CONTAINS(Error({"--sim-pow2", "--collector", "127.0.0.1"}), "add --sim");
}

TEST(OptionsTest, NoPacketSourceNamesEveryMode) {
  Parsed p = Parse({"--collector", "127.0.0.1"});
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_FALSE(p.options.agent_address.has_value());  // only defaulted with --sim / --sample
  Status st = CheckSupported(p.options, true, true, true);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kUnimplemented);
  EXPECT_CONTAINS(st.message(), "PSAMPLE, AF_PACKET or NFLOG");
  EXPECT_CONTAINS(st.message(), "--sim");
  EXPECT_CONTAINS(st.message(), "--sample PATTERN");
}

TEST(OptionsTest, OvsPicksTheOvsModeWithAnOptionalSocket) {
  Parsed p = Parse({"--ovs", "--collector", "127.0.0.1"});
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_EQ(ModeOf(p.options), config::SourceKind::kOvs);
  EXPECT_EQ(p.options.ovs_db_socket, "/var/run/openvswitch/db.sock");
  EXPECT_EQ(p.options.agent_address->ToString(), "127.0.0.1");
  config::Config c = ToConfig(p.options);
  EXPECT_EQ(c.source.kind, config::SourceKind::kOvs);
  EXPECT_EQ(c.source.ovs.db_socket, "/var/run/openvswitch/db.sock");

  p = Parse({"--ovs", "/tmp/ovs/db.sock", "--ovs-bridge", "br0", "--ovs-bridge", "br-int",
             "--collector", "127.0.0.1"});
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  c = ToConfig(p.options);
  EXPECT_EQ(c.source.ovs.db_socket, "/tmp/ovs/db.sock");
  EXPECT_EQ(c.source.ovs.bridges, (std::vector<std::string>{"br0", "br-int"}));
  p = Parse({"--ovs=/run/db.sock", "--collector", "127.0.0.1"});
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_EQ(p.options.ovs_db_socket, "/run/db.sock");

  EXPECT_CONTAINS(Error({"--ovs", "db.sock", "--collector", "127.0.0.1"}), "unexpected argument");
  EXPECT_CONTAINS(Error({"--ovs=db.sock", "--collector", "127.0.0.1"}), "absolute path");
  EXPECT_CONTAINS(Error({"--ovs-bridge", "br0", "--collector", "127.0.0.1"}), "add --ovs");
  EXPECT_CONTAINS(
      Error({"--ovs", "--ovs-bridge", "b", "--ovs-bridge", "b", "--collector", "127.0.0.1"}),
      "given twice");
  EXPECT_CONTAINS(Error({"--ovs", "--sample", "eth0", "--collector", "127.0.0.1"}),
                  "exclude each other");
}

TEST(OptionsTest, SamplePatternsPickTheLinuxMode) {
  Parsed p = Parse({"--sample", "swp*=psample", "--sample", "eth0", "--sample=tap?=nflog",
                    "--collector", "127.0.0.1", "--psample-group", "7", "--nflog-group", "20",
                    "--ingress-only", "--sampling", "100"});
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  const DaemonOptions& o = p.options;
  EXPECT_EQ(ModeOf(o), config::SourceKind::kLinux);
  ASSERT_EQ(o.sample_patterns.size(), 3u);
  EXPECT_EQ(o.sample_patterns[0].pattern, "swp*");
  EXPECT_EQ(o.sample_patterns[0].backend, SampleBackend::kPsample);
  EXPECT_EQ(o.sample_patterns[1].pattern, "eth0");
  EXPECT_EQ(o.sample_patterns[1].backend, SampleBackend::kAfPacket);
  EXPECT_EQ(o.sample_patterns[2].pattern, "tap?");
  EXPECT_EQ(o.sample_patterns[2].backend, SampleBackend::kNflog);
  EXPECT_STREQ(SampleBackendName(o.sample_patterns[2].backend), "nflog");
  EXPECT_EQ(o.psample_group, 7u);
  EXPECT_EQ(o.nflog_group, 20u);
  EXPECT_TRUE(o.ingress_only);
  ASSERT_TRUE(o.agent_address.has_value());
  EXPECT_EQ(o.agent_address->ToString(), "127.0.0.1");
  EXPECT_TRUE(CheckSupported(o, false, false, true).ok());
  Status st = CheckSupported(o, true, true, false);
  EXPECT_EQ(st.code(), StatusCode::kUnimplemented);
  EXPECT_CONTAINS(st.message(), "built without the Linux back-ends");
  // Defaults.
  Parsed d = Parse({"--sample", "p*", "--collector", "127.0.0.1"});
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  EXPECT_EQ(d.options.psample_group, 1u);
  EXPECT_EQ(d.options.nflog_group, 5u);
  EXPECT_FALSE(d.options.ingress_only);
  EXPECT_FALSE(d.options.sampling_rate.has_value());  // by link speed
}

TEST(OptionsTest, SamplePatternErrors) {
  EXPECT_CONTAINS(Error({"--sample", "eth0=pcap", "--collector", "127.0.0.1"}),
                  "afpacket, psample or nflog");
  EXPECT_CONTAINS(Error({"--sample", "=psample", "--collector", "127.0.0.1"}), "--sample");
  EXPECT_CONTAINS(Error({"--sample", "eth0", "--sample", "eth0=nflog", "--collector", "127.0.0.1"}),
                  "given twice");
  EXPECT_CONTAINS(Error({"--sample", "eth0", "--sim", "--collector", "127.0.0.1"}),
                  "exclude each other");
  EXPECT_CONTAINS(Error({"--sample", "eth0", "-i", "eth0", "-n", "127.0.0.1"}),
                  "exclude each other");
  EXPECT_CONTAINS(Error({"--sample", "eth0", "--psample-group", "0", "--collector", "127.0.0.1"}),
                  "--psample-group");
  EXPECT_CONTAINS(Error({"--sample", "eth0"}), "no collector");
}

TEST(OptionsTest, FlowExportDefaultsAreTheRouterDefaults) {
  Parsed p = Parse({"-r", "x.pcap", "-n", "127.0.0.1"});
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  const DaemonOptions& o = p.options;
  EXPECT_EQ(ModeOf(o), config::SourceKind::kFile);
  ASSERT_EQ(o.flow_collectors.size(), 1u);
  EXPECT_EQ(o.flow_collectors[0].version, 9);
  EXPECT_EQ(o.flow_collectors[0].endpoint.port, 2055);
  EXPECT_FALSE(o.flow_collectors[0].tcp);
  EXPECT_EQ(o.flow_cache_size, 262144u);
  EXPECT_EQ(o.inactive_timeout_s, 15u);
  EXPECT_EQ(o.active_timeout_s, 1800u);
  EXPECT_TRUE(o.tcp_end);
  EXPECT_EQ(o.template_refresh_packets, 20u);
  EXPECT_EQ(o.template_refresh_s, 600u);
  EXPECT_TRUE(CheckSupported(o, false, true).ok());
  EXPECT_TRUE(CheckSupported(o, true, false).ok());  // -r: xflowd's own pcap reader
  DaemonOptions live = o;
  live.read_file.clear();
  live.interface = "eth0";
  EXPECT_EQ(CheckSupported(live, true, false).code(), StatusCode::kUnimplemented);
}

TEST(OptionsTest, FlowCollectorsEachHaveTheirVersion) {
  Parsed p = Parse({"-i", "eth0", "-n", "192.0.2.1:9995/5", "-n", "[::1]/ipfix", "-n",
                    "192.0.2.2/ipfix-tcp", "-n", "192.0.2.3", "--netflow-version", "10"});
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  const auto& c = p.options.flow_collectors;
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c[0].version, 5);
  EXPECT_EQ(c[0].endpoint.port, 9995);
  EXPECT_EQ(c[1].version, 10);
  EXPECT_EQ(c[1].endpoint.port, 4739);
  EXPECT_EQ(c[1].endpoint.address.ToString(), "::1");
  EXPECT_TRUE(c[2].tcp);
  EXPECT_EQ(c[2].version, 10);
  EXPECT_EQ(c[3].version, 10);  // --netflow-version applies to -n without /VERSION
  EXPECT_EQ(ModeOf(p.options), config::SourceKind::kInterface);
}

TEST(OptionsTest, SoftflowdStyleOptions) {
  Parsed p = Parse({"-i", "eth0", "-n", "127.0.0.1:2055", "-V", "5", "-m", "8192", "-s", "100",
                    "-t", "maxlife=300", "-t", "general=30", "-t", "tcp=60", "-d"});
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_EQ(p.options.flow_collectors[0].version, 5);
  EXPECT_EQ(p.options.flow_cache_size, 8192u);
  EXPECT_EQ(*p.options.sampling_rate, 100u);
  EXPECT_EQ(p.options.active_timeout_s, 300u);
  EXPECT_EQ(p.options.inactive_timeout_s, 30u);
  EXPECT_EQ(p.options.tcp_timeout_s, 60u);
  EXPECT_CONTAINS(Error({"-i", "eth0", "-n", "127.0.0.1", "-t", "fin=3"}), "NAME=SECONDS");
  EXPECT_CONTAINS(Error({"-i", "eth0", "-n", "127.0.0.1", "-v", "9"}), "--netflow-version 9");
}

TEST(OptionsTest, FlowOptionErrorsSayWhatToDo) {
  EXPECT_CONTAINS(Error({"-r", "x.pcap"}), "-n HOST[:PORT]");
  EXPECT_CONTAINS(Error({"-r", "x.pcap", "-i", "eth0", "-n", "127.0.0.1"}), "exclude each other");
  EXPECT_CONTAINS(Error({"--sim", "-r", "x.pcap", "-n", "127.0.0.1"}), "exclude each other");
  EXPECT_CONTAINS(Error({"-i", "eth0", "--collector", "127.0.0.1", "-n", "127.0.0.1"}),
                  "NetFlow/IPFIX");
  EXPECT_CONTAINS(Error({"-r", "x", "-n", "127.0.0.1/7"}), "5, 9, 10, ipfix or ipfix-tcp");
  EXPECT_CONTAINS(Error({"-r", "x", "-n", "localhost"}), "host names are not resolved");
  EXPECT_CONTAINS(Error({"-r", "x", "-n", "127.0.0.1", "-n", "127.0.0.1:2055"}), "given twice");
  EXPECT_CONTAINS(Error({"-r", "x", "-n", "127.0.0.1", "--active-timeout", "10"}),
                  "must not be shorter");
  // --sim with only NetFlow collectors is fine: the samples feed the flow cache.
  Parsed p = Parse({"--sim", "-n", "127.0.0.1"});
  EXPECT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_EQ(CheckSupported(p.options, false, true).code(), StatusCode::kUnimplemented);
}

// Sizes that cannot carry every sample are usage errors (exit 2) on the command line, not a
// runtime failure (NetFlow) or silently lost samples (sFlow); the range is the one --help gives.
TEST(OptionsTest, MaxDatagramBelowWhatSamplesNeedIsAUsageError) {
  for (const char* size : {"200", "300", "511"}) {
    const std::string e = Error({"--sim", "--max-datagram", size, "--collector", "127.0.0.1"});
    EXPECT_CONTAINS(e, "--max-datagram: expected a whole number from 512 to 9000");
    EXPECT_CONTAINS(e, "counter sample");
    EXPECT_CONTAINS(Error({"--sim", "--max-datagram", size, "-n", "127.0.0.1"}), "512 to 9000");
  }
  EXPECT_CONTAINS(HelpText("xflowd"), "512..9000 (default 1400)");
  Parsed p = Parse({"--sim", "--max-datagram", "512", "-n", "127.0.0.1"});
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_EQ(p.options.max_datagram_bytes, kDatagramBytesMin);
}

TEST(OptionsTest, ExpandedSamples) {
  EXPECT_FALSE(Parse({"--sim", "--collector", "127.0.0.1"}).options.expanded_samples);
  Parsed p = Parse({"--sim", "--expanded-samples", "--collector", "127.0.0.1"});
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_TRUE(p.options.expanded_samples);
  EXPECT_CONTAINS(HelpText("xflowd"), "--expanded-samples");
  EXPECT_CONTAINS(Error({"--sim", "--expanded-samples=1", "--collector", "127.0.0.1"}),
                  "--expanded-samples");
}

TEST(OptionsTest, HelpTextHasWhatUsersLookFor) {
  std::string h = HelpText("xflowd");
  for (const char* needle : {"Usage:",
                             "--sim",
                             "--collector HOST[:PORT]",
                             "default port 6343",
                             "--sampling N",
                             "10G -> 10000",
                             "--polling SECONDS",
                             "(default 20)",
                             "--max-datagram",
                             "(default 1400)",
                             "--header-bytes",
                             "(default 128)",
                             "--max-samples-per-second",
                             "--duration",
                             "--sim-sample-loss",
                             "--sim-pow2",
                             "--sim-lose-samples PORTS:F",
                             "--sim-drop-samples PORTS:F",
                             "--sim-wrong-rate PORTS:X",
                             "--verbose",
                             "--quiet",
                             "--version",
                             "--ports N",
                             "(default 48)",
                             "(default 10G)",
                             "(default 0.2)",
                             "--seed",
                             "--agent-address",
                             "--sub-agent-id",
                             "Examples:",
                             "xflowd --sim --collector 127.0.0.1:6343",
                             "--sample PATTERN[=BACKEND]",
                             "(default; in-kernel random filter)",
                             "--psample-group G",
                             "(default 1)",
                             "--nflog-group G",
                             "(default 5)",
                             "--ingress-only",
                             "-i, --interface IFACE",
                             "-r, --read FILE",
                             "-n, --netflow HOST[:PORT][/VERSION]",
                             "ipfix-tcp",
                             "(default 262144",
                             "--inactive-timeout SECONDS  end a flow idle this long (default 15)",
                             "(default 1800)",
                             "softflowd style",
                             "--no-tcp-end",
                             "--template-refresh-packets N",
                             "--template-refresh-seconds S"}) {
    EXPECT_CONTAINS(h, needle);
  }
  // Fits an 80-column terminal.
  size_t start = 0;
  while (start < h.size()) {
    size_t end = h.find('\n', start);
    if (end == std::string::npos) end = h.size();
    EXPECT_LE(end - start, 80u) << h.substr(start, end - start);
    start = end + 1;
  }
}

// Messages point at what this build can do, not at back-ends it already has.
TEST(OptionsTest, SflowCollectorWithHostProbePointsToSample) {
  const std::string e = Error({"-i", "eth0", "--collector", "127.0.0.1"});
  EXPECT_CONTAINS(e, "--sample IFACE");
  EXPECT_EQ(e.find("not run yet"), std::string::npos) << e;
}

TEST(OptionsTest, LinuxBackEndsNeedNoLibnl) {
  Parsed p = Parse({"--sample", "eth0", "--collector", "127.0.0.1"});
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  const Status st = CheckSupported(p.options, true, true, false);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message().find("libnl"), std::string::npos) << st.message();
  EXPECT_CONTAINS(st.message(), "XFLOWD_WITH_RTNL");
}

}  // namespace
}  // namespace xflowd::agent::daemon

namespace xflowd::agent::daemon {
namespace {

// The command line fills the configuration model, and what it accepts validates.
TEST(OptionsTest, FillsTheConfigModel) {
  std::vector<const char*> argv = {"xflowd",
                                   "--sim",
                                   "--ports",
                                   "8",
                                   "--collector",
                                   "127.0.0.1:6343",
                                   "-n",
                                   "127.0.0.1/ipfix-tcp",
                                   "--netflow-version",
                                   "5",
                                   "-n",
                                   "127.0.0.2",
                                   "-t",
                                   "maxlife=60",
                                   "--sampling",
                                   "512",
                                   "--max-datagram",
                                   "9000",
                                   "--seed",
                                   "7",
                                   "--duration",
                                   "3",
                                   "--agent-address",
                                   "192.0.2.9"};
  DaemonOptions o;
  Status st = ParseOptions(static_cast<int>(argv.size()), argv.data(), &o);
  ASSERT_TRUE(st.ok()) << st.ToString();
  const config::Config c = ToConfig(o);
  EXPECT_TRUE(config::Validate(c).ok()) << config::Validate(c).ToString();
  EXPECT_EQ(c.source.kind, config::SourceKind::kSim);
  EXPECT_EQ(c.source.sim.ports, 8u);
  ASSERT_EQ(c.agent.collectors.size(), 1u);
  EXPECT_EQ(c.agent.address->ToString(), "192.0.2.9");
  EXPECT_EQ(c.agent.max_datagram_bytes, 9000u);
  EXPECT_EQ(c.flow.max_datagram_bytes, 9000u);
  ASSERT_EQ(c.flow.collectors.size(), 2u);
  EXPECT_EQ(c.flow.collectors[0].version, 10);
  EXPECT_TRUE(c.flow.collectors[0].tcp);
  EXPECT_EQ(c.flow.collectors[0].endpoint.port, config::kDefaultIpfixPort);
  EXPECT_EQ(c.flow.collectors[1].version, 5);  // --netflow-version for -n without /VERSION
  EXPECT_EQ(c.flow.default_version, 5);
  EXPECT_EQ(c.flow.active_timeout_s, 60u);
  EXPECT_EQ(c.ports.sampling_rate, 512u);
  EXPECT_EQ(c.seed, 7u);
  EXPECT_EQ(c.duration_s, 3u);

  DaemonOptions linux_ports;
  const char* sample[] = {"xflowd", "--sample",    "swp*=psample", "--psample-group",
                          "3",      "--collector", "127.0.0.1"};
  st = ParseOptions(7, sample, &linux_ports);
  ASSERT_TRUE(st.ok()) << st.ToString();
  const config::Config lc = ToConfig(linux_ports);
  EXPECT_EQ(lc.source.kind, config::SourceKind::kLinux);
  ASSERT_EQ(lc.source.linux_ports.patterns.size(), 1u);
  EXPECT_EQ(lc.source.linux_ports.patterns[0].backend, config::SampleBackend::kPsample);
  EXPECT_EQ(lc.source.linux_ports.psample_group, 3u);
}

TEST(OptionsTest, VendorPlugin) {
  Parsed p = Parse({"--vendor-plugin", "/usr/lib/xflowd/libacme.so", "--vendor-options",
                    "unit=0,ports=32", "--collector", "127.0.0.1"});
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  config::Config c = ToConfig(p.options);
  EXPECT_EQ(c.source.kind, config::SourceKind::kVendor);
  EXPECT_EQ(c.source.vendor.plugin, "/usr/lib/xflowd/libacme.so");
  EXPECT_EQ(c.source.vendor.options, "unit=0,ports=32");
  ASSERT_TRUE(c.agent.address.has_value());  // a switch: 127.0.0.1 by default, as --sample
  EXPECT_TRUE(config::Validate(c).ok());

  EXPECT_CONTAINS(Error({"--vendor-plugin", "a.so", "--sim", "--collector", "127.0.0.1"}),
                  "exclude each other");
  EXPECT_CONTAINS(Error({"--sim", "--vendor-options", "x=1", "--collector", "127.0.0.1"}),
                  "--vendor-options applies to a vendor plugin");
  EXPECT_CONTAINS(Error({"--vendor-plugin", "", "--collector", "127.0.0.1"}),
                  "needs the plugin's .so path");
}

}  // namespace
}  // namespace xflowd::agent::daemon
