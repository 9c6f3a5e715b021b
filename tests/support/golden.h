// Golden files under tests/testdata (XFLOWD_TESTDATA_DIR, set for every test binary): the text
// of a file, and the bytes of a commented hex dump (hal::base::ParseHex). A file that is
// missing, empty or not hex fails the calling test.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "hal/base/byte_view.h"

namespace xflowd::testing {

// `name` is relative to tests/testdata, e.g. "netflow/v9_template.hex".
inline std::string ReadTestdata(const std::string& name) {
  const std::string path = std::string(XFLOWD_TESTDATA_DIR) + "/" + name;
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::basic_string<uint8_t> ReadGoldenHex(const std::string& name) {
  std::basic_string<uint8_t> out;
  EXPECT_TRUE(hal::base::ParseHex(ReadTestdata(name), &out)) << "bad hex in " << name;
  EXPECT_FALSE(out.empty()) << name;
  return out;
}

// Golden netlink messages were captured on a little-endian host (host byte order).
inline bool LittleEndianHost() {
  const uint16_t x = 1;
  uint8_t b;
  std::memcpy(&b, &x, 1);
  return b == 1;
}

}  // namespace xflowd::testing
