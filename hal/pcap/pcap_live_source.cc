#include "hal/pcap/pcap_live_source.h"

#include <net/if.h>
#include <pcap/pcap.h>

#include <cerrno>
#include <climits>

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

Result<std::unique_ptr<PcapLiveSource>> PcapLiveSource::Create(const PcapLiveOptions& options,
                                                               const base::Clock& clock) {
  const std::string& ifname = options.interface;
  if (ifname.empty()) return base::InvalidArgumentError("pcap: no interface given");
  if (options.snaplen == 0) return base::InvalidArgumentError("pcap: snaplen must be > 0");
  if (options.block_timeout_ms == 0 || options.block_timeout_ms > INT_MAX) {
    return base::InvalidArgumentError("pcap: block timeout must be 1.." + std::to_string(INT_MAX) +
                                      " ms");
  }
  for (const base::Endpoint& c : options.exclude_collectors) {
    if (c.address.family() == base::IpAddress::Family::kNone || c.port == 0) {
      return base::InvalidArgumentError("pcap: collector to exclude needs an address and a port");
    }
  }
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
  auto source = std::unique_ptr<PcapLiveSource>(
      new PcapLiveSource(p, fd, ifindex, options, clock, std::move(filter)));
  source->sample_.link_type = link;
  return source;
}

PcapLiveSource::PcapLiveSource(pcap_t* handle, int fd, uint32_t ifindex,
                               const PcapLiveOptions& options, const base::Clock& clock,
                               std::string filter)
    : handle_(handle),
      fd_(fd),
      ifindex_(ifindex),
      options_(options),
      clock_(clock),
      filter_(std::move(filter)),
      sampler_(options.sampling_rate, options.seed) {
  sample_.input_ifindex = ifindex_;
  sample_.direction = Direction::kIngress;
  sample_.sampling_rate = sampler_.rate();
}

PcapLiveSource::~PcapLiveSource() { pcap_close(handle_); }

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

size_t PcapLiveSource::Drain(PacketSampleSink& sink, size_t budget) {
  if (budget == 0) return 0;
  sink_ = &sink;
  delivered_ = 0;
  // One clock read per batch: every packet in it waited in the same ring block.
  sample_.timestamp = clock_.Now();
  const int cnt = budget > INT_MAX ? INT_MAX : static_cast<int>(budget);
  const int rc = pcap_dispatch(handle_, cnt, &PcapLiveSource::OnPacket,
                               reinterpret_cast<unsigned char*>(this));
  if (rc == PCAP_ERROR) {
    ++stats_.parse_errors;
    last_error_ = pcap_geterr(handle_);
  }
  sink_ = nullptr;
  stats_.samples += delivered_;
  return delivered_;
}

PacketSourceStats PcapLiveSource::stats() const {
  PacketSourceStats s = stats_;
  struct pcap_stat ps = {};
  if (pcap_stats(handle_, &ps) == 0) s.source_drops = ps.ps_drop;
  return s;
}

}  // namespace xflowd::hal::pcap
