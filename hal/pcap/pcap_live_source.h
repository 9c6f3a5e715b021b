// PcapLiveSource: a PacketSource capturing on one network interface through libpcap
// (AF_PACKET with a TPACKET_V3 ring on Linux). For host probes: every packet (or a software
// 1-in-N of them) goes to the agent, which folds it into flows.
//
// Ring vs immediate mode: with the ring (the default) the kernel fills blocks and retires a
// block when it is full or `block_timeout_ms` after its first packet, so a quiet link still
// delivers within that time. Immediate mode (TPACKET_V2, one wake-up per packet) has the
// lowest latency and the highest cost; tests use it.
//
// Timestamps are CLOCK_MONOTONIC (the injected Clock) when Drain runs, not the kernel's packet
// time: the flow cache's timers run on the monotonic clock, and a packet time (CLOCK_REALTIME)
// would jump with NTP steps and be compared against the wrong clock. The delivery delay is at
// most one block timeout.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hal/base/clock.h"
#include "hal/base/ip_address.h"
#include "hal/base/status.h"
#include "hal/packet_source.h"
#include "hal/pcap/skip_sampler.h"

struct pcap;  // libpcap's pcap_t
struct pcap_pkthdr;

namespace xflowd::hal::pcap {

// Every interface at once (Linux): cooked SLL2 headers, each sample's input_ifindex from its
// header (0 with SLL v1, if libpcap cannot give SLL2).
constexpr const char* kAnyInterface = "any";

struct PcapLiveOptions {
  // e.g. "eth0" or kAnyInterface; its link type must be one hal::LinkTypeFromPcap knows.
  std::string interface;
  uint32_t snaplen = 256;  // bytes of each frame kept (header bytes for the agent)
  bool promiscuous = true;
  // TPACKET_V2, a wake-up per packet (see above). Otherwise a TPACKET_V3 ring.
  bool immediate = false;
  uint32_t buffer_bytes = 4u << 20;  // kernel ring size
  uint32_t block_timeout_ms = 100;   // ring block retire timeout (the export latency bound)
  // Only packets received on the interface (PCAP_D_IN); default both directions.
  bool ingress_only = false;
  // 1 = every packet; N > 1 = software 1-in-N, skips uniform in [1, 2N-1].
  uint32_t sampling_rate = 1;
  uint64_t seed = 1;
  // Our own export traffic to these collectors is never captured: BPF
  // `not (udp and dst host H and dst port P) and not (tcp and host H and port P)` for each.
  std::vector<base::Endpoint> exclude_collectors;
};

// The BPF expression PcapLiveSource installs for `collectors` ("" when there are none).
std::string ExclusionFilter(const std::vector<base::Endpoint>& collectors);

class PcapLiveSource final : public PacketSource {
 public:
  // Opens and activates the capture. Errors: NOT_FOUND (no such interface),
  // PERMISSION_DENIED (needs root or CAP_NET_RAW), INVALID_ARGUMENT (link type, bad
  // options or filter), UNAVAILABLE (interface down, other libpcap failures). `clock` must
  // outlive the source.
  static base::Result<std::unique_ptr<PcapLiveSource>> Create(const PcapLiveOptions& options,
                                                              const base::Clock& clock);
  ~PcapLiveSource() override;
  PcapLiveSource(const PcapLiveSource&) = delete;
  PcapLiveSource& operator=(const PcapLiveSource&) = delete;

  // Non-blocking; readable (epoll) when a ring block (or, immediate, a packet) is waiting.
  int fd() const override { return fd_; }
  // pcap_dispatch(budget): hands what is waiting, at most `budget` packets read from the
  // ring (fewer samples with 1-in-N), never blocks. Counts a libpcap read error in
  // parse_errors (see last_error()).
  size_t Drain(PacketSampleSink& sink, size_t budget) override;
  // source_drops = the kernel's drops (ring full) from pcap_stats. The kernel resets its
  // counter when read; libpcap adds each reading up, so this is the total since Create. Do
  // not read PACKET_STATISTICS on the socket elsewhere: those drops would be lost here.
  PacketSourceStats stats() const override;

  uint32_t ifindex() const { return ifindex_; }  // 0 for kAnyInterface
  LinkType link_type() const { return sample_.link_type; }
  // Packets read from the ring (sampled or not).
  uint64_t packets_read() const { return packets_read_; }
  const std::string& last_error() const { return last_error_; }
  const std::string& filter() const { return filter_; }

 private:
  PcapLiveSource(::pcap* handle, int fd, uint32_t ifindex, const PcapLiveOptions& options,
                 const base::Clock& clock, std::string filter);
  static void OnPacket(unsigned char* user, const ::pcap_pkthdr* h, const unsigned char* bytes);

  ::pcap* handle_;
  int fd_;
  uint32_t ifindex_;
  PcapLiveOptions options_;
  const base::Clock& clock_;
  std::string filter_;
  SkipSampler sampler_;
  PacketSourceStats stats_;
  uint64_t packets_read_ = 0;
  std::string last_error_;
  // Per-Drain state for the libpcap callback.
  PacketSampleSink* sink_ = nullptr;
  PacketSample sample_;
  size_t delivered_ = 0;
};

}  // namespace xflowd::hal::pcap
