#!/usr/bin/env bash
# Install test (issue "Third-party plugins"): installs the engine built in build/ (by
# scripts/build.sh) into a temporary prefix, then builds every example in examples/ from a copy
# outside the source tree, against that prefix only (find_package(transcode) through
# CMAKE_PREFIX_PATH), and checks with the INSTALLED transcode that:
#   * the install has the CLI, the built-in plugins, the SDK, the configs and the CMake package,
#     and the installed engine finds its built-in plugins and runs the installed configs;
#   * `import acceltran-config -o` writes includes that lead to the installed configs/components;
#   * each example's plugin shows in `transcode plugins list`, and its experiment runs and writes
#     the expected results.json (the search example drives a co-design search of the installed
#     AccelTran space);
#     the systolic-array example's accelerator builds on the installed configs, and its matmuls run
#     on the array (ops.csv);
#   * `transcode schema` covers the example plugins;
#   * nm_pruning built with -DEXAMPLE_FOREIGN_ABI=ON (ABI 999) is refused with the version message;
#   * every code snippet of docs/plugin-guide.md is verbatim in the examples;
#   * the installed Python module (when built) imports from <prefix>/lib/pythonX.Y/dist-packages,
#     finds the installed plugins and configs, and simulates as the installed CLI does.
# One line per check; exits non-zero if any check fails. TRANSCODE_BUILD_DIR overrides build/.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TRANSCODE_BUILD_DIR:-$root/build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
tc=$prefix/bin/transcode
examples=(nm_pruning annealing_search gpt_decoder systolic_array)
passed=0
failed=0
start=$SECONDS

# check NAME COMMAND...: runs COMMAND, prints PASS/FAIL and, on failure, the tail of its output.
check() {
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then
    echo "PASS  $name"
    passed=$((passed + 1))
  else
    echo "FAIL  $name"
    printf '%s\n' "$out" | tail -n 25 | sed 's/^/      /'
    failed=$((failed + 1))
  fi
}

# json_check FILE PYTHON_EXPR: the expression, over `d` (the parsed file), must be true.
json_check() {
  python3 - "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ok = eval("(" + sys.argv[2] + "\n)", {"d": d})
if not ok:
    print("false:", sys.argv[2])
    print(json.dumps({k: d.get(k) for k in ("status", "plugins", "sparsity")}, indent=1)[:2000])
sys.exit(0 if ok else 1)
PY
}

install_engine() {
  [[ -x $build/bin/transcode ]] || { echo "no $build/bin/transcode: run scripts/build.sh first"; return 1; }
  cmake --install "$build" --prefix "$prefix"
}

installed_layout() {
  local f missing=0
  for f in bin/transcode lib/transcode/plugins/transcode-pruning.so lib/transcode/plugins/transcode-models.so \
           lib/transcode/plugins/transcode-search.so include/transcode/sdk.hpp \
           share/transcode/configs/experiments/quickstart.yaml share/transcode/configs/models/bert-tiny.yaml \
           lib/cmake/transcode/transcodeConfig.cmake lib/cmake/transcode/transcodeConfigVersion.cmake \
           lib/cmake/transcode/transcodeTargets.cmake lib/cmake/transcode/TranscodePlugin.cmake; do
    [[ -e $prefix/$f ]] || { echo "missing: $f"; missing=1; }
  done
  if [[ -x $build/bin/transcode-bench ]]; then [[ -x $prefix/bin/transcode-bench ]] || { echo "missing: bin/transcode-bench"; missing=1; }; fi
  return $missing
}

# The installed engine loads its built-in plugins from <prefix>/lib/transcode/plugins.
builtin_plugins() {
  local out
  out=$(env -u TRANSCODE_PLUGIN_PATH "$tc" plugins describe pruning.dynaprop) || return 1
  grep -qF "$prefix/lib/transcode/plugins/transcode-pruning.so" <<<"$out" || { echo "$out"; return 1; }
  env -u TRANSCODE_PLUGIN_PATH "$tc" plugins list | grep -q '^models\.flexibert '
}

installed_configs() {
  (cd "$work" && env -u TRANSCODE_PLUGIN_PATH "$tc" run "$prefix/share/transcode/configs/experiments/bert-tiny-model-report.yaml" \
     --out "$work/out/bert-tiny" --quiet) || return 1
  json_check "$work/out/bert-tiny/results.json" 'd["status"] == "ok" and d["model"]["parameters_without_head"] == 4385920'
}

# The installed binary writes a report with no source tree: the Vega bundles are embedded in it.
installed_report() {
  (cd "$work" && env -u TRANSCODE_PLUGIN_PATH "$tc" run "$prefix/share/transcode/configs/experiments/quickstart.yaml" \
     --set simulation.fidelity=analytic --out "$work/out/quickstart" --quiet) || return 1
  "$tc" report "$work/out/quickstart" || return 1
  grep -q '<body data-charts-expected="11">' "$work/out/quickstart/report.html" && grep -q 'vega-lite 5.23.0' "$work/out/quickstart/report.html"
}

# The installed importer writes an accelerator whose includes lead to the installed component
# figures from wherever it is saved, and a companion experiment that runs at AccelTran's batch size.
installed_import() {
  mkdir -p "$work/imported/hw" "$work/imported/runs"
  cat > "$work/imported/acceltran.yaml" <<'YAML'
tile: {tile_b: 1, tile_x: 16, tile_y: 16}
non_linearity: gelu
pe: 64
lanes_per_pe: 16
mac_per_lane: 16
softmax_per_pe: 4
batch_size: 2
activation_buffer_size: 4
weight_buffer_size: 8
mask_buffer_size: 1
main_memory: {type: dram, mode: lb, banks: 32, ranks: 2, channels: 1}
YAML
  (cd "$work" && env -u TRANSCODE_PLUGIN_PATH "$tc" import acceltran-config imported/acceltran.yaml -o imported/hw/edge.yaml \
     --experiment-out imported/runs/edge.yaml --model "$prefix/share/transcode/configs/models/bert-tiny.yaml") || return 1
  grep -qF "include: ../../prefix/share/transcode/configs/components/acceltran-mac-lane.yaml" "$work/imported/hw/edge.yaml" \
    || { grep -m1 include: "$work/imported/hw/edge.yaml"; return 1; }
  (cd "$work" && env -u TRANSCODE_PLUGIN_PATH "$tc" run imported/runs/edge.yaml --out "$work/out/imported" --quiet) || return 1
  json_check "$work/out/imported/results.json" 'd["status"] == "ok" and d["model"]["params"]["batch_size"] == 2 and d["accelerator"]["name"] == "acceltran"'
}

# build_example NAME BUILD_DIR [cmake args...]: configures and builds a copy of the example that
# lives outside the source tree, with the install prefix as the only way to find transcode, then
# checks that nothing in its build folder names the source tree.
build_example() {
  local name=$1 dir=$2
  shift 2
  rm -rf "$dir"
  cmake -S "$work/src/$name" -B "$dir" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
    -DCMAKE_COMPILE_WARNING_AS_ERROR=ON "$@" && cmake --build "$dir" || return 1
  if grep -rlF "$root/" "$dir" --include=CMakeCache.txt --include=build.ninja --include=compile_commands.json --include='*.rsp'; then
    echo "the build of $name refers to the source tree $root"
    return 1
  fi
}

build_all_examples() {
  mkdir -p "$work/src" "$work/logs"
  local name pids=() status=0 i=0
  for name in "${examples[@]}"; do cp -r "$root/examples/$name" "$work/src/$name"; done
  # Five small builds at once: configure is single-threaded.
  for name in "${examples[@]}"; do
    build_example "$name" "$work/build/$name" > "$work/logs/$name.log" 2>&1 &
    pids+=($!)
  done
  build_example nm_pruning "$work/build/nm_pruning-foreign" -DEXAMPLE_FOREIGN_ABI=ON > "$work/logs/nm_pruning-foreign.log" 2>&1 &
  pids+=($!)
  for name in "${examples[@]}" nm_pruning-foreign; do
    if ! wait "${pids[$i]}"; then echo "build of $name failed:"; tail -n 30 "$work/logs/$name.log"; status=1; fi
    i=$((i + 1))
  done
  return $status
}

# A plugin project that sets no CMAKE_BUILD_TYPE (nm_pruning without its Release default) still
# compiles its plugin with -O2 and NDEBUG; one configured as Debug keeps -O0-level flags.
plugin_optimised_by_default() {
  rm -rf "$work/src/plain_plugin" && cp -r "$root/examples/nm_pruning" "$work/src/plain_plugin" || return 1
  sed -i '/^if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)$/,/^endif()$/d' "$work/src/plain_plugin/CMakeLists.txt"
  if grep -q CMAKE_BUILD_TYPE "$work/src/plain_plugin/CMakeLists.txt"; then echo "the Release default was not removed"; return 1; fi
  build_example plain_plugin "$work/build/plain_plugin" || return 1
  grep -q -- '-O2' "$work/build/plain_plugin/build.ninja" && grep -q -- '-DNDEBUG' "$work/build/plain_plugin/build.ninja" || {
    echo "no -O2 -DNDEBUG in the plugin's flags:"; grep -m3 'FLAGS' "$work/build/plain_plugin/build.ninja"; return 1; }
  build_example plain_plugin "$work/build/plain_plugin-debug" -DCMAKE_BUILD_TYPE=Debug || return 1
  if grep -q -- '-O2' "$work/build/plain_plugin-debug/build.ninja"; then echo "a Debug build got -O2"; return 1; fi
}

example_plugins_listed() {
  local out
  out=$(TRANSCODE_PLUGIN_PATH="$work/build/nm_pruning:$work/build/annealing_search:$work/build/gpt_decoder:$work/build/systolic_array" \
    "$tc" plugins list) || { echo "$out"; return 1; }
  echo "$out"
  grep -q '^nm_pruning\.nm  *pruning ' <<<"$out" && grep -q '^annealing_search\.annealing  *search ' <<<"$out" \
    && grep -q '^gpt_decoder\.gpt  *model ' <<<"$out" && grep -q '^systolic\.array  *component ' <<<"$out"
}

nm_pruning_experiment() {
  (cd "$work" && env -u TRANSCODE_PLUGIN_PATH "$tc" run "$work/build/nm_pruning/nm_pruning.yaml" --out "$work/out/nm_pruning" --quiet) || return 1
  json_check "$work/out/nm_pruning/results.json" \
    'd["status"] == "ok" and d["plugins"]["nm_pruning"] == "0.1.0" and d["pruning"]["plugin"] == "nm_pruning.nm"
     and all(d["sparsity"][r]["pruned"] and d["sparsity"][r]["sparsity"] == 0.5 for r in ("activation", "activation_gradient", "weight_gradient"))'
}

nm_pruning_inference() {
  (cd "$work" && env -u TRANSCODE_PLUGIN_PATH "$tc" run "$work/build/nm_pruning/nm_pruning.yaml" --set mode=inference \
     --out "$work/out/nm_pruning-inference" --quiet) || return 1
  json_check "$work/out/nm_pruning-inference/results.json" \
    'd["sparsity"]["activation"]["sparsity"] == 0.5 and not d["sparsity"]["weight_gradient"]["pruned"]
     and d["sparsity"]["weight_gradient"]["sparsity"] < 0.01'
}

# The annealing plugin as a co-design optimizer over the installed AccelTran space.
annealing_search_experiment() {
  (cd "$work" && env -u TRANSCODE_PLUGIN_PATH "$tc" run "$work/build/annealing_search/annealing_search.yaml" --out "$work/out/annealing" --quiet) || return 1
  json_check "$work/out/annealing/results.json" \
    'd["status"] == "ok" and d["plugins"]["annealing_search"] == "0.1.0" and d["codesign"]["search"]["plugin"] == "annealing_search.annealing"
     and d["codesign"]["evaluations"]["total"] == 48 and d["codesign"]["best"]["status"] == "ok" and d["codesign"]["pareto"]["size"] >= 1'
  [[ -s $work/out/annealing/search.db && -s $work/out/annealing/best_accelerator.yaml ]]
}

gpt_decoder_experiment() {
  (cd "$work" && env -u TRANSCODE_PLUGIN_PATH "$tc" run "$work/build/gpt_decoder/gpt_decoder.yaml" --out "$work/out/gpt_decoder" --quiet) || return 1
  json_check "$work/out/gpt_decoder/results.json" \
    'd["status"] == "ok" and d["plugins"]["gpt_decoder"] == "0.1.0" and d["model"]["family"] == "gpt_decoder.gpt"
     and d["model"]["training"] and d["model"]["parameters"] == 16287488
     and all(d["model"]["flops"][p] > 0 for p in ("forward", "backward", "update"))'
}

# GPT-2 small through the example: the published 124,439,808 parameters.
gpt2_small_parameters() {
  local out
  out=$(cd "$work" && env -u TRANSCODE_PLUGIN_PATH "$tc" run "$work/build/gpt_decoder/gpt_decoder.yaml" --out "$work/out/gpt2" \
    --set 'model.params={layers: 12, hidden: 768, heads: 12, ff: 3072, sequence_length: 64, batch_size: 1}' --quiet) || { echo "$out"; return 1; }
  json_check "$work/out/gpt2/results.json" 'd["model"]["parameters"] == 124439808'
}

# BERT-Tiny inference on systolic-edge (AccelTran-Edge's configs, installed, with a systolic array
# per PE): the matmuls run on the array (some may go to the MAC lanes, whichever finishes first),
# and only MAC kinds do; the element-wise ops run on the MAC lanes kept for them.
systolic_array_experiment() {
  local out=$work/out/systolic_array
  (cd "$work" && env -u TRANSCODE_PLUGIN_PATH "$tc" run "$work/build/systolic_array/systolic_array.yaml" --out "$out" --quiet) || return 1
  json_check "$out/results.json" \
    'd["status"] == "ok" and d["plugins"]["systolic"] == "0.1.0" and d["accelerator"]["name"] == "systolic-edge"
     and d["accelerator"]["breakdown"]["systolic_array"]["component"] == "systolic.array"
     and d["accelerator"]["breakdown"]["systolic_array"]["count"] == 64 and d["utilisation"]["systolic_array"] > 0' || return 1
  python3 - "$out/ops.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
on_array = {r["kind"] for r in rows if r["unit"] == "systolic_array"}
ok = "matmul" in on_array and on_array <= {"matmul", "seq_transform"} and any(r["kind"] == "add" and r["unit"] == "mac_lane" for r in rows)
if not ok:
    print("op kinds on systolic_array:", sorted(on_array))
sys.exit(0 if ok else 1)
PY
}

annealing_described() {
  local out
  out=$(TRANSCODE_PLUGIN_PATH="$work/build/annealing_search" "$tc" plugins describe annealing_search.annealing) || { echo "$out"; return 1; }
  grep -q '^annealing_search.annealing (search plugin, library annealing_search 0.1.0' <<<"$out" \
    && grep -q '^  initial_temperature: ' <<<"$out" && grep -q '^  cooling: ' <<<"$out" || { echo "$out"; return 1; }
}

# `transcode schema` (editor support) covers the parameters of the loaded example plugins.
schema_covers_examples() {
  TRANSCODE_PLUGIN_PATH="$work/build/nm_pruning:$work/build/gpt_decoder" "$tc" schema > "$work/schema.json" || return 1
  python3 - "$work/schema.json" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
json.loads(text)
missing = [n for n in ("nm_pruning.nm", "gpt_decoder.gpt") if n not in text]
if missing:
    print("not in the schema:", missing)
sys.exit(1 if missing else 0)
PY
}

# A foreign-ABI library named by an experiment's `plugins:` list is an error (exit 2) with the version
# message; on TRANSCODE_PLUGIN_PATH it is skipped with that message as a warning, and the command
# goes on (one stale entry must not stop every command).
foreign_abi_refused() {
  local so=$work/build/nm_pruning-foreign/transcode-nm_pruning.so abi err rc=0
  abi=$("$tc" version | sed -n 's/.*(SDK ABI \([0-9]*\)).*/\1/p')
  [[ -n $abi ]] || { echo "cannot read the SDK ABI from 'transcode version'"; return 1; }
  local message="plugin '$so': built for SDK ABI 999, this engine supports $abi"
  err=$(env -u TRANSCODE_PLUGIN_PATH "$tc" validate "$work/build/nm_pruning-foreign/nm_pruning.yaml" 2>&1 >/dev/null) || rc=$?
  if [[ $rc -ne 2 || $err != *"$message"* ]]; then
    echo "experiment plugins: exit $rc (want 2); stderr:"; echo "$err"; echo "want it to hold:"; echo "$message"
    return 1
  fi
  rc=0
  err=$(TRANSCODE_PLUGIN_PATH="$so" "$tc" plugins list 2>&1 >/dev/null) || rc=$?
  local want="warning: TRANSCODE_PLUGIN_PATH entry '$so' skipped: $message"
  if [[ $rc -ne 0 || $err != "$want" ]]; then
    echo "TRANSCODE_PLUGIN_PATH: exit $rc (want 0); stderr:"; echo "$err"; echo "want:"; echo "$want"
    return 1
  fi
}

# The installed Python module (python/; when the build made it): imported from
# <prefix>/lib/pythonX.Y/dist-packages with the interpreter it was built for, it finds the installed
# plugins and configs, simulates as the installed CLI does, and loads an experiment's `plugins:`
# library (the nm_pruning example) as the CLI does.
python_module() {
  local dir interpreter
  dir=$(cd "$prefix" && ls -d lib/python3*/dist-packages 2>/dev/null | head -n 1)
  [[ -n $dir ]] && ls "$prefix/$dir"/transcode*.so >/dev/null 2>&1 || { echo "no transcode*.so under $prefix/lib/python3*/dist-packages"; return 1; }
  interpreter=$(sed -n 's/^Python3_EXECUTABLE:FILEPATH=//p' "$build/CMakeCache.txt")
  (cd "$work" && env -u TRANSCODE_PLUGIN_PATH "$tc" simulate --model "$prefix/share/transcode/configs/models/bert-tiny.yaml" \
     --accelerator "$prefix/share/transcode/configs/accelerators/acceltran-edge.yaml" --fidelity analytic --out "$work/out/py-cli" --quiet) || return 1
  (cd "$work" && env -u TRANSCODE_PLUGIN_PATH PYTHONPATH="$prefix/$dir" "${interpreter:-/usr/bin/python3}" - "$prefix" "$work" <<'PY'
import json, pathlib, sys
import transcode
prefix, work = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
assert pathlib.Path(transcode.__file__).resolve().parent.parent.parent.parent == prefix.resolve(), transcode.__file__
assert pathlib.Path(transcode.install_prefix).resolve() == prefix.resolve(), transcode.install_prefix
files = {pathlib.Path(p["file"]).parent for p in transcode.plugins()}
assert files == {prefix / "lib/transcode/plugins"}, files
configs = prefix / "share/transcode/configs"
r = transcode.simulate(configs / "models/bert-tiny.yaml", configs / "accelerators/acceltran-edge.yaml", fidelity="analytic", out=work / "out/py")
assert r.to_dict() == json.load(open(work / "out/py-cli/results.json")), "python simulate differs from the installed CLI"
nm = transcode.run(work / "build/nm_pruning/nm_pruning.yaml", out=work / "out/py-nm")
assert nm["plugins"]["nm_pruning"] == "0.1.0" and nm["pruning"]["plugin"] == "nm_pruning.nm", nm["plugins"]
print("python module ok:", transcode.__file__, r["latency"]["cycles"], "cycles")
PY
  )
}

check "install into a temporary prefix" install_engine
check "installed layout (CLI, bench, plugins, SDK, configs, CMake package)" installed_layout
check "installed engine finds its built-in plugins under the prefix" builtin_plugins
check "installed configs run (bert-tiny model report)" installed_configs
check "installed transcode report: a self-contained page without the source tree" installed_report
check "installed import acceltran-config: includes resolve from where the file is written, companion experiment runs" installed_import
check "examples build out of tree against the prefix only (and nm_pruning with ABI 999)" build_all_examples
check "a plugin project without CMAKE_BUILD_TYPE builds its plugin with -O2 (Debug stays Debug)" plugin_optimised_by_default
check "transcode plugins list shows every example plugin" example_plugins_listed
check "nm_pruning experiment: 2:4 gives 50% sparsity per pruned role" nm_pruning_experiment
check "nm_pruning in inference: activations pruned, gradients not" nm_pruning_inference
check "annealing_search experiment: the plugin drives a co-design search of the AccelTran space" annealing_search_experiment
check "gpt_decoder experiment: model_report results (parameters, FLOPs per phase)" gpt_decoder_experiment
check "gpt_decoder as GPT-2 small: 124439808 parameters" gpt2_small_parameters
check "annealing_search: transcode plugins describe shows it" annealing_described
check "systolic_array experiment: matmuls on the systolic array, element-wise ops on MAC lanes" systolic_array_experiment
check "transcode schema covers the example plugins' parameters" schema_covers_examples
check "foreign ABI (999) refused with the version message (skipped with it as a warning on TRANSCODE_PLUGIN_PATH)" foreign_abi_refused
if ls "$build"/lib/python3*/dist-packages/transcode*.so >/dev/null 2>&1; then
  check "installed Python module: finds the installed plugins and configs, simulates as the CLI, loads an experiment's plugins" python_module
fi
check "plugin guide snippets are verbatim in the examples" python3 "$root/scripts/check-guide-snippets.py"

echo "install test: $passed passed, $failed failed ($((SECONDS - start)) s)"
[[ $failed -eq 0 ]]
