#!/usr/bin/env bash
# The whole test suite: installs what is needed, builds (Release), and runs every test with CTest
# (unit tests, CLI integration tests on the shipped configs, and a smoke run of transcode-bench),
# then the install test: the examples built out of tree against an installed transcode.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh"
(cd "$root/build" && ctest --output-on-failure -j "$(nproc)")
# Install into a temporary prefix and build every example out of tree against it.
bash "$root/scripts/test-install.sh"
