"""Multi-agent RL on :class:`~codesign.envs.multiagent.MultiAgentDesignEnv` (PettingZoo).

One agent per subsystem (``quant``, ``hw``, ``mapping``, ...): every step each agent picks the
values of its own sub-space (decentralized execution), the parts make one design, the design is
evaluated once and every agent receives the same reward — the cooperative setting of Krishnan
et al. 2022 (REFERENCES.md §6).

Reward: the env's ``"front"`` reward (:mod:`codesign.envs.reward`; Wang & Sebag, ACML 2012) on the
problem's fixed normalization (``bounds="problem"``): the hypervolume a design adds to the front
of everything evaluated so far, or minus its distance to that front. A step's reward depends on
the joint action of that step only (and on the front), so each agent's action value is a
function of its own action: ``Q_s(a_s) = b_s + Σ_{p ∈ s} q_{s,p}[a_p]`` (factored over the
agent's parameters, one value per choice). Agents act ε-greedily on their own ``Q_s`` (ties at
random; choices that break a constraint of the sub-space are redrawn); ε decays per step as
``max(eps_min, eps · decay^t)``; a joint action that repeats an evaluated design is redrawn with
more exploration (up to ``REDRAWS`` times).

- ``marl`` — **centralized training, decentralized execution by value decomposition** (VDN,
  Sunehag et al., AAMAS 2018; REFERENCES.md §9): the team value is the sum of the agents'
  values, ``Q_tot(a) = Σ_s Q_s(a_s)``, and training regresses *the sum* on the shared reward,
  ``δ = r − Q_tot(a)``, every agent's chosen entries moving by ``lr · δ / K`` (``K`` = number of
  entries in the sum, so ``Q_tot`` moves by ``lr · δ``: normalized LMS). Each agent's values thus
  learn its *contribution* to the team reward, and the greedy joint action is the argmax of
  ``Q_tot`` taken agent by agent.
- ``marl-independent`` — the baseline VDN is measured against: independent learners, each
  regressing its own ``Q_s`` on the shared reward (``δ_s = r − Q_s(a_s)``), so an agent credits
  itself with the whole team reward, whatever the others did.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from codesign.agents.rl.loop import EvaluateFn, LoopAgent
from codesign.errors import ConfigError
from codesign.spaces.space import Space
from codesign.types import Objective

REDRAWS = 8


class _FactoredQ:
    """The factored values ``Q_s`` of one subsystem agent and its ε-greedy policy."""

    def __init__(self, space: Space, rng: np.random.Generator, q_init: float) -> None:
        self.space, self.rng = space, rng
        self.bias = 0.0
        self.q = [np.full(p.size, q_init) for p in space.params]

    @property
    def entries(self) -> int:
        return len(self.q) + 1

    def value(self, action: np.ndarray) -> float:
        return self.bias + float(sum(q[a] for q, a in zip(self.q, action)))

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
        best = np.flatnonzero(q >= q.max() - 1e-12)
        return int(best[int(self.rng.integers(best.size))])

    def step(self, action: np.ndarray, delta: float) -> None:
        """Move every chosen entry (and the bias) by ``delta``."""
        self.bias += delta
        for q, a in zip(self.q, action):
            q[a] += delta


class MARLAgent(LoopAgent):
    """One agent per subsystem, value decomposition (VDN) on the shared front reward (module docstring).

    Args:
        problem: the Problem (passed by the runner).
        lr: learning rate of the normalized LMS step (default 0.3).
        epsilon: initial exploration rate (default 0.5).
        epsilon_decay: per-step decay (default 0.98).
        epsilon_min: floor of ε (default 0.3; the front keeps moving, so exploration never ends).
        q_init: initial values (default 0: a design on the front that adds nothing).
        horizon: env steps per episode (default 16).
    """

    name = "marl"
    decomposed = True

    def __init__(self, space: Space, objectives: Sequence[Objective | str], seed: int = 0, problem: Any = None,
                 lr: float = 0.3, epsilon: float = 0.5, epsilon_decay: float = 0.98, epsilon_min: float = 0.3,
                 q_init: float = 0.0, horizon: int = 16) -> None:
        super().__init__(space, objectives, seed, problem)
        if not 0 < lr <= 1 or not 0 <= epsilon_min <= epsilon <= 1 or not 0 < epsilon_decay <= 1:
            raise ConfigError(f"{self.name} needs 0 < lr <= 1 and 0 <= epsilon_min <= epsilon <= 1, 0 < epsilon_decay "
                              f"<= 1, but got {lr}, {epsilon_min}, {epsilon}, {epsilon_decay}")
        self.params = {"lr": lr, "epsilon": epsilon, "epsilon_decay": epsilon_decay, "epsilon_min": epsilon_min,
                       "q_init": q_init, "horizon": horizon}
        self.steps = self.updates = self.redraws = 0

    def _train(self, learners: dict[str, _FactoredQ], actions: dict[str, np.ndarray], reward: float) -> None:
        lr = self.params["lr"]
        if self.decomposed:  # VDN: regress the sum of the agents' values on the team reward
            total = sum(learners[a].value(act) for a, act in actions.items())
            k = sum(learners[a].entries for a in actions)
            for a, act in actions.items():
                learners[a].step(act, lr * (reward - total) / k)
        else:  # independent: every agent regresses its own value on the team reward
            for a, act in actions.items():
                learners[a].step(act, lr * (reward - learners[a].value(act)) / learners[a].entries)
        self.updates += 1

    def _learn(self, evaluate: EvaluateFn) -> None:
        from codesign.envs.multiagent import MultiAgentDesignEnv
        from codesign.spaces.convert.gym import gym_decode
        from codesign.spaces.convert.subspace import merge_designs

        p = self.params
        env = MultiAgentDesignEnv(self.problem, evaluate=evaluate, horizon=p["horizon"], reward="front",
                                  bounds="problem")
        rng = np.random.default_rng([self.seed, 0x3A])
        learners = {a: _FactoredQ(env.subspaces[a], rng, p["q_init"]) for a in env.possible_agents}
        seen: set[str] = set()
        env.reset(seed=self.seed)
        while True:
            eps = max(p["epsilon_min"], p["epsilon"] * p["epsilon_decay"] ** self.steps)
            for k in range(REDRAWS + 1):  # a joint action repeating an evaluated design: explore more
                e = eps + (1.0 - eps) * k / REDRAWS
                actions = {a: learners[a].act(e) for a in env.agents}
                key = merge_designs(self.space, {a: gym_decode(env.subspaces[a], actions[a]) for a in actions}).key
                if key not in seen:
                    break
                self.redraws += 1
            seen.add(key)
            _, rewards, _, _, _ = env.step(actions)
            self._train(learners, actions, float(next(iter(rewards.values()))))
            self.steps += 1
            if not env.agents:
                env.reset()

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "seed": self.seed, **self.params, "steps": self.steps, "updates": self.updates,
                "redraws": self.redraws, "repeats_answered": self.repeats_answered}


class IndependentMARLAgent(MARLAgent):
    """The baseline: independent learners, one per subsystem, on the same env and reward."""

    name = "marl-independent"
    decomposed = False
