"""PE characterization: published cycle scaling, table-derived energies/areas, validation."""

from __future__ import annotations

import numpy as np
import pytest

from codesign.errors import ConfigError
from codesign.rtl_sim import characterize as ch


@pytest.mark.parametrize("name", ch.PE_NAMES)
def test_every_pe_is_complete_and_sourced(name: str) -> None:
    pe = ch.get_pe(name)
    assert pe.node == "45nm" and pe.sources and all(pe.sources.values())
    s = pe.summary(4, 8)
    assert all(np.isfinite(v) and v >= 0 for v in s.values())
    assert s["cycles_per_mac"] > 0 and s["energy_pj_per_mac"] > 0 and s["area_um2"] > 0


@pytest.mark.parametrize("name", ch.PE_NAMES)
def test_vectorized_equals_scalar(name: str) -> None:
    pe = ch.get_pe(name)
    w = np.array([1, 2, 3, 4, 5, 8, 12, 16])
    a = np.array([8, 4, 2, 8, 3, 8, 16, 1])
    for attr in ("cycles_per_mac", "energy_pj_per_mac", "local_buffer_bytes_needed", "buf_bits_per_mac"):
        vec = getattr(pe, attr)(w, a)
        assert np.allclose(vec, [getattr(pe, attr)(int(x), int(y)) for x, y in zip(w, a)])
    assert np.allclose(pe.preprocess_pj_per_act(a), [pe.preprocess_pj_per_act(int(y)) for y in a])


def test_bit_parallel_flat_up_to_8_bits() -> None:
    pe = ch.bit_parallel()
    assert {pe.cycles_per_mac(w, a) for w in range(1, 9) for a in range(1, 9)} == {1.0}
    assert pe.cycles_per_mac(16, 8) == 2.0 and pe.cycles_per_mac(16, 16) == 4.0


def test_bit_serial_cycles_double_from_4_to_8_weight_bits() -> None:
    pe = ch.bit_serial()
    assert pe.cycles_per_mac(8, 8) == 2 * pe.cycles_per_mac(4, 8) == 8.0
    assert pe.cycles_per_mac(3, 8) == 3.0
    pe2 = ch.bit_serial(bits_per_cycle=2)  # BitMoD: ceil(w/2)
    assert [pe2.cycles_per_mac(w, 8) for w in (1, 2, 3, 4, 8)] == [1.0, 1.0, 2.0, 2.0, 4.0]


def test_lut_lookups_linear_in_weight_bits() -> None:
    pe = ch.lut(group=4)
    c = [pe.cycles_per_mac(w, 8) for w in range(1, 9)]
    assert np.allclose(np.diff(c), 0.25)  # w/g with g = 4
    assert pe.cycles_per_mac(2, 8) == 0.5
    assert ch.lut(group=2).cycles_per_mac(4, 8) == 2.0


def test_bit_fusion_perf_table() -> None:
    pe = ch.bit_fusion()  # products per cycle: 8x8->1, 8x4->2, 4x4->4, 4x2->8, 2x2->16
    for (w, a), perf in {(8, 8): 1, (4, 8): 2, (4, 4): 4, (2, 4): 8, (2, 2): 16, (1, 1): 16}.items():
        assert pe.cycles_per_mac(w, a) == pytest.approx(1 / perf)
    # 344 uW at 500 MHz = 0.688 pJ per unit-cycle
    assert pe.energy_pj_per_mac(8, 8) == pytest.approx(0.688)
    assert pe.area_um2() == 1733.0


def test_bit_parallel_energy_and_area_from_horowitz() -> None:
    pe = ch.bit_parallel()
    # 8b mult 0.2 pJ + 32b add 0.1 pJ; 282 + 137 um^2
    assert pe.energy_pj_per_mac(8, 8) == pytest.approx(0.3)
    assert pe.energy_pj_per_mac(2, 2) == pytest.approx(0.3)  # fixed datapath
    assert pe.area_um2() == pytest.approx(419.0)
    # cross-check against the synthesized fixed 8x8 Bit Fusion unit: 172 uW / 500 MHz = 0.344 pJ
    synth = ch.BITFUSION_FIXED_8X8["power_uw"] / ch.BITFUSION_FIXED_8X8["clock_mhz"]
    assert abs(pe.energy_pj_per_mac(8, 8) / synth - 1) < 0.3


def test_scaling_laws_hit_published_points() -> None:
    for bits in (8, 16, 32):
        op = ch.HOROWITZ_45NM[f"int_add{bits}"]
        assert ch.add_energy_pj(bits) == pytest.approx(op.energy_pj)
        assert ch.add_area_um2(bits) == pytest.approx(op.area_um2)
    assert ch.add_energy_pj(4) == pytest.approx(0.015)  # proportional below 8 bits
    assert ch.mult_energy_pj(8, 8) == pytest.approx(0.2)
    # w*a law predicts 32b mult within 5 % of the published 3.1 pJ
    assert abs(ch.mult_energy_pj(32, 32) / ch.HOROWITZ_45NM["int_mult32"].energy_pj - 1) < 0.05


def test_bit_serial_energy_and_area() -> None:
    pe = ch.bit_serial()
    # per cycle: 1x8 partial product 0.2*8/64 = 0.025 pJ + 32b add 0.1 pJ
    assert pe.energy_pj_per_mac(4, 8) == pytest.approx(4 * 0.125)
    assert pe.area_um2() == pytest.approx(282 * 8 / 64 + 137)
    assert pe.area_um2() < ch.bit_parallel().area_um2()


def test_lut_state_and_preprocessing() -> None:
    pe = ch.lut(group=4)
    # table 8 entries x (8 + 2) bits + 4 weights x 8 bits + 32-bit acc = 144 bits = 18 B
    assert pe.local_buffer_bytes_needed(8, 8) == 18
    assert pe.local_buffer_bytes_needed(2, 4) < pe.local_buffer_bytes_needed(8, 8)
    # per activation: (g-1) * 2^(g-1) / g = 6 adds of 10 bits (linear interp 8..16 bits), and
    # 2^(g-1) / g = 2 table entries of 10 bits written to registers at 0.9 / 16 pJ/bit (Eyeriss)
    assert pe.preprocess_pj_per_act(8) == pytest.approx(6 * (0.03 + 0.02 * 2 / 8) + 2 * 10 * 0.9 / 16)
    assert pe.buf_bits_per_mac(8, 8) == pytest.approx(2 * 10)


def test_lut_energy_charges_lookup_and_bias_adds() -> None:
    # w/g lookup adds + one bias add per group of g activations, each a 32-bit add (0.1 pJ)
    pe = ch.lut(group=4)
    assert pe.energy_pj_per_mac(4, 8) == pytest.approx((4 / 4 + 1 / 4) * 0.1)
    assert pe.energy_pj_per_mac(8, 8) == pytest.approx((8 / 4 + 1 / 4) * 0.1)


def test_lut_charges_rtl_sim_bias_adds_and_table_writes() -> None:
    # rtl_sim event counts of a one-lane LUT PE, priced per event like the PE model
    from codesign.rtl_sim import GemmShape, Precision, closed_form_events, make_pe

    g, rows, cols, (m, n, k) = 4, 4, 4, (8, 8, 32)
    pe, model = make_pe("lut", lanes=1, g=g), ch.lut(group=g)
    for w in (1, 4, 8):
        ev = closed_form_events(pe, GemmShape(m, n, k), Precision(w_bits=w, a_bits=8), (rows, cols))
        adds = (ev["adds"] + ev["bias_adds"]) * float(ch.add_energy_pj(ch.acc_bits()))
        assert model.energy_pj_per_mac(w, 8) * ev["macs"] == pytest.approx(adds)
        table_writes = ev["table_builds"] * pe.table_entries
        entry_bits = 8 + 2
        pre = ev["table_adds"] * float(ch.add_energy_pj(entry_bits)) + table_writes * entry_bits * ch.rf_pj_per_bit()
        acts_entering = m * k * -(-n // cols)  # each activation enters once per column block
        assert model.preprocess_pj_per_act(8) * acts_entering == pytest.approx(pre)


def test_stripes_activation_serial() -> None:
    pe = ch.bit_serial_act()
    assert [pe.cycles_per_mac(8, a) for a in (1, 2, 4, 8)] == [1.0, 2.0, 4.0, 8.0]
    assert {pe.cycles_per_mac(w, 8) for w in range(1, 9)} == {8.0}  # weights are parallel
    assert pe.cycles_per_mac(16, 4) == 8.0  # two 8-bit weight passes
    assert [ch.bit_serial_act(2).cycles_per_mac(8, a) for a in (1, 3, 8)] == [1.0, 2.0, 4.0]
    # mirror of the weight-serial PE: same k x 8 partial product + 32-bit add per cycle, same area
    ws = ch.bit_serial()
    assert pe.energy_pj_per_mac(8, 4) == pytest.approx(ws.energy_pj_per_mac(4, 8)) == pytest.approx(4 * 0.125)
    assert pe.area_um2() == pytest.approx(ws.area_um2())
    assert ch.get_pe("bit_serial_act").name == "bit_serial_act" and ch.bit_serial_act(2).name == "bit_serial_act2"


# characterize family -> rtl_sim.pes catalogue key, for every family both describe
RTL_SIM_FAMILY = {"bit_parallel": "bit_parallel", "bit_serial": "bit_serial:weight",
                  "bit_serial_act": "bit_serial:activation", "lut": "lut", "bit_serial_both": "bit_serial:both",
                  "serial": "serial", "bit_fusion": "bit_fusion", "essential": "essential",
                  "essential_csd": "essential:csd"}


@pytest.mark.parametrize("name", sorted(RTL_SIM_FAMILY))
def test_cycles_per_mac_match_rtl_sim_closed_form(name: str) -> None:
    from codesign.rtl_sim import PE_FAMILIES, GemmShape, Precision, closed_form_cycles

    pe, model = PE_FAMILIES[RTL_SIM_FAMILY[name]], ch.get_pe(name)
    rows, cols = 2, 3
    a_max = 16 if name == "serial" else 8  # the BitMoD-like PE takes 16-bit activations in one pass
    for w in range(1, 9):
        for a in range(1, a_max + 1):
            prec = Precision(w_bits=w, a_bits=a)
            shape = GemmShape(rows * 2, cols, pe.k_step(prec) * 3)  # whole tiles and steps: no padding
            compute, _ = closed_form_cycles(pe, shape, prec, (rows, cols))
            # per MAC of one lane: compute cycles x lanes in the array / MACs (the worst case of a
            # data-dependent family)
            per_mac = compute * rows * cols * pe.lanes / shape.macs
            assert model.cycles_per_mac(w, a) == pytest.approx(per_mac), (w, a)


def test_every_family_of_both_catalogues_is_compared() -> None:
    from codesign.rtl_sim import PE_FAMILIES

    assert set(RTL_SIM_FAMILY.values()) == set(PE_FAMILIES)  # every simulated family is characterized
    assert set(ch.PE_NAMES) == set(RTL_SIM_FAMILY)  # and every characterized one is simulated


def test_errors_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="did you mean 'lut'"):
        ch.get_pe("lutt")
    with pytest.raises(ConfigError, match="w_bits must be in"):
        ch.bit_parallel().summary(0, 8)
    with pytest.raises(ConfigError):
        ch.check_bits(np.array([4, 17]), 8)
    with pytest.raises(ConfigError):
        ch.bit_serial(bits_per_cycle=0)
    with pytest.raises(ConfigError, match="bits_per_cycle must be an integer in"):
        ch.bit_serial_act(bits_per_cycle=9)
    with pytest.raises(ConfigError):
        ch.lut(group=0)


def test_pe_model_is_frozen() -> None:
    pe = ch.bit_parallel()
    with pytest.raises(AttributeError):
        pe.name = "x"  # type: ignore[misc]
