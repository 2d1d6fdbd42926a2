"""Verilog export and gate-level statistics of the PE-array RTL (through Yosys).

Amaranth writes RTLIL; Yosys (Debian's ``yosys`` package, on PATH) turns it into Verilog
(``proc; opt_clean; write_verilog``) or synthesizes it to its internal gate library
(``synth``) and counts cells and CMOS transistors (``stat -tech cmos``) for relative area.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from codesign.errors import CodesignError, ConfigError
from codesign.rtl_sim.pes import A_BITS_MAX, PE, W_BITS_MAX

__all__ = ["export_verilog", "rtlil_text", "run_yosys_script", "synth_stats", "yosys_path"]


def yosys_path() -> str:
    """Path of the ``yosys`` binary, or raise ConfigError saying how to get it."""
    path = shutil.which("yosys")
    if path is None:
        raise ConfigError(
            "`yosys` must be on PATH for Verilog export and synthesis "
            "(apt-get install yosys), but it was not found"
        )
    return path


def run_yosys_script(rtlil_text: str, script: str) -> str:
    """Run ``yosys -p "read_rtlil <design>; <script>"`` and return its stdout."""
    with tempfile.TemporaryDirectory() as tmp:
        il = Path(tmp) / "pe_array.il"
        il.write_text(rtlil_text)
        proc = subprocess.run(
            [yosys_path(), "-q", "-p", f"read_rtlil {il}; {script}"],
            capture_output=True, text=True, check=False,
        )
    if proc.returncode != 0:
        raise CodesignError(f"yosys must succeed, but it failed: {proc.stderr.strip()[-400:]}")
    return proc.stdout


def rtlil_text(pe: PE, array: tuple[int, int], max_k: int = 4096, w_max: int = W_BITS_MAX,
               a_max: int = A_BITS_MAX) -> str:
    """RTLIL of the ``array`` of ``pe`` PEs (top module ``pe_array``)."""
    from amaranth.back import rtlil

    from codesign.rtl_sim.hdl.build import build_rtl

    dut = build_rtl(pe, array[0], array[1], max_k, w_max, a_max)
    return rtlil.convert(dut, name="pe_array", ports=dut.ports())


def _run_yosys(pe: PE, array: tuple[int, int], max_k: int, script: str) -> str:
    return run_yosys_script(rtlil_text(pe, array, max_k), script)


def export_verilog(pe: PE, path: str | Path, array: tuple[int, int] = (2, 2),
                   max_k: int = 4096) -> Path:
    """Write the ``array`` of ``pe`` PEs as a Verilog module ``pe_array`` to ``path``."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    _run_yosys(pe, array, max_k, f"proc; opt_clean; write_verilog -noattr {out}")
    return out


def synth_stats(pe: PE, array: tuple[int, int] = (1, 1), max_k: int = 4096) -> dict[str, Any]:
    """Generic synthesis (``synth -flatten``) of the array: cell and transistor counts.

    Returns:
        ``{"cells": int, "transistors": int, "cell_types": {type: count}}``; transistor
        counts use Yosys' CMOS estimate (``stat -tech cmos``), a relative-area proxy.
    """
    text = _run_yosys(pe, array, max_k, "synth -flatten -top pe_array; tee -o /dev/stdout stat -tech cmos")
    cells = re.search(r"Number of cells:\s+(\d+)", text)
    trans = re.search(r"Estimated number of transistors:\s+(\d+)", text)
    types = dict((t, int(n)) for t, n in re.findall(r"^\s+(\$\S+)\s+(\d+)\s*$", text, re.M))
    return {
        "cells": int(cells.group(1)) if cells else -1,
        "transistors": int(trans.group(1)) if trans else -1,
        "cell_types": types,
    }
