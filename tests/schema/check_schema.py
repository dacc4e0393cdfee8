#!/usr/bin/python3
"""`transcode schema` against the shipped files: every shipped experiment and model validates, and
tests/fixtures/three_mistakes.yaml fails with its three mistakes. Uses Debian's python3-jsonschema
and python3-yaml (installed by scripts/setup.sh)."""
import glob
import json
import subprocess
import sys

import jsonschema
import yaml

cli, root = sys.argv[1], sys.argv[2]
failures = 0
passed = 0


def schema(kind):
    out = subprocess.run([cli, "schema", "--file-kind", kind], check=True, capture_output=True, text=True).stdout
    s = json.loads(out)
    jsonschema.Draft7Validator.check_schema(s)
    return jsonschema.Draft7Validator(s)


def check(name, ok, detail=""):
    global failures, passed
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail and not ok else ''}")
    if ok:
        passed += 1
    else:
        failures += 1


experiment, model = schema("experiment"), schema("model")
for path in sorted(glob.glob(f"{root}/configs/experiments/*.yaml")):
    errors = list(experiment.iter_errors(yaml.safe_load(open(path))))
    check(path, not errors, "; ".join(e.message for e in errors))
for path in sorted(glob.glob(f"{root}/configs/models/*.yaml")):
    errors = list(model.iter_errors(yaml.safe_load(open(path))))
    check(path, not errors, "; ".join(e.message for e in errors))

bad = yaml.safe_load(open(f"{root}/tests/fixtures/three_mistakes.yaml"))
messages = sorted(e.message for e in experiment.iter_errors(bad))
check("three_mistakes.yaml is rejected for its three mistakes", len(messages) == 3 and any("sede" in m for m in messages)
      and any("-4" in m for m in messages) and any("lots" in m for m in messages), "; ".join(messages))

print(f"schema: {passed} passed, {failures} failed")
sys.exit(1 if failures else 0)
