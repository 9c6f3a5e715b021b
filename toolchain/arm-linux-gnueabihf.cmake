# Cross build for 32-bit ARMv7 hard-float (armhf, little-endian) with Debian's
# g++-arm-linux-gnueabihf.
# Usage: cmake --preset cross-armhf, or -DCMAKE_TOOLCHAIN_FILE=toolchain/arm-linux-gnueabihf.cmake
# Tests run on the target architecture through qemu-user (qemu-user-static), so ctest works
# unchanged. Libraries are searched for in /usr/arm-linux-gnueabihf and in the sysroot that
# toolchain/sysroot.sh makes, never in the host's /usr/lib; GoogleTest is built from source for
# the target (XFLOWD_GTEST_FROM_SOURCE). Shared settings: cross-common.cmake.
set(CMAKE_SYSTEM_PROCESSOR arm)
set(XFLOWD_TRIPLET arm-linux-gnueabihf)
set(XFLOWD_DEB_ARCH armhf)
set(XFLOWD_QEMU qemu-arm-static)
include(${CMAKE_CURRENT_LIST_DIR}/cross-common.cmake)
# GCC notes that the ARM ABI for some std types changed in GCC 7.1; nothing here mixes
# objects built by older compilers, so the note is noise.
string(APPEND CMAKE_CXX_FLAGS_INIT " -Wno-psabi")
