"""Reward shared by every codesign environment: scalarization, hypervolume improvement, or
the front reward (hypervolume improvement / distance to the front).

Every objective value is first turned into a *normalized minimization value* in ``[0, 1]``
(0 = best, 1 = worst)::

    y_i = sign_i · value_i                         (sign = +1 for min, −1 for max objectives)
    n_i = clip((y_i − lo_i) / (hi_i − lo_i), 0, 1)  (n_i = 0.5 while hi_i == lo_i)

where ``[lo_i, hi_i]`` is either a fixed range given in ``bounds`` (raw units, any order), the
problem's own fixed normalization (``normalization``, a
:class:`~codesign.results.pareto.Normalization`, e.g. from ``Problem.objective_bounds()``:
ideal → 0, nadir → 1, log scale where it says so), or the running min / max of ``y_i`` over
the *feasible* designs this model has observed (the current one included; infeasible designs,
often extreme, would squash the range). Running bounds and the archive live for the
environment's lifetime and are cleared by :meth:`RewardModel.clear`, which environments call
on a *seeded* ``reset(seed=...)`` (so a seeded run is reproducible) but not on an unseeded
``reset()``.

Rewards (higher is better):

- ``"scalarized"``: ``r = −Σ_i w_i · n_i`` with weights ``w`` normalized to sum to 1, so a
  feasible design gets ``r ∈ [−1, 0]``.
- ``"hypervolume"``: ``r = HV(A ∪ {n}) − HV(A)`` where ``A`` is the archive of non-dominated
  feasible designs seen so far, both hypervolumes taken by :func:`moocore.hypervolume` on
  normalized values (current bounds) with reference point ``1.1`` in every coordinate; a
  feasible design gets ``r ∈ [0, 1.1^m]``.
- ``"front"`` (:class:`FrontArchive`; multi-objective MCTS of Wang & Sebag, ACML 2012,
  REFERENCES.md §9): a design the archive does not weakly dominate gets
  ``r = (HV(A ∪ {n}) − HV(A))^(1/m)`` (reference point 1, so ``r ∈ [0, 1]``: the side of the
  cube of equal volume, a length like the penalty below); a weakly dominated one gets minus
  its *domination distance* ``d(n) = max_{a ∈ A, a ≤ n} min_i (n_i − a_i)`` (how far it must
  improve in its best coordinate to leave every archive point's dominated region), so
  ``r ∈ [−1, 0]``; a design already in the archive gets 0. Unlike a fixed weighting it pays
  for progress anywhere on the front, and no longer pays for a point once it is found.
- An infeasible design gets the worst feasible reward minus ``infeasible_penalty``:
  ``−1 − penalty`` (scalarized, front) or ``−penalty`` (hypervolume); it neither widens the
  running bounds nor enters the archive.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from codesign.errors import ConfigError
from codesign.results.pareto import Normalization
from codesign.types import Metrics, Objective

REWARDS = ("scalarized", "hypervolume", "front")
HV_REF = 1.1


class FrontArchive:
    """Non-dominated normalized points (minimization, ``[0, 1]^m``, reference point 1) and the
    front reward of the module docstring."""

    def __init__(self, m: int) -> None:
        self.m = int(m)
        self.points = np.empty((0, self.m))
        self.hv = 0.0

    def distance(self, n: np.ndarray) -> float:
        """Domination distance of ``n`` (0 when no archive point weakly dominates it)."""
        if not len(self.points):
            return 0.0
        covers = np.all(self.points <= n, axis=1)
        if not covers.any():
            return 0.0
        return float(np.max(np.min(n - self.points[covers], axis=1)))

    def dominated(self, n: np.ndarray) -> bool:
        return bool(len(self.points) and np.any(np.all(self.points <= n, axis=1)))

    def improvement(self, n: np.ndarray) -> float:
        """``HV(A ∪ {n}) − HV(A)`` with reference point 1 (0 if weakly dominated)."""
        if self.dominated(n):
            return 0.0
        return max(_hv(np.vstack([self.points, n[None, :]])) - self.hv, 0.0)

    def reward(self, n: np.ndarray) -> float:
        """The front reward of ``n`` against the current archive (no state change)."""
        if self.dominated(n):
            return -self.distance(n)
        return float(self.improvement(n) ** (1.0 / self.m))

    def reset(self, points: np.ndarray) -> None:
        """Replace the archive by the non-dominated rows of ``points``."""
        self.points = np.empty((0, self.m))
        for p in np.atleast_2d(points).reshape(-1, self.m):
            self.add(p)

    def add(self, n: np.ndarray) -> bool:
        """Put ``n`` in the archive if nothing weakly dominates it; True if it entered."""
        if self.dominated(n):
            return False
        keep = ~np.all(n <= self.points, axis=1)  # drop the points n weakly dominates
        self.points = np.vstack([self.points[keep], n[None, :]])
        self.hv = _hv(self.points)
        return True

    def __call__(self, n: np.ndarray) -> float:
        """Reward ``n``, then archive it."""
        r = self.reward(n)
        self.add(n)
        return r


def _hv(points: np.ndarray) -> float:
    import moocore

    inside = points[np.all(points < 1.0, axis=1)]
    if not len(inside):
        return 0.0
    if inside.shape[1] == 1:
        return float(1.0 - inside.min())
    return float(moocore.hypervolume(inside, ref=np.ones(inside.shape[1])))


def _weights(objectives: Sequence[Objective], weights: Mapping[str, float] | Sequence[float] | None) -> np.ndarray:
    names = [o.name for o in objectives]
    if weights is None:
        w = np.ones(len(names))
    elif isinstance(weights, Mapping):
        unknown = sorted(set(weights) - set(names))
        if unknown:
            raise ConfigError(f"weights must name objectives among {names}, but got unknown {unknown}")
        w = np.array([float(weights.get(n, 0.0)) for n in names])
    else:
        w = np.asarray(list(weights), dtype=float)
        if w.shape != (len(names),):
            raise ConfigError(f"weights must have one value per objective {names}, but got {list(weights)}")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ConfigError(f"weights must be finite, >= 0 and not all 0, but got {w.tolist()}")
    return w / w.sum()


def _fixed_bounds(
    objectives: Sequence[Objective], bounds: Mapping[str, Sequence[float]] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Fixed (lo, hi) in minimization units; NaN where the bound is running."""
    lo = np.full(len(objectives), np.nan)
    hi = np.full(len(objectives), np.nan)
    names = [o.name for o in objectives]
    unknown = sorted(set(bounds or {}) - set(names))
    if unknown:
        raise ConfigError(f"bounds must name objectives among {names}, but got unknown {unknown}")
    for i, o in enumerate(objectives):
        if bounds is None or o.name not in bounds:
            continue
        pair = bounds[o.name]
        try:
            a, b = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise ConfigError(f"bounds[{o.name!r}] must be a (low, high) pair of numbers, but got {pair!r}") from None
        if not (math.isfinite(a) and math.isfinite(b)) or a == b:
            raise ConfigError(f"bounds[{o.name!r}] must be two different finite numbers, but got {pair!r}")
        lo[i], hi[i] = sorted((o.sign * a, o.sign * b))
    return lo, hi


class RewardModel:
    """Turns the metrics of evaluated designs into rewards (see the module docstring).

    Args:
        objectives: the problem's objectives (name + direction).
        reward: ``"scalarized"`` or ``"hypervolume"``.
        weights: scalarization weights, by objective name (missing names weigh 0) or one per
            objective in order; default equal weights. Normalized to sum to 1.
        infeasible_penalty: how far below the worst feasible reward an infeasible design lands.
        bounds: optional fixed ``{objective: (low, high)}`` range in raw units; objectives not
            named use running min / max.
        normalization: the problem's fixed :class:`~codesign.results.pareto.Normalization`
            (its objectives in this model's order); overrides ``bounds`` and running bounds.
    """

    def __init__(
        self,
        objectives: Sequence[Objective],
        reward: str = "scalarized",
        weights: Mapping[str, float] | Sequence[float] | None = None,
        infeasible_penalty: float = 1.0,
        bounds: Mapping[str, Sequence[float]] | None = None,
        normalization: Normalization | None = None,
    ) -> None:
        if reward not in REWARDS:
            raise ConfigError(f"reward must be one of {REWARDS}, but got {reward!r}")
        if not isinstance(infeasible_penalty, (int, float)) or not math.isfinite(infeasible_penalty) or infeasible_penalty < 0:
            raise ConfigError(f"infeasible_penalty must be a finite number >= 0, but got {infeasible_penalty!r}")
        self.objectives = tuple(objectives)
        self.reward = reward
        self.weights = _weights(self.objectives, weights)
        self.infeasible_penalty = float(infeasible_penalty)
        self._signs = np.array([o.sign for o in self.objectives])
        self._fixed_lo, self._fixed_hi = _fixed_bounds(self.objectives, bounds)
        if normalization is not None and list(normalization.names) != [o.name for o in self.objectives]:
            raise ConfigError(f"normalization must cover the objectives {[o.name for o in self.objectives]} in order, "
                              f"but covers {list(normalization.names)}")
        self.normalization = normalization
        self.clear()

    @property
    def num_objectives(self) -> int:
        return len(self.objectives)

    def clear(self) -> None:
        """Forget running bounds and the archive."""
        self._lo = self._fixed_lo.copy()
        self._hi = self._fixed_hi.copy()
        self._running = np.isnan(self._fixed_lo) & (self.normalization is None)
        self._archive = np.empty((0, self.num_objectives))
        self.front = FrontArchive(self.num_objectives)

    @property
    def archive(self) -> np.ndarray:
        """Non-dominated feasible designs seen, as raw minimization values, shape ``(k, m)``."""
        return self._archive.copy()

    def minimization(self, metrics: Metrics) -> np.ndarray:
        """``y = sign · value`` per objective, shape ``(m,)``."""
        return self._signs * np.array(metrics.objective_values(self.objectives), dtype=float)

    def observe(self, y: np.ndarray) -> None:
        """Widen the running bounds to include ``y``."""
        r = self._running
        self._lo[r] = np.fmin(self._lo[r], y[r])
        self._hi[r] = np.fmax(self._hi[r], y[r])

    def normalize(self, y: np.ndarray) -> np.ndarray:
        """Normalized minimization values in ``[0, 1]``, shape like ``y`` (``(m,)`` or ``(k, m)``)."""
        if self.normalization is not None:
            y = np.asarray(y, dtype=float)
            n = self.normalization.normalize(np.atleast_2d(y * self._signs))  # back to raw units
            return n.reshape(y.shape)
        span = self._hi - self._lo
        with np.errstate(invalid="ignore", divide="ignore"):
            n = np.where(span > 0, (np.asarray(y, dtype=float) - self._lo) / np.where(span > 0, span, 1.0), 0.5)
        return np.clip(np.nan_to_num(n, nan=0.5), 0.0, 1.0)

    def scalarize(self, y: np.ndarray) -> float:
        """``−Σ w_i n_i`` under the current bounds (no state change)."""
        return -float(self.weights @ self.normalize(y))

    def hypervolume(self, ys: np.ndarray | None = None) -> float:
        """Hypervolume of ``ys`` (default: the archive), normalized, reference point 1.1."""
        pts = self._archive if ys is None else np.atleast_2d(ys)
        if len(pts) == 0:
            return 0.0
        import moocore

        return float(moocore.hypervolume(self.normalize(pts), ref=np.full(self.num_objectives, HV_REF)))

    @property
    def worst_feasible(self) -> float:
        return 0.0 if self.reward == "hypervolume" else -1.0

    def __call__(self, metrics: Metrics) -> float:
        """Observe one evaluated design and return its reward."""
        if not metrics.feasible:
            return self.worst_feasible - self.infeasible_penalty
        y = self.minimization(metrics)
        self.observe(y)
        if self.reward == "scalarized":
            return self.scalarize(y)
        if self.reward == "front":
            if self._running.any():  # the bounds moved: the archive in today's normalization
                self.front.reset(self.normalize(self._archive))
            self._add_to_archive(y)
            return self.front(self.normalize(y))
        before = self.hypervolume()
        self._add_to_archive(y)
        return max(self.hypervolume() - before, 0.0)

    def _add_to_archive(self, y: np.ndarray) -> None:
        import moocore

        pts = np.vstack([self._archive, y[None, :]])
        self._archive = pts[moocore.is_nondominated(pts)]
