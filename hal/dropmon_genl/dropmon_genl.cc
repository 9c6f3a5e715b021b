#include "hal/dropmon_genl/dropmon_genl.h"

#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/socket.h>
#include <sys/socket.h>

#include <string>
#include <utility>

#include "hal/dropmon_wire.h"

namespace xflowd::hal::dropmon_genl {
namespace {

using namespace dropmon_wire;  // NOLINT: the wire names

base::Status NlError(const std::string& what, int nl_err) {
  return base::UnavailableError(what + ": " + nl_geterror(nl_err < 0 ? -nl_err : nl_err));
}

struct SockDeleter {
  void operator()(nl_sock* s) const { nl_socket_free(s); }
};
using SockPtr = std::unique_ptr<nl_sock, SockDeleter>;

// Sends one NET_DM command with its attributes and waits for the kernel's answer (an ack or
// an error), or, with wait false, only sends it.
template <typename Fill>
int Command(nl_sock* sock, int family, uint8_t cmd, Fill fill, bool wait = true) {
  nl_msg* msg = nlmsg_alloc();
  if (msg == nullptr) return -NLE_NOMEM;
  int err = 0;
  if (genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, NLM_F_REQUEST | NLM_F_ACK, cmd,
                  kGenlVersion) == nullptr) {
    err = -NLE_NOMEM;
  } else {
    err = fill(msg);
  }
  if (err >= 0) err = nl_send_auto(sock, msg);
  nlmsg_free(msg);
  if (err < 0 || !wait) return err;
  return nl_wait_for_ack(sock);
}

class GenlSession final : public dropmon::DropmonSession {
 public:
  GenlSession(SockPtr sock, int family, bool hardware, base::Logger& logger)
      : sock_(std::move(sock)), family_(family), hardware_(hardware), logger_(logger) {}
  ~GenlSession() override {
    const int err = Command(
        sock_.get(), family_, kCmdStop,
        [this](nl_msg* m) {
          int e = nla_put_flag(m, kAttrSwDrops);
          if (e >= 0 && hardware_) e = nla_put_flag(m, kAttrHwDrops);
          return e;
        },
        false);
    if (err < 0) {
      logger_.Log(base::LogLevel::kWarning,
                  "drop monitor: could not send STOP (%s); the kernel keeps monitoring until "
                  "another program stops it",
                  nl_geterror(-err));
    }
  }

 private:
  SockPtr sock_;
  int family_;
  bool hardware_;
  base::Logger& logger_;
};

}  // namespace

base::Result<std::unique_ptr<dropmon::DropmonSource>> OpenDropMonitor(
    const DropMonitorOptions& options, const base::Clock& clock, base::Logger& logger) {
  if (!options.software && !options.hardware) {
    return base::InvalidArgumentError("drop monitor: neither software nor hardware drops asked");
  }
  SockPtr sock(nl_socket_alloc());
  if (!sock) return base::ResourceExhaustedError("drop monitor: cannot allocate a socket");
  int err = genl_connect(sock.get());
  if (err < 0) return NlError("drop monitor: cannot open a generic netlink socket", err);
  const int family = genl_ctrl_resolve(sock.get(), kFamilyName);
  if (family < 0) {
    if (family == -NLE_OBJ_NOTFOUND) {
      return base::UnavailableError(
          "drop monitor: the kernel has no \"NET_DM\" generic netlink family (needs "
          "CONFIG_NET_DROP_MONITOR; modprobe drop_monitor)");
    }
    return NlError("drop monitor: cannot resolve the \"NET_DM\" family", family);
  }
  const int group = genl_ctrl_resolve_grp(sock.get(), kFamilyName, kEventsGroupName);
  if (group < 0) return NlError("drop monitor: NET_DM has no \"events\" group", group);

  err = Command(sock.get(), family, kCmdConfig, [&](nl_msg* m) {
    int e = nla_put_u8(m, kAttrAlertMode, kAlertModePacket);
    if (e >= 0) e = nla_put_u32(m, kAttrTruncLen, options.truncate_bytes);
    if (e >= 0) e = nla_put_u32(m, kAttrQueueLen, options.queue_length);
    return e;
  });
  if (err < 0) {
    if (err == -NLE_BUSY) {
      return base::UnavailableError(
          "drop monitor: already running for another program (dropwatch, hsflowd?): stop it "
          "first");
    }
    if (err == -NLE_PERM) {
      return base::PermissionDeniedError("drop monitor: configuring it needs CAP_NET_ADMIN");
    }
    return NlError("drop monitor: NET_DM_CMD_CONFIG (packet alert mode) failed", err);
  }
  bool hardware = options.hardware;
  auto start = [&](bool hw) {
    return Command(sock.get(), family, kCmdStart, [&](nl_msg* m) {
      int e = options.software ? nla_put_flag(m, kAttrSwDrops) : 0;
      if (e >= 0 && hw) e = nla_put_flag(m, kAttrHwDrops);
      return e;
    });
  };
  err = start(hardware);
  if (err < 0 && hardware && options.software) {
    // Kernels before 5.6 know no hardware drops; keep the software ones.
    logger.Log(base::LogLevel::kWarning,
               "drop monitor: hardware drops unavailable (%s); software drops only",
               nl_geterror(-err));
    hardware = false;
    err = start(false);
  }
  if (err < 0) {
    if (err == -NLE_BUSY) {
      return base::UnavailableError(
          "drop monitor: already running for another program (dropwatch, hsflowd?): stop it "
          "first");
    }
    return NlError("drop monitor: NET_DM_CMD_START failed", err);
  }
  nl_socket_disable_seq_check(sock.get());
  err = nl_socket_add_membership(sock.get(), group);
  if (err < 0) return NlError("drop monitor: cannot join the \"events\" group", err);
  const int fd = nl_socket_get_fd(sock.get());
  int bytes = options.rcvbuf_bytes;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) != 0) {
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
  }
  auto session = std::make_unique<GenlSession>(std::move(sock), family, hardware, logger);
  return dropmon::DropmonSource::FromFd(fd, static_cast<uint16_t>(family), std::move(session),
                                        clock, logger);
}

}  // namespace xflowd::hal::dropmon_genl
