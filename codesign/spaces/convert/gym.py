"""Space <-> gymnasium spaces.

Two forms, both over parameter *indices* (position of the value in ``param.values``):

- :func:`to_gymnasium` — ``MultiDiscrete(nvec)`` with ``nvec[i] = space.params[i].size``, in
  space order; :func:`gym_encode` / :func:`gym_decode` map a design to / from an ``int64``
  vector of indices. This is the action space of an agent that picks a whole design per step.
- :func:`to_gymnasium_dict` — ``Dict({name: Discrete(size)})`` in space order (not sorted);
  :func:`gym_dict_encode` / :func:`gym_dict_decode` map to / from ``{name: np.int64}``.

Decoding validates shape and index ranges (one-line :class:`~codesign.errors.SpaceError`);
it does *not* check the space's constraints: an action may decode to a design that violates
them, which an environment reports as infeasible (see :meth:`Space.violations`).

gymnasium is imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from codesign.errors import SpaceError
from codesign.spaces.params import Param
from codesign.spaces.space import Space
from codesign.types import Design

if TYPE_CHECKING:  # pragma: no cover
    import gymnasium


def _nvec(space: Space) -> np.ndarray:
    return np.array([p.size for p in space.params], dtype=np.int64)


def _check_set(space: Space, design: Mapping[str, Any]) -> None:
    missing = [n for n in space.names if n not in design]
    if missing:
        raise SpaceError(f"design must set every parameter of {space.name!r}; missing {missing[:5]}")


def _index(p: Param, raw: Any, where: str) -> int:
    """``raw`` as a valid index of ``p`` (an integral number in ``[0, size)``), else SpaceError."""
    try:
        value = raw.item() if isinstance(raw, np.generic | np.ndarray) and np.ndim(raw) == 0 else raw
    except (TypeError, ValueError):  # pragma: no cover - defensive
        value = raw
    ok = (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and np.isfinite(value)
        and value == int(value)
        and 0 <= int(value) < p.size
    )
    if not ok:
        raise SpaceError(f"{where} for {p.name!r} must be an integer index in [0, {p.size - 1}], but got {raw!r}")
    return int(value)


def to_gymnasium(space: Space) -> gymnasium.spaces.MultiDiscrete:
    """``MultiDiscrete`` over the parameter indices of ``space``, in space order.

    Args:
        space: the design space.

    Returns:
        ``gymnasium.spaces.MultiDiscrete(nvec)`` with ``nvec[i] = space.params[i].size``.
    """
    from gymnasium.spaces import MultiDiscrete

    return MultiDiscrete(_nvec(space))


def gym_encode(space: Space, design: Mapping[str, Any]) -> np.ndarray:
    """Design -> ``int64`` vector of indices, shape ``(len(space),)``.

    Raises:
        SpaceError: a parameter is missing or a value is outside its domain.
    """
    _check_set(space, design)
    return np.array(space.to_indices(design), dtype=np.int64)


def gym_decode(space: Space, x: Any) -> Design:
    """``MultiDiscrete`` sample (vector of indices) -> Design (constraints not checked).

    Raises:
        SpaceError: ``x`` is not of shape ``(len(space),)`` or an index is out of range.
    """
    arr = np.asarray(x)
    if arr.shape != (len(space),):
        raise SpaceError(f"gym action for space {space.name!r} must have shape ({len(space)},), but got {arr.shape}")
    idx = [_index(p, v, "gym action") for p, v in zip(space.params, arr.tolist())]
    return space.from_indices(idx)


def to_gymnasium_dict(space: Space) -> gymnasium.spaces.Dict:
    """``Dict({name: Discrete(size)})`` with keys in space order (not sorted)."""
    from gymnasium.spaces import Dict, Discrete

    return Dict([(p.name, Discrete(p.size)) for p in space.params])


def gym_dict_encode(space: Space, design: Mapping[str, Any]) -> dict[str, np.int64]:
    """Design -> ``{name: np.int64 index}`` in space order."""
    _check_set(space, design)
    return {p.name: np.int64(p.index(design[p.name])) for p in space.params}


def gym_dict_decode(space: Space, x: Mapping[str, Any]) -> Design:
    """``Dict`` sample -> Design (constraints not checked).

    Raises:
        SpaceError: ``x`` does not have exactly the space's parameter names as keys, or an index
            is out of range.
    """
    if not isinstance(x, Mapping):
        raise SpaceError(f"gym dict action must be a mapping of parameter name to index, but got {type(x).__name__}")
    missing = [n for n in space.names if n not in x]
    extra = [k for k in x if k not in space]
    if missing or extra:
        raise SpaceError(
            f"gym dict action must have exactly the parameters of {space.name!r}, but misses {missing[:5]} "
            f"and has unknown {extra[:5]}"
        )
    return space.from_indices(_index(p, x[p.name], "gym dict action") for p in space.params)
