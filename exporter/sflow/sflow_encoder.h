// sFlow v5 encoder: XDR (big-endian, 4-byte aligned) into a caller-owned buffer.
// Nothing here allocates; sizes are computed exactly so a Receiver can decide to flush
// *before* a sample would overflow the datagram.
#pragma once

#include <cstddef>
#include <cstdint>

#include "exporter/sflow/sflow_types.h"
#include "hal/base/byte_view.h"

namespace xflowd::exporter::sflow {

using hal::base::ByteWriter;

// Bytes each item takes on the wire, including its own (tag, length) words.
size_t EncodedSize(const FlowRecord& record);
size_t EncodedSize(const CounterRecord& record);
size_t EncodedSize(const FlowSample& sample);
size_t EncodedSize(const CounterSample& sample);
size_t EncodedSize(const DiscardSample& sample);
// Datagram header: 28 bytes with an IPv4 agent address, 40 with IPv6.
size_t DatagramHeaderSize(const IpAddress& agent_address);

// Append one sample (tag, length, body). If it does not fit, nothing is written (the writer
// is restored to its previous size) and false is returned.
bool Encode(const FlowSample& sample, ByteWriter& w);
bool Encode(const CounterSample& sample, ByteWriter& w);
bool Encode(const DiscardSample& sample, ByteWriter& w);

// Builds one datagram at a time in a buffer of `capacity` bytes (the max datagram size).
// Usage: Add() samples until one returns false, then Finish(), send, Reset().
class DatagramBuilder {
 public:
  // The buffer must outlive the builder. capacity must be >= DatagramHeaderSize(agent).
  DatagramBuilder(uint8_t* buffer, size_t capacity, const IpAddress& agent_address,
                  uint32_t sub_agent_id);

  // Start an empty datagram (header with placeholders, zero samples).
  void Reset();
  // False (and nothing written) if the sample does not fit in what is left.
  bool Add(const FlowSample& sample);
  bool Add(const CounterSample& sample);
  bool Add(const DiscardSample& sample);

  uint32_t sample_count() const { return count_; }
  bool empty() const { return count_ == 0; }
  size_t size() const { return w_.size(); }
  size_t capacity() const { return w_.capacity(); }
  size_t remaining() const { return w_.remaining(); }

  // Fills in the header's sequence number, uptime and sample count; returns the datagram,
  // valid until the next Reset()/Add().
  hal::base::ByteView Finish(uint32_t sequence, uint32_t uptime_ms);

 private:
  ByteWriter w_;
  IpAddress agent_address_;
  uint32_t sub_agent_id_;
  uint32_t count_ = 0;
};

}  // namespace xflowd::exporter::sflow
