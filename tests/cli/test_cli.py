"""The `codesign` command: runs, JSON output, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from codesign.cli.main import main

PLUGIN = os.path.join(os.path.dirname(__file__), "..", "plugins", "synth_plugin.py")


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_run_show_export_json(tmp_path, capsys) -> None:
    store = str(tmp_path / "s")
    code, out, err = run_cli(capsys, "run", "--plugin", PLUGIN, "--problem", "synth-test", "--agent", "tpe",
                             "--budget", "15", "--seed", "3", "--store", store, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["run"] == "synth-test/tpe/seed3"
    assert doc["problems"][0]["runs"][0]["evaluations"] == 15
    code, out, _ = run_cli(capsys, "show", "--store", store, "--json")
    shown = json.loads(out)
    assert code == 0 and shown["problems"][0]["pareto_front"] == doc["problems"][0]["pareto_front"]
    code, out, _ = run_cli(capsys, "export", "--store", store, "--format", "csv")
    lines = out.strip().splitlines()
    assert code == 0 and len(lines) == 16 and lines[0].startswith("run,number")
    code, out, _ = run_cli(capsys, "export", "--store", store, "--format", "json")
    assert len(json.loads(out)["runs"][0]["records"]) == 15


def test_custom_space_from_plugin(tmp_path, capsys) -> None:
    store = str(tmp_path / "s")
    code, out, err = run_cli(capsys, "run", "--plugin", PLUGIN, "--problem", "synth-test", "--space", "synth-space",
                             "--budget", "8", "--store", store, "--json")
    assert code == 0, err
    front = json.loads(out)["problems"][0]["pareto_front"]
    assert all(p["design"]["pe_type"] != "lut" for p in front)


def test_yaml_config(tmp_path, capsys) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"problem: synth-test\nplugins: [{PLUGIN}]\nagent: {{name: nsga2, kwargs: {{population_size: 4}}}}\n"
                   f"budget: 9\nseed: 1\nstore: {tmp_path / 's'}\n")
    code, out, err = run_cli(capsys, "run", str(cfg), "--json")
    assert code == 0, err
    assert json.loads(out)["run"] == "synth-test/nsga2/seed1"


def _bad(tmp_path, text: str) -> str:
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    return str(p)


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "--agent", "tpx"], "unknown agent 'tpx'; did you mean 'tpe'"),
        (["run", "--problem", "nope"], "unknown problem 'nope'"),
        (["run", "--space", "no-such-space", "--problem", "synth-test"], "unknown space 'no-such-space'"),
        (["run", "--budget", "0"], "budget must be an integer >= 1, but got 0"),
        (["run", "--budget", "x"], "invalid int value"),
        (["run", "--agent-opt", "oops"], "--agent-opt must be KEY=VALUE"),
        (["run", "--agent", "tpe", "--agent-opt", "n_startup=3", "--problem", "synth-test"], "unknown ['n_startup']"),
        (["run", "CFG:problem: [unclosed"], "is not valid YAML at line"),
        (["run", "CFG:- a list"], "must be a YAML mapping"),
        (["run", "CFG:budgett: 3"], "config keys must be among"),
        (["run", "CFG:problem: {space: quant, evaluators: [roofline], workload: digits-cnn}"],
         "problem must have 'objectives'"),
        (["run", "CFG:problem: {space: {name: quant, kwargs: {w_bits: [0, 8]}}, evaluators: [roofline], "
                 "workload: digits-cnn, objectives: [latency_ms]}"], "w_bits must satisfy 1 <= low <= high <= 16"),
        (["run", "missing.yaml"], "does not exist"),
        (["show", "--store", "NOSTORE"], "no codesign store"),
        (["export", "--store", "NOSTORE", "--format", "xml"], "invalid choice"),
        (["list", "agentz"], "invalid choice"),
        (["run", "--plugin", "nofile.py"], "--plugin must be an existing Python file"),
    ],
)
def test_bad_input_one_line_exit_2_nothing_written(tmp_path, capsys, args, message) -> None:
    store = tmp_path / "store"
    args = [a.replace("NOSTORE", str(tmp_path / "none")) for a in args]
    if args[1].startswith("CFG:"):
        args[1] = _bad(tmp_path, args[1][4:])
    if args[0] == "run":
        args += ["--store", str(store)] + (["--plugin", PLUGIN] if "--plugin" not in args else [])
    code, out, err = run_cli(capsys, *args)
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert message in lines[0], lines[0]
    assert "Traceback" not in err and out == ""
    assert not store.exists(), "a failed command must not create the store"


def test_console_script_help_and_list_json() -> None:
    exe = os.path.join(os.path.dirname(sys.executable), "codesign")
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, check=True).stdout
    for cmd in ("run", "list", "show", "export"):
        assert cmd in out
    doc = json.loads(subprocess.run([exe, "list", "--json"], capture_output=True, text=True, check=True).stdout)
    assert {"random", "tpe", "nsga2"} <= {a["name"] for a in doc["agents"]}
    assert set(doc) == {"spaces", "workloads", "evaluators", "agents", "problems", "envs", "pes"}


def test_closed_pipe_stops_quietly():
    """`codesign ... | head`: the reader is gone before the output is written."""
    proc = subprocess.Popen([sys.executable, "-m", "codesign.cli.main", "validate"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    proc.stdout.close()  # closed before the command (which needs a second to start) prints anything
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 141 and err == ""
