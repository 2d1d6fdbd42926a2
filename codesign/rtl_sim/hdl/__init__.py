"""RTL (Amaranth HDL) of the PE families; imported only by cosim and Verilog export.

Amaranth is a heavy import, so :mod:`codesign.rtl_sim` never imports this package itself.
"""

from __future__ import annotations

from codesign.rtl_sim.hdl.arrays import PEArrayRTL
from codesign.rtl_sim.hdl.build import build_rtl
from codesign.rtl_sim.hdl.export import export_verilog, synth_stats

__all__ = ["PEArrayRTL", "build_rtl", "export_verilog", "synth_stats"]
