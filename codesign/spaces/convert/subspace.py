"""Space -> one sub-space per subsystem, and designs split / merged along them.

Used by multi-agent RL (one agent per subsystem) and nested search (outer hardware loop, inner
quantization/mapping loop). Each sub-space keeps the constraints that read only its own
parameters (:meth:`Space.subspace`); constraints across subsystems (:func:`cross_constraints`)
are checked on the merged design by whoever evaluates it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from codesign.errors import SpaceError
from codesign.spaces.space import Constraint, Space
from codesign.types import Design


def split(space: Space) -> dict[str, Space]:
    """``{subsystem: sub-space}`` in order of first appearance of each subsystem."""
    return {s: space.subspace(s) for s in space.subsystems}


def cross_constraints(space: Space) -> tuple[Constraint, ...]:
    """Constraints of ``space`` that no single sub-space of :func:`split` keeps."""
    kept = {c.name for sub in split(space).values() for c in sub.constraints}
    return tuple(c for c in space.constraints if c.name not in kept)


def split_design(space: Space, design: Mapping[str, Any]) -> dict[str, Design]:
    """``{subsystem: the design's values of that subsystem}``, subsystems in space order.

    Raises:
        SpaceError: the design misses a parameter of ``space`` or sets one it does not have.
    """
    missing = [n for n in space.names if n not in design]
    extra = [n for n in design if n not in space]
    if missing or extra:
        raise SpaceError(
            f"design must set exactly the parameters of {space.name!r}, but misses {missing[:5]} "
            f"and has unknown {extra[:5]}"
        )
    return {s: Design({p.name: design[p.name] for p in space.params_of(s)}) for s in space.subsystems}


def merge_designs(space: Space, parts: Mapping[str, Mapping[str, Any]]) -> Design:
    """Join partial designs into one Design of ``space`` (in space order).

    The keys of ``parts`` are labels (normally subsystems) used only in error messages.
    Values must be in their parameters' domains; constraints are not checked.

    Raises:
        SpaceError: a parameter is set by no part or by more than one, a part sets a parameter
            the space does not have, or a value is outside its domain.
    """
    owner: dict[str, str] = {}
    values: dict[str, Any] = {}
    for label, part in parts.items():
        if not isinstance(part, Mapping):
            raise SpaceError(f"part {label!r} must be a mapping of parameter values, but got {type(part).__name__}")
        for name, value in part.items():
            if name not in space:
                raise SpaceError(f"part {label!r} sets {name!r}, which is not a parameter of {space.name!r}")
            if name in owner:
                raise SpaceError(f"every parameter must be set once, but {name!r} is set by {owner[name]!r} and {label!r}")
            space[name].index(value)
            owner[name] = label
            values[name] = value
    missing = [n for n in space.names if n not in values]
    if missing:
        raise SpaceError(f"parts must set every parameter of {space.name!r}, but none sets {missing[:5]}")
    return Design({n: values[n] for n in space.names})
