#include "agent/sflow/discard_notifier.h"

namespace xflowd::agent::sflow {
namespace {

constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint16_t kEtherTypeIpv6 = 0x86DD;
constexpr uint32_t kFcsBytes = 4;

uint32_t Hash(uint32_t ifindex) { return ifindex * 2654435761u; }

}  // namespace

DiscardNotifier::DiscardNotifier(const DiscardConfig& config, Receiver* receiver, uint64_t seed)
    : config_(config), receiver_(receiver), prng_(seed), budget_(config.max_per_s) {
  skip_ = NextSkip();
}

uint32_t DiscardNotifier::NextSkip() {
  const uint32_t n = config_.sampling_rate == 0 ? 1 : config_.sampling_rate;
  return n == 1 ? 1 : prng_.Uniform(1, 2 * n - 1);
}

void DiscardNotifier::Reconfigure(const DiscardConfig& config) {
  const bool new_rate = config.sampling_rate != config_.sampling_rate;
  config_ = config;
  if (new_rate) skip_ = NextSkip();
  if (budget_ > config_.max_per_s) budget_ = config_.max_per_s;
}

void DiscardNotifier::Tick(hal::base::MonoTime) { budget_ = config_.max_per_s; }

const DiscardNotifier::Slot* DiscardNotifier::FindSlot(uint32_t ifindex) const {
  if (ifindex == 0) return &device_;
  for (size_t i = 0, h = Hash(ifindex); i < kTableSize; ++i) {
    const Slot& s = slots_[(h + i) & (kTableSize - 1)];
    if (!s.used) return nullptr;
    if (s.ifindex == ifindex) return &s;
  }
  return nullptr;
}

DiscardNotifier::Slot* DiscardNotifier::SlotFor(uint32_t ifindex, bool create) {
  if (ifindex == 0) return &device_;
  for (size_t i = 0, h = Hash(ifindex); i < kTableSize; ++i) {
    Slot& s = slots_[(h + i) & (kTableSize - 1)];
    if (s.used && s.ifindex == ifindex) return &s;
    if (!s.used) {
      // Keep a quarter free so probes stay short; the rest go to 0:0.
      if (!create || used_slots_ >= kTableSize * 3 / 4) break;
      s.used = true;
      s.ifindex = ifindex;
      ++used_slots_;
      return &s;
    }
  }
  ++stats_.untracked;
  return &device_;
}

uint32_t DiscardNotifier::sequence(uint32_t ifindex) const {
  const Slot* s = FindSlot(ifindex);
  return s == nullptr ? 0 : s->sequence;
}

void DiscardNotifier::OnDrop(const hal::DropEvent& event) {
  ++stats_.events;
  ++(event.origin == hal::DropOrigin::kHardware ? stats_.hardware : stats_.software);
  const int32_t reason = reasons_.Map(event);
  if (reason == DropReasonMap::kIgnore) {
    ++stats_.ignored;
    return;
  }
  if (--skip_ > 0) {
    ++stats_.sampled_out;
    return;
  }
  skip_ = NextSkip();
  Slot* slot = SlotFor(event.input_ifindex, true);
  if (budget_ == 0) {
    ++stats_.rate_limited;
    ++slot->pending_drops;
    return;
  }
  if (receiver_ == nullptr) {
    ++stats_.no_receiver;
    return;
  }
  --budget_;

  wire::SampledHeader hdr;
  const hal::base::ByteView payload = event.payload;
  // A software drop's bytes usually start at the network header: say so when the first nibble
  // agrees with the ethertype (a MAC address starting 0x4_/0x6_ is locally administered or
  // multicast and rare as a destination of a dropped frame).
  const uint8_t version = payload.empty() ? 0 : payload[0] >> 4;
  const bool ipv4 = event.protocol == kEtherTypeIpv4 && version == 4 &&
                    event.origin == hal::DropOrigin::kSoftware;
  const bool ipv6 = event.protocol == kEtherTypeIpv6 && version == 6 &&
                    event.origin == hal::DropOrigin::kSoftware;
  if (ipv4 || ipv6) {
    hdr.protocol = ipv4 ? wire::kHeaderIpv4 : wire::kHeaderIpv6;
    hdr.frame_length = event.original_length;
    hdr.stripped = 0;
  } else {
    hdr.protocol = wire::kHeaderEthernet;
    // skb->len has no FCS; sFlow's frame_length counts it (and stripped says it is not in the
    // header bytes), as for flow samples.
    hdr.frame_length = event.original_length + kFcsBytes;
    hdr.stripped = kFcsBytes;
  }
  if (hdr.frame_length < payload.size()) hdr.frame_length = static_cast<uint32_t>(payload.size());
  hdr.header = payload.Subview(0, config_.header_bytes);
  const wire::FlowRecord record = hdr;

  wire::DiscardSample ds;
  ds.sequence = slot->sequence + 1;
  ds.source = {0, slot == &device_ ? 0 : slot->ifindex};
  ds.drops = slot->pending_drops;
  ds.input = event.input_ifindex;
  ds.output = 0;
  ds.reason = static_cast<uint32_t>(reason);
  ds.records = &record;
  ds.record_count = 1;
  if (!receiver_->Add(ds)) {
    ++stats_.oversize;
    ++slot->pending_drops;
    return;
  }
  slot->sequence = ds.sequence;
  slot->pending_drops = 0;
  ++stats_.exported;
}

}  // namespace xflowd::agent::sflow
