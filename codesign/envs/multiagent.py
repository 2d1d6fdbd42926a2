"""MultiAgentDesignEnv: a PettingZoo ParallelEnv with one agent per subsystem of the space.

As in multi-agent RL for DSE (Krishnan et al. 2022; REFERENCES.md §6): agents are named by the
subsystems of ``problem.space`` (``quant``, ``hw``, ``mapping``, ...; from
:func:`codesign.spaces.convert.subspace.split`). Each step every live agent picks the values
of its own sub-space, the parts are merged into one design, the design is evaluated once
(one call of ``evaluate``) and every agent gets the same reward.

- Action of agent ``s``: ``to_gymnasium(subspace_s)`` (``MultiDiscrete`` over its parameters).
  An agent missing from the step's actions keeps its part of the last design.
- Observation of every agent: ``Box(0, 1, (P + m + 2,), float32)`` — the design observation of
  :mod:`codesign.envs.common` (normalized indices of the *full* last design, its normalized
  objective values, feasibility) followed by the step fraction ``t / horizon``.
- Reward: :mod:`codesign.envs.reward`, shared. Episode: ``horizon`` steps, then every agent is
  truncated and ``agents`` becomes empty.

Designs that break a space constraint (within or across subsystems) are evaluated, not
repaired: the Problem reports them infeasible. ``infos[agent]``: ``metrics``, ``violations``,
``feasible``, ``design`` (the same values for every agent, in separate dicts).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
from pettingzoo import ParallelEnv

from codesign.envs.common import (
    DEFAULT_PROBLEM,
    RENDER_MODES,
    EvaluateFn,
    Scored,
    Scorer,
    check_positive_int,
    check_render_mode,
)
from codesign.errors import ConfigError
from codesign.spaces.convert.gym import gym_decode, to_gymnasium
from codesign.spaces.convert.subspace import merge_designs, split, split_design

if TYPE_CHECKING:  # pragma: no cover
    from codesign.evaluators.composite import Problem


class MultiAgentDesignEnv(ParallelEnv):
    """One agent per subsystem; all act each step on one shared design.

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

    metadata = {"name": "codesign_multiagent_v0", "render_modes": RENDER_MODES, "is_parallelizable": True}

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
        self.subspaces = split(self.space)
        self.possible_agents = list(self.subspaces)
        self.agents: list[str] = []
        self._t = 0
        self._last: Scored | None = None

    @functools.lru_cache(maxsize=None)
    def observation_space(self, agent: str) -> gym.spaces.Box:
        self._check_agent(agent)
        return gym.spaces.Box(0.0, 1.0, (self.scorer.design_obs_size + 1,), np.float32)

    @functools.lru_cache(maxsize=None)
    def action_space(self, agent: str) -> gym.spaces.MultiDiscrete:
        self._check_agent(agent)
        return to_gymnasium(self.subspaces[agent])

    def _check_agent(self, agent: str) -> None:
        if agent not in self.subspaces:
            raise ConfigError(f"agent must be one of {self.possible_agents}, but got {agent!r}")

    def _obs_vector(self) -> np.ndarray:
        """The shared observation: design observation + step fraction ``t / horizon``."""
        return np.append(self.scorer.design_features(self._last), np.float32(self._t / self.horizon)).astype(np.float32)

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
        """Start an episode; a seeded reset also clears the reward model (bounds, archive)."""
        if seed is not None:
            self.scorer.model.clear()
        self.agents = list(self.possible_agents)
        self._t = 0
        self._last = None
        return {a: self._obs_vector() for a in self.agents}, {a: {} for a in self.agents}

    def step(self, actions: Mapping[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        """All live agents act; the merged design is evaluated once; the reward is shared."""
        if not self.agents:
            raise ConfigError("step() needs live agents, but the episode has ended; call reset() first")
        unknown = sorted(set(actions) - set(self.agents))
        if unknown:
            raise ConfigError(f"actions must be for live agents {self.agents}, but got actions for {unknown}")
        previous = split_design(self.space, self._last.design if self._last else self.scorer.default_design)
        parts = {
            a: gym_decode(self.subspaces[a], np.asarray(actions[a]).reshape(-1)) if a in actions else previous[a]
            for a in self.possible_agents
        }
        self._last = self.scorer.score([merge_designs(self.space, parts)])[0]
        self._t += 1
        done = self._t >= self.horizon
        acting = list(self.agents)
        obs = {a: self._obs_vector() for a in acting}
        rewards = {a: self._last.reward for a in acting}
        terminations = {a: False for a in acting}
        truncations = {a: done for a in acting}
        infos = {a: copy.deepcopy(self._last.info) for a in acting}
        if done:
            self.agents = []
        return obs, rewards, terminations, truncations, infos

    def render(self) -> str | None:
        if self.render_mode == "ansi":
            return self.scorer.render_text(self._last, self._t)
        return None

    def close(self) -> None:
        """Nothing to release."""

    def state(self) -> np.ndarray:
        """The global state: the shared observation (every agent sees the full design)."""
        return self._obs_vector()
