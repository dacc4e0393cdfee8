#!/usr/bin/python3
"""PyTorch reference for the engine's BM_TrainingStepBertTiny (benchmarks/bench_training.cpp, the
`dynaprop:0` rows): one whole BERT-Tiny training step — forward, backward (input and weight
gradients), AdamW update — at batch 32, sequence 128, every token real, in float32 on the CPU.

  /usr/bin/python3 benchmarks/pytorch/bert_tiny_step.py --threads 1
  /usr/bin/python3 benchmarks/pytorch/bert_tiny_step.py --threads 2

The model is sst2_bert_tiny.py's BertTiny (models.flexibert preset bert-tiny), as the benchmark
loads configs/models/bert-tiny.yaml: no dropout (the model file's default rates are 0, so the
engine's graph has no dropout ops), the engine's initial weights for seed 1, AdamW with the
engine's default settings (lr 1e-4, betas 0.9/0.999, eps 1e-8, weight decay 0.01 on rank >= 2
weights), no learning-rate schedule and no gradient clipping (the benchmark runs the graph's ops
only; the trainer's clipping is outside it). Inputs as in the benchmark: token ids, segment ids and
labels alternate 0, 1, 0, 1, ... and the attention mask is all ones (positions are 0..127 here; the
benchmark's alternate 0, 1, which costs the same).

Prints the time of each timed step's median, mean and minimum in ms. --dropout 0.1 adds BERT's
dropout (not in the engine's benchmark); --clip adds the trainer's gradient clipping.
"""

import os

# PyTorch's OpenMP threads spin while they wait for work (libgomp's default); on a shared machine
# whose cores are busy with other work, 2 spinning threads make a step several times slower (see
# README.md). Wait passively unless the caller chose: OMP_WAIT_POLICY=ACTIVE restores the default.
# (Read by libgomp when torch loads, so set before `import torch`.)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import platform
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sst2_bert_tiny import BertTiny, clip_gradients, make_optimizer, set_threads, threads_text  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1, help="threads for PyTorch and for its BLAS (OpenBLAS)")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--sequence-length", type=int, default=128)
    ap.add_argument("--warmup", type=int, default=5, help="untimed steps first")
    ap.add_argument("--iterations", type=int, default=30, help="timed steps")
    ap.add_argument("--dropout", type=float, default=0.0, help="hidden and attention dropout (engine benchmark: 0)")
    ap.add_argument("--clip", action="store_true", help="also clip the gradients' global norm to 1.0 each step")
    ap.add_argument("--rng", choices=["engine", "torch"], default="engine", help="initial weights (seed 1)")
    args = ap.parse_args()

    set_threads(args.threads)
    B, S = args.batch_size, args.sequence_length
    model = BertTiny(hidden_dropout=args.dropout, attention_dropout=args.dropout)
    model.init_weights(1, args.rng)
    model.train()
    opt = make_optimizer(model, 1e-4, 0.01)
    params = list(model.parameters())

    pattern = torch.arange(B * S, dtype=torch.int64) % 2
    ids = pattern.view(B, S).clone()
    segments = pattern.view(B, S).clone()
    labels = torch.arange(B, dtype=torch.int64) % 2
    mask = torch.ones(B, S, dtype=torch.bool)

    def step():
        logits = model(ids, mask, segments)
        loss = F.cross_entropy(logits, labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if args.clip:
            clip_gradients(params, 1.0)
        opt.step()
        return float(loss)

    total, _ = model.parameter_count()
    print(f"PyTorch {torch.__version__} (Python {platform.python_version()}), {threads_text()}; BERT-Tiny "
          f"({total:,} parameters), batch {B}, sequence {S}, dropout {args.dropout}, clip {'on' if args.clip else 'off'}", flush=True)
    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.iterations):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    print(f"{args.iterations} steps after {args.warmup} warm-up: median {statistics.median(times):.1f} ms/step, "
          f"mean {statistics.mean(times):.1f}, min {min(times):.1f}, max {max(times):.1f}")


if __name__ == "__main__":
    main()
