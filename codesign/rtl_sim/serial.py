"""Configurable digit-serial PE (BitMoD-like) and a closed-form layer latency with a DRAM term.

:class:`SerialPE` serializes each operand in digits of its own width: ``k_w`` weight bits and
``k_a`` activation bits per cycle (a width at least the operand's bits keeps it parallel, so
``k_a = 8`` runs a 16-bit activation in two passes and ``k_a = 16`` in one). Each PE holds
``lanes`` multipliers of ``(k_a+1) × (k_w+1)`` bits (a dot product of ``lanes`` digit pairs per
cycle). A step takes ``P = ceil(w/k_w)·ceil(a/k_a)`` cycles, activation digits outer and weight
digits inner, both most significant first, combined by a two-level Horner:
``inner = (inner << k_w) + Σ_lanes a_i·w_j``; at the last weight digit
``outer = (outer << k_a) + inner``.

Optional per-group weight scales (``group_size`` weights along K share one ``scale_bits``-bit
integer scale per output column, as BitMoD's per-group datatypes/scales): a PE accumulates a
group's partial sum and adds ``scale × partial`` into the output at the group's last step
(one ``scale_muls`` event per output and group, pipelined: no extra cycle). The stored weight
then costs ``w + scale_bits/group_size`` bits (e.g. ``4 + 8/128 = 4.0625``), which the DRAM term of
:func:`layer_latency` charges.

BitMoD (Chen et al., HPCA 2025; REFERENCES.md §2; repo abdelfattah-lab/BitMoD-HPCA-25,
``bitmod-sim``): 2 weight bits per cycle, 4-wide dot products, FP16 activations in one pass,
groups of 128 with an 8-bit scale: ``SerialPE(w_bits_per_cycle=2, a_bits_per_cycle=16, lanes=4,
group_size=128, scale_bits=8)`` (:data:`BITMOD_LIKE`; integer activations stand in for FP16).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from codesign.errors import ConfigError
from codesign.rtl_sim.bits import check_int_range, num_digits
from codesign.rtl_sim.pes import A_BITS_MAX, PE, W_BITS_MAX, Precision

__all__ = ["SerialPE", "BITMOD_LIKE", "layer_latency"]


@dataclass(frozen=True)
class SerialPE(PE):
    """Configurable digit-serial PE (see the module docstring).

    Attributes:
        w_bits_per_cycle: ``k_w``, weight bits per cycle (``>= w_bits``: weights parallel).
        a_bits_per_cycle: ``k_a``, activation bits per cycle (``>= a_bits``: one pass).
        group_size: weights per group scale along K (0: no group scales); a multiple of ``lanes``.
        scale_bits: bits of a group's unsigned integer scale (0 when ``group_size`` is 0).
    """

    w_bits_per_cycle: int = 2
    a_bits_per_cycle: int = 16
    group_size: int = 0
    scale_bits: int = 0
    family: str = field(default="serial", init=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        check_int_range("w_bits_per_cycle", self.w_bits_per_cycle, 1, W_BITS_MAX)
        check_int_range("a_bits_per_cycle", self.a_bits_per_cycle, 1, A_BITS_MAX)
        check_int_range("group_size", self.group_size, 0, 1 << 16)
        check_int_range("scale_bits", self.scale_bits, 0, 16)
        if self.group_size and (self.group_size % self.lanes or not self.scale_bits):
            raise ConfigError(
                f"`group_size` must be a multiple of lanes ({self.lanes}) with scale_bits >= 1, but got "
                f"group_size={self.group_size}, scale_bits={self.scale_bits}")
        if not self.group_size and self.scale_bits:
            raise ConfigError(f"`scale_bits` must be 0 without groups, but got {self.scale_bits}")

    @property
    def key(self) -> str:
        return "serial"

    def digit_split(self, prec: Precision) -> tuple[int, int | None, int, int | None]:
        return prec.a_bits, self.a_bits_per_cycle, prec.w_bits, self.w_bits_per_cycle

    def digit_counts(self, w_bits: int, a_bits: int) -> tuple[int, int]:
        """``(T_a, T_w)``: digits of each operand (no precision bounds: used for w > 8 too)."""
        return num_digits(a_bits, self.a_bits_per_cycle), num_digits(w_bits, self.w_bits_per_cycle)

    def phases(self, prec: Precision) -> int:
        ta, tw = self.digit_counts(prec.w_bits, prec.a_bits)
        return ta * tw

    def effective_w_bits(self, w_bits: int) -> float:
        """Stored bits per weight: ``w + scale_bits / group_size``."""
        return w_bits + (self.scale_bits / self.group_size if self.group_size else 0.0)

    def groups(self, k: int) -> int:
        """Scale groups along a reduction of ``k`` (0 without group scales)."""
        return -(-k // self.group_size) if self.group_size else 0


BITMOD_LIKE = SerialPE(w_bits_per_cycle=2, a_bits_per_cycle=16, lanes=4, group_size=128, scale_bits=8)
"""BitMoD-like configuration (module docstring)."""


def layer_latency(pe: SerialPE, m: int, n: int, k: int, w_bits: int, a_bits: int,
                  array: tuple[int, int], dram_bytes_per_cycle: float | None = None,
                  out_bits: int | None = None, count: int = 1) -> dict[str, Any]:
    """Closed-form cycles of ``count`` GEMMs ``(M×K)·(K×N)`` on an ``R × C`` array of ``pe``.

    ``compute = tiles·(S·P + 1)`` with ``tiles = ceil(M/R)·ceil(N/C)``, ``S = ceil(K/lanes)``,
    ``P = ceil(w/k_w)·ceil(a/k_a)`` (the schedule :func:`~codesign.rtl_sim.simulate.simulate_gemm`
    counts; ``w`` may exceed 8 here, e.g. a 16-bit K/V operand of an attention matmul).
    DRAM term: every operand moved once, ``bytes = (K·N·w_eff + M·K·a + M·N·out)/8`` with
    ``w_eff`` = :meth:`SerialPE.effective_w_bits` and ``out`` = ``out_bits`` (default ``a``);
    ``dram_cycles = bytes / dram_bytes_per_cycle``; ``cycles = max(compute, dram)`` per GEMM.
    Returns per-GEMM terms times ``count``.
    """
    for name, v in (("m", m), ("n", n), ("k", k), ("count", count)):
        check_int_range(name, v, 1, 1 << 40)
    check_int_range("w_bits", w_bits, 1, 16)
    check_int_range("a_bits", a_bits, 1, A_BITS_MAX)
    rows, cols = array
    ta, tw = pe.digit_counts(w_bits, a_bits)
    tiles = -(-m // rows) * -(-n // cols)
    steps = -(-k // pe.lanes)
    compute = tiles * (steps * ta * tw + 1)
    out = a_bits if out_bits is None else out_bits
    dram_bytes = (k * n * pe.effective_w_bits(w_bits) + m * k * a_bits + m * n * out) / 8.0
    dram = dram_bytes / dram_bytes_per_cycle if dram_bytes_per_cycle else 0.0
    return {"compute_cycles": compute * count, "dram_bytes": dram_bytes * count,
            "dram_cycles": dram * count, "cycles": max(float(compute), dram) * count,
            "bound": "dram" if dram > compute else "compute", "phases": ta * tw, "steps": steps,
            "tiles": tiles}
