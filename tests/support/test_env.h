// What the environment of a test run allows. Cross builds run their tests under qemu-user
// (toolchain/cross-common.cmake sets XFLOWD_EMULATOR for the guest): there, what qemu-user
// cannot emulate is skipped with the reason, and long scenarios run a shorter simulated time
// because emulation is 10-30x slower. Native runs are never shortened.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <string>

namespace xflowd::testing {

// "qemu-mips-static" when the test runs under qemu-user, else empty.
inline std::string Emulator() {
  const char* e = std::getenv("XFLOWD_EMULATOR");
  return e != nullptr ? e : "";
}
inline bool UnderEmulation() { return !Emulator().empty(); }

// Simulated seconds for a scenario: `native_s` natively, `emulated_s` under qemu-user.
inline int ScenarioSeconds(int native_s, int emulated_s) {
  return UnderEmulation() ? emulated_s : native_s;
}

inline bool IsRoot() { return geteuid() == 0; }

}  // namespace xflowd::testing

// Skips a test that needs the real kernel (packet capture, NFLOG, BPF, netns) under qemu-user.
#define XFLOWD_SKIP_UNDER_EMULATION(what)                                              \
  do {                                                                                 \
    if (::xflowd::testing::UnderEmulation())                                           \
      GTEST_SKIP() << what << " does not work under " << ::xflowd::testing::Emulator() \
                   << " (qemu-user); this test runs in the native build";              \
  } while (0)
