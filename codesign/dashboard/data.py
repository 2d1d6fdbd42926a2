"""The dashboard's data layer: a store turned into plain tables (no Dash, no plotly).

Everything here is a pure function of a :class:`Snapshot` (the records of a store at one
moment), so the web app, the static report and the tests share it. :class:`StoreReader` takes
snapshots cheaply: it re-reads the store only when its signature changed (see
:meth:`codesign.results.store.Store.signature`). It opens the store read-only.

A record is addressed by its ``uid``, ``"<run name>#<trial number>"``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from codesign.results.export import flat_row
from codesign.results.pareto import non_dominated_mask
from codesign.results.store import Store
from codesign.results.summary import HVBasis, hv_basis, run_summary
from codesign.types import EvalRecord, EvalState, Objective

#: Categorical colourings offered besides numeric metrics.
CATEGORICAL_COLOURS = ("agent", "run", "pe_type")


@dataclass
class RunData:
    """One run of a store with its records."""

    name: str
    problem: str
    agent: str
    seed: int | None
    budget: int | None
    records: list[EvalRecord]
    subsystems: dict[str, str] = field(default_factory=dict)


@dataclass
class ProblemData:
    """The runs of one problem (they share objectives and a hypervolume reference point)."""

    name: str
    objectives: list[Objective]
    runs: list[RunData]
    basis: HVBasis

    @property
    def ref(self) -> list[float] | None:
        """The hypervolume reference point in objective units (the nadir when normalized)."""
        return self.basis.reference_point

    def items(self) -> Iterator[tuple[RunData, EvalRecord]]:
        for run in self.runs:
            for rec in run.records:
                yield run, rec

    def metric_names(self) -> list[str]:
        """Objectives first, then every other metric any record carries."""
        names = [o.name for o in self.objectives]
        for _, rec in self.items():
            names.extend(k for k in rec.metrics.values if k not in names)
        return names


@dataclass
class Snapshot:
    """The store at one moment, grouped by problem."""

    location: str
    problems: list[ProblemData]
    loaded_at: float

    def problem(self, name: str | None) -> ProblemData | None:
        for p in self.problems:
            if p.name == name:
                return p
        return self.problems[0] if self.problems else None

    @property
    def n_records(self) -> int:
        return sum(len(r.records) for p in self.problems for r in p.runs)


def uid(run: str, number: int | None) -> str:
    return f"{run}#{number}"


def load_snapshot(store: Store) -> Snapshot:
    """Read every run of ``store`` (read-only) into a :class:`Snapshot`."""
    by_problem: dict[str, list[tuple[Any, RunData]]] = {}
    norms: dict[str, list[Any]] = {}
    for run in store.runs():
        meta = run.meta
        space = meta.get("space") or {}
        subsystems = {p["name"]: p.get("subsystem", "") for p in space.get("params", []) if "name" in p}
        data = RunData(run.name, str(meta.get("problem", "?")), str(meta.get("agent", "")), meta.get("seed"),
                       meta.get("budget"), run.records(), subsystems)
        by_problem.setdefault(data.problem, []).append((run, data))
        norms.setdefault(data.problem, []).append(meta.get("normalization"))
    problems = []
    for name, pairs in by_problem.items():
        objectives = pairs[0][0].objectives
        runs = [d for _, d in pairs]
        basis = hv_basis([r.records for r in runs], objectives, norms[name])
        problems.append(ProblemData(name, objectives, runs, basis))
    return Snapshot(store.location, problems, time.time())


class StoreReader:
    """Cached, thread-safe, read-only snapshots of a store.

    Args:
        location: store directory or database URL (must exist: raises ``StoreError``).
        ttl_s: for database URLs, how long a snapshot is reused.
    """

    def __init__(self, location: str, ttl_s: float = 2.0) -> None:
        self.store = Store(location, create=False)
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._signature: Any = None

    def signature(self) -> Any:
        """What changes when the store changes (the store's own signature: file sizes and times of
        the embedded store, a count and last-write time on a server), or a time bucket."""
        sig = self.store.signature()
        return int(time.time() / self.ttl_s) if sig is None else sig

    def snapshot(self) -> Snapshot:
        with self._lock:
            sig = self.signature()
            if self._snapshot is None or sig != self._signature:
                self._snapshot = load_snapshot(self.store)
                self._signature = sig
            return self._snapshot


# ---------------------------------------------------------------------------------------- runs


def runs_table(snapshot: Snapshot) -> list[dict[str, Any]]:
    """One row per run: problem, agent, seed, counts, Pareto size and hypervolume."""
    rows = []
    for prob in snapshot.problems:
        for run in prob.runs:
            s = run_summary(run.records, prob.objectives, None, prob.basis)
            rows.append({
                "run": run.name, "problem": prob.name, "agent": run.agent, "seed": run.seed,
                "evaluations": s["evaluations"], "budget": run.budget, "complete": s["complete"],
                "infeasible": s["infeasible"], "failed": s["failed"], "pareto": s["pareto_size"],
                "hypervolume": None if s["hypervolume"] is None else float(f"{s['hypervolume']:.4g}"),
            })
    return rows


# -------------------------------------------------------------------------------------- pareto


def points(problem: ProblemData, axes: Sequence[str], front_over: str = "shown") -> list[dict[str, Any]]:
    """Plottable records (complete and infeasible) with their values on ``axes``.

    Args:
        problem: the problem's runs.
        axes: 2 or 3 metric names (objectives or other metrics).
        front_over: ``"shown"`` marks the front over the plotted objectives, ``"all"`` over
            every objective of the problem.

    Returns:
        One dict per record: ``uid, run, agent, seed, number, state, pe_type, values`` (all
        metrics), ``xyz`` (values on ``axes``), ``front`` (non-dominated among feasible).
    """
    out = []
    for run, rec in problem.items():
        if rec.state not in (EvalState.COMPLETE, EvalState.INFEASIBLE):
            continue
        vals = rec.metrics.values
        if not all(a in vals and np.isfinite(vals[a]) for a in axes):
            continue
        out.append({
            "uid": uid(run.name, rec.number), "run": run.name, "agent": rec.agent or run.agent,
            "seed": rec.seed, "number": rec.number, "state": rec.state.value,
            "pe_type": str(rec.design.get("pe_type", "")), "design": rec.design.to_dict(),
            "values": dict(vals), "xyz": [float(vals[a]) for a in axes], "front": False,
        })
    directions = {o.name: o.direction.value for o in problem.objectives}
    names = list(axes) if front_over == "shown" else [o.name for o in problem.objectives]
    feas = [p for p in out if p["state"] == EvalState.COMPLETE.value and all(n in p["values"] for n in names)]
    if feas and names:
        mat = np.array([[p["values"][n] for n in names] for p in feas], dtype=float)
        mask = non_dominated_mask(mat, [directions.get(n, "min") for n in names])
        for p, m in zip(feas, mask):
            p["front"] = bool(m)
    return out


def visible_points(pts: Sequence[dict[str, Any]], dominated: bool = True, infeasible: bool = True) -> list[dict[str, Any]]:
    """The points to draw: front points always, dominated / infeasible ones if asked."""
    keep = []
    for p in pts:
        if p["state"] == EvalState.INFEASIBLE.value:
            if infeasible:
                keep.append(p)
        elif p["front"] or dominated:
            keep.append(p)
    return keep


def colour_value(point: dict[str, Any], colour_by: str) -> Any:
    """The value a point is coloured by: a category (agent, run, PE type, a parameter) or a metric."""
    if colour_by in ("agent", "run"):
        return point[colour_by]
    if colour_by in point["values"]:
        return point["values"][colour_by]
    return point["design"].get(colour_by, "")


# -------------------------------------------------------------------------------- hypervolume


def hv_curves(problem: ProblemData) -> dict[str, dict[str, Any]]:
    """Hypervolume vs. evaluations per agent, seeds aggregated.

    Returns:
        ``{agent: {"evaluations": [1..n], "median": [...], "low": [...], "high": [...],
        "runs": k}}``; low/high are the min/max over the agent's runs at each evaluation count
        (a run shorter than ``n`` holds its last value). Empty if there is no reference point.
    """
    if problem.basis.kind is None or not problem.objectives:
        return {}
    traces: dict[str, list[list[float]]] = {}
    for run in problem.runs:
        if run.records:
            traces.setdefault(run.agent, []).append(problem.basis.trace(run.records))
    out = {}
    for agent, ts in traces.items():
        n = max(len(t) for t in ts)
        mat = np.array([t + [t[-1]] * (n - len(t)) for t in ts], dtype=float)
        out[agent] = {
            "evaluations": list(range(1, n + 1)), "median": np.median(mat, axis=0).tolist(),
            "low": mat.min(axis=0).tolist(), "high": mat.max(axis=0).tolist(), "runs": len(ts),
        }
    return out


# ------------------------------------------------------------------------------------- trials


def trial_rows(problem: ProblemData) -> list[dict[str, Any]]:
    """Every evaluation of a problem as a flat row (as ``codesign export``), plus its ``uid``."""
    rows = []
    for run, rec in problem.items():
        row = {"uid": uid(run.name, rec.number)}
        row.update(flat_row(run.name, rec))
        for k, v in row.items():
            if isinstance(v, float):
                row[k] = float(f"{v:.6g}")
        rows.append(row)
    return rows


def find(snapshot: Snapshot, key: str | None) -> tuple[ProblemData, RunData, EvalRecord] | None:
    """The problem, run and record of a ``uid`` (None if absent)."""
    if not key or "#" not in key:
        return None
    name, _, number = key.rpartition("#")
    for prob in snapshot.problems:
        for run in prob.runs:
            if run.name == name:
                for rec in run.records:
                    if str(rec.number) == number:
                        return prob, run, rec
    return None
