#!/usr/bin/env python3
"""`transcode report` in a real browser (ctest `report-chromium`).

Runs four small experiments with the real CLI (the quickstart, a training run, a DynaProp sweep and
a co-design search), writes each one's report.html with `transcode report`, and opens it in
headless Chromium. A report passes when
  - every chart rendered: the page sets data-charts-rendered on <body> once every vegaEmbed promise
    has resolved, and it must equal data-charts-expected (read back with --dump-dom), with one
    Vega <svg> per chart and no data-chart-error;
  - the browser printed nothing on the console (Chromium logs every console message and every
    uncaught exception as a CONSOLE line with --enable-logging=stderr; a report page logs nothing);
  - it names its experiment and kind, and every quantitative axis title has a unit in parentheses.
A screenshot of each report is saved in SCREENSHOTS (build/report-screenshots/, kept by CI).

Exit 77 (ctest: skipped) with a message when Chromium is not installed; CI installs it
(scripts/setup.sh).

usage: check_report.py TRANSCODE SOURCE_DIR WORK_DIR SCREENSHOTS_DIR
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def run(cmd, timeout=900):
    started = time.monotonic()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
    return r.returncode, r.stdout, time.monotonic() - started


def chromium_binary():
    for name in (os.environ.get("CHROMIUM", ""), "chromium", "chromium-browser"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    transcode, source, work, screenshots = sys.argv[1:]
    chromium = chromium_binary()
    if chromium is None:
        print("SKIP: chromium is not installed, so the HTML report is not checked in a browser "
              "(install it: apt-get install chromium, or bash scripts/setup.sh)")
        return 77
    os.makedirs(screenshots, exist_ok=True)
    if os.path.isdir(work):
        shutil.rmtree(work)
    os.makedirs(work)
    exp = os.path.join(source, "configs", "experiments")
    # Small variants (seconds each) of a shipped experiment of each kind.
    runs = {
        "quickstart": [os.path.join(exp, "quickstart.yaml")],
        "training": [os.path.join(exp, "bert-tiny-train.yaml"), "--set", "training.epochs=2", "--set", "training.max_steps_per_epoch=4",
                     "--set", "data.synthetic.train=256", "--set", "data.synthetic.validation=128"],
        "sweep": [os.path.join(exp, "dynaprop-sweep.yaml"), "--set", "training.epochs=2", "--set", "training.max_steps_per_epoch=3",
                  "--set", "data.synthetic.train=128", "--set", "data.synthetic.validation=64",
                  "--set", "sweep.params={tau_i_train: [0.0, 0.05], tau_t: [0.0, 1.0e-6]}"],
        "codesign": [os.path.join(source, "tests", "fixtures", "codesign", "small-joint.yaml")],
    }
    kinds = {"quickstart": "simulate", "training": "train_and_simulate", "sweep": "dynaprop_sweep", "codesign": "codesign"}
    names = {"quickstart": "quickstart", "training": "bert-tiny-train", "sweep": "dynaprop-sweep", "codesign": "small-joint"}
    problems = []
    for name, args in runs.items():
        out = os.path.join(work, name)
        code, text, secs = run([transcode, "run", *args, "--quiet", "--threads", "2", "--out", out])
        if code != 0:
            fail(f"{name}: transcode run exited {code}:\n{text}")
        code, text, rsecs = run([transcode, "report", out])
        if code != 0:
            fail(f"{name}: transcode report exited {code}:\n{text}")
        page = os.path.join(out, "report.html")
        html = open(page, encoding="utf-8").read()
        url = "file://" + os.path.abspath(page)
        flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--enable-logging=stderr", "--v=0",
                 "--virtual-time-budget=30000"]
        # --dump-dom: the DOM after the scripts ran; stderr carries the console.
        dom_run = subprocess.run(flags + ["--dump-dom", url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
        dom, log = dom_run.stdout, dom_run.stderr
        shot = os.path.join(screenshots, f"{name}.png")
        if os.path.exists(shot):
            os.remove(shot)
        shot_run = subprocess.run(flags + ["--window-size=1400,2400", f"--screenshot={shot}", url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, timeout=300)
        console = [line for line in (log + shot_run.stderr).splitlines() if ":CONSOLE" in line]

        body = re.search(r"<body(\s[^>]*data-charts-expected[^>]*)>", dom)
        attrs = dict(re.findall(r'([a-z-]+)="([^"]*)"', body.group(1))) if body else {}
        expected = int(attrs.get("data-charts-expected", "-1"))
        rendered = attrs.get("data-charts-rendered")
        svgs = len(re.findall(r'<svg[^>]*class="marks"', dom))
        mine = []
        if dom_run.returncode != 0:
            mine.append(f"chromium --dump-dom exited {dom_run.returncode}")
        if expected <= 0:
            mine.append(f"data-charts-expected is {expected}: no charts")
        if rendered != str(expected):
            mine.append(f"data-charts-rendered is {rendered!r}, expected {expected}")
        if "data-chart-error" in attrs:
            mine.append(f"data-chart-error: {attrs['data-chart-error']}")
        if svgs != expected:
            mine.append(f"{svgs} Vega <svg> elements for {expected} charts")
        if console:
            mine.append("console output:\n    " + "\n    ".join(console))
        if not os.path.exists(shot) or os.path.getsize(shot) < 10000:
            mine.append(f"no screenshot at {shot} (chromium exited {shot_run.returncode})")
        if f"<h1>transcode report: {names[name]}</h1>" not in html:
            mine.append(f"no title naming the experiment {names[name]}")
        if f"kind {kinds[name]}" not in html:
            mine.append(f"the page does not say 'kind {kinds[name]}'")
        # Every quantitative axis says its unit: a title ending in "(unit)".
        specs = json.loads(re.search(r'<script type="application/json" id="chart-specs">(.*?)</script>', html, re.S).group(1))

        def encodings(spec):
            for layer in spec.get("layer", [spec]):
                for channel in ("x", "y"):
                    enc = layer.get("encoding", {}).get(channel)
                    if enc and enc.get("type") == "quantitative":
                        yield enc.get("title", "")

        for i, spec in enumerate(specs):
            for title in encodings(spec):
                if not re.search(r"\([^)]+\)$", title):
                    mine.append(f"chart {i}: axis title {title!r} has no unit")
        status = "ok" if not mine else "FAILED"
        print(f"{name}: kind {kinds[name]}, run {secs:.1f} s, report {rsecs:.2f} s ({os.path.getsize(page) // 1024} KiB), "
              f"{rendered}/{expected} charts rendered, {svgs} svg, {len(console)} console lines, screenshot {shot}: {status}")
        problems += [f"{name}: {m}" for m in mine]
    if problems:
        fail("\n".join(problems))
    return 0


if __name__ == "__main__":
    sys.exit(main())
