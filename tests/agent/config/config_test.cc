#include "agent/config/config.h"

#include <gtest/gtest.h>

#include "agent/config/diff.h"
#include "agent/config/validate.h"

namespace xflowd::agent::config {
namespace {

using hal::base::Endpoint;
using hal::base::StatusCode;

// A model that runs: one sFlow collector, the simulated switch.
Config Runnable() {
  Config c;
  c.agent.address = *hal::base::IpAddress::Parse("192.0.2.1");
  c.agent.collectors = {*Endpoint::Parse("127.0.0.1:6343", 6343)};
  return c;
}

TEST(ConfigTest, DefaultsValidate) { EXPECT_TRUE(Validate(Runnable()).ok()); }

TEST(ConfigTest, ValidateNamesTheSetting) {
  struct Case {
    void (*edit)(Config&);
    const char* setting;
  };
  const Case cases[] = {
      {[](Config& c) { c.flow.active_timeout_s = 0; }, "flow.active_timeout_s"},
      {[](Config& c) { c.flow.cache_size = 8; }, "flow.cache_size"},
      {[](Config& c) { c.agent.max_datagram_bytes = 100; }, "agent.max_datagram_bytes"},
      {[](Config& c) { c.flow.max_datagram_bytes = 10000; }, "flow.max_datagram_bytes"},
      {[](Config& c) { c.ports.header_bytes = 300; }, "ports.header_bytes"},
      {[](Config& c) { c.ports.sampling_rate = 0; }, "ports.sampling_rate"},
      {[](Config& c) {
         c.ports.overrides = {{"swp*", 0u, std::nullopt, std::nullopt}};
       },
       "ports.overrides[0].sampling_rate"},
      {[](Config& c) {
         c.ports.overrides = {{"", std::nullopt, std::nullopt, std::nullopt}};
       },
       "ports.overrides[0].pattern"},
      {[](Config& c) {
         c.flow.collectors = {{*Endpoint::Parse("127.0.0.1:2055", 0), 7, false}};
       },
       "flow.collectors[0].version"},
      {[](Config& c) {
         c.flow.collectors = {{*Endpoint::Parse("127.0.0.1:2055", 0), 9, true}};
       },
       "flow.collectors[0].tcp"},
      {[](Config& c) { c.source.sim.load = 1.5; }, "source.sim.load"},
      {[](Config& c) { c.source.sim.ports = 0; }, "source.sim.ports"},
      {[](Config& c) { c.source.kind = SourceKind::kLinux; }, "source.linux.patterns"},
      {[](Config& c) { c.source.kind = SourceKind::kFile; }, "source.file.path"},
      {[](Config& c) {
         c.source.kind = SourceKind::kInterface;
         c.source.interface.name = "eth0";
         c.source.interface.snaplen = 10;
       },
       "source.interface.snaplen"},
      {[](Config& c) { c.duration_s = 0; }, "duration_s"},
  };
  for (const Case& k : cases) {
    Config c = Runnable();
    k.edit(c);
    hal::base::Status st = Validate(c);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << k.setting;
    EXPECT_EQ(st.message().rfind(std::string(k.setting) + ":", 0), 0u) << st.message();
  }
}

TEST(ConfigTest, PortOverridesByGlobFirstMatchWins) {
  PortsConfig p;
  p.polling_interval_s = 20;
  p.overrides = {{"swp1*", 512u, std::nullopt, std::nullopt}, {"swp*", 2048u, 5u, std::nullopt}};
  PortSettings a = SettingsFor(p, "swp12", 10'000'000'000ull);
  EXPECT_EQ(a.sampling_rate, 512u);
  EXPECT_EQ(a.polling_interval_s, 20u);  // unset in the override: the ports' value
  PortSettings b = SettingsFor(p, "swp2", 10'000'000'000ull);
  EXPECT_EQ(b.sampling_rate, 2048u);
  EXPECT_EQ(b.polling_interval_s, 5u);
  PortSettings c = SettingsFor(p, "eth0", 1'000'000'000ull);
  EXPECT_EQ(c.sampling_rate, 1000u);  // by speed
  p.sampling_rate = 300;
  EXPECT_EQ(SettingsFor(p, "eth0", 1'000'000'000ull).sampling_rate, 300u);
}

TEST(ConfigTest, PortOverrideEnablesOrDisablesAPort) {
  PortsConfig p;
  PortOverride off;
  off.pattern = "swp3";
  off.enabled = false;
  PortOverride swp;
  swp.pattern = "swp*";
  swp.sampling_rate = 512;
  p.overrides = {off, swp};
  EXPECT_TRUE(SettingsFor(p, "swp1", 0).enabled);  // unset: enabled
  EXPECT_FALSE(SettingsFor(p, "swp3", 0).enabled);
  EXPECT_EQ(SettingsFor(p, "swp3", 0).sampling_rate, 1000u);  // first match decides alone
  Config a = Runnable();
  a.ports.overrides = p.overrides;
  Config b = a;
  b.ports.overrides[0].enabled = true;
  EXPECT_EQ(Diff(a, b).port_overrides.changed, std::vector<std::string>{"swp3"});
}

TEST(ConfigTest, DiffOfEqualModelsIsEmpty) { EXPECT_TRUE(Diff(Runnable(), Runnable()).empty()); }

TEST(ConfigTest, DiffNamesCollectorsExportersAndPorts) {
  Config a = Runnable();
  a.agent.collectors.push_back(*Endpoint::Parse("127.0.0.2:6343", 6343));
  a.flow.collectors = {{*Endpoint::Parse("127.0.0.1:2055", 0), 9, false},
                       {*Endpoint::Parse("127.0.0.1:4739", 0), 10, false}};
  a.ports.overrides = {{"swp*", 512u, std::nullopt, std::nullopt},
                       {"eth*", 100u, std::nullopt, std::nullopt}};
  Config b = a;
  b.agent.collectors.erase(b.agent.collectors.begin());
  b.agent.collectors.push_back(*Endpoint::Parse("[::1]:6343", 6343));
  b.flow.collectors[1].tcp = true;  // same collector, now over TCP
  b.flow.collectors.push_back({*Endpoint::Parse("127.0.0.1:2056", 0), 5, false});
  b.ports.overrides[0].sampling_rate = 1024;
  b.ports.overrides.pop_back();
  b.ports.overrides.push_back({"bond*", std::nullopt, 10u, std::nullopt});

  ConfigDiff d = Diff(a, b);
  EXPECT_EQ(d.collectors.added, std::vector<std::string>{"[::1]:6343"});
  EXPECT_EQ(d.collectors.removed, std::vector<std::string>{"127.0.0.1:6343"});
  EXPECT_TRUE(d.collectors.changed.empty());
  EXPECT_EQ(d.exporters.added, std::vector<std::string>{"127.0.0.1:2056"});
  EXPECT_TRUE(d.exporters.removed.empty());
  EXPECT_EQ(d.exporters.changed, std::vector<std::string>{"127.0.0.1:4739"});
  EXPECT_EQ(d.port_overrides.added, std::vector<std::string>{"bond*"});
  EXPECT_EQ(d.port_overrides.removed, std::vector<std::string>{"eth*"});
  EXPECT_EQ(d.port_overrides.changed, std::vector<std::string>{"swp*"});
  EXPECT_FALSE(d.agent);
  EXPECT_FALSE(d.ports);
  EXPECT_FALSE(d.flow_cache);
  EXPECT_FALSE(d.source);
}

TEST(ConfigTest, DiffFlagsSections) {
  Config a = Runnable();
  Config b = a;
  b.flow.active_timeout_s = 60;
  b.ports.polling_interval_s = 30;
  b.source.sim.load = 0.5;
  ConfigDiff d = Diff(a, b);
  EXPECT_TRUE(d.flow_cache);
  EXPECT_TRUE(d.ports);
  EXPECT_TRUE(d.source);
  EXPECT_FALSE(d.agent);
  EXPECT_TRUE(d.collectors.empty());
  b = a;
  b.agent.address = *hal::base::IpAddress::Parse("192.0.2.2");
  EXPECT_TRUE(Diff(a, b).agent);
}

}  // namespace
}  // namespace xflowd::agent::config
