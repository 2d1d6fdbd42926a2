"""Run summaries: Pareto fronts and hypervolume of the records in a store.

Hypervolume is **normalized** where the runs recorded their problem's fixed normalization
(``normalization`` in the run metadata, :func:`codesign.runner.problem_normalization`): each
objective mapped onto [0, 1] by per-problem bounds that do not depend on any store's records,
reference point at the nadir, so the value lies in [0, 1] and compares across runs, stores and
machines (:func:`codesign.results.pareto.normalized_hypervolume`). Runs without one (written
before it was recorded, or by problems whose bounds cannot be derived) get the **raw**
hypervolume: where an objective has ``ref`` (e.g. accuracy 0), it is used; otherwise the
reference is the worst feasible value seen across *all runs of the same problem in the store*,
plus 10% of the range, so runs of one problem are comparable within one store only.
:class:`HVBasis` says which one a figure is, with its reference point.

Fidelity (DESIGN.md): a record whose metrics carry ``fidelity < 1`` (an accuracy screened on a
reduced evaluation set, :mod:`codesign.problems.fidelity`) never enters a front, a reference
point or a hypervolume; :func:`full_fidelity` keeps the others. Records without a ``fidelity``
value are full fidelity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from codesign.results.pareto import (
    Normalization,
    hypervolume,
    hypervolume_trace,
    non_dominated_mask,
    normalized_hypervolume,
    normalized_hypervolume_trace,
    reference_point,
)
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


def failure_reasons(records: Sequence[EvalRecord]) -> list[tuple[str, int]]:
    """``(reason, count)`` of the failed records, most common first (ties by first seen)."""
    from collections import Counter

    counts = Counter(r.error or "unknown error" for r in records if r.state is EvalState.FAILED)
    return counts.most_common()


def run_summary(records: Sequence[EvalRecord], objectives: Sequence[Objective], ref: Sequence[float] | None,
                basis: HVBasis | None = None) -> dict[str, Any]:
    """Counts, front size and hypervolume of a run's records (on ``basis`` when given, else raw
    with the reference point ``ref``)."""
    states = {s.value: 0 for s in (EvalState.COMPLETE, EvalState.INFEASIBLE, EvalState.FAILED)}
    orphaned = sum(1 for r in records if r.orphaned)
    records = [r for r in records if not r.orphaned]  # in flight when a process stopped: redone, not failures
    for r in records:
        states[r.state.value] = states.get(r.state.value, 0) + 1
    front = pareto_records(records, objectives)
    if basis is None:
        basis = HVBasis(tuple(objectives), None, tuple(ref) if ref is not None else None)
    hv = basis.value(front) if front else None
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
        "hypervolume_kind": basis.kind,
        "reference_point": basis.reference_point,
        "failure_reasons": [{"reason": reason, "count": n} for reason, n in failure_reasons(records)],
    }


def hv_trace(records: Sequence[EvalRecord], objectives: Sequence[Objective], ref: Sequence[float]) -> list[float]:
    ok = [r.state is EvalState.COMPLETE and is_full_fidelity(r) for r in records]
    pts = np.array([[float(r.metrics.values.get(o.name, np.nan)) for o in objectives] for r in records]).reshape(
        len(records), len(objectives)
    )
    pts = np.where(np.isfinite(pts), pts, 0.0)
    return hypervolume_trace(pts, [o.direction.value for o in objectives], ref, np.array(ok)).tolist()


@dataclass(frozen=True)
class HVBasis:
    """How the hypervolumes of one problem's runs are measured: ``normalized`` (a fixed
    :class:`Normalization`; values in [0, 1]) or ``raw`` (objective units, reference point
    ``ref``), or ``None`` when there is nothing to measure."""

    objectives: tuple[Objective, ...]
    normalization: Normalization | None
    ref: tuple[float, ...] | None

    @property
    def kind(self) -> str | None:
        if self.normalization is not None:
            return "normalized"
        return "raw" if self.ref is not None else None

    @property
    def reference_point(self) -> list[float] | None:
        """In objective units: the nadir when normalized, else the raw reference point."""
        if self.normalization is not None:
            return list(self.normalization.nadir)
        return list(self.ref) if self.ref is not None else None

    def value(self, front: Sequence[EvalRecord]) -> float | None:
        """Hypervolume of ``front`` (feasible records) on this basis."""
        if self.kind is None:
            return None
        pts = objective_matrix(front, self.objectives)
        if self.normalization is not None:
            return normalized_hypervolume(pts, self.normalization)
        return hypervolume(pts, [o.direction.value for o in self.objectives], self.ref)

    def trace(self, records: Sequence[EvalRecord]) -> list[float]:
        """Hypervolume after each record (infeasible, failed and reduced-fidelity records never count)."""
        if self.kind is None or not records:
            return []
        ok = np.array([r.state is EvalState.COMPLETE and is_full_fidelity(r) for r in records])
        pts = np.array([[float(r.metrics.values.get(o.name, np.nan)) for o in self.objectives] for r in records])
        pts = np.where(np.isfinite(pts), pts, 0.0).reshape(len(records), len(self.objectives))
        if self.normalization is not None:
            return normalized_hypervolume_trace(pts, self.normalization, ok).tolist()
        return hypervolume_trace(pts, [o.direction.value for o in self.objectives], self.ref, ok).tolist()

    def describe(self) -> str:
        """One line: what the hypervolume is and its reference point."""
        names = [o.name for o in self.objectives]
        if self.normalization is not None:
            n = self.normalization
            box = ", ".join(f"{name} {lo:.4g}..{hi:.4g}{' (log)' if lg else ''}"
                            for name, lo, hi, lg in zip(names, n.ideal, n.nadir, n.log))
            return f"normalized hypervolume in [0, 1] (fixed per-problem box, ideal..nadir: {box})"
        if self.ref is not None:
            refs = ", ".join(f"{name}={v:.4g}" for name, v in zip(names, self.ref))
            return f"raw hypervolume (objective units; reference point from this store's records: {refs})"
        return "no hypervolume (no feasible evaluation)"


def hv_basis(record_sets: Sequence[Sequence[EvalRecord]], objectives: Sequence[Objective],
             normalizations: Sequence[Mapping[str, Any] | None]) -> HVBasis:
    """The basis of one problem's runs: normalized when every run recorded the same
    normalization for these objectives, else raw with the store-shared reference point."""
    objectives = tuple(objectives)
    norms = list(normalizations)
    if norms and all(n is not None and n.get("objectives") == norms[0].get("objectives") for n in norms):
        norm = Normalization.from_dict(norms[0])  # type: ignore[arg-type]
        if list(norm.names) == [o.name for o in objectives]:
            return HVBasis(objectives, norm, None)
    ref = shared_reference(record_sets, objectives)
    return HVBasis(objectives, None, tuple(ref) if ref is not None else None)
