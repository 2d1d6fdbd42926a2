"""DesignEnv: a gymnasium environment where every step proposes one full design.

- Action: ``MultiDiscrete(nvec)``, one index per parameter of ``problem.space`` in space order
  (:func:`codesign.spaces.convert.gym.to_gymnasium`); decoded by ``gym_decode``.
- Observation: ``Box(0, 1, (P + m + 1,), float32)`` — the last evaluated design's normalized
  parameter indices, its normalized objective values and its feasibility flag (layout in
  :mod:`codesign.envs.common`).
- Reward: :mod:`codesign.envs.reward` (scalarized or hypervolume improvement).
- Episode: ``horizon`` steps, then ``truncated=True`` (never ``terminated``).

Actions that break a constraint of the space are **evaluated, not repaired**: the Problem
reports them infeasible (violation ``space:<name>``) and they get the infeasible reward.
Every step calls ``evaluate`` exactly once, with the one decoded design.

``info``: ``metrics`` (objective and other values), ``violations``, ``feasible``, ``design``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np

from codesign.envs.common import (
    DEFAULT_PROBLEM,
    RENDER_MODES,
    EvaluateFn,
    Scored,
    Scorer,
    check_positive_int,
    check_render_mode,
)
from codesign.spaces.convert.gym import gym_decode, to_gymnasium

if TYPE_CHECKING:  # pragma: no cover
    from codesign.evaluators.composite import Problem


class DesignEnv(gym.Env):
    """One full design per step.

    Args:
        problem: a Problem or a registered problem name (default ``"digits-accel"``).
        evaluate: ``list[Design] -> list[Metrics]``; default ``problem.evaluate_many``.
        reward: ``"scalarized"``, ``"hypervolume"`` or ``"front"`` (see :mod:`codesign.envs.reward`).
        weights: scalarization weights by objective name or in objective order.
        horizon: steps per episode.
        infeasible_penalty: distance below the worst feasible reward of an infeasible design.
        bounds: optional fixed ``{objective: (low, high)}`` normalization ranges, or ``"problem"``
            (the problem's fixed normalization, :meth:`Problem.objective_bounds`).
        render_mode: ``None`` or ``"ansi"``.
    """

    metadata = {"render_modes": RENDER_MODES}

    def __init__(
        self,
        problem: Problem | str = DEFAULT_PROBLEM,
        evaluate: EvaluateFn | None = None,
        reward: str = "scalarized",
        weights: Mapping[str, float] | Sequence[float] | None = None,
        horizon: int = 16,
        infeasible_penalty: float = 1.0,
        bounds: Mapping[str, Sequence[float]] | str | None = None,
        render_mode: str | None = None,
    ) -> None:
        self.scorer = Scorer(problem, evaluate, reward, weights, infeasible_penalty, bounds)
        self.problem = self.scorer.problem
        self.space = self.scorer.space
        self.horizon = check_positive_int(horizon, "horizon")
        self.render_mode = check_render_mode(render_mode)
        self.action_space = to_gymnasium(self.space)
        self.observation_space = gym.spaces.Box(0.0, 1.0, (self.scorer.design_obs_size,), np.float32)
        self._t = 0
        self._last: Scored | None = None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode; a seeded reset also clears the reward model (bounds, archive)."""
        super().reset(seed=seed)
        if seed is not None:
            self.scorer.model.clear()
        self._t = 0
        self._last = None
        return self.scorer.design_features(None), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        design = gym_decode(self.space, np.asarray(action).reshape(-1))
        self._last = self.scorer.score([design])[0]
        self._t += 1
        obs = self.scorer.design_features(self._last)
        return obs, self._last.reward, False, self._t >= self.horizon, dict(self._last.info)

    def render(self) -> str | None:
        if self.render_mode == "ansi":
            return self.scorer.render_text(self._last, self._t)
        return None
