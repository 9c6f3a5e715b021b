#include "agent/flow/flow_meter.h"

#include <algorithm>

#include "agent/packet/packet_parser.h"

namespace xflowd::agent::flow {
namespace {

using exporter::netflow::FlowKey;
using exporter::netflow::FlowRecord;
using packet::ParseError;

constexpr uint32_t kIpv6HeaderBytes = 40;
constexpr uint8_t kProtoNoNextHeader = 59;

FlowCacheOptions CacheOptions(const FlowMeterOptions& o) {
  FlowCacheOptions c = o.cache;
  c.extended_key = o.key.macs || o.key.mpls;
  return c;
}

// Fibonacci hashing (the top bits of ifindex * 2^32 / phi): consecutive ifindexes spread out.
uint32_t FirstRateSlot(uint32_t ifindex) { return (ifindex * 0x9E3779B1u) >> (32 - 13); }

uint64_t FlowMs(hal::base::MonoTime t) { return t.ms() < 0 ? 0 : static_cast<uint64_t>(t.ms()); }

}  // namespace

FlowMeter::FlowMeter(const FlowMeterOptions& options, exporter::netflow::FlowRecordSink& sink)
    : key_options_(options.key),
      batch_(std::clamp<uint32_t>(options.batch, 1, kMaxBatch)),
      cache_(CacheOptions(options)),
      stamper_(*this, sink) {}

void FlowMeter::RateStamper::OnFlow(const FlowRecord& record) {
  FlowRecord stamped = record;
  stamped.sampling_rate = meter_.RateOf(record.key.input_ifindex);
  next_.OnFlow(stamped);
}

void FlowMeter::SetRate(uint32_t input_ifindex, uint32_t rate) {
  last_rate_ = rate;
  for (uint32_t i = FirstRateSlot(input_ifindex);; i = (i + 1) & (kRateSlots - 1)) {
    RateSlot& slot = rates_[i];
    if (slot.rate != 0 && slot.ifindex == input_ifindex) {
      slot.rate = rate;
      return;
    }
    if (slot.rate == 0) {
      if (rate_ifindexes_ == kMaxRateIfindexes) {
        ++stats_.rate_table_full;
        return;
      }
      ++rate_ifindexes_;
      slot.ifindex = input_ifindex;
      slot.rate = rate;
      return;
    }
  }
}

uint32_t FlowMeter::RateOf(uint32_t input_ifindex) const {
  for (uint32_t i = FirstRateSlot(input_ifindex);; i = (i + 1) & (kRateSlots - 1)) {
    const RateSlot& slot = rates_[i];
    if (slot.rate == 0) return last_rate_;
    if (slot.ifindex == input_ifindex) return slot.rate;
  }
}

bool KeyPacket(const hal::PacketSample& s, const FlowKeyOptions& options, FlowPacket* fp,
               FlowMeterStats* stats) {
  ++stats->packets;
  packet::ParsedPacket p;
  switch (packet::ParsePacket(s.header, s.link_type, &p)) {
    case ParseError::kNone:
    case ParseError::kTruncatedL4:           // ports may be missing: keyed as 0
    case ParseError::kExtensionHeaderLimit:  // keyed by the header where the walk stopped
      break;
    case ParseError::kTruncatedL2:
    case ParseError::kTruncatedL3:
      ++stats->truncated;
      return false;
    case ParseError::kNotIp:
    case ParseError::kTooManyTags:
    case ParseError::kBadIpVersion:
      ++stats->not_ip;
      return false;
    case ParseError::kBadIpHeaderLength:
      ++stats->bad_length;
      return false;
  }
  if (p.ip_version == 0) {  // kTooManyTags before any IP header ends above; be safe anyway
    ++stats->not_ip;
    return false;
  }
  if (p.ip_version == 6 && p.ip_length == kIpv6HeaderBytes && p.protocol != kProtoNoNextHeader) {
    ++stats->ipv6_zero_length;
    return false;
  }
  // Bytes the frame holds from the IP header on; the IP length must fit in them.
  const uint64_t before_ip = uint64_t{s.stripped} + p.l3_offset;
  if (p.ip_length == 0 || s.frame_length < before_ip || s.frame_length - before_ip < p.ip_length) {
    ++stats->bad_length;
    return false;
  }
  if (!BuildFlowKey(p, s, options, &fp->key)) {  // not reached: errors are filtered above
    ++stats->not_ip;
    return false;
  }
  if (p.is_fragment) ++stats->fragments;
  ++stats->metered;
  fp->ip_bytes = p.ip_length;
  fp->tcp_flags = p.tcp_flags;
  fp->now_ms = FlowMs(s.timestamp);
  return true;
}

void FlowMeter::OnSample(const hal::PacketSample& s) {
  FlowPacket& fp = pending_[pending_count_];
  if (!KeyPacket(s, key_options_, &fp, &stats_)) return;
  const uint32_t rate = s.sampling_rate == 0 ? 1 : s.sampling_rate;
  SetRate(s.input_ifindex, rate);
  if (batch_ == 1) {
    cache_.Add(fp.key, fp.ip_bytes, fp.tcp_flags, fp.now_ms, stamper_);
    return;
  }
  if (++pending_count_ == batch_) FlushPending();
}

void FlowMeter::AddKeyed(const FlowPacket* packets, const uint32_t* rates, size_t count) {
  FlushPending();
  for (size_t i = 0; i < count; ++i) SetRate(packets[i].key.input_ifindex, rates[i]);
  cache_.AddBatch(packets, count, stamper_);
}

void FlowMeter::FlushPending() {
  if (pending_count_ == 0) return;
  cache_.AddBatch(pending_, pending_count_, stamper_);
  pending_count_ = 0;
}

void FlowMeter::Tick(hal::base::MonoTime flow_now) {
  FlushPending();
  cache_.Expire(FlowMs(flow_now), stamper_);
}

void FlowMeter::Flush(hal::base::MonoTime flow_now) {
  FlushPending();
  cache_.Flush(FlowMs(flow_now), stamper_);
}

FlowMeterStats FlowMeter::stats() const {
  FlowMeterStats out = stats_;
  const FlowCacheStats& c = cache_.stats();
  out.flows_created = c.created;
  out.active_flows = c.active_flows;
  out.bytes = c.bytes;
  std::copy(std::begin(c.records), std::end(c.records), std::begin(out.records_by_reason));
  out.evictions = c.evictions;
  return out;
}

void AddMeterStats(FlowMeterStats& a, const FlowMeterStats& b) {
  a.packets += b.packets;
  a.metered += b.metered;
  a.not_ip += b.not_ip;
  a.truncated += b.truncated;
  a.bad_length += b.bad_length;
  a.ipv6_zero_length += b.ipv6_zero_length;
  a.fragments += b.fragments;
  a.flows_created += b.flows_created;
  a.active_flows += b.active_flows;
  a.bytes += b.bytes;
  for (size_t i = 0; i < 6; ++i) a.records_by_reason[i] += b.records_by_reason[i];
  a.evictions += b.evictions;
  a.rate_table_full += b.rate_table_full;
}

}  // namespace xflowd::agent::flow
