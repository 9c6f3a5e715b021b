// FilteredPortInventory: the ports of another PortInventory (all links of the host) whose
// names match the --sample patterns, each with the back-end of the first pattern it matches.
//
// Events of the inner inventory are translated to what the agent should see: a matching port
// that appears is kAdded; one that goes is kRemoved; a rename into a pattern is kAdded, a rename
// out of every pattern kRemoved, and a rename to a pattern of another back-end kRemoved then
// kAdded; any other change of a matching port is kChanged. Before a port is reported removed,
// the release hook runs, so the platform stops sampling it before the agent forgets it.
//
// Threading: the event loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "hal/port_inventory.h"

namespace xflowd::agent::os_linux {

// The back-end of the first pattern `name` matches (fnmatch, no flags), if any.
std::optional<config::SampleBackend> MatchBackend(
    const std::vector<config::SamplePattern>& patterns, const std::string& name);

class FilteredPortInventory final : public hal::PortInventory {
 public:
  using ReleaseHook = std::function<void(const hal::PortInfo& port, config::SampleBackend backend)>;
  // Listens to `inner` from now on (and stops in the destructor); `inner` must outlive this.
  FilteredPortInventory(hal::PortInventory& inner, std::vector<config::SamplePattern> patterns);
  ~FilteredPortInventory() override;
  FilteredPortInventory(const FilteredPortInventory&) = delete;
  FilteredPortInventory& operator=(const FilteredPortInventory&) = delete;

  // The matching ports, sorted as the inner inventory sorts them.
  hal::base::Result<std::vector<hal::PortInfo>> ListPorts() override;
  void SetListener(Listener listener) override { listener_ = std::move(listener); }
  void SetReleaseHook(ReleaseHook hook) { release_ = std::move(hook); }

  // A port we report: its info and back-end; nullptr if we do not report it.
  struct Port {
    hal::PortInfo info;
    config::SampleBackend backend;
  };
  const Port* Find(uint32_t ifindex) const;

 private:
  void OnInnerEvent(hal::PortEvent event, const hal::PortInfo& port);
  void Added(const hal::PortInfo& port, config::SampleBackend backend);
  void Removed(uint32_t ifindex);

  hal::PortInventory& inner_;
  std::vector<config::SamplePattern> patterns_;
  std::map<uint32_t, Port> ports_;
  Listener listener_;
  ReleaseHook release_;
};

}  // namespace xflowd::agent::os_linux
