"""Space <-> optuna distributions.

Encoding per parameter kind (the optuna param name is the parameter name):

- categorical -> ``CategoricalDistribution(choices)``, value as is;
- integer / bitwidth -> ``IntDistribution(low, high, step)``, value as is;
- pow2 / ordinal -> ``IntDistribution(0, size-1)`` over the value's *index*, so TPE and
  NSGA-II see the order (a power of two is stored as its position, e.g. 64 in [4, 256] -> 4).

:func:`optuna_encode` and :func:`optuna_decode` are inverse on every design of the space.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from codesign.errors import SpaceError
from codesign.spaces.params import Categorical, Integer, Param
from codesign.spaces.space import Space
from codesign.types import Design


def _distribution(p: Param) -> Any:
    from optuna.distributions import CategoricalDistribution, IntDistribution

    if isinstance(p, Categorical):
        return CategoricalDistribution(list(p.choices))
    if isinstance(p, Integer):
        return IntDistribution(p.low, p.high, step=p.step)
    return IntDistribution(0, p.size - 1)


def _by_index(p: Param) -> bool:
    return not isinstance(p, (Categorical, Integer))


def to_optuna(space: Space) -> dict[str, Any]:
    """``{param name: optuna distribution}`` in space order."""
    return {p.name: _distribution(p) for p in space.params}


def optuna_encode(space: Space, design: Mapping[str, Any]) -> dict[str, Any]:
    """Design -> optuna params (index for pow2/ordinal parameters)."""
    out: dict[str, Any] = {}
    for p in space.params:
        value = design[p.name]
        out[p.name] = p.index(value) if _by_index(p) else p.values[p.index(value)]
    return out


def optuna_decode(space: Space, params: Mapping[str, Any]) -> Design:
    """optuna params -> Design."""
    values: dict[str, Any] = {}
    for p in space.params:
        if p.name not in params:
            raise SpaceError(f"optuna params must set {p.name!r}, but only set {sorted(params)[:5]}")
        v = params[p.name]
        if _by_index(p):
            if not isinstance(v, int) or not 0 <= v < p.size:
                raise SpaceError(f"optuna param {p.name!r} must be an index in [0, {p.size - 1}], but got {v!r}")
            values[p.name] = p.values[v]
        else:
            values[p.name] = p.values[p.index(v)]
    return Design(values)
