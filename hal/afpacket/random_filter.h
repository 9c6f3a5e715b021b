// The in-kernel random 1-in-N classic BPF program for AF_PACKET sampling.
#pragma once

#include <linux/filter.h>

#include <array>
#include <cstdint>

namespace xflowd::hal::afpacket {

// ld rand; jgt #(0xffffffff / N) -> drop; else accept `snaplen` bytes. The kernel draws a
// fresh 32-bit random per packet (SKF_AD_RANDOM), so each packet is kept with probability
// (floor(0xffffffff / N) + 1) / 2^32, i.e. 1/N to within 2^-32. N = 1 keeps every packet.
// N = 0 is treated as 1.
std::array<sock_filter, 4> RandomSampleFilter(uint32_t n, uint32_t snaplen);

// The same for frames the interface sends only (egress sampling): ld pkttype (SKF_AD_PKTTYPE);
// jne #PACKET_OUTGOING -> drop; then the program above. Received frames draw no random number.
std::array<sock_filter, 6> OutgoingRandomSampleFilter(uint32_t n, uint32_t snaplen);

}  // namespace xflowd::hal::afpacket
