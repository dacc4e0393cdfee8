#!/usr/bin/env python3
"""Sweeps the on-chip buffer sizes of AccelTran-Edge for a BERT-Tiny training step and plots latency,
energy and area against them (buffer_sweep.png; the figures also go to buffer_sweep.csv).

    PYTHONPATH=build/lib/python3.11/dist-packages MPLBACKEND=Agg \\
        /usr/bin/python3 examples/python/buffer_sweep.py --out out/buffer-sweep

Each point is one transcode.simulate() call with the buffer sizes as overrides, exactly as
`transcode simulate --set 'accelerator.units[weight_buffer].params.size_mb=2'` would run it.
Set MPLBACKEND=Agg (as ctest does) to write the PNG without opening a window.
"""

import argparse
import csv
import pathlib

import matplotlib.pyplot as plt

import transcode

ROOT = pathlib.Path(__file__).resolve().parents[2]
# The sizes swept, in MB, for the activation and the weight buffer (AccelTran-Edge has 4 and 8).
SIZES_MB = [0.25, 0.5, 1, 2, 4, 8, 16]
BUFFERS = ["activation_buffer", "weight_buffer"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out/buffer-sweep", help="folder for the PNG, the CSV and each run's results")
    parser.add_argument("--model", default=str(ROOT / "configs/models/bert-tiny.yaml"))
    parser.add_argument("--accelerator", default=str(ROOT / "configs/accelerators/acceltran-edge.yaml"))
    parser.add_argument("--mode", default="training", choices=["training", "inference"])
    parser.add_argument("--fidelity", default="analytic", choices=["analytic", "event"])
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    rows = []
    for buffer in BUFFERS:
        for size in SIZES_MB:
            result = transcode.simulate(
                args.model, args.accelerator, mode=args.mode, fidelity=args.fidelity,
                overrides={f"accelerator.units[{buffer}].params.size_mb": size,
                           "simulation.sparsity.activation": 0.5,
                           "simulation.sparsity.activation_gradient": 0.9,
                           "simulation.sparsity.weight_gradient": 0.9},
                out=out / f"{buffer}-{size}mb")
            rows.append({"buffer": buffer, "size_mb": size,
                         "latency_ms": result["latency"]["seconds"] * 1e3,
                         "energy_mj": result["energy"]["total_j"] * 1e3,
                         "area_mm2": result["accelerator"]["area_mm2"],
                         "main_memory_mb": sum(result["memory"]["levels"]["main_memory"][k] for k in ("read_bytes", "write_bytes")) / 1e6})

    with open(out / "buffer_sweep.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"{'buffer':<18} {'MB':>6} {'latency ms':>11} {'energy mJ':>10} {'area mm2':>9} {'DRAM MB':>9}")
    for r in rows:
        print(f"{r['buffer']:<18} {r['size_mb']:>6g} {r['latency_ms']:>11.4f} {r['energy_mj']:>10.4f} {r['area_mm2']:>9.2f} {r['main_memory_mb']:>9.2f}")

    figure, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for buffer in BUFFERS:
        points = [r for r in rows if r["buffer"] == buffer]
        sizes = [r["size_mb"] for r in points]
        for axis, key in zip(axes, ("latency_ms", "energy_mj", "area_mm2")):
            axis.plot(sizes, [r[key] for r in points], marker="o", label=buffer.replace("_", " "))
    for axis, label in zip(axes, ("latency (ms)", "energy (mJ)", "area (mm²)")):
        axis.set_xscale("log", base=2)
        axis.set_xlabel("buffer size (MB; the other buffer as published)")
        axis.set_ylabel(label)
        axis.grid(True, alpha=0.3)
    axes[0].legend()
    figure.suptitle(f"BERT-Tiny {args.mode} step on AccelTran-Edge ({args.fidelity} fidelity)")
    figure.tight_layout()
    figure.savefig(out / "buffer_sweep.png", dpi=120)
    print(f"wrote {out / 'buffer_sweep.png'} and {out / 'buffer_sweep.csv'}")


if __name__ == "__main__":
    main()
