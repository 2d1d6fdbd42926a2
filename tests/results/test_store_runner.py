"""The runner records every evaluation exactly once in the store; runs resume."""

from __future__ import annotations

import pytest

import codesign
from codesign.errors import StoreError
from codesign.results.store import Store
from codesign.types import EvalState


def test_every_evaluation_recorded_once(tmp_path, synth_plugin) -> None:
    res = codesign.run("synth-test", "tpe", budget=25, seed=1, store=str(tmp_path), batch_size=4)
    recs = Store(str(tmp_path), create=False).open_run(res.name).records()
    assert [r.number for r in recs] == list(range(25))
    assert all(r.agent == "tpe" and r.seed == 1 for r in recs)
    assert len(res.records) == 25 and res.resumed == 0
    assert {r.state for r in recs} <= {EvalState.COMPLETE, EvalState.INFEASIBLE}


def test_resume_continues_without_duplicates(tmp_path, synth_plugin) -> None:
    first = codesign.run("synth-test", "random", budget=10, seed=0, store=str(tmp_path))
    second = codesign.run("synth-test", "random", budget=18, seed=0, store=str(tmp_path))
    assert second.resumed == 10 and len(second.records) == 18
    fresh = codesign.run("synth-test", "random", budget=18, seed=0, store=str(tmp_path / "fresh"))
    # the resumed random sequence equals an uninterrupted one
    assert [r.design.key for r in second.records] == [r.design.key for r in fresh.records]
    assert [r.number for r in second.records] == list(range(18))
    assert first.name == second.name


def test_resume_refuses_a_different_problem(tmp_path, synth_plugin) -> None:
    codesign.run("synth-test", "random", budget=3, seed=0, store=str(tmp_path), name="r")
    other = codesign.make_problem("synth-test").with_space(codesign.make_space("synth-space"))
    with pytest.raises(StoreError, match="exists with a different"):
        codesign.run(other, "random", budget=3, seed=0, store=str(tmp_path), name="r")


def test_failures_become_records_and_search_goes_on(tmp_path, synth_plugin) -> None:
    problem = codesign.make_problem("synth-test", fail_on="lut", nan_on="bit_serial")
    res = codesign.run(problem, "random", budget=30, seed=2, store=str(tmp_path))
    failed = [r for r in res.records if r.state is EvalState.FAILED]
    assert failed and len(res.records) == 30
    for r in failed:
        assert r.design["pe_type"] in ("lut", "bit_serial")
        assert "simulated failure" in r.error or "finite" in r.error
    ok = [r for r in res.records if r.state is not EvalState.FAILED]
    assert all(r.design["pe_type"] == "bit_parallel" for r in ok)


def test_store_exports_to_an_optuna_storage(tmp_path, synth_plugin) -> None:
    import optuna

    from codesign.results.optuna_export import sync

    res = codesign.run("synth-test", "nsga2", budget=12, seed=0, store=str(tmp_path))
    storage = optuna.storages.InMemoryStorage()
    assert sync(Store(str(tmp_path), create=False), storage) == 12
    study = optuna.load_study(study_name=res.name, storage=storage)
    assert len(study.trials) == 12
    assert [d.name for d in study.directions] == ["MAXIMIZE", "MINIMIZE"]
    assert study.metric_names == ["quality", "cost"]
    assert study.best_trials  # optuna computes a front from our records
    t = study.trials[0]
    assert set(t.params) == set(res.problem.space.names)
    assert t.user_attrs["codesign"]["design_key"] == res.records[0].design.key
    assert sync(Store(str(tmp_path), create=False), storage) == 0  # incremental: nothing twice


def test_duplicate_designs_are_served_from_cache(tmp_path, synth_plugin) -> None:
    problem = codesign.make_problem("synth-test").with_space(codesign.make_space("synth-space"))
    res = codesign.run(problem, "tpe", budget=60, seed=0, store=str(tmp_path))
    keys = [r.design.key for r in res.records]
    cached = [r for r in res.records if r.cached]
    assert len(cached) == len(keys) - len(set(keys))


def test_bad_store_locations(tmp_path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(StoreError, match="must be a directory"):
        Store(str(f))
    with pytest.raises(StoreError, match="no codesign store"):
        Store(str(tmp_path / "missing"), create=False)
