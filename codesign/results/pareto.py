"""Non-dominated sorting and hypervolume (both by moocore).

All functions take objective values as an ``(n, m)`` array together with per-objective
directions (``"min"`` / ``"max"``) and work internally on minimization values
``y = sign · x`` (sign = +1 for min, −1 for max).

Hypervolume uses moocore (exact; HV3D+ in 3-D, HV4D+ in 4-D), with a reference point
given in the objectives' own units and directions.
"""

from __future__ import annotations

from collections.abc import Sequence

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
