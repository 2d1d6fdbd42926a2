"""Fast model: exact output (hypothesis), closed-form events, published cycle scaling, memory."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.errors import ConfigError
from codesign.rtl_sim import (
    PE_FAMILIES,
    BitFusionPE,
    BitSerialPE,
    EssentialPE,
    SerialPE,
    GemmShape,
    LutPE,
    closed_form_cycles,
    closed_form_events,
    make_pe,
    simulate_gemm,
)
from codesign.rtl_sim.bits import bit_planes, digits, plane_coeffs, value_range
from codesign.rtl_sim.essential import essential_cycles


def _rand(rng: np.random.Generator, bits: int, signed: bool, shape: tuple[int, int]) -> np.ndarray:
    lo, hi = value_range(bits, signed)
    return rng.integers(lo, hi + 1, size=shape)


@st.composite
def gemm_cases(draw: st.DrawFn) -> dict:
    return {
        "m": draw(st.integers(1, 12)), "n": draw(st.integers(1, 12)), "k": draw(st.integers(1, 40)),
        "w_bits": draw(st.integers(1, 8)), "a_bits": draw(st.integers(1, 16)),
        "w_signed": draw(st.booleans()), "a_signed": draw(st.booleans()),
        "rows": draw(st.integers(1, 5)), "cols": draw(st.integers(1, 5)),
        "order": draw(st.sampled_from(["mn", "nm"])), "seed": draw(st.integers(0, 2**31)),
        "budget": draw(st.sampled_from([2**28, 12000, 40000])),
    }


def _pe_variants() -> list:
    return [*PE_FAMILIES.values(), BitSerialPE(serial="weight", bits_per_cycle=3, lanes=2),
            BitSerialPE(serial="activation", bits_per_cycle=5, lanes=1),
            LutPE(g=3, lanes=2, w_code="twos_complement"), LutPE(g=1), LutPE(g=6, lanes=1),
            SerialPE(w_bits_per_cycle=3, a_bits_per_cycle=5, lanes=2, group_size=6, scale_bits=3),
            SerialPE(w_bits_per_cycle=1, a_bits_per_cycle=8, lanes=3), EssentialPE(lanes=1),
            EssentialPE(lanes=3, encoding="csd"), BitFusionPE(lanes=2)]


@pytest.mark.parametrize("pe", _pe_variants(), ids=repr)
@settings(max_examples=40, deadline=None)
@given(case=gemm_cases())
def test_output_exact_and_events_closed_form(pe, case: dict) -> None:
    rng = np.random.default_rng(case["seed"])
    a = _rand(rng, case["a_bits"], case["a_signed"], (case["m"], case["k"]))
    w = _rand(rng, case["w_bits"], case["w_signed"], (case["k"], case["n"]))
    array = (case["rows"], case["cols"])
    res = simulate_gemm(a, w, pe, w_bits=case["w_bits"], a_bits=case["a_bits"],
                        w_signed=case["w_signed"], a_signed=case["a_signed"], array=array,
                        order=case["order"], mem_budget_bytes=case["budget"])
    assert np.array_equal(res.output, a.astype(np.int64) @ w.astype(np.int64))
    shape = GemmShape(case["m"], case["n"], case["k"])
    events = {k: v for k, v in res.events.items() if k != "lut_mirrored"}
    closed = closed_form_events(pe, shape, res.precision, array, case["order"])
    compute, overhead = closed_form_cycles(pe, shape, res.precision, array)
    if pe.data_dependent:  # the exact counter on the weights; the closed form is the worst case
        exact = essential_cycles(case["m"], w, pe, array)
        assert events["shift_adds"] == events["adds"] == exact["shift_adds"] <= closed["shift_adds"]
        assert {k: v for k, v in events.items() if k not in ("shift_adds", "adds")} == \
            {k: v for k, v in closed.items() if k not in ("shift_adds", "adds")}
        assert res.compute_cycles == exact["compute_cycles"] <= compute
        assert res.overhead_cycles == exact["overhead_cycles"] == overhead
    else:
        assert events == closed
        assert (res.compute_cycles, res.overhead_cycles) == (compute, overhead)
    assert res.cycles == res.compute_cycles + overhead


def test_extreme_values_exact() -> None:
    """All-min / all-max operands at the widest precisions (worst-case magnitudes)."""
    for pe in _pe_variants():
        for a_val, w_val in ((-(2**15), -128), (2**15 - 1, 127), (-(2**15), 127)):
            a = np.full((3, 67), a_val)
            w = np.full((67, 2), w_val)
            res = simulate_gemm(a, w, pe, w_bits=8, a_bits=16)
            assert np.array_equal(res.output, a @ w), pe
        a = np.full((2, 33), 2**16 - 1)
        w = np.full((33, 3), 255)
        res = simulate_gemm(a, w, pe, w_bits=8, a_bits=16, w_signed=False, a_signed=False)
        assert np.array_equal(res.output, a @ w), pe


def test_lut_closed_form_issue_example() -> None:
    """LUT lookups = b·M·N·K/g and table builds = M·K/g when the array covers N."""
    rng = np.random.default_rng(0)
    m, n, k, g = 8, 16, 64, 4
    for b in (1, 2, 4, 8):
        res = simulate_gemm(_rand(rng, 8, True, (m, k)), _rand(rng, b, True, (k, n)),
                            LutPE(g=g), w_bits=b, a_bits=8, array=(4, 16))
        assert res.events["lookups"] == b * m * n * k // g
        assert res.events["table_builds"] == m * k // g
        assert res.events["table_adds"] == (g - 1) * 2 ** (g - 1) * m * k // g
        assert 0 <= res.events["lut_mirrored"] <= res.events["lookups"]


def test_published_cycle_scaling() -> None:
    shape, arr = GemmShape(64, 64, 64), (8, 8)
    from codesign.rtl_sim import Precision

    def cyc(pe, w, a):  # compute cycles
        return closed_form_cycles(pe, shape, Precision(w, a), arr)[0]

    ws, as_, both, lut, bp = (PE_FAMILIES[k] for k in (
        "bit_serial:weight", "bit_serial:activation", "bit_serial:both", "lut", "bit_parallel"))
    assert cyc(ws, 8, 8) == 2 * cyc(ws, 4, 8)  # weight-serial doubles from 4 to 8 weight bits
    assert cyc(as_, 4, 16) == 2 * cyc(as_, 4, 8)  # Stripes: time ∝ activation bits
    assert cyc(both, 8, 8) == 4 * cyc(both, 4, 4)  # Loom/BISMO: ∝ w_bits · a_bits
    assert cyc(bp, 2, 2) == cyc(bp, 8, 16)  # bit-parallel: precision-independent
    assert cyc(make_pe("bit_serial", serial="weight", bits_per_cycle=2), 8, 8) == cyc(ws, 4, 8)
    rng = np.random.default_rng(1)
    a = _rand(rng, 8, True, (32, 32))
    looks = {b: simulate_gemm(a, _rand(rng, b, True, (32, 32)), lut, w_bits=b, a_bits=8)
             .events["lookups"] for b in (1, 2, 4, 8)}
    assert all(looks[b] == b * looks[1] for b in looks)  # LUT lookups linear in weight bits


def test_chunking_bounded_memory() -> None:
    """A small budget forces many blocks; results stay exact and temporaries stay bounded."""
    rng = np.random.default_rng(2)
    a = _rand(rng, 8, True, (96, 160))
    w = _rand(rng, 4, True, (160, 80))
    budget = 64 * 1024
    for pe in PE_FAMILIES.values():
        full = simulate_gemm(a, w, pe, w_bits=4, a_bits=8)
        tracemalloc.start()
        small = simulate_gemm(a, w, pe, w_bits=4, a_bits=8, mem_budget_bytes=budget)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert small.blocks > 1 and small.block_bytes <= budget
        assert np.array_equal(small.output, full.output)
        assert small.events == full.events and small.cycles == full.cycles
        out_bytes = a.shape[0] * w.shape[1] * 8
        assert peak <= out_bytes + 2 * budget, (pe, peak)


def test_block_plan_for_4096_cube_respects_budget() -> None:
    from codesign.rtl_sim import Precision
    from codesign.rtl_sim.simulate import _choose_blocks

    for pe in PE_FAMILIES.values():
        for budget in (2**20, 2**28):
            mb, nb, kb, nbytes = _choose_blocks(pe, Precision(8, 16), GemmShape(4096, 4096, 4096),
                                                budget)
            assert nbytes <= budget and mb * nb * kb > 0


def test_bit_identities() -> None:
    rng = np.random.default_rng(3)
    for bits in range(1, 9):
        for signed in (False, True):
            x = _rand(rng, bits, signed, (50,))
            assert np.array_equal((plane_coeffs(bits, signed)[:, None] * bit_planes(x, bits))
                                  .sum(0), x)
            for k in (1, 2, 3):
                d = digits(x, bits, k)
                assert np.array_equal(sum(d[t] << (t * k) for t in range(d.shape[0])), x)


@pytest.mark.parametrize("kwargs, msg", [
    ({"w_bits": 0}, "`w_bits` must be an integer in [1, 8], but got 0"),
    ({"a_bits": 17}, "`a_bits` must be an integer in [1, 16], but got 17"),
    ({"order": "km"}, "`order` must be 'mn' or 'nm'"),
    ({"w_bits": 2}, "`w` must hold signed 2-bit values in [-2, 1]"),
])
def test_errors_are_one_line(kwargs: dict, msg: str) -> None:
    a = np.ones((2, 3), dtype=np.int64)
    w = np.full((3, 2), 3)
    with pytest.raises(ConfigError) as exc:
        simulate_gemm(a, w, "lut", **{"w_bits": 4, **kwargs})
    assert msg in str(exc.value) and "\n" not in str(exc.value)


def test_unknown_pe_suggests() -> None:
    with pytest.raises(ConfigError, match="did you mean 'lut'"):
        make_pe("lutt")
