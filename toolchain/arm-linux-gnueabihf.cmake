# Cross build for 32-bit ARMv7 hard-float (armhf, little-endian) with Debian's
# g++-arm-linux-gnueabihf.
# Usage: cmake --preset cross-armhf, or -DCMAKE_TOOLCHAIN_FILE=toolchain/arm-linux-gnueabihf.cmake
# Tests run on the target architecture through qemu-user (qemu-user-static), so ctest works
# unchanged. Libraries are searched for in /usr/arm-linux-gnueabihf only, never in the host's
# /usr/lib; GoogleTest is built from source for the target (XFLOWD_GTEST_FROM_SOURCE).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_CXX_COMPILER arm-linux-gnueabihf-g++)

set(CMAKE_FIND_ROOT_PATH /usr/arm-linux-gnueabihf)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# -L: where qemu finds the target's dynamic loader and shared libraries (libstdc++, libc).
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-arm-static;-L;/usr/arm-linux-gnueabihf)
