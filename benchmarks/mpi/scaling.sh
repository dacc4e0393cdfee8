#!/usr/bin/env bash
# Co-design and training-sweep throughput at 1 and 2 MPI ranks against --threads 1 and 2, side by
# side in one run
# (BENCHMARKS.md, "Co-design over MPI ranks"). Work-bound evaluations: codesign-edge at event
# fidelity with the random search (its ask and tell cost nothing next to an evaluation) and the
# area budget lifted, so that every candidate is simulated in full (none is refused early).
#   bash benchmarks/mpi/scaling.sh [EVALUATIONS] [BATCH]
# Prints, per configuration: wall seconds, evaluations (points) a minute, per rank, dispatch overhead.
# mpirun runs with --bind-to none: with 2 ranks or fewer Open MPI binds each rank to one core, and
# rank 0 runs its dispatch loop and an evaluating thread, which would then share that one core.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cli=${TRANSCODE:-$root/build/bin/transcode}
evaluations=${1:-96}
batch=${2:-16}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,tcp OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_oob_tcp_if_include=lo
sets=(--set simulation.fidelity=event --set search.plugin=random --set "search.evaluations=$evaluations" --set "search.batch=$batch"
      --set search.give_up_after=0 --set objective.budget.area_mm2=10000 --quiet)
config=$root/configs/experiments/codesign-edge.yaml
echo "load before: $(uptime)"
report() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
t = json.load(open(sys.argv[2] + "/results.json"))["codesign"]
th, ev = t["throughput"], t["evaluations"]
o = th["dispatch_overhead_s_per_evaluation"]
print(f"{sys.argv[1]:<14} loop {th['loop_seconds']:6.1f} s  {60 * th['evaluations_per_second']:8.1f} evaluations/min  "
      f"{60 * th['evaluations_per_second_per_rank']:8.1f} per rank  per rank {th['evaluations_per_rank']}  "
      f"dispatch overhead {'-' if o is None else f'{1e3 * o:.3f} ms'}")
PY
}
"$cli" run "$config" "${sets[@]}" --threads 1 --out "$out/threads1" > /dev/null; report "--threads 1" "$out/threads1"
"$cli" run "$config" "${sets[@]}" --threads 2 --out "$out/threads2" > /dev/null; report "--threads 2" "$out/threads2"
mpirun --oversubscribe --bind-to none -n 1 "$cli" run "$config" "${sets[@]}" --out "$out/ranks1" > /dev/null; report "mpirun -n 1" "$out/ranks1"
mpirun --oversubscribe --bind-to none -n 2 "$cli" run "$config" "${sets[@]}" --out "$out/ranks2" > /dev/null; report "mpirun -n 2" "$out/ranks2"

# A sweep of training runs: 16 points of bert-tiny-train-sweep (4 learning rates x 4 DynaProp
# thresholds), each a short kind-train run (32 steps) into its own folder.
sweep_sets=(--set 'sweep.axes[0].values=[5.0e-4,1.0e-3,2.0e-3,4.0e-3]' --set 'sweep.axes[1].values=[0.0,0.005,0.01,0.02]'
            --set training.max_steps_per_epoch=32 --set data.synthetic.train=2048 --quiet)
sweep_config=$root/configs/experiments/bert-tiny-train-sweep.yaml
sweep_report() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
th = json.load(open(sys.argv[2] + "/results.json"))["sweep"]["throughput"]
o = th["dispatch_overhead_s_per_point"]
print(f"{sys.argv[1]:<14} loop {th['loop_seconds']:6.1f} s  {60 * th['points_per_second']:8.1f} points/min  "
      f"{60 * th['points_per_second_per_rank']:8.1f} per rank  per rank {th['points_per_rank']}  dispatch overhead {1e3 * o:.3f} ms")
PY
}
echo "training sweep, 16 points:"
"$cli" run "$sweep_config" "${sweep_sets[@]}" --threads 1 --out "$out/s-threads1" > /dev/null; sweep_report "--threads 1" "$out/s-threads1"
"$cli" run "$sweep_config" "${sweep_sets[@]}" --threads 2 --out "$out/s-threads2" > /dev/null; sweep_report "--threads 2" "$out/s-threads2"
mpirun --oversubscribe --bind-to none -n 1 "$cli" run "$sweep_config" "${sweep_sets[@]}" --out "$out/s-ranks1" > /dev/null; sweep_report "mpirun -n 1" "$out/s-ranks1"
mpirun --oversubscribe --bind-to none -n 2 "$cli" run "$sweep_config" "${sweep_sets[@]}" --out "$out/s-ranks2" > /dev/null; sweep_report "mpirun -n 2" "$out/s-ranks2"
echo "load after: $(uptime)"
