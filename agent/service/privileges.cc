#include "agent/service/privileges.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#ifdef XFLOWD_HAVE_CAPNG
#include <cap-ng.h>
#include <linux/capability.h>
#endif

namespace xflowd::agent::service {

using hal::base::InvalidArgumentError;
using hal::base::LogLevel;
using hal::base::Result;
using hal::base::Status;

std::string Capabilities::ToString() const {
  std::string s;
  if (net_raw) s += "CAP_NET_RAW";
  if (net_admin) s += std::string(s.empty() ? "" : " ") + "CAP_NET_ADMIN";
  if (dac_override) s += std::string(s.empty() ? "" : " ") + "CAP_DAC_OVERRIDE";
  return s.empty() ? "none" : s;
}

Capabilities NeededCapabilities(const config::Config& config) {
  Capabilities c;
  auto add = [&c](config::SampleBackend b) {
    if (b == config::SampleBackend::kAfPacket) {
      c.net_raw = true;
    } else {
      c.net_admin = true;  // psample: tc + the PSAMPLE group; nflog: NFLOG bind + nft
    }
  };
  switch (config.source.kind) {
    case config::SourceKind::kSim:
    case config::SourceKind::kFile:
    // A vendor plugin opens its SDK's devices in init, before the drop (docs/porting.md).
    case config::SourceKind::kVendor:
      break;
    case config::SourceKind::kOvs:
      c.dac_override = true;  // db.sock is root-only on Debian; reconnects open it again
      break;
    case config::SourceKind::kInterface:
      c.net_raw = true;  // the capture is re-opened when the interface comes back
      break;
    case config::SourceKind::kLinux:
      for (const config::SamplePattern& p : config.source.linux_ports.patterns) add(p.backend);
      for (const config::PortOverride& o : config.ports.overrides) {
        if (o.backend) add(*o.backend);
      }
      if (!c.net_raw && !c.net_admin) c.net_raw = true;  // afpacket is the default back-end
      // The drop monitor's STOP at exit is a netlink write: without it the kernel keeps
      // monitoring after xflowd is gone.
      if (config.drops.enabled) c.net_admin = true;
      break;
  }
  return c;
}

bool HaveCapng() {
#ifdef XFLOWD_HAVE_CAPNG
  return true;
#else
  return false;
#endif
}

std::string UserName(uid_t uid) {
  const struct passwd* pw = getpwuid(uid);
  return pw != nullptr ? std::string(pw->pw_name) : std::to_string(uid);
}

Status CheckUserSupported(const config::ServiceConfig& service) {
  if (HaveCapng() || !service.user || *service.user == "root") return Status::Ok();
  if (*service.user == UserName(geteuid())) return Status::Ok();
  return InvalidArgumentError(
      "service.user: this build has no libcap-ng, so xflowd cannot become '" + *service.user +
      "'; run it as that user, or set \"root\"");
}

Result<DropPlan> PlanDrop(const config::ServiceConfig& service, uid_t euid,
                          hal::base::Logger& logger) {
  DropPlan plan;
  const std::string& user = service.effective_user();
  if (euid != 0) {
    logger.Log(LogLevel::kDebug, "running as %s, not root: no user switch", UserName(euid).c_str());
    return plan;
  }
  if (user == "root") {
    logger.Log(LogLevel::kDebug, "service.user is root: staying root");
    return plan;
  }
  const struct passwd* pw = getpwnam(user.c_str());
  if (pw == nullptr) {
    if (service.user) {
      return InvalidArgumentError("service.user: no user named '" + user + "' on this host");
    }
    logger.Log(LogLevel::kWarning,
               "user %s does not exist; staying root — create it or set service.user",
               user.c_str());
    return plan;
  }
  if (!HaveCapng()) {
    if (service.user) XFLOWD_RETURN_IF_ERROR(CheckUserSupported(service));
    logger.Log(LogLevel::kWarning,
               "this build has no libcap-ng: cannot become user %s; staying root", user.c_str());
    return plan;
  }
  if (pw->pw_uid == 0) {
    logger.Log(LogLevel::kDebug, "service.user %s has uid 0: staying root", user.c_str());
    return plan;
  }
  plan.drop = true;
  plan.user = user;
  plan.uid = pw->pw_uid;
  plan.gid = pw->pw_gid;
  return plan;
}

Status DropPrivileges(const DropPlan& plan, const Capabilities& keep, hal::base::Logger& logger) {
  if (!plan.drop) return Status::Ok();
#ifdef XFLOWD_HAVE_CAPNG
  // Clearing the bounding set needs CAP_SETPCAP; a service manager that already narrowed the
  // bounding set may have taken it (CapabilityBoundingSet=): then the set stays as it gave it.
  capng_get_caps_process();
  const bool can_clear_bounding = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP) != 0;
  capng_clear(CAPNG_SELECT_ALL);
  const auto set = static_cast<capng_type_t>(CAPNG_EFFECTIVE | CAPNG_PERMITTED);
  if (keep.net_raw && capng_update(CAPNG_ADD, set, CAP_NET_RAW) != 0) {
    return hal::base::InternalError("capng_update CAP_NET_RAW failed");
  }
  if (keep.net_admin && capng_update(CAPNG_ADD, set, CAP_NET_ADMIN) != 0) {
    return hal::base::InternalError("capng_update CAP_NET_ADMIN failed");
  }
  if (keep.dac_override && capng_update(CAPNG_ADD, set, CAP_DAC_OVERRIDE) != 0) {
    return hal::base::InternalError("capng_update CAP_DAC_OVERRIDE failed");
  }
  const auto flags = static_cast<capng_flags_t>(CAPNG_INIT_SUPP_GRP | CAPNG_CLEAR_AMBIENT |
                                                (can_clear_bounding ? CAPNG_CLEAR_BOUNDING : 0));
  const int rc = capng_change_id(static_cast<int>(plan.uid), static_cast<int>(plan.gid), flags);
  if (rc != 0) {
    return hal::base::PermissionDeniedError("cannot become user " + plan.user +
                                            " (capng_change_id returned " + std::to_string(rc) +
                                            ")");
  }
  // Trust, but check: a half-done switch must not run on.
  if (getuid() != plan.uid || geteuid() != plan.uid || getgid() != plan.gid ||
      getegid() != plan.gid) {
    return hal::base::PermissionDeniedError("the switch to user " + plan.user + " did not hold");
  }
  logger.Log(LogLevel::kInfo, "running as user %s (uid %u, gid %u), capabilities: %s",
             plan.user.c_str(), static_cast<unsigned>(plan.uid), static_cast<unsigned>(plan.gid),
             keep.ToString().c_str());
  if (!can_clear_bounding) {
    logger.Log(LogLevel::kDebug, "no CAP_SETPCAP: the bounding set is left as it was given");
  }
  return Status::Ok();
#else
  (void)keep;
  (void)logger;
  return hal::base::UnimplementedError("this build has no libcap-ng: cannot become user " +
                                       plan.user);
#endif
}

Status CheckReloadCapabilities(const Capabilities& kept, const std::string& user,
                               const config::Config& next) {
  const Capabilities needed = NeededCapabilities(next);
  if (kept.Covers(needed)) return Status::Ok();
  Capabilities missing;
  missing.net_raw = needed.net_raw && !kept.net_raw;
  missing.net_admin = needed.net_admin && !kept.net_admin;
  missing.dac_override = needed.dac_override && !kept.dac_override;
  const char* why = missing.net_admin      ? "psample or nflog ports, or the drop monitor"
                    : missing.dac_override ? "the OVSDB socket"
                                           : "afpacket ports";
  return InvalidArgumentError("this configuration needs " + missing.ToString() + " (" + why +
                              "), which xflowd gave up when it became user " + user +
                              " at start; restart it to apply that");
}

}  // namespace xflowd::agent::service
