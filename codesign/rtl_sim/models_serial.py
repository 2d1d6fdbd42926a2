"""PE models (:class:`~codesign.rtl_sim.pe_model.PEModel`) of the serial families beyond one
serialized operand: both operands as bit-planes (Loom/BISMO), the configurable digit-serial PE
(BitMoD-like) and the zero-bit-skipping PE (Pragmatic/Laconic).

Built from the same Horowitz 45 nm blocks and laws as :mod:`codesign.rtl_sim.characterize`
(``E_mult(w, a) = 0.2 pJ·w·a/64``, adders linear in bits, ``w + a + 16``-bit accumulators);
where Horowitz has no figure (multiplexers of a shifter) the NanGate 45 nm cell area of
:mod:`codesign.rtl_sim.area` is used. Each model's cycles per MAC equal the closed form of the
same family in :mod:`codesign.rtl_sim.families` (a test checks it).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from codesign.errors import ConfigError
from codesign.rtl_sim.bits import max_terms
from codesign.rtl_sim.pe_model import (
    PARALLEL_BITS,
    Bits,
    PEModel,
    acc_bits,
    add_area_um2,
    add_energy_pj,
    mult_area_um2,
    mult_energy_pj,
)

__all__ = ["bit_serial_both", "serial", "essential", "MUX2_UM2"]

_ARITH = {
    "int_mult8": "Horowitz, ISSCC 2014, 45 nm (scaled ∝ w·a)",
    "int_add8/16/32": "Horowitz, ISSCC 2014, 45 nm (linear in bits)",
    "ACC_GUARD_BITS": "assumption: 32-bit accumulator of an INT8 MAC",
}
#: NanGate 45 nm MUX2_X1 (µm²), the cell of a barrel shifter stage (codesign.rtl_sim.area).
MUX2_UM2 = 1.862


def _state_bytes(w: Bits, a: Bits) -> Any:
    acc = acc_bits(np.maximum(w, PARALLEL_BITS), np.maximum(a, PARALLEL_BITS))
    return -(-(np.add(w, a) + acc) // 8)


def _check_k(name: str, k: Any, hi: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= hi:
        raise ConfigError(f"{name} must be an integer in [1, {hi}], but got {k!r}")
    return int(k)


def bit_serial_both() -> PEModel:
    """Both operands serial as bit-plane pairs (Loom, Sharify et al. DAC 2018; BISMO, Umuroglu
    et al. FPL 2018): ``cycles = w·a`` per MAC per lane; per cycle an AND of two bits
    (``E_mult(1, 1)``) and a 32-bit accumulate: ``E = w·a·(E_mult(1,1) + E_add(32))``;
    ``A = A_mult(1, 1) + A_add(w_max + a_max + 16)``."""
    def cycles(w: Bits, a: Bits) -> Any:
        return np.multiply(w, a) * 1.0

    def energy(w: Bits, a: Bits) -> Any:
        return cycles(w, a) * (mult_energy_pj(1, 1) + add_energy_pj(acc_bits()))

    def area(w_bits_max: int = 8, a_bits_max: int = 8) -> float:
        return float(mult_area_um2(1, 1) + add_area_um2(acc_bits(w_bits_max, a_bits_max)))

    return PEModel("bit_serial_both", "bit-plane pairs of both operands (Loom / BISMO)", "45nm", cycles, energy,
                   area, _state_bytes, buf_bits_per_mac=lambda w, a: np.asarray(w) * 1.0,
                   sources={**_ARITH, "cycle model": "Sharify et al. DAC 2018 (Loom); Umuroglu et al. FPL 2018 (BISMO)"})


def serial(w_bits_per_cycle: int = 2, a_bits_per_cycle: int = 16, group_size: int = 128,
           scale_bits: int = 8, lanes: int = 4) -> PEModel:
    """Configurable digit-serial PE (:class:`codesign.rtl_sim.serial.SerialPE`), BitMoD-like by default.

    ``cycles = ceil(w/k_w)·ceil(a/k_a)`` per MAC per lane. Per cycle a ``k_w × k_a`` digit
    multiplier and an accumulate of ``acc = k_a + 8 + 16`` bits (the hardware's widths, whatever
    the operands): ``E = cycles·(E_mult(k_w, k_a) + E_add(acc))``, plus with group scales one
    ``scale_bits × 32`` multiply per output and group, ``E_mult(scale_bits, 32)/group_size`` per
    MAC. ``A = A_mult(k_w, k_a) + A_add(acc)`` per lane, plus the PE's group-scale multiplier
    ``A_mult(scale_bits, 32)`` shared by its ``lanes``. Stored bits per weight
    ``w + scale_bits/group_size``.
    """
    kw = _check_k("w_bits_per_cycle", w_bits_per_cycle, 8)
    ka = _check_k("a_bits_per_cycle", a_bits_per_cycle, 16)
    g = int(group_size)
    s = int(scale_bits) if g else 0
    lanes = _check_k("lanes", lanes, 1024)
    acc = acc_bits(PARALLEL_BITS, ka)

    def cycles(w: Bits, a: Bits) -> Any:
        return (-(-np.asarray(w) // kw)) * (-(-np.asarray(a) // ka)) * 1.0

    def energy(w: Bits, a: Bits) -> Any:
        scale = mult_energy_pj(s, 32) / g if g else 0.0
        return cycles(w, a) * (mult_energy_pj(kw, ka) + add_energy_pj(acc)) + scale

    def area(w_bits_max: int = 8, a_bits_max: int = 8) -> float:
        scale = mult_area_um2(s, 32) / lanes if g else 0.0
        return float(mult_area_um2(kw, ka) + add_area_um2(acc) + scale)

    name = "serial" if (kw, ka, g, s, lanes) == (2, 16, 128, 8, 4) else f"serial_w{kw}a{ka}g{g}s{s}l{lanes}"
    return PEModel(name, f"digit-serial PE, {kw} weight / {ka} activation bits per cycle, group {g}",
                   "45nm", cycles, energy, area, _state_bytes, buf_bits_per_mac=lambda w, a: np.asarray(w) * 1.0,
                   w_storage_bits=lambda w: np.asarray(w) + (s / g if g else 0.0),
                   sources={**_ARITH, "cycle model": "Chen et al., BitMoD, HPCA 2025 (2 weight bits per cycle, "
                                                     "4-wide dot products, FP16 activations, group 128)"})


@functools.lru_cache(maxsize=64)
def _worst_terms(bits: int, encoding: str) -> int:
    return max(1, max_terms(bits, True, encoding))


def essential(encoding: str = "binary") -> PEModel:
    """Zero-bit-skipping weight-serial PE (:mod:`codesign.rtl_sim.essential`; Pragmatic, Laconic).

    ``cycles_per_mac`` is the closed-form worst case, ``max(1, max_terms(w))`` for signed
    weights (``w - 1`` terms for ``binary``, about ``w/2`` for ``csd``); the measured value comes
    from the weights (``data_dependent``). Per cycle one shifted activation is added:
    ``E = cycles·(E_mult(1, 8) + E_add(32))`` (an AND row's energy stands in for the shifter's,
    which Horowitz does not give). ``A = A_add(32) + 3·(a_max + 1)·A_MUX2`` (a 3-stage barrel
    shifter of MUX2 cells, NanGate 45 nm) ``+ A_mult(1, 8)`` (sign handling).
    """
    if encoding not in ("binary", "csd"):
        raise ConfigError(f"encoding must be 'binary' or 'csd', but got {encoding!r}")

    table = np.array([1.0] + [float(_worst_terms(b, encoding)) for b in range(1, 17)])

    def cycles(w: Bits, a: Bits) -> Any:
        shape = np.broadcast(np.asarray(w), np.asarray(a)).shape
        out = table[np.broadcast_to(np.asarray(w), shape).astype(np.int64)]
        return out if out.ndim else float(out)

    def energy(w: Bits, a: Bits) -> Any:
        return cycles(w, a) * (mult_energy_pj(1, PARALLEL_BITS) + add_energy_pj(acc_bits()))

    def area(w_bits_max: int = 8, a_bits_max: int = 8) -> float:
        shifter = 3 * (a_bits_max + 1) * MUX2_UM2
        return float(add_area_um2(acc_bits(w_bits_max, a_bits_max)) + shifter + mult_area_um2(1, PARALLEL_BITS))

    return PEModel("essential" if encoding == "binary" else "essential_csd",
                   f"zero-bit-skipping weight-serial PE ({encoding} terms)", "45nm", cycles, energy, area,
                   _state_bytes, buf_bits_per_mac=lambda w, a: np.asarray(w) * 1.0, data_dependent=True,
                   sources={**_ARITH, "cycle model": "Albericio et al., Pragmatic, MICRO 2017; Sharify et al., "
                                                     "Laconic, ISCA 2019 (lockstep group: max essential terms)",
                            "MUX2_X1": "NanGate FreePDK45 Open Cell Library, LEF cell size"})
