"""Per-layer bit widths of a quantization space: a hardware-agnostic cost proxy, HAQ's action
wall and the exact multiple-choice-knapsack bit allocation (REFERENCES.md §5).

Groups: every ``w_bits.<key>`` / ``a_bits.<key>`` parameter pair of the space is one group
(``<key>`` a layer name, an MoE expert group or ``all``). Per group, from the workload when the
Problem has one (else 1 for each)::

    MACs_g      multiply-accumulates of the layers the key covers (× layer count)
    W_g, A_g    weight / input-activation elements of those layers

Cost proxy (bit operations, as HAQ/HAWQ-V3 "BOPs"): ``cost = Σ_g MACs_g · w_g · a_g`` (a
missing operand counts 8 bits). Error proxy (uniform quantization noise, variance ∝ ``4^-b``):
``err = Σ_g W_g · 4^(−w_g) + A_g · 4^(−a_g)``.

Budgets are fractions ``f`` of the range ``[cost(all lowest), cost(all highest)]``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

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
    """Cost / error proxies, action wall and knapsack over the groups of a space."""

    def __init__(self, space: Space, workload: Any = None) -> None:
        self.space = space
        self.groups = bit_groups(space, workload)

    def __bool__(self) -> bool:
        return bool(self.groups)

    def _bits(self, values: Mapping[str, Any], param: str | None) -> float:
        return float(values[param]) if param is not None and param in values else float(DEFAULT_BITS)

    def cost(self, values: Mapping[str, Any]) -> float:
        return float(sum(g.macs * self._bits(values, g.w_param) * self._bits(values, g.a_param) for g in self.groups))

    def _extreme(self, pick: int) -> dict[str, Any]:
        out = {}
        for g in self.groups:
            for p in (g.w_param, g.a_param):
                if p is not None:
                    vals = sorted(self.space[p].values)
                    out[p] = vals[pick]
        return out

    def budget(self, fraction: float) -> float:
        lo, hi = self.cost(self._extreme(0)), self.cost(self._extreme(-1))
        return lo + float(np.clip(fraction, 0.0, 1.0)) * (hi - lo)

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
        """Exact bit allocation: one (w, a) option per group minimizing the error proxy with
        ``cost <= budget`` — a multiple-choice knapsack solved by scipy's ``milp`` (HiGHS)::

            min Σ_gj err_gj x_gj   s.t.  Σ_j x_gj = 1 ∀g,  Σ_gj cost_gj x_gj ≤ budget,  x ∈ {0,1}

        Falls back to the cheapest option of every group when no allocation fits.
        """
        from scipy.optimize import Bounds, LinearConstraint, milp

        options, costs, errs, rows = [], [], [], []
        for gi, g in enumerate(self.groups):
            ws = list(self.space[g.w_param].values) if g.w_param else [DEFAULT_BITS]
            as_ = list(self.space[g.a_param].values) if g.a_param else [DEFAULT_BITS]
            for w, a in itertools.product(ws, as_):
                options.append((g, w, a))
                costs.append(g.macs * w * a)
                errs.append((g.weights * 4.0 ** -w if g.w_param else 0.0) + (g.inputs * 4.0 ** -a if g.a_param else 0.0))
                rows.append(gi)
        n = len(options)
        scale = max(costs) if costs else 1.0
        A_one = np.zeros((len(self.groups), n))
        A_one[rows, np.arange(n)] = 1.0
        err = np.asarray(errs)
        err = err / max(err.max(), 1e-300)
        cons = [LinearConstraint(A_one, 1.0, 1.0),
                LinearConstraint(np.asarray(costs)[None, :] / scale, -np.inf, budget / scale + 1e-9)]
        res = milp(err, constraints=cons, integrality=np.ones(n), bounds=Bounds(0, 1))
        out: dict[str, Any] = {}
        if res.success and res.x is not None:
            for j in np.flatnonzero(res.x > 0.5):
                g, w, a = options[j]
                if g.w_param:
                    out[g.w_param] = w
                if g.a_param:
                    out[g.a_param] = a
            return out
        return self._extreme(0)
