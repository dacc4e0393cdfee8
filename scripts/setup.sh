#!/usr/bin/env bash
# Installs the Debian 12 packages transcode needs to build and test, if any is missing.
# Run as root (or with sudo available). Safe to run again: it installs only what is missing.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config
  libboost-dev libboost-filesystem-dev libboost-graph-dev
  libyaml-cpp-dev libeigen3-dev
  libbenchmark-dev doctest-dev
  libcli11-dev libfmt-dev libspdlog-dev nlohmann-json3-dev
  libsqlite3-dev sqlite3 libpagmo-dev libutf8proc-dev libopenblas-dev libtbb-dev
  openmpi-bin libopenmpi-dev   # `mpirun -n N transcode run` (engine/distributed/), tests labelled mpi
  procps util-linux            # pkill (tests/mpi kills a job's ranks), flock (output-folder lock tests)
  python3 python3-yaml python3-jsonschema
  chromium   # tests/report/check_report.py opens `transcode report` pages in headless Chromium
  pybind11-dev python3-dev python3-pytest python3-numpy python3-matplotlib
)
if [[ "${TRANSCODE_SANITIZE_DEPS:-0}" == 1 ]]; then
  packages+=(clang libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
[[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
