// The configuration file of xflowd (TOML, docs/configuration.md): parsed into the same model
// the command line fills (config.h), and printed back with every default filled in.
//
// Errors name the place and the key, "FILE:LINE:COLUMN: KEY: what is wrong", for syntax errors,
// unknown keys, wrong types, out-of-range values, duplicate collectors, host names that do not
// resolve and an agent interface without an address. Nothing in the file is ignored.
//
// Only config_file.cc sees the TOML library (it is slow to compile).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "hal/base/ip_address.h"
#include "hal/base/status.h"

namespace xflowd::agent::config {

constexpr char kDefaultConfigPath[] = "/etc/xflowd/xflowd.toml";

// Largest file accepted (a configuration is a few KiB; this keeps a wrong path cheap).
constexpr size_t kMaxConfigFileBytes = 1 << 20;

// How names in the file become addresses; the system's by default, fakes in tests.
struct NameLookup {
  // The first IPv4 address of interface `name`, else its first IPv6 address; an error naming
  // the interface if it has none or does not exist.
  std::function<hal::base::Result<hal::base::IpAddress>(const std::string& name)> interface_address;
  // A collector's host name to its first address (getaddrinfo); an error if it does not
  // resolve. Not called for IP literals.
  std::function<hal::base::Result<hal::base::IpAddress>(const std::string& host)> resolve_host;
};
NameLookup SystemNameLookup();

// Parses the TOML `text` (named `file_name` in errors) on top of `base`: every key the file
// gives replaces base's value; a list the file gives ([[agent.collector]], [[flow.collector]],
// [[port]]) replaces base's list. Checks types and ranges of each key, not the configuration
// as a whole (Validate does). *source_given (if not null) tells whether the file chose the
// packet source (source.type or one source table), so a caller can refuse to fall back on the
// model's default (the simulator) by accident.
hal::base::Result<Config> ParseConfigText(const std::string& text, const std::string& file_name,
                                          const Config& base,
                                          const NameLookup& lookup = SystemNameLookup(),
                                          bool* source_given = nullptr);

// Reads and parses the file at `path` (ParseConfigText). An error if it cannot be read.
hal::base::Result<Config> LoadConfigFile(const std::string& path, const Config& base = Config{},
                                         const NameLookup& lookup = SystemNameLookup(),
                                         bool* source_given = nullptr);

// The configuration as a config file, every setting written out (defaults included), so that
// ParseConfigText(FormatConfig(c)) gives c back. A host name is written as given (it is
// resolved again when read), an agent address taken from an interface as the interface.
std::string FormatConfig(const Config& config);

// Every key the parser knows, dotted: "agent.address", "agent.collector.host", "port.match".
const std::vector<std::string>& KnownConfigKeys();

}  // namespace xflowd::agent::config
