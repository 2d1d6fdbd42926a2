"""Random designs that satisfy a space's constraints, also when rejection would never find one.

:meth:`codesign.spaces.space.Space.sample` first draws whole designs uniformly and keeps the
first one that satisfies every constraint (uniform over the feasible set). When that fails
``rejection_tries`` times — a flat mapping space carries one capacity constraint per layer and
buffer, so a uniform draw of a 100-layer MoE fits every buffer with a probability far below
1e-6 — it switches to :func:`forward_sample`:

- parameters are drawn in the space's order, each uniformly among its values in a random
  order;
- a constraint is checked as soon as its last parameter (in space order) is drawn, and a value
  that breaks it is skipped;
- when no value of a parameter works, the search backtracks to the previous parameter and
  tries its next value (depth-first search; per-layer constraints make it local).

Designs are exactly as valid as rejection's, but not uniform over the feasible set: each
parameter is uniform among the values that keep the constraints checked so far satisfiable,
so e.g. smaller tiles of a small buffer are over-represented. The search gives up after
``max_checks`` constraint evaluations (a space whose constraints cannot all hold).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from codesign.errors import SpaceError

__all__ = ["forward_sample", "constraint_plan"]


def constraint_plan(names: Sequence[str], constraints: Sequence[Any]) -> list[list[Any]]:
    """Per parameter index, the compiled constraints whose last parameter it is."""
    pos = {n: i for i, n in enumerate(names)}
    plan: list[list[Any]] = [[] for _ in names]
    for c in constraints:
        expr = c.compiled
        last = max((pos[n] for n in expr.names), default=0)
        plan[last].append(expr)
    return plan


def forward_sample(names: Sequence[str], values: Sequence[Sequence[Any]], plan: Sequence[Sequence[Any]],
                   gen: np.random.Generator, max_checks: int = 200_000, label: str = "space") -> dict[str, Any]:
    """A design (name -> value) satisfying every constraint of ``plan`` (see the module docstring)."""
    n = len(names)
    design: dict[str, Any] = {}
    orders: list[list[int] | None] = [None] * n
    cursor = [0] * n
    checks = 0
    i = 0
    while i < n:
        if orders[i] is None:
            orders[i] = list(gen.permutation(len(values[i])))
            cursor[i] = 0
        order = orders[i]
        assert order is not None
        placed = False
        while cursor[i] < len(order):
            design[names[i]] = values[i][int(order[cursor[i]])]
            cursor[i] += 1
            if not plan[i]:
                placed = True
                break
            checks += len(plan[i])
            if all(expr(design) for expr in plan[i]):
                placed = True
                break
            if checks > max_checks:
                raise SpaceError(f"no design satisfying the constraints of {label!r} found in {max_checks} "
                                 "constraint checks")
        if placed:
            i += 1
            continue
        design.pop(names[i], None)  # every value of this parameter failed: back to the previous one
        orders[i] = None
        i -= 1
        if i < 0:
            raise SpaceError(f"the constraints of {label!r} cannot all hold: no design satisfies them")
    return design
