"""Shared arithmetic cost tables, scaling laws and the :class:`PEModel` record of PE characterization.

Every constant comes from REFERENCES.md §4 and carries its node and citation; the scaling laws
(multiplier ∝ partial products, adder ∝ bits, accumulator ``w + a + 16`` bits, ``ceil(bits/8)``
passes) are derived in :mod:`codesign.rtl_sim.characterize`, which builds one :class:`PEModel`
per family from them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from codesign.errors import ConfigError

Bits = Any  # int or np.ndarray of ints
HOROWITZ = "Horowitz, 'Computing's energy problem', ISSCC 2014, 45 nm, 0.9 V"
BITFUSION = "Sharma et al., Bit Fusion, ISCA 2018; hsharma35/bitfusion synthesis results, 45 nm, 500 MHz"
INT8_PE = "wqzustc/High-Performance-Tensor-Processing-Engines (HPCA 2025), INT8 MAC PE, SAED32, 500 MHz"
TMAC = "Wei et al., T-MAC, EuroSys 2025 (table of 2^(g-1) symmetric entries, g-1 add/sub each)"
MAX_BITS = 16


class OpCost(NamedTuple):
    """Energy per operation (pJ) and area (µm²) of one arithmetic unit, with node and source."""

    energy_pj: float
    area_um2: float
    node: str
    source: str


#: Horowitz ISSCC 2014 table (REFERENCES.md §4), 45 nm, 0.9 V.
HOROWITZ_45NM: dict[str, OpCost] = {
    "int_add8": OpCost(0.03, 36.0, "45nm", HOROWITZ),
    "int_add16": OpCost(0.05, 67.0, "45nm", HOROWITZ),
    "int_add32": OpCost(0.1, 137.0, "45nm", HOROWITZ),
    "int_mult8": OpCost(0.2, 282.0, "45nm", HOROWITZ),
    "int_mult32": OpCost(3.1, 3495.0, "45nm", HOROWITZ),
    "fp_add16": OpCost(0.4, 1360.0, "45nm", HOROWITZ),
    "fp_add32": OpCost(0.9, 4184.0, "45nm", HOROWITZ),
    "fp_mult16": OpCost(1.1, 1640.0, "45nm", HOROWITZ),
    "fp_mult32": OpCost(3.7, 7700.0, "45nm", HOROWITZ),
}

#: Bit Fusion synthesis (REFERENCES.md §4), 45 nm at 500 MHz: power (µW) and area (µm²).
BITFUSION_FUSION_UNIT = {"power_uw": 344.0, "area_um2": 1733.0, "clock_mhz": 500.0}
BITFUSION_FIXED_8X8 = {"power_uw": 172.0, "area_um2": 688.0, "clock_mhz": 500.0}
#: INT8 MAC PE in SAED32 (32 nm) at 500 MHz (REFERENCES.md §4): cross-check only.
INT8_MAC_PE_32NM = {"power_uw": 224.0, "area_um2": 1482.0, "energy_pj_per_mac": 0.45}

#: Eyeriss (Chen et al., ISCA 2016, 65 nm): a register-file access costs 1x a 16-bit MAC per 16-bit word.
EYERISS = "Chen et al., Eyeriss, ISCA 2016, 65 nm (RF access = 1x a 16-bit MAC)"
EYERISS_RF_OVER_MAC16 = 1.0
EYERISS_WORD_BITS = 16

PARALLEL_BITS = 8  # width of every parallel operand datapath (INT8 baseline PE)
ACC_GUARD_BITS = 16  # 8x8 products accumulate in 32 bits (assumption, see module docstring)
_ADD_BITS = (8.0, 16.0, 32.0)


def _linear_in_bits(bits: Bits, what: str) -> Any:
    """Horowitz add ``what`` ("energy_pj"/"area_um2") at ``bits``: piecewise linear, ∝ bits outside."""
    ys = [getattr(HOROWITZ_45NM[f"int_add{int(b)}"], what) for b in _ADD_BITS]
    x = np.asarray(bits, dtype=float)
    inside = np.interp(x, _ADD_BITS, ys)
    out = np.where(x < _ADD_BITS[0], ys[0] * x / _ADD_BITS[0],
                   np.where(x > _ADD_BITS[-1], ys[-1] * x / _ADD_BITS[-1], inside))
    return out if out.ndim else float(out)


def add_energy_pj(bits: Bits) -> Any:
    """Energy of one ``bits``-bit integer add (Horowitz 45 nm, linear in bits)."""
    return _linear_in_bits(bits, "energy_pj")


def add_area_um2(bits: Bits) -> Any:
    """Area of one ``bits``-bit integer adder (Horowitz 45 nm, linear in bits)."""
    return _linear_in_bits(bits, "area_um2")


def mult_energy_pj(w_bits: Bits, a_bits: Bits) -> Any:
    """``E_mult8 · w·a / 64`` (Horowitz 8b mult 0.2 pJ; ∝ partial products)."""
    return HOROWITZ_45NM["int_mult8"].energy_pj * np.multiply(w_bits, a_bits) / 64.0


def mult_area_um2(w_bits: Bits, a_bits: Bits) -> Any:
    """``A_mult8 · w·a / 64`` (Horowitz 8b mult 282 µm²; ∝ partial products)."""
    return HOROWITZ_45NM["int_mult8"].area_um2 * np.multiply(w_bits, a_bits) / 64.0


def acc_bits(w_bits: Bits = PARALLEL_BITS, a_bits: Bits = PARALLEL_BITS) -> Any:
    """Accumulator width ``w + a + 16`` (32 bits for 8x8)."""
    return np.add(w_bits, a_bits) + ACC_GUARD_BITS


def mac16_pj() -> float:
    """Horowitz-derived 16-bit MAC: ``E_mult(16,16) + E_add(32)`` = 0.9 pJ (45 nm)."""
    return float(mult_energy_pj(16, 16) + add_energy_pj(32))


def rf_pj_per_bit() -> float:
    """PE register / register-file energy per bit accessed: Eyeriss RF = 1x a 16-bit MAC per
    16-bit word, ``0.9 / 16`` = 0.05625 pJ/bit."""
    return EYERISS_RF_OVER_MAC16 * mac16_pj() / EYERISS_WORD_BITS


def passes(bits: Bits) -> Any:
    """``ceil(bits / 8)``: passes of an 8-bit parallel datapath over a wider operand."""
    return -(-np.asarray(bits) // PARALLEL_BITS)


def check_bits(w_bits: Bits, a_bits: Bits) -> None:
    """Raise :class:`ConfigError` unless every bit width is an integer in [1, 16]."""
    for name, value in (("w_bits", w_bits), ("a_bits", a_bits)):
        arr = np.asarray(value)
        if arr.dtype.kind not in "iu" and not np.all(np.mod(arr, 1) == 0):
            raise ConfigError(f"{name} must be integers in [1, {MAX_BITS}], but got {value!r}")
        if arr.size and (arr.min() < 1 or arr.max() > MAX_BITS):
            bad = arr.min() if arr.min() < 1 else arr.max()
            raise ConfigError(f"{name} must be in [1, {MAX_BITS}], but got {bad}")


def _zero(w_bits: Bits, a_bits: Bits) -> Any:
    return np.zeros(np.broadcast(np.asarray(w_bits), np.asarray(a_bits)).shape)[()] * 1.0


def _zero_act(a_bits: Bits) -> Any:
    return np.zeros(np.shape(a_bits))[()] * 1.0


def bytes_for_bits(bits: Any) -> Any:
    """Whole bytes that hold ``bits`` bits (element-wise ceiling of bits / 8)."""
    return -(-np.asarray(bits) // 8)


@dataclass(frozen=True)
class PEModel:
    """Cost of one PE lane of a PE family, as functions of bit widths.

    Attributes:
        name: registry name (``bit_parallel``, ``bit_serial``, ``bit_serial_act``, ``lut``, ``bit_fusion``).
        description: one line.
        node: technology node of the constants (``"45nm"``).
        cycles_per_mac: ``(w_bits, a_bits) -> cycles`` per MAC per lane (may be < 1).
        energy_pj_per_mac: ``(w_bits, a_bits) -> pJ`` datapath energy per MAC.
        area_um2: ``(w_bits_max=8, a_bits_max=8) -> µm²`` of a lane supporting those widths
            (local buffer excluded; it is sized by the design's ``pe_buf_bytes``).
        local_buffer_bytes_needed: ``(w_bits, a_bits) -> bytes`` of minimal per-lane state
            (operand registers, accumulator, LUT table).
        buf_bits_per_mac: ``(w_bits, a_bits) -> bits`` read from the PE-local buffer per MAC.
        preprocess_pj_per_act: ``a_bits -> pJ`` spent per activation element each time it
            enters the array (LUT table build; zero for other families).
        sources: where every constant came from (constant name -> citation).
        synth_area_um2: area of one lane from synthesis of the project's own RTL onto NanGate
            45 nm cells (:mod:`codesign.rtl_sim.area`, at its reference array), beside the
            published-figure ``area_um2``; None when the family has no synthesized entry.
        data_dependent: cycles depend on the weights' values; ``cycles_per_mac`` is then the
            worst case and the energy per MAC is proportional to cycles (an evaluator may
            substitute measured cycles and scale the energy with them).
        w_storage_bits: ``w_bits -> bits`` stored per weight when it differs from ``w_bits``
            (group-scale overhead, e.g. ``4 + 8/128``); None: ``w_bits``.
    """

    name: str
    description: str
    node: str
    cycles_per_mac: Callable[[Bits, Bits], Any] = field(repr=False)
    energy_pj_per_mac: Callable[[Bits, Bits], Any] = field(repr=False)
    area_um2: Callable[..., float] = field(repr=False)
    local_buffer_bytes_needed: Callable[[Bits, Bits], Any] = field(repr=False)
    buf_bits_per_mac: Callable[[Bits, Bits], Any] = field(default=_zero, repr=False)
    preprocess_pj_per_act: Callable[[Bits], Any] = field(default=_zero_act, repr=False)
    sources: dict[str, str] = field(default_factory=dict, repr=False)
    synth_area_um2: float | None = None
    data_dependent: bool = False
    w_storage_bits: Callable[[Bits], Any] | None = field(default=None, repr=False)

    def summary(self, w_bits: int = 8, a_bits: int = 8) -> dict[str, float]:
        """All costs at one operating point (for tables and the CLI)."""
        check_bits(w_bits, a_bits)
        return {
            "cycles_per_mac": float(self.cycles_per_mac(w_bits, a_bits)),
            "energy_pj_per_mac": float(self.energy_pj_per_mac(w_bits, a_bits)),
            "area_um2": float(self.area_um2()),
            "local_buffer_bytes_needed": float(self.local_buffer_bytes_needed(w_bits, a_bits)),
            "buf_bits_per_mac": float(self.buf_bits_per_mac(w_bits, a_bits)),
            "preprocess_pj_per_act": float(self.preprocess_pj_per_act(a_bits)),
            "synth_area_um2": float("nan") if self.synth_area_um2 is None else self.synth_area_um2,
            "w_storage_bits": float(self.storage_bits(w_bits)),
        }

    def storage_bits(self, w_bits: Bits) -> Any:
        """Bits stored per weight (``w_storage_bits``, else ``w_bits``)."""
        return np.asarray(w_bits) * 1.0 if self.w_storage_bits is None else self.w_storage_bits(w_bits)


