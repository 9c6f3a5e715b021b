#include "hal/pcap/pcap_live_source.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

namespace xflowd::hal::pcap {

using base::Result;
using base::Status;

namespace {

constexpr int kDltLinuxSll2 = 276;  // DLT_LINUX_SLL2; older pcap headers lack the name
constexpr size_t kSll2IfindexOffset = 4;

// Closes the handle unless released (Create's early returns).
struct HandleGuard {
  pcap_t* p;
  ~HandleGuard() {
    if (p) pcap_close(p);
  }
};

Status ActivateError(int rc, pcap_t* p, const std::string& ifname) {
  const std::string detail = pcap_geterr(p);
  switch (rc) {
    case PCAP_ERROR_NO_SUCH_DEVICE:
      return base::NotFoundError("interface " + ifname + " does not exist: " + detail);
    case PCAP_ERROR_PERM_DENIED:
    case PCAP_ERROR_PROMISC_PERM_DENIED:
      return base::PermissionDeniedError("capturing on " + ifname +
                                         " needs root or CAP_NET_RAW: " + detail);
    case PCAP_ERROR_IFACE_NOT_UP:
      return base::UnavailableError("interface " + ifname + " is down");
    case PCAP_ERROR_RFMON_NOTSUP:
      return base::InvalidArgumentError("cannot capture on " + ifname + ": " + detail);
    default:
      return base::UnavailableError("cannot capture on " + ifname + ": " + pcap_statustostr(rc) +
                                    ": " + detail);
  }
}

}  // namespace

std::string ExclusionFilter(const std::vector<base::Endpoint>& collectors) {
  std::string f;
  for (const base::Endpoint& c : collectors) {
    const std::string h = c.address.ToString();
    const std::string p = std::to_string(c.port);
    if (!f.empty()) f += " and ";
    f += "not (udp and dst host " + h + " and dst port " + p + ") and not (tcp and host " + h +
         " and port " + p + ")";
  }
  return f;
}

namespace {

// One activated capture, ready to poll.
struct Opened {
  pcap_t* handle = nullptr;
  int fd = -1;
  uint32_t ifindex = 0;
  LinkType link = LinkType::kEthernet;
  std::string filter;
};

Result<Opened> OpenCapture(const PcapLiveOptions& options) {
  const std::string& ifname = options.interface;
  // "any" (every interface, Linux cooked headers) has no ifindex: samples take theirs from SLL2.
  const bool any = ifname == kAnyInterface;
  const unsigned ifindex = any ? 0 : if_nametoindex(ifname.c_str());
  if (ifindex == 0 && !any) return base::NotFoundError("interface " + ifname + " does not exist");

  char errbuf[PCAP_ERRBUF_SIZE] = {};
  HandleGuard g{pcap_create(ifname.c_str(), errbuf)};
  if (g.p == nullptr) return base::UnavailableError("pcap_create(" + ifname + "): " + errbuf);
  pcap_t* p = g.p;
  const uint32_t snaplen = options.snaplen > INT_MAX ? INT_MAX : options.snaplen;
  const uint32_t buffer = options.buffer_bytes > INT_MAX ? INT_MAX : options.buffer_bytes;
  if (pcap_set_snaplen(p, static_cast<int>(snaplen)) != 0 ||
      pcap_set_promisc(p, options.promiscuous ? 1 : 0) != 0 ||
      pcap_set_timeout(p, static_cast<int>(options.block_timeout_ms)) != 0 ||
      pcap_set_immediate_mode(p, options.immediate ? 1 : 0) != 0 ||
      (buffer > 0 && pcap_set_buffer_size(p, static_cast<int>(buffer)) != 0)) {
    return base::InternalError("pcap: setting capture options on " + ifname + " failed");
  }
  const int rc = pcap_activate(p);
  if (rc < 0) return ActivateError(rc, p, ifname);
  // rc > 0 is a warning (e.g. promiscuous mode not supported): the capture works.

  // SLL2 carries each packet's ifindex (libpcap 1.10+); v1 stays if it is refused.
  if (any) pcap_set_datalink(p, kDltLinuxSll2);
  const int dlt = pcap_datalink(p);
  LinkType link = LinkType::kEthernet;
  if (dlt < 0 || !LinkTypeFromPcap(static_cast<uint32_t>(dlt), &link)) {
    const char* name = pcap_datalink_val_to_name(dlt);
    return base::InvalidArgumentError("interface " + ifname + " has link type " +
                                      std::to_string(dlt) + " (" + (name ? name : "unknown") +
                                      "); supported are " + kSupportedPcapLinkTypes);
  }
  if (options.ingress_only && pcap_setdirection(p, PCAP_D_IN) != 0) {
    return base::UnavailableError("pcap: ingress-only capture on " + ifname + ": " +
                                  pcap_geterr(p));
  }
  std::string filter = ExclusionFilter(options.exclude_collectors);
  if (!filter.empty()) {
    struct bpf_program prog;
    if (pcap_compile(p, &prog, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
      return base::InvalidArgumentError("pcap: cannot compile filter '" + filter +
                                        "': " + pcap_geterr(p));
    }
    const int set = pcap_setfilter(p, &prog);
    pcap_freecode(&prog);
    if (set != 0) {
      return base::UnavailableError("pcap: cannot install filter on " + ifname + ": " +
                                    pcap_geterr(p));
    }
  }
  if (pcap_setnonblock(p, 1, errbuf) != 0) {
    return base::UnavailableError("pcap: non-blocking mode on " + ifname + ": " + errbuf);
  }
  const int fd = pcap_get_selectable_fd(p);
  if (fd < 0) return base::UnavailableError("pcap: " + ifname + " has no selectable fd");
  g.p = nullptr;
  Opened o;
  o.handle = p;
  o.fd = fd;
  o.ifindex = ifindex;
  o.link = link;
  o.filter = std::move(filter);
  return o;
}

}  // namespace

Result<std::unique_ptr<PcapLiveSource>> PcapLiveSource::Create(const PcapLiveOptions& options,
                                                               const base::Clock& clock,
                                                               base::Logger& logger) {
  if (options.interface.empty()) return base::InvalidArgumentError("pcap: no interface given");
  if (options.snaplen == 0) return base::InvalidArgumentError("pcap: snaplen must be > 0");
  if (options.block_timeout_ms == 0 || options.block_timeout_ms > INT_MAX) {
    return base::InvalidArgumentError("pcap: block timeout must be 1.." + std::to_string(INT_MAX) +
                                      " ms");
  }
  if (options.reopen_min_ms == 0 || options.reopen_max_ms < options.reopen_min_ms) {
    return base::InvalidArgumentError("pcap: re-open backoff must be 0 < min <= max");
  }
  for (const base::Endpoint& c : options.exclude_collectors) {
    if (c.address.family() == base::IpAddress::Family::kNone || c.port == 0) {
      return base::InvalidArgumentError("pcap: collector to exclude needs an address and a port");
    }
  }
  std::unique_ptr<PcapLiveSource> s(new PcapLiveSource(options, clock, logger));
  XFLOWD_RETURN_IF_ERROR(s->Init());
  return s;
}

PcapLiveSource::PcapLiveSource(const PcapLiveOptions& options, const base::Clock& clock,
                               base::Logger& logger)
    : options_(options),
      clock_(clock),
      logger_(logger),
      sampler_(options.sampling_rate, options.seed) {
  sample_.direction = Direction::kIngress;
  sample_.sampling_rate = sampler_.rate();
}

Status PcapLiveSource::Init() {
  auto opened = OpenCapture(options_);
  if (!opened.ok()) return opened.status();
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) {
    pcap_close(opened->handle);
    return base::ErrnoError("epoll_create1", errno);
  }
  retry_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  epoll_event ev = {};
  ev.events = EPOLLIN;
  ev.data.fd = retry_fd_;
  if (retry_fd_ < 0 || epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, retry_fd_, &ev) != 0) {
    pcap_close(opened->handle);
    return base::ErrnoError("pcap: re-open timer", errno);
  }
  Attach(opened->handle, opened->fd, opened->ifindex, opened->link, std::move(opened->filter));
  if (handle_ == nullptr) return base::UnavailableError("pcap: cannot poll " + options_.interface);
  // Link messages only make the log and the re-open quicker: without them, retries still work.
  link_fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
  sockaddr_nl sa = {};
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = RTMGRP_LINK;
  if (link_fd_ >= 0 && bind(link_fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    close(link_fd_);
    link_fd_ = -1;
  }
  return Status::Ok();
}

// Takes the capture and polls its fd through our epoll set.
void PcapLiveSource::Attach(pcap_t* handle, int fd, uint32_t ifindex, LinkType link,
                            std::string filter) {
  epoll_event ev = {};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    last_error_ = std::string("epoll_ctl: ") + std::strerror(errno);
    pcap_close(handle);
    return;
  }
  handle_ = handle;
  fd_ = fd;
  ifindex_ = ifindex;
  filter_ = std::move(filter);
  sample_.input_ifindex = ifindex_;
  sample_.link_type = link;
}

PcapLiveSource::~PcapLiveSource() {
  if (handle_ != nullptr) pcap_close(handle_);
  if (retry_fd_ >= 0) close(retry_fd_);
  if (link_fd_ >= 0) close(link_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

void PcapLiveSource::ArmRetry() {
  itimerspec its = {};
  its.it_value.tv_sec = static_cast<time_t>(retry_ms_ / 1000);
  its.it_value.tv_nsec = static_cast<long>(retry_ms_ % 1000) * 1000000L;
  timerfd_settime(retry_fd_, 0, &its, nullptr);
}

void PcapLiveSource::Lose(const std::string& why) {
  ++losses_;
  last_error_ = why;
  struct pcap_stat ps = {};
  if (pcap_stats(handle_, &ps) == 0) closed_drops_ += ps.ps_drop;
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd_, nullptr);
  pcap_close(handle_);
  handle_ = nullptr;
  fd_ = -1;
  lost_at_ = clock_.Now();
  retry_ms_ = options_.reopen_min_ms;
  retry_error_.clear();
  ArmRetry();
  logger_.Log(base::LogLevel::kWarning,
              "-i %s: capture lost (%s); flows in the cache are kept, the capture re-opens "
              "when the interface is up again",
              options_.interface.c_str(), why.c_str());
}

void PcapLiveSource::TryReopen() {
  uint64_t expirations = 0;
  if (read(retry_fd_, &expirations, sizeof(expirations)) != sizeof(expirations) ||
      expirations == 0) {
    return;  // not due yet
  }
  auto opened = OpenCapture(options_);
  if (!opened.ok()) {
    // Still down or gone: expected, logged once per kind of failure.
    if (opened.status().message() != retry_error_) {
      retry_error_ = opened.status().message();
      logger_.Log(base::LogLevel::kInfo, "-i %s: not re-opened yet: %s; retrying",
                  options_.interface.c_str(), retry_error_.c_str());
    }
    retry_ms_ = std::min(options_.reopen_max_ms, retry_ms_ * 2);
    ArmRetry();
    return;
  }
  const uint32_t old_ifindex = ifindex_;
  Attach(opened->handle, opened->fd, opened->ifindex, opened->link, std::move(opened->filter));
  if (handle_ == nullptr) {
    ArmRetry();
    return;
  }
  ++reopens_;
  const double down_s = static_cast<double>((clock_.Now() - lost_at_).count()) / 1e9;
  char recreated[64] = "";
  if (ifindex_ != old_ifindex) {
    std::snprintf(recreated, sizeof(recreated), " (re-created: ifindex %u -> %u)", old_ifindex,
                  ifindex_);
  }
  logger_.Log(base::LogLevel::kInfo, "-i %s: capture re-opened after %.1f s%s",
              options_.interface.c_str(), down_s, recreated);
}

void PcapLiveSource::OnPacket(unsigned char* user, const ::pcap_pkthdr* h,
                              const unsigned char* bytes) {
  auto* self = reinterpret_cast<PcapLiveSource*>(user);
  ++self->packets_read_;
  if (!self->sampler_.Take()) return;
  // libpcap puts a VLAN tag the kernel stripped back into the bytes (and counts it in len).
  self->sample_.frame_length = h->len;
  self->sample_.header = base::ByteView(bytes, h->caplen);
  if (self->sample_.link_type == LinkType::kLinuxSll2) {
    uint32_t ifindex = 0;  // SLL2 bytes 4..7, network order
    self->sample_.header.U32At(kSll2IfindexOffset, &ifindex);
    self->sample_.input_ifindex = ifindex;
  }
  self->sink_->OnSample(self->sample_);
  ++self->delivered_;
}

void PcapLiveSource::ProcessLinkEvents() {
  if (link_fd_ < 0) return;
  alignas(nlmsghdr) unsigned char buf[16384];
  for (;;) {
    const ssize_t n = recv(link_fd_, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // EAGAIN: all read; ENOBUFS: some lost, the next ones still count
    int left = static_cast<int>(n);
    for (const nlmsghdr* h = reinterpret_cast<const nlmsghdr*>(buf); NLMSG_OK(h, left);
         h = NLMSG_NEXT(h, left)) {
      if ((h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK) ||
          h->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg))) {
        continue;
      }
      const auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(h));
      int attr_len = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof(ifinfomsg)));
      bool ours = false;
      for (const rtattr* a = IFLA_RTA(ifi); RTA_OK(a, attr_len); a = RTA_NEXT(a, attr_len)) {
        if (a->rta_type != IFLA_IFNAME) continue;
        const char* name = static_cast<const char*>(RTA_DATA(a));
        ours =
            strnlen(name, RTA_PAYLOAD(a)) == options_.interface.size() &&
            options_.interface.compare(0, std::string::npos, name, options_.interface.size()) == 0;
      }
      if (!ours) continue;
      // A deletion comes as a NEWLINK (down) then the DELLINK; each is logged, one is counted.
      if (h->nlmsg_type == RTM_DELLINK) {
        if (link_up_) ++link_downs_;
        link_up_ = false;
        logger_.Log(base::LogLevel::kWarning, "-i %s: interface deleted (ifindex %d)",
                    options_.interface.c_str(), ifi->ifi_index);
        continue;
      }
      const bool up = (ifi->ifi_flags & IFF_UP) && (ifi->ifi_flags & IFF_RUNNING);
      if (up == link_up_) continue;
      link_up_ = up;
      if (!up) {
        ++link_downs_;
        logger_.Log(base::LogLevel::kWarning, "-i %s: %s (ifindex %d)", options_.interface.c_str(),
                    (ifi->ifi_flags & IFF_UP) ? "link down (no carrier)" : "link set down",
                    ifi->ifi_index);
        continue;
      }
      logger_.Log(base::LogLevel::kInfo, "-i %s: link up (ifindex %d)", options_.interface.c_str(),
                  ifi->ifi_index);
      if (handle_ == nullptr) {
        // Re-open now rather than at the next backoff step.
        retry_ms_ = options_.reopen_min_ms;
        itimerspec its = {};
        its.it_value.tv_nsec = 1;
        timerfd_settime(retry_fd_, 0, &its, nullptr);
      }
    }
  }
}

size_t PcapLiveSource::Drain(PacketSampleSink& sink, size_t budget) {
  if (budget == 0) return 0;
  if (handle_ == nullptr) {
    TryReopen();
    if (handle_ == nullptr) return 0;
  }
  sink_ = &sink;
  delivered_ = 0;
  // One clock read per batch: every packet in it waited in the same ring block.
  sample_.timestamp = clock_.Now();
  const int cnt = budget > INT_MAX ? INT_MAX : static_cast<int>(budget);
  const int rc = pcap_dispatch(handle_, cnt, &PcapLiveSource::OnPacket,
                               reinterpret_cast<unsigned char*>(this));
  sink_ = nullptr;
  // On Linux a failed read is the socket's error: ENETDOWN when the interface went down or
  // away. The socket would not follow a re-created interface, so every failure re-opens.
  if (rc < 0) Lose(rc == PCAP_ERROR ? pcap_geterr(handle_) : pcap_statustostr(rc));
  stats_.samples += delivered_;
  return delivered_;
}

PacketSourceStats PcapLiveSource::stats() const {
  PacketSourceStats s = stats_;
  s.source_drops = closed_drops_;
  struct pcap_stat ps = {};
  if (handle_ != nullptr && pcap_stats(handle_, &ps) == 0) s.source_drops += ps.ps_drop;
  return s;
}

}  // namespace xflowd::hal::pcap
