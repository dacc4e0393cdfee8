#!/usr/bin/env python3
"""Search quality: every search at an equal budget over several seeds, on one co-design experiment.

Runs `transcode run EXPERIMENT --set search.plugin=S --set seed=K --set search.evaluations=N` for
each search S and seed K, reads each run's convergence.csv (one row per round: evaluations,
feasible designs, best score, hypervolume of the feasible Pareto front so far) and writes

  OUT/curves.csv   search, seed, evaluations, feasible, best_score, hypervolume (every round of every run)
  OUT/summary.csv  search, checkpoint, mean and min/max hypervolume and best score over the seeds
  OUT/summary.md   the same as a table, with each search's mean hypervolume over random's, and the
                   evaluation at which each seed found its first feasible design

Usage (from the repository root, after building):
  benchmarks/search_quality/run.py                       # codesign-edge, random/nsga2/boshcode, seeds 1-5, 500 evaluations
  benchmarks/search_quality/run.py --seeds 1,2 --evaluations 200 --searches random,boshcode
  benchmarks/search_quality/run.py --searches boshcode,boshcode+acquisition=ehvi

A search is a plugin name, optionally followed by +PARAM=VALUE for each of its params to set
(search.params.PARAM); the whole spec labels the search in the outputs.
"""
import argparse
import csv
import os
import statistics
import subprocess
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--experiment", default="configs/experiments/codesign-edge.yaml")
    ap.add_argument("--searches", default="random,nsga2,boshcode")
    ap.add_argument("--seeds", default="1,2,3,4,5")
    ap.add_argument("--evaluations", type=int, default=500)
    ap.add_argument("--checkpoints", default="100,200,300,400,500", help="evaluation counts reported in the summary")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--transcode", default="build/bin/transcode")
    ap.add_argument("--out", default="out/search-quality")
    ap.add_argument("--set", action="append", default=[], help="extra --set PATH=VALUE for every run")
    a = ap.parse_args()

    searches = [s for s in a.searches.split(",") if s]
    seeds = [int(s) for s in a.seeds.split(",") if s]
    checkpoints = [int(c) for c in a.checkpoints.split(",") if c and int(c) <= a.evaluations]
    if not os.path.isfile(a.transcode):
        sys.exit(f"error: {a.transcode} does not exist; build first (cmake --build build) or pass --transcode")
    os.makedirs(a.out, exist_ok=True)

    curves = []  # (search, seed, evaluations, feasible, best, hv)
    first_feasible = {}
    walls = {}
    total = len(searches) * len(seeds)
    done = 0
    for search in searches:
        for seed in seeds:
            plugin, *params = search.split("+")
            run_dir = os.path.join(a.out, "runs", f"{search.replace('+', '-').replace('=', '-')}-seed{seed}")
            cmd = [a.transcode, "run", a.experiment, "--quiet", "--out", run_dir, "--threads", str(a.threads),
                   "--set", f"search.plugin={plugin}", "--set", f"seed={seed}", "--set", f"search.evaluations={a.evaluations}",
                   "--set", "search.give_up_after=0"]
            for p in params:
                cmd += ["--set", f"search.params.{p}"]
            for s in a.set:
                cmd += ["--set", s]
            if os.path.exists(os.path.join(run_dir, "search.db")):
                cmd.append("--resume")
            t0 = time.monotonic()
            r = subprocess.run(cmd, capture_output=True, text=True)
            walls[(search, seed)] = time.monotonic() - t0
            done += 1
            if r.returncode != 0:
                sys.exit(f"error: run {search} seed {seed} failed (exit {r.returncode}):\n{r.stdout}{r.stderr}")
            print(f"[{done}/{total}] {search} seed {seed}: {walls[(search, seed)]:.1f} s", file=sys.stderr, flush=True)
            first = None
            with open(os.path.join(run_dir, "convergence.csv"), newline="") as f:
                for row in csv.DictReader(f):
                    ev, feas = int(row["evaluations"]), int(row["feasible"])
                    best = float(row["best_score"]) if row["best_score"] else None
                    hv = float(row["hypervolume"])
                    curves.append((search, seed, ev, feas, best, hv))
                    if first is None and feas > 0:
                        first = ev
            first_feasible[(search, seed)] = first

    with open(os.path.join(a.out, "curves.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["search", "seed", "evaluations", "feasible", "best_score", "hypervolume"])
        for row in curves:
            w.writerow(["" if v is None else v for v in row])

    def at(search, seed, n):
        """The last round of a run at or before n evaluations."""
        rows = [c for c in curves if c[0] == search and c[1] == seed and c[2] <= n]
        return rows[-1] if rows else None

    summary = []
    for search in searches:
        for n in checkpoints:
            pts = [at(search, seed, n) for seed in seeds]
            hvs = [p[5] if p else 0.0 for p in pts]
            bests = [p[4] for p in pts if p and p[4] is not None]
            summary.append({"search": search, "evaluations": n, "hypervolume_mean": statistics.mean(hvs), "hypervolume_min": min(hvs),
                            "hypervolume_max": max(hvs), "best_score_mean": statistics.mean(bests) if len(bests) == len(seeds) else None,
                            "seeds_with_feasible": sum(1 for p in pts if p and p[3] > 0)})
    with open(os.path.join(a.out, "summary.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(summary[0].keys()))
        w.writeheader()
        for row in summary:
            w.writerow({k: ("" if v is None else v) for k, v in row.items()})

    last = {s["search"]: s for s in summary if s["evaluations"] == checkpoints[-1]}
    rnd = last.get("random", {}).get("hypervolume_mean")
    lines = [f"# Search quality: {a.experiment}, {a.evaluations} evaluations, seeds {a.seeds}", "",
             "| search | " + " | ".join(f"HV @{n}" for n in checkpoints) + " | HV / random | best score (mean) | first feasible (per seed) | wall s (per run, mean) |",
             "|---|" + "---|" * (len(checkpoints) + 4)]
    for search in searches:
        hv = [next(s for s in summary if s["search"] == search and s["evaluations"] == n)["hypervolume_mean"] for n in checkpoints]
        ratio = "n/a" if not rnd else f"{last[search]['hypervolume_mean'] / rnd:.2f}x"
        best = last[search]["best_score_mean"]
        firsts = " ".join(str(first_feasible[(search, s)]) if first_feasible[(search, s)] else "none" for s in seeds)
        wall = statistics.mean(walls[(search, s)] for s in seeds)
        lines.append(f"| {search} | " + " | ".join(f"{v:.3f}" for v in hv) + f" | {ratio} | {'n/a' if best is None else f'{best:.4f}'} | {firsts} | {wall:.1f} |")
    text = "\n".join(lines) + "\n"
    with open(os.path.join(a.out, "summary.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
