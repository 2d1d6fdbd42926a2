"""Zero-bit-skipping bit-serial PE (weights serialized as essential terms) and its event counter.

Follows Pragmatic (Albericio et al., MICRO 2017) and Laconic (Sharify et al., ISCA 2019),
REFERENCES.md §2: a serial PE spends one cycle per *essential* (non-zero) term of the serialized
operand instead of one per bit. Here the weights are serialized (as in the weight-serial
Pragmatic simulators, e.g. yc2367's ``sim/pragmatic.py``), the activation stays parallel:

- a weight ``w`` is a sum of signed power-of-two terms ``w = Σ_j 2^j·T_j``
  (:func:`codesign.rtl_sim.bits.term_planes`): ``binary`` = sign-magnitude "oneffsets" of
  Pragmatic (``popcount(|w|)`` terms), ``csd`` = canonical signed digits (non-adjacent form, the
  fewest signed terms; Laconic encodes its operands in signed Booth terms for the same reason);
- each cycle every lane adds one term ``±(a << j)`` of its weight into the step sum;
- **synchronization rule**: the whole array advances in lockstep (one controller), so a step
  takes ``P_s = max(1, max over the step's weights of their term count)`` cycles, the weights
  of a step being the ``lanes`` reduction elements of every one of the tile's ``C`` columns
  (the synchronized lane group of ``lanes × C`` weights; a step that is all zeros still takes
  the cycle in which its operands are latched).

Cycles of ``O = A·W`` on an ``R × C`` array: every output tile ``(m-tile, n-tile)`` takes
``Σ_s P_s(n-tile) + 1`` cycles, so ``compute = ceil(M/R)·Σ_{n-tiles} Σ_s P_s`` and
``overhead = ceil(M/R)·ceil(N/C)``; the closed-form worst case uses ``P = max_terms(w_bits)``.

:func:`step_phases` is the exact event counter: plain NumPy on an integer weight matrix (no
torch), so the cost model can call it on a real model's quantized weights. :func:`sample_mean_phases`
estimates the mean ``P`` from random step/tile blocks, with its standard error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from codesign.errors import ConfigError
from codesign.rtl_sim.bits import TERM_ENCODINGS, check_int_range, max_terms, term_counts
from codesign.rtl_sim.pes import PE, Precision

__all__ = ["EssentialPE", "step_phases", "essential_cycles", "sample_mean_phases", "mean_phases"]


@dataclass(frozen=True)
class EssentialPE(PE):
    """Weight-serial PE that skips zero bits (see the module docstring).

    Attributes:
        encoding: ``binary`` (Pragmatic sign-magnitude oneffsets) or ``csd`` (signed terms).
    """

    encoding: Literal["binary", "csd"] = "binary"
    family: str = field(default="essential", init=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.encoding not in TERM_ENCODINGS:
            raise ConfigError(f"`encoding` must be one of {TERM_ENCODINGS}, but got {self.encoding!r}")

    @property
    def key(self) -> str:
        return "essential" if self.encoding == "binary" else f"essential:{self.encoding}"

    @property
    def data_dependent(self) -> bool:
        return True

    def phases(self, prec: Precision) -> int:
        """Worst case: the most terms any ``w_bits`` value has (at least one cycle)."""
        return max(1, max_terms(prec.w_bits, prec.w_signed, self.encoding))

    def shifts_per_step(self, prec: Precision) -> int:
        return 0  # a term's shift is in the activation shifter, the step sum is never shifted


def _blocks(w: np.ndarray, encoding: str, lanes: int, cols: int) -> np.ndarray:
    """Term counts padded and reshaped to ``(steps, lanes, n_tiles, cols)``."""
    t = term_counts(np.asarray(w), encoding)
    k, n = t.shape
    steps, tiles = -(-k // lanes), -(-n // cols)
    pad = np.zeros((steps * lanes, tiles * cols), dtype=np.uint8)
    pad[:k, :n] = t
    return pad.reshape(steps, lanes, tiles, cols)


def step_phases(w: np.ndarray, lanes: int, cols: int, encoding: str = "binary") -> np.ndarray:
    """Cycles ``P`` of every (n-tile, step): ``max(1, max terms)`` over its ``lanes × cols`` weights.

    Args:
        w: ``(K, N)`` integer weights (any signedness; values as the PE sees them).
        lanes: reduction elements per step (the PE's dot-product width).
        cols: array columns (the tile's N extent).

    Returns:
        ``(ceil(N/cols), ceil(K/lanes))`` int64 array.
    """
    w = np.asarray(w)
    if w.ndim != 2 or w.dtype.kind not in "iu":
        raise ConfigError(f"`w` must be a (K, N) integer matrix, but got {w.dtype} {w.shape}")
    check_int_range("lanes", lanes, 1, 1 << 16)
    check_int_range("cols", cols, 1, 1 << 16)
    p = _blocks(w, encoding, lanes, cols).max(axis=(1, 3)).T.astype(np.int64)
    return np.maximum(p, 1)


def essential_cycles(m: int, w: np.ndarray, pe: EssentialPE, array: tuple[int, int]) -> dict[str, Any]:
    """Exact cycles and term counts of ``(M×K)·W`` on an ``array`` of ``pe`` PEs.

    Returns ``compute_cycles``, ``overhead_cycles``, ``shift_adds`` (useful terms added:
    ``M·Σ terms(W)``), ``phases`` (the :func:`step_phases` matrix) and ``mean_phases``.
    """
    rows, cols = array
    p = step_phases(w, pe.lanes, cols, pe.encoding)
    m_tiles = -(-int(m) // rows)
    terms = int(term_counts(np.asarray(w), pe.encoding).sum(dtype=np.int64))
    return {"compute_cycles": m_tiles * int(p.sum()), "overhead_cycles": m_tiles * p.shape[0],
            "shift_adds": int(m) * terms, "phases": p, "mean_phases": float(p.mean())}


def mean_phases(w: np.ndarray, lanes: int, cols: int, encoding: str = "binary") -> float:
    """Mean step cycles ``P̄`` over every (n-tile, step) block: the data-dependent cycles per
    MAC of one lane (the closed form's ``P`` is the worst case)."""
    return float(step_phases(w, lanes, cols, encoding).mean())


def sample_mean_phases(w: np.ndarray, lanes: int, cols: int, encoding: str = "binary",
                       samples: int = 256, seed: int = 0) -> dict[str, float]:
    """Estimate ``P̄`` from ``samples`` random (n-tile, step) blocks drawn without replacement.

    Returns ``{"mean", "stderr", "samples", "blocks"}``; the standard error carries the
    finite-population correction, and is 0 when every block is drawn (then the mean is exact).
    """
    check_int_range("samples", samples, 1, 1 << 40)
    blocks = _blocks(np.asarray(w), encoding, lanes, cols)
    steps, tiles = blocks.shape[0], blocks.shape[2]
    total = steps * tiles
    n = min(samples, total)
    idx = np.random.default_rng(seed).choice(total, size=n, replace=False)
    s, t = np.divmod(idx, tiles)
    p = np.maximum(blocks[s, :, t, :].max(axis=(1, 2)).astype(np.float64), 1.0)
    fpc = (total - n) / max(1, total - 1)
    stderr = float(p.std(ddof=1) / np.sqrt(n) * np.sqrt(fpc)) if n > 1 else 0.0
    return {"mean": float(p.mean()), "stderr": stderr, "samples": n, "blocks": total}
