"""Evaluators cannot end the driver (issue 14, items 3 and 11): SystemExit, segfaults, stuck
evaluations; only the offending design fails, the good ones beside it are evaluated."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

import codesign
from codesign.config import problem_spec
from codesign.executors import make_executor
from codesign.results.store import Store
from codesign.types import EvalState

PLUGIN = str(pathlib.Path(__file__).parent.parent / "plugins" / "synth_plugin.py")


def _spec(**kwargs):  # type: ignore[no-untyped-def]
    return problem_spec({"name": "synth-test", "kwargs": kwargs}, None, [PLUGIN])


def _check(records, bad: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    good = codesign.make_problem("synth-test")
    assert any(r.design["pe_type"] == bad for r in records), "the test needs an offending design"
    for r in records:
        if r.design["pe_type"] == bad:
            assert r.state is EvalState.FAILED and reason in r.error, r.error
        else:  # the designs beside it: evaluated, with the right metrics
            assert r.state is not EvalState.FAILED, r.error
            assert r.metrics.values == good.evaluate(r.design).values


@pytest.mark.parametrize("executor", ["inline", "process"])
def test_an_evaluator_calling_sys_exit_is_a_failed_record(tmp_path, synth_plugin, executor) -> None:
    problem = codesign.make_problem("synth-test", exit_on="lut")
    ex = make_executor(executor, 2 if executor == "process" else 1, _spec(exit_on="lut"))
    try:
        res = codesign.run(problem, "random", budget=16, seed=1, store=str(tmp_path), batch_size=4, executor=ex)
    finally:
        ex.close()
    assert len(res.records) == 16
    _check(res.records, "lut", "SystemExit")


@pytest.mark.parametrize("executor", ["process", pytest.param("ray", marks=pytest.mark.slow)])
def test_a_segfaulting_design_fails_alone_in_the_pool(tmp_path, synth_plugin, executor) -> None:
    ex = make_executor(executor, 2, _spec(crash_on="lut"))
    problem = codesign.make_problem("synth-test", crash_on="lut")
    try:
        res = codesign.run(problem, "random", budget=16, seed=1, store=str(tmp_path), batch_size=4, executor=ex)
    finally:
        ex.close()
    _check(res.records, "lut", "killed its worker process 2 times (last: signal SIGSEGV)" if executor == "process"
           else "killed its Ray worker 2 times")


def test_a_stuck_design_times_out_alone_and_a_queued_one_does_not(synth_plugin) -> None:
    problem = codesign.make_problem("synth-test")
    designs = [d for d in (problem.space.sample(s) for s in range(40)) if d["pe_type"] == "lut"][:1]
    designs += [d for d in (problem.space.sample(s) for s in range(40)) if d["pe_type"] != "lut"][:2]
    ex = make_executor("process", 1, _spec(slow_on="lut", delay=0.2), timeout_s=1.5)
    try:
        out = ex.evaluate(problem, designs)
    finally:
        ex.close()
    assert "timeout" in str(out[0].outcome)
    assert all(r.outcome.__class__.__name__ == "Metrics" for r in out[1:]), [str(r.outcome) for r in out[1:]]


@pytest.mark.slow
def test_a_design_that_crashes_the_driver_inline_is_failed_on_resume(tmp_path) -> None:
    """Inline, a segfault ends the process; the resumed run evaluates the suspect in a child
    process, sees it crash there, fails it, and finishes (it never loops)."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"plugins: [{PLUGIN}]\nproblem: {{name: synth-test, kwargs: {{crash_on: lut}}}}\n"
                   "agent: random\nbudget: 12\nseed: 1\n")
    exe = os.path.join(os.path.dirname(sys.executable), "codesign")
    cmd = [exe, "run", str(cfg), "--store", str(tmp_path / "s"), "--quiet"]
    first = subprocess.run(cmd, capture_output=True, text=True)
    assert first.returncode in (-11, 139), first.stderr
    second = subprocess.run(cmd, capture_output=True, text=True)
    assert second.returncode in (-11, 139, 0), second.stderr
    if second.returncode:  # a second lut design crashed the driver: each resume isolates the last one
        for _ in range(12):
            second = subprocess.run(cmd, capture_output=True, text=True)
            if second.returncode == 0:
                break
    assert second.returncode == 0, second.stderr
    store = Store(str(tmp_path / "s"), create=False)
    records = store.open_run(store.run_names()[0]).records()
    live = [r for r in records if not r.orphaned]
    assert len(live) == 12
    _check(live, "lut", "killed its worker process 2 times")
