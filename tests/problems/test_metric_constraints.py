"""Metric constraints from the CLI and YAML: --constraint EXPR and --max-accuracy-drop X."""

from __future__ import annotations

import json

import pytest

from codesign.builtins import register_builtins
from codesign.cli.main import main
from codesign.config import build_problem, metric_constraints, problem_spec
from codesign.errors import ConfigError
from codesign.registry import REGISTRIES

register_builtins()


def test_max_accuracy_drop_becomes_the_probe_degradation_bound() -> None:
    digits = REGISTRIES["problem"].make("digits-accel-small")
    assert metric_constraints(digits, ["area_mm2 <= 2"], 0.01) == ["area_mm2 <= 2", "accuracy_drop <= 0.01"]
    problem = build_problem(problem_spec("digits-accel-small", max_accuracy_drop=0.02, constraints=["area_mm2 <= 2"]))
    assert [c.source for c in problem.constraints] == ["area_mm2 <= 2", "accuracy_drop <= 0.02"]
    with pytest.raises(ConfigError, match="needs a problem with one accuracy probe"):
        metric_constraints(REGISTRIES["problem"].make("resnet18-accel"), [], 0.01)
    with pytest.raises(ConfigError, match=">= 0"):
        metric_constraints(digits, [], -0.5)
    with pytest.raises(ConfigError, match="list of expressions"):
        metric_constraints(digits, "area_mm2 <= 2", None)


def test_cli_and_yaml_constraints_make_designs_infeasible(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "run.yaml"
    cfg.write_text("problem: digits-accel-small\nagent: random\nbudget: 6\nmax_accuracy_drop: 0.0\n"
                   "constraints: ['area_mm2 <= 1000']\n")
    assert main(["run", str(cfg), "--store", str(tmp_path / "s"), "--constraint", "latency_ms <= 0", "--json"]) == 0
    run = json.loads(capsys.readouterr().out)["problems"][0]["runs"][0]
    assert run["evaluations"] == 6 and run["infeasible"] == 6  # no design is faster than 0 ms


def test_cli_rejects_a_constraint_on_an_unknown_metric(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--problem", "digits-accel-small", "--budget", "2", "--store", str(tmp_path / "s"),
                 "--constraint", "acc >= 1"]) == 2
    err = capsys.readouterr().err
    assert "acc" in err and err.count("\n") == 1
