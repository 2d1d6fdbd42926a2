"""Layer and Workload: the operations a DNN runs, as shapes (no weights needed for cost).

Operation kinds and their dimensions (REFERENCES.md §3):

- ``gemm``: ``Y[M, N] = X[M, K] · W[K, N]`` — dims ``M, N, K``. ``M`` counts tokens/rows.
- ``conv``: ``O[B, M, P, Q] = Σ I[B, C, s·P+R−1, s·Q+S−1] · W[M, C/g, R, S]`` — dims
  ``B, C, M, R, S, P, Q`` plus ``stride`` and ``groups`` (depthwise: ``groups == C == M``).
- ``attn``: an attention matmul between two activations (``QKᵀ`` or ``A·V``) — dims
  ``M, N, K`` and ``heads``; no operand holds weights.

``weights`` names the operand that holds weights (``"W"`` or ``None``). MoE expert layers
carry ``expert`` (index), ``block`` (linear block, e.g. ``w1``) and ``tokens`` (tokens
routed to the expert, ``M_e = T·k·f_e``). ``count`` repeats identical layers (e.g. the 32
decoder blocks of Llama-2-7B share one entry with ``count=32``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from codesign.errors import WorkloadError

OPS = ("gemm", "conv", "attn")
_DIMS = {
    "gemm": ("M", "N", "K"),
    "attn": ("M", "N", "K"),
    "conv": ("B", "C", "M", "R", "S", "P", "Q"),
}


@dataclass(frozen=True)
class Layer:
    """One operation of a workload. See the module docstring for the dims of each op."""

    name: str
    op: str
    dims: Mapping[str, int]
    stride: int = 1
    groups: int = 1
    heads: int = 1
    weights: str | None = "W"
    expert: int | None = None
    block: str | None = None
    tokens: float | None = None
    count: int = 1
    tags: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise WorkloadError(f"layer name must be a non-empty string, but got {self.name!r}")
        if self.op not in OPS:
            raise WorkloadError(f"layer {self.name!r}: op must be one of {OPS}, but got {self.op!r}")
        need = _DIMS[self.op]
        dims = dict(self.dims)
        if self.op == "conv":
            dims.setdefault("B", 1)
        missing = [d for d in need if d not in dims]
        if missing or set(dims) - set(need):
            raise WorkloadError(
                f"layer {self.name!r} ({self.op}) must have dims {list(need)}, but got {sorted(dims)}"
            )
        for d, v in dims.items():
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise WorkloadError(f"layer {self.name!r}: dim {d} must be an integer >= 1, but got {v!r}")
        object.__setattr__(self, "dims", {d: dims[d] for d in need})
        for attr in ("stride", "groups", "heads", "count"):
            v = getattr(self, attr)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise WorkloadError(f"layer {self.name!r}: {attr} must be an integer >= 1, but got {v!r}")
        if self.op == "conv" and (dims["C"] % self.groups or dims["M"] % self.groups):
            raise WorkloadError(
                f"layer {self.name!r}: groups must divide C and M, but got C={dims['C']}, "
                f"M={dims['M']}, groups={self.groups}"
            )
        if self.op == "attn":
            object.__setattr__(self, "weights", None)
        elif self.weights not in ("W", None):
            raise WorkloadError(f"layer {self.name!r}: weights must be 'W' or None, but got {self.weights!r}")

    def __hash__(self) -> int:
        return hash((self.name, self.op, tuple(self.dims.items()), self.stride, self.groups,
                     self.heads, self.weights, self.expert, self.block, self.tokens, self.count))

    # --- derived quantities (per instance; multiply by ``count`` for the whole workload) ---
    @property
    def macs(self) -> int:
        m, n, k = self.gemm_shape
        return m * n * k * self.gemm_batch

    @property
    def gemm_batch(self) -> int:
        """Independent GEMMs of shape :attr:`gemm_shape` (conv groups, attention heads)."""
        return self.groups if self.op == "conv" else self.heads if self.op == "attn" else 1

    @property
    def gemm_shape(self) -> tuple[int, int, int]:
        """``(M, N, K)`` of the lowered GEMM (conv via im2col, per group / head)."""
        d = self.dims
        if self.op == "conv":
            return d["B"] * d["P"] * d["Q"], d["M"] // self.groups, d["C"] // self.groups * d["R"] * d["S"]
        return d["M"], d["N"], d["K"]

    @property
    def weight_elems(self) -> int:
        if self.weights is None:
            return 0
        d = self.dims
        if self.op == "conv":
            return d["M"] * (d["C"] // self.groups) * d["R"] * d["S"]
        return d["K"] * d["N"]

    @property
    def input_elems(self) -> int:
        """Elements of the activation input (with the conv halo; both operands for attn)."""
        d = self.dims
        if self.op == "conv":
            h = self.stride * (d["P"] - 1) + d["R"]
            w = self.stride * (d["Q"] - 1) + d["S"]
            return d["B"] * d["C"] * h * w
        if self.op == "attn":
            return self.heads * (d["M"] * d["K"] + d["K"] * d["N"])
        return d["M"] * d["K"]

    @property
    def output_elems(self) -> int:
        d = self.dims
        if self.op == "conv":
            return d["B"] * d["M"] * d["P"] * d["Q"]
        return d["M"] * d["N"] * self.heads if self.op == "attn" else d["M"] * d["N"]

    @property
    def quantizable(self) -> bool:
        """Whether the layer has weights to quantize (attention matmuls do not)."""
        return self.weights is not None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "op": self.op, "dims": dict(self.dims)}
        for attr, default in (("stride", 1), ("groups", 1), ("heads", 1), ("count", 1)):
            if getattr(self, attr) != default:
                out[attr] = getattr(self, attr)
        if self.op != "attn" and self.weights is None:
            out["weights"] = None
        for attr in ("expert", "block", "tokens"):
            if getattr(self, attr) is not None:
                out[attr] = getattr(self, attr)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Layer:
        allowed = {"name", "op", "dims", "stride", "groups", "heads", "weights", "expert", "block", "tokens", "count"}
        if not isinstance(data, Mapping):
            raise WorkloadError(f"a layer must be a mapping, but got {data!r}")
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise WorkloadError(f"layer keys must be among {sorted(allowed)}, but got unknown {unknown}")
        if "name" not in data or "op" not in data or "dims" not in data:
            raise WorkloadError(f"a layer must have 'name', 'op' and 'dims', but got {sorted(data)}")
        return cls(**dict(data))


def gemm(name: str, M: int, N: int, K: int, **kw: Any) -> Layer:
    """A GEMM / linear layer: ``Y[M,N] = X[M,K] · W[K,N]``."""
    return Layer(name, "gemm", {"M": M, "N": N, "K": K}, **kw)


def conv(
    name: str, C: int, M: int, R: int, P: int, Q: int | None = None, S: int | None = None,
    stride: int = 1, groups: int = 1, B: int = 1, **kw: Any,
) -> Layer:
    """A 2-D convolution with ``C`` in-channels, ``M`` out-channels, ``R×S`` kernel, ``P×Q`` output."""
    return Layer(
        name, "conv", {"B": B, "C": C, "M": M, "R": R, "S": R if S is None else S, "P": P, "Q": P if Q is None else Q},
        stride=stride, groups=groups, **kw,
    )


def attn(name: str, M: int, N: int, K: int, heads: int = 1, **kw: Any) -> Layer:
    """An attention matmul between activations, per head ``[M,K]·[K,N]``."""
    return Layer(name, "attn", {"M": M, "N": N, "K": K}, heads=heads, weights=None, **kw)


class Workload:
    """A named, ordered collection of layers with unique names."""

    def __init__(self, name: str, layers: Iterable[Layer], meta: Mapping[str, Any] | None = None) -> None:
        self.name = name
        self.layers: tuple[Layer, ...] = tuple(layers)
        self.meta = dict(meta or {})
        if not self.layers:
            raise WorkloadError(f"workload {name!r} must have at least one layer")
        counts = Counter(l.name for l in self.layers)
        dup = sorted(n for n, c in counts.items() if c > 1)
        if dup:
            raise WorkloadError(f"workload {name!r}: layer names must be unique, but {dup} repeat")
        self._by_name = {l.name: l for l in self.layers}

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, name: str) -> Layer:
        try:
            return self._by_name[name]
        except KeyError:
            raise WorkloadError(f"workload {self.name!r} has no layer {name!r}") from None

    def __repr__(self) -> str:
        return f"Workload({self.name!r}, {len(self.layers)} layers, {self.total_macs / 1e9:.3g} GMAC)"

    @property
    def total_macs(self) -> int:
        return sum(l.macs * l.count for l in self.layers)

    @property
    def quantizable_layers(self) -> tuple[Layer, ...]:
        return tuple(l for l in self.layers if l.quantizable)

    @property
    def experts(self) -> tuple[Layer, ...]:
        return tuple(l for l in self.layers if l.expert is not None)

    @property
    def is_moe(self) -> bool:
        return any(l.expert is not None for l in self.layers)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "layers": [l.to_dict() for l in self.layers], "meta": self.meta}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Workload:
        if not isinstance(data, Mapping) or "layers" not in data:
            raise WorkloadError("a workload must be a mapping with 'name' and 'layers'")
        return cls(str(data.get("name", "workload")), [Layer.from_dict(l) for l in data["layers"]], data.get("meta"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Workload) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((self.name, self.layers))


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)

