"""Pick the RTL class of a PE family instance."""

from __future__ import annotations

from codesign.rtl_sim.essential import EssentialPE
from codesign.rtl_sim.fusion import BitFusionPE
from codesign.rtl_sim.hdl.arrays import BitParallelRTL, BothSerialRTL, DigitSerialRTL, LutRTL, PEArrayRTL
from codesign.rtl_sim.hdl.families import BitFusionRTL, EssentialRTL, GroupScaledSerialRTL
from codesign.rtl_sim.pes import A_BITS_MAX, PE, W_BITS_MAX, BitSerialPE, LutPE
from codesign.rtl_sim.serial import SerialPE

__all__ = ["build_rtl"]


def build_rtl(pe: PE, rows: int = 2, cols: int = 2, max_k: int = 4096,
              w_max: int = W_BITS_MAX, a_max: int = A_BITS_MAX) -> PEArrayRTL:
    """The RTL array of ``rows × cols`` PEs for a PE family instance (operands up to
    ``w_max`` / ``a_max`` bits, reductions up to ``max_k``)."""
    if isinstance(pe, LutPE):
        cls: type[PEArrayRTL] = LutRTL
    elif isinstance(pe, EssentialPE):
        cls = EssentialRTL
    elif isinstance(pe, BitFusionPE):
        cls = BitFusionRTL
    elif isinstance(pe, SerialPE) and pe.group_size:
        cls = GroupScaledSerialRTL
    elif isinstance(pe, BitSerialPE) and pe.serial == "both":
        cls = BothSerialRTL
    elif isinstance(pe, (BitSerialPE, SerialPE)):
        cls = DigitSerialRTL
    else:
        cls = BitParallelRTL
    return cls(pe, rows, cols, max_k, w_max, a_max)
