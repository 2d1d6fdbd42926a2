"""Workload ops as loop nests with operand projections (REFERENCES.md §3).

A :class:`LoopProblem` has named dims with sizes and three operands ``W`` (weights or the
second activation), ``I`` (input activations) and ``O`` (outputs, read-write). Each operand is
indexed by *axes*; an axis is either one dim or a sliding window ``(out_dim, kernel_dim,
stride[, limit])`` whose extent over a tile with extents ``p, r`` is ``min(p·r, s·(p−1) + r,
limit)`` (the union of the windows; no overlap when ``r < s``; ``limit`` = the input's extent
without its zero padding, which is never fetched — ``input_size`` in the dict form).

- conv: dims ``G, B, C, M, R, S, P, Q`` (``G`` = groups, ``C``/``M`` per group):
  ``W[G,M,C,R,S]``, ``I[B,G,C,(P,R,s),(Q,S,s)]``, ``O[B,G,M,P,Q]``.
- gemm / MoE expert: dims ``M, N, K`` (``M`` = tokens, for experts ``M_e = T·k·f_e`` from the
  routing frequencies, see :mod:`codesign.workloads.zoo`): ``W[K,N]``, ``I[M,K]``, ``O[M,N]``.
- attn: as gemm plus a head dim ``H`` on every operand; ``W`` is the second activation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from codesign.errors import ConfigError
from codesign.workloads.layer import Layer

OPERANDS = ("W", "I", "O")
Axis = tuple[str, ...]  # ("d",) or ("p", "r", stride)


@dataclass(frozen=True)
class LoopProblem:
    """A loop nest: ``dims`` (name -> size), operand axes, operand bits.

    Attributes:
        name: layer name.
        dims: ordered dim sizes.
        axes: operand -> tuple of axes (``("d",)`` or ``("p", "r", stride)``).
        bits: operand -> bits per element (``O`` at its final precision).
        psum_bits: bits of an output partial sum below the top level.
        count: identical repetitions (``Layer.count``).
    """

    name: str
    dims: Mapping[str, int]
    axes: Mapping[str, tuple[tuple[Any, ...], ...]]
    bits: Mapping[str, int] = field(default_factory=lambda: {"W": 8, "I": 8, "O": 8})
    psum_bits: int = 8
    count: int = 1

    def __post_init__(self) -> None:
        for d, v in self.dims.items():
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ConfigError(f"problem {self.name!r}: dim {d} must be an integer >= 1, but got {v!r}")
        for op in OPERANDS:
            if op not in self.axes:
                raise ConfigError(f"problem {self.name!r} must define operand {op}")
            for ax in self.axes[op]:
                unknown = [d for d in ax[:2] if isinstance(d, str) and d not in self.dims]
                if unknown:
                    raise ConfigError(f"problem {self.name!r}: operand {op} uses unknown dims {unknown}")

    @property
    def dim_names(self) -> tuple[str, ...]:
        return tuple(self.dims)

    @property
    def macs(self) -> int:
        return int(np.prod([int(v) for v in self.dims.values()], dtype=np.int64))

    def relevant(self, op: str) -> np.ndarray:
        """Boolean mask over dims: which dims index operand ``op``."""
        return self._masks[op][0].copy()

    def window(self, op: str) -> np.ndarray:
        """Boolean mask over dims: dims that take part in a sliding-window axis of ``op``."""
        return self._masks[op][1].copy()

    @cached_property
    def _masks(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        out = {}
        for op in OPERANDS:
            rel = {d for ax in self.axes[op] for d in ax[:2] if isinstance(d, str)}
            win = {d for ax in self.axes[op] if len(ax) >= 3 for d in ax[:2]}
            out[op] = (np.array([d in rel for d in self.dims]), np.array([d in win for d in self.dims]))
        return out

    @cached_property
    def axis_plan(self) -> dict[str, tuple[tuple[Any, ...], ...]]:
        """Per operand, its axes as dim indices: ``(i,)`` or ``(p, r, stride)``."""
        idx = {d: i for i, d in enumerate(self.dims)}
        return {op: tuple((idx[ax[0]],) if len(ax) == 1 else
                          (idx[ax[0]], idx[ax[1]], float(ax[2]), float(ax[3]) if len(ax) > 3 else np.inf)
                          for ax in self.axes[op]) for op in OPERANDS}

    def footprint(self, op: str, ext: np.ndarray) -> np.ndarray:
        """Elements of ``op`` touched by a tile with extents ``ext`` (``(..., D)``)."""
        out: Any = 1.0
        for ax in self.axis_plan[op]:
            if len(ax) == 1:
                out = out * ext[..., ax[0]]
            else:
                p, r = ext[..., ax[0]], ext[..., ax[1]]
                out = out * np.minimum(np.minimum(p * r, ax[2] * (p - 1) + r), ax[3])
        return out * np.ones(ext.shape[:-1]) if np.ndim(out) == 0 else out

    def size(self, op: str) -> float:
        return float(self.footprint(op, np.array([float(v) for v in self.dims.values()])))


def _conv_axes(stride: int, input_size: Mapping[str, int] | None = None) -> dict[str, tuple[tuple[Any, ...], ...]]:
    lim = lambda d: (int(input_size[d]),) if input_size and d in input_size else ()  # noqa: E731
    return {
        "W": (("G",), ("M",), ("C",), ("R",), ("S",)),
        "I": (("B",), ("G",), ("C",), ("P", "R", stride, *lim("P")), ("Q", "S", stride, *lim("Q"))),
        "O": (("B",), ("G",), ("M",), ("P",), ("Q",)),
    }


def from_layer(layer: Layer, w_bits: int = 8, a_bits: int = 8, psum_bits: int = 32,
               input_size: Mapping[str, int] | None = None) -> LoopProblem:
    """The loop nest of a workload :class:`~codesign.workloads.layer.Layer` (``input_size``: the
    conv input's extent per output dim ``P``/``Q`` without padding; default: the layer's
    ``tags["input_size"]`` where the workload records it, else no clipping)."""
    d = layer.dims
    bits = {"W": w_bits if layer.weights is not None else a_bits, "I": a_bits, "O": a_bits}
    if layer.op == "conv":
        if input_size is None and isinstance(layer.tags.get("input_size"), Mapping):
            input_size = {k: int(v) for k, v in layer.tags["input_size"].items() if k in ("P", "Q")}
        g = layer.groups
        dims = {"G": g, "B": d["B"], "C": d["C"] // g, "M": d["M"] // g, "R": d["R"], "S": d["S"],
                "P": d["P"], "Q": d["Q"]}
        return LoopProblem(layer.name, dims, _conv_axes(layer.stride, input_size), bits, psum_bits, layer.count)
    axes: dict[str, tuple[tuple[Any, ...], ...]] = {"W": (("K",), ("N",)), "I": (("M",), ("K",)), "O": (("M",), ("N",))}
    dims = {"M": d["M"], "N": d["N"], "K": d["K"]}
    if layer.op == "attn":
        dims = {"H": layer.heads, **dims}
        axes = {op: (("H",),) + ax for op, ax in axes.items()}
    return LoopProblem(layer.name, dims, axes, bits, psum_bits, layer.count)


def from_dict(data: Mapping[str, Any], name: str = "problem") -> LoopProblem:
    """``{"op": "conv"|"gemm"|"attn", "dims": {...}, "stride", "groups", "bits", "psum_bits",
    "input_size": {"P": ..., "Q": ...}}`` (``input_size``: conv input extents without padding)."""
    if not isinstance(data, Mapping) or "op" not in data or "dims" not in data:
        raise ConfigError(f"problem must be a mapping with 'op' and 'dims', but got {data!r}")
    kw = {k: data[k] for k in ("stride", "groups", "heads") if k in data}
    layer = Layer(str(data.get("name", name)), str(data["op"]), dict(data["dims"]), **kw)
    bits = dict(data.get("bits") or {})
    size = data.get("input_size")
    if size is not None and (not isinstance(size, Mapping) or set(size) - {"P", "Q"}
                             or not all(isinstance(v, int) and v >= 1 for v in size.values())):
        raise ConfigError(f"problem input_size must map P/Q to integers >= 1, but got {size!r}")
    lp = from_layer(layer, int(bits.get("W", 8)), int(bits.get("I", 8)), int(data.get("psum_bits", bits.get("O", 8))),
                    size)
    if "O" in bits:
        lp = LoopProblem(lp.name, lp.dims, lp.axes, {**lp.bits, "O": int(bits["O"])}, lp.psum_bits, lp.count)
    return lp
