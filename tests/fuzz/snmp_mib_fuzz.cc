// The sFlow MIB's decoding of what a manager sends: OIDs (the data-source index above all) and
// set values. Input: a type byte, a value, then 32-bit sub-identifiers (little-endian). Checks
// that every OID that decodes encodes back to itself and that checking a value never crashes.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "agent/snmp/sflow_mib.h"

using xflowd::agent::snmp::CheckValue;
using xflowd::agent::snmp::Decode;
using xflowd::agent::snmp::Encode;
using xflowd::agent::snmp::Name;
using xflowd::agent::snmp::Object;
using xflowd::agent::snmp::Oid;
using xflowd::agent::snmp::Value;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 9) return 0;
  Value v;
  int64_t integer = 0;
  std::memcpy(&integer, data + 1, 8);
  if (data[0] & 1) {
    v = Value::Int(integer);
  } else {
    v = Value::Str(std::string(reinterpret_cast<const char*>(data + 1), (data[0] >> 1) % 9));
  }
  data += 9;
  size -= 9;
  Oid oid = xflowd::agent::snmp::kSflowAgentOid;  // most inputs then reach the tables
  if (size > 0 && (data[0] & 0x80) != 0) oid.clear();
  for (size_t i = 0; i + 4 <= size; i += 4) {
    uint32_t sub;
    std::memcpy(&sub, data + i, 4);
    oid.push_back(sub);
  }
  const Name n = Decode(oid.data(), oid.size());
  if (n.object != Object::kNone && Encode(n) != oid) __builtin_trap();
  (void)CheckValue(n, v);
  return 0;
}
