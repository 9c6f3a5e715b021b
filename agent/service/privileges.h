// The privilege drop: xflowd started as root opens what needs root (sockets, netlink, tc,
// the control socket, the pid file), then becomes the configured user (service.user) with
// only the capabilities its mode still needs later (docs/usage.md "Running as a service",
// docs/decisions.md D35). Done through libcap-ng when the build has it.
#pragma once

#include <sys/types.h>

#include <string>

#include "agent/config/config.h"
#include "hal/base/log.h"
#include "hal/base/status.h"

namespace xflowd::agent::service {

// The capabilities xflowd may keep after the drop.
struct Capabilities {
  bool net_raw = false;       // AF_PACKET sockets for ports that appear later (-i, afpacket ports)
  bool net_admin = false;     // tc, nft and NFLOG/PSAMPLE netlink writes (psample, nflog ports)
  bool dac_override = false;  // reconnecting to a root-only OVSDB socket (--ovs)
  bool Covers(const Capabilities& other) const {
    return (net_raw || !other.net_raw) && (net_admin || !other.net_admin) &&
           (dac_override || !other.dac_override);
  }
  // "none", "CAP_NET_RAW", "CAP_NET_RAW CAP_NET_ADMIN", "CAP_DAC_OVERRIDE".
  std::string ToString() const;
};

// What the configured mode needs after start: nothing for --sim and -r, CAP_NET_RAW for -i
// and afpacket ports, CAP_NET_ADMIN for psample and nflog ports (patterns and overrides),
// CAP_DAC_OVERRIDE for --ovs (OVSDB's socket is root-only on Debian; it is opened again after
// an ovsdb-server restart).
Capabilities NeededCapabilities(const config::Config& config);

// Whether this build can drop privileges (libcap-ng).
bool HaveCapng();

// Who xflowd becomes, decided once at start.
struct DropPlan {
  bool drop = false;  // false: stay who we are
  std::string user;
  uid_t uid = 0;
  gid_t gid = 0;
};

// The user name of `uid`, or its number.
std::string UserName(uid_t uid);

// service.user checked against this build: without libcap-ng, a user other than root and
// the one running xflowd is an error (the default, unset, is not: see PlanDrop).
hal::base::Status CheckUserSupported(const config::ServiceConfig& service);

// Decides the drop for a process running as `euid`. Not root, or user "root": no drop (a
// debug line). The default user missing: a warning, no drop. A named user missing: an error
// (config::Validate reports it first). A build without libcap-ng: an error for a named user,
// a warning for the default one (it stays root).
hal::base::Result<DropPlan> PlanDrop(const config::ServiceConfig& service, uid_t euid,
                                     hal::base::Logger& logger);

// Becomes plan.user (uid, gid, the user's supplementary groups) keeping exactly `keep` as
// effective and permitted capabilities; the bounding and ambient sets are cleared. Logs one
// info line. Nothing to do when !plan.drop.
hal::base::Status DropPrivileges(const DropPlan& plan, const Capabilities& keep,
                                 hal::base::Logger& logger);

// A reload after the drop: an error naming what `next` needs beyond `kept`.
hal::base::Status CheckReloadCapabilities(const Capabilities& kept, const std::string& user,
                                          const config::Config& next);

}  // namespace xflowd::agent::service
