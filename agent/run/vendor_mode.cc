// --vendor-plugin: a switch ASIC through its vendor's plugin (hal/vendor). The plugin is every
// HAL interface of the platform; port events it reports wait for the advance hook, so the
// daemon adds and removes ports between loop callbacks, never inside a drain.
#include "agent/run/run.h"
#include "hal/vendor/vendor_plugin.h"

namespace xflowd::agent::run {

bool HaveVendor() { return true; }

int RunVendor(const config::Config& config, hal::base::Logger& logger,
              const daemon::ConfigLoader& loader, const ServiceHooks& service) {
  hal::base::SystemClock clock;
  const config::VendorSourceConfig& c = config.source.vendor;
  auto plugin = hal::vendor::VendorPlugin::Load(c.plugin);
  if (!plugin.ok()) return Fail(logger, plugin.status());
  const xfv_plugin* table = (*plugin)->table();
  auto backend =
      hal::vendor::VendorBackend::Create(std::move(*plugin), table, c.options, clock, logger);
  if (!backend.ok()) return Fail(logger, backend.status());
  hal::vendor::VendorBackend* b = backend->get();
  daemon::Platform p;
  p.packets = b;
  p.sampling = b;
  p.counters = b;
  p.ports = b;
  p.advance = [b](hal::base::MonoTime) { b->DeliverPortEvents(); };
  p.advance_period = hal::base::milliseconds(100);
  p.description = b->Description();
  p.summary = [b] { return b->Summary(); };
  logger.Log(hal::base::LogLevel::kInfo, "%s", p.description.c_str());
  return RunDaemon(config, p, clock, logger, loader, service);
}

}  // namespace xflowd::agent::run
