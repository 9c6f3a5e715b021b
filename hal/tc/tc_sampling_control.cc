#include "hal/tc/tc_sampling_control.h"

#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace xflowd::hal::tc {
namespace {

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif
#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

constexpr size_t kRxBytes = 64 * 1024;

const char* DirName(Direction d) { return d == Direction::kIngress ? "ingress" : "egress"; }

std::string Where(uint32_t ifindex, Direction d) {
  return "tc: ifindex " + std::to_string(ifindex) + " " + DirName(d);
}

std::string Detail(const NetlinkAck& a) {
  std::string s = std::strerror(-a.error);
  if (!a.ext_message.empty()) s += " (kernel: " + a.ext_message + ")";
  return s;
}

bool Contains(const std::string& s, const char* what) { return s.find(what) != std::string::npos; }

// Errors every request shares.
base::Status CommonError(const std::string& where, const NetlinkAck& a) {
  if (a.error == -EPERM || a.error == -EACCES) {
    return base::PermissionDeniedError(where + ": " + Detail(a) + "; tc needs CAP_NET_ADMIN");
  }
  if (a.error == -ENODEV) return base::NotFoundError(where + ": no such network device");
  return base::InternalError(where + ": " + Detail(a));
}

base::Status ClsactError(const std::string& where, const NetlinkAck& a) {
  if (a.error == -ENOENT || Contains(a.ext_message, "kind is unknown")) {
    return base::UnavailableError(where +
                                  ": tc qdisc clsact is not available in this kernel "
                                  "(CONFIG_NET_SCH_INGRESS): " +
                                  Detail(a));
  }
  return CommonError(where + ": adding the clsact qdisc", a);
}

base::Status FilterError(const std::string& where, const NetlinkAck& a, uint32_t flags) {
  // tcf_proto_lookup_ops: "TC classifier not found"; tc_action_load_ops: "Failed to load TC
  // action module". Both ENOENT once the module could not be loaded.
  if (a.error == -ENOENT) {
    if (Contains(a.ext_message, "classifier")) {
      return base::UnavailableError(where +
                                    ": tc classifier matchall is not available in this "
                                    "kernel (CONFIG_NET_CLS_MATCHALL): " +
                                    Detail(a));
    }
    if (Contains(a.ext_message, "action")) {
      return base::UnavailableError(where +
                                    ": tc action sample is not available in this kernel "
                                    "(CONFIG_NET_ACT_SAMPLE, which needs CONFIG_PSAMPLE): " +
                                    Detail(a));
    }
    return base::UnavailableError(
        where +
        ": tc classifier matchall or tc action sample is not available in this kernel "
        "(CONFIG_NET_CLS_MATCHALL, CONFIG_NET_ACT_SAMPLE): " +
        Detail(a));
  }
  if (a.error == -EOPNOTSUPP && (flags & kTcaClsFlagsSkipSw)) {
    return base::UnavailableError(where +
                                  ": the device cannot sample in hardware (skip_sw): " + Detail(a));
  }
  return CommonError(where + ": adding the matchall sample filter", a);
}

}  // namespace

TcSamplingControl::TcSamplingControl(int fd, const TcSamplingOptions& options)
    : fd_(fd), options_(options), rx_(kRxBytes) {}

TcSamplingControl::~TcSamplingControl() {
  (void)RemoveAll();
  if (fd_ >= 0) close(fd_);
}

base::Result<std::unique_ptr<TcSamplingControl>> TcSamplingControl::Create(
    const TcSamplingOptions& options) {
  const int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return base::ErrnoError("tc: cannot open a NETLINK_ROUTE socket", errno);
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
    const int e = errno;
    close(fd);
    return base::ErrnoError("tc: cannot bind the NETLINK_ROUTE socket", e);
  }
  const int one = 1;
  // Both are best effort: without them errors lose the kernel's text, or ACKs get longer.
  (void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
  (void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
  return FromFd(fd, options);
}

base::Result<std::unique_ptr<TcSamplingControl>> TcSamplingControl::FromFd(
    int fd, const TcSamplingOptions& options) {
  if (fd < 0) return base::InvalidArgumentError("tc: invalid file descriptor");
  return std::unique_ptr<TcSamplingControl>(new TcSamplingControl(fd, options));
}

base::Result<NetlinkAck> TcSamplingControl::Transact(std::vector<uint8_t> request,
                                                     AppliedSampleFilter* filter, bool* found) {
  uint32_t seq = 0;
  std::memcpy(&seq, request.data() + 8, 4);
  ssize_t w;
  do {
    w = send(fd_, request.data(), request.size(), MSG_NOSIGNAL);
  } while (w < 0 && errno == EINTR);
  if (w != static_cast<ssize_t>(request.size())) {
    return base::ErrnoError("tc: sending a netlink request", w < 0 ? errno : EMSGSIZE);
  }
  // Other messages (stale answers, notifications) are skipped; bounded so a chatty peer cannot
  // keep us here.
  for (int reads = 0; reads < 256; ++reads) {
    pollfd p{fd_, POLLIN, 0};
    const int pr = poll(&p, 1, options_.timeout_ms);
    if (pr < 0 && errno == EINTR) continue;
    if (pr < 0) return base::ErrnoError("tc: waiting for the kernel's answer", errno);
    if (pr == 0) {
      return base::UnavailableError("tc: no answer from the kernel within " +
                                    std::to_string(options_.timeout_ms) + " ms");
    }
    const ssize_t r = recv(fd_, rx_.data(), rx_.size(), MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      return base::ErrnoError("tc: reading the kernel's answer", errno);
    }
    if (r == 0) return base::UnavailableError("tc: the netlink peer closed the socket");
    const base::ByteView got(rx_.data(), static_cast<size_t>(r));
    if (filter != nullptr && ParseSampleFilter(got, seq, filter)) *found = true;
    NetlinkAck ack;
    if (FindAck(got, seq, &ack)) return ack;
  }
  return base::InternalError("tc: no answer to request " + std::to_string(seq));
}

SampleFilter TcSamplingControl::FilterFor(uint32_t ifindex, Direction direction) const {
  SampleFilter f;
  f.ifindex = ifindex;
  f.direction = direction;
  f.priority = options_.priority;
  f.handle = options_.handle;
  f.group = direction == Direction::kIngress ? options_.ingress_group : options_.egress_group;
  f.matchall_flags = options_.matchall_flags;
  return f;
}

base::Status TcSamplingControl::RemoveFilter(uint32_t ifindex, Direction direction, Port& port) {
  uint32_t& rate = port.rate[static_cast<int>(direction)];
  if (rate == 0) return base::Status::Ok();
  auto ack = Transact(BuildDeleteSampleFilterRequest(FilterFor(ifindex, direction), ++seq_));
  if (!ack.ok()) return ack.status();
  // ENOENT / ENODEV: already gone (someone else removed it, or the port went away).
  if (ack->error != 0 && ack->error != -ENOENT && ack->error != -ENODEV) {
    return CommonError(Where(ifindex, direction) + ": deleting the sample filter", *ack);
  }
  rate = 0;
  return base::Status::Ok();
}

base::Status TcSamplingControl::MaybeRemoveClsact(uint32_t ifindex, Port& port) {
  if (!port.clsact_ours || port.rate[0] != 0 || port.rate[1] != 0) return base::Status::Ok();
  auto ack = Transact(BuildDeleteClsactRequest(ifindex, ++seq_));
  if (!ack.ok()) return ack.status();
  if (ack->error != 0 && ack->error != -ENOENT && ack->error != -ENODEV && ack->error != -EINVAL) {
    return CommonError("tc: ifindex " + std::to_string(ifindex) + ": deleting the clsact qdisc",
                       *ack);
  }
  port.clsact_ours = false;
  port.clsact_checked = false;
  return base::Status::Ok();
}

base::Result<uint32_t> TcSamplingControl::SetSamplingRate(uint32_t ifindex, Direction direction,
                                                          uint32_t rate, uint32_t header_bytes) {
  if (ifindex == 0) return base::InvalidArgumentError("tc: ifindex 0 is not a port");
  const std::string where = Where(ifindex, direction);
  Port& port = ports_[ifindex];
  if (rate == 0) {
    XFLOWD_RETURN_IF_ERROR(RemoveFilter(ifindex, direction, port));
    XFLOWD_RETURN_IF_ERROR(MaybeRemoveClsact(ifindex, port));
    return uint32_t{0};
  }

  if (!port.clsact_checked) {
    auto ack = Transact(BuildAddClsactRequest(ifindex, ++seq_));
    if (!ack.ok()) return ack.status();
    if (ack->error == 0) {
      port.clsact_ours = true;
    } else if (ack->error != -EEXIST) {
      return ClsactError(where, *ack);
    }
    port.clsact_checked = true;
  }

  SampleFilter f = FilterFor(ifindex, direction);
  f.rate = rate;
  f.trunc_size = header_bytes;
  auto ack = Transact(BuildAddSampleFilterRequest(f, ++seq_));
  if (!ack.ok()) return ack.status();
  if (ack->error != 0) {
    base::Status err = FilterError(where, *ack, options_.matchall_flags);
    // Leave the port as we found it: a clsact we created with nothing of ours on it goes.
    (void)MaybeRemoveClsact(ifindex, port);
    return err;
  }
  const uint32_t applied = ReadBackRate(ifindex, direction, rate);
  port.rate[static_cast<int>(direction)] = applied;
  return applied;
}

uint32_t TcSamplingControl::ReadBackRate(uint32_t ifindex, Direction direction, uint32_t asked) {
  AppliedSampleFilter f;
  bool found = false;
  auto ack =
      Transact(BuildGetSampleFilterRequest(FilterFor(ifindex, direction), ++seq_), &f, &found);
  if (!ack.ok() || ack->error != 0 || !found || f.rate == 0) {
    ++readback_failures_;
    if (options_.logger != nullptr) {
      const std::string why = !ack.ok()         ? ack.status().message()
                              : ack->error != 0 ? Detail(*ack)
                                                : std::string("no sample filter in the answer");
      options_.logger->Log(base::LogLevel::kWarning,
                           "%s: cannot read the applied sampling rate back (%s); reporting the "
                           "rate asked for, 1-in-%u",
                           Where(ifindex, direction).c_str(), why.c_str(), asked);
    }
    return asked;
  }
  return f.rate;
}

base::Status TcSamplingControl::RemoveAll() {
  base::Status first;
  for (auto& [ifindex, port] : ports_) {
    for (Direction d : {Direction::kIngress, Direction::kEgress}) {
      base::Status s = RemoveFilter(ifindex, d, port);
      if (!s.ok() && first.ok()) first = s;
    }
    base::Status s = MaybeRemoveClsact(ifindex, port);
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

uint32_t TcSamplingControl::applied_rate(uint32_t ifindex, Direction direction) const {
  auto it = ports_.find(ifindex);
  return it == ports_.end() ? 0 : it->second.rate[static_cast<int>(direction)];
}

}  // namespace xflowd::hal::tc
