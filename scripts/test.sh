#!/usr/bin/env bash
# The whole test suite: installs what is needed, builds (Release), and runs every test with CTest
# (unit tests, CLI integration tests on the shipped configs, and a smoke run of transcode-bench),
# then the install test: the examples built out of tree against an installed transcode.
# Then hardening (README, "Hardening"): the whole suite again under ASan + UBSan + LSan
# (scripts/test-sanitize.sh), and each fuzzer for a short bounded time (scripts/fuzz.sh).
# TRANSCODE_SKIP_HARDENING=1 stops after the release pass, for a quick local run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
TRANSCODE_SANITIZE_DEPS=1 bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh"
(cd "$root/build" && ctest --output-on-failure -j "$(nproc)")
# Install into a temporary prefix and build every example out of tree against it.
bash "$root/scripts/test-install.sh"

[[ "${TRANSCODE_SKIP_HARDENING:-0}" == 1 ]] && exit 0
# The same suite under the sanitizers, in build-asan/.
bash "$root/scripts/test-sanitize.sh"
# Each fuzzer for FUZZ_SECONDS (default 30 s here), after replaying its regression inputs.
FUZZ_SECONDS=${FUZZ_SECONDS:-30} bash "$root/scripts/fuzz.sh"
