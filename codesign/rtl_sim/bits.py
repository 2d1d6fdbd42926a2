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
- Essential terms (zero-bit skipping): ``X = Σ_j 2^j·T_j`` with ``T_j ∈ {-1, 0, 1}``, one term
  per non-zero ``T_j``. ``binary`` (sign-magnitude, Pragmatic's "oneffsets"): ``T_j =
  sign(X)·bit_j(|X|)``. ``csd`` (canonical signed digit = non-adjacent form, the fewest signed
  power-of-two terms; Laconic's Booth-encoded terms serve the same purpose): with ``h = |X| >> 1``,
  ``t = |X| + h``, ``c = h XOR t``: positive digits ``t AND c``, negative digits ``h AND c``
  (then multiplied by ``sign(X)``).
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
    "TERM_ENCODINGS",
    "term_planes",
    "term_counts",
    "max_terms",
]

TERM_ENCODINGS = ("binary", "csd")


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


def _check_encoding(encoding: str) -> None:
    if encoding not in TERM_ENCODINGS:
        raise ConfigError(f"`encoding` must be one of {TERM_ENCODINGS}, but got {encoding!r}")


def _pos_neg(x: np.ndarray, encoding: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(positive digit mask, negative digit mask, sign)`` of ``x`` as int64 bit masks."""
    _check_encoding(encoding)
    xi = x.astype(np.int64, copy=False)
    mag = np.abs(xi)
    if encoding == "binary":
        pos, neg = mag, np.zeros_like(mag)
    else:  # non-adjacent form of |x|
        h = mag >> 1
        t = mag + h
        c = h ^ t
        pos, neg = t & c, h & c
    return pos, neg, np.where(xi < 0, -1, 1)


def term_planes(x: np.ndarray, bits: int, encoding: str = "binary") -> np.ndarray:
    """Signed power-of-two term planes ``T`` with ``x = Σ_j 2^j T_j``, shape ``(J, *x.shape)``.

    ``J = bits`` for ``binary`` and ``bits + 1`` for ``csd`` (a NAF may carry one digit above
    the top bit); entries in ``{-1, 0, 1}`` (int8).
    """
    pos, neg, sign = _pos_neg(x, encoding)
    n = bits if encoding == "binary" else bits + 1
    out = np.empty((n, *x.shape), dtype=np.int8)
    for j in range(n):
        out[j] = (((pos >> j) & 1) - ((neg >> j) & 1)) * sign
    return out


def _term_counts_direct(x: np.ndarray, encoding: str) -> np.ndarray:
    pos, neg, _ = _pos_neg(x, encoding)
    return (np.bitwise_count(pos) + np.bitwise_count(neg)).astype(np.uint8)


_CHUNK = 1 << 12  # elements per chunk: bounded temporaries on large weight matrices


def term_counts(x: np.ndarray, encoding: str = "binary") -> np.ndarray:
    """Number of essential terms of every element (``uint8``, same shape): popcount of ``|x|``
    (``binary``) or of its non-adjacent form (``csd``). Computed through a table over the
    value range, in chunks, so temporaries stay small on large weight matrices."""
    _check_encoding(encoding)
    x = np.asarray(x)
    out = np.zeros(x.shape, dtype=np.uint8)
    if x.size == 0:
        return out
    lo, hi = int(x.min()), int(x.max())
    flat_in, flat_out = x.reshape(-1), out.reshape(-1)
    table = _term_counts_direct(np.arange(lo, hi + 1), encoding) if hi - lo <= 1 << 17 else None
    for c in range(0, x.size, _CHUNK):
        part = flat_in[c:c + _CHUNK]
        flat_out[c:c + _CHUNK] = table[part - lo] if table is not None else _term_counts_direct(part, encoding)
    return out


def max_terms(bits: int, signed: bool, encoding: str = "binary") -> int:
    """Worst-case essential terms over every ``bits``-bit value (enumerated)."""
    lo, hi = value_range(bits, signed)
    return int(term_counts(np.arange(lo, hi + 1), encoding).max())
