"""Process-pool and Ray executors, per-evaluation timeouts, evaluator faults."""

from __future__ import annotations

import os

import pytest

import codesign
from codesign.config import problem_spec
from codesign.executors import EvaluationTimeout, InlineExecutor, make_executor
from codesign.types import EvalState

PLUGIN = os.path.join(os.path.dirname(__file__), "..", "plugins", "synth_plugin.py")


def _spec(**kwargs):
    return problem_spec({"name": "synth-test", "kwargs": kwargs}, None, [PLUGIN])


def test_process_pool_matches_inline(tmp_path, synth_plugin) -> None:
    ex = make_executor(None, 2, _spec())
    assert ex.name == "process"
    try:
        par = codesign.run("synth-test", "random", budget=12, seed=4, store=str(tmp_path / "p"), batch_size=4, executor=ex)
    finally:
        ex.close()
    seq = codesign.run("synth-test", "random", budget=12, seed=4, store=str(tmp_path / "s"), batch_size=4)
    assert [r.design.key for r in par.records] == [r.design.key for r in seq.records]
    assert [r.metrics.values for r in par.records] == [r.metrics.values for r in seq.records]


def test_timeouts_become_failed_records(tmp_path, synth_plugin) -> None:
    problem = codesign.make_problem("synth-test", delay=0.5)
    res = codesign.run(problem, "random", budget=2, seed=0, store=str(tmp_path / "i"), executor=InlineExecutor(0.1))
    assert [r.state for r in res.records] == [EvalState.FAILED] * 2
    assert all("timeout" in r.error for r in res.records)
    ex = make_executor("process", 2, _spec(delay=2.0), timeout_s=0.5)
    try:
        outs = [r.outcome for r in ex.evaluate(problem, [problem.space.sample(1), problem.space.sample(2)])]
        assert all(isinstance(o, EvaluationTimeout) for o in outs)
        fast = make_executor("process", 1, _spec(), timeout_s=30)
        assert fast.evaluate(problem, [problem.space.sample(3)])[0].outcome.feasible in (True, False)
        fast.close()
    finally:
        ex.close()


def test_executor_argument_errors() -> None:
    with pytest.raises(codesign.ConfigError, match="--workers must be an integer >= 1, but got 0"):
        make_executor(None, 0)
    with pytest.raises(codesign.ConfigError, match="--executor must be one of"):
        make_executor("dask", 1)
    with pytest.raises(codesign.ConfigError, match="--eval-timeout must be"):
        make_executor("inline", 1, timeout_s=-1)


@pytest.mark.slow
def test_ray_executor_local(tmp_path, synth_plugin) -> None:
    ex = make_executor("ray", 2, _spec())
    try:
        res = codesign.run("synth-test", "random", budget=8, seed=4, store=str(tmp_path / "r"), batch_size=4, executor=ex)
    finally:
        ex.close()
    seq = codesign.run("synth-test", "random", budget=8, seed=4, store=str(tmp_path / "s"), batch_size=4)
    assert [r.metrics.values for r in res.records] == [r.metrics.values for r in seq.records]


@pytest.mark.parametrize("where", ["embedded", "postgres"])
def test_workers_writing_their_own_records_match_the_driver(tmp_path, synth_plugin, request, where) -> None:
    from codesign.results.store import Store

    store = str(tmp_path / "w") if where == "embedded" else request.getfixturevalue("postgres_url")
    ex = make_executor("process", 2, _spec())
    try:
        par = codesign.run("synth-test", "random", budget=12, seed=4, store=store, batch_size=4, executor=ex,
                           worker_writes=True, name=f"ww-{where}")
    finally:
        ex.close()
    seq = codesign.run("synth-test", "random", budget=12, seed=4, store=str(tmp_path / "s"), batch_size=4)
    stored = Store(store, create=False).open_run(f"ww-{where}").records(include_running=True)
    assert [r.design.key for r in stored] == [r.design.key for r in seq.records]
    assert [r.metrics.values for r in stored] == [r.metrics.values for r in seq.records]
    assert [r.number for r in stored] == list(range(12)) and all(r.state.value == "complete" for r in stored)


def test_json_stdout_stays_one_document_whatever_workers_print(tmp_path) -> None:
    import json
    import subprocess
    import sys

    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"plugins: [{PLUGIN}]\nproblem: {{name: synth-test, kwargs: {{noisy: true}}}}\nbudget: 6\n"
                   "batch_size: 3\nexecutor: process\nworkers: 2\n")
    exe = os.path.join(os.path.dirname(sys.executable), "codesign")
    proc = subprocess.run([exe, "run", str(cfg), "--store", str(tmp_path / "s"), "--json"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["run"] and "evaluating" in proc.stderr
