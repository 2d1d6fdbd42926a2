"""Run summaries: Pareto fronts and hypervolume of the records in a store.

Hypervolume needs a reference point. Where an objective has ``ref`` (e.g. accuracy 0), it is
used; otherwise the reference is the worst feasible value seen across *all runs of the same
problem in the store*, plus 10% of the range, so runs of one problem are comparable within
one store. The reference point is printed with every hypervolume.

Fidelity (DESIGN.md): a record whose metrics carry ``fidelity < 1`` (an accuracy screened on a
reduced evaluation set, :mod:`codesign.problems.fidelity`) never enters a front, a reference
point or a hypervolume; :func:`full_fidelity` keeps the others. Records without a ``fidelity``
value are full fidelity.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from codesign.results.pareto import hypervolume, hypervolume_trace, non_dominated_mask, reference_point
from codesign.types import EvalRecord, EvalState, Objective


def objective_matrix(records: Sequence[EvalRecord], objectives: Sequence[Objective]) -> np.ndarray:
    return np.array([[float(r.metrics.values[o.name]) for o in objectives] for r in records], dtype=float).reshape(
        len(records), len(objectives)
    )


def feasible(records: Sequence[EvalRecord]) -> list[EvalRecord]:
    return [r for r in records if r.state is EvalState.COMPLETE]


def is_full_fidelity(record: EvalRecord) -> bool:
    """Whether the record's metrics were measured at full fidelity (``fidelity`` absent or 1)."""
    return float(record.metrics.values.get("fidelity", 1.0)) >= 1.0


def full_fidelity(records: Sequence[EvalRecord]) -> list[EvalRecord]:
    """Feasible records measured at full fidelity: what fronts and hypervolumes are made of."""
    return [r for r in feasible(records) if is_full_fidelity(r)]


def pareto_records(records: Sequence[EvalRecord], objectives: Sequence[Objective]) -> list[EvalRecord]:
    """Feasible, full-fidelity, non-dominated records; one per design (duplicates dropped)."""
    uniq: dict[str, EvalRecord] = {}
    for r in full_fidelity(records):
        uniq.setdefault(r.design.key, r)
    recs = list(uniq.values())
    if not recs:
        return []
    mask = non_dominated_mask(objective_matrix(recs, objectives), [o.direction.value for o in objectives])
    return [r for r, m in zip(recs, mask) if m]


def shared_reference(record_sets: Sequence[Sequence[EvalRecord]], objectives: Sequence[Objective]) -> list[float] | None:
    pts = [objective_matrix(full_fidelity(rs), objectives) for rs in record_sets]
    pts = [p for p in pts if p.size]
    if not pts:
        return None
    allpts = np.vstack(pts)
    return reference_point(allpts, [o.direction.value for o in objectives], fixed=[o.ref for o in objectives])


def run_summary(records: Sequence[EvalRecord], objectives: Sequence[Objective], ref: Sequence[float] | None) -> dict[str, Any]:
    states = {s.value: 0 for s in (EvalState.COMPLETE, EvalState.INFEASIBLE, EvalState.FAILED)}
    orphaned = sum(1 for r in records if r.orphaned)
    records = [r for r in records if not r.orphaned]  # in flight when a process stopped: redone, not failures
    for r in records:
        states[r.state.value] = states.get(r.state.value, 0) + 1
    front = pareto_records(records, objectives)
    dirs = [o.direction.value for o in objectives]
    hv = None
    if ref is not None and front:
        hv = hypervolume(objective_matrix(front, objectives), dirs, ref)
    return {
        "evaluations": len(records),
        "complete": states["complete"],
        "infeasible": states["infeasible"],
        "failed": states["failed"],
        "orphaned": orphaned,
        "cached": sum(1 for r in records if r.cached),
        "screened": sum(1 for r in feasible(records) if not is_full_fidelity(r)),
        "eval_seconds_total": float(sum(r.eval_seconds for r in records)),
        "pareto_size": len(front),
        "hypervolume": hv,
        "reference_point": list(ref) if ref is not None else None,
    }


def hv_trace(records: Sequence[EvalRecord], objectives: Sequence[Objective], ref: Sequence[float]) -> list[float]:
    ok = [r.state is EvalState.COMPLETE and is_full_fidelity(r) for r in records]
    pts = np.array([[float(r.metrics.values.get(o.name, np.nan)) for o in objectives] for r in records]).reshape(
        len(records), len(objectives)
    )
    pts = np.where(np.isfinite(pts), pts, 0.0)
    return hypervolume_trace(pts, [o.direction.value for o in objectives], ref, np.array(ok)).tolist()
