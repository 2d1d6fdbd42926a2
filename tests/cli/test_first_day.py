"""A researcher's first day (issue 16): a space that disagrees with the evaluators is caught at
construction, an all-failed run says why and exits non-zero, run names print as they are."""

from __future__ import annotations

import json
import os
import warnings

import pytest

import codesign
from codesign.cli.main import main
from codesign.errors import ConfigError, ParameterWarning

HERE = os.path.dirname(__file__)
PLUGIN = os.path.join(HERE, "..", "plugins", "firstday_plugin.py")
SYNTH = os.path.join(HERE, "..", "plugins", "synth_plugin.py")


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_missing_hardware_parameter_is_one_line_before_any_evaluation(tmp_path, capsys) -> None:
    store = tmp_path / "s"
    code, out, err = run_cli(capsys, "run", "--plugin", PLUGIN, "--space", "fd-missing-hw", "--budget", "20",
                             "--store", str(store))
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert "lacks ['clock_mhz', 'dram_gbps', 'glb_kb', 'pe_buf_bytes']" in lines[0] and "roofline" in lines[0]
    assert not store.exists()


def test_bits_are_read_in_pairs(tmp_path, capsys) -> None:
    code, _, err = run_cli(capsys, "run", "--plugin", PLUGIN, "--space", "fd-half-bits", "--store", str(tmp_path / "s"))
    assert code == 2 and "lacks ['a_bits.all']" in err


def test_misnamed_bits_warn_and_fail_under_strict(tmp_path, capsys) -> None:
    args = ["run", "--plugin", PLUGIN, "--space", "fd-misnamed-bits", "--budget", "3", "--quiet"]
    code, out, err = run_cli(capsys, *args, "--store", str(tmp_path / "a"), "--strict")
    assert code == 2, (out, err)
    assert len(err.strip().splitlines()) == 1
    assert "parameters ['w_bits', 'a_bits']" in err and "'w_bits' -> 'w_bits.all'" in err and "--strict" in err
    assert not (tmp_path / "a").exists()
    code, out, err = run_cli(capsys, *args, "--store", str(tmp_path / "b"))
    assert code == 0, err
    warning = [l for l in err.splitlines() if l.startswith("codesign: warning:")]
    assert len(warning) == 1 and "read by no evaluator" in warning[0]


def test_problem_checks_parameters_in_python() -> None:
    codesign.load_plugin(PLUGIN)
    base = codesign.make_problem("digits-accel")
    with pytest.raises(ConfigError, match=r"lacks \['clock_mhz', 'dram_gbps', 'glb_kb', 'pe_buf_bytes'\]"):
        base.with_space(codesign.make_space("fd-missing-hw"))
    with pytest.warns(ParameterWarning, match=r"\['w_bits', 'a_bits'\] of space 'fd-misnamed-bits'"):
        base.with_space(codesign.make_space("fd-misnamed-bits"))


@pytest.mark.parametrize("name", ["digits-accel", "digits-accel-small", "resnet18-accel", "resnet18-accel-flat",
                                  "mixtral-accel"])
def test_builtin_problems_read_every_parameter(name) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ParameterWarning)
        problem = codesign.make_problem(name)
    from codesign.evaluators.params import declared_use

    assert all(declared_use(e) is not None for e in problem.evaluators), "built-in evaluators declare what they read"


def test_all_failed_run_exits_nonzero_with_reasons_and_show_counts_them(tmp_path, capsys) -> None:
    store = str(tmp_path / "s")
    code, out, err = run_cli(capsys, "run", "--plugin", PLUGIN, "--problem", "fd-always-fails", "--budget", "12",
                             "--store", store, "--quiet")
    assert code == 1, (out, err)
    line = [l for l in err.splitlines() if "every evaluation" in l]
    assert len(line) == 1 and "failed (12)" in line[0]
    assert "ValueError: unsupported clock" in line[0] and "RuntimeError: LUT tables do not fit" in line[0]
    code, out, _ = run_cli(capsys, "show", "--store", store)
    assert code == 0
    counted = [l.split() for l in out.splitlines() if " x " in l and "Error" in l]
    assert counted and sum(int(c[0]) for c in counted) == 12, out
    code, out, _ = run_cli(capsys, "show", "--store", store, "--json")
    reasons = json.loads(out)["problems"][0]["runs"][0]["failure_reasons"]
    assert sum(r["count"] for r in reasons) == 12
    assert [r["count"] for r in reasons] == sorted((r["count"] for r in reasons), reverse=True)
    # --json: the one document on stdout, still a non-zero exit
    code, out, _ = run_cli(capsys, "run", "--plugin", PLUGIN, "--problem", "fd-always-fails", "--budget", "13",
                           "--store", store, "--json")
    assert code == 1 and json.loads(out)["run"] == "fd-always-fails/random/seed0"


def test_bracketed_run_names_print_and_select(tmp_path, capsys) -> None:
    store = str(tmp_path / "s")
    code, out, err = run_cli(capsys, "run", "--plugin", SYNTH, "--problem", "synth-test", "--space", "synth-space",
                             "--budget", "4", "--store", store, "--quiet")
    assert code == 0, err
    name = "synth-test[synth-space]/random/seed0"
    assert name in out and "--run 'synth-test[synth-space]/random/seed0'" in out.replace("\n", " ").replace("  ", " ")
    code, out, err = run_cli(capsys, "show", "--store", store)
    assert code == 0 and name in out and "runs of synth-test[synth-space]" in out
    code, out, err = run_cli(capsys, "show", "--store", store, "--run", name)
    assert code == 0, err


def test_probe_digits_cnn_with_progress(capsys) -> None:
    code, out, err = run_cli(capsys, "probe", "--workload", "digits-cnn", "--w-bits", "3", "--a-bits", "4", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert err == ""  # --json: one document, no progress display
    assert doc["metric"] == "accuracy" and doc["n_eval"] == 540
    assert doc["degradation"] == pytest.approx(doc["float"] - doc["value"])
    assert 0 < doc["stderr"] < 0.05 and doc["float"] > 0.9
    code, out, err = run_cli(capsys, "probe", "--workload", "digits-cnn", "--w-bits", "3", "--a-bits", "4")
    assert code == 0 and out.startswith("digits-cnn W3A4: accuracy")
    assert "loading digits-cnn" in err and "measuring digits-cnn at W3A4" in err  # what it is doing, and for how long
    code, _, err = run_cli(capsys, "probe", "--workload", "digits-cnn", "--calibrate")
    assert code == 2 and "needs a torch probe" in err


def test_run_progress_shows_eta_front_and_normalized_hypervolume(tmp_path, capsys) -> None:
    code, out, err = run_cli(capsys, "run", "--plugin", SYNTH, "--problem", "synth-test", "--budget", "15",
                             "--store", str(tmp_path / "s"))
    assert code == 0, err
    bar = [l for l in err.splitlines() if "synth-test / random" in l]
    assert bar and "15/15" in bar[-1] and "ETA" in bar[-1]
    front, hv = bar[-1].split("front ")[1].split(" · HV ")
    doc = json.loads(run_cli(capsys, "show", "--store", str(tmp_path / "s"), "--json")[1])
    run = doc["problems"][0]["runs"][0]
    assert int(front.split()[0]) == run["pareto_size"]
    assert float(hv.split()[0]) == pytest.approx(run["hypervolume"], rel=1e-3)
    assert doc["problems"][0]["hypervolume_kind"] == "normalized"


def test_bench_agents_writes_nothing_by_default_and_shows_progress(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, "bench", "agents", "--problem", "digits-accel-small", "--agents", "random",
                             "--budget", "4", "--seeds", "2", "--json")
    assert code == 0, err
    assert [a["agent"] for a in json.loads(out)["agents"]] == ["random"]
    assert list(tmp_path.iterdir()) == [], "bench agents wrote into the current directory"
    bar = [l for l in err.splitlines() if l.strip().startswith("bench agents: 2 runs")]
    assert bar and "2/2" in bar[-1] and "ETA" in bar[-1], err
    assert sum(l.startswith("[") and "random seed" in l for l in err.splitlines()) == 2
