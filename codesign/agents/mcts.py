"""``mcts``: Monte Carlo tree search (UCT) over the sequence-of-decisions form of a space.

A node is a *prefix* of choice indices of :func:`codesign.spaces.convert.sequence.to_sequence`
(``order="subsystem"``: quantization, then hardware, then mapping decisions). One ``ask`` per
design runs one MCTS iteration:

1. **select** from the root: while the node is fully widened, go to the child maximizing
   ``UCT = Q/N + c · sqrt(ln N_parent / N)`` (``Q``: summed reward, ``N``: visits incl. pending);
2. **expand** with *progressive widening*: a node may have at most ``ceil(k · N^α)`` children,
   new children drawn at random among the choices that keep the prefix's constraints
   (``SequenceForm.allowed``), so decisions with many choices are not enumerated at once;
3. **rollout**: complete the new prefix uniformly at random (``SequenceForm.complete``), avoiding
   designs already asked when possible;
4. **backpropagate** on ``tell``: the reward of the record is added along the path.

Pending designs get a *virtual loss* (visit counted with reward 0) so a batch ``ask(n)`` spreads
over the tree. Multi-objective: scalarized per iteration with augmented Chebyshev on running-
normalized objectives and a random simplex weight (:mod:`codesign.agents.scalarize`), so node
values estimate the R2 utility of the subtree. Records never asked (a resumed run's history)
update the normalization and are backpropagated along their own path when it is in the tree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from codesign.agents.base import Agent
from codesign.agents.scalarize import RecordScalarizer, random_weights
from codesign.errors import ConfigError, SpaceError
from codesign.spaces.convert.sequence import to_sequence
from codesign.spaces.space import Space
from codesign.types import Design, EvalRecord, Objective


@dataclass
class _Node:
    prefix: tuple[int, ...]
    children: dict[int, _Node] = field(default_factory=dict)
    visits: float = 0.0
    value: float = 0.0
    untried: list[int] | None = None


class MCTSAgent(Agent):
    """UCT with progressive widening and random-completion rollouts.

    Args:
        exploration: UCT constant ``c`` (default 0.7; rewards lie in [-1, 1]).
        widening_k: progressive-widening coefficient ``k`` (default 1.0).
        widening_alpha: progressive-widening exponent ``α`` in (0, 1] (default 0.5).
        order: decision order of the sequence form (default ``"subsystem"``).
    """

    name = "mcts"

    def __init__(self, space: Space, objectives: Sequence[Objective | str], seed: int = 0,
                 exploration: float = 0.7, widening_k: float = 1.0, widening_alpha: float = 0.5,
                 order: str | Sequence[str] | None = "subsystem") -> None:
        super().__init__(space, objectives, seed)
        if not exploration >= 0 or not widening_k > 0 or not 0 < widening_alpha <= 1:
            raise ConfigError(
                f"mcts needs exploration >= 0, widening_k > 0, 0 < widening_alpha <= 1, but got "
                f"{exploration}, {widening_k}, {widening_alpha}"
            )
        self.exploration, self.widening_k, self.widening_alpha = float(exploration), float(widening_k), float(widening_alpha)
        self.form = to_sequence(space, order)
        self.rng = np.random.default_rng([self.seed, 0x6D637473])
        self.root = _Node(())
        self.scalarizer = RecordScalarizer(self.objectives)
        self._pending: dict[str, list[tuple[list[_Node], np.ndarray]]] = {}
        self._seen: set[str] = set()

    # --- tree policy -------------------------------------------------------------------
    def _allowed(self, node: _Node) -> list[int]:
        if node.untried is None:
            node.untried = self.form.allowed(node.prefix)
        return node.untried

    def _can_widen(self, node: _Node) -> bool:
        limit = math.ceil(self.widening_k * max(node.visits, 1.0) ** self.widening_alpha)
        return bool(self._allowed(node)) and len(node.children) < limit

    def _select(self) -> list[_Node]:
        node, path = self.root, [self.root]
        while len(node.prefix) < len(self.form):
            if self._can_widen(node) or not node.children:
                untried = self._allowed(node)
                if not untried:  # dead end: no choice keeps the constraints
                    break
                choice = untried.pop(int(self.rng.integers(len(untried))))
                child = _Node(node.prefix + (choice,))
                node.children[choice] = child
                path.append(child)
                break
            log_n = math.log(max(node.visits, 1.0))
            node = max(node.children.values(), key=lambda ch: (ch.value / ch.visits if ch.visits else 0.0)
                       + self.exploration * math.sqrt(log_n / max(ch.visits, 1e-9)) if ch.visits else math.inf)
            path.append(node)
        return path

    def _rollout(self, prefix: tuple[int, ...]) -> Design:
        design = None
        for _ in range(8):  # prefer a design not asked before
            try:
                design = self.form.complete(prefix, self.rng, max_tries=200)
            except SpaceError:
                return self.space.sample(self.rng)
            if design.key not in self._seen:
                break
        return design  # type: ignore[return-value]

    def _ask(self, n: int) -> list[Design]:
        out = []
        for _ in range(n):
            path = self._select()
            design = self._rollout(path[-1].prefix)
            for node in path:  # virtual loss
                node.visits += 1.0
            self._seen.add(design.key)
            self._pending.setdefault(design.key, []).append((path, random_weights(self.rng, len(self.objectives))))
            out.append(design)
        return out

    def _tell(self, records: list[EvalRecord]) -> None:
        for rec in records:
            self.scalarizer.observe(rec)
        for rec in records:
            self._seen.add(rec.design.key)
            pending = self._pending.get(rec.design.key)
            if pending:
                path, weights = pending.pop(0)
                visit = 0.0  # already counted by the virtual loss
            else:
                path, weights, visit = self._path_of(rec.design), random_weights(self.rng, len(self.objectives)), 1.0
            reward = self.scalarizer.reward(rec, weights)
            for node in path:
                node.visits += visit
                node.value += reward

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
                "widening_k": self.widening_k, "widening_alpha": self.widening_alpha}
