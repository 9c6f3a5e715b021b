#include "hal/afpacket/random_filter.h"

namespace xflowd::hal::afpacket {

std::array<sock_filter, 4> RandomSampleFilter(uint32_t n, uint32_t snaplen) {
  if (n == 0) n = 1;
  const uint32_t threshold = 0xFFFFFFFFu / n;
  return {{
      {BPF_LD | BPF_W | BPF_ABS, 0, 0, static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_RANDOM)},
      {BPF_JMP | BPF_JGT | BPF_K, 1, 0, threshold},  // A > threshold: skip to "drop"
      {BPF_RET | BPF_K, 0, 0, snaplen},
      {BPF_RET | BPF_K, 0, 0, 0},
  }};
}

std::array<sock_filter, 6> OutgoingRandomSampleFilter(uint32_t n, uint32_t snaplen) {
  if (n == 0) n = 1;
  const uint32_t threshold = 0xFFFFFFFFu / n;
  constexpr uint32_t kPacketOutgoing = 4;  // PACKET_OUTGOING (linux/if_packet.h)
  return {{
      {BPF_LD | BPF_H | BPF_ABS, 0, 0, static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_PKTTYPE)},
      {BPF_JMP | BPF_JEQ | BPF_K, 0, 3, kPacketOutgoing},  // not outgoing: to "drop"
      {BPF_LD | BPF_W | BPF_ABS, 0, 0, static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_RANDOM)},
      {BPF_JMP | BPF_JGT | BPF_K, 1, 0, threshold},
      {BPF_RET | BPF_K, 0, 0, snaplen},
      {BPF_RET | BPF_K, 0, 0, 0},
  }};
}

}  // namespace xflowd::hal::afpacket
