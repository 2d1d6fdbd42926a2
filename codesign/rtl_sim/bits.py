"""Integer identities behind low-bit PEs: ranges, bit-planes, k-bit digits, ±1 digits.

All helpers work on integer NumPy arrays and return exact int64 / uint8 results. Sources:
REFERENCES.md §1 (two's-complement bit-planes, ±1 digits, table symmetry).

Notation: an operand ``X`` of ``b`` bits is *signed* (two's complement, values in
``[-2^(b-1), 2^(b-1) - 1]``) or *unsigned* (values in ``[0, 2^b - 1]``).

- Bit-planes: ``P_j = ((X mod 2^b) >> j) & 1`` and ``X = Σ_j c_j P_j`` with
  ``c = [1, 2, …, 2^(b-2), ±2^(b-1)]`` (the MSB coefficient is negative iff signed).
- k-bit digits (``k`` bits per cycle, most significant digit first in hardware):
  ``D_t = (X >> (t·k)) & (2^k - 1)`` for ``t < T - 1`` and ``D_(T-1) = X >> ((T-1)·k)``
  (arithmetic shift: the top digit carries the sign), ``T = ceil(b / k)``, and
  ``X = Σ_t 2^(t·k) D_t``. With ``k = 1`` the digits are the bit-planes, top one signed.
- ±1 digits: ``S'_j = 2 P_j - 1``; with weight code ``W = Σ_j c_j P_j + c_0``,
  ``2·A·W = Σ_j c_j (A·S'_j) + (Σ_j c_j + 2 c_0)·ΣA`` (row sums of A).
"""

from __future__ import annotations

import numpy as np

from codesign.errors import ConfigError

__all__ = [
    "check_int_range",
    "value_range",
    "check_values",
    "num_digits",
    "digit_coeffs",
    "digits",
    "bit_planes",
    "plane_coeffs",
    "sign_matrix_half",
]


def check_int_range(name: str, value: int, lo: int, hi: int) -> int:
    """Return ``value`` if it is an int in ``[lo, hi]``, else raise a one-line ConfigError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
        raise ConfigError(f"`{name}` must be an integer in [{lo}, {hi}], but got {value!r}")
    return int(value)


def value_range(bits: int, signed: bool) -> tuple[int, int]:
    """Inclusive value range ``(lo, hi)`` of a ``bits``-bit integer."""
    if signed:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def check_values(name: str, x: np.ndarray, bits: int, signed: bool) -> None:
    """Raise ConfigError unless every element of ``x`` fits ``bits`` (signed or not)."""
    if x.dtype.kind not in "iu":
        raise ConfigError(f"`{name}` must be an integer array, but got dtype {x.dtype}")
    if x.size == 0:
        return
    lo, hi = value_range(bits, signed)
    xmin, xmax = int(x.min()), int(x.max())
    if xmin < lo or xmax > hi:
        kind = "signed" if signed else "unsigned"
        raise ConfigError(
            f"`{name}` must hold {kind} {bits}-bit values in [{lo}, {hi}], "
            f"but got values in [{xmin}, {xmax}]"
        )


def num_digits(bits: int, k: int) -> int:
    """Number of k-bit digits of a ``bits``-bit operand: ``ceil(bits / k)``."""
    return -(-bits // k)


def digit_coeffs(bits: int, k: int) -> np.ndarray:
    """Digit weights ``2^(t·k)`` for ``t = 0 … ceil(bits/k) - 1`` (int64, shape ``(T,)``)."""
    return np.array([1 << (t * k) for t in range(num_digits(bits, k))], dtype=np.int64)


def digits(x: np.ndarray, bits: int, k: int, out_dtype: type = np.int64) -> np.ndarray:
    """k-bit digits of ``x`` with ``x = Σ_t 2^(t·k) D_t`` exactly.

    Args:
        x: integer array of any shape ``S`` holding ``bits``-bit values (signed or unsigned).
        bits: operand width ``b``.
        k: digit width (bits serialized per cycle).
        out_dtype: dtype of the result (int64, or float32/float64 as an exact BLAS carrier).

    Returns:
        Array of shape ``(T, *S)``, ``T = ceil(b / k)``; digit ``t < T-1`` is
        ``(x >> t·k) & (2^k - 1)`` in ``[0, 2^k)``, the top digit is ``x >> (T-1)·k``
        (arithmetic: negative for negative ``x``, and at most ``b - (T-1)·k`` bits wide).
    """
    n = num_digits(bits, k)
    xi = x.astype(np.int64, copy=False)
    out = np.empty((n, *x.shape), dtype=out_dtype)
    mask = (1 << k) - 1
    for t in range(n - 1):
        out[t] = (xi >> (t * k)) & mask
    out[n - 1] = xi >> ((n - 1) * k)
    return out


def bit_planes(x: np.ndarray, bits: int, out_dtype: type = np.uint8) -> np.ndarray:
    """Two's-complement bit-planes ``P_j = ((x mod 2^b) >> j) & 1``, shape ``(b, *x.shape)``."""
    xi = x.astype(np.int64, copy=False)
    out = np.empty((bits, *x.shape), dtype=out_dtype)
    for j in range(bits):
        out[j] = (xi >> j) & 1
    return out


def plane_coeffs(bits: int, signed: bool) -> np.ndarray:
    """Plane coefficients ``c_j`` with ``x = Σ_j c_j P_j``: ``2^j``, the MSB negated iff signed."""
    c = np.array([1 << j for j in range(bits)], dtype=np.int64)
    if signed:
        c[-1] = -c[-1]
    return c


def sign_matrix_half(g: int) -> np.ndarray:
    """±1 sign matrix of a symmetric half table, shape ``(g, 2^(g-1))`` (int64).

    Entry ``[t, h] = 2·bit_t(h) - 1`` for table index ``h < 2^(g-1)`` (bit ``g-1`` of every
    stored index is 0). A table over activations ``a`` (length g) is ``T = a @ S``; the full
    table follows from symmetry ``T[~idx] = -T[idx]`` (REFERENCES.md §1).
    """
    h = np.arange(1 << (g - 1), dtype=np.int64)
    t = np.arange(g, dtype=np.int64)[:, None]
    return 2 * ((h[None, :] >> t) & 1) - 1
