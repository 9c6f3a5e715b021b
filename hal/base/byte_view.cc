#include "hal/base/byte_view.h"

namespace xflowd::hal::base {

std::string HexDump(ByteView v) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(v.size() * 3 + v.size() / 16 + 1);
  for (size_t i = 0; i < v.size(); ++i) {
    out.push_back(kHex[v[i] >> 4]);
    out.push_back(kHex[v[i] & 0xf]);
    out.push_back((i % 16 == 15 || i + 1 == v.size()) ? '\n' : ' ');
  }
  return out;
}

static int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool ParseHex(std::string_view text, std::basic_string<uint8_t>* out) {
  out->clear();
  int hi = -1;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
      continue;
    }
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') continue;
    int d = HexValue(c);
    if (d < 0) return false;
    if (hi < 0) {
      hi = d;
    } else {
      out->push_back(static_cast<uint8_t>(hi << 4 | d));
      hi = -1;
    }
  }
  return hi < 0;
}

}  // namespace xflowd::hal::base
