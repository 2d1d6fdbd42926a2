"""Parameter types of a design space.

Every parameter has a finite, ordered tuple of ``values`` (design spaces of accelerators are
discrete); its position in that tuple is the parameter's *index*, used by the gymnasium,
sequence and ordinal encodings. Kinds:

- :class:`Categorical` — unordered choices (PE type, dataflow).
- :class:`Integer` — ``low, low+step, ..., high``.
- :class:`PowerOfTwo` — ``2^a, ..., 2^b`` (array sizes, buffer sizes).
- :class:`Ordinal` — ordered explicit values (clock frequencies, bandwidths).
- :class:`Bitwidth` — integer bit widths in ``[low, high]`` (1..16).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from codesign.errors import SpaceError

Value = int | float | str | bool


def _is_scalar(v: Any) -> bool:
    return isinstance(v, (int, float, str, bool))


def _integral(value: Any) -> int | None:
    """``value`` as an int if it is a finite integral real number (numpy ones too, not bools)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if not math.isfinite(value) or value != int(value):
        return None
    return int(value)


@dataclass(frozen=True)
class Param:
    """Base class: a named parameter with a subsystem and a finite ordered domain."""

    name: str
    subsystem: str = "hw"
    kind: ClassVar[str] = "param"
    values: tuple[Value, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise SpaceError(f"parameter name must be a non-empty string, but got {self.name!r}")
        if not isinstance(self.subsystem, str) or not self.subsystem:
            raise SpaceError(f"{self.name}: subsystem must be a non-empty string, but got {self.subsystem!r}")
        values = tuple(self._domain())
        if not values:
            raise SpaceError(f"{self.name}: domain must not be empty")
        object.__setattr__(self, "values", values)

    def _domain(self) -> Sequence[Value]:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def size(self) -> int:
        return len(self.values)

    @property
    def ordered(self) -> bool:
        """Whether the values have a meaningful order (all but categorical)."""
        return True

    def index(self, value: Any) -> int:
        """Position of ``value`` in :attr:`values`; SpaceError if not in the domain."""
        for i, v in enumerate(self.values):
            if v == value and isinstance(v, bool) == isinstance(value, bool):
                return i
        raise SpaceError(f"{self.name} must be one of {self._domain_text()}, but got {value!r}")

    def contains(self, value: Any) -> bool:
        try:
            self.index(value)
            return True
        except SpaceError:
            return False

    def _domain_text(self) -> str:
        if len(self.values) <= 8:
            return "{" + ", ".join(repr(v) for v in self.values) + "}"
        return f"[{self.values[0]!r} .. {self.values[-1]!r}] ({len(self.values)} values)"

    def to_dict(self) -> dict[str, Any]:
        out = {"type": self.kind, "name": self.name, "subsystem": self.subsystem}
        out.update(self._spec())
        return out

    def _spec(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class Categorical(Param):
    choices: tuple[Value, ...] = ()
    kind: ClassVar[str] = "categorical"

    def __post_init__(self) -> None:
        object.__setattr__(self, "choices", tuple(self.choices))
        for c in self.choices:
            if not _is_scalar(c):
                raise SpaceError(f"{self.name}: choices must be str/int/float/bool, but got {c!r}")
        if len(set(map(repr, self.choices))) != len(self.choices):
            raise SpaceError(f"{self.name}: choices must be distinct, but got {list(self.choices)}")
        super().__post_init__()

    def _domain(self) -> Sequence[Value]:
        return self.choices

    @property
    def ordered(self) -> bool:
        return False

    def _spec(self) -> dict[str, Any]:
        return {"choices": list(self.choices)}


@dataclass(frozen=True)
class Integer(Param):
    low: int = 0
    high: int = 0
    step: int = 1
    kind: ClassVar[str] = "integer"

    def __post_init__(self) -> None:
        for attr in ("low", "high", "step"):
            v = getattr(self, attr)
            if isinstance(v, bool) or not isinstance(v, int):
                raise SpaceError(f"{self.name}: {attr} must be an integer, but got {v!r}")
        if self.step < 1:
            raise SpaceError(f"{self.name}: step must be >= 1, but got {self.step}")
        if self.high < self.low:
            raise SpaceError(f"{self.name}: high must be >= low, but got low={self.low}, high={self.high}")
        if (self.high - self.low) % self.step:
            raise SpaceError(
                f"{self.name}: high - low must be a multiple of step, but got low={self.low}, "
                f"high={self.high}, step={self.step}"
            )
        super().__post_init__()

    def _domain(self) -> Sequence[Value]:
        return range(self.low, self.high + 1, self.step)

    def index(self, value: Any) -> int:
        v = _integral(value)
        if v is None:
            raise SpaceError(f"{self.name} must be an integer in {self._domain_text()}, but got {value!r}")
        if v < self.low or v > self.high or (v - self.low) % self.step:
            raise SpaceError(f"{self.name} must be in {self._domain_text()}, but got {value!r}")
        return (v - self.low) // self.step

    def _domain_text(self) -> str:
        step = f" step {self.step}" if self.step != 1 else ""
        return f"[{self.low}, {self.high}]{step}"

    def _spec(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high, "step": self.step}


@dataclass(frozen=True)
class Bitwidth(Integer):
    """An integer bit width; ``low >= 1`` and ``high <= 32``."""

    low: int = 2
    high: int = 8
    kind: ClassVar[str] = "bitwidth"

    def __post_init__(self) -> None:
        if isinstance(self.low, int) and isinstance(self.high, int) and not (1 <= self.low <= self.high <= 32):
            raise SpaceError(
                f"{self.name}: bit widths must satisfy 1 <= low <= high <= 32, but got "
                f"low={self.low}, high={self.high}"
            )
        super().__post_init__()

    def _spec(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high}


@dataclass(frozen=True)
class PowerOfTwo(Param):
    low: int = 1
    high: int = 1
    kind: ClassVar[str] = "pow2"

    def __post_init__(self) -> None:
        for attr in ("low", "high"):
            v = getattr(self, attr)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1 or v & (v - 1):
                raise SpaceError(f"{self.name}: {attr} must be a power of two >= 1, but got {v!r}")
        if self.high < self.low:
            raise SpaceError(f"{self.name}: high must be >= low, but got low={self.low}, high={self.high}")
        super().__post_init__()

    def _domain(self) -> Sequence[Value]:
        return [1 << e for e in range(int(math.log2(self.low)), int(math.log2(self.high)) + 1)]

    def index(self, value: Any) -> int:
        v = _integral(value)
        if v is None:
            raise SpaceError(f"{self.name} must be a power of two in {self._domain_text()}, but got {value!r}")
        if v < self.low or v > self.high or v & (v - 1):
            raise SpaceError(f"{self.name} must be a power of two in {self._domain_text()}, but got {value!r}")
        return int(math.log2(v)) - int(math.log2(self.low))

    def _domain_text(self) -> str:
        return f"[{self.low}, {self.high}]"

    def _spec(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high}


@dataclass(frozen=True)
class Ordinal(Param):
    """Ordered explicit numeric values (strictly increasing)."""

    choices: tuple[Value, ...] = ()
    kind: ClassVar[str] = "ordinal"

    def __post_init__(self) -> None:
        object.__setattr__(self, "choices", tuple(self.choices))
        if not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in self.choices):
            raise SpaceError(f"{self.name}: ordinal values must be numbers, but got {list(self.choices)}")
        if any(b <= a for a, b in zip(self.choices, self.choices[1:])):
            raise SpaceError(f"{self.name}: ordinal values must be strictly increasing, but got {list(self.choices)}")
        super().__post_init__()

    def _domain(self) -> Sequence[Value]:
        return self.choices

    def index(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise SpaceError(f"{self.name} must be one of {self._domain_text()}, but got {value!r}")
        for i, v in enumerate(self.values):
            if v == value:
                return i
        raise SpaceError(f"{self.name} must be one of {self._domain_text()}, but got {value!r}")

    def _spec(self) -> dict[str, Any]:
        return {"choices": list(self.choices)}


PARAM_TYPES: dict[str, type[Param]] = {
    cls.kind: cls for cls in (Categorical, Integer, Bitwidth, PowerOfTwo, Ordinal)
}


def param_from_dict(data: dict[str, Any]) -> Param:
    """Inverse of :meth:`Param.to_dict`."""
    if not isinstance(data, dict):
        raise SpaceError(f"a parameter must be a mapping, but got {data!r}")
    kind = data.get("type")
    if kind not in PARAM_TYPES:
        raise SpaceError(f"parameter type must be one of {sorted(PARAM_TYPES)}, but got {kind!r}")
    cls = PARAM_TYPES[kind]
    kwargs = {k: v for k, v in data.items() if k != "type"}
    if "choices" in kwargs:
        kwargs["choices"] = tuple(kwargs["choices"])
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise SpaceError(f"parameter {data.get('name')!r} of type {kind!r}: {exc}") from None
