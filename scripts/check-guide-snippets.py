#!/usr/bin/env python3
"""Checks that every code snippet of docs/plugin-guide.md is taken verbatim from an example.

Each ```cpp, ```cmake or ```yaml block of the guide must directly follow a line
    <!-- snippet: PATH NAME -->
where PATH (relative to the repository root) holds a region between a line containing
`[guide:NAME]` and a line containing `[/guide:NAME]` (comment markers: `// [guide:NAME]` in C++,
`# [guide:NAME]` in CMake and YAML). The block must equal the lines strictly between the markers.
Blocks of other languages (sh, text: commands and their output) are not checked.

Usage: check-guide-snippets.py [GUIDE] (default docs/plugin-guide.md). Prints one line per snippet
and exits 1 on any mismatch.
"""
import pathlib
import re
import sys

CHECKED = {"cpp", "c++", "cmake", "yaml"}
root = pathlib.Path(__file__).resolve().parent.parent
guide = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else root / "docs" / "plugin-guide.md"
if not guide.is_file():
    print(f"FAIL no guide at {guide}")
    sys.exit(1)
lines = guide.read_text().splitlines()


def region(path, name):
    text = (root / path).read_text().splitlines()
    begin = [i for i, l in enumerate(text) if re.search(r"(//|#) \[guide:%s\]\s*$" % re.escape(name), l)]
    end = [i for i, l in enumerate(text) if re.search(r"(//|#) \[/guide:%s\]\s*$" % re.escape(name), l)]
    if len(begin) != 1 or len(end) != 1 or end[0] <= begin[0]:
        return None
    return text[begin[0] + 1:end[0]]


failures = 0
checked = 0
pending = None  # (path, name, line number) of the last snippet comment
i = 0
while i < len(lines):
    line = lines[i]
    m = re.fullmatch(r"\s*<!-- snippet: (\S+) (\S+) -->\s*", line)
    if m:
        pending = (m.group(1), m.group(2), i + 1)
        i += 1
        continue
    fence = re.fullmatch(r"```(\S*)\s*", line)
    if fence:
        lang = fence.group(1).lower()
        j = i + 1
        while j < len(lines) and not re.fullmatch(r"```\s*", lines[j]):
            j += 1
        body = lines[i + 1:j]
        if lang in CHECKED:
            if pending is None or pending[2] != i:
                print(f"FAIL {guide.name}:{i + 1}: a ```{lang} block without a `<!-- snippet: PATH NAME -->` line right above it")
                failures += 1
            else:
                path, name, _ = pending
                want = region(path, name)
                checked += 1
                if want is None:
                    print(f"FAIL {guide.name}:{i + 1}: {path} has no single region [guide:{name}] ... [/guide:{name}]")
                    failures += 1
                elif want != body:
                    print(f"FAIL {guide.name}:{i + 1}: snippet '{name}' differs from {path}")
                    failures += 1
                else:
                    print(f"ok   {guide.name}:{i + 1}: snippet '{name}' matches {path}")
        pending = None
        i = j + 1
        continue
    pending = None
    i += 1

print(f"guide snippets: {checked} checked, {failures} failed")
sys.exit(1 if failures or checked == 0 else 0)
