"""Exact solution of an :class:`~codesign.allocation.problem.AllocationProblem`, and Pareto sweeps.

The multiple-choice knapsack MILP (REFERENCES.md §5), solved by scipy's ``milp`` (HiGHS) with a
zero relative MIP gap, so the answer is optimal, not just good::

    min  Σ_gj obj_gj · x_gj
    s.t. Σ_j x_gj = 1                      for every group g
         Σ_gj c^k_gj · x_gj ≤ B_k           for every budget k
         lo_r ≤ Σ_gj a^r_gj · x_gj ≤ hi_r   for every side constraint r
         x_gj ∈ {0, 1}

Rows are scaled to a unit largest coefficient before the call; totals are then recomputed from
the chosen options in the original units. An infeasible problem raises
:class:`InfeasibleAllocation` naming, per violated budget, the smallest value any allocation that
meets every other constraint reaches (one extra MILP per budget).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from codesign.allocation.problem import BUILTIN_TABLES, AllocationProblem, Budget
from codesign.errors import ConfigError

__all__ = ["Allocation", "InfeasibleAllocation", "pareto", "score", "solve"]

_REL_TOL = 1e-9
_STEP = 1e-5  # ε of the exact Pareto sweep, relative to the table's range


class InfeasibleAllocation(ConfigError):
    """No allocation meets the budgets and side constraints; ``smallest`` maps each budget that
    cannot be met to the smallest value reachable under the other constraints."""

    def __init__(self, message: str, smallest: Mapping[str, float] | None = None) -> None:
        super().__init__(message)
        self.smallest = dict(smallest or {})


@dataclass
class Allocation:
    """The chosen option of every group, with totals of every table.

    Attributes:
        choice: group name -> option name.
        totals: table name -> Σ over the chosen options.
        objective: value of the objective (weighted table totals).
        budgets: table -> the absolute budget that applied.
        seconds: wall time of the HiGHS solve (build time excluded), and ``build_seconds``.
    """

    choice: dict[str, str]
    totals: dict[str, float]
    objective: float
    budgets: dict[str, float]
    seconds: float
    build_seconds: float
    problem: AllocationProblem = field(repr=False)

    @property
    def loss(self) -> float | None:
        return self.totals.get("loss")

    def options(self) -> dict[str, Any]:
        """group name -> chosen :class:`~codesign.allocation.options.Option`."""
        return {g.name: next(o for o in g.options if o.name == self.choice[g.name]) for g in self.problem.groups}

    def per_layer(self) -> dict[str, str]:
        """layer (member) name -> chosen option name."""
        return {m: self.choice[g.name] for g in self.problem.groups for m in g.members}

    def design(self, keys: str = "group", space: Any = None) -> dict[str, int]:
        """``w_bits.<key>`` / ``a_bits.<key>`` values (``keys``: ``group`` names or ``layer`` names),
        the form :func:`codesign.spaces.builders.layer_bits` reads. An operand an option leaves
        unquantized gets no value, or with ``space`` that parameter's largest value; with
        ``space``, keys the space lacks are dropped and every value is checked against it."""
        out: dict[str, int] = {}
        opts = self.options()
        for g in self.problem.groups:
            o = opts[g.name]
            for key in (g.members if keys == "layer" else (g.name,)):
                for prefix, bits in (("w_bits", o.w_bits), ("a_bits", o.a_bits)):
                    name = f"{prefix}.{key}"
                    if space is not None:
                        if name not in space:
                            continue
                        bits = bits if bits is not None else max(space[name].values)
                    if bits is not None:
                        out[name] = int(bits)
        if space is not None:
            from codesign.types import Design

            space.validate(Design({**space.default().to_dict(), **out}))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"choice": self.choice, "totals": self.totals, "objective": self.objective, "budgets": self.budgets,
                "solve_seconds": self.seconds, "build_seconds": self.build_seconds,
                "objective_weights": self.problem.objective}


def _rows(problem: AllocationProblem, budgets: Sequence[Budget], skip: str | None = None) -> list[Any]:
    from scipy.optimize import LinearConstraint

    n, G = problem.n, len(problem.groups)
    one = np.zeros((G, n))
    for i in range(G):
        one[i, problem.group_slice(i)] = 1.0
    cons = [LinearConstraint(one, 1.0, 1.0)]
    for b in budgets:
        if b.table == skip:
            continue
        row = problem.tables[b.table]
        limit = problem.budget_value(b)
        scale = max(float(np.abs(row).max()), 1e-300)
        cons.append(LinearConstraint(row[None, :] / scale, -np.inf, (limit + _REL_TOL * abs(limit)) / scale))
    for c in problem.constraints:
        scale = max(float(np.abs(c.coef).max()), 1e-300)
        lo = c.lo / scale - 1e-9 if np.isfinite(c.lo) else -np.inf
        hi = c.hi / scale + 1e-9 if np.isfinite(c.hi) else np.inf
        cons.append(LinearConstraint(c.coef[None, :] / scale, lo, hi))
    return cons


def _milp(problem: AllocationProblem, obj: np.ndarray, cons: list[Any], time_limit: float | None) -> tuple[Any, float]:
    from scipy.optimize import Bounds, milp

    scale = max(float(np.abs(obj).max()), 1e-300)
    opts: dict[str, Any] = {"mip_rel_gap": 0.0, "presolve": True}
    if time_limit is not None:
        opts["time_limit"] = float(time_limit)
    t0 = time.perf_counter()
    res = milp(obj / scale, constraints=cons, integrality=np.ones(problem.n), bounds=Bounds(0, 1), options=opts)
    return res, time.perf_counter() - t0


def solve(problem: AllocationProblem, time_limit: float | None = None) -> Allocation:
    """The optimal allocation of ``problem`` (raises :class:`InfeasibleAllocation` if none exists)."""
    t0 = time.perf_counter()
    cons = _rows(problem, problem.budgets)
    obj = problem.objective_vector()
    build = time.perf_counter() - t0
    res, seconds = _milp(problem, obj, cons, time_limit)
    if res.status == 2:
        raise _infeasible(problem)
    if res.x is None or res.status not in (0,):
        raise ConfigError(f"the allocation MILP stopped without an optimal solution: {res.message}"
                          + (" (raise `time_limit`)" if res.status == 1 else ""))
    return _allocation(problem, res.x, seconds, build)


def _allocation(problem: AllocationProblem, x: np.ndarray, seconds: float, build: float) -> Allocation:
    choice, picked = {}, np.zeros(problem.n)
    for i, g in enumerate(problem.groups):
        sl = problem.group_slice(i)
        j = int(np.argmax(x[sl]))
        choice[g.name] = g.options[j].name
        picked[sl.start + j] = 1.0
    totals = {name: float(t @ picked) for name, t in problem.tables.items() if name not in BUILTIN_TABLES}
    obj = float(problem.objective_vector() @ picked)
    budgets = {b.table: problem.budget_value(b) for b in problem.budgets}
    return Allocation(choice, totals, obj, budgets, seconds, build, problem)


def score(problem: AllocationProblem, choice: Mapping[str, str]) -> dict[str, Any]:
    """Totals, objective and feasibility of a given choice (group name -> option name), e.g. a
    published allocation: ``{totals, objective, feasible, violated}`` (``violated`` names the
    budgets and side constraints it breaks)."""
    picked = np.zeros(problem.n)
    for i, g in enumerate(problem.groups):
        names = [o.name for o in g.options]
        if choice.get(g.name) not in names:
            raise ConfigError(f"group {g.name!r} must take one of {names}, but the choice gives {choice.get(g.name)!r}")
        picked[problem.group_slice(i).start + names.index(choice[g.name])] = 1.0
    violated = [f"budget on `{b.table}`" for b in problem.budgets
                if problem.tables[b.table] @ picked > problem.budget_value(b) * (1 + _REL_TOL) + 1e-12]
    violated += [c.text for c in problem.constraints if not c.lo - 1e-9 <= c.coef @ picked <= c.hi + 1e-9]
    return {"totals": {k: float(t @ picked) for k, t in problem.tables.items() if k not in BUILTIN_TABLES},
            "objective": float(problem.objective_vector() @ picked), "feasible": not violated, "violated": violated}


def _infeasible(problem: AllocationProblem) -> InfeasibleAllocation:
    smallest: dict[str, float] = {}
    lines = []
    for b in problem.budgets:
        res, _ = _milp(problem, problem.tables[b.table], _rows(problem, problem.budgets, skip=b.table), None)
        given = problem.budget_value(b)
        if res.status == 0 and res.x is not None:
            least = float(problem.tables[b.table] @ np.round(res.x))
            if least > given * (1 + _REL_TOL) + 1e-12:
                smallest[b.table] = least
                frac = "" if b.fraction is None else f" (fraction {b.fraction:g})"
                lo, hi = problem.range_of(b.table)
                need = f"; as a fraction of [{lo:.6g}, {hi:.6g}]: >= {(least - lo) / (hi - lo):.6g}" if hi > lo else ""
                lines.append(f"budget on `{b.table}` must be >= {least:.6g} (the smallest `{b.table}` of any allocation "
                             f"meeting the other constraints{need}), but got {given:.6g}{frac}")
    if lines:
        return InfeasibleAllocation("; ".join(lines), smallest)
    free = problem.with_budgets([], replace_all=True)
    res, _ = _milp(free, np.zeros(problem.n), _rows(free, []), None)
    if res.status == 2:
        bad = _conflicting(problem)
        return InfeasibleAllocation(f"the side constraints cannot all hold, whatever the budgets (conflicting: {bad})")
    return InfeasibleAllocation("the budgets cannot all be met together (each alone can): relax one of "
                                f"{[b.table for b in problem.budgets]}")


def _conflicting(problem: AllocationProblem) -> list[str]:
    """A minimal infeasible subset of the side constraints (deletion filter)."""
    keep = list(problem.constraints)
    for c in list(keep):
        trial = problem.with_budgets([], replace_all=True).with_constraints([k for k in keep if k is not c])
        res, _ = _milp(trial, np.zeros(problem.n), _rows(trial, []), None)
        if res.status == 2:
            keep = trial.constraints
    return [c.text for c in keep]


def pareto(problem: AllocationProblem, over: str, points: int | None = None, max_points: int = 500,
           time_limit: float | None = None) -> list[Allocation]:
    """Allocations on the front of (objective, ``over``) for budgets on ``over``.

    ``points=None``: the **exact** front by the ε-constraint method — solve, then tighten the
    budget to just below the found total, until infeasible (at most ``max_points`` solves).
    ``points=n``: ``n`` budgets evenly spaced between the smallest feasible total of ``over`` and
    the total of the unconstrained optimum. Other budgets and side constraints of ``problem`` hold
    throughout. Returns non-dominated allocations sorted by ``over`` (ascending).
    """
    table = problem.check_table(over)
    if points is not None and (isinstance(points, bool) or not isinstance(points, int) or points < 2):
        raise ConfigError(f"`points` must be an integer >= 2 or None (exact front), but got {points!r}")
    others = [b for b in problem.budgets if b.table != over]
    free = problem.with_budgets(others, replace_all=True)
    top = solve(free, time_limit)
    found: list[Allocation] = [top]
    if points is None:
        budget = top.totals[over]
        lo, hi = problem.range_of(over)
        # ε: strictly below the last total, by more than HiGHS' feasibility tolerance (1e-6 on rows scaled
        # to a unit largest coefficient); totals closer than ε are one point of the front
        step = max(_STEP * (hi - lo), 10 * 1e-6 * float(np.abs(table).max()))
        while len(found) < max_points:
            budget = budget - step
            try:
                a = solve(problem.with_budgets(others + [Budget(over, value=budget)], replace_all=True), time_limit)
            except InfeasibleAllocation:
                break
            if a.totals[over] >= found[-1].totals[over]:  # cannot happen with exact arithmetic; never loop on it
                break
            found.append(a)
            budget = a.totals[over]
    else:
        res, _ = _milp(free, table, _rows(free, others), time_limit)
        lo = float(table @ np.round(res.x)) if res.status == 0 else top.totals[over]
        for value in np.linspace(lo, top.totals[over], points)[:-1]:
            found.append(solve(problem.with_budgets(others + [Budget(over, value=float(value))], replace_all=True),
                               time_limit))
    return _front(found, over)


def _front(allocs: list[Allocation], over: str) -> list[Allocation]:
    allocs = sorted(allocs, key=lambda a: (a.totals[over], a.objective))
    out: list[Allocation] = []
    for a in allocs:
        if not out or a.objective < out[-1].objective - 1e-12 * max(1.0, abs(out[-1].objective)):
            out.append(a)
    return out
