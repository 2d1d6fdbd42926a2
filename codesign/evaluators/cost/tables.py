"""Sourced energy and area tables for the analytical models (REFERENCES.md §4).

Every constant names its node and citation. Functions accept scalars or NumPy arrays.

- Arithmetic: the Horowitz 45 nm table lives in :mod:`codesign.rtl_sim.characterize`
  (``rtl_sim`` may not import evaluators) and is re-exported here as :data:`HOROWITZ_45NM`.
- SRAM read energy per 64-bit access vs. size: power law between the Horowitz points
  (8 KB, 10 pJ), (32 KB, 20 pJ), (1 MB, 100 pJ), i.e. linear interpolation of
  ``log E`` in ``log size``. Outside [8 KB, 1 MB] the end segment's power law is extrapolated
  (exponent 0.5 below 8 KB, log(5)/log(32) ≈ 0.46 above 1 MB), documented as an
  extrapolation; sizes must be > 0.
- SRAM write energy: read energy × 26.16/32.38 (Accelergy 45 nm SRAM 16384×64 write/read).
- DRAM: Horowitz gives 1.3–2.6 nJ per 64-bit access. We use the low end, 1.3 nJ
  (162.5 pJ/byte): modern LPDDR is below even that (Accelergy LPDDR4 ≈ 8 pJ/bit = 64 pJ/B),
  so the low end is the closer of the two published bounds. ``dram_pj_per_byte("high")``
  gives the other bound.
- SRAM area: Intel 45 nm 6T bit cell 0.346 µm² (Mistry et al., IEDM 2007) divided by an
  assumed array efficiency of 0.6 (cells / macro area, periphery included; assumption, not
  sourced): ``8192 bits × 0.346 / 0.6 ≈ 4724 µm² per KiB``. Also used for the PE-local
  buffers (an underestimate: flip-flop register files are larger per bit).
- Register file: Eyeriss relative energies (RF 1×, inter-PE 2×, GLB 6×, DRAM 200× a MAC;
  Chen et al., ISCA 2016, 65 nm). Eyeriss' MAC and RF word are 16-bit, so one RF bit costs
  ``E_MAC16 / 16`` with ``E_MAC16 = E_mult(16,16) + E_add(32) = 0.8 + 0.1 = 0.9 pJ``
  (Horowitz-derived): 0.05625 pJ/bit. ``mac16_pj`` and ``rf_pj_per_bit`` live in
  :mod:`codesign.rtl_sim.characterize` (its LUT PE charges table register writes with it) and
  are re-exported here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from codesign.errors import ConfigError
from codesign.rtl_sim.characterize import (
    EYERISS_RF_OVER_MAC16,
    EYERISS_WORD_BITS,
    HOROWITZ,
    HOROWITZ_45NM,
    mac16_pj,
    rf_pj_per_bit,
)

__all__ = [
    "HOROWITZ_45NM", "SRAM_READ_POINTS_45NM", "DRAM_PJ_PER_64B_45NM", "SRAM_BITCELL_UM2_45NM",
    "SRAM_ARRAY_EFFICIENCY", "EYERISS_RELATIVE_ENERGY", "sram_read_pj_per_64b", "sram_read_pj_per_byte",
    "sram_write_pj_per_byte", "dram_pj_per_byte", "sram_area_um2_per_kb", "rf_pj_per_bit", "mac16_pj",
    "EYERISS_WORD_BITS", "SOURCES",
]

#: (size KiB, pJ per 64-bit read), Horowitz ISSCC 2014, 45 nm.
SRAM_READ_POINTS_45NM: tuple[tuple[float, float], ...] = ((8.0, 10.0), (32.0, 20.0), (1024.0, 100.0))
#: Accelergy 45 nm SRAM 16384x64: write 26.16 pJ / read 32.38 pJ per access.
SRAM_WRITE_OVER_READ_45NM = 26.16 / 32.38
#: DRAM pJ per 64-bit access (low, high), Horowitz ISSCC 2014.
DRAM_PJ_PER_64B_45NM = {"low": 1300.0, "high": 2600.0}
#: Intel 45 nm 6T SRAM bit cell area (Mistry et al., IEDM 2007).
SRAM_BITCELL_UM2_45NM = 0.346
#: Fraction of an SRAM macro's area that is bit cells (assumption, not sourced).
SRAM_ARRAY_EFFICIENCY = 0.6
#: Eyeriss (ISCA 2016, 65 nm) access energy relative to one 16-bit MAC.
EYERISS_RELATIVE_ENERGY = {"rf": EYERISS_RF_OVER_MAC16, "inter_pe": 2.0, "glb": 6.0, "dram": 200.0}
BITS_PER_KB = 8 * 1024
BITS_PER_64B_ACCESS = 64

SOURCES = {
    "HOROWITZ_45NM": HOROWITZ,
    "SRAM_READ_POINTS_45NM": HOROWITZ,
    "SRAM_WRITE_OVER_READ_45NM": "Accelergy-Project plug-ins/exercises, 45 nm SRAM 16384x64",
    "DRAM_PJ_PER_64B_45NM": HOROWITZ,
    "SRAM_BITCELL_UM2_45NM": "Mistry et al., 'A 45nm logic technology ...', IEDM 2007 (Intel 6T cell)",
    "SRAM_ARRAY_EFFICIENCY": "assumption (typical macro efficiency); replace with CACTI/compiler data",
    "EYERISS_RELATIVE_ENERGY": "Chen et al., Eyeriss, ISCA 2016, 65 nm",
}

#: Accelergy 65 nm per-access figures (REFERENCES.md §4): MAC, SRAM 16384x64 read/write, LPDDR4.
ACCELERGY_65NM = {"mac_pj": 0.2077, "sram_16384x64_read_pj": 18.18, "sram_16384x64_write_pj": 14.14,
                  "lpddr4_pj_per_bit": 8.0}
#: Accelergy 45 nm per-access figures (REFERENCES.md §4).
ACCELERGY_45NM = {"mac_pj": 0.315, "sram_16384x64_read_pj": 32.38, "sram_16384x64_write_pj": 26.16}
SOURCES["ACCELERGY_65NM"] = "Accelergy-Project plug-ins/exercises, 65 nm (MAC, SRAM 16384x64, LPDDR4)"
SOURCES["ACCELERGY_45NM"] = "Accelergy-Project plug-ins/exercises, 45 nm (MAC, SRAM 16384x64)"
SOURCES["65nm area scaling"] = "assumption: ideal (65/45)^2 area scaling of the 45 nm figures"

_NODES = ("45nm", "65nm")


def node_scales(node: str) -> dict[str, float]:
    """Multipliers that turn the 45 nm tables into ``node`` figures.

    65 nm: SRAM read ``18.18/32.38`` and write ``14.14/26.16`` (Accelergy SRAM 16384x64 at 65 vs
    45 nm, applied to the Horowitz size law), MAC ``0.2077/0.315`` (Accelergy MAC), DRAM
    LPDDR4 8 pJ/bit (absolute), area ``(65/45)^2`` (assumption).
    """
    check_node(node)
    if node == "45nm":
        return {"sram_read": 1.0, "sram_write": 1.0, "mac": 1.0, "area": 1.0}
    a65, a45 = ACCELERGY_65NM, ACCELERGY_45NM
    return {
        "sram_read": a65["sram_16384x64_read_pj"] / a45["sram_16384x64_read_pj"],
        "sram_write": (a65["sram_16384x64_write_pj"] / a45["sram_16384x64_write_pj"]),
        "mac": a65["mac_pj"] / a45["mac_pj"],
        "area": (65.0 / 45.0) ** 2,
    }


def dram_pj_per_byte_node(node: str, bound: str = "low") -> float:
    """DRAM pJ/byte at ``node``: Horowitz (45 nm, see :func:`dram_pj_per_byte`) or LPDDR4 8 pJ/bit (65 nm)."""
    check_node(node)
    return dram_pj_per_byte(bound) if node == "45nm" else ACCELERGY_65NM["lpddr4_pj_per_bit"] * 8


def check_node(node: str) -> str:
    """Raise :class:`ConfigError` unless the tables cover ``node``."""
    if node not in _NODES:
        raise ConfigError(f"node must be one of {_NODES}, but got {node!r}")
    return node


def sram_read_pj_per_64b(size_kb: Any) -> Any:
    """pJ per 64-bit read of an SRAM of ``size_kb`` KiB (log-log interpolation, see module doc).

    ``E(s) = E_i · (s / s_i)^α_i`` on the segment ``[s_i, s_{i+1}]`` with
    ``α_i = log(E_{i+1}/E_i) / log(s_{i+1}/s_i)``; end segments extrapolate.
    """
    s = np.asarray(size_kb, dtype=float)
    if s.size and np.any(s <= 0):
        raise ConfigError(f"SRAM size_kb must be > 0, but got {size_kb!r}")
    xs = np.log([p[0] for p in SRAM_READ_POINTS_45NM])
    ys = np.log([p[1] for p in SRAM_READ_POINTS_45NM])
    x = np.log(s)
    out = np.interp(x, xs, ys)
    lo_slope = (ys[1] - ys[0]) / (xs[1] - xs[0])
    hi_slope = (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
    out = np.where(x < xs[0], ys[0] + lo_slope * (x - xs[0]), out)
    out = np.where(x > xs[-1], ys[-1] + hi_slope * (x - xs[-1]), out)
    out = np.exp(out)
    return out if out.ndim else float(out)


def sram_read_pj_per_byte(size_kb: Any) -> Any:
    """pJ per byte read: the 64-bit access energy / 8."""
    return sram_read_pj_per_64b(size_kb) / (BITS_PER_64B_ACCESS / 8)


def sram_write_pj_per_byte(size_kb: Any) -> Any:
    """pJ per byte written: read energy × 26.16/32.38 (Accelergy 45 nm write/read ratio)."""
    return sram_read_pj_per_byte(size_kb) * SRAM_WRITE_OVER_READ_45NM


def dram_pj_per_byte(bound: str = "low") -> float:
    """pJ per DRAM byte: Horowitz 1.3 nJ (``"low"``, default) or 2.6 nJ (``"high"``) per 64 bits."""
    if bound not in DRAM_PJ_PER_64B_45NM:
        raise ConfigError(f"DRAM bound must be one of {sorted(DRAM_PJ_PER_64B_45NM)}, but got {bound!r}")
    return DRAM_PJ_PER_64B_45NM[bound] / (BITS_PER_64B_ACCESS / 8)


def sram_area_um2_per_kb() -> float:
    """µm² per KiB of SRAM: ``8192 · 0.346 µm² / 0.6`` ≈ 4724 µm² (45 nm)."""
    return BITS_PER_KB * SRAM_BITCELL_UM2_45NM / SRAM_ARRAY_EFFICIENCY
