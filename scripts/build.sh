#!/usr/bin/env bash
# Configures and builds transcode (Release, with -O3) into build/, or into $TRANSCODE_BUILD_DIR.
# Extra arguments go to CMake's configure step, e.g. -DTRANSCODE_SANITIZE=ON.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TRANSCODE_BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE:-Release} "$@" > "$build.configure.log" 2>&1 \
  || { cat "$build.configure.log"; exit 1; }
cmake --build "$build" -j "$(nproc)"
