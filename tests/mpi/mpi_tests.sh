#!/usr/bin/env bash
# `transcode run` under mpirun (ctest label mpi; tests/CMakeLists.txt). One case per call:
#   mpi_tests.sh CASE TRANSCODE MPIRUN FIXTURES WORK_DIR TEST_PLUGIN_DIR
# Cases: same-results-as-one-process, resume-after-kill, throwing-plugin, sweep-same-results-as-one-process,
# sweep-resume-after-kill, non-distributable-kind, locked-output-folder; built-without-mpi (a binary built without MPI, started as if by mpirun). Every mpirun runs under `timeout`, so a rank that hangs fails the test.
#
# Open MPI in a container, as root, on one machine: OMPI_ALLOW_RUN_AS_ROOT(_CONFIRM) let root
# start ranks; --oversubscribe allows more ranks than cores; the byte transfer layers are
# restricted to self and TCP on the loopback interface (no shared-memory or network probing).
set -euo pipefail
case_name=$1 cli=$2 mpirun=$3 fixtures=$4 work=$5 plugin_dir=$6
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,tcp OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_oob_tcp_if_include=lo
mpi=("$mpirun" --oversubscribe -n 3)
dir=$work/$case_name
rm -rf "$dir" && mkdir -p "$dir"
small=$fixtures/codesign/small-joint.yaml
sets=(--set search.evaluations=48 --set search.batch=6)

fail() { echo "FAIL: $*" >&2; exit 1; }

# The outputs that must not depend on ranks: evaluations.csv and pareto.csv without the seconds
# column, results.json's codesign section without timing, and search.db's rows without seconds.
compare() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import csv, json, sqlite3, sys
a, b = sys.argv[1], sys.argv[2]
def rows(path, timing):
    with open(path, newline="") as f:
        r = list(csv.reader(f))
    drop = r[0].index(timing) if timing else -1
    return [[c for i, c in enumerate(row) if i != drop] for row in r]
for name, timing in (("evaluations.csv", "seconds"), ("pareto.csv", "seconds"), ("convergence.csv", None), ("accuracy.csv", "train_seconds")):
    x, y = rows(f"{a}/{name}", timing), rows(f"{b}/{name}", timing)
    if len(x) != len(y): sys.exit(f"{name}: {len(x)} rows against {len(y)}")
    for i, (p, q) in enumerate(zip(x, y)):
        if p != q: sys.exit(f"{name}: row {i} differs:\n  {p}\n  {q}")
def section(path):
    j = json.load(open(f"{path}/results.json"))["codesign"]
    for k in ("evaluation_seconds", "wall_seconds", "threads", "resumed_from_database"): j["evaluations"].pop(k, None)
    j.pop("throughput", None)
    return j
if section(a) != section(b): sys.exit("results.json codesign sections differ")
def db(path):
    c = sqlite3.connect(f"{path}/search.db")
    cols = [r[1] for r in c.execute("pragma table_info(evaluations)") if r[1] not in ("id", "seconds", "finished_at")]
    return c.execute(f"select {', '.join(cols)} from evaluations order by round, slot").fetchall()
if db(a) != db(b): sys.exit("search.db rows differ")
print(f"equal: {a} and {b}")
PY
}

case $case_name in
same-results-as-one-process)
  "$cli" run "$small" "${sets[@]}" --out "$dir/one" -q > "$dir/one.log"
  timeout 240 "${mpi[@]}" "$cli" run "$small" "${sets[@]}" --out "$dir/mpi" > "$dir/mpi.log" 2>&1 || { cat "$dir/mpi.log"; fail "mpirun failed"; }
  compare "$dir/one" "$dir/mpi"
  /usr/bin/python3 - "$dir/mpi/results.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["codesign"]["throughput"]
assert t["ranks"] == 3, t
assert sum(t["evaluations_per_rank"]) == t["evaluations"], t
assert t["evaluations_per_second_per_rank"] > 0, t
assert t["remote_evaluations"] > 0 and t["dispatch_overhead_s_per_evaluation"] >= 0, t
print("throughput:", t)
PY
  # Only rank 0 logs: one start line, one throughput line.
  [[ $(grep -c "co-design throughput" "$dir/mpi.log") == 1 ]] || { cat "$dir/mpi.log"; fail "expected one throughput line (rank 0's)"; }
  grep -q "3 MPI ranks" "$dir/mpi.log" || fail "the log does not say 3 MPI ranks"
  ;;
resume-after-kill)
  "$cli" run "$small" "${sets[@]}" --out "$dir/one" -q > /dev/null
  # 1. Rank 0 dies (SIGKILL after its 10th commit): mpirun ends the job with an error.
  if TRANSCODE_CRASH_AFTER_COMMITS=10 timeout 120 "${mpi[@]}" "$cli" run "$small" "${sets[@]}" --out "$dir/mpi" -q > "$dir/crash.log" 2>&1; then
    fail "the job with a killed rank 0 succeeded"
  fi
  rows=$(sqlite3 "$dir/mpi/search.db" 'select count(*) from evaluations')
  [[ $rows == 10 ]] || fail "expected 10 stored rows after the crash, found $rows"
  # 2. kill -9 of the job (its ranks and mpirun) once 4 more rows are stored (should the job finish first, the
  # kill comes too late and only the final comparison is tested; the log says which).
  "${mpi[@]}" "$cli" run "$small" "${sets[@]}" --out "$dir/mpi" --resume -q > "$dir/resume1.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 400); do
    n=$(sqlite3 "$dir/mpi/search.db" 'select count(*) from evaluations' 2>/dev/null || echo 0)
    (( n >= 14 )) && break
    sleep 0.05
  done
  pkill -9 -P $pid 2>/dev/null || true  # the ranks first (see sweep-resume-after-kill), then mpirun
  if kill -9 $pid 2>/dev/null; then echo "killed the job (its ranks, then mpirun) with $n rows stored"; else echo "the job finished before the kill"; fi
  wait $pid 2>/dev/null || true
  # The ranks lose their launcher and end; wait until the output folder's lock is free.
  for _ in $(seq 1 300); do flock -n "$dir/mpi/.transcode.lock" true 2>/dev/null && break; [[ -e "$dir/mpi/.transcode.lock" ]] || break; sleep 0.1; done
  timeout 240 "${mpi[@]}" "$cli" run "$small" "${sets[@]}" --out "$dir/mpi" --resume > "$dir/resume2.log" 2>&1 || { cat "$dir/resume2.log"; fail "resume failed"; }
  grep -q "resuming:" "$dir/resume2.log" || fail "the last run did not resume"
  compare "$dir/one" "$dir/mpi"
  ;;
throwing-plugin)
  export TRANSCODE_PLUGIN_PATH=$plugin_dir/transcode-test-throwing-accuracy.so
  config=$fixtures/codesign/throwing-accuracy.yaml
  set +e
  "$cli" run "$config" --out "$dir/one" -q > "$dir/one.log" 2>&1
  one_rc=$?
  timeout 120 "${mpi[@]}" "$cli" run "$config" --out "$dir/mpi" -q > "$dir/mpi.log" 2>&1
  mpi_rc=$?
  set -e
  cat "$dir/mpi.log"
  [[ $one_rc == 2 ]] || fail "the single-process run exited $one_rc, not 2"
  [[ $mpi_rc != 124 ]] || fail "the MPI job hung (timeout)"
  [[ $mpi_rc == 2 ]] || fail "the MPI job exited $mpi_rc, not 2"
  grep -q "deliberate failure for the model with 4 layers of hidden size 256" "$dir/mpi.log" || fail "the plugin's message is missing"
  mpi_round=$(grep -o "round [0-9]* slot [0-9]* (" "$dir/mpi.log" | head -1 | awk '{print $2}')
  one_round=$(grep -o "round [0-9]* slot [0-9]* (" "$dir/one.log" | head -1 | awk '{print $2}')
  [[ -n $mpi_round ]] || fail "the error does not name the candidate (round, slot, design)"
  [[ $mpi_round == "$one_round" ]] || fail "the MPI job failed in round $mpi_round, the single process in round $one_round"
  rows=$(sqlite3 "$dir/mpi/search.db" 'select count(*) from evaluations')
  (( rows >= mpi_round * 6 )) || fail "search.db holds $rows rows; the $mpi_round rounds before the failure alone have $((mpi_round * 6))"
  echo "failed in round $mpi_round as the single process did; $rows evaluations kept in search.db"
  ;;
sweep-same-results-as-one-process)
  # A sweep's points spread over the ranks: sweep.csv (without seconds_s), sweep.db's rows and every
  # point's results.json figures equal the single-process run's.
  config=$(dirname "$fixtures")/../configs/experiments/edge-buffer-sweep.yaml
  "$cli" run "$config" --out "$dir/one" -q > "$dir/one.log"
  timeout 240 "${mpi[@]}" "$cli" run "$config" --out "$dir/mpi" > "$dir/mpi.log" 2>&1 || { cat "$dir/mpi.log"; fail "mpirun failed"; }
  /usr/bin/python3 - "$dir/one" "$dir/mpi" <<'PY'
import csv, json, sqlite3, sys
a, b = sys.argv[1], sys.argv[2]
def table(path):
    with open(f"{path}/sweep.csv", newline="") as f:
        r = list(csv.reader(f))
    drop = r[0].index("seconds_s")
    return [[c for i, c in enumerate(row) if i != drop] for row in r]
if table(a) != table(b): sys.exit("sweep.csv differs")
def db(path):
    c = sqlite3.connect(f"{path}/sweep.db")
    cols = [r[1] for r in c.execute("pragma table_info(points)") if r[1] not in ("seconds", "finished_at", "record")]
    return c.execute(f"select {', '.join(cols)} from points order by 1").fetchall()
if db(a) != db(b): sys.exit("sweep.db rows differ")
ra, rb = json.load(open(f"{a}/results.json"))["sweep"], json.load(open(f"{b}/results.json"))["sweep"]
for p, q in zip(ra["rows"], rb["rows"]):
    if (p["figures"], p["status"], p["values"]) != (q["figures"], q["status"], q["values"]): sys.exit(f"point {p['point']} differs")
    pa, pb = json.load(open(f"{a}/{p['folder']}/results.json")), json.load(open(f"{b}/{q['folder']}/results.json"))
    for k in ("latency", "energy", "memory", "utilisation", "critical_path", "status"):
        if pa[k] != pb[k]: sys.exit(f"point {p['point']}: results.json {k} differs")
t = rb["throughput"]
assert t["ranks"] == 3 and sum(t["points_per_rank"]) == t["points"] == len(rb["rows"]), t
assert t["remote_points"] > 0 and t["dispatch_overhead_s_per_point"] >= 0, t
print(f"equal: {a} and {b}; throughput {t}")
PY
  grep -q "3 MPI ranks" "$dir/mpi.log" || { cat "$dir/mpi.log"; fail "the log does not say 3 MPI ranks"; }
  ;;
sweep-resume-after-kill)
  # kill -9 of mpirun once 3 of a training sweep's 8 points are stored, then mpirun --resume:
  # sweep.csv (without seconds_s) equals the single-process run's, and only the missing points ran.
  config=$(dirname "$fixtures")/../configs/experiments/bert-tiny-train-sweep.yaml
  wide=(--set 'sweep.axes[0].values=[5.0e-4,1.0e-3,2.0e-3,4.0e-3]' --set training.max_steps_per_epoch=16)
  "$cli" run "$config" "${wide[@]}" --out "$dir/one" -q > /dev/null
  # The job dies whole: SIGKILL to the ranks (mpirun's children; Open MPI puts each in a process
  # group of its own) and to mpirun. Killing mpirun alone leaves rank 0 running to the end.
  "${mpi[@]}" "$cli" run "$config" "${wide[@]}" --out "$dir/mpi" -q > "$dir/run1.log" 2>&1 &
  pid=$!
  n=0
  for _ in $(seq 1 600); do
    n=$(sqlite3 "$dir/mpi/sweep.db" 'select count(*) from points' 2>/dev/null || echo 0)
    (( n >= 3 )) && break
    sleep 0.05
  done
  pkill -9 -P $pid 2>/dev/null || true
  if kill -9 $pid 2>/dev/null; then echo "killed the job (its ranks, then mpirun) with $n points stored"; else echo "the job finished before the kill"; fi
  wait $pid 2>/dev/null || true
  for _ in $(seq 1 300); do flock -n "$dir/mpi/.transcode.lock" true 2>/dev/null && break; [[ -e "$dir/mpi/.transcode.lock" ]] || break; sleep 0.1; done
  stored=$(sqlite3 "$dir/mpi/sweep.db" 'select count(*) from points')
  timeout 240 "${mpi[@]}" "$cli" run "$config" "${wide[@]}" --out "$dir/mpi" --resume > "$dir/resume.log" 2>&1 || { cat "$dir/resume.log"; fail "resume failed"; }
  /usr/bin/python3 - "$dir/one" "$dir/mpi" "$stored" <<'PY'
import csv, json, sys
a, b, stored = sys.argv[1], sys.argv[2], int(sys.argv[3])
def table(path):
    with open(f"{path}/sweep.csv", newline="") as f:
        r = list(csv.reader(f))
    drop = r[0].index("seconds_s")
    return [[c for i, c in enumerate(row) if i != drop] for row in r]
if table(a) != table(b): sys.exit("sweep.csv differs from the single-process run")
s = json.load(open(f"{b}/results.json"))["sweep"]
assert s["resumed_from_database"] == stored, (s["resumed_from_database"], stored)
assert s["throughput"]["points"] == s["points"] - stored, s["throughput"]
print(f"equal after resume; {stored} point(s) resumed, {s['throughput']['points']} run")
PY
  ;;
non-distributable-kind)
  config=$(dirname "$fixtures")/../configs/experiments/bert-tiny-edge-inference.yaml
  timeout 120 "${mpi[@]}" "$cli" run "$config" --out "$dir/mpi" > "$dir/mpi.log" 2>&1 || { cat "$dir/mpi.log"; fail "mpirun failed"; }
  [[ -f "$dir/mpi/results.json" ]] || fail "no results.json"
  [[ $(grep -c "runs on rank 0 only" "$dir/mpi.log") == 1 ]] || { cat "$dir/mpi.log"; fail "expected rank 0's one 'runs on rank 0 only' line"; }
  ;;
locked-output-folder)
  mkdir -p "$dir/mpi"
  set +e
  flock "$dir/mpi/.transcode.lock" timeout 60 "${mpi[@]}" "$cli" run "$small" "${sets[@]}" --out "$dir/mpi" > "$dir/mpi.log" 2>&1
  rc=$?
  set -e
  cat "$dir/mpi.log"
  [[ $rc == 2 ]] || fail "exit $rc, not 2"
  grep -q "is in use by another transcode run" "$dir/mpi.log" || fail "no 'in use' message"
  [[ ! -e "$dir/mpi/search.db" ]] || fail "a search.db was written into a locked folder"
  ;;
built-without-mpi)
  # No mpirun needed: the launcher's environment is what the CLI looks at.
  set +e
  OMPI_COMM_WORLD_SIZE=1 "$cli" run "$small" "${sets[@]}" --out "$dir/mpi" > "$dir/mpi.log" 2>&1
  rc=$?
  set -e
  cat "$dir/mpi.log"
  [[ $rc == 2 ]] || fail "exit $rc, not 2"
  grep -q "this transcode was built without MPI, but an MPI launcher started it" "$dir/mpi.log" || fail "no 'built without MPI' message"
  ;;
*) fail "unknown case $case_name" ;;
esac
echo "ok: $case_name"
