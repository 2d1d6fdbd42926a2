"""What every codesign environment shares: the problem, the evaluate hook, scoring, features.

:class:`Scorer` is the one place where environments score designs: it calls the ``evaluate``
function (default ``problem.evaluate_many``; the runner passes one that records every
evaluation in the store) exactly once per step with the designs of that step, turns the
metrics into rewards with a :class:`~codesign.envs.reward.RewardModel` and builds ``info``.

Design observation (:meth:`Scorer.design_features`), a float32 vector in ``[0, 1]``::

    [ idx_0/(n_0−1), ..., idx_{P−1}/(n_{P−1}−1),   # normalized parameter indices (0 if n == 1)
      o_0, ..., o_{m−1},                           # normalized minimization objective values
      feasible ]                                   # 1.0 if that design was feasible

Before any design of the episode was evaluated the indices are those of ``space.default()``,
objectives are 1.0 (worst) and ``feasible`` is 0.0.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from codesign.envs.reward import RewardModel
from codesign.errors import ConfigError, EvaluationError
from codesign.results.pareto import Normalization
from codesign.types import Design, Metrics, Objective

if TYPE_CHECKING:  # pragma: no cover
    from codesign.evaluators.composite import Problem
    from codesign.spaces.space import Space

EvaluateFn = Callable[[list[Design]], list[Metrics]]
DEFAULT_PROBLEM = "digits-accel"
RENDER_MODES = ["ansi"]


def resolve_problem(problem: Problem | str) -> Problem:
    """A Problem as given, or the registered problem of that name."""
    if isinstance(problem, str):
        from codesign.registry import make_problem

        return make_problem(problem)
    if not all(hasattr(problem, a) for a in ("space", "objectives", "evaluate_many")):
        raise ConfigError(f"problem must be a Problem or a registered problem name, but got {type(problem).__name__}")
    return problem


def problem_normalization(problem: Any) -> Normalization | None:
    """The problem's fixed normalization (``problem.objective_bounds()``), or None if it has none."""
    get = getattr(problem, "objective_bounds", None)
    return Normalization.from_dict(get()) if callable(get) else None


def check_positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{what} must be an integer >= 1, but got {value!r}")
    return int(value)


def check_render_mode(render_mode: str | None) -> str | None:
    if render_mode is not None and render_mode not in RENDER_MODES:
        raise ConfigError(f"render_mode must be None or one of {RENDER_MODES}, but got {render_mode!r}")
    return render_mode


def index_features(space: Space, design: Mapping[str, Any]) -> np.ndarray:
    """``idx_i / (n_i − 1)`` per parameter (0 where ``n_i == 1``), float32, shape ``(P,)``."""
    idx = np.asarray(space.to_indices(design), dtype=np.float64)
    span = np.array([max(p.size - 1, 1) for p in space.params], dtype=np.float64)
    return (idx / span).astype(np.float32)


@dataclass
class Scored:
    """One scored design: its reward, normalized objective values and the ``info`` entries."""

    design: Design
    metrics: Metrics
    reward: float
    normalized: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)


def env_safe(metrics: Metrics, objectives: Sequence[Objective]) -> Metrics:
    """Metrics the reward model can read: a failed evaluation carries no objective values, so
    missing ones become NaN (normalized to the middle, never used for an infeasible reward)
    and the design counts as infeasible (``failed``)."""
    missing = [o.name for o in objectives if o.name not in metrics.values]
    if not missing:
        return metrics
    values = {**dict(metrics.values), **{n: float("nan") for n in missing}}
    violations = dict(metrics.violations) or {"failed": 1.0}
    return Metrics(values, breakdown=metrics.breakdown, violations=violations)


class Scorer:
    """Scores designs through the ``evaluate`` hook and a shared :class:`RewardModel`.

    Args:
        problem: a Problem or a registered problem name.
        evaluate: ``designs -> metrics`` (default ``problem.evaluate_many``); the only function
            used to score designs, called once per step.
        reward, weights, infeasible_penalty: see :class:`RewardModel`.
        bounds: fixed ``{objective: (low, high)}`` ranges (see :class:`RewardModel`), or
            ``"problem"``: the problem's fixed normalization (``problem.objective_bounds()``;
            running bounds for a problem without one).
    """

    def __init__(
        self,
        problem: Problem | str,
        evaluate: EvaluateFn | None = None,
        reward: str = "scalarized",
        weights: Mapping[str, float] | Sequence[float] | None = None,
        infeasible_penalty: float = 1.0,
        bounds: Mapping[str, Sequence[float]] | str | None = None,
    ) -> None:
        self.problem = resolve_problem(problem)
        if evaluate is not None and not callable(evaluate):
            raise ConfigError(f"evaluate must be a callable designs -> metrics, but got {evaluate!r}")
        self.evaluate: EvaluateFn = evaluate if evaluate is not None else self.problem.evaluate_many
        normalization = None
        if isinstance(bounds, str):
            if bounds != "problem":
                raise ConfigError(f"bounds must be a mapping, 'problem' or None, but got {bounds!r}")
            normalization, bounds = problem_normalization(self.problem), None
        self.model = RewardModel(self.problem.objectives, reward, weights, infeasible_penalty, bounds, normalization)
        self.space: Space = self.problem.space
        self.default_design = self.space.default()

    @property
    def design_obs_size(self) -> int:
        return len(self.space) + self.model.num_objectives + 1

    def score(self, designs: Sequence[Design]) -> list[Scored]:
        """Evaluate ``designs`` with one call of ``evaluate`` and reward each, in order."""
        designs = list(designs)
        results = list(self.evaluate(designs))
        if len(results) != len(designs):
            raise EvaluationError(f"evaluate must return one Metrics per design ({len(designs)}), but returned {len(results)}")
        out = []
        for design, metrics in zip(designs, results):
            metrics = env_safe(metrics, self.problem.objectives)
            reward = float(self.model(metrics))
            normalized = self.model.normalize(self.model.minimization(metrics)).astype(np.float32)
            info = {
                "metrics": {k: float(v) for k, v in metrics.values.items()},
                "violations": {k: float(v) for k, v in metrics.violations.items()},
                "feasible": bool(metrics.feasible),
                "design": design.to_dict(),
            }
            out.append(Scored(design, metrics, reward, normalized, info))
        return out

    def design_features(self, last: Scored | None) -> np.ndarray:
        """The design observation of the module docstring, float32, shape ``(design_obs_size,)``."""
        if last is None:
            parts = [index_features(self.space, self.default_design), np.ones(self.model.num_objectives, np.float32), [0.0]]
        else:
            parts = [index_features(self.space, last.design), last.normalized, [float(last.metrics.feasible)]]
        return np.concatenate(parts).astype(np.float32)

    def render_text(self, last: Scored | None, step: int) -> str:
        if last is None:
            return f"step {step}: no design evaluated yet"
        vals = ", ".join(f"{k}={v:.4g}" for k, v in last.info["metrics"].items())
        state = "feasible" if last.metrics.feasible else f"infeasible {sorted(last.metrics.violations)}"
        return f"step {step}: reward={last.reward:.4f} {state} {vals} design={last.info['design']}"
