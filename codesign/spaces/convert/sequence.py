"""Space <-> an ordered sequence of decisions (for MCTS and layerwise RL).

A design is built one parameter at a time: decision ``t`` picks an index into
``decisions[t].choices``. A *prefix* is the list of indices chosen so far (a node of an MCTS
tree, or the state of a layerwise environment).

    >>> form = to_sequence(space, order="subsystem")
    >>> form.encode(design)               # [i_0, i_1, ..., i_{T-1}]
    >>> form.decode(indices) == design
    >>> form.allowed([2, 0])              # indices of decision 2 that keep prefix constraints
    >>> form.complete([2, 0], rng)        # random valid rollout from a prefix

Orders: ``None`` (space order), ``"subsystem"`` (parameters grouped by subsystem, subsystems in
order of first appearance, space order inside a group) or an explicit list of all names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from codesign.errors import SpaceError
from codesign.spaces.space import Space
from codesign.types import Design


@dataclass(frozen=True)
class Decision:
    """One step of a sequence form: which parameter, its ordered choices, its subsystem."""

    name: str
    choices: tuple[Any, ...]
    subsystem: str

    @property
    def size(self) -> int:
        """Number of choices."""
        return len(self.choices)


@dataclass(frozen=True)
class SequenceForm:
    """An ordered sequence of decisions over a space; build it with :func:`to_sequence`.

    Attributes:
        space: the design space.
        decisions: one :class:`Decision` per parameter, in decision order.
    """

    space: Space
    decisions: tuple[Decision, ...]

    def __len__(self) -> int:
        return len(self.decisions)

    @property
    def names(self) -> tuple[str, ...]:
        """Parameter names in decision order."""
        return tuple(d.name for d in self.decisions)

    @property
    def max_choices(self) -> int:
        """Largest number of choices of any decision (size of a padded ``Discrete`` action)."""
        return max((d.size for d in self.decisions), default=0)

    # --- full designs ----------------------------------------------------------------------
    def encode(self, design: Mapping[str, Any]) -> list[int]:
        """Design -> list of choice indices in decision order.

        Raises:
            SpaceError: a parameter is missing or a value is outside its domain.
        """
        missing = [n for n in self.names if n not in design]
        if missing:
            raise SpaceError(f"design must set every parameter of {self.space.name!r}; missing {missing[:5]}")
        return [self.space[d.name].index(design[d.name]) for d in self.decisions]

    def decode(self, indices: Sequence[int]) -> Design:
        """Full list of choice indices -> Design (in space order; constraints not checked).

        Raises:
            SpaceError: ``indices`` does not have one valid index per decision.
        """
        if len(indices) != len(self):
            raise SpaceError(f"a full decision sequence of {self.space.name!r} must have {len(self)} indices, but got {len(indices)}")
        values = self.decode_prefix(indices)
        return Design({n: values[n] for n in self.space.names})

    # --- prefixes (MCTS nodes, layerwise states) -------------------------------------------
    def decode_prefix(self, prefix: Sequence[int]) -> dict[str, Any]:
        """Prefix of choice indices -> ``{name: value}`` of the decided parameters.

        Raises:
            SpaceError: the prefix is longer than the sequence or an index is out of range.
        """
        if len(prefix) > len(self):
            raise SpaceError(f"a decision prefix of {self.space.name!r} must have at most {len(self)} indices, but got {len(prefix)}")
        out: dict[str, Any] = {}
        for t, (dec, raw) in enumerate(zip(self.decisions, prefix)):
            i = _as_index(raw)
            if i is None or not 0 <= i < dec.size:
                raise SpaceError(
                    f"decision {t} ({dec.name!r}) must be an index in [0, {dec.size - 1}], but got {raw!r}"
                )
            out[dec.name] = dec.choices[i]
        return out

    partial = decode_prefix

    def next_decision(self, prefix: Sequence[int]) -> Decision | None:
        """The decision after ``prefix``, or None when the prefix is complete."""
        return self.decisions[len(prefix)] if len(prefix) < len(self) else None

    def prefix_violations(self, prefix: Sequence[int]) -> list[str]:
        """Constraints that read only decided parameters and already fail for ``prefix``."""
        values = self.decode_prefix(prefix)
        return [
            c.name for c in self.space.constraints
            if c.compiled.names <= values.keys() and not c.compiled(values)
        ]

    def allowed(self, prefix: Sequence[int]) -> list[int]:
        """Indices of the next decision that violate no constraint decided by ``prefix`` + it.

        A necessary condition only: a later decision may still find no valid completion.
        Returns ``[]`` when the prefix is complete.
        """
        dec = self.next_decision(prefix)
        if dec is None:
            return []
        values = self.decode_prefix(prefix)
        cons = [c.compiled for c in self.space.constraints if dec.name in c.compiled.names]
        out = []
        for i, choice in enumerate(dec.choices):
            values[dec.name] = choice
            if all(e(values) for e in cons if e.names <= values.keys()):
                out.append(i)
        return out

    def complete(
        self, prefix: Sequence[int], rng: np.random.Generator | int | None = None, max_tries: int = 10_000
    ) -> Design:
        """A design that starts with ``prefix``; the rest is drawn uniformly at random, retrying
        until every constraint of the space holds (a random MCTS rollout).

        Raises:
            SpaceError: the prefix already violates a constraint, or no valid completion was
                found in ``max_tries`` draws.
        """
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        bad = self.prefix_violations(prefix)
        if bad:
            raise SpaceError(f"decision prefix {list(prefix)} violates constraint(s) {bad} of {self.space.name!r}")
        head = [int(i) for i in prefix]
        rest = self.decisions[len(head):]
        for _ in range(max_tries):
            design = self.decode(head + [int(gen.integers(d.size)) for d in rest])
            if not self.space.violations(design):
                return design
        raise SpaceError(
            f"no completion of prefix {head} satisfying the constraints of {self.space.name!r} "
            f"found in {max_tries} random draws"
        )


def _as_index(raw: Any) -> int | None:
    if isinstance(raw, bool | np.bool_):
        return None
    if isinstance(raw, int | np.integer):
        return int(raw)
    if isinstance(raw, float | np.floating) and float(raw).is_integer():
        return int(raw)
    return None


def _order(space: Space, order: str | Sequence[str] | None) -> list[str]:
    if order is None:
        return list(space.names)
    if isinstance(order, str):
        if order != "subsystem":
            raise SpaceError(f"order must be None, 'subsystem' or a list of parameter names, but got {order!r}")
        return [p.name for s in space.subsystems for p in space.params_of(s)]
    names = list(order)
    unknown = [n for n in names if n not in space]
    missing = [n for n in space.names if n not in names]
    dups = sorted({n for n in names if names.count(n) > 1})
    if unknown or missing or dups:
        raise SpaceError(
            f"order must list every parameter of {space.name!r} exactly once, but misses {missing[:5]}, "
            f"has unknown {unknown[:5]} and repeats {dups[:5]}"
        )
    return names


def to_sequence(space: Space, order: str | Sequence[str] | None = None) -> SequenceForm:
    """The sequence-of-decisions form of ``space``.

    Args:
        space: the design space.
        order: ``None`` (space order), ``"subsystem"`` (grouped by subsystem in order of first
            appearance) or an explicit list naming every parameter once.
    """
    decisions = tuple(
        Decision(name, space[name].values, space[name].subsystem) for name in _order(space, order)
    )
    return SequenceForm(space, decisions)
