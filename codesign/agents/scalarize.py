"""Scalar rewards from multi-objective records, shared by the tree / table agents (MCTS,
Q-learning, the inner searches of HASCO).

Every record becomes a reward in ``[-1, 1]``:

- minimization values ``y_i = sign_i · value_i`` are normalized by the running range of the
  *feasible* records seen so far, ``n_i = clip((y_i − lo_i) / (hi_i − lo_i), 0, 1)``
  (``0.5`` while ``hi_i == lo_i``);
- a feasible record gets ``r = 1 − max_i λ_i n_i / max_i λ_i`` (augmented Chebyshev with a
  weight vector ``λ`` on the simplex, ``+ ρ Σ λ_i n_i`` with ``ρ = 0.05``), so ``r ∈ [0, 1]``;
- an infeasible record gets ``INFEASIBLE_REWARD = −0.5``, a failed one ``FAILED_REWARD = −1``.

Agents draw ``λ`` uniformly on the simplex for every rollout / episode (ParEGO's trick): the
value a tree node or table entry accumulates is then the expected Chebyshev utility over
uniform weights — the R2 indicator — which rewards covering the whole Pareto front rather
than one trade-off.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from codesign.types import EvalRecord, EvalState, Objective

INFEASIBLE_REWARD = -0.5
FAILED_REWARD = -1.0
RHO = 0.05


def random_weights(rng: np.random.Generator, m: int) -> np.ndarray:
    """A weight vector drawn uniformly on the ``m``-simplex."""
    return rng.dirichlet(np.ones(m))


class RecordScalarizer:
    """Running normalization of feasible records + Chebyshev reward (module docstring); with
    ``problem``, the problem's fixed normalization (``problem.objective_bounds()``) instead of
    the running range."""

    def __init__(self, objectives: Sequence[Objective], problem: object = None) -> None:
        self.objectives = tuple(objectives)
        self.fixed = None
        if problem is not None:
            from codesign.envs.common import problem_normalization

            self.fixed = problem_normalization(problem)
        self.signs = np.array([o.sign for o in self.objectives], dtype=float)
        m = len(self.objectives)
        self.lo = np.full(m, np.inf)
        self.hi = np.full(m, -np.inf)

    def values(self, record: EvalRecord) -> np.ndarray | None:
        """Minimization values of a complete or infeasible record (None if failed / missing)."""
        if record.state is EvalState.FAILED:
            return None
        try:
            y = np.array([float(record.metrics.values[o.name]) for o in self.objectives]) * self.signs
        except KeyError:
            return None
        return y if np.all(np.isfinite(y)) else None

    def observe(self, record: EvalRecord) -> None:
        """Widen the normalization range with a feasible record."""
        y = self.values(record)
        if y is not None and record.state is EvalState.COMPLETE:
            self.lo = np.minimum(self.lo, y)
            self.hi = np.maximum(self.hi, y)

    def normalize(self, y: np.ndarray) -> np.ndarray:
        if self.fixed is not None:
            return self.fixed.normalize(np.atleast_2d(y * self.signs))[0]
        span = self.hi - self.lo
        ok = np.isfinite(span) & (span > 0)
        out = np.where(ok, (y - np.where(ok, self.lo, 0.0)) / np.where(ok, span, 1.0), 0.5)
        return np.clip(out, 0.0, 1.0)

    def reward(self, record: EvalRecord, weights: np.ndarray) -> float:
        """The reward of ``record`` under ``weights`` (observe it first to include it)."""
        y = self.values(record)
        if y is None:
            return FAILED_REWARD
        if record.state is not EvalState.COMPLETE:
            return INFEASIBLE_REWARD
        n = self.normalize(y)
        w = np.asarray(weights, dtype=float)
        g = (np.max(w * n) + RHO * float(np.sum(w * n))) / (np.max(w) * (1.0 + RHO))
        return float(1.0 - min(max(g, 0.0), 1.0))


class FrontSignal:
    """The front reward of :mod:`codesign.envs.reward` (``"front"``) for records: hypervolume
    improvement over the current front, or minus the distance to it (Wang & Sebag, ACML 2012),
    in the problem's fixed normalization when one is given (``problem.objective_bounds()``),
    else in running min / max bounds. Failed records count as infeasible:
    ``−1 − infeasible_penalty``."""

    def __init__(self, objectives: Sequence[Objective], problem: object = None, infeasible_penalty: float = 0.5) -> None:
        from codesign.envs.common import problem_normalization
        from codesign.envs.reward import RewardModel

        self.objectives = tuple(objectives)
        norm = problem_normalization(problem) if problem is not None else None
        self.fixed = norm is not None
        self.model = RewardModel(self.objectives, "front", infeasible_penalty=infeasible_penalty, normalization=norm)

    def reward(self, record: EvalRecord) -> float:
        """Reward ``record`` against the front so far, then add it to the front."""
        from codesign.envs.common import env_safe

        metrics = record.metrics if record.state is not EvalState.FAILED else None
        if metrics is None or not all(o.name in metrics.values for o in self.objectives):
            return self.model.worst_feasible - self.model.infeasible_penalty
        if record.state is EvalState.INFEASIBLE and metrics.feasible:  # a state without violations
            return self.model.worst_feasible - self.model.infeasible_penalty
        return float(self.model(env_safe(metrics, self.objectives)))
