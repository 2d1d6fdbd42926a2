"""codesign.rtl_sim: bit-exact PE models (bit-parallel, bit-serial, LUT) with cycle/event counts.

- :mod:`~codesign.rtl_sim.pes`: PE families, cycle model, closed-form event counts.
- :mod:`~codesign.rtl_sim.simulate`: :func:`simulate_gemm`, the fast NumPy simulation.
- :mod:`~codesign.rtl_sim.hdl` / :mod:`~codesign.rtl_sim.cosim`: Amaranth RTL of the same PEs and
  co-simulation against it (imported lazily: Amaranth is never imported from here).
- :mod:`~codesign.rtl_sim.bench`: speed of the fast model vs int64 matmul and vs RTL.
"""

from __future__ import annotations

from codesign.rtl_sim.pes import (
    PE,
    PE_FAMILIES,
    BitParallelPE,
    BitSerialPE,
    GemmShape,
    LutPE,
    Precision,
    closed_form_cycles,
    closed_form_events,
    make_pe,
)
from codesign.rtl_sim.simulate import SimResult, simulate_gemm

__all__ = [
    "PE",
    "PE_FAMILIES",
    "BitParallelPE",
    "BitSerialPE",
    "LutPE",
    "GemmShape",
    "Precision",
    "SimResult",
    "closed_form_cycles",
    "closed_form_events",
    "make_pe",
    "simulate_gemm",
]
