# Cross build for 64-bit ARM (arm64, little-endian) with Debian's g++-aarch64-linux-gnu.
# Usage: cmake --preset cross-aarch64, or -DCMAKE_TOOLCHAIN_FILE=toolchain/aarch64-linux-gnu.cmake
# Tests run on the target architecture through qemu-user (qemu-user-static), so ctest works
# unchanged. Libraries are searched for in /usr/aarch64-linux-gnu and in the sysroot that
# toolchain/sysroot.sh makes, never in the host's /usr/lib; GoogleTest is built from source for
# the target (XFLOWD_GTEST_FROM_SOURCE). Shared settings: cross-common.cmake.
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(XFLOWD_TRIPLET aarch64-linux-gnu)
set(XFLOWD_DEB_ARCH arm64)
set(XFLOWD_QEMU qemu-aarch64-static)
include(${CMAKE_CURRENT_LIST_DIR}/cross-common.cmake)
