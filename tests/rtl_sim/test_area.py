"""Area from the project's own RTL: NanGate 45 nm mapped synthesis, the committed table, and its
use by characterization beside the published-figure areas."""

from __future__ import annotations

import shutil

import pytest

from codesign.rtl_sim import characterize as ch
from codesign.rtl_sim.area import (
    NANGATE45_X1,
    REFERENCE_ARRAY,
    SYNTH_CONFIGS,
    area_terms,
    lane_area_um2,
    load_synth_areas,
    synth_area,
)
from codesign.rtl_sim.pes import BitSerialPE

needs_yosys = pytest.mark.skipif(shutil.which("yosys") is None, reason="yosys not installed")


def test_committed_table_covers_every_characterized_family() -> None:
    table = load_synth_areas()
    fams = table["families"]
    assert set(fams) == set(SYNTH_CONFIGS) == set(ch.PE_NAMES)
    assert table["reference_array"] == list(REFERENCE_ARRAY) and "LEF" in table["source"]
    for name, entry in fams.items():
        assert entry["lane_area_um2"] == pytest.approx(lane_area_um2(entry["terms_um2"], entry["lanes"]), abs=1e-2)
        cells = entry["cells_1x1"]
        assert set(cells) <= set(NANGATE45_X1) and cells.get("DFF_X1", 0) > 0
        model = ch.get_pe(name)
        assert model.synth_area_um2 == pytest.approx(entry["lane_area_um2"])
        assert "synth_area_um2" in model.sources


def test_synthesized_areas_rank_as_the_designs_do() -> None:
    fams = load_synth_areas()["families"]
    lane = {k: v["lane_area_um2"] for k, v in fams.items()}
    # the serial RTL multiplies (k+1)-bit digits, not full-width operands: smaller than the 8x8 MAC
    assert lane["bit_serial"] < lane["bit_parallel"] and lane["bit_serial_both"] < lane["bit_serial"]
    # the LUT's table-build unit is per PE row: its per-row term dwarfs the MAC array's
    assert fams["lut"]["terms_um2"]["a_r"] > 10 * fams["bit_parallel"]["terms_um2"]["a_r"]
    assert lane["bit_fusion"] > lane["bit_parallel"]  # 16 bricks + fusion muxes per 8x8 product


def test_published_lut_area_counts_table_build_and_lookup_mux() -> None:
    lut, serial = ch.lut(), ch.bit_serial()
    acc = float(ch.add_area_um2(ch.acc_bits()))
    mux = 7 * 10 * 1.862  # (2^(g-1) - 1) MUX2 cells per entry bit, 10-bit entries
    build = 3 * 8 * float(ch.add_area_um2(10)) / 16  # (g-1)·2^(g-1) adders shared by 16 columns
    assert lut.area_um2() == pytest.approx(2 * acc + mux + build)
    assert lut.area_um2() > serial.area_um2()


@needs_yosys
def test_synth_area_equals_the_cell_table_sum() -> None:
    res = synth_area(BitSerialPE(serial="both", lanes=1), (1, 1), max_k=64)
    total = sum(n * NANGATE45_X1[c][0] for c, n in res["cells"].items())
    assert res["area_um2"] == pytest.approx(total, rel=1e-6) and res["dffs"] > 0


@pytest.mark.slow
@needs_yosys
def test_committed_terms_reproduce() -> None:
    pe, w_max, a_max = SYNTH_CONFIGS["bit_serial_both"]
    terms = area_terms(pe, load_synth_areas()["max_k"], w_max, a_max)
    committed = load_synth_areas()["families"]["bit_serial_both"]["terms_um2"]
    assert terms == pytest.approx(committed, rel=1e-3, abs=0.01)
