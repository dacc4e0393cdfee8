#!/usr/bin/env bash
# The whole test suite under AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer: builds
# everything (engine, plugins, tests, benchmarks) with TRANSCODE_SANITIZE=ON, -O0 -g, into
# build-asan/ (or $TRANSCODE_ASAN_BUILD_DIR), and runs every CTest test except those labelled
# `asan-slow` (listed in README.md, Hardening) and those labelled `mpi` (mpirun jobs; the sanitizer
# build is configured without MPI anyway, TRANSCODE_MPI defaults to OFF with TRANSCODE_SANITIZE:
# LeakSanitizer reports Open MPI's own allocations, so it checks the "built without MPI" message).
# Any sanitizer report fails its test: UBSan is fatal (-fno-sanitize-recover), ASan stops at the
# first error, and LSan's exit code fails a leaking
# process, including the `transcode` processes that the CLI tests start.
# Extra arguments go to CMake's configure step.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TRANSCODE_ASAN_BUILD_DIR:-$root/build-asan}
TRANSCODE_BUILD_DIR=$build CMAKE_BUILD_TYPE=Debug bash "$root/scripts/build.sh" \
  "-DCMAKE_CXX_FLAGS_DEBUG=-O0 -g" -DTRANSCODE_SANITIZE=ON "$@"

# detect_leaks is LSan at exit (already the default on x86-64 Linux; stated here so that it
# cannot be lost). detect_stack_use_after_return and check_initialization_order catch what the
# defaults do not. No suppression file: there is nothing to suppress.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:strict_string_checks=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-report_objects=1}
cd "$build"
if ! ctest --output-on-failure -j "$(nproc)" -LE "asan-slow|mpi"; then
  cat >&2 <<'EOF'
test-sanitize: failures under the sanitizers (reports above). A leak whose frames read
"<unknown module>" was allocated by plugin code that has since been unloaded: reconfigure with
  bash scripts/test-sanitize.sh -DTRANSCODE_SANITIZE_KEEP_PLUGINS=ON
to keep plugins mapped and get their frames symbolized (README.md, Hardening).
EOF
  exit 1
fi
