"""PE characterization: cycles, energy, area and minimal local state of each PE family.

A :class:`PEModel` describes one PE *lane* (one MAC-equivalent position of the array) as
functions of the operand bit widths. All functions accept Python ints or NumPy integer arrays
(broadcast elementwise) so that evaluators can score many designs at once.

Every constant comes from REFERENCES.md §4 and carries its node and citation. The models are
composed from Horowitz 45 nm arithmetic figures with these derivations (written once here):

- Integer multiplier ``w×a`` bits: energy and area scale with the partial-product count,
  ``E_mult(w, a) = E_mult8 · w·a / 64`` (likewise area). Anchored at the published 8b mult
  (0.2 pJ, 282 µm²); the law predicts 3.2 pJ / 4512 µm² at 32b against the published
  3.1 pJ / 3495 µm², so it is accurate in energy and pessimistic in area at large widths.
- Integer adder of ``b`` bits: energy and area scale linearly with ``b``; piecewise-linear
  through the published 8/16/32-bit adds, proportional (``∝ b``) outside [8, 32].
- Accumulator width: ``acc_bits(w, a) = w + a + ACC_GUARD_BITS`` with 16 guard bits, i.e.
  the 32-bit accumulator of an INT8 MAC (modelling assumption: sums of up to 2^16 products).
- Operands wider than the 8-bit parallel datapath (``PARALLEL_BITS``) run in
  ``ceil(bits / 8)`` passes (the usual decomposition of a wide product into 8-bit pieces).

Energies here cover the datapath only. PE-local buffer traffic (operand register / LUT table
reads, ``buf_bits_per_mac``) and per-activation preprocessing (LUT table build and table
register writes, ``preprocess_pj_per_act``, priced here) are reported separately so an
evaluator can charge them with its own buffer-energy tables. To plug in RTL-synthesis numbers, build a :class:`PEModel` with
other callables and ``sources``.
"""

from __future__ import annotations

import difflib
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


def _bytes(bits: Any) -> Any:
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
        }


_ARITH_SOURCES = {
    "int_mult8": HOROWITZ + " (scaled ∝ w·a)",
    "int_add8/16/32": HOROWITZ + " (linear in bits)",
    "ACC_GUARD_BITS": "assumption: 32-bit accumulator of an INT8 MAC",
}


def _operand_state_bytes(w_bits: Bits, a_bits: Bits) -> Any:
    """Weight + activation registers and the accumulator: ``ceil((w + a + acc)/8)``."""
    acc = acc_bits(np.maximum(w_bits, PARALLEL_BITS), np.maximum(a_bits, PARALLEL_BITS))
    return _bytes(np.add(w_bits, a_bits) + acc)


def bit_parallel() -> PEModel:
    """Bit-parallel 8x8 MAC: one MAC per lane per cycle for operands up to 8 bits.

    ``cycles = ceil(w/8)·ceil(a/8)``; ``E = cycles · (E_mult(8,8) + E_add(32))`` = 0.3 pJ at
    ≤ 8 bits (the fixed datapath gains nothing from narrower operands);
    ``A = A_mult(w_max, a_max) + A_add(w_max + a_max + 16)`` = 419 µm² at 8x8. One
    stationary-operand (weight) read of ``w`` bits from the local buffer per MAC.
    """
    def cycles(w: Bits, a: Bits) -> Any:
        return passes(w) * passes(a) * 1.0

    def energy(w: Bits, a: Bits) -> Any:
        return cycles(w, a) * (mult_energy_pj(PARALLEL_BITS, PARALLEL_BITS) + add_energy_pj(acc_bits()))

    def area(w_bits_max: int = 8, a_bits_max: int = 8) -> float:
        return float(mult_area_um2(w_bits_max, a_bits_max) + add_area_um2(acc_bits(w_bits_max, a_bits_max)))

    return PEModel(
        "bit_parallel", "bit-parallel 8x8 integer MAC (baseline)", "45nm", cycles, energy, area,
        _operand_state_bytes, buf_bits_per_mac=lambda w, a: np.asarray(w) * 1.0,
        sources=dict(_ARITH_SOURCES),
    )


_SERIAL_SOURCES = {"weight": "Umuroglu et al. FPL 2018 (BISMO); Chen et al. HPCA 2025 (BitMoD): ceil(w_bits/k)",
                   "activation": "Judd et al., Stripes, MICRO 2016: ceil(a_bits/k) (REFERENCES.md §2)"}


def _serial(k: int, serial: str) -> PEModel:
    """One-operand bit-serial PE: ``serial`` operand ``s`` (``k`` bits per cycle) times the parallel
    operand ``p``: ``cycles = ceil(s/k)·ceil(p/8)``; one ``w``-bit local-buffer read per MAC."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= PARALLEL_BITS:
        raise ConfigError(f"bits_per_cycle must be an integer in [1, {PARALLEL_BITS}], but got {k!r}")
    k = int(k)
    weight = serial == "weight"

    def cycles(w: Bits, a: Bits) -> Any:
        ser, par = (w, a) if weight else (a, w)
        return (-(-np.asarray(ser) // k)) * passes(par) * 1.0

    def energy(w: Bits, a: Bits) -> Any:
        return cycles(w, a) * (mult_energy_pj(k, PARALLEL_BITS) + add_energy_pj(acc_bits()))

    def area(w_bits_max: int = 8, a_bits_max: int = 8) -> float:
        par_max = a_bits_max if weight else w_bits_max
        return float(mult_area_um2(k, min(par_max, PARALLEL_BITS)) + add_area_um2(acc_bits(w_bits_max, a_bits_max)))

    base = "bit_serial" if weight else "bit_serial_act"
    return PEModel(
        base if k == 1 else f"{base}{k}", f"{serial} bit-serial PE, {k} {serial} bit(s) per cycle", "45nm",
        cycles, energy, area, _operand_state_bytes, buf_bits_per_mac=lambda w, a: np.asarray(w) * 1.0,
        sources={**_ARITH_SOURCES, "cycle model": _SERIAL_SOURCES[serial]},
    )


def bit_serial(bits_per_cycle: int = 1) -> PEModel:
    """Weight bit-serial PE (BISMO/BitMoD style) consuming ``k`` weight bits per cycle.

    Each cycle multiplies the 8-bit activation by ``k`` weight bits (a ``k×8`` partial product)
    and shift-adds it into the 32-bit accumulator: ``cycles = ceil(w/k)·ceil(a/8)``;
    ``E = cycles · (E_mult(k, 8) + E_add(32))``; ``A = A_mult(k, a_max) + A_add(w_max + a_max + 16)``.
    BitMoD is ``k = 2``. Equals ``rtl_sim.pes`` ``bit_serial:weight`` cycles per MAC for ``a ≤ 8``.
    """
    return _serial(bits_per_cycle, "weight")


def bit_serial_act(bits_per_cycle: int = 1) -> PEModel:
    """Activation bit-serial PE (Stripes, Judd et al., MICRO 2016), ``k`` activation bits per cycle.

    The mirror of :func:`bit_serial` from the same Horowitz blocks: each cycle multiplies the 8-bit
    weight by ``k`` activation bits (a ``k×8`` partial product; Stripes' AND gates for ``k = 1``)
    and shift-adds it into the 32-bit accumulator: ``cycles = ceil(a/k)·ceil(w/8)``;
    ``E = cycles · (E_mult(k, 8) + E_add(32))``; ``A = A_mult(k, w_max) + A_add(w_max + a_max + 16)``.
    Equals ``rtl_sim.pes`` ``bit_serial:activation`` cycles per MAC for ``w ≤ 8``.
    """
    return _serial(bits_per_cycle, "activation")


def lut(group: int = 4) -> PEModel:
    """LUT PE over weight bit-planes (T-MAC / LUT Tensor Core style), group size ``g``.

    Per group of ``g`` activations a table of ``2^(g-1)`` symmetric entries (±1 digits; the
    index's top bit selects negation) holds signed sums of ``a + ceil(log2 g)`` bits. Per
    weight bit-plane and group: one table lookup + one add/sub into the accumulator, so
    ``cycles = lookups = (w/g)·ceil(a/8)`` per MAC (fractional: 0.5 at w=2, g=4).

    Datapath energy per MAC, ``E = (cycles + ceil(a/8)/g) · E_add(32)``: the lookup adds, plus
    the bias add of the ±1-digit identity (``A·W = (Σ_j c_j·(A·S'_j) − ΣA)/2``, REFERENCES.md
    §1): ``rtl_sim`` adds the ``ΣA`` term once per output per step (``bias_adds = M·N·S``,
    :func:`codesign.rtl_sim.pes.closed_form_events`), i.e. once per group of ``g`` MACs for a
    PE of one lane (this lane); a PE whose ``L`` lanes share one accumulator needs ``1/(L·g)``,
    so the term is an upper bound there. The lookups are local-buffer reads of
    ``(w/g)·entry_bits`` bits per MAC.

    Per activation, each time its group enters the array (``preprocess_pj_per_act``; the
    array's columns share the table): the table is built upstream (LUT Tensor Core),
    ``(g-1)·2^(g-1)`` adds of ``entry_bits`` per table (T-MAC), i.e. ``(g-1)·2^(g-1)/g`` adds
    per activation, and written into the PE's table registers, ``2^(g-1)/g`` entries of
    ``entry_bits`` per activation (``rtl_sim`` ``reg_writes`` counts ``table_builds·2^(g-1)``
    table entries) at the Eyeriss register energy :func:`rf_pj_per_bit`:
    ``E_pre = ceil(a/8)·2^(g-1)/g·((g-1)·E_add(entry_bits) + entry_bits·E_rf_bit)``.
    Minimal local state: the table, one weight group (``g·w`` bits) and the accumulator.
    Area: the accumulator adder only (table storage is the local buffer; the upstream
    table-build unit, the lookup mux and the bias adder are not counted — no sourced figure).
    """
    g = int(group)
    if not 1 <= g <= 8:
        raise ConfigError(f"group must be in [1, 8], but got {group!r}")
    entries = 2 ** (g - 1)
    log2g = int(np.ceil(np.log2(g))) if g > 1 else 0

    def entry_bits(a: Bits) -> Any:
        return np.minimum(a, PARALLEL_BITS) + log2g

    def cycles(w: Bits, a: Bits) -> Any:
        return np.asarray(w) / g * passes(a)

    def energy(w: Bits, a: Bits) -> Any:
        return (cycles(w, a) + passes(a) / g) * add_energy_pj(acc_bits())

    def area(w_bits_max: int = 8, a_bits_max: int = 8) -> float:
        return float(add_area_um2(acc_bits(w_bits_max, a_bits_max)))

    def state(w: Bits, a: Bits) -> Any:
        acc = acc_bits(np.maximum(w, PARALLEL_BITS), np.maximum(a, PARALLEL_BITS))
        return _bytes(entries * entry_bits(a) + g * np.asarray(w) + acc)

    def buf_bits(w: Bits, a: Bits) -> Any:
        return cycles(w, a) * entry_bits(a)

    def preprocess(a: Bits) -> Any:
        eb = entry_bits(a)
        return passes(a) * entries / g * ((g - 1) * add_energy_pj(eb) + eb * rf_pj_per_bit())

    return PEModel(
        "lut" if g == 4 else f"lut{g}", f"LUT PE over weight bit-planes, group {g}", "45nm",
        cycles, energy, area, state, buf_bits_per_mac=buf_bits, preprocess_pj_per_act=preprocess,
        sources={**_ARITH_SOURCES, "table": TMAC, "table precompute upstream": "Mo et al., LUT Tensor Core, ISCA 2025",
                 "table register writes": EYERISS + ", per bit = 1/16 of the Horowitz-derived 16-bit MAC"},
    )


def bit_fusion() -> PEModel:
    """Bit Fusion fusion unit (2-bit bricks fused spatially), from its 45 nm synthesis.

    Products per unit per cycle ``perf = floor(8/max(a,2))·floor(8/max(w,2))`` (operands
    above 8 bits: ``1/ceil(bits/8)``); ``cycles = 1/perf``;
    ``E = P·T_clk / perf = 344 µW / 500 MHz / perf = 0.688 pJ / perf``; ``A = 1733 µm²``.
    """
    unit = BITFUSION_FUSION_UNIT
    pj_per_cycle = unit["power_uw"] / unit["clock_mhz"]  # µW / MHz = pJ

    def factor(bits: Bits) -> Any:
        b = np.asarray(bits)
        return np.where(b <= PARALLEL_BITS, PARALLEL_BITS // np.maximum(b, 2), 1.0 / passes(b))

    def cycles(w: Bits, a: Bits) -> Any:
        return 1.0 / (factor(w) * factor(a))

    def energy(w: Bits, a: Bits) -> Any:
        return pj_per_cycle * cycles(w, a)

    def area(w_bits_max: int = 8, a_bits_max: int = 8) -> float:
        return float(unit["area_um2"])

    return PEModel(
        "bit_fusion", "Bit Fusion fusible 8/2-bit unit (synthesized figures)", "45nm", cycles, energy, area,
        _operand_state_bytes, buf_bits_per_mac=lambda w, a: np.asarray(w) * 1.0,
        sources={"power_uw, area_um2": BITFUSION, "cycle model": "Sharma et al., ISCA 2018"},
    )


_FACTORIES: dict[str, Callable[[], PEModel]] = {
    "bit_parallel": bit_parallel,
    "bit_serial": bit_serial,
    "bit_serial_act": bit_serial_act,
    "lut": lut,
    "bit_fusion": bit_fusion,
}
PE_NAMES: tuple[str, ...] = tuple(_FACTORIES)


def get_pe(name: str) -> PEModel:
    """The default-configured PE model of a family by name."""
    try:
        return _FACTORIES[name]()
    except (KeyError, TypeError):
        close = difflib.get_close_matches(str(name), PE_NAMES, n=2, cutoff=0.5)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ConfigError(f"PE type must be one of {PE_NAMES}, but got {name!r}{hint}") from None
