#!/usr/bin/env bash
# Soak test of `transcode run --resume` (ctest codesign-kill9-soak): a co-design search is killed
# with SIGKILL at random moments and resumed, again and again, and must end exactly where an
# uninterrupted run with the same seed ends.
#
#   bash tests/codesign_soak.sh TRANSCODE EXPERIMENT.yaml [KILLS] [--set ...]...
#
# 1. The uninterrupted run (--threads 1) gives the reference, and its wall time T.
# 2. KILLS times (default 5): start the run (--threads 2; with --resume once search.db exists) and
#    SIGKILL it: each run but the last mid-search, 0-49 ms after a random number of new evaluations
#    (within the next 1/(mid-search kills left) of the rows still missing) are committed; the last
#    at a random moment in [0.1 T, 0.9 T] (start-up, replay, search or the final writes) (bash's RANDOM, seeded by SOAK_SEED, printed: rerun with it to reproduce the choices). After
#    each, the database must open and hold at least the rows it held before (a committed evaluation
#    is never lost), no (round, slot) twice. At least one kill must land mid-search.
# 3. A last --resume runs to the end.
# Then the stored evaluations (every column that does not depend on timing) and results.json's
# codesign section (without its timing and resume counters) must equal the reference's, and the
# rows must number search.evaluations: nothing lost, nothing repeated.
set -euo pipefail
transcode=$1
experiment=$2
kills=${3:-5}
shift $(( $# >= 3 ? 3 : $# ))
overrides=("$@")
seed=${SOAK_SEED:-$(( $(date +%s) % 100000 ))}
RANDOM=$seed
work=$(mktemp -d "${TMPDIR:-/tmp}/transcode-soak.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "soak: seed $seed (SOAK_SEED=$seed reproduces the kill moments), $kills kills, in $work"

rows() {  # the columns that must not depend on timing, threads or interruptions
  sqlite3 "$1" "select round, slot, candidate, encoding, design, model, accelerator, status, reason, cached, accuracy, accuracy_source,
                latency_s, energy_j, dynamic_j, leakage_j, area_mm2, cycles, score, obj_accuracy_loss, obj_latency, obj_energy, obj_area,
                violation, accuracy_stddev, accuracy_details from evaluations order by round, slot"
}
count() { sqlite3 "$1" "select count(*) from evaluations"; }
codesign_section() {
  python3 -c 'import json, sys
c = json.load(open(sys.argv[1]))["codesign"]
for k in ("evaluation_seconds", "wall_seconds", "threads", "resumed_from_database"): c["evaluations"].pop(k, None)
c.pop("throughput", None)  # rates and rank counts: timing
print(json.dumps(c, sort_keys=True))' "$1"
}
fail() { echo "soak: FAIL: $*" >&2; exit 1; }

start=$(date +%s%N)
"$transcode" run "$experiment" --quiet --threads 1 --out "$work/whole" "${overrides[@]/#/--set=}" > "$work/whole.log" 2>&1 ||
  { cat "$work/whole.log"; fail "the uninterrupted run failed"; }
whole_ms=$(( ($(date +%s%N) - start) / 1000000 ))
expected=$(count "$work/whole/search.db")
echo "soak: uninterrupted run: $expected evaluations in $whole_ms ms"

out="$work/killed"
before=0
killed=0
mid_search=0
for (( i = 1; i <= kills; i++ )); do
  resume=()
  [[ -e $out/search.db ]] && resume=(--resume)
  "$transcode" run "$experiment" --quiet --threads 2 "${resume[@]}" --out "$out" "${overrides[@]/#/--set=}" > "$work/run$i.log" 2>&1 &
  pid=$!
  if (( i == kills || before >= expected - 1 )); then
    # At a random moment of the run (start-up, replay, search or the final writes).
    delay_ms=$(( whole_ms / 10 + RANDOM % (whole_ms * 8 / 10 + 1) ))
    when="after $delay_ms ms"
    sleep "$(printf '%d.%03d' $(( delay_ms / 1000 )) $(( delay_ms % 1000 )))"
  else
    # Mid-search: once a random number of new evaluations are committed, 0-49 ms later.
    # (spread: a random row in the next 1/(kills left) of what is left)
    target=$(( before + 1 + RANDOM % ((expected - 1 - before) / (kills - i) + 1) ))
    jitter_ms=$(( RANDOM % 50 ))
    when="at $target+ rows, $jitter_ms ms later"
    while kill -0 "$pid" 2> /dev/null; do
      [[ -e $out/search.db ]] && (( $(sqlite3 "$out/search.db" "select count(*) from evaluations" 2> /dev/null || echo 0) >= target )) && break
      sleep 0.01
    done
    sleep "0.0$(printf '%02d' "$jitter_ms")"
  fi
  kill -9 "$pid" 2> /dev/null || true
  status=0
  wait "$pid" 2> /dev/null || status=$?
  # 137: killed; 0: it finished before the kill.
  [[ $status == 137 || $status == 0 ]] || { cat "$work/run$i.log"; fail "run $i ended with status $status before its kill"; }
  now=0
  if [[ -e $out/search.db ]]; then
    now=$(count "$out/search.db") || fail "after kill $i the database does not open"
    dup=$(sqlite3 "$out/search.db" "select count(*) from (select round, slot from evaluations group by round, slot having count(*) > 1)")
    [[ $dup == 0 ]] || fail "after kill $i, $dup (round, slot) pairs are stored twice"
  fi
  (( now >= before )) || fail "kill $i lost committed evaluations: $before rows before, $now after"
  how="started afresh"
  [[ ${#resume[@]} == 0 ]] || how="resumed"
  if [[ $status == 137 ]]; then
    killed=$(( killed + 1 ))
    (( now > 0 && now < expected )) && mid_search=$(( mid_search + 1 ))
    echo "soak: run $i ($how): killed $when, $now of $expected evaluations stored"
  else
    echo "soak: run $i ($how): finished before its kill ($when), $now of $expected evaluations stored"
  fi
  before=$now
done
resume=()
[[ -e $out/search.db ]] && resume=(--resume)
"$transcode" run "$experiment" --quiet --threads 2 "${resume[@]}" --out "$out" "${overrides[@]/#/--set=}" > "$work/last.log" 2>&1 ||
  { cat "$work/last.log"; fail "the last resume failed"; }

[[ $(count "$out/search.db") == "$expected" ]] || fail "$(count "$out/search.db") evaluations stored, the uninterrupted run stored $expected"
[[ "$(rows "$out/search.db")" == "$(rows "$work/whole/search.db")" ]] || {
  diff <(rows "$work/whole/search.db") <(rows "$out/search.db") | head -20 >&2
  fail "the stored evaluations differ from the uninterrupted run's"
}
[[ "$(codesign_section "$out/results.json")" == "$(codesign_section "$work/whole/results.json")" ]] ||
  fail "results.json's codesign section differs from the uninterrupted run's"
(( mid_search > 0 || kills == 0 )) || fail "no kill landed mid-search"
echo "soak: ok: $killed kill(s) ($mid_search mid-search), $expected evaluations, stored rows and results equal to the uninterrupted run's ($(( ($(date +%s%N) - start) / 1000000 )) ms)"
