"""`codesign run --problem fmnist-accel` with every registered agent (a small probe set)."""

from __future__ import annotations

import json

import pytest

from codesign.builtins import register_builtins
from codesign.cli.main import main
from codesign.registry import REGISTRIES

pytestmark = pytest.mark.slow
pytest.importorskip("torch")
register_builtins()


@pytest.mark.parametrize("agent", sorted(REGISTRIES["agent"].names()))
def test_every_agent_runs_fmnist_accel(agent: str, tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "run.yaml"
    cfg.write_text(f"problem: {{name: fmnist-accel, kwargs: {{eval_size: 200}}}}\nagent: {agent}\nbudget: 3\nseed: 0\n")
    assert main(["run", str(cfg), "--store", str(tmp_path / "s"), "--json"]) == 0, capsys.readouterr().err
    run = json.loads(capsys.readouterr().out)["problems"][0]["runs"][0]
    assert run["evaluations"] == 3 and run["failed"] == 0
