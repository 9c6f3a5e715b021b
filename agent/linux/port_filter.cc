#include "agent/linux/port_filter.h"

#include <fnmatch.h>

#include <utility>

namespace xflowd::agent::os_linux {

using config::SampleBackend;

std::optional<SampleBackend> MatchBackend(const std::vector<config::SamplePattern>& patterns,
                                          const std::string& name) {
  for (const config::SamplePattern& p : patterns) {
    if (fnmatch(p.pattern.c_str(), name.c_str(), 0) == 0) return p.backend;
  }
  return std::nullopt;
}

FilteredPortInventory::FilteredPortInventory(hal::PortInventory& inner,
                                             std::vector<config::SamplePattern> patterns)
    : inner_(inner), patterns_(std::move(patterns)) {
  inner_.SetListener(
      [this](hal::PortEvent event, const hal::PortInfo& port) { OnInnerEvent(event, port); });
}

FilteredPortInventory::~FilteredPortInventory() { inner_.SetListener(nullptr); }

hal::base::Result<std::vector<hal::PortInfo>> FilteredPortInventory::ListPorts() {
  auto all = inner_.ListPorts();
  if (!all.ok()) return all.status();
  std::vector<hal::PortInfo> out;
  std::map<uint32_t, Port> now;
  for (const hal::PortInfo& p : *all) {
    std::optional<SampleBackend> b = MatchBackend(patterns_, p.name);
    if (!b) continue;
    out.push_back(p);
    now[p.ifindex] = Port{p, *b};
  }
  ports_ = std::move(now);
  return out;
}

const FilteredPortInventory::Port* FilteredPortInventory::Find(uint32_t ifindex) const {
  auto it = ports_.find(ifindex);
  return it == ports_.end() ? nullptr : &it->second;
}

void FilteredPortInventory::Added(const hal::PortInfo& port, SampleBackend backend) {
  ports_[port.ifindex] = Port{port, backend};
  if (listener_) listener_(hal::PortEvent::kAdded, port);
}

void FilteredPortInventory::Removed(uint32_t ifindex) {
  auto it = ports_.find(ifindex);
  if (it == ports_.end()) return;
  const Port old = it->second;
  if (release_) release_(old.info, old.backend);
  ports_.erase(ifindex);
  if (listener_) listener_(hal::PortEvent::kRemoved, old.info);
}

void FilteredPortInventory::OnInnerEvent(hal::PortEvent event, const hal::PortInfo& port) {
  const bool known = ports_.count(port.ifindex) > 0;
  switch (event) {
    case hal::PortEvent::kAdded: {
      if (known) Removed(port.ifindex);  // a re-used ifindex we missed the removal of
      std::optional<SampleBackend> b = MatchBackend(patterns_, port.name);
      if (b) Added(port, *b);
      break;
    }
    case hal::PortEvent::kRemoved:
      if (known) Removed(port.ifindex);
      break;
    case hal::PortEvent::kChanged: {
      std::optional<SampleBackend> b = MatchBackend(patterns_, port.name);
      if (known && b && ports_[port.ifindex].backend == *b) {
        ports_[port.ifindex].info = port;
        if (listener_) listener_(hal::PortEvent::kChanged, port);
        break;
      }
      if (known) Removed(port.ifindex);
      if (b) Added(port, *b);
      break;
    }
  }
}

}  // namespace xflowd::agent::os_linux
