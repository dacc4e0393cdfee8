#!/usr/bin/python3
"""PyTorch reference: BERT-Tiny trained from scratch on GLUE SST-2 with the recipe and the
architecture of configs/experiments/sst2-bert-tiny.yaml as the engine runs it.

  /usr/bin/python3 benchmarks/pytorch/sst2_bert_tiny.py --threads 2 --seed 1 [--out results.json]

Model (plugins/models/flexibert.cpp, preset bert-tiny): token + position + segment embeddings
(30522 / 512 / 2 rows, width 128), their sum layer-normed (eps 1e-12), dropout 0.1; 2 post-LN
encoder layers: 2 scaled dot-product heads of dimension 64 (Q, K, V dense with bias; scores scaled
by 1/sqrt(64); padding keys get probability 0; dropout 0.1 on the probabilities), output dense
128->128, dropout 0.1, residual, LayerNorm; feed-forward 128->512, GELU (tanh approximation),
512->128, dropout 0.1, residual, LayerNorm; pooler = [CLS] hidden state -> dense 128->128 -> tanh;
classifier dense 128->2 (no dropout before it); mean cross-entropy.

Recipe (engine/training/trainer.cpp, engine/executor): weights of rank >= 2 (embedding tables
included) ~ N(0, 0.02), LayerNorm gamma 1, biases and betas 0; AdamW lr 5e-4, betas (0.9, 0.999),
eps 1e-8, bias correction, decoupled weight decay 0.01 on rank >= 2 weights only; learning rate
linear warm-up over 10% of all steps then linear decay to 0 (the engine's exact formula); global
gradient-norm clipping at 1.0 (scale by 1/norm when norm > 1); batch 32, the training split
reshuffled every epoch, the last partial batch kept; sequences [CLS] sentence [SEP] padded to 64.

By default the initial weights and the shuffle order are the engine's own (its SplitMix64
streams, ported here), so the two runs differ only in dropout masks and float rounding.
--rng torch uses PyTorch's generators instead. --engine-dropout also draws the engine's dropout
masks (slow; for checking the port against an engine run step by step: see README.md).
"""

import os

# PyTorch's OpenMP threads spin while they wait for work (libgomp's default); on a shared machine
# whose cores are busy with other work, 2 spinning threads make a step several times slower (see
# README.md). Wait passively unless the caller chose: OMP_WAIT_POLICY=ACTIVE restores the default.
# (Read by libgomp when torch loads, so set before `import torch`.)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import ctypes
import json
import math
import platform
import struct
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from wordpiece import WordPiece  # noqa: E402

MASK64 = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15


def set_threads(n):
    """n threads for PyTorch's own kernels (OpenMP) and for its BLAS. Debian's python3-torch calls
    the system BLAS (OpenBLAS, pthread build), whose thread count torch.set_num_threads does not
    change: left alone, OpenBLAS would use every core even at --threads 1. Returns OpenBLAS's count
    (None when no OpenBLAS is loaded)."""
    torch.set_num_threads(n)
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_set_num_threads(n)
        return lib.openblas_get_num_threads()
    except (OSError, AttributeError):
        return None


def threads_text():
    blas = None
    try:
        blas = ctypes.CDLL("libopenblas.so.0").openblas_get_num_threads()
    except (OSError, AttributeError):
        pass
    return (f"{torch.get_num_threads()} threads (OpenBLAS {blas if blas is not None else 'n/a'}, "
            f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')})")


# ---- the engine's random streams (engine/common/random.hpp) ---------------------------------------

def fnv1a(s):
    h = 0xCBF29CE484222325
    for b in s.encode("utf-8"):
        h ^= b
        h = (h * 0x100000001B3) & MASK64
    return h


def mix(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def mix_np(z):
    """mix() on a numpy uint64 array (numpy's uint64 arithmetic wraps modulo 2^64)."""
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def stream_np(state, n):
    """The first n outputs of SplitMix64(state): output i = mix(state + (i + 1) * gamma)."""
    with np.errstate(over="ignore"):
        z = np.uint64(state) + np.arange(1, n + 1, dtype=np.uint64) * np.uint64(GAMMA)
    return mix_np(z)


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + GAMMA) & MASK64
        return mix(self.state)


def derive_seed(seed, stream):
    return SplitMix64(seed ^ ((stream * 0xD1B54A32D192ED03) & MASK64)).next()


def engine_normals(seed, name, n):
    """The engine's init_weights values of weight `name`: float32(0.02 * normal()) from
    SplitMix64(derive_seed(seed, fnv1a(name))), Box-Muller in pairs (cos, then sin)."""
    pairs = (n + 1) // 2
    u = (stream_np(derive_seed(seed, fnv1a(name)), 2 * pairs) >> np.uint64(11)).astype(np.float64) * 2.0 ** -53
    u1, u2 = u[0::2], u[1::2]
    if np.any(u1 <= 0.0):  # the engine redraws u1 (probability 2^-53 per pair): not vectorised here
        raise RuntimeError(f"{name}: a zero uniform draw; use --rng torch")
    r = np.sqrt(-2.0 * np.log(u1))
    angle = 2.0 * math.pi * u2
    out = np.empty(2 * pairs, dtype=np.float64)
    out[0::2] = r * np.cos(angle)
    out[1::2] = r * np.sin(angle)
    return (0.02 * out[:n]).astype(np.float32)


def engine_shuffle(gen, n):
    """The trainer's Fisher-Yates shuffle of 0..n-1 with SplitMix64 `gen` (state carried over epochs)."""
    order = list(range(n))
    for i in range(n, 1, -1):
        j = gen.next() % i
        order[i - 1], order[j] = order[j], order[i - 1]
    return order


class EngineDropoutState:
    """--engine-dropout: the masks of graph.hpp's dropout op, a function of (op seed, step, index)."""
    active = False
    step = 1
    run_seed = 0  # graph.hpp: an executor's run seed r turns an op's seed s into s ^ r*0x9FB21C651E98DF25
    batch = 32  # the graph's batch: a partial batch uses the first rows of the full batch's mask


def engine_keep_scale(name, shape, p):
    """Mask * 1/(1-p) (float32) of the engine's dropout op `name` on a tensor of `shape` (the full batch)."""
    seed = (fnv1a(name) >> 11) ^ ((EngineDropoutState.run_seed * 0x9FB21C651E98DF25) & MASK64)  # the op's `seed` attribute, run seed mixed in
    key = derive_seed(seed, EngineDropoutState.step)
    n = int(np.prod(shape))
    u = (stream_np(key, n) >> np.uint64(11)).astype(np.float64) * 2.0 ** -53
    scale = np.float32(1.0 / (1.0 - p))
    return torch.from_numpy(np.where(u >= p, scale, np.float32(0.0)).astype(np.float32).reshape(shape))


# ---- the model ------------------------------------------------------------------------------------

class Dropout(nn.Module):
    """Dropout at p; in --engine-dropout mode the engine's masks of the op(s) `names` (one name, or
    one per head stacked on dim 1 for attention probabilities)."""

    def __init__(self, p, names):
        super().__init__()
        self.p = p
        self.names = names

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        if not EngineDropoutState.active:
            return F.dropout(x, self.p, True)
        rows = x.shape[0]
        full = (EngineDropoutState.batch,) + tuple(x.shape[1:])
        if isinstance(self.names, str):
            m = engine_keep_scale(self.names, full, self.p)
        else:  # [B, H, S, S]: head h is the engine's op on [B, S, S]
            m = torch.stack([engine_keep_scale(n, (full[0],) + full[2:], self.p) for n in self.names], dim=1)
        return x * m[:rows]


class Layer(nn.Module):
    def __init__(self, c, index):
        super().__init__()
        h, self.heads = c["hidden"], c["heads"]
        self.d = h // self.heads
        p = f"layer{index}"
        # The engine has a Q, K and V dense per head ([128, 64] each); one [128, 128] dense here,
        # head i taking output columns i*64 .. i*64+63: the same function and parameters.
        self.q = nn.Linear(h, h)
        self.k = nn.Linear(h, h)
        self.v = nn.Linear(h, h)
        self.attention_dropout = Dropout(c["attention_dropout"], [f"{p}.head{i}.dropout" for i in range(self.heads)])
        self.attention_out = nn.Linear(h, h)
        self.attention_out_dropout = Dropout(c["hidden_dropout"], f"{p}.attention.dropout")
        self.attention_norm = nn.LayerNorm(h, eps=c["eps"])
        self.ff_in = nn.Linear(h, c["ff"])
        self.ff_out = nn.Linear(c["ff"], h)
        self.ff_dropout = Dropout(c["hidden_dropout"], f"{p}.ff.dropout")
        self.ff_norm = nn.LayerNorm(h, eps=c["eps"])

    def forward(self, x, key_padding):
        B, S, H = x.shape
        q = self.q(x).view(B, S, self.heads, self.d).transpose(1, 2)
        k = self.k(x).view(B, S, self.heads, self.d).transpose(1, 2)
        v = self.v(x).view(B, S, self.heads, self.d).transpose(1, 2)
        scores = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(self.d))
        scores = scores.masked_fill(key_padding, float("-inf"))  # padding keys: probability 0
        probs = self.attention_dropout(torch.softmax(scores, dim=-1))
        context = torch.matmul(probs, v).transpose(1, 2).reshape(B, S, H)  # heads concatenated
        x = self.attention_norm(self.attention_out_dropout(self.attention_out(context)) + x)
        f = self.ff_out(F.gelu(self.ff_in(x), approximate="tanh"))
        return self.ff_norm(self.ff_dropout(f) + x)


BERT_TINY = dict(vocab=30522, hidden=128, layers=2, heads=2, ff=512, max_position=512, type_vocab=2, classes=2, eps=1e-12,
                 hidden_dropout=0.1, attention_dropout=0.1)


class BertTiny(nn.Module):
    """models.flexibert with preset bert-tiny (post-LN BERT with pooler and classifier)."""

    def __init__(self, **overrides):
        super().__init__()
        c = dict(BERT_TINY, **overrides)
        self.c = c
        h = c["hidden"]
        self.token = nn.Embedding(c["vocab"], h)  # no padding_idx: [PAD]'s row is trained like any other
        self.position = nn.Embedding(c["max_position"], h)
        self.segment = nn.Embedding(c["type_vocab"], h)
        self.embedding_norm = nn.LayerNorm(h, eps=c["eps"])
        self.embedding_dropout = Dropout(c["hidden_dropout"], "embeddings.dropout")
        self.layers = nn.ModuleList(Layer(c, i) for i in range(c["layers"]))
        self.pooler = nn.Linear(h, h)
        self.classifier = nn.Linear(h, c["classes"])

    def forward(self, ids, mask, segments=None):
        """ids [B, S] (int64), mask [B, S] (bool, True for real tokens): logits [B, classes]."""
        B, S = ids.shape
        positions = torch.arange(S, device=ids.device).unsqueeze(0)
        x = self.token(ids) + self.position(positions)
        x = x + (self.segment(segments) if segments is not None else self.segment.weight[0])
        x = self.embedding_dropout(self.embedding_norm(x))
        key_padding = ~mask[:, None, None, :]
        for layer in self.layers:
            x = layer(x, key_padding)
        pooled = torch.tanh(self.pooler(x[:, 0]))
        return self.classifier(pooled)

    # -- initialisation ----------------------------------------------------------------------------
    def engine_names(self):
        """(torch parameter, engine weight names, how) for every parameter. how: 'table' (same
        layout), 'matrix' (engine [in, out] = torch weight transposed), 'heads' (one engine [in, d]
        matrix per head, stacked along torch's output rows), 'vector', 'head_bias', 'gamma', 'beta'."""
        out = [(self.token.weight, ["embeddings.token.table"], "table"),
               (self.position.weight, ["embeddings.position.table"], "table"),
               (self.segment.weight, ["embeddings.segment.table"], "table"),
               (self.embedding_norm.weight, ["embeddings.norm.gamma"], "gamma"),
               (self.embedding_norm.bias, ["embeddings.norm.beta"], "beta")]
        for l, layer in enumerate(self.layers):
            p = f"layer{l}"
            for qkv in ("q", "k", "v"):
                lin = getattr(layer, qkv)
                out.append((lin.weight, [f"{p}.head{i}.{qkv}.w" for i in range(layer.heads)], "heads"))
                out.append((lin.bias, [f"{p}.head{i}.{qkv}.b" for i in range(layer.heads)], "head_bias"))
            for lin, name in ((layer.attention_out, "attention.out"), (layer.ff_in, "ff.0"), (layer.ff_out, "ff.1")):
                out.append((lin.weight, [f"{p}.{name}.w"], "matrix"))
                out.append((lin.bias, [f"{p}.{name}.b"], "vector"))
            for norm, name in ((layer.attention_norm, "attention.norm"), (layer.ff_norm, "ff.norm")):
                out.append((norm.weight, [f"{p}.{name}.gamma"], "gamma"))
                out.append((norm.bias, [f"{p}.{name}.beta"], "beta"))
        for lin, name in ((self.pooler, "pooler.dense"), (self.classifier, "classifier")):
            out.append((lin.weight, [f"{name}.w"], "matrix"))
            out.append((lin.bias, [f"{name}.b"], "vector"))
        return out

    @staticmethod
    def from_engine_layout(how, parts, shape):
        """The torch tensor of `shape` made of engine tensors `parts` (numpy, engine shapes)."""
        if how == "table":
            return torch.from_numpy(parts[0].reshape(shape))
        if how == "matrix":
            return torch.from_numpy(np.ascontiguousarray(parts[0].reshape(shape[1], shape[0]).T))
        if how == "heads":
            d = shape[0] // len(parts)
            return torch.from_numpy(np.concatenate([w.reshape(shape[1], d).T for w in parts], axis=0))
        return torch.from_numpy(np.concatenate([b.reshape(-1) for b in parts]))

    def init_weights(self, seed, rng):
        """The engine's init_weights: rank >= 2 ~ N(0, 0.02), gammas 1, other 1-D weights 0. With
        rng 'engine' the very values the engine draws for `seed`; with 'torch' torch.normal_."""
        with torch.no_grad():
            if rng == "torch":
                torch.manual_seed(seed)
            for param, names, how in self.engine_names():
                if how == "gamma":
                    param.fill_(1.0)
                elif how in ("beta", "vector", "head_bias"):
                    param.zero_()
                elif rng == "torch":
                    param.normal_(0.0, 0.02)
                else:
                    shape = tuple(param.shape)
                    per = param.numel() // len(names)
                    parts = [engine_normals(seed, n, per) for n in names]
                    param.copy_(self.from_engine_layout(how, parts, shape))

    def parameter_count(self):
        total = sum(p.numel() for p in self.parameters())
        return total, total - sum(p.numel() for p in self.classifier.parameters())


def make_optimizer(model, lr, weight_decay, betas=(0.9, 0.999), eps=1e-8):
    """AdamW with weight decay on rank >= 2 weights only (biases, LayerNorm gamma/beta: none)."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    try:
        return torch.optim.AdamW(groups, lr=lr, betas=betas, eps=eps, foreach=False)
    except TypeError:
        return torch.optim.AdamW(groups, lr=lr, betas=betas, eps=eps)


def lr_scale(global_step, total_steps, warmup_fraction):
    """The trainer's linear schedule: warm-up to 1 over warmup_fraction of all steps, then down to 0."""
    warm = max(1.0, warmup_fraction * total_steps)
    t = float(global_step)
    if t <= warm:
        return t / warm
    return max(0.0, (total_steps - t + 1) / (total_steps - warm + 1))


def clip_gradients(params, limit):
    """The trainer's clipping: global L2 norm over every weight gradient; if it exceeds `limit`,
    every gradient is multiplied by float32(limit / norm). Returns the norm before clipping. (The
    engine sums the squares in double; here each tensor's sum of squares is a float32 dot product,
    summed in double: the norm agrees to ~1e-7 relative, and it costs a few ms instead of ~100.)"""
    grads = [p.grad for p in params if p.grad is not None]
    norm = math.sqrt(sum(float(torch.dot(g.reshape(-1), g.reshape(-1))) for g in grads))
    if limit > 0 and norm > limit:
        factor = float(np.float32(limit / norm))
        for g in grads:
            g.mul_(factor)
    return norm


# ---- data -----------------------------------------------------------------------------------------

def read_glue(path, tokenizer, S):
    """GLUE TSV (header line; columns `sentence`, `label`) -> ids [N, S], lengths [N], labels [N], truncated."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    header = lines[0].split("\t")
    ts, ls = header.index("sentence"), header.index("label")
    ids, lengths, labels, truncated = [], [], [], 0
    for number, line in enumerate(lines[1:], start=2):
        if not line:
            continue
        fields = line.split("\t")
        if len(fields) != len(header):
            raise ValueError(f"{path}:{number}: {len(fields)} fields, the header has {len(header)}")
        pieces = tokenizer.tokenize(fields[ts])
        if not pieces:
            raise ValueError(f"{path}:{number}: empty sentence")
        e, n, t = tokenizer.frame(pieces, S)
        ids.append(e)
        lengths.append(n)
        labels.append(int(fields[ls]))
        truncated += t
    return (torch.tensor(ids, dtype=torch.int64), torch.tensor(lengths, dtype=torch.int64),
            torch.tensor(labels, dtype=torch.int64), truncated)


def engine_parameter_count(binary, S, B):
    """What `transcode model describe` reports for the experiment's model (None if unavailable)."""
    if not os.path.exists(binary):
        return None
    r = subprocess.run([binary, "model", "describe", os.path.join(REPO, "configs", "models", "bert-tiny.yaml"), "--json",
                        "--set", f"params.sequence_length={S}", "--set", f"params.batch_size={B}"], capture_output=True, text=True)
    if r.returncode != 0:
        return None
    d = json.loads(r.stdout)
    return d["parameters"], d["parameters_without_head"]


# ---- engine checkpoints (engine/training/checkpoint.cpp), for --compare-checkpoint ----------------

def read_engine_checkpoint(path):
    with open(path, "rb") as f:
        b = f.read()
    if b[:8] != b"TCCKPT\r\n":
        raise ValueError(f"{path}: not an engine checkpoint")
    at = 8
    version, = struct.unpack_from("<I", b, at); at += 4
    epoch, global_step, train_examples, steps_per_epoch = struct.unpack_from("<qqqq", b, at); at += 32
    at += 8  # shuffle state
    fields, = struct.unpack_from("<I", b, at); at += 4
    n_epochs, = struct.unpack_from("<Q", b, at); at += 8
    epochs = []
    for _ in range(n_epochs):
        epochs.append(struct.unpack_from(f"<{fields}d", b, at)); at += 8 * fields
    count, = struct.unpack_from("<Q", b, at); at += 8
    heads = []
    for _ in range(count):
        n, = struct.unpack_from("<Q", b, at); at += 8
        name = b[at:at + n].decode(); at += n
        rank, = struct.unpack_from("<Q", b, at); at += 8
        shape = struct.unpack_from(f"<{rank}q", b, at); at += 8 * rank
        heads.append((name, shape))
    tensors = {}
    for name, shape in heads:
        n = int(np.prod(shape)) if shape else 1
        tensors[name] = np.frombuffer(b, dtype="<f4", count=n, offset=at).copy()
        at += 4 * n
    return {"version": version, "epoch": epoch, "global_step": global_step, "epochs": epochs, "tensors": tensors}


def compare_checkpoint(model, path):
    ck = read_engine_checkpoint(path)
    worst = (0.0, "")
    total_diff = total_ref = 0.0
    print(f"comparing with {path} (epoch {ck['epoch']}, global step {ck['global_step']}):")
    for param, names, how in model.engine_names():
        ref = model.from_engine_layout(how, [ck["tensors"][n] for n in names], tuple(param.shape)).double()
        mine = param.detach().double()
        diff = float((mine - ref).abs().max())
        total_diff += float(((mine - ref) ** 2).sum())
        total_ref += float((ref ** 2).sum())
        if diff > worst[0]:
            worst = (diff, "+".join(names))
    rel = math.sqrt(total_diff / total_ref)
    print(f"  every weight: relative L2 difference {rel:.3e}; largest element difference {worst[0]:.3e} ({worst[1]})")
    return ck, rel, worst


# ---- training -------------------------------------------------------------------------------------

def evaluate(model, ids, lengths, labels, B, S):
    model.eval()
    loss_sum, correct, tp, fp, fn = 0.0, 0, 0, 0, 0
    positions = torch.arange(S)
    with torch.no_grad():
        for start in range(0, len(labels), B):
            x, n, y = ids[start:start + B], lengths[start:start + B], labels[start:start + B]
            logits = model(x, positions[None, :] < n[:, None])
            loss_sum += float(F.cross_entropy(logits, y, reduction="sum"))
            pred = logits.argmax(dim=1)
            correct += int((pred == y).sum())
            tp += int(((pred == 1) & (y == 1)).sum())
            fp += int(((pred == 1) & (y == 0)).sum())
            fn += int(((pred == 0) & (y == 1)).sum())
    n = len(labels)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return {"validation_loss": loss_sum / n, "validation_accuracy": correct / n, "validation_precision": precision,
            "validation_recall": recall, "validation_f1": f1, "validation_examples": n}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--max-steps-per-epoch", type=int, default=0, help="0: every batch (the last one partial)")
    ap.add_argument("--out", default="", help="write the per-epoch figures to this JSON file")
    ap.add_argument("--rng", choices=["engine", "torch"], default="engine",
                    help="initial weights and shuffle order: the engine's streams (default) or PyTorch's generators")
    ap.add_argument("--engine-dropout", action="store_true", help="the engine's dropout masks too (slow: for checking the port)")
    ap.add_argument("--engine-dropout-run-seed", type=int, default=None,
                    help="the engine's dropout run seed (default: --seed, as the trainer sets it; 0 for engines built before the run seed)")
    ap.add_argument("--compare-checkpoint", default="", help="after training, compare the weights with this engine checkpoint.bin")
    ap.add_argument("--train", default=os.path.join(REPO, "data", "sst2", "train.tsv"))
    ap.add_argument("--validation", default=os.path.join(REPO, "data", "sst2", "dev.tsv"))
    ap.add_argument("--vocabulary", default=os.path.join(REPO, "data", "wordpiece", "bert-base-uncased-vocab.txt"))
    ap.add_argument("--binary", default=os.path.join(REPO, "build", "bin", "transcode"), help="for the parameter-count check")
    ap.add_argument("--sequence-length", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--warmup-fraction", type=float, default=0.1)
    ap.add_argument("--clip-grad-norm", type=float, default=1.0)
    args = ap.parse_args()

    set_threads(args.threads)
    S, B = args.sequence_length, args.batch_size
    print(f"PyTorch {torch.__version__} (Python {platform.python_version()}), {threads_text()}, "
          f"seed {args.seed}, rng {args.rng}{', engine dropout masks' if args.engine_dropout else ''}", flush=True)

    t0 = time.time()
    tok = WordPiece(args.vocabulary)
    tr_ids, tr_len, tr_lab, tr_trunc = read_glue(args.train, tok, S)
    va_ids, va_len, va_lab, va_trunc = read_glue(args.validation, tok, S)
    print(f"data: {len(tr_lab)} training examples ({tr_trunc} truncated), {len(va_lab)} dev ({va_trunc} truncated), "
          f"vocabulary {len(tok.vocab)}, {S} tokens; tokenised in {time.time() - t0:.1f} s", flush=True)

    model = BertTiny(vocab=len(tok.vocab))
    model.init_weights(args.seed, args.rng)
    total, without_head = model.parameter_count()
    engine_count = engine_parameter_count(args.binary, S, B)
    if engine_count is None:
        engine_count = (4386178, 4385920)  # what `transcode model describe` reported when this was written
        source = "recorded"
    else:
        source = "transcode model describe"
    match = (total, without_head) == tuple(engine_count)
    print(f"parameters: {total:,} ({without_head:,} without the classifier); engine ({source}): {engine_count[0]:,} "
          f"({engine_count[1]:,}): {'equal' if match else 'DIFFERENT'}", flush=True)
    if not match:
        sys.exit("the parameter counts differ")

    opt = make_optimizer(model, args.lr, args.weight_decay)
    params = list(model.parameters())
    N = len(tr_lab)
    train_batches = (N + B - 1) // B
    steps_per_epoch = min(args.max_steps_per_epoch, train_batches) if args.max_steps_per_epoch > 0 else train_batches
    total_steps = steps_per_epoch * args.epochs
    shuffle_gen = SplitMix64(args.seed ^ 0x7A11)
    torch_gen = torch.Generator().manual_seed(args.seed)
    if args.rng == "torch":
        torch.manual_seed(args.seed)  # dropout
    EngineDropoutState.active = args.engine_dropout
    EngineDropoutState.batch = B
    EngineDropoutState.run_seed = args.seed if args.engine_dropout_run_seed is None else args.engine_dropout_run_seed
    positions = torch.arange(S)
    print(f"training: {args.epochs} epochs of {steps_per_epoch} steps (batch {B}), {total_steps} steps in all", flush=True)

    epochs = []
    global_step = 0
    train_seconds = 0.0
    run_start = time.time()
    for epoch in range(1, args.epochs + 1):
        e0 = time.time()
        order = engine_shuffle(shuffle_gen, N) if args.rng == "engine" else torch.randperm(N, generator=torch_gen).tolist()
        order = torch.tensor(order, dtype=torch.int64)
        model.train()
        loss_sum, correct, examples, norm_sum, clipped = 0.0, 0, 0, 0.0, 0
        lr = 0.0
        for s in range(steps_per_epoch):
            global_step += 1
            lr = args.lr * lr_scale(global_step, total_steps, args.warmup_fraction)
            for g in opt.param_groups:
                g["lr"] = lr
            idx = order[s * B:(s + 1) * B]  # the last batch keeps its remaining examples
            x, n, y = tr_ids[idx], tr_len[idx], tr_lab[idx]
            EngineDropoutState.step = global_step
            logits = model(x, positions[None, :] < n[:, None])
            loss = F.cross_entropy(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            norm = clip_gradients(params, args.clip_grad_norm)
            if not math.isfinite(float(loss)) or not math.isfinite(norm):
                sys.exit(f"training diverged at epoch {epoch}, step {s + 1}: loss {float(loss)}, gradient norm {norm}")
            clipped += norm > args.clip_grad_norm > 0
            opt.step()
            real = len(y)
            loss_sum += float(loss) * real
            correct += int((logits.detach().argmax(dim=1) == y).sum())
            examples += real
            norm_sum += norm
            if (s + 1) % 200 == 0:
                el = time.time() - e0
                print(f"  epoch {epoch} step {s + 1}/{steps_per_epoch}: loss {loss_sum / examples:.4f}, "
                      f"accuracy {correct / examples:.4f}, {el / (s + 1):.3f} s/step", flush=True)
        t_train = time.time() - e0
        train_seconds += t_train
        er = {"epoch": epoch, "steps": steps_per_epoch, "train_examples": examples, "train_loss": loss_sum / examples,
              "train_accuracy": correct / examples, "learning_rate": lr, "grad_norm": norm_sum / steps_per_epoch,
              "clipped_steps": clipped}
        er.update(evaluate(model, va_ids, va_len, va_lab, B, S))
        er["train_seconds"] = t_train
        er["seconds"] = time.time() - e0
        er["seconds_per_step"] = t_train / steps_per_epoch
        epochs.append(er)
        print(f"epoch {epoch}: train loss {er['train_loss']:.4f} acc {er['train_accuracy']:.4f} | dev loss "
              f"{er['validation_loss']:.4f} acc {er['validation_accuracy']:.4f} F1 {er['validation_f1']:.4f} "
              f"(P {er['validation_precision']:.4f} R {er['validation_recall']:.4f}) | grad norm {er['grad_norm']:.4f}, "
              f"{clipped} clipped | {er['seconds']:.1f} s ({er['seconds_per_step']:.4f} s/step training)", flush=True)
    wall = time.time() - run_start
    print(f"total: {global_step} steps in {wall:.1f} s ({train_seconds:.1f} s training: {train_seconds / global_step:.4f} s/step), "
          f"{threads_text()}; final dev accuracy {epochs[-1]['validation_accuracy']:.4f}, "
          f"F1 {epochs[-1]['validation_f1']:.4f}", flush=True)

    comparison = None
    if args.compare_checkpoint:
        ck, rel, worst = compare_checkpoint(model, args.compare_checkpoint)
        names = ["epoch", "train_examples", "train_loss", "train_accuracy", "learning_rate", "grad_norm", "clipped_steps",
                 "validation_examples", "validation_loss", "validation_accuracy", "validation_precision", "validation_recall",
                 "validation_f1", "seconds", "steps"]
        for mine, theirs in zip(epochs, ck["epochs"]):
            t = dict(zip(names, theirs))
            print(f"  epoch {mine['epoch']}: train loss {mine['train_loss']:.6f} vs engine {t['train_loss']:.6f}; grad norm "
                  f"{mine['grad_norm']:.6f} vs {t['grad_norm']:.6f}; clipped {mine['clipped_steps']} vs {int(t['clipped_steps'])}; "
                  f"dev loss {mine['validation_loss']:.6f} vs {t['validation_loss']:.6f}; dev acc "
                  f"{mine['validation_accuracy']:.4f} vs {t['validation_accuracy']:.4f}")
        comparison = {"checkpoint": args.compare_checkpoint, "relative_l2": rel, "max_abs": worst[0], "max_abs_weight": worst[1]}

    if args.out:
        result = {
            "command": " ".join([sys.executable] + sys.argv),
            "torch": torch.__version__, "python": platform.python_version(), "threads": torch.get_num_threads(), "threads_detail": threads_text(),
            "seed": args.seed, "rng": args.rng, "engine_dropout": args.engine_dropout,
            "parameters": total, "parameters_without_head": without_head,
            "recipe": {"sequence_length": S, "batch_size": B, "epochs": args.epochs, "steps_per_epoch": steps_per_epoch,
                       "learning_rate": args.lr, "weight_decay": args.weight_decay, "warmup_fraction": args.warmup_fraction,
                       "clip_grad_norm": args.clip_grad_norm, "betas": [0.9, 0.999], "eps": 1e-8},
            "epochs": epochs, "steps": global_step, "seconds": wall, "train_seconds": train_seconds,
            "seconds_per_step": train_seconds / global_step, "checkpoint_comparison": comparison,
        }
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
