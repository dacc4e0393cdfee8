#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang, ASan + UBSan, -O1) into build-fuzz/, or into
# $TRANSCODE_FUZZ_BUILD_DIR, then runs each target: first on its committed regression inputs, then
# from its seeds for FUZZ_SECONDS seconds (default 30), or for FUZZ_RUNS inputs when that is set.
# Any finding (crash, sanitizer report, leak, timeout of FUZZ_TIMEOUT s, failed invariant) fails
# the script; the input that caused it is saved in build-fuzz/artifacts/TARGET/.
#
#   bash scripts/fuzz.sh                        # every target, 30 s each (what CI runs)
#   FUZZ_SECONDS=600 bash scripts/fuzz.sh fuzz_experiment
#   FUZZ_RUNS=1000000 bash scripts/fuzz.sh      # the documented long run (README, Hardening)
#
# Long campaigns: FUZZ_SANITIZERS=undefined builds without ASan (build-fuzz-undefined/, -O2), several
# times the inputs per second (tests/fuzz/README.md); then replay their corpus under ASan:
#   FUZZ_SANITIZERS=undefined FUZZ_RUNS=1000000 bash scripts/fuzz.sh fuzz_simulate
#   FUZZ_RUNS=0 FUZZ_CORPUS=build-fuzz-undefined/corpus bash scripts/fuzz.sh fuzz_simulate
# FUZZ_CXXFLAGS adds compiler flags to the fuzz build (give it its own TRANSCODE_FUZZ_BUILD_DIR), e.g.
# -fno-sanitize-coverage=trace-cmp for fuzz_simulate, whose bytes are decisions taken modulo the
# number of choices: no comparison with an input value is there to be solved.
# FUZZ_JOBS=N runs N fuzzing processes per target on one corpus (libFuzzer -jobs), each for
# FUZZ_RUNS inputs or FUZZ_SECONDS: FUZZ_JOBS=2 FUZZ_RUNS=500000 is 10^6 inputs on 2 cores.
#
# Needs clang and libclang-rt-14-dev (scripts/setup.sh installs them with TRANSCODE_SANITIZE_DEPS=1).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sanitizers=${FUZZ_SANITIZERS:-address,undefined}
case "$sanitizers" in
  address,undefined) build=${TRANSCODE_FUZZ_BUILD_DIR:-$root/build-fuzz}; opt=-O1 ;;
  undefined) build=${TRANSCODE_FUZZ_BUILD_DIR:-$root/build-fuzz-undefined}; opt=-O2 ;;
  *) echo "fuzz: FUZZ_SANITIZERS is '$sanitizers': it must be address,undefined (the default) or undefined" >&2; exit 2 ;;
esac
# Where each target's corpus lives (CORPUS/TARGET/): new inputs are added there.
corpus_root=$(realpath -m "${FUZZ_CORPUS:-$build/corpus}")  # absolute: the targets run in a scratch folder
seconds=${FUZZ_SECONDS:-30}
runs=${FUZZ_RUNS:-}
jobs=${FUZZ_JOBS:-1}
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: FUZZ_JOBS is '$jobs': it must be a whole number >= 1" >&2; exit 2; }
# 60 s: the slowest seed, configs/experiments/codesign-edge.yaml (every design-space value built
# through the plugins, and the SST-2 accuracy table fitted), takes 26 s in this ASan -O1 build on an
# idle machine; a hang still ends the run.
timeout_s=${FUZZ_TIMEOUT:-60}
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(fuzz_experiment fuzz_override fuzz_params fuzz_import_acceltran fuzz_import_acceltran_config fuzz_tsv
                                     fuzz_design_space fuzz_sparsity_profile fuzz_accuracy_csv fuzz_search_db fuzz_simulate)

# Only the fuzz targets and what they load (engine library, built-in plugins): not the CLI.
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
  "-DCMAKE_CXX_FLAGS_DEBUG=$opt -gline-tables-only ${FUZZ_CXXFLAGS:-}" "-DTRANSCODE_FUZZ_SANITIZERS=$sanitizers" \
  -DTRANSCODE_BUILD_FUZZERS=ON -DTRANSCODE_BUILD_TESTS=OFF -DTRANSCODE_BUILD_BENCHMARKS=OFF > "$build.configure.log" 2>&1 \
  || { cat "$build.configure.log"; exit 1; }
cmake --build "$build" -j "$(nproc)" --target "${targets[@]}"

# The seed folders of each target (read only; libFuzzer reads them recursively).
seeds() {
  case "$1" in
    fuzz_experiment) echo "$root/configs $root/tests/fixtures" ;;
    fuzz_import_acceltran | fuzz_import_acceltran_config) echo "$root/tests/fixtures/acceltran" ;;
    *) echo "$root/tests/fuzz/seeds/$1" ;;
  esac
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
unset TRANSCODE_PLUGIN_PATH
# Scratch files (fuzz_search_db writes a SQLite store per input; fsync and WAL checkpoints) go to
# memory when /dev/shm is there, not to the disk.
if [[ -z ${TMPDIR:-} && -d /dev/shm && -w /dev/shm ]]; then export TMPDIR=/dev/shm; fi
# Inputs may `include:` files relative to the working folder (parse_params has no base folder):
# run in an empty scratch folder, never in the source tree.
work="$build/fuzz-work"
mkdir -p "$work" "$build/fuzz-logs"

status=0
for t in "${targets[@]}"; do
  bin="$build/bin/$t"
  [[ -x $bin ]] || { echo "fuzz: no such target: $t" >&2; exit 2; }
  corpus="$corpus_root/$t"
  artifacts="$build/artifacts/$t"
  log="$build/fuzz-logs/$t.log"
  mkdir -p "$corpus" "$artifacts"
  common=(-timeout="$timeout_s" -rss_limit_mb=2048 -max_len=16384 -artifact_prefix="$artifacts/"
          -dict="$root/tests/fuzz/yaml.dict" -print_final_stats=1)

  mapfile -t regressions < <(find "$root/tests/fuzz/regressions/$t" -type f 2>/dev/null | sort)
  if [[ ${#regressions[@]} -gt 0 ]]; then
    if ! (cd "$work" && "$bin" "${common[@]}" "${regressions[@]}") > "$log.regressions" 2>&1; then
      echo "fuzz: $t: a committed regression input fails again:" >&2
      tail -n 40 "$log.regressions" >&2
      status=1
      continue
    fi
  fi

  if [[ -n $runs ]]; then budget=(-runs="$runs"); else budget=(-max_total_time="$seconds"); fi
  # With FUZZ_JOBS > 1, libFuzzer writes each job's log to fuzz-JOB.log in the working folder: they
  # are moved beside $log as $log.jobJOB, and their figures summed.
  if [[ $jobs -gt 1 ]]; then budget+=(-jobs="$jobs" -workers="$jobs"); rm -f "$work"/fuzz-*.log "$log".job*; fi
  start=$(date +%s)
  # shellcheck disable=SC2046  # seeds() lists folders separated by spaces
  (cd "$work" && "$bin" "${common[@]}" "${budget[@]}" "$corpus" $(seeds "$t")) > "$log" 2>&1 && ok=1 || ok=0
  logs=("$log")
  if [[ $jobs -gt 1 ]]; then
    logs=()
    for j in "$work"/fuzz-*.log; do
      [[ -e $j ]] || continue
      n=${j##*/fuzz-}; mv "$j" "$log.job${n%.log}"; logs+=("$log.job${n%.log}")
    done
  fi
  if [[ $ok == 1 ]]; then
    execs=$(cat "${logs[@]}" | sed -n 's/^stat::number_of_executed_units: *//p' | awk '{s += $1} END {print s}')
    rate=$(cat "${logs[@]}" | sed -n 's/^stat::average_exec_per_sec: *//p' | awk '{s += $1} END {print s}')
    rss=$(cat "${logs[@]}" | sed -n 's/^stat::peak_rss_mb: *//p' | sort -n | tail -n 1)
    over=""; [[ $jobs -gt 1 ]] && over=" over $jobs processes"
    echo "fuzz: $t: ${execs:-?} inputs in $(( $(date +%s) - start )) s (${rate:-?} exec/s$over, peak RSS ${rss:-?} MB), ${#regressions[@]} regression input(s) pass, no finding"
  else
    echo "fuzz: $t: FINDING (log: ${logs[*]}; input saved under $artifacts/)" >&2
    cat "${logs[@]}" | grep -E "ERROR|invariant|SUMMARY|Test unit written" >&2 || tail -n 40 "${logs[@]}" >&2
    status=1
  fi
done
exit $status
