"""``qlearning``: tabular Q-learning over the sequence-of-decisions form of a space.

An episode builds one design decision by decision (:func:`~codesign.spaces.convert.sequence.to_sequence`,
``order="subsystem"``), the same MDP as :class:`~codesign.envs.layerwise.LayerwiseEnv`: reward 0
on intermediate decisions, the record's reward after the last one. Used for per-layer bit
allocation (HAQ's MDP) and for mappings (HASCO's software search, see :mod:`codesign.agents.hasco`).

State abstraction: ``s_t = (t, bucket(previous choice))`` with the previous decision's choice
index mapped to ``buckets`` equal bins of its range (HASCO/HAQ condition on the previous
action; the full prefix would make the table as large as the space). Update (Watkins, γ = 1)::

    Q(s_t, a_t) += lr · (r_{t+1} + max_a Q(s_{t+1}, a) − Q(s_t, a_t))      (r = 0 for t < T−1)

applied backwards over the episode when its record is told. Actions are ε-greedy among the
choices allowed by the constraints of the prefix (``SequenceForm.allowed``), ties broken at
random; ε decays as ``max(eps_min, eps · decay^episodes)``. Rewards are augmented-Chebyshev
scalarizations with a random simplex weight per episode (:mod:`codesign.agents.scalarize`).
Unvisited entries start at ``q_init`` (optimistic: every choice gets tried).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from codesign.agents.base import Agent
from codesign.agents.scalarize import RecordScalarizer, random_weights
from codesign.errors import ConfigError, SpaceError
from codesign.spaces.convert.sequence import SequenceForm, to_sequence
from codesign.spaces.space import Space
from codesign.types import Design, EvalRecord, Objective

State = tuple[int, int]


class TabularQ:
    """The Q-table, policy and update over one :class:`SequenceForm` (reusable by nested searches)."""

    def __init__(self, form: SequenceForm, rng: np.random.Generator, lr: float = 0.3, epsilon: float = 0.5,
                 epsilon_decay: float = 0.97, epsilon_min: float = 0.05, buckets: int = 3, q_init: float = 1.0) -> None:
        if not 0 < lr <= 1 or not 0 <= epsilon_min <= epsilon <= 1 or not 0 < epsilon_decay <= 1 or buckets < 1:
            raise ConfigError(
                f"qlearning needs 0 < lr <= 1, 0 <= epsilon_min <= epsilon <= 1, 0 < epsilon_decay <= 1 and "
                f"buckets >= 1, but got lr={lr}, epsilon={epsilon}, epsilon_min={epsilon_min}, "
                f"epsilon_decay={epsilon_decay}, buckets={buckets}"
            )
        self.form, self.rng = form, rng
        self.lr, self.epsilon, self.epsilon_decay, self.epsilon_min = lr, epsilon, epsilon_decay, epsilon_min
        self.buckets, self.q_init = int(buckets), float(q_init)
        self.q: dict[State, np.ndarray] = {}
        self.episodes = 0

    def state(self, prefix: Sequence[int]) -> State:
        t = len(prefix)
        if t == 0:
            return (0, 0)
        prev = self.form.decisions[t - 1]
        return (t, min(prefix[-1] * self.buckets // max(prev.size, 1), self.buckets - 1))

    def values(self, state: State) -> np.ndarray:
        if state not in self.q:
            self.q[state] = np.full(self.form.decisions[state[0]].size, self.q_init)
        return self.q[state]

    def episode(self, fixed: dict[int, int] | None = None) -> list[int]:
        """Choose a full index sequence ε-greedily (``fixed``: decisions pinned to an index)."""
        eps = max(self.epsilon_min, self.epsilon * self.epsilon_decay ** self.episodes)
        prefix: list[int] = []
        for t in range(len(self.form)):
            if fixed and t in fixed:
                prefix.append(fixed[t])
                continue
            allowed = self.form.allowed(prefix) or list(range(self.form.decisions[t].size))
            if self.rng.random() < eps:
                prefix.append(int(allowed[int(self.rng.integers(len(allowed)))]))
            else:
                q = self.values(self.state(prefix))[allowed]
                best = np.flatnonzero(q == q.max())
                prefix.append(int(allowed[int(best[int(self.rng.integers(len(best)))])]))
        self.episodes += 1
        return prefix

    def update(self, indices: Sequence[int], reward: float) -> None:
        """Backward Q-learning update of one finished episode with terminal ``reward``."""
        target = float(reward)
        for t in range(len(indices) - 1, -1, -1):
            q = self.values(self.state(indices[:t]))
            a = indices[t]
            q[a] += self.lr * (target - q[a])
            target = float(q.max())


class QLearningAgent(Agent):
    """Tabular Q-learning over decisions (module docstring).

    Args:
        lr: learning rate (default 0.3).
        epsilon: initial exploration rate (default 0.5).
        epsilon_decay: per-episode decay of ε (default 0.97).
        epsilon_min: floor of ε (default 0.05).
        buckets: bins of the previous choice in the state abstraction (default 3).
        q_init: initial Q value, optimistic (default 1.0, the best reward).
        order: decision order (default ``"subsystem"``).
    """

    name = "qlearning"

    def __init__(self, space: Space, objectives: Sequence[Objective | str], seed: int = 0, lr: float = 0.3,
                 epsilon: float = 0.5, epsilon_decay: float = 0.97, epsilon_min: float = 0.05, buckets: int = 3,
                 q_init: float = 1.0, order: str | Sequence[str] | None = "subsystem") -> None:
        super().__init__(space, objectives, seed)
        self.form = to_sequence(space, order)
        self.rng = np.random.default_rng([self.seed, 0x71])
        self.table = TabularQ(self.form, self.rng, lr, epsilon, epsilon_decay, epsilon_min, buckets, q_init)
        self.scalarizer = RecordScalarizer(self.objectives)
        self._pending: dict[str, list[tuple[list[int], np.ndarray]]] = {}
        self.params = {"lr": lr, "epsilon": epsilon, "epsilon_decay": epsilon_decay,
                       "epsilon_min": epsilon_min, "buckets": buckets, "q_init": q_init}

    def _ask(self, n: int) -> list[Design]:
        out = []
        for _ in range(n):
            indices = self.table.episode()
            design = self.form.decode(indices)
            if self.space.violations(design):  # late constraint broken: keep the policy's prefix, repair the rest
                try:
                    design = self.form.complete(indices[: len(indices) // 2], self.rng, max_tries=500)
                except SpaceError:
                    design = self.space.sample(self.rng)
                indices = self.form.encode(design)
            self._pending.setdefault(design.key, []).append((indices, random_weights(self.rng, len(self.objectives))))
            out.append(design)
        return out

    def _tell(self, records: list[EvalRecord]) -> None:
        for rec in records:
            self.scalarizer.observe(rec)
        for rec in records:
            pending = self._pending.get(rec.design.key)
            if pending:
                indices, weights = pending.pop(0)
            else:  # replayed history: learn from it as an off-policy episode
                try:
                    indices = self.form.encode(rec.design)
                except SpaceError:
                    continue
                weights = random_weights(self.rng, len(self.objectives))
            self.table.update(indices, self.scalarizer.reward(rec, weights))

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "seed": self.seed, **self.params}
