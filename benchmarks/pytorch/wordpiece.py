#!/usr/bin/python3
"""BERT's uncased WordPiece tokenizer in plain Python, for the PyTorch reference scripts.

The same tokenisation as the engine's C++ tokenizer (engine/tokenizer/, see its README.md):

1. Clean: NUL, U+FFFD and control characters (every Unicode category C* except tab, LF and CR)
   are dropped; whitespace (space, tab, LF, CR, category Zs, U+2028, U+2029) separates words.
2. CJK: each CJK Unified Ideograph is a word of its own.
3. Each word is lower-cased (Python's str.lower(), final sigma included), decomposed (NFD) and
   its non-spacing marks (category Mn) are dropped.
4. Punctuation (category P*, and every printable ASCII character that is not a letter, digit or
   space) is a word of its own.
5. WordPiece: greedy longest match first, pieces after the first carry "##"; a word of more than
   100 code points, or one with a part no piece matches, is [UNK] as a whole.
6. Framing: [CLS] a [SEP], truncated (a loses its last pieces) and padded with [PAD] to the
   sequence length.

Run as a script:
  /usr/bin/python3 benchmarks/pytorch/wordpiece.py --vocabulary V "some text"   # print ids
  /usr/bin/python3 benchmarks/pytorch/wordpiece.py --check                     # compare with
      `transcode tokenize` on every SST-2 dev sentence, >= 1000 training sentences and a few
      hand-made edge cases (one process per text)

Python's unicodedata is Unicode 14 (Python 3.11), the engine's utf8proc Unicode 15: characters
assigned in Unicode 15 could differ (none occurs in SST-2).
"""

import argparse
import json
import os
import random
import subprocess
import sys
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor

MAX_WORD_CODE_POINTS = 100

# The CJK Unified Ideograph blocks (and compatibility ideographs) BERT splits one by one.
_CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)


def _is_cjk(cp):
    for lo, hi in _CJK_RANGES:
        if lo <= cp <= hi:
            return True
    return False


def _is_space(ch):
    if ch in (" ", "\t", "\n", "\r", "\u2028", "\u2029"):
        return True
    return unicodedata.category(ch) == "Zs"


def _is_dropped(ch):
    """NUL, the replacement character and control characters (C* but tab, LF, CR)."""
    if ch in ("\t", "\n", "\r"):
        return False
    if ch == "\x00" or ch == "\ufffd":
        return True
    return unicodedata.category(ch).startswith("C")


def _is_punct(ch):
    cp = ord(ch)
    # Printable ASCII that is neither a letter, a digit nor the space: !"#$%&'()*+,-./ :;<=>?@ [\]^_` {|}~
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


class Vocabulary:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            tokens = f.read().split("\n")
        if tokens and tokens[-1] == "":
            tokens.pop()
        self.tokens = tokens
        self.ids = {}
        for i, t in enumerate(tokens):
            if t in self.ids:
                raise ValueError(f"{path}:{i + 1}: duplicate token {t!r}")
            self.ids[t] = i
        for special in ("[PAD]", "[UNK]", "[CLS]", "[SEP]"):
            if special not in self.ids:
                raise ValueError(f"{path}: no {special}")
        self.pad = self.ids["[PAD]"]
        self.unk = self.ids["[UNK]"]
        self.cls = self.ids["[CLS]"]
        self.sep = self.ids["[SEP]"]
        self.longest = max(len(t) for t in tokens)

    def __len__(self):
        return len(self.tokens)


class WordPiece:
    def __init__(self, vocabulary):
        self.vocab = vocabulary if isinstance(vocabulary, Vocabulary) else Vocabulary(vocabulary)

    # -- basic tokenisation ----------------------------------------------------------------------
    def _raw_words(self, text):
        """Steps 1-2: clean, isolate CJK ideographs, split on whitespace."""
        words, cur = [], []
        for ch in text:
            if _is_dropped(ch):
                continue
            if _is_space(ch):
                if cur:
                    words.append("".join(cur))
                    cur = []
            elif _is_cjk(ord(ch)):
                if cur:
                    words.append("".join(cur))
                    cur = []
                words.append(ch)
            else:
                cur.append(ch)
        if cur:
            words.append("".join(cur))
        return words

    def basic_tokenize(self, text):
        out = []
        for word in self._raw_words(text):
            # Step 3: lower-case (in the context of the whole whitespace word, as str.lower() sees
            # it), decompose, drop the non-spacing marks.
            word = unicodedata.normalize("NFD", word.lower())
            word = "".join(ch for ch in word if unicodedata.category(ch) != "Mn")
            # Step 4: punctuation characters stand alone.
            cur = []
            for ch in word:
                if _is_punct(ch):
                    if cur:
                        out.append("".join(cur))
                        cur = []
                    out.append(ch)
                else:
                    cur.append(ch)
            if cur:
                out.append("".join(cur))
        return out

    # -- WordPiece -------------------------------------------------------------------------------
    def wordpiece(self, word):
        ids = self.vocab.ids
        n = len(word)
        if n > MAX_WORD_CODE_POINTS:
            return [self.vocab.unk]
        pieces = []
        start = 0
        while start < n:
            # The longest piece from `start` that the vocabulary holds.
            end = min(n, start + self.vocab.longest + (2 if start > 0 else 0))
            found = None
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                i = ids.get(piece)
                if i is not None:
                    found = i
                    break
                end -= 1
            if found is None:
                return [self.vocab.unk]
            pieces.append(found)
            start = end
        return pieces

    def tokenize(self, text):
        out = []
        for word in self.basic_tokenize(text):
            out.extend(self.wordpiece(word))
        return out

    def pieces(self, ids):
        return [self.vocab.tokens[i] for i in ids]

    # -- framing ---------------------------------------------------------------------------------
    def encode(self, text, sequence_length):
        """[CLS] a [SEP] padded with [PAD]: (ids, length, truncated)."""
        return self.frame(self.tokenize(text), sequence_length)

    def frame(self, pieces, sequence_length):
        room = sequence_length - 2
        truncated = len(pieces) > room
        body = pieces[:room]
        ids = [self.vocab.cls] + body + [self.vocab.sep]
        length = len(ids)
        ids += [self.vocab.pad] * (sequence_length - length)
        return ids, length, truncated


# ---- the check against the engine's C++ tokenizer -------------------------------------------------

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_VOCAB = os.path.join(REPO, "data", "wordpiece", "bert-base-uncased-vocab.txt")


def read_sentences(path):
    """The `sentence` column of a GLUE TSV file (header line, tab-separated, no quoting)."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    header = lines[0].split("\t")
    col = header.index("sentence")
    return [line.split("\t")[col] for line in lines[1:] if line]


EDGE_CASES = [
    "Héllo, WORLD!!! Café Noël — naïve façade",
    "unaffable 中文字 ok",
    "tab\tnew\nline\rcr\u00a0nbsp\u2028ls\u2029ps\u3000ideo",
    "ctrl\x01\x07\x7f\u200bzero\ufeffbom\ufffdrepl",
    "ΣΟΦΟΣ ΟΔΟΣ. Σ σ ς",
    "x" * 100 + " " + "y" * 101,
    "$5 ^caret^ `back` ~tilde~ {brace} [CLS] [SEP] [PAD]",
    "don't can't won't it's l'amour",
    "İstanbul ǅ ﬁne ß ÆØÅ",
    "¿qué? ¡sí! «guillemets» „quotes“ …ellipsis",
    "a" * 30 + "##b",
    "emoji 😀👍🏽 and kana ひらがな カタカナ 한국어",
    "mixed123numbers 3.14 1,000,000 -42",
    "",
    "   ",
]


def run_cli(binary, vocab, text, sequence_length):
    cmd = [binary, "tokenize", "--vocabulary", vocab, "--sequence-length", str(sequence_length), "--json", "--", text]
    for attempt in range(120):
        # The binary can be missing or half-written for a moment while someone rebuilds: retry.
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8")
        except OSError:
            time.sleep(5)
            continue
        if r.returncode >= 0:
            break
        time.sleep(5)  # killed by a signal (e.g. a binary replaced while it started): retry
    else:
        raise RuntimeError(f"cannot run {binary}")
    if r.returncode != 0:
        return {"error": (r.stderr or r.stdout).strip()}
    return json.loads(r.stdout)


def check(args):
    binary = args.binary
    while not os.path.exists(binary):  # the build may be briefly missing during a rebuild
        print(f"waiting for {binary} ...", file=sys.stderr)
        time.sleep(10)
    tok = WordPiece(args.vocabulary)
    S = args.sequence_length
    dev = read_sentences(os.path.join(REPO, "data", "sst2", "dev.tsv"))
    train = read_sentences(os.path.join(REPO, "data", "sst2", "train.tsv"))
    # Training sentences: every one with a non-ASCII character, every one that is truncated at S,
    # then a seeded random sample up to --train-count.
    chosen = [i for i, s in enumerate(train) if any(ord(c) > 127 for c in s)]
    chosen += [i for i, s in enumerate(train) if tok.encode(s, S)[2]]
    chosen = sorted(set(chosen))
    rest = [i for i in range(len(train)) if i not in set(chosen)]
    random.Random(args.seed).shuffle(rest)
    chosen += rest[: max(0, args.train_count - len(chosen))]
    texts = [("dev", i, s) for i, s in enumerate(dev)] + [("train", i, train[i]) for i in chosen]
    texts += [("edge", i, s) for i, s in enumerate(EDGE_CASES)]
    print(f"checking {len(dev)} dev + {len(chosen)} train sentences + {len(EDGE_CASES)} edge cases against "
          f"`{binary} tokenize --sequence-length {S}` ({args.jobs} processes at a time)", flush=True)

    t0 = time.time()
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(lambda t: run_cli(binary, args.vocabulary, t[2], S), texts))
    mismatches = 0
    counted = {"dev": 0, "train": 0, "edge": 0}
    refused = 0
    for (split, i, text), ref in zip(texts, results):
        mine_ids, mine_len, mine_trunc = tok.encode(text, S)
        if "error" in ref:
            # The CLI refuses some texts (e.g. an empty one); the engine's GLUE reader refuses an
            # empty sentence too. Only edge cases may be refused.
            if split == "edge" and not tok.tokenize(text):
                refused += 1
                continue
            mismatches += 1
            print(f"MISMATCH {split}[{i}] {text!r}: the CLI failed: {ref['error']}")
            continue
        counted[split] += 1
        ok = ref["ids"] == mine_ids[:mine_len] and ref["length"] == mine_len and ref["truncated"] == mine_trunc
        if not ok:
            mismatches += 1
            print(f"MISMATCH {split}[{i}] {text!r}\n  engine: {ref['pieces']}\n  python: {tok.pieces(mine_ids[:mine_len])}")
    total = sum(counted.values())
    print(f"compared {total} texts (dev {counted['dev']}, train {counted['train']}, edge cases {counted['edge']}; "
          f"{refused} empty edge cases refused by both) in {time.time() - t0:.0f} s: {mismatches} mismatches")
    return 1 if mismatches else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("text", nargs="*", help="texts to tokenise (prints pieces and ids)")
    ap.add_argument("--vocabulary", default=DEFAULT_VOCAB)
    ap.add_argument("--sequence-length", type=int, default=64)
    ap.add_argument("--check", action="store_true", help="compare with the engine's `transcode tokenize`")
    ap.add_argument("--binary", default=os.path.join(REPO, "build", "bin", "transcode"))
    ap.add_argument("--train-count", type=int, default=1500, help="--check: training sentences to compare (>= the non-ASCII and truncated ones)")
    ap.add_argument("--jobs", type=int, default=2, help="--check: CLI processes at a time")
    ap.add_argument("--seed", type=int, default=1, help="--check: the sample of training sentences")
    args = ap.parse_args()
    if args.check:
        sys.exit(check(args))
    tok = WordPiece(args.vocabulary)
    for text in args.text:
        ids, length, truncated = tok.encode(text, args.sequence_length)
        print(json.dumps({"pieces": tok.pieces(ids[:length]), "ids": ids[:length], "length": length, "truncated": truncated},
                         ensure_ascii=False))


if __name__ == "__main__":
    main()
