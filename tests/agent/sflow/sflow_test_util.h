// What the sFlow agent tests read back: every datagram a CaptureTransport captured, through the
// project's decoder (exporter/sflow/sflow_decoder.h). The decoder checks every length, rejects
// bytes left over, and insists each known record is exactly its format's size, so a test that
// reads a field through these helpers also checks that the datagram around it is well formed.
// Everything returned owns its memory; nothing points into the transport.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "exporter/sflow/sflow_decoder.h"
#include "hal/base/byte_view.h"
#include "tests/support/capture_transport.h"

namespace xflowd::agent::sflow::testing {

namespace wire = ::xflowd::exporter::sflow;

// Every datagram `t` captured, decoded, in order. A datagram the decoder rejects is a test
// failure (with its index and the decoder's message) and stands as an empty DecodedDatagram
// (version 0, no samples), so indices still match t.datagrams().
inline std::vector<wire::DecodedDatagram> DecodeAll(const xflowd::testing::CaptureTransport& t) {
  std::vector<wire::DecodedDatagram> out;
  for (const std::vector<uint8_t>& bytes : t.datagrams()) {
    auto d = wire::DecodeDatagram(hal::base::ByteView(bytes.data(), bytes.size()));
    if (d.ok()) {
      out.push_back(std::move(d).value());
    } else {
      ADD_FAILURE() << "malformed datagram " << out.size() << ": " << d.status().ToString();
      out.emplace_back();
    }
  }
  return out;
}

// The samples of every datagram `t` captured, in order.
inline std::vector<wire::DecodedSample> AllSamples(const xflowd::testing::CaptureTransport& t) {
  std::vector<wire::DecodedSample> out;
  for (wire::DecodedDatagram& d : DecodeAll(t)) {
    for (wire::DecodedSample& s : d.samples) out.push_back(std::move(s));
  }
  return out;
}

// The samples of every datagram `t` captured, for a test that expects only one kind
// (DecodedFlowSample or DecodedCounterSample): a sample of any other kind is a test failure and
// is left out.
template <typename Sample>
std::vector<Sample> SamplesOf(const xflowd::testing::CaptureTransport& t) {
  std::vector<Sample> out;
  size_t index = 0;
  for (wire::DecodedSample& s : AllSamples(t)) {
    if (Sample* x = std::get_if<Sample>(&s)) {
      out.push_back(std::move(*x));
    } else {
      const uint32_t tag = wire::SampleTag(s);
      ADD_FAILURE() << "sample " << index << " is a " << wire::SampleName(tag) << " ("
                    << wire::TagEnterprise(tag) << ":" << wire::TagFormat(tag) << ")";
    }
    ++index;
  }
  return out;
}
inline std::vector<wire::DecodedFlowSample> FlowSamples(
    const xflowd::testing::CaptureTransport& t) {
  return SamplesOf<wire::DecodedFlowSample>(t);
}
inline std::vector<wire::DecodedCounterSample> CounterSamples(
    const xflowd::testing::CaptureTransport& t) {
  return SamplesOf<wire::DecodedCounterSample>(t);
}

// A field of a flow, counter or discard sample, read by `field` (a generic lambda). An unknown
// sample is a test failure and reads as T{}.
template <typename T, typename Field>
T KnownSampleField(const wire::DecodedSample& s, Field field) {
  return std::visit(
      [&](const auto& x) -> T {
        if constexpr (std::is_same_v<std::decay_t<decltype(x)>, wire::UnknownSample>) {
          ADD_FAILURE() << "unknown sample " << x.enterprise << ":" << x.format;
          return T{};
        } else {
          return field(x);
        }
      },
      s);
}
inline uint32_t SequenceOf(const wire::DecodedSample& s) {
  return KnownSampleField<uint32_t>(s, [](const auto& x) { return x.sequence; });
}
inline wire::DataSource SourceOf(const wire::DecodedSample& s) {
  return KnownSampleField<wire::DataSource>(s, [](const auto& x) { return x.source; });
}

// The first record of type `Record` in a sample's records, or nullptr.
template <typename Record, typename Variant>
const Record* FindRecord(const std::vector<Variant>& records) {
  for (const Variant& r : records) {
    if (const Record* x = std::get_if<Record>(&r)) return x;
  }
  return nullptr;
}

}  // namespace xflowd::agent::sflow::testing
