"""Uniform integer quantization (round to nearest), in NumPy.

A real value ``x`` maps to an integer code ``q`` and back through a scale ``s > 0`` and an
integer zero point ``z``::

    q     = clip(round(x / s) + z, qmin, qmax)          (quantize)
    x_hat = s · (q − z)                                 (dequantize; fake_quant = both)

``round`` is round-half-to-even (``np.rint``, as ``torch.round``). Two schemes:

- **symmetric** (signed, ``z = 0``), narrow range ``qmin = −(2^(b−1) − 1)``,
  ``qmax = 2^(b−1) − 1``, ``s = max|x| / qmax``. For ``b = 1`` it is binary:
  ``q = sign(x) ∈ {−1, +1}`` (``sign(0) = +1``), ``x_hat = s·q`` with ``s = mean|x|`` from data
  (the L2-optimal binary scale) or ``max|x| / 2`` from a range alone.
- **asymmetric** (unsigned codes), ``qmin = 0``, ``qmax = 2^b − 1``; the range is widened to
  contain 0 (``lo = min(lo, 0)``, ``hi = max(hi, 0)``) so that 0 is exact, then
  ``s = (hi − lo) / (qmax − qmin)``, ``z = clip(round(qmin − lo / s), qmin, qmax)``. For a
  non-negative tensor (after ReLU, an image) ``z = 0``: plain unsigned quantization.

Granularity (the statistics a scale is computed over):

- per tensor: ``axis=None, group_size=None`` — ``scale.shape == ()``.
- per channel: ``axis=a`` — one scale per index along ``a``; ``scale`` keeps dims
  (e.g. ``(M, 1, 1, 1)`` for a conv weight ``[M, C, R, S]`` and ``axis=0``) and broadcasts.
- per group: ``group_size=g`` — contiguous blocks of ``g`` along ``group_axis`` (the
  reduction dim, e.g. ``K`` of a ``[N, K]`` weight) each get a scale; every other index keeps
  its own, so ``scale.shape`` is ``x.shape`` with ``group_axis`` replaced by ``ceil(K / g)``.
  Reshape a conv weight to ``[M, C·R·S]`` first. :meth:`QParams.expand` repeats group
  parameters back to ``x.shape``.

:class:`QTensor` exposes the integer codes (``int32``) and the scales / zero points, so an
integer GEMM (e.g. through a PE simulator) can use them directly:
``Y = s_x·s_w · Σ_k (q_x − z_x)(q_w − z_w)`` for per-tensor ``x`` and per-channel ``w``.
Activation ranges come from a calibration set through :class:`RangeObserver`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from codesign.errors import ConfigError

__all__ = [
    "QParams", "QTensor", "RangeObserver", "calibrate_range", "check_bits", "fake_quant",
    "qparams_from_data", "qparams_from_range", "qrange", "quantize",
]

_EPS = 1e-12


def check_bits(bits: object, what: str = "bits") -> int:
    """Return ``bits`` as an int if it is an integer in [1, 16], else raise a one-line ConfigError."""
    ok = isinstance(bits, (int, np.integer)) and not isinstance(bits, bool) and 1 <= int(bits) <= 16
    if not ok:
        raise ConfigError(f"`{what}` must be in [1, 16], but got {bits!r}")
    return int(bits)


def qrange(bits: int, symmetric: bool = True) -> tuple[int, int]:
    """``(qmin, qmax)`` of the code range: narrow signed if symmetric, ``[0, 2^b − 1]`` if not."""
    b = check_bits(bits)
    if not symmetric:
        return 0, 2**b - 1
    if b == 1:
        return -1, 1  # binary: codes are -1 and +1 only
    return -(2 ** (b - 1) - 1), 2 ** (b - 1) - 1


@dataclass(frozen=True)
class QParams:
    """Quantization parameters: scales, zero points, code range and granularity.

    Attributes:
        scale: float64 array, broadcastable to the tensor (per tensor / channel) or of the
            grouped shape (per group, see :meth:`expand`).
        zero_point: int32 array of the same shape as ``scale`` (zeros if symmetric).
        bits, qmin, qmax, symmetric: the code range.
        group_size, group_axis: per-group layout, ``group_size=None`` if not grouped.
    """

    scale: np.ndarray
    zero_point: np.ndarray
    bits: int
    qmin: int
    qmax: int
    symmetric: bool
    group_size: int | None = None
    group_axis: int = -1

    @property
    def binary(self) -> bool:
        return self.symmetric and self.bits == 1

    def expand(self, a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        """Broadcastable form of a parameter array for a tensor of ``shape`` (repeats groups)."""
        if self.group_size is None:
            return a
        ax = self.group_axis % len(shape)
        return np.repeat(a, self.group_size, axis=ax).take(np.arange(shape[ax]), axis=ax)

    def quantize(self, x: np.ndarray) -> np.ndarray:
        """Integer codes ``q = clip(round(x/s) + z, qmin, qmax)`` (binary: ``sign(x)``), int32."""
        return self._codes(np.asarray(x)).astype(np.int32)

    def _codes(self, x: np.ndarray) -> np.ndarray:
        """Codes as floats of the dtype of ``x`` (float64 for non-float input)."""
        dt = x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float64)
        if self.binary:
            return np.where(x >= 0, 1, -1).astype(dt)
        s = self.expand(self.scale, x.shape).astype(dt)
        z = self.expand(self.zero_point, x.shape).astype(dt)
        q = np.rint(x / s)
        if self.zero_point.any():
            q += z
        return np.clip(q, self.qmin, self.qmax, out=q)

    def dequantize(self, q: np.ndarray, dtype: np.dtype | type = np.float64) -> np.ndarray:
        """``x_hat = s · (q − z)``."""
        q = np.asarray(q)
        s = self.expand(self.scale, q.shape).astype(dtype)
        z = self.expand(self.zero_point, q.shape).astype(dtype)
        return (q.astype(dtype) - z) * s

    def fake_quant(self, x: np.ndarray) -> np.ndarray:
        """``dequantize(quantize(x))`` in the dtype of ``x`` (float64 for non-float input)."""
        x = np.asarray(x)
        q = self._codes(x)  # float codes: exact integers (|q| <= 2^16 < 2^24)
        return self.dequantize(q, q.dtype)


@dataclass(frozen=True)
class QTensor:
    """Integer codes (``int32``, the tensor's shape) and the :class:`QParams` that decode them."""

    codes: np.ndarray
    params: QParams

    @property
    def scale(self) -> np.ndarray:
        return self.params.scale

    @property
    def zero_point(self) -> np.ndarray:
        return self.params.zero_point

    @property
    def bits(self) -> int:
        return self.params.bits

    def dequantize(self, dtype: np.dtype | type = np.float64) -> np.ndarray:
        return self.params.dequantize(self.codes, dtype)


def qparams_from_range(
    lo: np.ndarray | float, hi: np.ndarray | float, bits: int, symmetric: bool = True,
    group_size: int | None = None, group_axis: int = -1, what: str = "bits",
) -> QParams:
    """Scales and zero points for value ranges ``[lo, hi]`` (arrays of equal shape or scalars).

    Symmetric: ``s = max(|lo|, |hi|) / qmax`` (binary: ``/ 2``), ``z = 0``. Asymmetric:
    ``lo ← min(lo, 0)``, ``hi ← max(hi, 0)``, ``s = (hi − lo) / (qmax − qmin)``,
    ``z = clip(round(qmin − lo/s), qmin, qmax)``. A zero-width range gets ``s = 1``.
    """
    b = check_bits(bits, what)
    qmin, qmax = qrange(b, symmetric)
    lo = np.asarray(lo, dtype=np.float64)
    hi = np.asarray(hi, dtype=np.float64)
    if symmetric:
        amax = np.maximum(np.abs(lo), np.abs(hi))
        scale = amax / (2.0 if b == 1 else qmax)
        zp = np.zeros(scale.shape, dtype=np.int32)
    else:
        lo, hi = np.minimum(lo, 0.0), np.maximum(hi, 0.0)
        scale = (hi - lo) / (qmax - qmin)
    scale = np.where(scale > _EPS, scale, 1.0)
    if not symmetric:
        zp = np.clip(np.rint(qmin - lo / scale), qmin, qmax).astype(np.int32)
    return QParams(scale, zp, b, qmin, qmax, symmetric, group_size, group_axis)


def _grouped(x: np.ndarray, group_size: int, group_axis: int) -> np.ndarray:
    """View ``x`` as ``[..., G, g]`` blocks along ``group_axis`` (moved last), zero padded."""
    x = np.moveaxis(x, group_axis, -1)
    k = x.shape[-1]
    n_groups = -(-k // group_size)
    pad = n_groups * group_size - k
    if pad:  # zeros change neither max|x| nor a range that is widened to contain 0
        x = np.concatenate([x, np.zeros(x.shape[:-1] + (pad,), x.dtype)], axis=-1)
    return x.reshape(x.shape[:-1] + (n_groups, group_size))


def qparams_from_data(
    x: np.ndarray, bits: int, symmetric: bool = True, axis: int | None = None,
    group_size: int | None = None, group_axis: int = -1, what: str = "bits", mse: bool = False,
) -> QParams:
    """Quantization parameters from the min / max of ``x`` at the requested granularity.

    With ``mse=True`` each range is shrunk to ``[r·lo, r·hi]`` with the clipping ratio
    ``r ∈ {0.30, 0.32, …, 1}`` that minimizes ``Σ (fake_quant(x) − x)²`` over the values that
    share the scale (still round to nearest; helps at 2–4 bits where outliers waste levels).

    Args:
        x: the tensor, any shape.
        bits: code width in [1, 16].
        symmetric: signed ``z = 0`` codes if True, unsigned codes with a zero point if False.
        axis: per-channel axis (one scale per index), or None.
        group_size: per-group block length along ``group_axis`` (overrides ``axis``).
        group_axis: the reduction axis that groups split.
        what: parameter name used in the bits error message (e.g. ``"w_bits"``).
        mse: search the clipping ratio per scale (see above) instead of plain min / max.
    """
    b = check_bits(bits, what)
    x = np.asarray(x, dtype=np.float64)
    red: tuple[int, ...] | None = None
    if group_size is not None:
        if isinstance(group_size, bool) or not isinstance(group_size, (int, np.integer)) or group_size < 1:
            raise ConfigError(f"`group_size` must be an integer >= 1, but got {group_size!r}")
        if x.ndim == 0:
            raise ConfigError("per-group quantization needs a tensor with at least one axis, but got a scalar")
        blocks = _grouped(x, int(group_size), group_axis)
        lo, hi = blocks.min(axis=-1), blocks.max(axis=-1)
        mean_abs = np.abs(blocks).sum(axis=-1) / np.minimum(  # mean over real (unpadded) entries
            group_size, x.shape[group_axis] - group_size * np.arange(blocks.shape[-2]))
        to_x = lambda a: np.moveaxis(a, -1, group_axis)  # noqa: E731 - [..., G] -> x's layout
        lo, hi, mean_abs = to_x(lo), to_x(hi), to_x(mean_abs)
    else:
        if axis is not None:
            if not -x.ndim <= axis < x.ndim:
                raise ConfigError(f"`axis` must be in [{-x.ndim}, {x.ndim - 1}], but got {axis}")
            red = tuple(i for i in range(x.ndim) if i != axis % x.ndim)
        keep = axis is not None
        lo = x.min(axis=red, keepdims=keep) if x.size else np.zeros(())
        hi = x.max(axis=red, keepdims=keep) if x.size else np.zeros(())
        mean_abs = np.abs(x).mean(axis=red, keepdims=keep) if x.size else np.zeros(())
    p = qparams_from_range(lo, hi, b, symmetric, group_size, group_axis, what)
    if p.binary:
        scale = np.where(mean_abs > _EPS, mean_abs, 1.0)
        p = QParams(scale, p.zero_point, p.bits, p.qmin, p.qmax, True, group_size, group_axis)
    elif mse and x.size:
        def sq_err(q: QParams) -> np.ndarray:  # squared error summed per scale, in p's shape
            e = (q.fake_quant(x) - x) ** 2
            if group_size is not None:
                return np.moveaxis(_grouped(e, int(group_size), group_axis).sum(axis=-1), -1, group_axis)
            return e.sum(axis=red, keepdims=axis is not None)

        best, best_err = p, sq_err(p)
        for r in np.arange(0.30, 0.999, 0.02):
            cand = qparams_from_range(lo * r, hi * r, b, symmetric, group_size, group_axis, what)
            err = sq_err(cand)
            better = err < best_err
            best = QParams(np.where(better, cand.scale, best.scale), np.where(better, cand.zero_point, best.zero_point),
                           b, p.qmin, p.qmax, symmetric, group_size, group_axis)
            best_err = np.minimum(err, best_err)
        p = best
    return p


def quantize(
    x: np.ndarray, bits: int, symmetric: bool = True, axis: int | None = None,
    group_size: int | None = None, group_axis: int = -1, params: QParams | None = None,
    what: str = "bits",
) -> QTensor:
    """Quantize ``x`` to integer codes: ``q = clip(round(x/s) + z, qmin, qmax)``.

    Scales come from ``params`` if given (e.g. calibrated activation ranges), else from the
    min / max of ``x`` itself (:func:`qparams_from_data`, same arguments).

    Returns:
        A :class:`QTensor`: ``codes`` (int32, ``x.shape``), ``scale``, ``zero_point``.
    """
    if params is None:
        params = qparams_from_data(x, bits, symmetric, axis, group_size, group_axis, what)
    return QTensor(params.quantize(np.asarray(x)), params)


def fake_quant(
    x: np.ndarray, bits: int, symmetric: bool = True, axis: int | None = None,
    group_size: int | None = None, group_axis: int = -1, params: QParams | None = None,
    what: str = "bits",
) -> np.ndarray:
    """``s · (clip(round(x/s) + z, qmin, qmax) − z)``: quantize then dequantize, same shape.

    Same arguments as :func:`quantize`; the result has the float dtype of ``x``.
    """
    if params is None:
        params = qparams_from_data(x, bits, symmetric, axis, group_size, group_axis, what)
    return params.fake_quant(x)


class RangeObserver:
    """Accumulates the value range of an activation over calibration batches.

    Args:
        method: ``"minmax"`` (exact running min / max) or ``"percentile"`` (``lo`` / ``hi`` are
            the ``100 − p`` and ``p`` percentiles of all observed values; clips outliers).
        percentile: ``p`` for ``"percentile"``, in (50, 100].
        axis: keep one range per index along this axis (per-channel activations), or None.
    """

    def __init__(self, method: str = "minmax", percentile: float = 99.99, axis: int | None = None) -> None:
        if method not in ("minmax", "percentile"):
            raise ConfigError(f"`method` must be 'minmax' or 'percentile', but got {method!r}")
        if not 50.0 < float(percentile) <= 100.0:
            raise ConfigError(f"`percentile` must be in (50, 100], but got {percentile!r}")
        self.method, self.percentile, self.axis = method, float(percentile), axis
        self._lo: np.ndarray | None = None
        self._hi: np.ndarray | None = None
        self._chunks: list[np.ndarray] = []
        self._ndim: int | None = None

    def _flat(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if self.axis is None:
            return x.reshape(1, -1)
        return np.moveaxis(x, self.axis, 0).reshape(x.shape[self.axis], -1)

    def update(self, x: np.ndarray) -> RangeObserver:
        """Observe one batch; returns ``self``."""
        self._ndim = np.ndim(x)
        f = self._flat(x)
        if f.shape[1] == 0:
            return self
        if self.method == "percentile":
            self._chunks.append(f)
            return self
        lo, hi = f.min(axis=1), f.max(axis=1)
        self._lo = lo if self._lo is None else np.minimum(self._lo, lo)
        self._hi = hi if self._hi is None else np.maximum(self._hi, hi)
        return self

    def range(self) -> tuple[np.ndarray, np.ndarray]:
        """``(lo, hi)``: scalars (0-d arrays) per tensor, ``[C]`` arrays per channel."""
        if self.method == "percentile" and self._chunks:
            allv = np.concatenate(self._chunks, axis=1)
            lo = np.percentile(allv, 100.0 - self.percentile, axis=1)
            hi = np.percentile(allv, self.percentile, axis=1)
        elif self._lo is not None and self._hi is not None:
            lo, hi = self._lo, self._hi
        else:
            raise ConfigError("a RangeObserver must observe at least one non-empty batch before range()")
        if self.axis is None:
            return np.asarray(lo[0]), np.asarray(hi[0])
        return lo, hi

    def qparams(self, bits: int, symmetric: bool = False, what: str = "a_bits") -> QParams:
        """Quantization parameters of the observed range (asymmetric by default).

        Per channel, the parameters have shape ``[1, .., C, .., 1]`` (``C`` at ``axis``) and
        broadcast against tensors shaped like the observed batches.
        """
        lo, hi = self.range()
        if self.axis is not None:
            shape = [1] * int(self._ndim or 1)
            shape[self.axis] = -1
            lo, hi = lo.reshape(shape), hi.reshape(shape)
        return qparams_from_range(lo, hi, bits, symmetric, what=what)


def calibrate_range(
    batches: Iterable[np.ndarray], method: str = "minmax", percentile: float = 99.99,
) -> tuple[float, float]:
    """Per-tensor ``(lo, hi)`` of an activation over calibration batches (see :class:`RangeObserver`)."""
    obs = RangeObserver(method, percentile)
    for b in batches:
        obs.update(b)
    lo, hi = obs.range()
    return float(lo), float(hi)
