# Cross build for 32-bit big-endian MIPS (mips32r2, o32 ABI) with Debian's g++-mips-linux-gnu.
# The one big-endian target: it is here to catch byte-order bugs (host-order structs on the
# wire, missing htonl/ntohl), and, being 32-bit, size_t and time_t width assumptions.
# Usage: cmake --preset cross-mips, or -DCMAKE_TOOLCHAIN_FILE=toolchain/mips-linux-gnu.cmake
# Tests run on the target architecture through qemu-user (qemu-user-static), so ctest works
# unchanged. Libraries are searched for in /usr/mips-linux-gnu and in the sysroot that
# toolchain/sysroot.sh makes, never in the host's /usr/lib; GoogleTest is built from source for
# the target (XFLOWD_GTEST_FROM_SOURCE). Shared settings: cross-common.cmake.
set(CMAKE_SYSTEM_PROCESSOR mips)
set(XFLOWD_TRIPLET mips-linux-gnu)
set(XFLOWD_DEB_ARCH mips)
set(XFLOWD_QEMU qemu-mips-static)
include(${CMAKE_CURRENT_LIST_DIR}/cross-common.cmake)
