# Cross build for 64-bit ARM (arm64, little-endian) with Debian's g++-aarch64-linux-gnu.
# Usage: cmake --preset cross-aarch64, or -DCMAKE_TOOLCHAIN_FILE=toolchain/aarch64-linux-gnu.cmake
# Tests run on the target architecture through qemu-user (qemu-user-static), so ctest works
# unchanged. Libraries are searched for in /usr/aarch64-linux-gnu only, never in the host's
# /usr/lib; GoogleTest is built from source for the target (XFLOWD_GTEST_FROM_SOURCE).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# -L: where qemu finds the target's dynamic loader and shared libraries (libstdc++, libc).
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64-static;-L;/usr/aarch64-linux-gnu)
