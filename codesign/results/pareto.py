"""Non-dominated sorting and hypervolume (both by moocore).

All functions take objective values as an ``(n, m)`` array together with per-objective
directions (``"min"`` / ``"max"``) and work internally on minimization values
``y = sign · x`` (sign = +1 for min, −1 for max).

Hypervolume uses moocore (exact; HV3D+ in 3-D, HV4D+ in 4-D), with a reference point
given in the objectives' own units and directions. :func:`normalized_hypervolume` maps the
objectives onto the unit cube by a fixed per-problem :class:`Normalization` (ideal, nadir, log
scale) first, so its value lies in ``[0, 1]`` and compares across runs and stores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from codesign.errors import ConfigError


def _signs(directions: Sequence[str], m: int) -> np.ndarray:
    if len(directions) != m:
        raise ConfigError(f"need one direction per objective ({m}), but got {len(directions)}")
    bad = [d for d in directions if d not in ("min", "max")]
    if bad:
        raise ConfigError(f"directions must be 'min' or 'max', but got {bad}")
    return np.array([1.0 if d == "min" else -1.0 for d in directions])


def to_minimization(points: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    pts = np.asarray(points, dtype=float)
    if pts.ndim != 2:
        raise ConfigError(f"points must be a 2-D array (n, m), but got shape {pts.shape}")
    return pts * _signs(directions, pts.shape[1])


def non_dominated_mask(points: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """Boolean mask of the points that no other point dominates (duplicates all kept).

    moocore's ``is_nondominated`` (``keep_weakly=True`` keeps duplicates of a front point).
    """
    y = to_minimization(points, directions)
    if y.shape[0] == 0:
        return np.zeros(0, dtype=bool)
    import moocore

    return np.asarray(moocore.is_nondominated(y, keep_weakly=True), dtype=bool)


def pareto_ranks(points: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """Non-domination rank of each point (0 = Pareto front), by moocore's ``pareto_rank``."""
    y = to_minimization(points, directions)
    if y.shape[0] == 0:
        return np.zeros(0, dtype=int)
    import moocore

    return np.asarray(moocore.pareto_rank(y), dtype=int)


def hypervolume(points: np.ndarray, directions: Sequence[str], ref: Sequence[float]) -> float:
    """Hypervolume dominated by ``points`` and bounded by ``ref`` (in the objectives' units).

    Points that do not strictly dominate ``ref`` contribute nothing. Returns 0.0 for no points.
    """
    pts = np.asarray(points, dtype=float)
    if pts.size == 0:
        return 0.0
    y = to_minimization(pts, directions)
    r = np.asarray(ref, dtype=float) * _signs(directions, y.shape[1])
    if r.shape != (y.shape[1],):
        raise ConfigError(f"reference point must have {y.shape[1]} values, but got {len(ref)}")
    inside = np.all(y < r, axis=1)
    y = y[inside]
    if y.shape[0] == 0:
        return 0.0
    if y.shape[1] == 1:
        return float(r[0] - y[:, 0].min())
    import moocore

    return float(moocore.hypervolume(y, ref=r))


def reference_point(points: np.ndarray, directions: Sequence[str], margin: float = 0.1,
                    fixed: Sequence[float | None] | None = None) -> list[float]:
    """A reference point slightly worse than the worst observed value of each objective.

    ``fixed`` entries that are not None are used as given (e.g. accuracy 0 for a max objective).
    """
    y = to_minimization(points, directions)
    signs = _signs(directions, y.shape[1])
    worst = y.max(axis=0)
    best = y.min(axis=0)
    span = np.where(worst > best, worst - best, np.maximum(np.abs(worst), 1.0))
    ref_min = worst + margin * span
    ref = list(ref_min * signs)
    if fixed is not None:
        ref = [float(f) if f is not None else float(r) for f, r in zip(fixed, ref)]
    return [float(v) for v in ref]


def hypervolume_trace(points: np.ndarray, directions: Sequence[str], ref: Sequence[float],
                      feasible: np.ndarray | None = None) -> np.ndarray:
    """Hypervolume after each evaluation (in order); infeasible points never count."""
    pts = np.asarray(points, dtype=float)
    n = pts.shape[0]
    feas = np.ones(n, dtype=bool) if feasible is None else np.asarray(feasible, dtype=bool)
    out = np.zeros(n)
    front: np.ndarray = np.zeros((0, pts.shape[1] if pts.ndim == 2 else 0))
    current = 0.0
    for i in range(n):
        if feas[i]:
            cand = np.vstack([front, pts[i : i + 1]])
            mask = non_dominated_mask(cand, directions)
            if mask[-1]:
                front = cand[mask]
                current = hypervolume(front, directions, ref)
        out[i] = current
    return out


# --- normalized hypervolume (a fixed normalization per problem) --------------------------------

@dataclass(frozen=True)
class Normalization:
    """A fixed map of objective space onto the unit cube, so hypervolumes compare across runs
    and stores.

    Per objective (in the problem's order): ``ideal`` (the best corner) and ``nadir`` (the
    reference point) in the objective's own units and direction, and ``log`` (normalize
    ``log10(value)`` instead of ``value``; for positive metrics spanning decades). A value
    ``v`` becomes::

        t = log10(v) if log else v
        n = clip((sign·t − sign·t_ideal) / (sign·t_nadir − sign·t_ideal), 0, 1)

    so 0 is the ideal, 1 the nadir (sign = +1 for min, −1 for max objectives). Where a problem's
    normalization comes from (declared or derived from its space and evaluators, never from a
    store's records) is :func:`codesign.evaluators.bounds.objective_bounds`.
    """

    names: tuple[str, ...]
    directions: tuple[str, ...]
    ideal: tuple[float, ...]
    nadir: tuple[float, ...]
    log: tuple[bool, ...]

    def __post_init__(self) -> None:
        m = len(self.names)
        if not m or any(len(v) != m for v in (self.directions, self.ideal, self.nadir, self.log)):
            raise ConfigError(f"normalization needs one name, direction, ideal, nadir and log flag per objective, "
                              f"but got {self.names}, {self.directions}, {self.ideal}, {self.nadir}, {self.log}")
        signs = _signs(self.directions, m)
        for name, s, lo, hi, lg in zip(self.names, signs, self.ideal, self.nadir, self.log):
            if not (np.isfinite(lo) and np.isfinite(hi)) or (lg and (lo <= 0 or hi <= 0)):
                raise ConfigError(f"normalization of {name!r}: ideal and nadir must be finite (and > 0 on a log scale), "
                                  f"but got ideal={lo}, nadir={hi}, log={lg}")
            if not s * hi > s * lo:
                raise ConfigError(f"normalization of {name!r}: the nadir must be worse than the ideal, "
                                  f"but got ideal={lo}, nadir={hi} ({'min' if s > 0 else 'max'})")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Normalization:
        """From ``{"objectives": [{"name", "direction", "ideal", "nadir", "scale"}, ...]}``
        (``scale`` is ``"linear"`` or ``"log"``), the form of :func:`codesign.evaluators.bounds.objective_bounds`."""
        try:
            objs = list(data["objectives"])
            return cls(tuple(str(o["name"]) for o in objs), tuple(str(o["direction"]) for o in objs),
                       tuple(float(o["ideal"]) for o in objs), tuple(float(o["nadir"]) for o in objs),
                       tuple(o.get("scale", "linear") == "log" for o in objs))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"normalization must be {{'objectives': [{{name, direction, ideal, nadir, scale}}]}}, "
                              f"but got {data!r} ({exc})") from None

    def to_dict(self) -> dict[str, Any]:
        return {"objectives": [{"name": n, "direction": d, "ideal": lo, "nadir": hi, "scale": "log" if lg else "linear"}
                               for n, d, lo, hi, lg in zip(self.names, self.directions, self.ideal, self.nadir, self.log)]}

    def normalize(self, points: np.ndarray) -> np.ndarray:
        """``(n, m)`` values in the objectives' units -> ``(n, m)`` in ``[0, 1]`` (0 = ideal)."""
        pts = np.atleast_2d(np.asarray(points, dtype=float))
        m = len(self.names)
        if pts.shape[1] != m:
            raise ConfigError(f"points must have {m} columns ({list(self.names)}), but got shape {pts.shape}")
        log = np.array(self.log)
        signs = _signs(self.directions, m)

        def scale(v: np.ndarray) -> np.ndarray:
            with np.errstate(divide="ignore", invalid="ignore"):
                lv = np.log10(np.where(v > 0, v, np.nan))
            # a non-positive value on a log scale: below every positive value
            lv = np.where(np.isnan(lv) & ~np.isnan(v), -np.inf, lv)
            return np.where(log, lv, v) * signs

        lo, hi = scale(np.array(self.ideal)), scale(np.array(self.nadir))
        with np.errstate(invalid="ignore"):
            n = (scale(pts) - lo) / (hi - lo)
        return np.clip(np.nan_to_num(n, nan=1.0, posinf=1.0, neginf=0.0), 0.0, 1.0)


def normalized_hypervolume(points: np.ndarray, normalization: Normalization) -> float:
    """Hypervolume of ``points`` (objectives' units) after :meth:`Normalization.normalize`, with
    the reference point at the nadir: the fraction of the ideal–nadir box the points dominate,
    in ``[0, 1]``. Points beyond the ideal count as the ideal; points at or beyond the nadir in
    any objective contribute nothing."""
    pts = np.asarray(points, dtype=float)
    if pts.size == 0:
        return 0.0
    m = len(normalization.names)
    return hypervolume(normalization.normalize(pts), ["min"] * m, [1.0] * m)


def normalized_hypervolume_trace(points: np.ndarray, normalization: Normalization,
                                 feasible: np.ndarray | None = None) -> np.ndarray:
    """:func:`normalized_hypervolume` after each evaluation (in order); infeasible points never count."""
    pts = np.asarray(points, dtype=float)
    if pts.size == 0:
        return np.zeros(0)
    m = len(normalization.names)
    return hypervolume_trace(normalization.normalize(pts), ["min"] * m, [1.0] * m, feasible)


def greedy_hypervolume_subset(points: np.ndarray, normalization: Normalization, k: int) -> tuple[list[int], float]:
    """``k`` of ``points`` chosen greedily for normalized hypervolume (each step adds the point
    of the largest HV gain; lazily re-evaluated, since the gain of a point only shrinks as the
    chosen set grows), and the normalized HV of those ``k``. Hypervolume is submodular, so the
    greedy choice holds at least 1 − 1/e of the best ``k``-subset's HV and in practice nearly all
    of it: a lower mark for what one run of ``k`` evaluations could hold of a front pooled from
    many runs. The HV returned is that of the chosen points, computed afresh (not the sum of the
    gains, whose rounding could exceed the whole front's)."""
    import heapq

    pts = np.asarray(points, dtype=float)
    if pts.size == 0 or k <= 0:
        return [], 0.0
    m = len(normalization.names)
    y = normalization.normalize(pts)
    ref = [1.0] * m
    heap = [(-float(np.prod(np.clip(1.0 - row, 0.0, None))), i) for i, row in enumerate(y)]
    heapq.heapify(heap)
    chosen: list[int] = []
    current = 0.0
    while heap and len(chosen) < k:
        _, i = heapq.heappop(heap)
        gain = hypervolume(y[chosen + [i]], ["min"] * m, ref) - current
        if gain <= 0:
            continue
        if not heap or gain >= -heap[0][0] - 1e-15:  # no other point can gain more
            chosen.append(i)
            current += gain
        else:
            heapq.heappush(heap, (-gain, i))
    return chosen, (hypervolume(y[chosen], ["min"] * m, ref) if chosen else 0.0)
