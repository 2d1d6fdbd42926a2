"""Core value types shared by every layer of codesign.

Nothing here imports anything else from codesign except :mod:`codesign.errors`.

- :class:`Design` — an immutable mapping ``parameter name -> value`` with a stable ``key``.
- :class:`Metrics` — named floats (units in the names), breakdowns, feasibility.
- :class:`Objective` — a metric name and a direction (``min`` / ``max``).
- :class:`EvalState` and :class:`EvalRecord` — one recorded evaluation.
"""

from __future__ import annotations

import enum
import hashlib
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from codesign.errors import ConfigError

Scalar = int | float | str | bool


def _canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_json_default)


def _json_default(obj: Any) -> Any:
    # numpy scalars and similar objects that know how to become Python scalars
    item = getattr(obj, "item", None)
    if callable(item):
        return item()
    raise TypeError(f"value of type {type(obj).__name__} is not JSON serializable")


def _plain(value: Any) -> Scalar:
    """Turn numpy scalars into Python scalars so designs hash and serialize stably."""
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, (int, float, str, bool)):
        value = item()
    if isinstance(value, float) and value.is_integer() and not isinstance(value, bool):
        # 4.0 and 4 are the same design value; keep floats only when fractional
        return int(value)
    return value


class Design(Mapping[str, Scalar]):
    """An immutable design: parameter name to value.

    Two designs with equal items are equal and share a ``key`` (a SHA-1 of the canonical
    JSON), so results can be cached and deduplicated across processes and runs.
    """

    __slots__ = ("_items", "_key")

    def __init__(self, items: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        merged = dict(items or {})
        merged.update(kwargs)
        self._items: dict[str, Scalar] = {str(k): _plain(v) for k, v in merged.items()}
        self._key: str | None = None

    def __getitem__(self, name: str) -> Scalar:
        try:
            return self._items[name]
        except KeyError:
            raise KeyError(f"design has no parameter {name!r}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Design):
            return self.key == other.key  # True and 1 differ, as their keys do
        if isinstance(other, Mapping):
            return self._items == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self._items.items())
        return f"Design({inner})"

    @property
    def key(self) -> str:
        """Stable content hash, independent of item order."""
        if self._key is None:
            self._key = hashlib.sha1(_canonical_json(self._items).encode()).hexdigest()[:16]
        return self._key

    def to_dict(self) -> dict[str, Scalar]:
        return dict(self._items)

    def replace(self, **changes: Any) -> Design:
        new = dict(self._items)
        new.update(changes)
        return Design(new)

    def subset(self, names: Iterator[str] | list[str] | tuple[str, ...]) -> Design:
        return Design({n: self._items[n] for n in names})


class Direction(str, enum.Enum):
    MIN = "min"
    MAX = "max"


@dataclass(frozen=True)
class Objective:
    """An objective: a metric name, a direction and an optional hypervolume reference value."""

    name: str
    direction: Direction = Direction.MIN
    ref: float | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "direction", Direction(self.direction))
        except ValueError:
            raise ConfigError(
                f"objective {self.name!r}: direction must be 'min' or 'max', but got {self.direction!r}"
            ) from None

    @property
    def sign(self) -> float:
        """+1 for minimization, -1 for maximization (multiply to get a minimization value)."""
        return 1.0 if self.direction is Direction.MIN else -1.0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "direction": self.direction.value}
        if self.ref is not None:
            out["ref"] = self.ref
        return out

    @classmethod
    def parse(cls, spec: Any) -> Objective:
        """Accept ``Objective``, ``"name"``, ``"name:max"``, ``{"name":..,"direction":..}``."""
        if isinstance(spec, Objective):
            return spec
        if isinstance(spec, str):
            name, _, direction = spec.partition(":")
            return cls(name.strip(), direction.strip() or "min")  # type: ignore[arg-type]
        if isinstance(spec, Mapping):
            unknown = set(spec) - {"name", "direction", "ref"}
            if unknown or "name" not in spec:
                raise ConfigError(
                    "objective must have 'name' and optional 'direction', 'ref', "
                    f"but got keys {sorted(spec)}"
                )
            ref = spec.get("ref")
            return cls(str(spec["name"]), spec.get("direction", "min"), None if ref is None else float(ref))
        raise ConfigError(f"objective must be a string or a mapping, but got {spec!r}")


@dataclass
class Metrics:
    """Result of evaluating a design.

    Attributes:
        values: named floats with units in the name (``latency_ms``, ``energy_uj``, ...).
        breakdown: nested detail, e.g. ``{"layers": {"conv1": {"latency_cycles": ...}}}``.
        violations: named constraint violations; a design is feasible iff this is empty.
            Each value is the amount by which the constraint is violated (> 0).
    """

    values: dict[str, float] = field(default_factory=dict)
    breakdown: dict[str, Any] = field(default_factory=dict)
    violations: dict[str, float] = field(default_factory=dict)

    @property
    def feasible(self) -> bool:
        return not self.violations

    def __getitem__(self, name: str) -> float:
        try:
            return self.values[name]
        except KeyError:
            have = ", ".join(sorted(self.values)) or "none"
            raise KeyError(f"metrics have no {name!r} (have: {have})") from None

    def merge(self, other: Metrics) -> Metrics:
        values = dict(self.values)
        values.update(other.values)
        breakdown = dict(self.breakdown)
        breakdown.update(other.breakdown)
        violations = dict(self.violations)
        violations.update(other.violations)
        return Metrics(values, breakdown, violations)

    def to_dict(self) -> dict[str, Any]:
        return {
            "values": {k: float(v) for k, v in self.values.items()},
            "breakdown": json.loads(_canonical_json(self.breakdown)),
            "violations": {k: float(v) for k, v in self.violations.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Metrics:
        return cls(
            {k: float(v) for k, v in data.get("values", {}).items()},
            dict(data.get("breakdown", {})),
            {k: float(v) for k, v in data.get("violations", {}).items()},
        )

    def objective_values(self, objectives: list[Objective] | tuple[Objective, ...]) -> list[float]:
        return [float(self[o.name]) for o in objectives]

    def all_finite(self, names: list[str] | tuple[str, ...]) -> bool:
        return all(name in self.values and math.isfinite(self.values[name]) for name in names)


class EvalState(str, enum.Enum):
    COMPLETE = "complete"
    INFEASIBLE = "infeasible"
    FAILED = "failed"
    RUNNING = "running"


@dataclass
class EvalRecord:
    """One evaluation of one design by one agent, as recorded in the store.

    ``worker`` names the process that made it (several workers may share one run);
    ``orphaned`` marks an evaluation that was in flight when its process died (it is redone);
    ``cached`` marks one served from the cache of identical designs.
    """

    design: Design
    metrics: Metrics
    state: EvalState
    agent: str = ""
    seed: int | None = None
    eval_seconds: float = 0.0
    error: str | None = None
    number: int | None = None
    cached: bool = False
    worker: str = ""
    orphaned: bool = False

    @property
    def ok(self) -> bool:
        return self.state is EvalState.COMPLETE

    def to_dict(self) -> dict[str, Any]:
        return {
            "design": self.design.to_dict(),
            "design_key": self.design.key,
            "metrics": self.metrics.to_dict(),
            "state": self.state.value,
            "agent": self.agent,
            "seed": self.seed,
            "eval_seconds": self.eval_seconds,
            "error": self.error,
            "number": self.number,
            "cached": self.cached,
            "worker": self.worker,
            "orphaned": self.orphaned,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvalRecord:
        return cls(
            design=Design(data["design"]),
            metrics=Metrics.from_dict(data.get("metrics", {})),
            state=EvalState(data["state"]),
            agent=str(data.get("agent", "")),
            seed=data.get("seed"),
            eval_seconds=float(data.get("eval_seconds", 0.0)),
            error=data.get("error"),
            number=data.get("number"),
            cached=bool(data.get("cached", False)),
            worker=str(data.get("worker", "")),
            orphaned=bool(data.get("orphaned", False)),
        )
