"""``qlearning``: Q(λ)-learning over the sequence-of-decisions form of a space.

An episode builds one design decision by decision (:func:`~codesign.spaces.convert.sequence.to_sequence`,
``order="subsystem"``), the same MDP as :class:`~codesign.envs.layerwise.LayerwiseEnv`: reward 0
on intermediate decisions, the record's reward after the last one.

Multi-objective signal (REFERENCES.md §9): the *front reward* of the design against every design
told so far (:class:`codesign.agents.scalarize.FrontSignal`; Wang & Sebag, ACML 2012): the
hypervolume it adds to the current front (as the side of the equal-volume cube) if the front
does not dominate it, else minus its distance to the front; objectives normalized by the
problem's fixed bounds (``problem.objective_bounds()``), so the reference point does not move.
It pays for progress anywhere on the front, and nothing for finding a point twice.

State and values: the value of decision ``t`` depends on the choices before it; the state keeps
the decision index and the previous decision's normalized choice ``p`` (HAQ/HASCO condition on
the previous action), with values linear in ``φ(s_t) = [1, p]`` per (decision, choice) (and,
with ``reward="chebyshev"``, the episode's weights, below)::

    Q(s_t, a) = θ_{t,a} · φ(s_t)
    θ_{t,a_t} += lr · (G_t − Q(s_t, a_t)) · φ(s_t) / ‖φ(s_t)‖²          (normalized LMS)
    G_{T−1} = r,   G_{t−1} = (1 − λ) · max_a Q(s_t, a) + λ · G_t         (Peng & Williams 1996, γ = 1)

applied backwards over the episode when its record is told. λ = 1 by default (Monte-Carlo
targets): the front reward is not stationary — early designs improve a small front a lot, later
ones little — and a one-step max backup (λ = 0) keeps propagating the stale maxima of early
episodes; measured on ``digits-accel`` (200 evaluations, 5 seeds), normalized HV 0.303 with
λ = 1 against 0.279 with λ = 0.5 and 0.270 for random. Actions are ε-greedy among the choices
allowed by the constraints of the prefix (``SequenceForm.allowed``), ties broken at random; ε
decays as ``max(eps_min, eps · decay^episodes)`` and stays at ``eps_min`` = 0.3 (the front keeps
moving, so exploration never ends). A design already asked is redrawn with more exploration (up
to ``REDRAWS`` times; budget spent on duplicates teaches nothing).

``reward="chebyshev"``: the weight-conditioned alternative — every episode draws weights ``w``
uniformly on the simplex and is rewarded by its augmented-Chebyshev utility under ``w``
(ParEGO, Knowles 2006) on the fixed normalization, a stationary reward whose value depends on
``w``, so ``w`` joins the features, ``φ = [1, w_1..w_m, p]`` (weight-conditioned multi-objective
RL: Abels et al., ICML 2019; Yang et al., NeurIPS 2019). Measured weaker here (0.262 on
``digits-accel``): greedy Chebyshev optima of random weights cluster on few designs.

:class:`TabularQ` (the previous tabular form, ``s_t = (t, bucket(previous choice))``) is kept
for nested searches (HASCO's inner mapping search).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from codesign.agents.base import Agent
from codesign.agents.scalarize import FrontSignal, RecordScalarizer, random_weights
from codesign.errors import ConfigError, SpaceError
from codesign.spaces.convert.sequence import SequenceForm, to_sequence
from codesign.spaces.space import Space
from codesign.types import Design, EvalRecord, Objective

State = tuple[int, int]
REDRAWS = 8


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


class LinearQ:
    """Linear Q-values over one :class:`SequenceForm` with ``m`` weight features (0 without
    weights) and the Q(λ) update (module docstring)."""

    def __init__(self, form: SequenceForm, m: int, rng: np.random.Generator, lr: float, epsilon: float,
                 epsilon_decay: float, epsilon_min: float, q_init: float, lam: float) -> None:
        self.form, self.m, self.rng, self.lam = form, int(m), rng, float(lam)
        self.lr, self.epsilon, self.epsilon_decay, self.epsilon_min = lr, epsilon, epsilon_decay, epsilon_min
        self.theta = [np.zeros((d.size, self.m + 2)) for d in form.decisions]
        for th in self.theta:
            th[:, 0] = q_init
        self.episodes = 0

    @property
    def current_epsilon(self) -> float:
        return max(self.epsilon_min, self.epsilon * self.epsilon_decay ** self.episodes)

    def features(self, w: np.ndarray, prefix: Sequence[int]) -> np.ndarray:
        t = len(prefix)
        p = prefix[-1] / max(self.form.decisions[t - 1].size - 1, 1) if t else 0.0
        return np.concatenate([[1.0], w, [p]])

    def episode(self, w: np.ndarray, epsilon: float | None = None) -> list[int]:
        """ε-greedy index sequence for weights ``w`` (``epsilon``: a redraw's ε, not counted)."""
        eps = self.current_epsilon if epsilon is None else float(epsilon)
        prefix: list[int] = []
        for t in range(len(self.form)):
            allowed = self.form.allowed(prefix) or list(range(self.form.decisions[t].size))
            if self.rng.random() < eps:
                prefix.append(int(allowed[int(self.rng.integers(len(allowed)))]))
                continue
            q = self.theta[t][allowed] @ self.features(w, prefix)
            best = np.flatnonzero(q >= q.max() - 1e-12)
            prefix.append(int(allowed[int(best[int(self.rng.integers(len(best)))])]))
        if epsilon is None:
            self.episodes += 1
        return prefix

    def update(self, w: np.ndarray, indices: Sequence[int], reward: float) -> None:
        """Backward Q(λ) update of one finished episode with terminal ``reward``."""
        target = float(reward)
        for t in range(len(indices) - 1, -1, -1):
            phi = self.features(w, indices[:t])
            a = indices[t]
            self.theta[t][a] += self.lr * (target - float(self.theta[t][a] @ phi)) * phi / float(phi @ phi)
            target = (1.0 - self.lam) * float(np.max(self.theta[t] @ phi)) + self.lam * target


class QLearningAgent(Agent):
    """Q(λ)-learning over decisions with the front reward (module docstring).

    Args:
        problem: the Problem (the runner passes it); its fixed normalization scales the reward
            (without one, running min / max bounds).
        lr: learning rate of the normalized LMS step (default 0.3).
        epsilon: initial exploration rate (default 0.5).
        epsilon_decay: per-episode decay of ε (default 0.98).
        epsilon_min: floor of ε (default 0.3).
        q_init: initial value of every choice (default 0: the reward of a design on the front
            that adds nothing).
        lam: λ of the Q(λ) targets (default 1.0).
        reward: ``"front"`` (default) or ``"chebyshev"`` (weight-conditioned).
        order: decision order (default ``"subsystem"``).
    """

    name = "qlearning"

    def __init__(self, space: Space, objectives: Sequence[Objective | str], seed: int = 0, problem: Any = None,
                 lr: float = 0.3, epsilon: float = 0.5, epsilon_decay: float = 0.98, epsilon_min: float = 0.3,
                 q_init: float = 0.0, lam: float = 1.0, reward: str = "front",
                 order: str | Sequence[str] | None = "subsystem") -> None:
        super().__init__(space, objectives, seed)
        if not 0 < lr <= 1 or not 0 <= epsilon_min <= epsilon <= 1 or not 0 < epsilon_decay <= 1 or not 0 <= lam <= 1:
            raise ConfigError(f"qlearning needs 0 < lr <= 1, 0 <= epsilon_min <= epsilon <= 1, 0 < epsilon_decay <= 1 "
                              f"and 0 <= lam <= 1, but got lr={lr}, epsilon={epsilon}, epsilon_min={epsilon_min}, "
                              f"epsilon_decay={epsilon_decay}, lam={lam}")
        if reward not in ("front", "chebyshev"):
            raise ConfigError(f"reward must be 'front' or 'chebyshev', but got {reward!r}")
        self.form = to_sequence(space, order)
        self.rng = np.random.default_rng([self.seed, 0x71])
        self.reward_kind = reward
        m = len(self.objectives) if reward == "chebyshev" else 0
        self.q = LinearQ(self.form, m, self.rng, lr, epsilon, epsilon_decay, epsilon_min, q_init, lam)
        self.front = FrontSignal(self.objectives, problem)
        self.scalarizer = RecordScalarizer(self.objectives, problem)
        self._pending: dict[str, list[tuple[list[int], np.ndarray]]] = {}
        self._seen: set[str] = set()
        self.redraws = 0
        self.updates = 0
        self.params = {"lr": lr, "epsilon": epsilon, "epsilon_decay": epsilon_decay, "epsilon_min": epsilon_min,
                       "q_init": q_init, "lam": lam, "reward": reward}

    def _ask(self, n: int) -> list[Design]:
        out = []
        for _ in range(n):
            w = self._weights()
            indices = self.q.episode(w)
            design = self.form.decode(indices)
            eps = self.q.current_epsilon
            for k in range(1, REDRAWS + 1):  # a design already asked: redraw with more exploration
                if design.key not in self._seen:
                    break
                self.redraws += 1
                indices = self.q.episode(w, epsilon=eps + (1.0 - eps) * k / REDRAWS)
                design = self.form.decode(indices)
            if self.space.violations(design):  # late constraint broken: keep the policy's prefix, repair the rest
                try:
                    design = self.form.complete(indices[: len(indices) // 2], self.rng, max_tries=500)
                except SpaceError:
                    design = self.space.sample(self.rng)
                indices = self.form.encode(design)
            self._pending.setdefault(design.key, []).append((indices, w))
            self._seen.add(design.key)
            out.append(design)
        return out

    def _tell(self, records: list[EvalRecord]) -> None:
        for rec in records:
            self.scalarizer.observe(rec)
        for rec in records:
            self._seen.add(rec.design.key)
            pending = self._pending.get(rec.design.key)
            if pending:
                indices, w = pending.pop(0)
            else:  # replayed history: learn from it as an off-policy episode
                try:
                    indices = self.form.encode(rec.design)
                except SpaceError:
                    continue
                w = self._weights()
            reward = self.front.reward(rec) if self.reward_kind == "front" else self.scalarizer.reward(rec, w)
            self.q.update(w, indices, reward)
            self.updates += 1

    def _weights(self) -> np.ndarray:
        if self.reward_kind == "front":
            return np.zeros(0)
        return random_weights(self.rng, len(self.objectives))

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "seed": self.seed, **self.params, "updates": self.updates,
                "redraws": self.redraws, "fixed_normalization": self.front.fixed}
