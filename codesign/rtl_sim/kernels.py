"""Bit-exact block kernels: the arithmetic each PE family performs, vectorized over a block.

Every kernel maps an activation block ``A`` (``m × k``, int64) and a weight block ``W``
(``k × n``, int64) to the exact int64 block product, computed the way the hardware does it:

- digit kernel (bit-parallel, weight-, activation- and both-serial): operands split into
  k-bit digits (:func:`codesign.rtl_sim.bits.digits`; the top digit carries the sign, so with
  k = 1 a signed MSB plane is ``-P``, and a plane pair's product is negated iff exactly one
  of its planes is a signed MSB: BISMO's XOR negate). Digit products ``D^A_i · D^W_j`` are
  dot products (AND-popcounts for 1-bit planes); they are combined most-significant first
  with Horner shifts: ``acc = (acc << Δe) + Σ_{e_ij = e} D^A_i·D^W_j`` over exponents
  ``e_ij = i·k_a + j·k_w`` in decreasing order.
- LUT kernel (T-MAC / LUT Tensor Core): per group of ``g`` activations a symmetric half table
  ``T[h] = Σ_t a_t·(2·bit_t(h) - 1)``, ``h < 2^(g-1)``; per weight plane ``j`` and group one
  lookup at ``idx = Σ_t P_j[t]·2^t``, mirrored as ``-T[~idx]`` when bit ``g-1`` is set;
  planes combined by Horner with their scales ``c_j``; bias ``(Σ_j c_j + 2 c_0)·ΣA`` with
  ``ΣA = -Σ_groups T[0]``; the result halved (exact). REFERENCES.md §1.
- term kernel (zero-bit skipping, :mod:`codesign.rtl_sim.essential`): weights split into signed
  power-of-two term planes ``W = Σ_j 2^j T_j`` (:func:`codesign.rtl_sim.bits.term_planes`); every
  term adds ``±(a << j)``: ``A·W = Σ_j 2^j (A·T_j)``.

Dot products run as float64 BLAS matmuls used as an *exact* integer carrier: the caller
sizes ``k`` so that every partial sum stays below ``2^53`` (see :func:`max_exact_k`).
"""

from __future__ import annotations

import numpy as np

from codesign.rtl_sim.bits import digits, plane_coeffs, sign_matrix_half, term_planes

__all__ = ["FLOAT_EXACT_LIMIT", "max_exact_k", "digit_gemm", "lut_gemm", "term_gemm"]

FLOAT_EXACT_LIMIT = 1 << 53
"""Integers of magnitude ≤ 2^53 are exact in IEEE-754 binary64 (53-bit significand)."""


def max_exact_k(lhs_abs_max: int, rhs_abs_max: int) -> int:
    """Largest reduction length whose float64 dot products are exact: ``k·|lhs|·|rhs| < 2^53``."""
    return max(1, (FLOAT_EXACT_LIMIT - 1) // max(1, lhs_abs_max * rhs_abs_max))


def _operand_digits(x: np.ndarray, bits: int, k: int | None) -> tuple[np.ndarray, int]:
    """``(digits (T, *x.shape) float64, k_eff)``; ``k = None`` keeps the operand whole."""
    if k is None:
        return x.astype(np.float64)[None], 0
    return digits(x, bits, k, out_dtype=np.float64), k


def digit_gemm(
    a: np.ndarray,
    w: np.ndarray,
    a_bits: int,
    w_bits: int,
    k_a: int | None,
    k_w: int | None,
) -> np.ndarray:
    """Exact ``a @ w`` via digit dot products and an MSB-first Horner combine.

    Args:
        a: ``(m, k)`` int64 activations; w: ``(k, n)`` int64 weights.
        a_bits, w_bits: operand widths (for the digit split).
        k_a, k_w: bits per digit of the serialized operand(s), ``None`` for a parallel one.

    Returns:
        ``(m, n)`` int64 product.
    """
    m, n = a.shape[0], w.shape[1]
    da, ka = _operand_digits(a, a_bits, k_a)
    dw, kw = _operand_digits(w, w_bits, k_w)
    ta, tw = da.shape[0], dw.shape[0]
    # all digit-pair dot products in one exact BLAS call: (ta·m, k) @ (k, tw·n)
    lhs = da.reshape(ta * m, -1)
    rhs = np.ascontiguousarray(dw.transpose(1, 0, 2)).reshape(-1, tw * n)
    pair = np.rint(lhs @ rhs).astype(np.int64).reshape(ta, m, tw, n)
    by_exp: dict[int, np.ndarray] = {}
    for i in range(ta):
        for j in range(tw):
            e = i * ka + j * kw
            by_exp[e] = by_exp[e] + pair[i, :, j] if e in by_exp else pair[i, :, j].copy()
    acc = np.zeros((m, n), dtype=np.int64)
    exps = sorted(by_exp, reverse=True)
    for idx, e in enumerate(exps):  # Horner: shift by the gap to the next lower exponent
        acc += by_exp[e]
        nxt = exps[idx + 1] if idx + 1 < len(exps) else 0
        acc <<= e - nxt
    return acc


def weight_code_terms(w_bits: int, signed: bool, w_code: str) -> tuple[np.ndarray, int]:
    """Plane scales ``c_j`` and offset ``c_0`` of a weight code: ``W = Σ_j c_j P_j + c_0``.

    unsigned: ``c_j = 2^j, c_0 = 0``; two's complement: MSB negated, ``c_0 = 0``;
    offset-binary (code ``W + 2^(b-1)``): ``c_j = 2^j, c_0 = -2^(b-1)``.
    """
    if not signed:
        return plane_coeffs(w_bits, False), 0
    if w_code == "twos_complement":
        return plane_coeffs(w_bits, True), 0
    return plane_coeffs(w_bits, False), -(1 << (w_bits - 1))


def weight_codes(w: np.ndarray, w_bits: int, signed: bool, w_code: str) -> np.ndarray:
    """Unsigned ``w_bits``-bit codes of weight values under the chosen encoding."""
    if signed and w_code == "offset_binary":
        return w + (1 << (w_bits - 1))
    return w & ((1 << w_bits) - 1)


def lut_gemm(
    a: np.ndarray, w: np.ndarray, w_bits: int, w_signed: bool, g: int, w_code: str
) -> tuple[np.ndarray, int]:
    """Exact ``a @ w`` the LUT-PE way; returns ``(product (m, n) int64, mirrored lookups)``.

    ``a``: ``(m, k)``, ``w``: ``(k, n)`` with ``k`` a multiple of ``g`` (pad with zeros).
    Shapes: tables ``(m, G·H)``, one-hot lookup selectors ``(G·H, w_bits·n)`` holding the
    lookup sign (±1), ``G = k/g`` groups, ``H = 2^(g-1)`` entries. A mirrored lookup is one
    whose index has bit ``g-1`` set (it reads ``T[~idx]`` and negates).
    """
    m, k = a.shape
    n = w.shape[1]
    groups, half = k // g, 1 << (g - 1)
    tables = (a.reshape(m, groups, g).astype(np.float64) @ sign_matrix_half(g).astype(np.float64))
    tables = tables.reshape(m, groups * half)
    codes = weight_codes(w, w_bits, w_signed, w_code).reshape(groups, g, n)
    onehot = np.zeros((groups, half, w_bits, n), dtype=np.float64)
    mirrored = 0
    tpos = np.arange(g, dtype=np.int64)[None, :, None]
    for j in range(w_bits):
        bits = (codes >> j) & 1  # (G, g, n): plane j of the group's weights
        idx = (bits << tpos).sum(axis=1)  # (G, n)
        top = bits[:, g - 1, :].astype(bool)
        mirrored += int(top.sum())
        h = np.where(top, ~idx & (half - 1), idx)
        sign = np.where(top, -1.0, 1.0)
        np.put_along_axis(onehot[:, :, j, :], h[:, None, :], sign[:, None, :], axis=1)
    looked = np.rint(tables @ onehot.reshape(groups * half, w_bits * n)).astype(np.int64)
    looked = looked.reshape(m, w_bits, n)
    c, c0 = weight_code_terms(w_bits, w_signed, w_code)
    acc = np.zeros((m, n), dtype=np.int64)
    for j in range(w_bits - 1, -1, -1):  # Horner over planes, MSB first
        acc = (acc << 1) + (looked[:, j] if c[j] > 0 else -looked[:, j])
    sum_a = -np.rint(tables[:, ::half].sum(axis=1)).astype(np.int64)  # ΣA = -Σ_groups T[0]
    acc += (int(c.sum()) + 2 * c0) * sum_a[:, None]
    return acc >> 1, mirrored * m


def term_gemm(a: np.ndarray, w: np.ndarray, w_bits: int, encoding: str) -> np.ndarray:
    """Exact ``a @ w`` as shift-adds of the weights' essential terms (``(m, n)`` int64)."""
    m, n = a.shape[0], w.shape[1]
    planes = term_planes(w, w_bits, encoding).astype(np.float64)  # (J, k, n)
    j = planes.shape[0]
    rhs = np.ascontiguousarray(planes.transpose(1, 0, 2)).reshape(-1, j * n)
    pair = np.rint(a.astype(np.float64) @ rhs).astype(np.int64).reshape(m, j, n)
    acc = np.zeros((m, n), dtype=np.int64)
    for t in range(j):
        acc += pair[:, t] << t
    return acc
