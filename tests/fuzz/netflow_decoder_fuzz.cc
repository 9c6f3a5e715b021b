// libFuzzer target for the NetFlow v5 / v9 / IPFIX decoder. ASan proves the decoder never reads
// past the message (libFuzzer hands us a heap buffer of exactly `size` bytes); the checks below
// catch results that contradict the input. The input is decoded twice with one decoder, so the
// second pass runs against the templates the first one cached (as a collector would).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "exporter/netflow/netflow_decoder.h"

namespace {

namespace nf = xflowd::exporter::netflow;

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckMessage(const nf::DecodedMessage& m, size_t size) {
  // Every template field takes 4 bytes, every data record at least 1, every set 4.
  size_t bytes = 4 * m.set_ids.size();
  for (const nf::DecodedTemplate& t : m.templates) {
    bytes += 4 + 4 * t.fields.size();
    Check(t.fields.size() == t.enterprises.size());
    Check(t.scope_count <= t.fields.size());
    Check(t.withdrawal || t.id >= 256);
  }
  bytes += m.flows.size();
  for (const nf::DecodedOptionsRecord& o : m.options) {
    size_t record = 0;
    for (const nf::DecodedOptionValue& v : o.values) record += v.value.size();
    bytes += record == 0 ? 1 : record;
  }
  if (m.version != nf::Version::kV5) Check(bytes <= size);
  Check(m.data_record_count == m.flows.size() + m.options.size());
  Check(m.record_count == m.data_record_count + m.templates.size());
  if (m.version == nf::Version::kV5) {
    Check(m.flows.size() == m.count && size == 24 + 48 * m.flows.size());
  }
  if (m.version == nf::Version::kIpfix) Check(m.length == size);
  for (const nf::DecodedFlow& f : m.flows) Check(f.record.sampling_rate >= 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nf::NetflowDecoder decoder;
  for (int pass = 0; pass < 2; ++pass) {
    auto r = decoder.Decode(xflowd::hal::base::ByteView(data, size));
    if (!r.ok()) {
      Check(r.status().message().rfind("offset ", 0) == 0);
      continue;
    }
    CheckMessage(*r, size);
  }
  Check(decoder.template_count() <= nf::NetflowDecoder::kMaxTemplates);
  return 0;
}
