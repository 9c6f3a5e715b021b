// PortInventory: which ports exist, with their static properties, and change events.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "hal/base/status.h"

namespace xflowd::hal {

struct PortInfo {
  uint32_t ifindex = 0;
  std::string name;        // "swp1", "eth0"
  std::string alias;       // ifAlias, may be empty
  uint64_t speed_bps = 0;  // 0 = unknown
  uint32_t if_type = 6;    // IANAifType; 6 = ethernetCsmacd
  // ifDirection as sFlow encodes it: 0 unknown, 1 full-duplex, 2 half-duplex, 3 in, 4 out.
  uint32_t duplex = 0;
  bool admin_up = false;
  bool oper_up = false;
  bool promiscuous = false;
  uint8_t mac[6] = {};
  // The 802.1Q VLAN id when the port is a VLAN device (Linux: IFLA_INFO_KIND "vlan"), whose
  // counter samples then carry a VLAN counters record; 0 = not a VLAN device.
  uint16_t vlan_id = 0;
};

enum class PortEvent { kAdded, kRemoved, kChanged };

class PortInventory {
 public:
  using Listener = std::function<void(PortEvent, const PortInfo&)>;
  virtual ~PortInventory() = default;
  virtual base::Result<std::vector<PortInfo>> ListPorts() = 0;
  // Called (from the event loop thread) after ports appear, disappear or change.
  virtual void SetListener(Listener listener) = 0;
};

}  // namespace xflowd::hal
