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
//
// Link loss: when the capture fails (the interface went down, or was deleted), the source
// logs it naming the interface, closes the capture and opens it again once the interface
// exists and is up: first `reopen_min_ms` after the loss, then at doubling intervals up to
// `reopen_max_ms`. A re-created interface may have a new ifindex; samples carry the one of
// the capture open when they were read. fd() stays the same throughout (an epoll set over the
// capture socket and the retry timer), so the event loop never sees the capture change.
// Re-opening happens in the thread and network namespace that calls Drain.
//
// Link events: the source also listens to rtnetlink link messages (RTMGRP_LINK) and, when its
// owner calls ProcessLinkEvents (once a second, off the sample path), logs the interface going
// down, coming up and being deleted, even a flap too short for the capture to notice (libpcap
// waits through a down/up on the same socket); an up while the capture is lost re-opens it at
// once instead of at the next retry.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hal/base/clock.h"
#include "hal/base/ip_address.h"
#include "hal/base/log.h"
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
  // Re-open backoff after the capture was lost (see above); min <= max, both > 0.
  uint32_t reopen_min_ms = 100;
  uint32_t reopen_max_ms = 1000;
};

// The BPF expression PcapLiveSource installs for `collectors` ("" when there are none).
std::string ExclusionFilter(const std::vector<base::Endpoint>& collectors);

class PcapLiveSource final : public PacketSource {
 public:
  // Opens and activates the capture. Errors: NOT_FOUND (no such interface),
  // PERMISSION_DENIED (needs root or CAP_NET_RAW), INVALID_ARGUMENT (link type, bad
  // options or filter), UNAVAILABLE (interface down, other libpcap failures). `clock` must
  // outlive the source, and so must `logger` (capture lost / re-opened lines).
  static base::Result<std::unique_ptr<PcapLiveSource>> Create(const PcapLiveOptions& options,
                                                              const base::Clock& clock,
                                                              base::Logger& logger);
  ~PcapLiveSource() override;
  PcapLiveSource(const PcapLiveSource&) = delete;
  PcapLiveSource& operator=(const PcapLiveSource&) = delete;

  // Non-blocking; readable (epoll) when a ring block (or, immediate, a packet) is waiting, or
  // when a re-open is due. The same fd for the life of the source.
  int fd() const override { return epoll_fd_; }
  // pcap_dispatch(budget): hands what is waiting, at most `budget` packets read from the
  // ring (fewer samples with 1-in-N), never blocks. A libpcap error ends the capture
  // (losses(), last_error()); while it is lost, a call whose retry time has come tries to
  // open it again.
  size_t Drain(PacketSampleSink& sink, size_t budget) override;
  // source_drops = the kernel's drops (ring full) from pcap_stats, over every capture opened.
  // The kernel resets its counter when read; libpcap adds each reading up. Do not read
  // PACKET_STATISTICS on the socket elsewhere: those drops would be lost here.
  PacketSourceStats stats() const override;

  // The interface's ifindex when the capture was last opened; 0 for kAnyInterface.
  uint32_t ifindex() const { return ifindex_; }
  LinkType link_type() const { return sample_.link_type; }
  // Packets read from the ring (sampled or not).
  uint64_t packets_read() const { return packets_read_; }
  const std::string& last_error() const { return last_error_; }
  const std::string& filter() const { return filter_; }
  // False from a capture loss until the re-open.
  bool capturing() const { return handle_ != nullptr; }
  // Times the capture failed (link down, interface deleted) and times it was opened again.
  uint64_t losses() const { return losses_; }
  uint64_t reopens() const { return reopens_; }
  // Reads the link messages queued since the last call (non-blocking): logs state changes of
  // the interface, counts link_downs(), hastens a re-open. Not on the sample path.
  void ProcessLinkEvents();
  // Times the interface was seen going down (not up, or no carrier) or being deleted.
  uint64_t link_downs() const { return link_downs_; }

 private:
  PcapLiveSource(const PcapLiveOptions& options, const base::Clock& clock, base::Logger& logger);
  base::Status Init();
  void Attach(::pcap* handle, int fd, uint32_t ifindex, LinkType link, std::string filter);
  void Lose(const std::string& why);
  void ArmRetry();
  void TryReopen();
  static void OnPacket(unsigned char* user, const ::pcap_pkthdr* h, const unsigned char* bytes);

  ::pcap* handle_ = nullptr;
  int fd_ = -1;  // the capture's own fd, -1 while lost
  int epoll_fd_ = -1;
  int retry_fd_ = -1;    // timerfd
  int link_fd_ = -1;     // rtnetlink, RTMGRP_LINK; -1 if it could not be opened
  bool link_up_ = true;  // as last reported by a link message
  uint32_t ifindex_ = 0;
  PcapLiveOptions options_;
  const base::Clock& clock_;
  base::Logger& logger_;
  std::string filter_;
  uint64_t losses_ = 0;
  uint64_t reopens_ = 0;
  uint64_t link_downs_ = 0;
  uint64_t closed_drops_ = 0;  // kernel drops of captures already closed
  uint32_t retry_ms_ = 0;
  base::MonoTime lost_at_;
  std::string retry_error_;  // the last re-open failure logged, to log each change once
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
