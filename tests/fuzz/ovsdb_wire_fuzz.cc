// libFuzzer target for the OVSDB wire layer (hal/ovs/ovsdb_wire.h): the input is a byte stream
// from ovsdb-server, split into JSON texts at a chunk size the first byte picks; each text is
// classified, updates and replies are applied to a long-lived model (as a connection does),
// and the transact-reply readers run on it too.
#include <cstddef>
#include <cstdint>
#include <string>

#include "hal/ovs/ovsdb_wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace xflowd::hal::ovs;
  static OvsdbModel* model = new OvsdbModel();
  if (size == 0) return 0;
  const size_t chunk = 1 + data[0] % 64;
  ++data;
  --size;
  JsonStreamSplitter splitter;
  for (size_t off = 0; off < size; off += chunk) {
    const size_t n = size - off < chunk ? size - off : chunk;
    splitter.Feed(reinterpret_cast<const char*>(data + off), n);
    for (;;) {
      auto next = splitter.Next();
      if (!next.ok() || !next->has_value()) break;
      auto m = ParseMessage(**next);
      if (!m.ok()) continue;
      if (!m->update_json.empty()) (void)model->ApplyUpdates(m->update_json);
      if (!m->result_json.empty()) {
        (void)model->ApplyUpdates(m->result_json);
        (void)TransactError(m->result_json);
        (void)InsertedUuid(m->result_json, 0);
        (void)SelectedSampling(m->result_json);
      }
      if (m->kind == OvsdbMessage::Kind::kRequest) (void)EchoReply(*m);
    }
  }
  // Whatever the model holds, the lookups hold up.
  for (const auto& b : model->bridges()) {
    (void)model->FindSflow(b.second.sflow);
    for (const std::string& p : b.second.ports) (void)model->BridgeOfInterface(p);
  }
  if (model->interfaces().size() > 1000) model->Clear();
  return 0;
}
