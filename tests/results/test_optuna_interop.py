"""optuna interop (issue 16, item 5): a real optuna-dashboard shows our metric names and marks
infeasible designs infeasible; `codesign optuna-dashboard` needs no journal incantation."""

from __future__ import annotations

import io
import json
import os
import pathlib
import subprocess
import sys
import time
import urllib.request

import pytest

import codesign
from codesign.cli.main import main
from codesign.results.optuna_export import sync
from codesign.results.store import Store
from codesign.types import EvalState

optuna_dashboard = pytest.importorskip("optuna_dashboard")  # the test extras install it


def _get(app, path: str) -> dict:  # type: ignore[no-untyped-def]
    """GET ``path`` from a WSGI app (optuna-dashboard's own), as JSON."""
    from wsgiref.util import setup_testing_defaults

    env: dict = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "QUERY_STRING": ""}
    setup_testing_defaults(env)
    env["wsgi.input"] = io.BytesIO(b"")
    status: list = []
    body = b"".join(app(env, lambda s, h, e=None: status.append(s)))
    assert status[0].startswith("200"), (status, body[:300])
    return json.loads(body)


def _problem():  # type: ignore[no-untyped-def]
    from codesign.evaluators.composite import Problem

    base = codesign.make_problem("synth-test")
    return Problem("synth-constrained", base.space, base.evaluators, base.objectives, ["cost <= 150"])


def _store(tmp_path, synth_plugin, budget: int = 40) -> tuple[str, list]:  # type: ignore[no-untyped-def]
    res = codesign.run(_problem(), "random", budget=budget, seed=3, store=str(tmp_path), name="demo")
    states = {r.state for r in res.records}
    assert EvalState.INFEASIBLE in states and EvalState.COMPLETE in states, "the test needs both kinds"
    return str(tmp_path), res.records


def test_optuna_dashboard_shows_metric_names_and_infeasible_trials(tmp_path, synth_plugin) -> None:
    import optuna

    location, records = _store(tmp_path, synth_plugin)
    storage = optuna.storages.InMemoryStorage()
    sync(Store(location, create=False), storage)
    app = optuna_dashboard.wsgi(storage)
    studies = _get(app, "/api/studies")["study_summaries"]
    assert [s["study_name"] for s in studies] == ["demo"]
    detail = _get(app, f"/api/studies/{studies[0]['study_id']}")
    assert detail["objective_names"] == ["quality", "cost"]
    assert detail["directions"] == ["maximize", "minimize"]
    by_number = {r.number: r for r in records}
    assert len(detail["trials"]) == len(records)
    shown = {}
    for trial in detail["trials"]:
        attrs = {a["key"]: a["value"] for a in trial["user_attrs"]}
        shown[int(attrs["codesign_number"])] = trial
    for number, rec in by_number.items():
        constraints = shown[number]["constraints"]
        if rec.state is EvalState.INFEASIBLE:  # optuna's rule: feasible iff every constraint <= 0
            assert constraints and max(constraints) > 0
        else:
            assert all(c <= 0 for c in constraints)
    # optuna itself keeps infeasible designs off the front
    study = optuna.load_study(study_name="demo", storage=storage)
    infeasible = {r.design.key for r in records if r.state is EvalState.INFEASIBLE}
    assert study.best_trials and not [t for t in study.best_trials if t.user_attrs["codesign"]["design_key"] in infeasible]


def test_export_to_an_optuna_journal(tmp_path, synth_plugin, capsys) -> None:
    import optuna
    from optuna.storages.journal import JournalFileBackend

    location, records = _store(tmp_path / "s", synth_plugin)
    out = tmp_path / "demo.journal"
    assert main(["export", "--store", location, "--format", "optuna", "-o", str(out)]) == 0
    assert "optuna-dashboard" in capsys.readouterr().err
    assert main(["export", "--store", location, "--format", "optuna", "-o", str(out)]) == 0  # replaced, not appended
    study = optuna.load_study(study_name="demo", storage=optuna.storages.JournalStorage(JournalFileBackend(str(out))))
    assert len(study.trials) == len(records) and study.metric_names == ["quality", "cost"]
    assert not list(tmp_path.glob(".*.tmp"))


def test_codesign_optuna_dashboard_serves_a_store(tmp_path, synth_plugin) -> None:
    location, _ = _store(tmp_path / "s", synth_plugin)
    exe = os.path.join(os.path.dirname(sys.executable), "codesign")
    env = dict(os.environ, PYTHONPATH=str(pathlib.Path(__file__).resolve().parents[2]))
    proc = subprocess.Popen([exe, "optuna-dashboard", "--store", location, "--port", "0", "--refresh", "0.5"],
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stderr.readline()
        assert "optuna-dashboard on http://" in line, line
        url = line.split()[2].rstrip("/")
        studies = json.loads(urllib.request.urlopen(url + "/api/studies", timeout=30).read())["study_summaries"]
        assert [s["study_name"] for s in studies] == ["demo"]
        codesign.run(_problem(), "random", budget=45, seed=3, store=location, name="demo")  # 5 more, live
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            detail = json.loads(urllib.request.urlopen(f"{url}/api/studies/{studies[0]['study_id']}", timeout=30).read())
            if len(detail["trials"]) == 45:
                break
            time.sleep(0.5)
        assert len(detail["trials"]) == 45, "the live view missed new records"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
