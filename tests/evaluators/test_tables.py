"""Energy / area tables: published points, interpolation law, units."""

from __future__ import annotations

import numpy as np
import pytest

from codesign.errors import ConfigError
from codesign.evaluators.cost import tables as t


def test_sram_hits_horowitz_points() -> None:
    for kb, pj in ((8, 10.0), (32, 20.0), (1024, 100.0)):
        assert t.sram_read_pj_per_64b(kb) == pytest.approx(pj)
    assert t.sram_read_pj_per_byte(8) == pytest.approx(10.0 / 8)


def test_sram_log_interpolation_and_extrapolation() -> None:
    # 8 -> 32 KB is E ∝ sqrt(size): 16 KB = 10*sqrt(2); below 8 KB the same law extrapolates
    assert t.sram_read_pj_per_64b(16) == pytest.approx(10 * np.sqrt(2))
    assert t.sram_read_pj_per_64b(2) == pytest.approx(5.0)
    sizes = 2.0 ** np.arange(0, 14)
    e = t.sram_read_pj_per_64b(sizes)
    assert np.all(np.diff(e) > 0)
    with pytest.raises(ConfigError):
        t.sram_read_pj_per_64b(0)


def test_sram_write_ratio_from_accelergy() -> None:
    assert t.sram_write_pj_per_byte(32) / t.sram_read_pj_per_byte(32) == pytest.approx(26.16 / 32.38)


def test_dram_uses_documented_bound() -> None:
    assert t.dram_pj_per_byte() == pytest.approx(1300 / 8)
    assert t.dram_pj_per_byte("high") == pytest.approx(2600 / 8)
    with pytest.raises(ConfigError):
        t.dram_pj_per_byte("mid")


def test_area_and_rf() -> None:
    assert t.sram_area_um2_per_kb() == pytest.approx(8192 * 0.346 / 0.6)
    # Eyeriss RF = 1x a 16-bit MAC (0.8 + 0.1 pJ) per 16-bit word
    assert t.rf_pj_per_bit() == pytest.approx(0.9 / 16)
    # the model keeps Eyeriss' ordering RF < GLB < DRAM per bit
    assert t.rf_pj_per_bit() < t.sram_read_pj_per_byte(8) / 8 < t.dram_pj_per_byte() / 8


def test_every_constant_is_sourced() -> None:
    for name in ("SRAM_READ_POINTS_45NM", "DRAM_PJ_PER_64B_45NM", "SRAM_BITCELL_UM2_45NM",
                 "SRAM_ARRAY_EFFICIENCY", "EYERISS_RELATIVE_ENERGY", "HOROWITZ_45NM"):
        assert t.SOURCES[name]
    assert all(op.node == "45nm" and op.source for op in t.HOROWITZ_45NM.values())
    with pytest.raises(ConfigError):
        t.check_node("7nm")
