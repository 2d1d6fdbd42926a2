"""Space <-> the box form BoTorch optimizes over (torch-free: NumPy arrays only).

Each design becomes a point ``x`` of the box ``bounds[0] <= x <= bounds[1]`` (``bounds`` has
shape ``(2, d)``, as ``optimize_acqf`` expects). Encoding per parameter kind:

============================  ===========================  =================================
kind                          column(s)                    dims list
============================  ===========================  =================================
integer / bitwidth            the value, ``[low, high]``   ``integer_dims``
pow2                          ``log2(value)``              ``integer_dims``
ordinal                       the index, ``[0, size-1]``   ``integer_dims``
categorical                   the index, ``[0, k-1]``      ``categorical_dims`` ``{dim: k}``
categorical, ``onehot=True``  ``k`` columns in ``[0, 1]``  ``onehot_features`` ``{start: k}``
============================  ===========================  =================================

Why these choices:

- *pow2 as log2*: array and buffer sizes act multiplicatively (cost scales with the ratio of
  sizes), so a stationary GP kernel fits them far better on a log scale, and every integer
  exponent of the box is a valid value.
- *ordinal as index*: ordinal values may be unevenly spaced (``6.4, 12.8, 25.6`` GB/s, tile
  divisors ``1, 2, 4, 7, 14, 28``), so their raw values are neither integers nor evenly spaced
  and rounding in value space would miss valid points. The index keeps the order (a GP still
  sees monotone trends) and makes every integer of ``[0, size-1]`` a valid value.
- *categorical as index* (default): the column holds a label, not a magnitude; pass
  ``categorical_dims`` as ``cat_dims`` to ``MixedSingleTaskGP`` (a categorical kernel) and
  :meth:`BotorchForm.cat_values` as ``cat_dims`` to ``optimize_acqf_mixed_alternating``.
- *categorical one-hot* (``onehot=True``): for models with a plain continuous kernel
  (``SingleTaskGP``); ``onehot_features`` is the ``categorical_features`` argument of BoTorch's
  ``Round`` / ``OneHotToNumeric`` input transforms. :meth:`BotorchForm.decode` takes the argmax
  of each block (ties go to the first choice).

:meth:`BotorchForm.decode` clips to the bounds and rounds to the nearest valid value, so *any*
point of the box (and beyond) decodes to a design in the parameters' domains. Constraints of
the space are not applied; check them with :meth:`Space.violations`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from codesign.errors import SpaceError
from codesign.spaces.params import Categorical, Integer, Param, PowerOfTwo
from codesign.spaces.space import Space
from codesign.types import Design


def _as_array(x: Any) -> np.ndarray:
    """A float64 NumPy array from an array-like (torch tensors included, via ``detach``)."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        x = x.detach().cpu().numpy()
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise SpaceError(f"a BoTorch point must be an array of numbers, but got {type(x).__name__}") from None


@dataclass(frozen=True)
class _Column:
    """How one parameter maps to column(s) ``start .. start+width-1``."""

    param: Param
    start: int
    width: int


def _low_high(p: Param, onehot: bool) -> list[tuple[float, float]]:
    if isinstance(p, Categorical):
        return [(0.0, 1.0)] * p.size if onehot else [(0.0, float(p.size - 1))]
    if isinstance(p, Integer):
        return [(float(p.low), float(p.high))]
    if isinstance(p, PowerOfTwo):
        return [(math.log2(p.low), math.log2(p.high))]
    return [(0.0, float(p.size - 1))]


@dataclass
class BotorchForm:
    """The box form of a space for BoTorch; build it with :func:`to_botorch`.

    Attributes:
        space: the design space.
        names: column names, ``d`` of them (the parameter name, or ``"name=choice"`` for one-hot
            columns).
        bounds: ``(2, d)`` array: row 0 lower bounds, row 1 upper bounds.
        integer_dims: columns that take integer values (integer, bitwidth, pow2, ordinal).
        categorical_dims: ``{column: number of categories}`` of index-encoded categoricals
            (empty when ``onehot``).
        onehot: whether categoricals are one-hot encoded.
        onehot_features: ``{first column: number of categories}`` of one-hot blocks (empty
            unless ``onehot``).
    """

    space: Space
    names: list[str]
    bounds: np.ndarray
    integer_dims: list[int]
    categorical_dims: dict[int, int]
    onehot: bool = False
    onehot_features: dict[int, int] = field(default_factory=dict)
    _columns: list[_Column] = field(default_factory=list, repr=False, compare=False)

    @property
    def dim(self) -> int:
        """Number of columns ``d``."""
        return len(self.names)

    # --- encode ---------------------------------------------------------------------------
    def encode(self, design: Mapping[str, Any]) -> np.ndarray:
        """Design -> float64 point of shape ``(d,)`` inside :attr:`bounds`.

        Raises:
            SpaceError: a parameter is missing or a value is outside its domain.
        """
        missing = [n for n in self.space.names if n not in design]
        if missing:
            raise SpaceError(f"design must set every parameter of {self.space.name!r}; missing {missing[:5]}")
        x = np.zeros(self.dim, dtype=np.float64)
        for col in self._columns:
            p, value = col.param, design[col.param.name]
            i = p.index(value)
            if isinstance(p, Categorical):
                if self.onehot:
                    x[col.start + i] = 1.0
                else:
                    x[col.start] = i
            elif isinstance(p, Integer):
                x[col.start] = p.values[i]
            elif isinstance(p, PowerOfTwo):
                x[col.start] = math.log2(p.values[i])
            else:
                x[col.start] = i
        return x

    def encode_many(self, designs: Iterable[Mapping[str, Any]]) -> np.ndarray:
        """Designs -> ``(n, d)`` array (``(0, d)`` for no designs)."""
        rows = [self.encode(d) for d in designs]
        return np.stack(rows) if rows else np.zeros((0, self.dim), dtype=np.float64)

    # --- decode ---------------------------------------------------------------------------
    def decode(self, x: Any) -> Design:
        """Point of shape ``(d,)`` -> Design: clip to :attr:`bounds`, round to the nearest valid
        value (argmax of one-hot blocks). Constraints are not checked.

        Raises:
            SpaceError: ``x`` is not of shape ``(d,)`` or has a non-finite entry.
        """
        arr = _as_array(x)
        if arr.shape != (self.dim,):
            raise SpaceError(f"a BoTorch point of {self.space.name!r} must have shape ({self.dim},), but got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise SpaceError(f"a BoTorch point must be finite, but got {arr.tolist()}")
        arr = np.clip(arr, self.bounds[0], self.bounds[1])
        return self.space.from_indices(self._decode_index(col, arr) for col in self._columns)

    def decode_many(self, X: Any) -> list[Design]:
        """``(n, d)`` array -> list of n Designs (see :meth:`decode`)."""
        arr = _as_array(X)
        if arr.ndim != 2 or arr.shape[1] != self.dim:
            raise SpaceError(f"BoTorch points of {self.space.name!r} must have shape (n, {self.dim}), but got {arr.shape}")
        return [self.decode(row) for row in arr]

    def _decode_index(self, col: _Column, x: np.ndarray) -> int:
        p = col.param
        if isinstance(p, Categorical) and self.onehot:
            return int(np.argmax(x[col.start : col.start + col.width]))
        v = float(x[col.start])
        if isinstance(p, Integer):
            i = math.floor((v - p.low) / p.step + 0.5)
        elif isinstance(p, PowerOfTwo):
            i = math.floor(v + 0.5) - int(math.log2(p.low))
        else:
            i = math.floor(v + 0.5)
        return min(max(i, 0), p.size - 1)

    # --- helpers for BoTorch optimizers --------------------------------------------------------
    def discrete_values(self) -> dict[int, list[float]]:
        """``{column: sorted allowed values}`` of :attr:`integer_dims` — the ``discrete_dims``
        argument of ``optimize_acqf_mixed_alternating``."""
        out: dict[int, list[float]] = {}
        for col in self._columns:
            p = col.param
            if isinstance(p, Categorical):
                continue
            if isinstance(p, Integer):
                out[col.start] = [float(v) for v in p.values]
            elif isinstance(p, PowerOfTwo):
                out[col.start] = [math.log2(v) for v in p.values]
            else:
                out[col.start] = [float(i) for i in range(p.size)]
        return out

    def cat_values(self) -> dict[int, list[float]]:
        """``{column: [0, 1, ..., k-1]}`` of :attr:`categorical_dims` — the ``cat_dims`` argument
        of ``optimize_acqf_mixed_alternating``."""
        return {dim: [float(i) for i in range(k)] for dim, k in self.categorical_dims.items()}

    def sample_box(self, n: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """``n`` uniform points of the box, shape ``(n, d)`` (e.g. raw initial points)."""
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        return gen.uniform(self.bounds[0], self.bounds[1], size=(n, self.dim))


def to_botorch(space: Space, onehot: bool = False) -> BotorchForm:
    """The box form of ``space`` (see the module docstring for the encoding).

    Args:
        space: the design space.
        onehot: one-hot encode categorical parameters instead of using an index column.

    Returns:
        A :class:`BotorchForm` with ``encode``/``decode`` and the dims lists BoTorch needs.
    """
    names: list[str] = []
    lows: list[float] = []
    highs: list[float] = []
    integer_dims: list[int] = []
    categorical_dims: dict[int, int] = {}
    onehot_features: dict[int, int] = {}
    columns: list[_Column] = []
    for p in space.params:
        start = len(names)
        spans = _low_high(p, onehot)
        columns.append(_Column(p, start, len(spans)))
        for lo, hi in spans:
            lows.append(lo)
            highs.append(hi)
        if isinstance(p, Categorical):
            if onehot:
                names.extend(f"{p.name}={c}" for c in p.choices)
                onehot_features[start] = p.size
            else:
                names.append(p.name)
                categorical_dims[start] = p.size
        else:
            names.append(p.name)
            integer_dims.append(start)
    bounds = np.array([lows, highs], dtype=np.float64).reshape(2, len(names))
    return BotorchForm(space, names, bounds, integer_dims, categorical_dims, onehot, onehot_features, columns)


__all__ = ["BotorchForm", "to_botorch"]
