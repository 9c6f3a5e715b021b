# Cross build for 32-bit big-endian MIPS (mips32r2, o32 ABI) with Debian's g++-mips-linux-gnu.
# The one big-endian target: it is here to catch byte-order bugs (host-order structs on the
# wire, missing htonl/ntohl), and, being 32-bit, size_t and time_t width assumptions.
# Usage: cmake --preset cross-mips, or -DCMAKE_TOOLCHAIN_FILE=toolchain/mips-linux-gnu.cmake
# Tests run on the target architecture through qemu-user (qemu-user-static), so ctest works
# unchanged. Libraries are searched for in /usr/mips-linux-gnu only, never in the host's
# /usr/lib; GoogleTest is built from source for the target (XFLOWD_GTEST_FROM_SOURCE).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR mips)

set(CMAKE_C_COMPILER mips-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER mips-linux-gnu-g++)

set(CMAKE_FIND_ROOT_PATH /usr/mips-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# -L: where qemu finds the target's dynamic loader and shared libraries (libstdc++, libc).
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-mips-static;-L;/usr/mips-linux-gnu)
