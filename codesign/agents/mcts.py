"""``mcts``: multi-objective Monte Carlo tree search over the sequence-of-decisions form of a space.

A node is a *prefix* of choice indices of :func:`codesign.spaces.convert.sequence.to_sequence`
(``order="subsystem"``: quantization, then hardware, then mapping decisions). One ``ask`` per
design runs one MCTS iteration:

1. **select** from the root: while the node is fully widened, go to the child maximizing
   ``UCT = Q̄ + c · sqrt(ln N_parent / N)`` (``Q̄``: the child's mean reward rescaled to [0, 1]
   by the smallest and largest mean seen, so ``c`` does not depend on the reward's scale;
   ``N``: visits incl. pending);
2. **expand** with *progressive widening*: a node may have at most ``ceil(k · N^α)`` children,
   the next child being the untried choice the rollout policy prefers, so decisions with many
   choices are not enumerated at once;
3. **rollout**: complete the new prefix with the MAST policy (Move-Average Sampling Technique,
   Finnsson & Björnsson, AAAI 2008; ε-greedy form of Tak, Winands & Björnsson, IEEE TCIAIG
   2012): every (decision, choice) pair keeps the mean reward of the designs that made it,
   across the whole tree; each remaining decision takes the best-mean allowed choice with
   probability ``1 − ε`` (untried choices first) and a uniform one with probability ``ε``.
   Constraints: rollouts redraw until the design is valid, avoiding designs already asked;
4. **backpropagate** on ``tell``: the record's reward is added along the path and to the MAST
   statistics of all its decisions.

Multi-objective signal (REFERENCES.md §9, Wang & Sebag, ACML 2012 "Multi-objective Monte-Carlo
tree search"): the reward of a design is its *front reward* against the archive of designs told
so far (:class:`codesign.agents.scalarize.FrontSignal`): the hypervolume improvement it brings
(as the side of the equal-volume cube) if the archive does not dominate it, else minus its
distance to the front; objectives are normalized by the problem's fixed bounds
(``problem.objective_bounds()``) so the reference point does not move under the agent. Node
values then estimate how much a subtree adds to the current front, wherever on the front that
is; a point found twice earns nothing the second time.

Pending designs get a *virtual loss* (visit counted with reward 0 / the node's current mean) so a
batch ``ask(n)`` spreads over the tree. Records never asked (a resumed run's history) update the
archive and are backpropagated along their own path where it is in the tree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from codesign.agents.base import Agent
from codesign.agents.scalarize import FrontSignal
from codesign.errors import ConfigError, SpaceError
from codesign.spaces.convert.sequence import to_sequence
from codesign.spaces.space import Space
from codesign.types import Design, EvalRecord, Objective


@dataclass
class _Node:
    prefix: tuple[int, ...]
    children: dict[int, _Node] = field(default_factory=dict)
    visits: float = 0.0  # told + pending
    told: float = 0.0
    value: float = 0.0  # summed reward of told designs
    untried: list[int] | None = None

    @property
    def mean(self) -> float | None:
        return self.value / self.told if self.told else None


class MCTSAgent(Agent):
    """Multi-objective UCT with progressive widening and MAST rollouts (module docstring).

    Args:
        problem: the Problem (the runner passes it); its fixed normalization scales the front
            reward (without one, running min / max bounds).
        exploration: UCT constant ``c`` on rewards rescaled to [0, 1] (default 0.5).
        widening_k: progressive-widening coefficient ``k`` (default 1.0).
        widening_alpha: progressive-widening exponent ``α`` in (0, 1] (default 0.5).
        rollout_epsilon: ε of the ε-greedy MAST rollout policy (default 0.5; 1 = uniform rollouts).
        order: decision order of the sequence form (default ``"subsystem"``).
    """

    name = "mcts"

    def __init__(self, space: Space, objectives: Sequence[Objective | str], seed: int = 0, problem: Any = None,
                 exploration: float = 0.5, widening_k: float = 1.0, widening_alpha: float = 0.5,
                 rollout_epsilon: float = 0.5, order: str | Sequence[str] | None = "subsystem") -> None:
        super().__init__(space, objectives, seed)
        if not exploration >= 0 or not widening_k > 0 or not 0 < widening_alpha <= 1 or not 0 <= rollout_epsilon <= 1:
            raise ConfigError(
                f"mcts needs exploration >= 0, widening_k > 0, 0 < widening_alpha <= 1, 0 <= rollout_epsilon <= 1, "
                f"but got {exploration}, {widening_k}, {widening_alpha}, {rollout_epsilon}"
            )
        self.exploration, self.widening_k, self.widening_alpha = float(exploration), float(widening_k), float(widening_alpha)
        self.rollout_epsilon = float(rollout_epsilon)
        self.form = to_sequence(space, order)
        self.rng = np.random.default_rng([self.seed, 0x6D637473])
        self.root = _Node(())
        self.signal = FrontSignal(self.objectives, problem)
        self.mast_sum = [np.zeros(d.size) for d in self.form.decisions]
        self.mast_n = [np.zeros(d.size) for d in self.form.decisions]
        self._lo, self._hi = math.inf, -math.inf  # range of node means (UCT rescaling)
        self._pending: dict[str, list[list[_Node]]] = {}
        self._seen: set[str] = set()
        self.iterations = 0

    # --- rollout policy (MAST) ----------------------------------------------------------
    def _prefer(self, t: int, allowed: Sequence[int]) -> int:
        """ε-greedy MAST choice among ``allowed`` for decision ``t`` (untried choices first)."""
        allowed = list(allowed)
        if self.rng.random() < self.rollout_epsilon:
            return int(allowed[int(self.rng.integers(len(allowed)))])
        n, s = self.mast_n[t][allowed], self.mast_sum[t][allowed]
        score = np.where(n > 0, s / np.maximum(n, 1.0), np.inf)
        best = np.flatnonzero(score == score.max())
        return int(allowed[int(best[int(self.rng.integers(len(best)))])])

    def _rollout(self, prefix: tuple[int, ...]) -> Design:
        design = None
        for attempt in range(16):  # prefer a valid design not asked before
            idx = list(prefix)
            while len(idx) < len(self.form):
                allowed = self.form.allowed(idx) or list(range(self.form.decisions[len(idx)].size))
                idx.append(self._prefer(len(idx), allowed))
            design = self.form.decode(idx)
            if not self.space.violations(design) and design.key not in self._seen:
                return design
        try:  # the policy keeps proposing seen / invalid designs: a uniform valid completion
            return self.form.complete(prefix, self.rng, max_tries=500)
        except SpaceError:
            return self.space.sample(self.rng)

    # --- tree policy -------------------------------------------------------------------
    def _allowed(self, node: _Node) -> list[int]:
        if node.untried is None:
            node.untried = self.form.allowed(node.prefix)
        return node.untried

    def _can_widen(self, node: _Node) -> bool:
        limit = math.ceil(self.widening_k * max(node.visits, 1.0) ** self.widening_alpha)
        return bool(self._allowed(node)) and len(node.children) < limit

    def _uct(self, child: _Node, log_n: float) -> float:
        if not child.visits:
            return math.inf
        mean = child.mean
        span = self._hi - self._lo
        q = 0.5 if mean is None or not span > 0 else (mean - self._lo) / span
        q *= child.told / child.visits  # pending visits count as losses (virtual loss)
        return q + self.exploration * math.sqrt(log_n / child.visits)

    def _select(self) -> list[_Node]:
        node, path = self.root, [self.root]
        while len(node.prefix) < len(self.form):
            if self._can_widen(node) or not node.children:
                untried = self._allowed(node)
                if not untried:  # dead end: no choice keeps the constraints
                    break
                choice = self._prefer(len(node.prefix), untried)
                untried.remove(choice)
                child = _Node(node.prefix + (choice,))
                node.children[choice] = child
                path.append(child)
                break
            log_n = math.log(max(node.visits, 1.0))
            node = max(node.children.values(), key=lambda ch: self._uct(ch, log_n))
            path.append(node)
        return path

    def _ask(self, n: int) -> list[Design]:
        out = []
        for _ in range(n):
            path = self._select()
            design = self._rollout(path[-1].prefix)
            for node in path:  # virtual loss
                node.visits += 1.0
            self._seen.add(design.key)
            self._pending.setdefault(design.key, []).append(path)
            out.append(design)
            self.iterations += 1
        return out

    def _tell(self, records: list[EvalRecord]) -> None:
        for rec in records:
            self._seen.add(rec.design.key)
            pending = self._pending.get(rec.design.key)
            if pending:
                path, visit = pending.pop(0), 0.0  # already counted by the virtual loss
            else:
                path, visit = self._path_of(rec.design), 1.0
            reward = self.signal.reward(rec)
            for node in path:
                node.visits += visit
                node.told += 1.0
                node.value += reward
                if node is not self.root:
                    self._lo, self._hi = min(self._lo, node.mean), max(self._hi, node.mean)  # type: ignore[arg-type]
            try:
                indices = self.form.encode(rec.design)
            except SpaceError:
                continue
            for t, i in enumerate(indices):
                self.mast_sum[t][i] += reward
                self.mast_n[t][i] += 1.0

    def _path_of(self, design: Design) -> list[_Node]:
        try:
            indices = self.form.encode(design)
        except SpaceError:
            return []
        node, path = self.root, [self.root]
        for i in indices:
            if i not in node.children:
                break
            node = node.children[i]
            path.append(node)
        return path

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "seed": self.seed, "exploration": self.exploration,
                "widening_k": self.widening_k, "widening_alpha": self.widening_alpha,
                "rollout_epsilon": self.rollout_epsilon, "iterations": self.iterations,
                "fixed_normalization": self.signal.fixed}
