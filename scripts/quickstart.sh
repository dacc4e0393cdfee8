#!/usr/bin/env bash
# Quick start: install what is needed, build, and run the quickstart experiment.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh"
cd "$root"
build/bin/transcode run configs/experiments/quickstart.yaml --out out/quickstart
