// rtnetlink requests for tc sampling, built as bytes by pure functions (golden-tested without a
// kernel), and a parser for the kernel's answer. TcSamplingControl (tc_sampling_control.h)
// sends them.
//
// What they do, in `tc` words (P = priority, H = handle, G = psample group):
//   AddClsact:     tc qdisc add dev D clsact                  (NLM_F_CREATE | NLM_F_EXCL: EEXIST
//                                                              tells us the qdisc was not ours)
//   AddFilter:     tc filter replace dev D {ingress|egress} protocol all prio P handle H
//                    matchall [skip_sw|skip_hw] action sample rate R group G [trunc T]
//   DeleteFilter:  tc filter del dev D {ingress|egress} protocol all prio P handle H matchall
//   DeleteClsact:  tc qdisc del dev D clsact
//   GetFilter:     tc filter get dev D {ingress|egress} protocol all prio P handle H matchall
//                  (the answer, an RTM_NEWTFILTER, is read by ParseSampleFilter: the rate the
//                  kernel or the offloading driver applied)
// Netlink is host byte order; the golden files are from a little-endian host. tcm_info carries
// the protocol in network order (htons(ETH_P_ALL)) under the priority, as iproute2 does.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hal/base/byte_view.h"
#include "hal/packet_sample.h"

namespace xflowd::hal::tc {

// Values from include/uapi/linux/{netlink,rtnetlink,pkt_sched,pkt_cls}.h and
// tc_act/tc_sample.h, shadowed so the back-end builds against old kernel headers.
constexpr uint16_t kRtmNewQdisc = 36;
constexpr uint16_t kRtmDelQdisc = 37;
constexpr uint16_t kRtmNewTfilter = 44;
constexpr uint16_t kRtmDelTfilter = 45;
constexpr uint16_t kRtmGetTfilter = 46;
constexpr uint16_t kNlmFRequest = 0x1;
constexpr uint16_t kNlmFAck = 0x4;
constexpr uint16_t kNlmFReplace = 0x100;
constexpr uint16_t kNlmFExcl = 0x200;
constexpr uint16_t kNlmFCreate = 0x400;
constexpr uint32_t kTcHClsact = 0xFFFFFFF1u;         // TC_H_CLSACT (== TC_H_INGRESS)
constexpr uint32_t kTcHClsactHandle = 0xFFFF0000u;   // TC_H_MAKE(TC_H_CLSACT, 0)
constexpr uint32_t kTcHClsactIngress = 0xFFFFFFF2u;  // TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS)
constexpr uint32_t kTcHClsactEgress = 0xFFFFFFF3u;   // TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS)
constexpr uint32_t kTcaClsFlagsSkipHw = 1;           // TCA_CLS_FLAGS_SKIP_HW
constexpr uint32_t kTcaClsFlagsSkipSw = 2;           // TCA_CLS_FLAGS_SKIP_SW

// One sample filter: where it goes and what it does.
struct SampleFilter {
  uint32_t ifindex = 0;
  Direction direction = Direction::kIngress;
  uint16_t priority = 1000;     // tc filter prio; ours alone at this priority
  uint32_t handle = 1;          // matchall handle
  uint32_t rate = 0;            // 1-in-N (AddFilter only)
  uint32_t group = 1;           // psample group (AddFilter only)
  uint32_t trunc_size = 0;      // bytes of each sampled packet; 0 = whole packet (no attribute)
  uint32_t matchall_flags = 0;  // kTcaClsFlagsSkip*; 0 = hardware if it can, else software
};

std::vector<uint8_t> BuildAddClsactRequest(uint32_t ifindex, uint32_t seq);
std::vector<uint8_t> BuildDeleteClsactRequest(uint32_t ifindex, uint32_t seq);
std::vector<uint8_t> BuildAddSampleFilterRequest(const SampleFilter& filter, uint32_t seq);
std::vector<uint8_t> BuildDeleteSampleFilterRequest(const SampleFilter& filter, uint32_t seq);
std::vector<uint8_t> BuildGetSampleFilterRequest(const SampleFilter& filter, uint32_t seq);

// What a filter's dump says is in force: its sample action's attributes and whether the
// matchall runs in hardware (TCA_CLS_FLAGS_IN_HW).
struct AppliedSampleFilter {
  uint32_t ifindex = 0;
  uint32_t parent = 0;  // kTcHClsactIngress / kTcHClsactEgress
  uint32_t rate = 0;    // TCA_SAMPLE_RATE
  uint32_t group = 0;   // TCA_SAMPLE_PSAMPLE_GROUP
  uint32_t trunc_size = 0;
  uint32_t flags = 0;  // TCA_MATCHALL_FLAGS (skip_*, in_hw 4, not_in_hw 8); 0 if absent
  bool in_hw() const { return (flags & 4u) != 0; }
};
// Looks in one recv() buffer for the RTM_NEWTFILTER answering `seq` (a get's answer, or a dump's
// message) whose TCA_KIND is "matchall" and whose first "sample" action has a rate. Returns true
// and fills *out if found. Unknown attributes are skipped; never reads outside `buf`.
bool ParseSampleFilter(base::ByteView buf, uint32_t seq, AppliedSampleFilter* out);

// An RTM_NEWTFILTER as the kernel dumps a matchall + sample filter (for tests playing the
// kernel): the tcmsg, TCA_KIND, TCA_CHAIN, and TCA_OPTIONS with the action (kind, options with
// parms, rate, trunc size, group) and TCA_MATCHALL_FLAGS = `flags`.
std::vector<uint8_t> BuildSampleFilterMessage(const SampleFilter& filter, uint32_t seq,
                                              uint32_t flags);

// The kernel's answer to a request: NLMSG_ERROR (error 0 = ACK) with the extended ACK message
// when the socket asked for NETLINK_EXT_ACK.
struct NetlinkAck {
  uint32_t seq = 0;
  int error = 0;            // 0 or a negative errno, as the kernel sends it
  std::string ext_message;  // NLMSGERR_ATTR_MSG, "" if none
};
// Looks for the NLMSG_ERROR answering `seq` in one recv() buffer. Returns true and fills *ack
// if found; false if the buffer holds no answer to `seq` (other messages are skipped).
// Never reads outside `buf`.
bool FindAck(base::ByteView buf, uint32_t seq, NetlinkAck* ack);

// Builds an ACK / error answer as the kernel would (for tests playing the kernel): capped (no
// copy of the request payload), with NLMSGERR_ATTR_MSG when `ext_message` is not empty.
std::vector<uint8_t> BuildAck(base::ByteView request, int error, const std::string& ext_message);

}  // namespace xflowd::hal::tc
