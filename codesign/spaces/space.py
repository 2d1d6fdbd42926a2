"""The :class:`Space` value object: ordered, named, typed parameters plus named constraints.

A Space is immutable and compares, hashes and serializes by content. Conversions to agent
forms (gymnasium, optuna, BoTorch, sequence of decisions, sub-spaces) live in
:mod:`codesign.spaces.convert`, not here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from codesign.errors import SpaceError
from codesign.spaces.expr import Expr
from codesign.spaces.params import Param, param_from_dict
from codesign.types import Design


@dataclass(frozen=True)
class Constraint:
    """A named boolean expression over parameter names that every valid design satisfies."""

    name: str
    expr: str

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise SpaceError(f"constraint name must be a non-empty string, but got {self.name!r}")
        Expr(self.expr)  # compile now: a malformed expression fails at construction

    @property
    def compiled(self) -> Expr:
        return Expr(self.expr)

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "expr": self.expr}


class Space:
    """An ordered collection of parameters grouped by subsystem, with named constraints.

    Args:
        params: the parameters, in order. Names must be unique.
        constraints: named expressions over parameter names (see :mod:`codesign.spaces.expr`).
        name: a label carried into the JSON form and into the store.
    """

    def __init__(
        self,
        params: Iterable[Param],
        constraints: Iterable[Constraint] = (),
        name: str = "space",
    ) -> None:
        self.name = name
        self.params: tuple[Param, ...] = tuple(params)
        self.constraints: tuple[Constraint, ...] = tuple(constraints)
        self._by_name: dict[str, Param] = {}
        self._plan: list[list[Any]] | None = None  # constraint-aware sampling plan, built on first need
        for p in self.params:
            if not isinstance(p, Param):
                raise SpaceError(f"space parameters must be Param objects, but got {p!r}")
            if p.name in self._by_name:
                raise SpaceError(f"parameter names must be unique, but {p.name!r} appears twice")
            self._by_name[p.name] = p
        seen: set[str] = set()
        for c in self.constraints:
            if c.name in seen:
                raise SpaceError(f"constraint names must be unique, but {c.name!r} appears twice")
            seen.add(c.name)
            unknown = sorted(c.compiled.names - set(self._by_name))
            if unknown:
                raise SpaceError(
                    f"constraint {c.name!r} must only read parameters of the space, but reads {unknown}"
                )

    # --- container behaviour -------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.params)

    def __iter__(self) -> Iterator[Param]:
        return iter(self.params)

    def __getitem__(self, name: str) -> Param:
        try:
            return self._by_name[name]
        except KeyError:
            import difflib

            close = difflib.get_close_matches(name, list(self._by_name), n=3)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise SpaceError(f"space {self.name!r} has no parameter {name!r}{hint}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    @property
    def subsystems(self) -> tuple[str, ...]:
        """Subsystem labels in order of first appearance."""
        out: list[str] = []
        for p in self.params:
            if p.subsystem not in out:
                out.append(p.subsystem)
        return tuple(out)

    def params_of(self, subsystem: str) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.subsystem == subsystem)

    @property
    def size(self) -> int:
        """Number of points of the product domain (constraints not applied)."""
        return math.prod(p.size for p in self.params)

    # --- value object --------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "params": [p.to_dict() for p in self.params],
            "constraints": [c.to_dict() for c in self.constraints],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Space:
        if not isinstance(data, Mapping) or "params" not in data:
            raise SpaceError(f"a space must be a mapping with 'params', but got {type(data).__name__}")
        constraints = []
        for c in data.get("constraints", []):
            if not isinstance(c, Mapping) or set(c) != {"name", "expr"}:
                raise SpaceError(f"a constraint must have exactly 'name' and 'expr', but got {c!r}")
            constraints.append(Constraint(c["name"], c["expr"]))
        return cls([param_from_dict(dict(p)) for p in data["params"]], constraints, data.get("name", "space"))

    @classmethod
    def from_json(cls, text: str) -> Space:
        return cls.from_dict(json.loads(text))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Space) and self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash(self.to_json())

    def __repr__(self) -> str:
        subs = ", ".join(f"{s}:{len(self.params_of(s))}" for s in self.subsystems)
        return f"Space({self.name!r}, {len(self)} params [{subs}], {len(self.constraints)} constraints)"

    # --- designs -------------------------------------------------------------------------
    def violations(self, design: Mapping[str, Any]) -> list[str]:
        """Names of the constraints that ``design`` violates (domain assumed valid)."""
        return [c.name for c in self.constraints if not c.compiled(design)]

    def validate(self, design: Mapping[str, Any]) -> Design:
        """Return ``design`` as a :class:`Design`, or raise SpaceError saying what is wrong."""
        missing = [n for n in self.names if n not in design]
        if missing:
            raise SpaceError(f"design must set every parameter of {self.name!r}; missing {missing[:5]}")
        extra = [n for n in design if n not in self._by_name]
        if extra:
            raise SpaceError(f"design sets parameters not in space {self.name!r}: {extra[:5]}")
        for p in self.params:
            p.index(design[p.name])
        bad = self.violations(design)
        if bad:
            raise SpaceError(f"design violates constraint(s) {bad} of space {self.name!r}")
        return Design({n: design[n] for n in self.names})

    def contains(self, design: Mapping[str, Any]) -> bool:
        try:
            self.validate(design)
            return True
        except SpaceError:
            return False

    def from_indices(self, indices: Iterable[int]) -> Design:
        idx = list(indices)
        if len(idx) != len(self.params):
            raise SpaceError(f"expected {len(self.params)} indices, but got {len(idx)}")
        for p, i in zip(self.params, idx):
            if not 0 <= int(i) < p.size:  # a negative index would silently wrap around
                raise SpaceError(f"index of {p.name!r} must be in [0, {p.size - 1}], but got {i!r}")
        return Design({p.name: p.values[int(i)] for p, i in zip(self.params, idx)})

    def to_indices(self, design: Mapping[str, Any]) -> list[int]:
        missing = [n for n in self.names if n not in design]
        if missing:
            raise SpaceError(f"design must set every parameter of {self.name!r}; missing {missing[:5]}")
        return [p.index(design[p.name]) for p in self.params]

    def sample(self, rng: np.random.Generator | int | None = None, max_tries: int = 10_000,
               rejection_tries: int = 200) -> Design:
        """A random design satisfying the constraints.

        Uniform over the feasible set when one of the first uniform draws satisfies every
        constraint (rejection sampling: up to ``rejection_tries`` draws, fewer for spaces of more
        than 100 parameters, about 20,000 parameter draws in all); otherwise a constraint-aware
        depth-first draw (:func:`codesign.spaces.sampling.forward_sample`: valid, not uniform),
        which needs no luck when many constraints must hold at once (per-layer buffer capacities).
        """
        from codesign.spaces.sampling import constraint_plan, forward_sample

        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        if not self.constraints:
            return self.from_indices(int(gen.integers(p.size)) for p in self.params)
        compiled = [c.compiled for c in self.constraints]
        values = [p.values for p in self.params]
        tries = min(max_tries, rejection_tries, max(20, 20_000 // max(len(values), 1)))
        for _ in range(tries):
            draw = {n: v[int(gen.integers(len(v)))] for n, v in zip(self.names, values)}
            if all(expr(draw) for expr in compiled):  # stops at the first broken constraint
                return Design(draw)
        if self._plan is None:
            self._plan = constraint_plan(self.names, self.constraints)
        found = forward_sample(self.names, values, self._plan, gen, max_checks=max(max_tries, 1) * 20,
                               label=self.name)
        return Design({n: found[n] for n in self.names})

    def default(self) -> Design:
        """A deterministic design: the middle value of every parameter, repaired by sampling."""
        design = self.from_indices(p.size // 2 for p in self.params)
        if self.violations(design):
            return self.sample(0)
        return design

    def enumerate(self, limit: int = 1_000_000) -> Iterator[Design]:
        """Every valid design, in index order; only for small spaces (``size <= limit``)."""
        if self.size > limit:
            raise SpaceError(f"space {self.name!r} has {self.size} points; enumerate needs <= {limit}")
        import itertools

        for idx in itertools.product(*(range(p.size) for p in self.params)):
            design = self.from_indices(idx)
            if not self.violations(design):
                yield design

    # --- composition ---------------------------------------------------------------------
    def subspace(self, subsystem: str) -> Space:
        """The parameters of one subsystem, with the constraints that read only them."""
        params = self.params_of(subsystem)
        if not params:
            raise SpaceError(f"space {self.name!r} has no subsystem {subsystem!r}; it has {list(self.subsystems)}")
        names = {p.name for p in params}
        cons = [c for c in self.constraints if c.compiled.names <= names]
        return Space(params, cons, f"{self.name}/{subsystem}")

    def with_constraints(self, *constraints: Constraint) -> Space:
        return Space(self.params, self.constraints + tuple(constraints), self.name)


def compose(*spaces: Space, name: str | None = None, constraints: Iterable[Constraint] = ()) -> Space:
    """Join spaces into one (parameter names must not collide)."""
    params: list[Param] = []
    cons: list[Constraint] = []
    for s in spaces:
        params.extend(s.params)
        cons.extend(s.constraints)
    cons.extend(constraints)
    return Space(params, cons, name or "+".join(s.name for s in spaces))
