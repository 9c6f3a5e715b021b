// PacketSample: one sampled (or, for an unsampled host probe, every) packet as a back-end hands
// it to the agent. A plain struct on the stack; `header` is valid only during the call.
#pragma once

#include <cstdint>

#include "hal/base/byte_view.h"
#include "hal/base/time.h"
#include "hal/link_type.h"

namespace xflowd::hal {

enum class Direction : uint8_t { kIngress = 0, kEgress = 1 };

struct PacketSample {
  uint32_t input_ifindex = 0;   // 0 = unknown
  uint32_t output_ifindex = 0;  // 0 = unknown
  // The port/direction whose sampler took the sample (ingress: input_ifindex, egress: output).
  Direction direction = Direction::kIngress;
  // Length of the frame on the wire as the source saw it, in bytes, *including* `stripped`.
  // For cooked and loopback link types it includes that pseudo-header, as pcap's length does.
  uint32_t frame_length = 0;
  // Bytes removed before `header` was taken (e.g. 4 for an FCS the source does not deliver).
  uint32_t stripped = 0;
  // 1-in-N rate this sample was taken at; 1 = not sampled (the agent samples in software).
  uint32_t sampling_rate = 1;
  // The source's own sample sequence number (PSAMPLE group seq, sim ASIC), used to detect
  // drops between the source and us. Only meaningful when has_source_sequence.
  uint32_t source_sequence = 0;
  bool has_source_sequence = false;
  // 802.1Q tag delivered out of band (AF_PACKET strips it from the bytes); only if vlan_valid.
  bool vlan_valid = false;
  uint16_t vlan_tci = 0;
  base::MonoTime timestamp;  // when the source saw the packet (monotonic)
  // What `header` starts with. Only capture files and `-i any` give anything but Ethernet.
  LinkType link_type = LinkType::kEthernet;
  // Leading bytes of the frame, starting at its link header. Valid only during the call.
  base::ByteView header;
  // Packets the port's sample pool grew by since the source's last report, for sources whose
  // kernel filter cannot count what it rejects (AF_PACKET, NFLOG: the platform reads it from
  // the interface counters and hands it with the next sample). Used by a sampler with an
  // external pool only; 0 from every other source.
  uint32_t pool_added = 0;
};

// Receives samples from a PacketSource. Must not block, allocate or throw.
class PacketSampleSink {
 public:
  virtual ~PacketSampleSink() = default;
  virtual void OnSample(const PacketSample& sample) = 0;
};

}  // namespace xflowd::hal
