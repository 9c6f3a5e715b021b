// xflowdump's record printers derived from the sFlow record field lists (sflow_types.h): a
// record type with no layout of its own in datagram_format.cc is printed field by field, and
// every record's JSON body is its fields under the struct member names.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "exporter/sflow/sflow_types.h"
#include "hal/base/ip_address.h"
#include "tools/xflowdump/datagram_format.h"
#include "tools/xflowdump/json_writer.h"

namespace xflowd::tools::xflowdump {

// "aa:bb:cc:dd:ee:ff" of 6 bytes.
std::string MacText(const uint8_t* m);
// "01234567-89ab-cdef-0123-456789abcdef" of 16 bytes.
std::string UuidText(const uint8_t* u);
// A float with 2 decimals ("0.25").
std::string FloatText(float x);
// The address, or "unknown" for the XDR address type 0.
std::string AddressOrUnknown(const hal::base::IpAddress& a);
// Bytes as sent, with anything but printable ASCII shown as '?'.
std::string Printable(const std::string& s);
// The name of a named u32 value (header protocol, drop reason); nullptr if unassigned.
const char* ValueName(exporter::sflow::ValueNames names, uint32_t value);
// 16 bytes a line: "<indent>0010  0a 00 ...".
void HexLines(const uint8_t* data, size_t size, const char* indent, std::string* out);
// "key": "address", or null for the XDR address type 0.
void JsonIp(const char* key, const hal::base::IpAddress& a, JsonWriter* w);
// "key": value, then "key_name": its name or null.
void JsonNamed(const char* key, uint32_t value, exporter::sflow::ValueNames names, JsonWriter* w);

// Text: "  field value" in wire order (arrays of records as "[{ ... } { ... }]"), then a hex
// dump of each opaque field when TextOptions::hex is set.
class TextFields {
 public:
  using FieldName = exporter::sflow::FieldName;
  using ValueNames = exporter::sflow::ValueNames;

  TextFields(const TextOptions& opt, std::string* out) : opt_(opt), out_(out) {}

  void U32(FieldName n, uint32_t x) { Put(n, std::to_string(x)); }
  void U32(FieldName n, uint32_t x, ValueNames names) {
    const char* name = ValueName(names, x);
    Put(n, std::to_string(x) + (name ? std::string(" ") + name : ""));
  }
  void U64(FieldName n, uint64_t x) { Put(n, std::to_string(x)); }
  void F32(FieldName n, float x) { Put(n, FloatText(x)); }
  void Uuid(FieldName n, const uint8_t (&b)[16]) { Put(n, UuidText(b)); }
  void Ipv4(FieldName n, const uint8_t (&b)[4]) { Put(n, hal::base::IpAddress::V4(b).ToString()); }
  void Ipv6(FieldName n, const uint8_t (&b)[16]) { Put(n, hal::base::IpAddress::V6(b).ToString()); }
  void Mac(FieldName n, const uint8_t (&b)[6]) { Put(n, MacText(b)); }
  void Address(FieldName n, const hal::base::IpAddress& a) { Put(n, AddressOrUnknown(a)); }
  void Opaque(FieldName n, const char*, size_t, const std::vector<uint8_t>& b) {
    Put(n, std::to_string(b.size()) + " bytes");
    if (opt_.hex) hex_.push_back(&b);
  }
  void String(FieldName n, const char*, size_t, const std::string& s) {
    Put(n, "\"" + Printable(s) + "\"");
  }
  void U32Array(FieldName n, const char*, const char*, const std::vector<uint32_t>& v) {
    std::string s;
    for (uint32_t x : v) s += (s.empty() ? "" : " ") + std::to_string(x);
    Put(n, "[" + s + "]");
  }
  template <typename T>
  void Array(FieldName n, const char*, const std::vector<T>& v) {
    Put(n, "[");
    for (size_t i = 0; i < v.size(); ++i) {
      *out_ += i ? " {" : "{";
      exporter::sflow::VisitFields(v[i], *this);
      *out_ += " }";
    }
    *out_ += "]";
  }

  // Ends the line, then the hex of any opaque fields.
  void Finish() {
    *out_ += "\n";
    for (const std::vector<uint8_t>* b : hex_) HexLines(b->data(), b->size(), "      ", out_);
  }

 private:
  void Put(FieldName n, const std::string& value) {
    *out_ += std::string("  ") + n.key + " " + value;
  }

  TextOptions opt_;
  std::string* out_;
  std::vector<const std::vector<uint8_t>*> hex_;
};

// A record's fields under their struct member names, from its field list (sflow_types.h).
class JsonFields {
 public:
  using FieldName = exporter::sflow::FieldName;
  using ValueNames = exporter::sflow::ValueNames;

  explicit JsonFields(JsonWriter* w) : w_(w) {}

  void U32(FieldName n, uint32_t x) { w_->Field(n.key, x); }
  void U32(FieldName n, uint32_t x, ValueNames names) { JsonNamed(n.key, x, names, w_); }
  void U64(FieldName n, uint64_t x) { w_->Field(n.key, x); }
  void F32(FieldName n, float x) { w_->Key(n.key).Double(x, 2); }
  void Uuid(FieldName n, const uint8_t (&b)[16]) { w_->Field(n.key, UuidText(b)); }
  void Ipv4(FieldName n, const uint8_t (&b)[4]) {
    w_->Field(n.key, hal::base::IpAddress::V4(b).ToString());
  }
  void Ipv6(FieldName n, const uint8_t (&b)[16]) {
    w_->Field(n.key, hal::base::IpAddress::V6(b).ToString());
  }
  void Mac(FieldName n, const uint8_t (&b)[6]) { w_->Field(n.key, MacText(b)); }
  void Address(FieldName n, const hal::base::IpAddress& a) { JsonIp(n.key, a, w_); }
  // "<key>_length": bytes, then "<key>": hex.
  void Opaque(FieldName n, const char*, size_t, const std::vector<uint8_t>& b) {
    w_->Field(std::string(n.key) + "_length", static_cast<uint64_t>(b.size()));
    w_->Field(n.key, HexString(b.data(), b.size()));
  }
  void String(FieldName n, const char*, size_t, const std::string& s) { w_->Field(n.key, s); }
  void U32Array(FieldName n, const char*, const char*, const std::vector<uint32_t>& v) {
    w_->Key(n.key).BeginArray();
    for (uint32_t x : v) w_->Uint(x);
    w_->EndArray();
  }
  template <typename T>
  void Array(FieldName n, const char*, const std::vector<T>& v) {
    w_->Key(n.key).BeginArray();
    for (const T& item : v) {
      w_->BeginObject();
      exporter::sflow::VisitFields(item, *this);
      w_->EndObject();
    }
    w_->EndArray();
  }
  // Sample fields: one object each, whichever form was on the wire.
  void Source(FieldName n, const exporter::sflow::DataSource& s, bool) {
    w_->Key(n.key).BeginObject().Field("type", s.type).Field("index", s.index).EndObject();
  }
  void Interface(const exporter::sflow::InterfaceField& n, const exporter::sflow::Interface& i,
                 bool) {
    w_->Key(n.key).BeginObject().Field("format", i.format).Field("value", i.value).EndObject();
  }

 private:
  JsonWriter* w_;
};

}  // namespace xflowd::tools::xflowdump
