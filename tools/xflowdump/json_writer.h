// A small streaming JSON writer for xflowdump's line-per-object output. Keys are written in the
// order given (stable output for tests and diffs); numbers are exact integers; strings are
// escaped so that any bytes (port names are not guaranteed UTF-8) yield valid JSON.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace xflowd::tools::xflowdump {

class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  // Inside an object: the key of the next value.
  JsonWriter& Key(std::string_view key);

  JsonWriter& String(std::string_view s);
  JsonWriter& Uint(uint64_t v);
  JsonWriter& Int(int64_t v);
  JsonWriter& Bool(bool v);
  JsonWriter& Null();
  // Fixed-point with `decimals` digits (rates, timestamps); NaN and infinities become null.
  JsonWriter& Double(double v, int decimals);

  // Shorthands for Key(k) + value.
  JsonWriter& Field(std::string_view k, std::string_view v) { return Key(k).String(v); }
  JsonWriter& Field(std::string_view k, const char* v) { return Key(k).String(v); }
  JsonWriter& Field(std::string_view k, uint64_t v) { return Key(k).Uint(v); }
  JsonWriter& Field(std::string_view k, uint32_t v) { return Key(k).Uint(v); }
  JsonWriter& Field(std::string_view k, int v) { return Key(k).Int(v); }
  JsonWriter& Field(std::string_view k, bool v) { return Key(k).Bool(v); }

  const std::string& str() const { return out_; }
  void Clear() {
    out_.clear();
    first_.clear();
    after_key_ = false;
  }

 private:
  void BeforeValue();
  std::string out_;
  std::vector<bool> first_;  // per open container: nothing written in it yet
  bool after_key_ = false;
};

// Lower-case hex without separators ("0a1b").
std::string HexString(const uint8_t* data, size_t size);

}  // namespace xflowd::tools::xflowdump
