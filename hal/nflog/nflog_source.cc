#include "hal/nflog/nflog_source.h"

#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace xflowd::hal::nflog {

using base::Result;
using base::Status;

NflogSource::NflogSource(const NflogOptions& options, const base::Clock& clock)
    : options_(options), clock_(clock), buf_(256 * 1024), frame_(14 + options.copy_range) {}

NflogSource::~NflogSource() {
  if (fd_ >= 0) {
    // The kernel also unbinds when the socket closes; say it explicitly anyway.
    nfulnl_msg_config_cmd cmd{NFULNL_CFG_CMD_UNBIND};
    (void)SendConfig(NFULA_CFG_CMD, &cmd, sizeof(cmd));
    close(fd_);
  }
}

// One NFULNL_MSG_CONFIG for our group with one attribute, acknowledged.
Status NflogSource::SendConfig(uint16_t attr_type, const void* value, size_t len) {
  uint8_t msg[64] = {};
  const size_t attr_len = NLA_HDRLEN + len;
  const size_t total = NLMSG_HDRLEN + sizeof(nfgenmsg) + NLA_ALIGN(attr_len);
  if (total > sizeof(msg)) return base::InternalError("nflog config too long");
  auto* nh = reinterpret_cast<nlmsghdr*>(msg);
  nh->nlmsg_len = static_cast<uint32_t>(total);
  nh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
  nh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  const uint32_t seq = seq_++;
  nh->nlmsg_seq = seq;
  auto* g = reinterpret_cast<nfgenmsg*>(msg + NLMSG_HDRLEN);
  g->nfgen_family = AF_UNSPEC;
  g->version = NFNETLINK_V0;
  g->res_id = htons(options_.group);
  auto* a = reinterpret_cast<nlattr*>(msg + NLMSG_HDRLEN + sizeof(nfgenmsg));
  a->nla_len = static_cast<uint16_t>(attr_len);
  a->nla_type = attr_type;
  std::memcpy(reinterpret_cast<uint8_t*>(a) + NLA_HDRLEN, value, len);
  sockaddr_nl to{};
  to.nl_family = AF_NETLINK;
  if (sendto(fd_, msg, total, 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)) !=
      static_cast<ssize_t>(total)) {
    return base::ErrnoError("nflog: send config", errno);
  }
  // Wait for the ack; packets that arrive meanwhile (the group is already bound) are dropped
  // here, before anyone drains.
  for (int waited_ms = 0; waited_ms < 2000;) {
    pollfd pfd{fd_, POLLIN, 0};
    int r = poll(&pfd, 1, 100);
    if (r == 0) {
      waited_ms += 100;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    ssize_t n = recv(fd_, buf_.data(), buf_.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR || errno == ENOBUFS) continue;
      return base::ErrnoError("nflog: recv ack", errno);
    }
    size_t off = 0;
    while (off + NLMSG_HDRLEN <= static_cast<size_t>(n)) {
      nlmsghdr h;
      std::memcpy(&h, buf_.data() + off, sizeof(h));
      if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > static_cast<size_t>(n) - off) break;
      if (h.nlmsg_type == NLMSG_ERROR && h.nlmsg_seq == seq &&
          h.nlmsg_len >= NLMSG_HDRLEN + sizeof(int32_t)) {
        int32_t err;
        std::memcpy(&err, buf_.data() + off + NLMSG_HDRLEN, sizeof(err));
        if (err == 0) return Status::Ok();
        // The kernel answers EPERM when another socket owns the group (and when we lack
        // CAP_NET_ADMIN); EEXIST/EBUSY on some versions.
        if (err == -EPERM || err == -EBUSY || err == -EEXIST) {
          return base::UnavailableError("nflog group " + std::to_string(options_.group) +
                                        ": bound by another socket, or no CAP_NET_ADMIN (" +
                                        std::strerror(-err) + ")");
        }
        return base::ErrnoError("nflog config", -err);
      }
      off += NLMSG_ALIGN(h.nlmsg_len);
    }
  }
  return base::UnavailableError("nflog: no ack from the kernel");
}

Result<std::unique_ptr<NflogSource>> NflogSource::Create(const NflogOptions& options,
                                                         const base::Clock& clock) {
  if (options.sampling_rate == 0) return base::InvalidArgumentError("nflog: rate 0");
  if (options.copy_range == 0 || options.copy_range > 65535) {
    return base::InvalidArgumentError("nflog: copy_range must be 1..65535");
  }
  std::unique_ptr<NflogSource> s(new NflogSource(options, clock));
  s->fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_NETFILTER);
  if (s->fd_ < 0) return base::ErrnoError("nflog: socket(NETLINK_NETFILTER)", errno);
  int rcvbuf = options.rcvbuf_bytes;
  if (setsockopt(s->fd_, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) != 0) {
    (void)setsockopt(s->fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  }
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  if (bind(s->fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    return base::ErrnoError("nflog: bind", errno);
  }
  const std::string ctx = "nflog group " + std::to_string(options.group);
  nfulnl_msg_config_cmd bind_cmd{NFULNL_CFG_CMD_BIND};
  Status st = s->SendConfig(NFULA_CFG_CMD, &bind_cmd, sizeof(bind_cmd));
  if (!st.ok()) {
    if (st.code() != base::StatusCode::kUnavailable) st = st.WithContext(ctx + ": bind");
    s->fd_ = (close(s->fd_), -1);
    return st;
  }
  nfulnl_msg_config_mode mode{};
  mode.copy_range = htonl(options.copy_range);
  mode.copy_mode = NFULNL_COPY_PACKET;
  XFLOWD_RETURN_IF_ERROR(s->SendConfig(NFULA_CFG_MODE, &mode, sizeof(mode)));
  uint32_t v = htonl(options.qthreshold);
  XFLOWD_RETURN_IF_ERROR(s->SendConfig(NFULA_CFG_QTHRESH, &v, sizeof(v)));
  v = htonl(options.timeout_cs);
  XFLOWD_RETURN_IF_ERROR(s->SendConfig(NFULA_CFG_TIMEOUT, &v, sizeof(v)));
  if (options.nlbufsiz != 0) {
    v = htonl(options.nlbufsiz);
    XFLOWD_RETURN_IF_ERROR(s->SendConfig(NFULA_CFG_NLBUFSIZ, &v, sizeof(v)));
  }
  uint16_t flags = htons(NFULNL_CFG_F_SEQ | NFULNL_CFG_F_SEQ_GLOBAL);
  XFLOWD_RETURN_IF_ERROR(s->SendConfig(NFULA_CFG_FLAGS, &flags, sizeof(flags)));
  // Our bind created the instance, whose NFULA_SEQ starts at 0: a loss before the first
  // message we read is a gap too.
  s->have_seq_ = true;
  s->next_seq_ = 0;
  return s;
}

PacketSourceStats NflogSource::stats() const {
  PacketSourceStats s;
  s.samples = stats_.samples;
  s.source_drops = stats_.seq_gap_drops;
  s.parse_errors = stats_.parse.truncated + stats_.parse.bad_attr_length + stats_.no_payload;
  return s;
}

void NflogSource::Emit(const NflogPacket& p, PacketSampleSink& sink, int64_t wall_to_mono_ns) {
  if (p.has_seq) {
    if (have_seq_) {
      uint32_t gap = p.seq - next_seq_;
      if (gap != 0 && gap < 0x80000000u) stats_.seq_gap_drops += gap;
    }
    have_seq_ = true;
    next_seq_ = p.seq + 1;
  }
  if (p.payload.empty()) {
    ++stats_.no_payload;
    return;
  }
  PacketSample smp;
  smp.input_ifindex = p.physindev != 0 ? p.physindev : p.indev;
  smp.output_ifindex = p.physoutdev != 0 ? p.physoutdev : p.outdev;
  smp.direction = options_.direction;
  smp.sampling_rate = options_.sampling_rate;
  smp.stripped = 4;
  smp.frame_length = OriginalFrameLength(p) + 4;
  if (p.has_vlan) {
    smp.vlan_valid = true;
    smp.vlan_tci = p.vlan_tci;
    smp.frame_length += 4;
  }
  smp.has_source_sequence = p.has_seq;
  smp.source_sequence = p.seq;
  if (p.has_timestamp) {
    smp.timestamp =
        base::MonoTime::FromNs(static_cast<int64_t>(p.timestamp_sec) * 1000000000 +
                               static_cast<int64_t>(p.timestamp_usec) * 1000 + wall_to_mono_ns);
  } else {
    smp.timestamp = clock_.Now();
  }
  size_t n = BuildEthernetFrame(p, frame_.data(), frame_.size());
  smp.header = base::ByteView(frame_.data(), n);
  sink.OnSample(smp);
  ++stats_.samples;
}

size_t NflogSource::Drain(PacketSampleSink& sink, size_t budget) {
  size_t handed = 0;
  const int64_t wall_to_mono_ns = clock_.Now().ns() - clock_.WallNow().ns();
  NflogPacket p;
  while (handed < budget) {
    if (buf_off_ >= buf_len_) {
      ssize_t n = recv(fd_, buf_.data(), buf_.size(), MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == ENOBUFS) {
          ++stats_.enobufs;
          continue;
        }
        break;  // EAGAIN
      }
      if (n == 0) break;
      buf_len_ = static_cast<size_t>(n);
      buf_off_ = 0;
    }
    base::ByteView buf(buf_.data(), buf_len_);
    uint16_t type = 0;
    base::ByteView body;
    if (!internal::NextMessage(buf, &buf_off_, &type, &body, &stats_.parse)) {
      buf_off_ = buf_len_;  // the rest of this buffer cannot be framed
      continue;
    }
    if (internal::ParseOne(type, body, &p, &stats_.parse, nullptr)) {
      size_t before = stats_.samples;
      Emit(p, sink, wall_to_mono_ns);
      handed += stats_.samples - before;
    }
  }
  return handed;
}

}  // namespace xflowd::hal::nflog
