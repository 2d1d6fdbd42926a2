"""Per-layer latency with floor terms, fitted to a measured (w_bits, a_bits) -> cycles table.

HAQ (Wang et al., CVPR 2019; REFERENCES.md §5) takes a bit-serial accelerator's latency from a
measured per-layer table over weight and activation bits. Such a table is not proportional to
``w·a``: below some precision the layer is bound by moving one operand or by fixed per-layer
work, so the latency stops falling. :class:`FloorLatency` is that shape::

    cycles(w, a) = c0 + max(k_wa·w·a, k_a·a, k_w·w)

``c0`` (per-layer fixed overhead: pipeline fill, tile drains, configuration), ``k_wa·w·a``
(bit-serial compute over plane pairs), ``k_a·a`` (floor from streaming activations, e.g.
DRAM or buffer bandwidth), ``k_w·w`` (floor from streaming weights). :func:`fit_floor_latency`
fits the four non-negative coefficients to a table by minimizing the squared relative error
(alternating between the binding term of each point and a non-negative least-squares fit,
from several starts) and reports the fit. :class:`LatencyTable` holds one fit per layer and,
as a callable ``(layer, w_bits, a_bits, hw) -> cycles per MAC``, plugs into the cost model's
data-dependent cycle hook.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from codesign.errors import ConfigError

__all__ = ["FloorLatency", "fit_floor_latency", "LatencyTable"]

TERMS = ("w·a", "a", "w")


@dataclass(frozen=True)
class FloorLatency:
    """``cycles(w, a) = c0 + max(k_wa·w·a, k_a·a, k_w·w)`` (all coefficients ≥ 0)."""

    c0: float
    k_wa: float
    k_a: float
    k_w: float

    def _terms(self, w: Any, a: Any) -> np.ndarray:
        w, a = np.asarray(w, dtype=float), np.asarray(a, dtype=float)
        return np.stack(np.broadcast_arrays(self.k_wa * w * a, self.k_a * a, self.k_w * w))

    def cycles(self, w: Any, a: Any) -> Any:
        out = self.c0 + self._terms(w, a).max(axis=0)
        return out if out.ndim else float(out)

    def binding(self, w: Any, a: Any) -> np.ndarray:
        """Index into ``TERMS`` of the term that sets each point's latency."""
        return self._terms(w, a).argmax(axis=0)

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def _features(w: np.ndarray, a: np.ndarray) -> np.ndarray:
    return np.stack([w * a, a, w], axis=1)


def _fit_assignment(f: np.ndarray, y: np.ndarray, act: np.ndarray) -> np.ndarray:
    """Non-negative ``[c0, k_wa, k_a, k_w]`` minimizing the relative error with given binding terms."""
    from scipy.optimize import nnls

    x = np.zeros((len(y), 4))
    x[:, 0] = 1.0
    x[np.arange(len(y)), 1 + act] = f[np.arange(len(y)), act]
    coef, _ = nnls(x / y[:, None], np.ones_like(y))
    return coef


def fit_floor_latency(w_bits: Any, a_bits: Any, cycles: Any, iters: int = 50) -> tuple[FloorLatency, dict[str, Any]]:
    """Fit :class:`FloorLatency` to measured ``cycles`` at ``(w_bits, a_bits)`` points.

    Returns the model and a report: ``rmse_rel`` (root mean squared relative error),
    ``max_abs_rel_err``, ``r2`` (on cycles), ``n`` and ``binding`` (points per binding term).
    """
    w = np.asarray(w_bits, dtype=float).ravel()
    a = np.asarray(a_bits, dtype=float).ravel()
    y = np.asarray(cycles, dtype=float).ravel()
    if not (w.size == a.size == y.size) or w.size < 4:
        raise ConfigError(f"a latency table needs >= 4 points of equal length, but got {w.size}, {a.size}, {y.size}")
    if np.any(y <= 0) or np.any(w <= 0) or np.any(a <= 0):
        raise ConfigError("latency table bits and cycles must be > 0")
    f = _features(w, a)
    best: tuple[float, np.ndarray] | None = None
    starts = [np.full(len(y), t) for t in range(3)] + [f.argmax(axis=1), np.argmax(f / f.max(axis=0), axis=1)]
    for act in starts:
        coef = _fit_assignment(f, y, act)
        for _ in range(iters):
            model = FloorLatency(*coef)
            new = model.binding(w, a)
            if np.array_equal(new, act):
                break
            act = new
            coef = _fit_assignment(f, y, act)
        err = float(np.sqrt(np.mean((FloorLatency(*coef).cycles(w, a) / y - 1) ** 2)))
        if best is None or err < best[0]:
            best = (err, coef)
    assert best is not None
    model = FloorLatency(*(float(c) for c in best[1]))
    pred = model.cycles(w, a)
    rel = pred / y - 1
    ss_res, ss_tot = float(np.sum((pred - y) ** 2)), float(np.sum((y - y.mean()) ** 2))
    counts = np.bincount(model.binding(w, a), minlength=3)
    return model, {"rmse_rel": float(np.sqrt(np.mean(rel ** 2))), "max_abs_rel_err": float(np.abs(rel).max()),
                   "r2": 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0, "n": int(y.size),
                   "binding": {t: int(c) for t, c in zip(TERMS, counts)}}


class LatencyTable:
    """Per-layer :class:`FloorLatency` fits; a cost-model cycle hook.

    Args:
        fits: layer name -> fitted model (cycles of the whole layer).
        macs: layer name -> MACs of the layer (the fits' cycles are divided by them).
        pe_type: the PE type the table was measured on (the hook answers only for it).
        lanes: MAC lanes of the accelerator the table was measured on (cycles per MAC per lane
            = layer cycles × lanes / MACs).
    """

    def __init__(self, fits: Mapping[str, FloorLatency], macs: Mapping[str, float], pe_type: str,
                 lanes: int) -> None:
        missing = sorted(set(fits) - set(macs))
        if missing:
            raise ConfigError(f"every fitted layer needs its MACs, but {missing[:3]} have none")
        self.fits, self.macs, self.pe_type, self.lanes = dict(fits), dict(macs), pe_type, int(lanes)

    def layer_cycles(self, layer: str, w_bits: int, a_bits: int) -> float:
        return float(self.fits[layer].cycles(w_bits, a_bits))

    def __call__(self, layer: Any, w_bits: int, a_bits: int, hw: Mapping[str, Any]) -> float | None:
        """Cycles per MAC per lane of ``layer`` for ``hw`` of the measured PE type, else None."""
        name = getattr(layer, "name", layer)
        if hw.get("pe_type") != self.pe_type or name not in self.fits:
            return None
        return self.layer_cycles(name, w_bits, a_bits) * self.lanes / self.macs[name]
