"""Hypervolumes that compare across stores (issue 16, item 8): every run records its problem's
fixed normalization, and show / dashboard / report measure normalized hypervolume with it."""

from __future__ import annotations

import json

import pytest

import codesign
from codesign.cli.main import main
from codesign.results.summary import hv_basis, pareto_records
from codesign.types import EvalState


def _show(capsys, store: str) -> dict:
    assert main(["show", "--store", store, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_runs_hypervolume_does_not_depend_on_the_other_runs_of_its_store(tmp_path, capsys, synth_plugin) -> None:
    alone, shared = str(tmp_path / "alone"), str(tmp_path / "shared")
    codesign.run("synth-test", agent="random", budget=20, seed=0, store=alone)
    codesign.run("synth-test", agent="random", budget=20, seed=0, store=shared)
    codesign.run("synth-test", agent="tpe", budget=40, seed=5, store=shared)
    a, s = _show(capsys, alone)["problems"][0], _show(capsys, shared)["problems"][0]
    assert a["hypervolume_kind"] == s["hypervolume_kind"] == "normalized"
    hv = {r["name"]: r["hypervolume"] for r in s["runs"]}
    assert 0 < a["runs"][0]["hypervolume"] <= 1
    assert hv["synth-test/random/seed0"] == pytest.approx(a["runs"][0]["hypervolume"], rel=1e-12)
    assert a["reference_point"] == s["reference_point"]  # the nadir of the fixed box
    bounds = codesign.make_problem("synth-test").objective_bounds()["objectives"]
    assert [(o["ideal"], o["nadir"]) for o in a["normalization"]["objectives"]] == [(o["ideal"], o["nadir"]) for o in bounds]


def test_runs_without_a_normalization_get_the_raw_hypervolume_labelled(tmp_path, capsys, synth_plugin) -> None:
    store = str(tmp_path / "s")
    codesign.run("synth-test", agent="random", budget=12, seed=0, store=store, meta={"normalization": None})
    prob = _show(capsys, store)["problems"][0]
    assert prob["hypervolume_kind"] == "raw" and prob["hypervolume_basis"].startswith("raw hypervolume")
    assert prob["runs"][0]["hypervolume"] > 0
    assert main(["show", "--store", store]) == 0
    assert "raw hypervolume" in capsys.readouterr().out


def test_trace_ends_at_the_fronts_value(tmp_path, synth_plugin) -> None:
    result = codesign.run("synth-test", agent="random", budget=25, seed=2, store=str(tmp_path / "s"))
    run = codesign.open_store(str(tmp_path / "s")).open_run(result.name)
    basis = hv_basis([run.records()], run.objectives, [run.meta.get("normalization")])
    trace = basis.trace(run.records())
    assert len(trace) == 25 and trace == sorted(trace)
    assert trace[-1] == pytest.approx(basis.value(pareto_records(run.records(), run.objectives)))
    # infeasible and failed records never raise the hypervolume
    for i, rec in enumerate(run.records()[1:], start=1):
        if rec.state is not EvalState.COMPLETE:
            assert trace[i] == trace[i - 1]
