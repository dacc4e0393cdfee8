#!/usr/bin/python3
"""`transcode schema` against the shipped files: every shipped experiment, model, accelerator,
component file and design space validates against the schema of its kind;
tests/fixtures/three_mistakes.yaml fails with its three mistakes, and one typo per kind (in an
accelerator, a unit's component params, a search plugin's params, a design space) is caught. Uses Debian's python3-jsonschema
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
accelerator, component, design_space = schema("accelerator"), schema("component"), schema("design_space")
for folder, validator in (("experiments", experiment), ("models", model), ("accelerators", accelerator), ("components", component),
                          ("design_spaces", design_space)):
    paths = sorted(glob.glob(f"{root}/configs/{folder}/*.yaml"))
    check(f"configs/{folder} has files", len(paths) > 0)
    for path in paths:
        errors = list(validator.iter_errors(yaml.safe_load(open(path))))
        check(path, not errors, "; ".join(e.message for e in errors))


def rejected(name, validator, doc, needle):
    """`doc` must fail `validator`, with `needle` in one of the messages (or their paths)."""
    errors = list(validator.iter_errors(doc))
    text = "; ".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
    for e in errors:
        for sub in e.context or []:
            text += f"; {list(sub.absolute_path)}: {sub.message}"
    check(name, bool(errors) and needle in text, text or "accepted")


edge = yaml.safe_load(open(f"{root}/configs/accelerators/acceltran-edge.yaml"))
typo = dict(edge, clock_mhzz=700)
rejected("an accelerator key typo (clock_mhzz) is rejected", accelerator, typo, "clock_mhzz")
units = [dict(u) for u in edge["processing_elements"]["units"]]
units[0] = dict(units[0], params=dict(units[0]["params"], macss=16))
rejected("a unit's component param typo (macss) is rejected", accelerator,
         dict(edge, processing_elements=dict(edge["processing_elements"], units=units)), "macss")
rejected("an unknown component is rejected", accelerator,
         dict(edge, units=[dict(edge["units"][0], component="acceltran.bufer")] + edge["units"][1:]), "acceltran.bufer")
codesign = yaml.safe_load(open(f"{root}/configs/experiments/codesign-edge.yaml"))
rejected("a search plugin's param typo is rejected", experiment,
         dict(codesign, search=dict(codesign["search"], params={"intial_samples": 8})), "intial_samples")
rejected("an accelerator typo inside an experiment is rejected", experiment, dict(codesign, accelerator={"clok_mhz": 700}), "clok_mhz")
space = yaml.safe_load(open(f"{root}/configs/design_spaces/acceltran.yaml"))
rejected("a design-space knob key typo is rejected", design_space,
         dict(space, knobs=[dict(space["knobs"][0], sett=["tile.b"])] + space["knobs"][1:]), "sett")
rejected("a component file with a key no component has is rejected", component, {"latency_nss": 100}, "latency_nss")

bad = yaml.safe_load(open(f"{root}/tests/fixtures/three_mistakes.yaml"))
messages = sorted(e.message for e in experiment.iter_errors(bad))
check("three_mistakes.yaml is rejected for its three mistakes", len(messages) == 3 and any("sede" in m for m in messages)
      and any("-4" in m for m in messages) and any("lots" in m for m in messages), "; ".join(messages))

print(f"schema: {passed} passed, {failures} failed")
sys.exit(1 if failures else 0)
