# Shared by the toolchain files: expects XFLOWD_TRIPLET (aarch64-linux-gnu), XFLOWD_DEB_ARCH
# (arm64) and XFLOWD_QEMU (qemu-aarch64-static) to be set.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${XFLOWD_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${XFLOWD_TRIPLET}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${XFLOWD_TRIPLET})

# Target libraries (libpcap, libnl) come from a sysroot made by toolchain/sysroot.sh:
# $XFLOWD_SYSROOT, else build/sysroot/<debian arch> if it exists. Without one the back-ends that
# need them are left out and the configure step says so.
if(DEFINED ENV{XFLOWD_SYSROOT})
  set(XFLOWD_SYSROOT $ENV{XFLOWD_SYSROOT})
elseif(EXISTS ${CMAKE_CURRENT_LIST_DIR}/../build/sysroot/${XFLOWD_DEB_ARCH}/usr)
  get_filename_component(XFLOWD_SYSROOT
                         ${CMAKE_CURRENT_LIST_DIR}/../build/sysroot/${XFLOWD_DEB_ARCH} ABSOLUTE)
endif()

# Libraries are searched for in the toolchain's and the sysroot's directories only, never in the
# host's /usr/lib.
set(CMAKE_FIND_ROOT_PATH /usr/${XFLOWD_TRIPLET})
set(_xflowd_qemu_env "")
if(XFLOWD_SYSROOT)
  list(APPEND CMAKE_FIND_ROOT_PATH ${XFLOWD_SYSROOT})
  set(_libdirs ${XFLOWD_SYSROOT}/usr/lib/${XFLOWD_TRIPLET} ${XFLOWD_SYSROOT}/lib/${XFLOWD_TRIPLET})
  # The linker must find the libraries' own dependencies (libpcap -> libdbus -> ...).
  foreach(_d ${_libdirs})
    string(APPEND CMAKE_EXE_LINKER_FLAGS_INIT " -Wl,-rpath-link,${_d}")
    string(APPEND CMAKE_SHARED_LINKER_FLAGS_INIT " -Wl,-rpath-link,${_d}")
  endforeach()
  string(REPLACE ";" ":" _path "${_libdirs}")
  set(_xflowd_qemu_env -E LD_LIBRARY_PATH=${_path})
endif()
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# ctest runs the target's test binaries through qemu-user. -L: where qemu finds the target's
# dynamic loader and libc/libstdc++; -E: the sysroot's libraries for the guest's loader.
# XFLOWD_EMULATOR tells tests they run emulated (tests/test_env.h): what qemu-user cannot do
# (packet capture, NFLOG, BPF) is skipped there with the reason.
set(CMAKE_CROSSCOMPILING_EMULATOR ${XFLOWD_QEMU} -L /usr/${XFLOWD_TRIPLET}
    -E XFLOWD_EMULATOR=${XFLOWD_QEMU} ${_xflowd_qemu_env})
