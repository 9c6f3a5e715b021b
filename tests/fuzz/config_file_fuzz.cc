// The config file parser on arbitrary text: never crashes, and whatever it accepts and validates
// prints as a file it accepts again and prints the same (FormatConfig round trip). Names never
// resolve here (no DNS from a fuzzer); interface "eth0" has an address, others none.
#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/config/config_file.h"
#include "agent/config/validate.h"

namespace {

using xflowd::agent::config::Config;
using xflowd::agent::config::NameLookup;
using xflowd::hal::base::IpAddress;
using xflowd::hal::base::Result;

NameLookup Offline() {
  NameLookup l;
  l.interface_address = [](const std::string& name) -> Result<IpAddress> {
    if (name == "eth0") return *IpAddress::Parse("192.0.2.7");
    return xflowd::hal::base::NotFoundError("no interface");
  };
  l.resolve_host = [](const std::string&) -> Result<IpAddress> {
    return xflowd::hal::base::NotFoundError("offline");
  };
  return l;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const NameLookup lookup = Offline();
  const std::string text(reinterpret_cast<const char*>(data), size);
  Result<Config> c = xflowd::agent::config::ParseConfigText(text, "fuzz.toml", Config{}, lookup);
  // What xflowd accepts is parsed and validated; only that is printed (--check-config).
  if (!c.ok() || !xflowd::agent::config::Validate(*c).ok()) return 0;
  const std::string printed = xflowd::agent::config::FormatConfig(*c);
  Result<Config> again =
      xflowd::agent::config::ParseConfigText(printed, "printed.toml", Config{}, lookup);
  if (!again.ok() || xflowd::agent::config::FormatConfig(*again) != printed) __builtin_trap();
  return 0;
}
