"""Per-layer bit widths of a quantization space for the agents: the space's bit groups as an
allocation problem of :mod:`codesign.allocation`, HAQ's action wall, and the exact allocation.

Groups: every ``w_bits.<key>`` / ``a_bits.<key>`` parameter pair of the space is one group
(``<key>`` a layer name, an MoE expert group or ``all``); its options are the ``(w, a)`` pairs of
the two parameters' domains (a missing parameter is fixed at :data:`DEFAULT_BITS`). Per group,
from the workload when the Problem has one (else 1 for each)::

    MACs_g      multiply-accumulates of the layers the key covers (× layer count)
    W_g, A_g    weight / input-activation elements of those layers

Tables (agents see no evaluator, so these are proxies unless the user passes measured ones):

- ``bops`` (cost, HAQ / HAWQ-V3 bit operations): ``MACs_g · w · a``;
- ``loss`` by default the uniform-quantization-noise proxy ``W_g · 4^(−w) + A_g · 4^(−a)``
  (variance ∝ ``4^-b``), or any table :func:`codesign.allocation.problem.table_values` accepts
  (e.g. losses measured by :mod:`codesign.evaluators.accuracy.sensitivity`, keyed by group key);
- any further ``costs`` tables, and side ``constraints`` (:mod:`codesign.allocation.expr`).

Budgets are fractions ``f`` of the range ``[all lowest, all highest]`` of the budget table
(``bops`` by default).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from codesign.allocation import AllocationProblem, Budget, InfeasibleAllocation, Option
from codesign.allocation import Group as AllocGroup
from codesign.allocation import solve
from codesign.spaces.builders import expert_group
from codesign.spaces.space import Space
from codesign.types import Design

PREFIXES = ("w_bits.", "a_bits.")
DEFAULT_BITS = 8


@dataclass(frozen=True)
class Group:
    key: str
    w_param: str | None
    a_param: str | None
    macs: float
    weights: float
    inputs: float


def bit_groups(space: Space, workload: Any = None) -> list[Group]:
    """The ``w_bits``/``a_bits`` groups of ``space`` in space order."""
    keys: list[str] = []
    for name in space.names:
        for prefix in PREFIXES:
            if name.startswith(prefix) and name[len(prefix):] not in keys:
                keys.append(name[len(prefix):])
    out = []
    for key in keys:
        macs = weights = inputs = 0.0
        for layer in getattr(workload, "layers", ()) or ():
            if key in ("all", layer.name) or (layer.quantizable and key == expert_group(layer)):
                count = getattr(layer, "count", 1)
                macs += layer.macs * count
                weights += layer.weight_elems * count
                inputs += layer.input_elems * count
        if macs == 0:
            macs = weights = inputs = 1.0
        w, a = f"w_bits.{key}", f"a_bits.{key}"
        out.append(Group(key, w if w in space else None, a if a in space else None, macs, weights, inputs))
    return out


class BitModel:
    """The bit groups of a space as an :class:`~codesign.allocation.AllocationProblem`, plus
    HAQ's action wall (module docstring).

    Args:
        space: the searched space.
        workload: its workload (optional; weights the groups by MACs and elements).
        loss: loss table keyed by group key (default: the noise proxy).
        costs: extra cost tables (``bops`` is always defined).
        constraints: side constraints over the groups (named by key).
        budget_table: the table the budget fractions refer to (default ``bops``).
    """

    def __init__(self, space: Space, workload: Any = None, loss: Any = None, costs: Mapping[str, Any] | None = None,
                 constraints: Sequence[Any] = (), budget_table: str = "bops") -> None:
        self.space = space
        self.groups = bit_groups(space, workload)
        self.budget_table = budget_table
        self.problem: AllocationProblem | None = None
        self._index = {g.key: g for g in self.groups}
        if not self.groups:
            return
        alloc_groups = [AllocGroup(g.key, (g.key,), tuple(Option(f"w{w}a{a}", w, a) for w, a in self._pairs(g)))
                        for g in self.groups]
        tables = {"bops": lambda ag, o: self._group(ag).macs * o.w_bits * o.a_bits, **dict(costs or {})}
        tables["loss"] = loss if loss is not None else self._noise
        self.problem = AllocationProblem(alloc_groups, tables, "loss", None, constraints)
        table = self.problem.check_table(budget_table)
        self._costs = [{(o.w_bits, o.a_bits): float(table[self.problem.group_slice(i)][j])
                        for j, o in enumerate(ag.options)} for i, ag in enumerate(self.problem.groups)]

    def __bool__(self) -> bool:
        return bool(self.groups)

    def _pairs(self, g: Group) -> list[tuple[int, int]]:
        ws = sorted(self.space[g.w_param].values) if g.w_param else [DEFAULT_BITS]
        as_ = sorted(self.space[g.a_param].values) if g.a_param else [DEFAULT_BITS]
        return [(int(w), int(a)) for w in ws for a in as_]

    def _group(self, ag: AllocGroup) -> Group:
        return self._index[ag.name]

    def _noise(self, ag: AllocGroup, o: Option) -> float:
        g = self._group(ag)
        return (g.weights * 4.0 ** -o.w_bits if g.w_param else 0.0) + (g.inputs * 4.0 ** -o.a_bits if g.a_param else 0.0)

    def _bits(self, values: Mapping[str, Any], param: str | None) -> float:
        return float(values[param]) if param is not None and param in values else float(DEFAULT_BITS)

    def cost(self, values: Mapping[str, Any]) -> float:
        """Total of the budget table for the bits in ``values`` (a design or a partial mapping)."""
        if self.problem is None:
            return 0.0
        return float(sum(costs[(int(self._bits(values, g.w_param)), int(self._bits(values, g.a_param)))]
                         for g, costs in zip(self.groups, self._costs)))

    def budget(self, fraction: float) -> float:
        if self.problem is None:
            return 0.0
        return self.problem.budget_value(Budget(self.budget_table, fraction=float(np.clip(fraction, 0.0, 1.0))))

    def _extreme(self, pick: int) -> dict[str, Any]:
        out = {}
        for g in self.groups:
            for p in (g.w_param, g.a_param):
                if p is not None:
                    out[p] = sorted(self.space[p].values)[pick]
        return out

    def action_wall(self, design: Design, budget: float) -> Design:
        """HAQ's wall: lower bits from the last group backwards, one step per parameter and pass,
        until ``cost <= budget`` (or every bit width is at its lowest)."""
        values = design.to_dict()
        while self.cost(values) > budget:
            lowered = False
            for g in reversed(self.groups):
                for p in (g.a_param, g.w_param):
                    if p is None:
                        continue
                    vals = sorted(self.space[p].values)
                    i = vals.index(values[p])
                    if i > 0:
                        values[p] = vals[i - 1]
                        lowered = True
                        if self.cost(values) <= budget:
                            return Design(values)
            if not lowered:
                break
        return Design(values)

    def knapsack(self, budget: float) -> dict[str, Any]:
        """The exact allocation (:func:`codesign.allocation.solve`): one ``(w, a)`` option per
        group minimizing the loss with ``cost <= budget`` and the side constraints. Falls back to
        the cheapest option of every group when no allocation fits."""
        if self.problem is None:
            return {}
        try:
            alloc = solve(self.problem.with_budgets({self.budget_table: budget}))
        except InfeasibleAllocation:
            return self._extreme(0)
        out: dict[str, Any] = {}
        for g, o in zip(self.groups, alloc.options().values()):
            if g.w_param:
                out[g.w_param] = o.w_bits
            if g.a_param:
                out[g.a_param] = o.a_bits
        return out
