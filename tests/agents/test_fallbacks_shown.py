"""A degraded agent step is recorded in the run and printed by ``codesign show``."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "envs"))
from envs_testlib import make_tiny_problem  # noqa: E402

from codesign.runner import run  # noqa: E402


def test_show_prints_the_fallbacks_of_a_run(tmp_path, monkeypatch, capsys) -> None:
    from codesign.agents.botorch_agent import BotorchAgent
    from codesign.cli.main import main

    monkeypatch.delenv("CODESIGN_DEBUG", raising=False)

    def boom(self, *args, **kwargs):
        raise RuntimeError("not positive definite")

    monkeypatch.setattr(BotorchAgent, "_acquire", boom)
    store = str(tmp_path / "s")
    res = run(make_tiny_problem(), "botorch", budget=12, seed=0, store=store, batch_size=4,
              agent_kwargs={"n_init": 4, "acquisition": "nehvi", "fit_maxiter": 5, "n_candidates": 16, "n_local": 4,
                            "mc_samples": 8, "enumerate_limit": 0})
    assert res.agent["fallbacks"] == {"BO step failed (RuntimeError), random designs asked": 2}
    capsys.readouterr()
    assert main(["show", "--store", store]) == 0
    out = capsys.readouterr().out
    assert "agent fallback in" in out and "2 × BO step failed (RuntimeError), random designs asked" in out
