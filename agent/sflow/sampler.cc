#include "agent/sflow/sampler.h"

#include "agent/packet/packet_parser.h"

namespace xflowd::agent::sflow {
namespace {

constexpr uint32_t kCompactIndexLimit = 1u << 24;
// A forward jump in the source's sequence larger than this is not a gap but a restart (or a
// reordering backwards, which wraps to a huge value): resync without counting drops.
constexpr uint32_t kMaxPlausibleGap = 1u << 24;
// Bytes of a flow sample besides its header bytes, at most: tag and length, the expanded
// fields, and the sampled header (with its padding), switch, router (IPv6 next hop) and
// timestamp records (152).
constexpr size_t kFlowSampleOverheadMax = 160;
// Export budget recovery: the rate halves back towards the configured one after this many
// ticks in a row that each exported at most a quarter of the budget (so the halved rate still
// stays near half of it: no flapping between two rates).
constexpr uint32_t kCalmTicksBeforeRecovery = 10;

}  // namespace

Sampler::Sampler(uint32_t ifindex, hal::Direction direction, const SamplerConfig& config,
                 Receiver& receiver, hal::base::Prng& prng, const hal::base::Clock& clock,
                 hal::SamplingControl* control)
    : ifindex_(ifindex),
      direction_(direction),
      config_(config),
      receiver_(&receiver),
      prng_(prng),
      clock_(clock),
      control_(control),
      rate_(config.sampling_rate),
      floor_rate_(config.sampling_rate) {}

void Sampler::Reconfigure(const SamplerConfig& config) {
  const bool rate_changed = config.sampling_rate != config_.sampling_rate ||
                            config.max_samples_per_s != config_.max_samples_per_s;
  // Off (rate 0) ignored the source's samples: their sequence gap is not a loss.
  if (config_.sampling_rate == 0) have_source_seq_ = false;
  config_ = config;
  router_ = config_.extended_router ? routes_ : nullptr;
  if (!rate_changed) return;
  rate_ = config.sampling_rate;
  floor_rate_ = config.sampling_rate;
  calm_ticks_ = 0;
  skip_ = 0;  // the next countdown is drawn at the new rate
}

void Sampler::set_receiver(Receiver* receiver) {
  // Samples ignored while idle left a gap in the source's sequence: not a loss to report.
  if (receiver_ == nullptr) have_source_seq_ = false;
  receiver_ = receiver;
}

uint32_t Sampler::NextSkip(uint32_t n) {
  if (n <= 1) return 1;
  const uint32_t hi = n >= 0x80000000u ? 0xFFFFFFFFu : 2 * n - 1;
  return prng_.Uniform(1, hi);
}

bool Sampler::Take(uint32_t n) {
  if (skip_ == 0) skip_ = NextSkip(n);  // first packet, or countdown not started
  if (--skip_ > 0) return false;
  skip_ = NextSkip(n);
  return true;
}

void Sampler::OnSample(const hal::PacketSample& sample) {
  // Disabled, or idle: attached to no receiver (sFlowFsReceiver 0).
  if (rate_ == 0 || receiver_ == nullptr) return;
  if (config_.external_pool) pool_ += sample.pool_added;

  // A source that numbers its samples sampled them, even at 1-in-1: its gaps are drops.
  if (sample.sampling_rate <= 1 && !sample.has_source_sequence) {
    hardware_input_ = false;
    if (!config_.external_pool) ++pool_;
    if (Take(rate_)) Export(sample, rate_);
    return;
  }

  hardware_input_ = true;
  const uint32_t hw_rate = sample.sampling_rate;
  uint32_t gap = 0;
  if (sample.has_source_sequence) {
    if (have_source_seq_) {
      const uint32_t d = sample.source_sequence - last_source_seq_ - 1;  // wraps by design
      if (d < kMaxPlausibleGap) gap = d;
    }
    have_source_seq_ = true;
    last_source_seq_ = sample.source_sequence;
  }
  drops_ += gap;
  stats_.source_drops += gap;
  // Every packet the hardware looked at, including those behind the lost samples. 32-bit
  // arithmetic wraps, as the sFlow counter does.
  if (!config_.external_pool) pool_ += hw_rate * (1 + gap);

  if (rate_ <= hw_rate) {
    skip_ = 0;
    Export(sample, hw_rate);
    return;
  }
  // The budget pushed our rate above what the hardware samples at: take 1 in k of its
  // samples. Report k x R, the rate these samples were really taken at (== rate_ when the
  // hardware applied an earlier rate_ / 2^j, the usual case).
  const uint32_t k = rate_ / hw_rate;
  if (Take(k)) Export(sample, k * hw_rate);
}

void Sampler::Export(const hal::PacketSample& sample, uint32_t reported_rate) {
  namespace pkt = ::xflowd::agent::packet;

  wire::ExtendedSwitch sw;
  pkt::ParsedPacket parsed;
  const pkt::ParseError err = pkt::ParsePacket(sample.header, sample.link_type, &parsed);
  const bool ethernet = sample.link_type == hal::LinkType::kEthernet;
  // sFlow has no header_protocol for cooked or loopback headers: those samples go out from the
  // IP header on (IPv4 11 / IPv6 12), and without a header record if there is no IP header.
  const bool has_header = ethernet || parsed.ip_version != 0;
  if ((err != pkt::ParseError::kNone && err != pkt::ParseError::kNotIp) || !has_header) {
    ++stats_.header_errors;
  }
  if (sample.vlan_valid) {
    sw.src_vlan = sample.vlan_tci & 0x0FFFu;
    sw.src_priority = sample.vlan_tci >> 13;
  } else if (parsed.vlan_count > 0) {
    sw.src_vlan = parsed.vlan_id[0];
    sw.src_priority = parsed.vlan_pcp[0];
  }
  // We do not know the egress tagging; same VLAN is what bridged traffic does.
  sw.dst_vlan = sw.src_vlan;
  sw.dst_priority = sw.src_priority;

  wire::SampledHeader hdr;
  hdr.frame_length = sample.frame_length;
  hdr.stripped = sample.stripped;
  hdr.header = sample.header.Subview(0, config_.header_bytes);
  if (!ethernet) {
    // The pseudo-header is not on the wire: neither in the header nor in the frame length.
    const uint32_t l3 = parsed.l3_offset;
    hdr.protocol = parsed.ip_version == 6 ? wire::kHeaderIpv6 : wire::kHeaderIpv4;
    hdr.frame_length = sample.frame_length > l3 ? sample.frame_length - l3 : 0;
    hdr.header = sample.header.Subview(l3, config_.header_bytes);
  }

  // Built in place: assigning into default-made variants costs the sample path measurably.
  wire::FlowRecord records[4] = {hdr, sw, wire::ExtendedTimestamp{}, wire::ExtendedTimestamp{}};
  uint32_t record_count = 2;
  if (!has_header) {
    records[0] = sw;
    record_count = 1;
  }
  if (router_ != nullptr && parsed.ip_version != 0) {
    AddRouterRecord(parsed, records, &record_count);
  }
  if (config_.timestamp_record) {
    records[record_count++] = wire::ExtendedTimestamp{static_cast<uint64_t>(clock_.WallNow().ns())};
  }

  wire::FlowSample fs;
  fs.expanded = config_.expanded || ifindex_ >= kCompactIndexLimit ||
                sample.input_ifindex >= kCompactIndexLimit ||
                sample.output_ifindex >= kCompactIndexLimit;
  fs.sequence = sequence_ + 1;
  fs.source = wire::DataSource{0, ifindex_};
  fs.sampling_rate = reported_rate;
  fs.sample_pool = pool_;
  fs.drops = drops_;
  fs.input = wire::Interface{0, sample.input_ifindex};
  fs.output = wire::Interface{0, sample.output_ifindex};
  fs.records = records;
  fs.record_count = record_count;

  // Only a datagram limit too small for a whole header pays for the size computation.
  if (has_header && hdr.header.size() + kFlowSampleOverheadMax > receiver_->sample_room()) {
    if (TrimHeaderToFit(fs, hdr)) records[0] = hdr;
  }
  if (!receiver_->Add(fs)) {
    // Lost here, not on the network: say so in drops and keep the sequence unbroken.
    ++drops_;
    ++stats_.oversize_drops;
    return;
  }
  sequence_ = fs.sequence;
  ++stats_.samples;
  ++in_this_tick_;
}

void Sampler::AddRouterRecord(const packet::ParsedPacket& parsed, wire::FlowRecord* records,
                              uint32_t* record_count) {
  const bool v6 = parsed.ip_version == 6;
  // Both walks at once: the source's is needed whenever the destination has a route.
  const auto [dst, src] = v6 ? router_->Lookup6Pair(parsed.dst_ip, parsed.src_ip)
                             : router_->Lookup4Pair(parsed.dst_ip, parsed.src_ip);
  if (dst == nullptr) {
    ++stats_.no_route;
    return;
  }
  // Built in place: no temporary record copied into the variant.
  wire::ExtendedRouter& r = records[(*record_count)++].emplace<wire::ExtendedRouter>();
  // An on-link route has no gateway: the destination itself is the next hop.
  if (dst->gateway.family() != hal::base::IpAddress::Family::kNone) {
    r.next_hop = dst->gateway;
  } else {
    r.next_hop =
        v6 ? hal::base::IpAddress::V6(parsed.dst_ip) : hal::base::IpAddress::V4(parsed.dst_ip);
  }
  r.src_mask_len = src != nullptr ? src->prefix_len : 0;
  r.dst_mask_len = dst->prefix_len;
  ++stats_.router_records;
}

bool Sampler::TrimHeaderToFit(const wire::FlowSample& fs, wire::SampledHeader& hdr) {
  const size_t size = wire::EncodedSize(fs);
  const size_t room = receiver_->sample_room();
  if (size <= room) return false;
  // The header bytes are padded to 4 on the wire; the record carries the length kept.
  const size_t padded = (hdr.header.size() + 3) & ~size_t{3};
  const size_t excess = size - room;
  if (excess > padded) return false;  // not even an empty header fits: the receiver drops it
  hdr.header = hdr.header.Subview(0, (padded - excess) & ~size_t{3});
  ++stats_.headers_trimmed;
  return true;
}

void Sampler::Tick(hal::base::MonoTime /*now*/) {
  const uint32_t exported = in_this_tick_;
  in_this_tick_ = 0;
  if (rate_ == 0 || config_.max_samples_per_s == 0) return;
  if (exported > config_.max_samples_per_s) {
    calm_ticks_ = 0;
    const uint32_t wanted = rate_ >= 0x80000000u ? 0xFFFFFFFFu : rate_ * 2;
    ++stats_.backoffs;
    // Keep the doubled rate even if the platform refuses it: the sampler sub-samples what
    // the hardware still sends.
    const uint32_t applied = Program(wanted);
    rate_ = applied > 0 ? applied : wanted;
    return;
  }
  if (rate_ <= floor_rate_ || uint64_t{exported} * 4 > config_.max_samples_per_s) {
    calm_ticks_ = 0;
    return;
  }
  if (++calm_ticks_ < kCalmTicksBeforeRecovery) return;
  calm_ticks_ = 0;
  const uint32_t wanted = rate_ / 2 > floor_rate_ ? rate_ / 2 : floor_rate_;
  const uint32_t applied = Program(wanted);
  // Refused: the hardware still samples at rate_; try again after the next calm stretch.
  if (applied == 0) return;
  if (applied >= rate_) {
    // The platform cannot go lower (it rounds to what it has): that is the floor now.
    floor_rate_ = rate_;
    return;
  }
  ++stats_.recoveries;
  rate_ = applied;
}

uint32_t Sampler::Program(uint32_t wanted) {
  if (control_ == nullptr || !hardware_input_) return wanted;
  hal::base::Result<uint32_t> applied =
      control_->SetSamplingRate(ifindex_, direction_, wanted, config_.header_bytes);
  if (applied.ok() && *applied > 0) return *applied;
  ++stats_.control_errors;
  return 0;
}

}  // namespace xflowd::agent::sflow
