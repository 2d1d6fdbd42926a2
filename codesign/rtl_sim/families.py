"""The catalogue of PE family variants, :func:`make_pe`, and the closed-form cycle/event counts.

Families (:mod:`~codesign.rtl_sim.pes` for the model of a step):

- ``bit_parallel``; ``bit_serial:weight|activation|both`` (:class:`~codesign.rtl_sim.pes.BitSerialPE`);
  ``lut`` (:class:`~codesign.rtl_sim.pes.LutPE`);
- ``serial``: configurable digit-serial PE, BitMoD-like by default (:mod:`~codesign.rtl_sim.serial`);
- ``essential`` / ``essential:csd``: zero-bit-skipping weight-serial PE (:mod:`~codesign.rtl_sim.essential`);
- ``bit_fusion``: fused 2-bit bricks (:mod:`~codesign.rtl_sim.fusion`).
"""

from __future__ import annotations

import difflib

from codesign.errors import ConfigError
from codesign.rtl_sim.bits import max_terms
from codesign.rtl_sim.essential import EssentialPE
from codesign.rtl_sim.fusion import BitFusionPE
from codesign.rtl_sim.pes import PE, BitParallelPE, BitSerialPE, GemmShape, LutPE, Precision
from codesign.rtl_sim.serial import BITMOD_LIKE, SerialPE

__all__ = ["PE_FAMILIES", "ALIASES", "make_pe", "closed_form_cycles", "closed_form_events"]

PE_FAMILIES: dict[str, PE] = {
    "bit_parallel": BitParallelPE(),
    "bit_serial:weight": BitSerialPE(serial="weight"),
    "bit_serial:activation": BitSerialPE(serial="activation"),
    "bit_serial:both": BitSerialPE(serial="both"),
    "lut": LutPE(),
    "serial": BITMOD_LIKE,
    "essential": EssentialPE(),
    "essential:csd": EssentialPE(encoding="csd"),
    "bit_fusion": BitFusionPE(),
}
"""Default instance of every family variant (the catalogue ``codesign sim`` and the bench use)."""

_CLASSES: dict[str, type[PE]] = {
    "bit_parallel": BitParallelPE,
    "bit_serial": BitSerialPE,
    "lut": LutPE,
    "serial": SerialPE,
    "essential": EssentialPE,
    "bit_fusion": BitFusionPE,
}
_VARIANT_PARAM = {"bit_serial": "serial", "essential": "encoding"}
#: characterization (design ``pe_type``) names that differ from the simulated family keys
ALIASES = {"bit_serial_act": "bit_serial:activation", "bit_serial_both": "bit_serial:both",
           "essential_csd": "essential:csd"}


def make_pe(name: str, **params: object) -> PE:
    """Build a PE by family name (``bit_parallel``, ``bit_serial``, ``lut``, ``serial``,
    ``essential``, ``bit_fusion``) or a catalogue key such as ``bit_serial:both`` or
    ``essential:csd``, or a characterization name (:data:`ALIASES`, e.g. a design's ``pe_type``
    ``bit_serial_act``); ``params`` are the family's fields. ``serial`` without params is the
    BitMoD-like default. Unknown names raise ConfigError."""
    name = ALIASES.get(str(name), name)
    base, _, variant = str(name).partition(":")
    if variant and base in _VARIANT_PARAM:
        params = {_VARIANT_PARAM[base]: variant, **params}
        name = base
    if name not in _CLASSES:
        close = difflib.get_close_matches(str(name), [*_CLASSES, *PE_FAMILIES], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"`pe` must be one of {sorted(PE_FAMILIES)}, but got {name!r}{hint}")
    if name == "serial" and not params:
        return BITMOD_LIKE
    try:
        return _CLASSES[name](**params)  # type: ignore[arg-type]
    except TypeError as exc:
        raise ConfigError(f"PE {name!r} parameters must be valid, but got {params}: {exc}") from None


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


def closed_form_cycles(
    pe: PE, shape: GemmShape, prec: Precision, array: tuple[int, int]
) -> tuple[int, int]:
    """``(compute_cycles, overhead_cycles)``: ``tiles·S·P`` and ``tiles·1`` (the worst case for
    a data-dependent family)."""
    rows, cols = array
    tiles = _ceil(shape.m, rows) * _ceil(shape.n, cols)
    steps = _ceil(shape.k, pe.k_step(prec))
    return tiles * steps * pe.phases(prec), tiles


def closed_form_events(
    pe: PE, shape: GemmShape, prec: Precision, array: tuple[int, int], order: str = "mn"
) -> dict[str, int]:
    """Event counts in closed form (see :func:`~codesign.rtl_sim.simulate.simulate_gemm` for
    meanings); for a data-dependent family the worst case.

    With ``S = ceil(K / k_step)``, ``G = ceil(K / g)``, ``T_w = ceil(w/k)``, ``T_a = ceil(a/k)``:
    bit_parallel ``multiplies = adds = M·N·K``; weight-serial ``multiplies = adds = T_w·M·N·K``;
    activation-serial the same with ``T_a``; serial ``multiplies = adds = T_a·T_w·M·N·K`` and
    ``scale_muls = M·N·ceil(K/group)``; both-serial ``and_popcounts = adds = a·w·M·N·S``;
    essential ``shift_adds = adds ≤ max_terms(w)·M·N·K``; bit_fusion ``brick_mults = adds =
    d_a·d_w·M·N·K`` (2-bit digits per product); lut ``lookups = adds = w·M·N·G``,
    ``table_builds = M·G·ceil(N/C)``, ``table_adds = (g-1)·2^(g-1)·table_builds``,
    ``bias_adds = M·N·S``. ``shifts = M·N·S·shifts_per_step``. Buffer reads: order ``mn`` keeps
    the activation row block (``buf_reads_a = M·K``, ``buf_reads_w = ceil(M/R)·K·N``), ``nm``
    keeps the weight column block (``buf_reads_w = K·N``, ``buf_reads_a = ceil(N/C)·M·K``); a
    factor ``ceil(·)`` is 1 when the other operand has a single block.
    """
    m, n, k = shape.m, shape.n, shape.k
    rows, cols = array
    steps = _ceil(k, pe.k_step(prec))
    mnk = m * n * k
    ev: dict[str, int] = {"macs": shape.macs}
    if isinstance(pe, LutPE):
        groups = _ceil(k, pe.g)
        ev["lookups"] = ev["adds"] = prec.w_bits * m * n * groups
        ev["table_builds"] = m * groups * _ceil(n, cols)
        ev["table_adds"] = (pe.g - 1) * pe.table_entries * ev["table_builds"]
        ev["bias_adds"] = m * n * steps
        ev["reg_writes"] = ev["table_builds"] * pe.table_entries + _ceil(m, rows) * k * n
    else:
        if isinstance(pe, BitSerialPE) and pe.serial == "both":
            ev["and_popcounts"] = ev["adds"] = prec.a_bits * prec.w_bits * m * n * steps
        elif isinstance(pe, EssentialPE):
            ev["shift_adds"] = ev["adds"] = max_terms(prec.w_bits, prec.w_signed, pe.encoding) * mnk
        elif isinstance(pe, BitFusionPE):
            d_a, d_w = pe.brick_digits(prec)
            ev["brick_mults"] = ev["adds"] = d_a * d_w * mnk
        else:
            ev["multiplies"] = ev["adds"] = pe.phases(prec) * mnk
        if isinstance(pe, SerialPE) and pe.group_size:
            ev["scale_muls"] = m * n * pe.groups(k)
        ev["reg_writes"] = m * k * _ceil(n, cols) + _ceil(m, rows) * k * n
    ev["shifts"] = m * n * steps * pe.shifts_per_step(prec)
    m_tiles, n_tiles = _ceil(m, rows), _ceil(n, cols)
    if order == "mn":  # the row block stays; the column block stays only if there is one
        ev["buf_reads_a"] = m * k
        ev["buf_reads_w"] = k * n * (1 if n_tiles == 1 else m_tiles)
    else:
        ev["buf_reads_w"] = k * n
        ev["buf_reads_a"] = m * k * (1 if m_tiles == 1 else n_tiles)
    ev["buf_writes_out"] = m * n
    return ev
