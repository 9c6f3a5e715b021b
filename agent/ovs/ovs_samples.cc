#include "agent/ovs/ovs_samples.h"

#include <variant>

#include "exporter/sflow/sflow_decoder.h"

namespace xflowd::agent::ovs {

using hal::base::LogLevel;
namespace sf = ::xflowd::exporter::sflow;

namespace {
// A larger jump in OVS's sample sequence is a restart, not a loss.
constexpr uint32_t kMaxPlausibleGap = 1u << 20;
}  // namespace

size_t OvsSampleTranslator::HandleDatagram(hal::base::ByteView datagram, uint16_t source_key,
                                           hal::PacketSampleSink& sink) {
  ++stats_.datagrams;
  auto d = sf::DecodeDatagram(datagram);
  if (!d.ok()) {
    ++stats_.bad_datagrams;
    data_log_.Log(clock_.Now(), LogLevel::kWarning, "OVS sFlow datagram dropped: %s",
                  d.status().message().c_str());
    return 0;
  }
  size_t handed = 0;
  const hal::base::MonoTime now = clock_.Now();
  for (const sf::DecodedSample& sample : d->samples) {
    if (std::holds_alternative<sf::DecodedCounterSample>(sample)) {
      ++stats_.counter_samples;
      continue;
    }
    const auto* fs = std::get_if<sf::DecodedFlowSample>(&sample);
    if (fs == nullptr) continue;
    // OVS samples per bridge: one data source (2:1000 on every bridge) with one sequence and
    // one pool for all its ports; the port is the sample's input.
    if (fs->input.format != 0 || ports_.count(fs->input.value) == 0) {
      ++stats_.unmapped_samples;
      continue;
    }
    const sf::DecodedSampledHeader* hdr = nullptr;
    for (const sf::DecodedFlowRecord& r : fs->records) {
      hdr = std::get_if<sf::DecodedSampledHeader>(&r);
      if (hdr != nullptr) break;
    }
    if (hdr == nullptr || hdr->protocol != sf::kHeaderEthernet) {
      ++stats_.no_header;
      continue;
    }
    DataSource& src = sources_[(static_cast<uint64_t>(source_key) << 32) | fs->source.index];
    if (src.seen) {
      const uint32_t gap = fs->sequence - src.sequence - 1;  // wraps by design
      // Backwards or far ahead: ovs-vswitchd restarted and numbers from 1 again.
      if (gap < kMaxPlausibleGap) {
        stats_.lost_samples += gap;
      }
      if (fs->drops - src.drops < 0x80000000u) stats_.ovs_drops += fs->drops - src.drops;
    }
    src.seen = true;
    src.sequence = fs->sequence;
    src.drops = fs->drops;

    hal::PacketSample s;
    s.direction = hal::Direction::kIngress;
    s.input_ifindex = fs->input.value;
    if (fs->output.format == 0 && ports_.count(fs->output.value) > 0) {
      s.output_ifindex = fs->output.value;
    }
    s.frame_length = hdr->frame_length;
    s.stripped = hdr->stripped;
    s.sampling_rate = fs->sampling_rate;
    s.timestamp = now;
    s.link_type = hal::LinkType::kEthernet;
    s.header = hal::base::ByteView(hdr->header.data(), hdr->header.size());
    sink.OnSample(s);
    ++stats_.flow_samples;
    ++handed;
  }
  return handed;
}

hal::PacketSourceStats OvsSampleTranslator::source_stats() const {
  hal::PacketSourceStats s;
  s.samples = stats_.flow_samples;
  s.source_drops = stats_.lost_samples;
  s.parse_errors = stats_.bad_datagrams + stats_.no_header;
  return s;
}

}  // namespace xflowd::agent::ovs
