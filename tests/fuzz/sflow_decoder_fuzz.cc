// libFuzzer target for the sFlow v5 datagram decoder. ASan proves the decoder never reads past
// the datagram (libFuzzer hands us a heap buffer of exactly `size` bytes) and that a hostile
// count cannot make it allocate without bound; the checks below catch results that contradict
// the input they came from.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <variant>

#include "exporter/sflow/sflow_decoder.h"

namespace {

namespace sf = xflowd::exporter::sflow;

void Check(bool ok) {
  if (!ok) std::abort();
}

// Every sample and record takes at least 8 bytes (tag, length) of the datagram, and whatever
// the decoder copied out came from it.
size_t CheckFlowRecords(const std::vector<sf::DecodedFlowRecord>& records, size_t size) {
  size_t bytes = 0;
  for (const sf::DecodedFlowRecord& r : records) {
    bytes += 8;
    if (const auto* h = std::get_if<sf::DecodedSampledHeader>(&r)) bytes += h->header.size();
    if (const auto* u = std::get_if<sf::UnknownRecord>(&r)) bytes += u->data.size();
    if (const auto* g = std::get_if<sf::DecodedExtendedGateway>(&r)) {
      for (const auto& s : g->dst_as_path) bytes += 8 + 4 * s.as_numbers.size();
      bytes += 4 * g->communities.size();
    }
    Check(sf::FlowRecordName(sf::RecordTag(r)) != nullptr);
  }
  Check(bytes <= size);
  return bytes;
}

size_t CheckCounterRecords(const std::vector<sf::DecodedCounterRecord>& records, size_t size) {
  size_t bytes = 0;
  for (const sf::DecodedCounterRecord& r : records) {
    bytes += 8;
    if (const auto* p = std::get_if<sf::DecodedPortName>(&r)) {
      Check(p->name.size() <= 255);
      bytes += p->name.size();
    }
    if (const auto* u = std::get_if<sf::UnknownRecord>(&r)) bytes += u->data.size();
    Check(sf::CounterRecordName(sf::RecordTag(r)) != nullptr);
  }
  Check(bytes <= size);
  return bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = sf::DecodeDatagram(xflowd::hal::base::ByteView(data, size));
  if (!r.ok()) {
    Check(!r.status().message().empty());
    return 0;
  }
  const sf::DecodedDatagram& d = *r;
  Check(d.version == sf::kVersion5);
  size_t bytes = 0;
  for (const sf::DecodedSample& s : d.samples) {
    bytes += 8;
    Check(sf::SampleName(sf::SampleTag(s)) != nullptr);
    if (const auto* fs = std::get_if<sf::DecodedFlowSample>(&s)) {
      bytes += CheckFlowRecords(fs->records, size);
    } else if (const auto* cs = std::get_if<sf::DecodedCounterSample>(&s)) {
      bytes += CheckCounterRecords(cs->records, size);
    } else if (const auto* ds = std::get_if<sf::DecodedDiscardSample>(&s)) {
      bytes += CheckFlowRecords(ds->records, size);
    } else {
      bytes += std::get<sf::UnknownSample>(s).data.size();
    }
  }
  Check(bytes <= size);
  return 0;
}
