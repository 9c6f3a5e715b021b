#include "hal/afpacket/afpacket_source.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "hal/afpacket/random_filter.h"

namespace xflowd::hal::afpacket {

using base::Result;
using base::Status;

Result<std::unique_ptr<AfPacketSource>> AfPacketSource::Create(const AfPacketOptions& options,
                                                               const base::Clock& clock) {
  if (options.ifname.empty()) return base::InvalidArgumentError("afpacket: no interface");
  if (options.sampling_rate == 0) return base::InvalidArgumentError("afpacket: rate 0");
  const long page = sysconf(_SC_PAGESIZE);
  if (options.block_size == 0 || options.block_size % static_cast<uint32_t>(page) != 0 ||
      options.block_count == 0) {
    return base::InvalidArgumentError("afpacket: block_size must be a multiple of the page size");
  }
  if (options.snaplen < 64 || options.snaplen > options.block_size / 2) {
    return base::InvalidArgumentError("afpacket: snaplen out of range");
  }
  std::unique_ptr<AfPacketSource> s(new AfPacketSource(options, clock));
  const std::string& dev = options.ifname;
  s->ifindex_ = if_nametoindex(dev.c_str());
  if (s->ifindex_ == 0) return base::NotFoundError("afpacket: no interface " + dev);

  // Protocol 0: nothing is queued until bind() names ETH_P_ALL, after the filter is in place.
  s->fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s->fd_ < 0) return base::ErrnoError("afpacket: socket", errno);
  int fd = s->fd_;

  if (options.ingress_only && options.egress_only) {
    return base::InvalidArgumentError("afpacket: ingress_only and egress_only exclude each other");
  }
  if (!options.filter.empty() && (options.sampling_rate != 1 || options.egress_only)) {
    return base::InvalidArgumentError(
        "afpacket: a filter of its own only at sampling rate 1, ingress");
  }
  std::vector<sock_filter> prog = options.filter;
  if (prog.empty()) {
    if (options.egress_only) {
      const auto sampling = OutgoingRandomSampleFilter(options.sampling_rate, options.snaplen);
      prog.assign(sampling.begin(), sampling.end());
    } else {
      const auto sampling = RandomSampleFilter(options.sampling_rate, options.snaplen);
      prog.assign(sampling.begin(), sampling.end());
    }
  }
  sock_fprog fprog{static_cast<unsigned short>(prog.size()), prog.data()};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof(fprog)) != 0) {
    return base::ErrnoError("afpacket: SO_ATTACH_FILTER", errno);
  }
  if (options.ingress_only) {
    int one = 1;
    if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) != 0) {
      return base::ErrnoError("afpacket: PACKET_IGNORE_OUTGOING (kernel 4.20+)", errno);
    }
  }
  int version = TPACKET_V3;
  if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof(version)) != 0) {
    return base::ErrnoError("afpacket: PACKET_VERSION TPACKET_V3", errno);
  }
  tpacket_req3 req{};
  req.tp_block_size = options.block_size;
  req.tp_block_nr = options.block_count;
  // Frames are variable-sized in V3; frame_size/nr only have to be consistent.
  req.tp_frame_size = TPACKET_ALIGNMENT << 7;  // 2048
  req.tp_frame_nr = (options.block_size / req.tp_frame_size) * options.block_count;
  req.tp_retire_blk_tov = options.block_timeout_ms;
  req.tp_sizeof_priv = 0;
  req.tp_feature_req_word = 0;
  if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) != 0) {
    return base::ErrnoError("afpacket: PACKET_RX_RING", errno);
  }
  s->ring_bytes_ = size_t{options.block_size} * options.block_count;
  void* ring = mmap(nullptr, s->ring_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (ring == MAP_FAILED) {
    s->ring_bytes_ = 0;
    return base::ErrnoError("afpacket: mmap ring", errno);
  }
  s->ring_ = static_cast<uint8_t*>(ring);

  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = static_cast<int>(s->ifindex_);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) != 0) {
    return base::ErrnoError("afpacket: bind " + dev, errno);
  }
  if (options.fanout_group != 0) {
    const int arg = options.fanout_group | (PACKET_FANOUT_HASH << 16);
    if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) != 0) {
      return base::ErrnoError(
          "afpacket: PACKET_FANOUT group " + std::to_string(options.fanout_group), errno);
    }
  }
  // Start the kernel counters from zero for this socket.
  tpacket_stats_v3 st{};
  socklen_t len = sizeof(st);
  (void)getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len);
  return s;
}

AfPacketSource::~AfPacketSource() {
  if (ring_ != nullptr) munmap(ring_, ring_bytes_);
  if (fd_ >= 0) close(fd_);
}

void AfPacketSource::ReadKernelStats() {
  tpacket_stats_v3 st{};
  socklen_t len = sizeof(st);
  if (getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &st, &len) != 0) return;
  stats_.kernel_packets += st.tp_packets;
  stats_.kernel_drops += st.tp_drops;
  stats_.freeze_count += st.tp_freeze_q_cnt;
}

const AfPacketStats& AfPacketSource::RefreshKernelStats() {
  ReadKernelStats();
  return stats_;
}

PacketSourceStats AfPacketSource::stats() const {
  PacketSourceStats s;
  s.samples = stats_.samples;
  s.source_drops = stats_.kernel_drops;
  s.parse_errors = stats_.bad_frames;
  return s;
}

size_t AfPacketSource::Drain(PacketSampleSink& sink, size_t budget) {
  size_t handed = 0;
  // Realtime -> monotonic, once per call.
  const int64_t wall_to_mono_ns = clock_.Now().ns() - clock_.WallNow().ns();
  const uint32_t bs = options_.block_size;
  while (handed < budget) {
    auto* bd = reinterpret_cast<tpacket_block_desc*>(ring_ + size_t{block_} * bs);
    uint32_t status = __atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE);
    if ((status & TP_STATUS_USER) == 0) break;
    const uint32_t num_pkts = bd->hdr.bh1.num_pkts;
    uint32_t off = next_offset_ != 0 ? next_offset_ : bd->hdr.bh1.offset_to_first_pkt;
    bool bad = false;
    while (pkts_done_ < num_pkts && handed < budget) {
      if (off < sizeof(tpacket_block_desc) || off > bs - sizeof(tpacket3_hdr)) {
        bad = true;
        break;
      }
      const auto* h = reinterpret_cast<const tpacket3_hdr*>(reinterpret_cast<uint8_t*>(bd) + off);
      const uint32_t mac = h->tp_mac;
      const uint32_t snap = h->tp_snaplen;
      const size_t sll_off = off + TPACKET_ALIGN(sizeof(tpacket3_hdr));
      if (mac > bs - off || snap > bs - off - mac || sll_off + sizeof(sockaddr_ll) > bs) {
        bad = true;
        break;
      }
      const auto* sll =
          reinterpret_cast<const sockaddr_ll*>(reinterpret_cast<uint8_t*>(bd) + sll_off);
      PacketSample smp;
      if (sll->sll_pkttype == PACKET_OUTGOING) {
        smp.output_ifindex = ifindex_;
        smp.direction = Direction::kEgress;
      } else {
        smp.input_ifindex = ifindex_;
        smp.direction = Direction::kIngress;
      }
      smp.stripped = 4;
      smp.frame_length = h->tp_len + 4;
      if (h->tp_status & TP_STATUS_VLAN_VALID) {
        smp.vlan_valid = true;
        smp.vlan_tci = static_cast<uint16_t>(h->hv1.tp_vlan_tci);
        smp.frame_length += 4;
      }
      smp.sampling_rate = options_.sampling_rate;
      smp.timestamp =
          base::MonoTime::FromNs(int64_t{h->tp_sec} * 1000000000 + h->tp_nsec + wall_to_mono_ns);
      smp.header = base::ByteView(reinterpret_cast<const uint8_t*>(h) + mac, snap);
      sink.OnSample(smp);
      ++stats_.samples;
      ++handed;
      ++pkts_done_;
      if (h->tp_next_offset == 0) {
        if (pkts_done_ < num_pkts) bad = true;
        break;
      }
      off += h->tp_next_offset;
    }
    if (!bad && pkts_done_ < num_pkts) {
      next_offset_ = off;  // budget ran out mid-block; resume here
      break;
    }
    if (bad) ++stats_.bad_frames;
    // Block done: give it back to the kernel.
    __atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    block_ = (block_ + 1) % options_.block_count;
    pkts_done_ = 0;
    next_offset_ = 0;
  }
  ReadKernelStats();
  return handed;
}

}  // namespace xflowd::hal::afpacket
