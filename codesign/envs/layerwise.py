"""LayerwiseEnv: a gymnasium environment that builds a design one decision per step (HAQ-style).

The decisions are :func:`codesign.spaces.convert.sequence.to_sequence` of the problem's space
(``order=None`` space order, ``"subsystem"``, or a list of names); for a quant space that is one
step per layer per operand (``w_bits.<layer>``, ``a_bits.<layer>``).

- Action, ``action_type="discrete"``: ``Discrete(N)`` with ``N = max_t n_t``; action ``a``
  picks choice ``floor(a · n_t / N)`` of the current decision (``n_t`` choices), so every
  choice is reachable and actions are spread evenly over the choices.
- Action, ``action_type="continuous"`` (HAQ's DDPG): ``Box(0, 1, (1,), float32)``; ``a`` is
  clipped to ``[0, 1]`` and picks choice ``min(floor(a · n_t), n_t − 1)``.
- Observation: ``Box(0, 1, (17 + 2·S,), float32)``, the features of the *current* decision
  (layout in :mod:`codesign.envs.features`): HAQ's layer state (shape, MACs, sensitivity when
  the problem offers one, previous action) so one policy generalizes across layers, plus the
  per-subsystem progress of the design so far.
- Reward: 0 on intermediate steps; after the last decision the design is evaluated (one call of
  ``evaluate``) and rewarded by :mod:`codesign.envs.reward`.
- Episode: ``horizon`` designs (default 1, as in HAQ), then ``terminated=True``.

Designs that break a space constraint are evaluated, not repaired: the Problem reports them
infeasible. ``info`` on the evaluating step: ``metrics``, ``violations``, ``feasible``,
``design``; on other steps: ``decision`` (parameter name) and ``value`` (chosen value).
"""

from __future__ import annotations

import math
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
from codesign.envs.features import NUM_FIXED, PREV_ACTION, decision_features, layer_sensitivity, progress
from codesign.errors import ConfigError
from codesign.spaces.convert.sequence import Decision, to_sequence

if TYPE_CHECKING:  # pragma: no cover
    from codesign.evaluators.composite import Problem

ACTION_TYPES = ("discrete", "continuous")


class LayerwiseEnv(gym.Env):
    """One decision per step over the sequence form of the problem's space.

    Args:
        problem: a Problem or a registered problem name (default ``"digits-accel"``).
        evaluate: ``list[Design] -> list[Metrics]``; default ``problem.evaluate_many``.
        order: decision order (``None``, ``"subsystem"`` or a list of every parameter name).
        action_type: ``"discrete"`` or ``"continuous"`` (see the module docstring).
        reward: ``"scalarized"``, ``"hypervolume"`` or ``"front"`` (see :mod:`codesign.envs.reward`).
        weights: scalarization weights by objective name or in objective order.
        horizon: designs per episode.
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
        order: str | Sequence[str] | None = None,
        action_type: str = "discrete",
        reward: str = "scalarized",
        weights: Mapping[str, float] | Sequence[float] | None = None,
        horizon: int = 1,
        infeasible_penalty: float = 1.0,
        bounds: Mapping[str, Sequence[float]] | str | None = None,
        render_mode: str | None = None,
    ) -> None:
        if action_type not in ACTION_TYPES:
            raise ConfigError(f"action_type must be one of {ACTION_TYPES}, but got {action_type!r}")
        self.scorer = Scorer(problem, evaluate, reward, weights, infeasible_penalty, bounds)
        self.problem = self.scorer.problem
        self.space = self.scorer.space
        self.form = to_sequence(self.space, order)
        self.action_type = action_type
        self.horizon = check_positive_int(horizon, "horizon")
        self.render_mode = check_render_mode(render_mode)
        self.max_choices = self.form.max_choices
        if action_type == "discrete":
            self.action_space: gym.spaces.Space = gym.spaces.Discrete(self.max_choices)
        else:
            self.action_space = gym.spaces.Box(0.0, 1.0, (1,), np.float32)
        self._features = decision_features(self.form, getattr(self.problem, "workload", None),
                                           layer_sensitivity(self.problem))
        self._progress = slice(NUM_FIXED + len(self.space.subsystems), None)
        self.observation_space = gym.spaces.Box(0.0, 1.0, (self._features.shape[1],), np.float32)
        self._prefix: list[int] = []
        self._prev = 0.0
        self._designs = 0
        self._last: Scored | None = None

    @property
    def decisions(self) -> tuple[Decision, ...]:
        return self.form.decisions

    def choice_index(self, action: Any, decision: Decision) -> int:
        """The choice of ``decision`` that ``action`` picks (mapping of the module docstring)."""
        a = np.asarray(action, dtype=np.float64).reshape(-1)
        if a.size != 1 or not np.isfinite(a[0]):
            raise ConfigError(f"action must be one finite number, but got {action!r}")
        n = decision.size
        if self.action_type == "discrete":
            if not 0 <= a[0] < self.max_choices or a[0] != int(a[0]):
                raise ConfigError(f"discrete action must be an integer in [0, {self.max_choices - 1}], but got {action!r}")
            return int(a[0]) * n // self.max_choices
        return min(math.floor(float(np.clip(a[0], 0.0, 1.0)) * n), n - 1)

    def _obs(self) -> np.ndarray:
        obs = self._features[len(self._prefix)].copy()
        obs[PREV_ACTION] = self._prev
        obs[self._progress] = progress(self.form, self._prefix)
        return obs

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode; a seeded reset also clears the reward model (bounds, archive)."""
        super().reset(seed=seed)
        if seed is not None:
            self.scorer.model.clear()
        self._prefix, self._prev, self._designs, self._last = [], 0.0, 0, None
        return self._obs(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        decision = self.form.decisions[len(self._prefix)]
        index = self.choice_index(action, decision)
        self._prefix.append(index)
        self._prev = index / max(decision.size - 1, 1)
        if len(self._prefix) < len(self.form):
            return self._obs(), 0.0, False, False, {"decision": decision.name, "value": decision.choices[index]}
        self._last = self.scorer.score([self.form.decode(self._prefix)])[0]
        self._prefix = []
        self._designs += 1
        return self._obs(), self._last.reward, self._designs >= self.horizon, False, dict(self._last.info)

    def render(self) -> str | None:
        if self.render_mode == "ansi":
            return self.scorer.render_text(self._last, self._designs)
        return None
