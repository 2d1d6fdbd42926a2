"""codesign.rtl_sim: bit-exact PE models (bit-parallel, bit-serial, LUT, configurable serial,
zero-bit skipping, Bit Fusion) with cycle/event counts.

- :mod:`~codesign.rtl_sim.pes`: precisions, shapes, the PE base and the first families.
- :mod:`~codesign.rtl_sim.serial`, :mod:`~codesign.rtl_sim.essential`,
  :mod:`~codesign.rtl_sim.fusion`: configurable digit-serial (BitMoD-like), zero-bit-skipping
  (Pragmatic / Laconic; torch-free event counter), Bit Fusion.
- :mod:`~codesign.rtl_sim.families`: the catalogue, :func:`make_pe`, closed-form counts.
- :mod:`~codesign.rtl_sim.simulate`: :func:`simulate_gemm`, the fast NumPy simulation.
- :mod:`~codesign.rtl_sim.hdl` / :mod:`~codesign.rtl_sim.cosim`: Amaranth RTL of the same PEs and
  co-simulation against it (imported lazily: Amaranth is never imported from here).
- :mod:`~codesign.rtl_sim.bench`: speed of the fast model vs int64 matmul and vs RTL.
"""

from __future__ import annotations

from codesign.rtl_sim.essential import EssentialPE
from codesign.rtl_sim.families import PE_FAMILIES, closed_form_cycles, closed_form_events, make_pe
from codesign.rtl_sim.fusion import BitFusionPE
from codesign.rtl_sim.pes import PE, BitParallelPE, BitSerialPE, GemmShape, LutPE, Precision
from codesign.rtl_sim.serial import SerialPE
from codesign.rtl_sim.simulate import SimResult, simulate_gemm

__all__ = [
    "PE",
    "PE_FAMILIES",
    "BitParallelPE",
    "BitSerialPE",
    "BitFusionPE",
    "EssentialPE",
    "LutPE",
    "SerialPE",
    "GemmShape",
    "Precision",
    "SimResult",
    "closed_form_cycles",
    "closed_form_events",
    "make_pe",
    "simulate_gemm",
]
