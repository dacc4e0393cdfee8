#!/usr/bin/env bash
# The refusals of scripts/fuzz.sh and of the fuzz build's CMake options (ctest fuzz-script-errors):
# each bad setting must stop with its exact message, before anything is built.
#
#   bash tests/fuzz/script_errors.sh SOURCE_DIR SCRATCH_DIR
#
# The CMake cases configure a throwaway tree in SCRATCH_DIR (a few seconds each); the clang one is
# skipped, with a message, where clang++ is not installed.
set -uo pipefail
root=$1
scratch=$2
rm -rf "$scratch" && mkdir -p "$scratch"
failures=0

# expect NAME EXIT TEXT COMMAND...: COMMAND must exit with EXIT and print TEXT as a whole line
# (stdout and stderr). For CMake, TEXT must be its message block, which CMake indents and wraps.
expect() {
  local name=$1 want_rc=$2 want=$3; shift 3
  local out rc block
  out=$("$@" 2>&1); rc=$?
  if [[ $rc -ne $want_rc ]]; then
    echo "FAIL $name: exit $rc, expected $want_rc; output:"; echo "$out" | tail -n 20; failures=$((failures + 1)); return
  fi
  local found=0
  if [[ $1 == cmake ]]; then
    # The block after "CMake Error at FILE:LINE (message):", up to its blank line, on one line.
    block=$(awk '/^CMake Error at /{on=1; next} on && /^$/{exit} on' <<<"$out" | tr -s ' \n' ' ' | sed 's/^ //; s/ $//')
    [[ $block == "$want" ]] && found=1
  else
    grep -qxF -- "$want" <<<"$out" && found=1
  fi
  if [[ $found == 0 ]]; then
    echo "FAIL $name: no line '$want' in the output:"; echo "$out" | tail -n 20; failures=$((failures + 1)); return
  fi
  echo "ok   $name"
}

build="$scratch/build-fuzz"
expect "FUZZ_SANITIZERS=bogus" 2 "fuzz: FUZZ_SANITIZERS is 'bogus': it must be address,undefined (the default) or undefined" \
  env FUZZ_SANITIZERS=bogus TRANSCODE_FUZZ_BUILD_DIR="$build" bash "$root/scripts/fuzz.sh"
expect "FUZZ_SANITIZERS=memory" 2 "fuzz: FUZZ_SANITIZERS is 'memory': it must be address,undefined (the default) or undefined" \
  env FUZZ_SANITIZERS=memory TRANSCODE_FUZZ_BUILD_DIR="$build" bash "$root/scripts/fuzz.sh" fuzz_params
expect "FUZZ_JOBS=0" 2 "fuzz: FUZZ_JOBS is '0': it must be a whole number >= 1" \
  env FUZZ_JOBS=0 TRANSCODE_FUZZ_BUILD_DIR="$build" bash "$root/scripts/fuzz.sh"
expect "FUZZ_JOBS=two" 2 "fuzz: FUZZ_JOBS is 'two': it must be a whole number >= 1" \
  env FUZZ_JOBS=two FUZZ_SANITIZERS=undefined TRANSCODE_FUZZ_BUILD_DIR="$build" bash "$root/scripts/fuzz.sh"
expect "FUZZ_JOBS=-1" 2 "fuzz: FUZZ_JOBS is '-1': it must be a whole number >= 1" \
  env FUZZ_JOBS=-1 TRANSCODE_FUZZ_BUILD_DIR="$build" bash "$root/scripts/fuzz.sh"
if [[ -e $build || -e $build.configure.log ]]; then
  echo "FAIL a refused setting still configured or built $build"; failures=$((failures + 1))
else
  echo "ok   nothing configured or built for a refused setting"
fi

expect "TRANSCODE_BUILD_FUZZERS with g++" 1 "TRANSCODE_BUILD_FUZZERS needs clang (libFuzzer): configure with CXX=clang++" \
  cmake -S "$root" -B "$scratch/cmake-gcc" -DCMAKE_CXX_COMPILER=g++ -DTRANSCODE_BUILD_FUZZERS=ON
if command -v clang++ > /dev/null; then
  expect "TRANSCODE_FUZZ_SANITIZERS=memory" 1 "TRANSCODE_FUZZ_SANITIZERS is 'memory': it must be address,undefined or undefined" \
    cmake -S "$root" -B "$scratch/cmake-clang" -DCMAKE_CXX_COMPILER=clang++ -DTRANSCODE_BUILD_FUZZERS=ON -DTRANSCODE_FUZZ_SANITIZERS=memory
else
  echo "skip TRANSCODE_FUZZ_SANITIZERS=memory: clang++ is not installed"
fi

rm -rf "$scratch"
if [[ $failures -gt 0 ]]; then echo "$failures failure(s)"; exit 1; fi
echo "all passed"
