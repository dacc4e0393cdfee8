"""Tests of the Python module `transcode` (run by ctest as `python-module`, with the interpreter the
module was built for). They run the real CLI on the same inputs and compare: the module must give
what `transcode` gives."""

import json
import os
import pathlib
import subprocess
import sys

import numpy
import pytest

import transcode

CLI = os.environ["TRANSCODE_CLI"]
ROOT = pathlib.Path(os.environ["TRANSCODE_SOURCE_DIR"])
MODEL = ROOT / "configs/models/bert-tiny.yaml"
ACCELERATOR = ROOT / "configs/accelerators/acceltran-edge.yaml"
QUICKSTART = ROOT / "configs/experiments/quickstart.yaml"
SMALL_JOINT = ROOT / "tests/fixtures/codesign/small-joint.yaml"
THREE_MISTAKES = ROOT / "tests/fixtures/three_mistakes.yaml"
# The quickstart's sparsity, as --set overrides of `transcode simulate`.
SPARSITY = {
    "simulation.sparsity.activation": 0.5,
    "simulation.sparsity.activation_gradient": 0.9,
    "simulation.sparsity.weight_gradient": 0.9,
}


def cli(*args, check=True, env=None):
    return subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, check=check, env=env)


def read_ops_csv(path):
    """ops.csv rows as the CLI wrote them (all cells text)."""
    lines = pathlib.Path(path).read_text().splitlines()
    header = lines[0].split(",")
    return [dict(zip(header, line.split(","))) for line in lines[1:]]


def test_simulate_equals_the_cli_results_json_and_ops_csv(tmp_path):
    cli("simulate", "--model", MODEL, "--accelerator", ACCELERATOR, "--mode", "training", "--fidelity", "event",
        *[a for k, v in SPARSITY.items() for a in ("--set", f"{k}={v}")], "--out", tmp_path / "cli", "-q")
    expected = json.loads((tmp_path / "cli/results.json").read_text())
    result = transcode.simulate(str(MODEL), ACCELERATOR, mode="training", fidelity="event", overrides=SPARSITY, out=tmp_path / "py")
    assert result.to_dict() == expected
    assert result["latency"]["cycles"] == expected["latency"]["cycles"] > 0
    assert result["energy"]["total_j"] == expected["energy"]["total_j"] > 0
    assert result.out == str(tmp_path / "py")
    # The per-op table: the same rows as the CLI's ops.csv, with numbers as numbers.
    cli_ops = read_ops_csv(tmp_path / "cli/ops.csv")
    assert len(result.ops) == len(cli_ops) == expected["simulation"]["ops"]
    for mine, theirs in zip(result.ops, cli_ops):
        assert list(mine) == list(theirs)
        assert {k: str(v) for k, v in mine.items() if not isinstance(v, float)} == {
            k: v for k, v in theirs.items() if not isinstance(mine[k], float)}
        assert all(mine[k] == float(theirs[k]) for k, v in mine.items() if isinstance(v, float))
    assert isinstance(result.ops[0]["cycles"], int) and isinstance(result.ops[0]["dynamic_j"], float)
    assert sum(op["cycles"] for op in result.ops) > 0


def test_ops_array_is_a_structured_array_of_the_same_rows(tmp_path):
    result = transcode.simulate(MODEL, ACCELERATOR, fidelity="analytic", out=tmp_path)
    table = result.ops_array()
    assert isinstance(table, numpy.ndarray)
    assert list(table.dtype.names) == list(result.ops[0])
    assert table.dtype["cycles"] == numpy.int64 and table.dtype["dynamic_j"] == numpy.float64 and table.dtype["name"].kind == "U"
    assert len(table) == len(result.ops)
    assert list(table["name"]) == [op["name"] for op in result.ops]
    assert int(table["cycles"].sum()) == sum(op["cycles"] for op in result.ops)


def test_simulate_with_dicts_equals_simulate_with_files(tmp_path, monkeypatch):
    import yaml  # python3-yaml, listed in scripts/setup.sh
    model = yaml.safe_load(MODEL.read_text())
    accelerator = yaml.safe_load(ACCELERATOR.read_text())
    # The accelerator's includes are relative to its file; from a dict they are relative to the current directory.
    monkeypatch.chdir(ACCELERATOR.parent)
    from_files = transcode.simulate(MODEL, ACCELERATOR, fidelity="analytic", out=tmp_path / "files")
    from_dicts = transcode.simulate(model, accelerator, fidelity="analytic", out=tmp_path / "dicts")
    assert from_dicts["experiment"]["name"] == "simulate-bert-tiny-acceltran-edge"
    for key in ("latency", "energy", "memory", "utilisation", "accelerator", "model"):
        assert from_dicts[key] == from_files[key], key


def test_run_equals_transcode_run_on_the_quickstart(tmp_path):
    cli("run", QUICKSTART, "--out", tmp_path / "cli", "-q", "--set", "simulation.fidelity=analytic")
    expected = json.loads((tmp_path / "cli/results.json").read_text())
    result = transcode.run(QUICKSTART, overrides=["simulation.fidelity=analytic"], out=tmp_path / "py")
    assert result.to_dict() == expected
    assert result["experiment"]["name"] == "quickstart" and result["status"] == "ok"
    assert (tmp_path / "py/results.json").exists() and (tmp_path / "py/ops.csv").exists()


def test_run_takes_an_experiment_dict(tmp_path, monkeypatch):
    import yaml
    experiment = yaml.safe_load(QUICKSTART.read_text())
    monkeypatch.chdir(QUICKSTART.parent)  # its includes are relative to its folder
    result = transcode.run(experiment, overrides={"simulation.fidelity": "analytic"}, out=tmp_path)
    reference = transcode.run(QUICKSTART, overrides={"simulation.fidelity": "analytic"}, out=tmp_path / "file")
    assert result["latency"] == reference["latency"]


def test_config_error_is_the_cli_message_with_its_location():
    proc = cli("validate", THREE_MISTAKES, check=False)
    assert proc.returncode == 2
    with pytest.raises(transcode.ConfigError) as caught:
        transcode.validate(THREE_MISTAKES)
    e = caught.value
    assert isinstance(e, ValueError)
    assert str(e) == (f"{THREE_MISTAKES}:4:1: error: sede: unknown key 'sede'; did you mean 'seed'? (unknown-key)\n"
                      f"{THREE_MISTAKES}:6:9: error: probe.rows: value -4 must be greater than 0 (range)\n"
                      f"{THREE_MISTAKES}:10:12: error: pruning.params.tau_t: expected a float, got 'lots' (type)")
    assert proc.stderr.splitlines()[:3] == str(e).splitlines()
    assert (e.file, e.line, e.column, e.path, e.rule) == (str(THREE_MISTAKES), 4, 1, "sede", "unknown-key")
    assert e.message == str(e)
    assert [(d["line"], d["column"], d["path"], d["rule"]) for d in e.diagnostics] == [
        (4, 1, "sede", "unknown-key"), (6, 9, "probe.rows", "range"), (10, 12, "pruning.params.tau_t", "type")]
    assert e.diagnostics[1]["message"] == "value -4 must be greater than 0"


def test_config_error_in_a_dict_is_located_in_its_json_text():
    bad = {"name": "tiny", "family": "flexibert", "params": {"preset": "bert-tiny", "hiden": 4}}
    with pytest.raises(transcode.ConfigError) as caught:
        transcode.load_model(bad)
    e = caught.value
    # json.dumps(bad, indent=2): "hiden" is on line 6, its key at column 5.
    assert (e.file, e.line, e.column, e.path, e.rule) == ("<dict>", 6, 5, "params.hiden", "unknown-key")
    assert str(e).startswith("<dict>:6:5: error: params.hiden: unknown key 'hiden'")


def test_bad_mode_is_a_located_error_of_the_generated_experiment():
    with pytest.raises(transcode.ConfigError) as caught:
        transcode.simulate(MODEL, ACCELERATOR, mode="train")
    e = caught.value
    assert (e.file, e.line, e.path, e.rule) == ("<simulate>", 3, "mode", "choice")
    assert str(e).startswith("<simulate>:3:7: error: mode: ")


def test_override_error_is_located_as_with_the_cli(tmp_path):
    proc = cli("simulate", "--model", MODEL, "--accelerator", ACCELERATOR, "--set", "simulation.sparsity.activaton=0.5",
               "--out", tmp_path, "-q", check=False)
    assert proc.returncode == 2
    with pytest.raises(transcode.ConfigError) as caught:
        transcode.simulate(MODEL, ACCELERATOR, overrides={"simulation.sparsity.activaton": 0.5}, out=tmp_path)
    assert proc.stderr.strip() == str(caught.value)
    assert caught.value.file == "--set" and caught.value.rule == "unknown-key"


def test_error_without_a_location_has_none_attributes(tmp_path):
    with pytest.raises(transcode.ConfigError) as caught:
        transcode.run(QUICKSTART, resume=True, out=tmp_path)
    e = caught.value
    assert str(e) == "--resume carries on a co-design search or a sweep; experiment 'quickstart' is of kind simulate"
    assert (e.file, e.line, e.column, e.rule, e.diagnostics) == (None, None, None, None, [])


@pytest.mark.parametrize("call, message", [
    (lambda: transcode.simulate(3, ACCELERATOR), "simulate(): model must be a file path (str or os.PathLike) or a dict, got int"),
    (lambda: transcode.simulate(MODEL, [ACCELERATOR]), "simulate(): accelerator must be a file path (str or os.PathLike) or a dict, got list"),
    (lambda: transcode.simulate(MODEL, ACCELERATOR, mode=1), "simulate(): mode must be a str, got int"),
    (lambda: transcode.simulate(MODEL, ACCELERATOR, fidelity=None), "simulate(): fidelity must be a str, got NoneType"),
    (lambda: transcode.simulate(MODEL, ACCELERATOR, overrides=5), "simulate(): overrides must be a dict, a list of 'PATH=VALUE' str, or None, got int"),
    (lambda: transcode.simulate(MODEL, ACCELERATOR, overrides={1: 2}), "simulate(): overrides must be a dict with str keys (dotted paths), got int"),
    (lambda: transcode.simulate(MODEL, ACCELERATOR, out=7), "simulate(): out must be a path (str or os.PathLike) or None, got int"),
    (lambda: transcode.simulate(MODEL, ACCELERATOR, quiet="yes"), "simulate(): quiet must be a bool, got str"),
    (lambda: transcode.run(QUICKSTART, threads="2"), "run(): threads must be an int, got str"),
    (lambda: transcode.run(QUICKSTART, resume=1), "run(): resume must be a bool, got int"),
    (lambda: transcode.run(42), "run(): experiment must be a file path (str or os.PathLike) or a dict, got int"),
    (lambda: transcode.validate(b"x.yaml"), "validate(): source must be a file path (str or os.PathLike) or a dict, got bytes"),
    (lambda: transcode.load_model(MODEL, training="no"), "load_model(): training must be a bool, got str"),
    (lambda: transcode.plugins(kind=1), "plugins(): kind must be a str, got int"),
    (lambda: transcode.describe_plugin(None), "describe_plugin(): name must be a str, got NoneType"),
    (lambda: transcode.read_store(3.5), "read_store(): path must be a path (str or os.PathLike), got float"),
])
def test_wrong_types_raise_type_error_naming_the_parameter(call, message):
    with pytest.raises(TypeError) as caught:
        call()
    assert str(caught.value) == message


def test_plugins_equal_transcode_plugins_list_json():
    assert transcode.plugins() == json.loads(cli("plugins", "list", "--json").stdout)
    assert transcode.plugins("search") == json.loads(cli("plugins", "list", "--kind", "search", "--json").stdout)
    assert {p["kind"] for p in transcode.plugins()} == {"model", "pruning", "component", "search", "accuracy"}
    with pytest.raises(ValueError, match="plugins\\(\\): kind must be one of model, pruning, component, search, accuracy; got 'modle'"):
        transcode.plugins("modle")


def test_describe_plugin_equals_the_cli_and_suggests_a_name():
    assert transcode.describe_plugin("dynaprop") == json.loads(cli("plugins", "describe", "dynaprop", "--json").stdout)
    with pytest.raises(transcode.ConfigError) as caught:
        transcode.describe_plugin("dynaprob")
    assert str(caught.value) == cli("plugins", "describe", "dynaprob", check=False).stderr.strip()
    assert str(caught.value) == "error: no plugin named 'dynaprob'; did you mean 'dynaprop'?"


def test_validate_says_what_each_file_is_as_the_cli_does():
    for f in (QUICKSTART, MODEL, ACCELERATOR):
        assert f"{f}: {transcode.validate(f)}" == cli("validate", f).stdout.strip()
    assert transcode.validate(QUICKSTART) == "ok (experiment 'quickstart', kind simulate)"


def test_load_model_and_accelerator():
    model = transcode.load_model(MODEL)
    assert model == json.loads(cli("model", "describe", MODEL, "--json").stdout)
    assert model["name"] == "bert-tiny" and model["family"] == "models.flexibert"
    accelerator = transcode.load_accelerator(ACCELERATOR, overrides={"description": "changed"})
    assert accelerator["name"] == "acceltran-edge" and accelerator["area_mm2"] > 0 and accelerator["units"]


def test_read_store_lists_the_evaluations_of_a_codesign_run(tmp_path):
    result = transcode.run(SMALL_JOINT, overrides={"search.evaluations": 8}, out=tmp_path)
    rows = transcode.read_store(tmp_path)
    assert rows == transcode.read_store(tmp_path / "search.db")
    assert len(rows) == 8
    assert [(r["round"], r["slot"]) for r in rows] == sorted((r["round"], r["slot"]) for r in rows)
    assert all(r["status"] in ("ok", "infeasible") for r in rows)
    assert isinstance(rows[0]["candidate"], list) and isinstance(rows[0]["accuracy_details"], dict)
    ok = [r for r in rows if r["status"] == "ok"]
    assert ok and all(r["latency_s"] > 0 and r["area_mm2"] > 0 for r in ok)
    # The same rows as the sqlite3 module reads.
    import sqlite3
    with sqlite3.connect(tmp_path / "search.db") as db:
        assert [r["latency_s"] for r in rows] == [v for (v,) in db.execute("SELECT latency_s FROM evaluations ORDER BY round, slot")]
    assert result["status"] == "ok"
    with pytest.raises(transcode.ConfigError, match="no search database here"):
        transcode.read_store(tmp_path / "missing")


def test_plugin_path_entries_load_as_for_the_cli(tmp_path):
    # A missing TRANSCODE_PLUGIN_PATH entry is skipped with the CLI's message, as a RuntimeWarning.
    code = ("import warnings, transcode\n"
            "with warnings.catch_warnings(record=True) as w:\n"
            "    warnings.simplefilter('always')\n"
            "    n = len(transcode.plugins())\n"
            "print(n)\n"
            "print(w[0].category.__name__, w[0].message)\n")
    env = dict(os.environ, TRANSCODE_PLUGIN_PATH=str(tmp_path / "nowhere"))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    count, warning = proc.stdout.splitlines()
    assert int(count) == len(transcode.plugins())
    category, message = warning.split(" ", 1)
    assert category == "RuntimeWarning"
    assert message.startswith(f"TRANSCODE_PLUGIN_PATH entry '{tmp_path / 'nowhere'}' skipped: ")
    assert cli("plugins", "list", env=env).stderr == f"warning: {message}\n"  # the CLI's warning, word for word


def test_module_finds_its_plugins_and_version():
    assert transcode.__version__ == cli("version").stdout.split()[1]
    assert all(pathlib.Path(p["file"]).parent == pathlib.Path(transcode.install_prefix) / "lib/transcode/plugins"
               for p in transcode.plugins())
