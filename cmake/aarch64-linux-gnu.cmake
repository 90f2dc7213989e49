# Cross-compiles for aarch64 (Lambda's arm64, Graviton) on an x86_64 Debian 12 with Debian's own packages:
# crossbuild-essential-arm64 and the arm64 multiarch -dev packages (scripts/setup installs them). Headers live in
# /usr/include for every architecture; libraries, pkg-config files and CMake package configs under
# /usr/lib/aarch64-linux-gnu, which CMAKE_LIBRARY_ARCHITECTURE makes find_library/find_package search instead of
# the host's /usr/lib/x86_64-linux-gnu.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_STRIP aarch64-linux-gnu-strip)
# FindCURL and FindOpenSSL ask pkg-config first; without this they would get the host's x86_64 flags.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
# Host programs (git, zip, the packager) run natively; target libraries never resolve to the host's.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
# Tests of the cross-built binary run under qemu-user with the target's loader and libraries; see
# tests/package/ (binfmt_misc is often unavailable in containers, so the emulator is named explicitly).
find_program(ECRS_QEMU_AARCH64 NAMES qemu-aarch64-static qemu-aarch64)
