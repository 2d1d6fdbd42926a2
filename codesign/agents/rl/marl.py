"""``marl``: multi-agent RL on :class:`~codesign.envs.multiagent.MultiAgentDesignEnv` (PettingZoo).

One learner per subsystem (``quant``, ``hw``, ``mapping``, ...), all acting every step on one
shared design and receiving the same (scalarized) reward, as in Krishnan et al. 2022
(REFERENCES.md §6). Learners are *independent* and factored: agent ``s`` keeps one value
vector per parameter of its sub-space, ``Q_s,p[choice]`` (state abstraction: none — the
reward of a step depends only on the joint action, so each parameter is a bandit arm set),
picks each parameter ε-greedily (ties at random, choices that break a constraint of the
sub-space resampled) and updates ``Q += lr · (r − Q)`` for its chosen choices. ε decays per
step as ``max(eps_min, eps · decay^t)``. Unvisited choices start at ``q_init`` (optimistic).

Not implemented: a centralized-critic variant (MADDPG/MAPPO style); the env exposes
``state()`` for one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from codesign.agents.rl.loop import EvaluateFn, LoopAgent
from codesign.errors import ConfigError
from codesign.spaces.space import Space
from codesign.types import Objective


class _FactoredQ:
    """Independent per-parameter value vectors of one subsystem agent."""

    def __init__(self, space: Space, rng: np.random.Generator, q_init: float) -> None:
        self.space, self.rng = space, rng
        self.q = [np.full(p.size, q_init) for p in space.params]

    def act(self, eps: float) -> np.ndarray:
        for _ in range(20):
            action = np.array([self._pick(q, eps) for q in self.q], dtype=np.int64)
            if not self.space.constraints or not self.space.violations(self.space.from_indices(action.tolist())):
                return action
            eps = 1.0  # resample at random until the sub-space constraints hold
        return np.array(self.space.to_indices(self.space.sample(self.rng)), dtype=np.int64)

    def _pick(self, q: np.ndarray, eps: float) -> int:
        if self.rng.random() < eps:
            return int(self.rng.integers(q.size))
        best = np.flatnonzero(q == q.max())
        return int(best[int(self.rng.integers(best.size))])

    def update(self, action: np.ndarray, reward: float, lr: float) -> None:
        for q, a in zip(self.q, action):
            q[a] += lr * (reward - q[a])


class MARLAgent(LoopAgent):
    """Independent factored Q-learners, one per subsystem (module docstring).

    Args:
        problem: the Problem (passed by the runner).
        lr: learning rate (default 0.2).
        epsilon: initial exploration rate (default 0.6).
        epsilon_decay: per-step decay (default 0.97).
        epsilon_min: floor of ε (default 0.05).
        q_init: initial values (default 1.0, optimistic).
        horizon: env steps per episode (default 16).
    """

    name = "marl"

    def __init__(self, space: Space, objectives: Sequence[Objective | str], seed: int = 0, problem: Any = None,
                 lr: float = 0.2, epsilon: float = 0.6, epsilon_decay: float = 0.97, epsilon_min: float = 0.05,
                 q_init: float = 1.0, horizon: int = 16) -> None:
        super().__init__(space, objectives, seed, problem)
        if not 0 < lr <= 1 or not 0 <= epsilon_min <= epsilon <= 1 or not 0 < epsilon_decay <= 1:
            raise ConfigError(f"marl needs 0 < lr <= 1 and 0 <= epsilon_min <= epsilon <= 1, 0 < epsilon_decay <= 1, "
                              f"but got {lr}, {epsilon_min}, {epsilon}, {epsilon_decay}")
        self.params = {"lr": lr, "epsilon": epsilon, "epsilon_decay": epsilon_decay, "epsilon_min": epsilon_min,
                       "q_init": q_init, "horizon": horizon}

    def _learn(self, evaluate: EvaluateFn) -> None:
        from codesign.envs.multiagent import MultiAgentDesignEnv

        p = self.params
        env = MultiAgentDesignEnv(self.problem, evaluate=evaluate, horizon=p["horizon"])
        rng = np.random.default_rng([self.seed, 0x3A])
        learners = {a: _FactoredQ(env.subspaces[a], rng, p["q_init"]) for a in env.possible_agents}
        env.reset(seed=self.seed)
        t = 0
        while True:
            eps = max(p["epsilon_min"], p["epsilon"] * p["epsilon_decay"] ** t)
            actions = {a: learners[a].act(eps) for a in env.agents}
            _, rewards, _, _, _ = env.step(actions)
            for a, action in actions.items():
                learners[a].update(action, float(rewards[a]), p["lr"])
            t += 1
            if not env.agents:
                env.reset()

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "seed": self.seed, **self.params}
