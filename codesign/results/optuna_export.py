"""optuna interop: a store's runs written as optuna studies, in any optuna storage.

Each run becomes a study of the same name with the problem's objective directions and
``study.set_metric_names`` (optuna-dashboard then shows "latency_ms", not "Objective 0").
Each finished record becomes a trial: params in optuna form, the objective values, state
COMPLETE (complete and infeasible records) or FAIL (failed and orphaned records), the full
record as user attribute ``codesign``, and constraints in optuna's own format (system
attribute ``constraints``: one value per constraint, > 0 violated), so optuna (``best_trials``)
and optuna-dashboard treat infeasible designs as infeasible. The constraint names are the
study's user attribute ``codesign_constraints`` (a violation without an amount exports as 1).

:func:`sync` is incremental (records already exported are skipped), so ``codesign
optuna-dashboard`` can keep a live view of a store that is still being written.
"""

from __future__ import annotations

import json
from typing import Any

from codesign.results.store import Run, Store
from codesign.types import EvalRecord, EvalState


def _optuna() -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def _study(storage: Any, run: Run) -> Any:
    optuna = _optuna()
    directions = ["minimize" if o.direction.value == "min" else "maximize" for o in run.objectives]
    study = optuna.create_study(study_name=run.name, storage=storage, directions=directions or None,
                                load_if_exists=True)
    if "codesign_run" not in study.user_attrs:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.set_metric_names([o.name for o in run.objectives])
        study.set_user_attr("codesign_run", json.loads(json.dumps(run.meta, default=str)))
        study.set_user_attr("codesign_constraints", [])
    return study


def _trial(run: Run, rec: EvalRecord, names: list[str], dists: dict[str, Any]) -> Any:
    optuna = _optuna()
    from codesign.spaces.convert.optuna_dists import optuna_encode

    try:
        params = optuna_encode(run.space, rec.design)
        distributions = {k: dists[k] for k in params}
    except Exception:  # noqa: BLE001 - a design outside the space: exported without params
        params, distributions = {}, {}
    ok = rec.state in (EvalState.COMPLETE, EvalState.INFEASIBLE) and not rec.orphaned
    values = rec.metrics.objective_values(run.objectives) if ok else None
    system = {}
    if names:
        viol = rec.metrics.violations
        system["constraints"] = [(float(viol[n]) if float(viol[n]) > 0 else 1.0) if n in viol else 0.0 for n in names]
    return optuna.trial.create_trial(
        state=optuna.trial.TrialState.COMPLETE if ok else optuna.trial.TrialState.FAIL, values=values,
        params=params, distributions=distributions, system_attrs=system,
        user_attrs={"codesign": rec.to_dict(), "codesign_number": rec.number},
    )


def sync(store: Store, storage: Any, runs: list[str] | None = None) -> int:
    """Write the finished records of ``store`` (of ``runs``) not yet in ``storage``; returns how many."""
    from codesign.spaces.convert.optuna_dists import to_optuna

    added = 0
    for run in store.runs():
        if runs and run.name not in runs:
            continue
        study = _study(storage, run)
        have = {t.user_attrs.get("codesign_number") for t in study.get_trials(deepcopy=False)}
        new = [r for r in run.records() if r.number not in have]
        if not new:
            continue
        names = list(study.user_attrs.get("codesign_constraints", []))
        for rec in new:
            names.extend(sorted(k for k in rec.metrics.violations if k not in names))
        study.set_user_attr("codesign_constraints", names)
        dists = to_optuna(run.space) if run.space is not None else {}
        study.add_trials([_trial(run, r, names, dists) for r in new])
        added += len(new)
    return added


def to_journal(store: Store, path: str, runs: list[str] | None = None) -> int:
    """Export ``store`` as an optuna journal file at ``path`` (appends to an existing one)."""
    optuna = _optuna()
    from optuna.storages.journal import JournalFileBackend

    return sync(store, optuna.storages.JournalStorage(JournalFileBackend(path)), runs)
