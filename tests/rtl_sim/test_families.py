"""The later PE families: zero-bit skipping (counter, sampling), configurable serial (closed form
per configuration, group scales, DRAM term), Bit Fusion (products per cycle)."""

from __future__ import annotations

import numpy as np
import pytest

from codesign.errors import ConfigError
from codesign.rtl_sim import (
    BitFusionPE,
    EssentialPE,
    GemmShape,
    Precision,
    SerialPE,
    closed_form_cycles,
    closed_form_events,
    make_pe,
    simulate_gemm,
)
from codesign.rtl_sim.bits import max_terms, term_counts, term_planes, value_range
from codesign.rtl_sim.essential import essential_cycles, mean_phases, sample_mean_phases, step_phases
from codesign.rtl_sim.serial import BITMOD_LIKE, layer_latency


def _naf_terms(x: int) -> int:
    """Reference non-adjacent form by the textbook digit loop."""
    x, n = abs(x), 0
    while x:
        if x & 1:
            x -= 2 - (x % 4)
            n += 1
        x //= 2
    return n


def test_term_planes_and_counts_are_exact() -> None:
    x = np.arange(-300, 300)
    for enc in ("binary", "csd"):
        planes = term_planes(x, 10, enc).astype(np.int64)
        assert np.array_equal(sum(planes[j] << j for j in range(planes.shape[0])), x)
        assert np.array_equal(term_counts(x, enc), np.abs(planes).sum(axis=0))
    assert [int(c) for c in term_counts(x, "csd")] == [_naf_terms(int(v)) for v in x]
    assert [int(c) for c in term_counts(x, "binary")] == [bin(abs(int(v))).count("1") for v in x]


def test_worst_case_terms() -> None:
    # sign-magnitude: the largest |w| of b signed bits has b-1 ones; csd: about half the bits
    assert [max_terms(b, True) for b in (2, 4, 8)] == [1, 3, 7]
    assert [max_terms(b, False) for b in (2, 4, 8)] == [2, 4, 8]
    assert [max_terms(b, True, "csd") for b in (2, 4, 8)] == [1, 2, 4]
    assert EssentialPE().phases(Precision(w_bits=4)) == 3


def test_step_phases_equal_a_plain_loop() -> None:
    rng = np.random.default_rng(0)
    w = rng.integers(-8, 8, size=(37, 23))
    w[rng.random(w.shape) < 0.5] = 0
    for enc in ("binary", "csd"):
        for lanes, cols in ((1, 1), (3, 4), (4, 23), (5, 7)):
            p = step_phases(w, lanes, cols, enc)
            t = term_counts(w, enc)
            ref = [[max(1, int(t[s * lanes:(s + 1) * lanes, n * cols:(n + 1) * cols].max()))
                    for s in range(-(-37 // lanes))] for n in range(-(-23 // cols))]
            assert p.tolist() == ref
            assert mean_phases(w, lanes, cols, enc) == pytest.approx(np.mean(ref))


def test_skipping_saves_cycles_on_sparse_bits_and_never_exceeds_worst_case() -> None:
    rng = np.random.default_rng(1)
    a = rng.integers(-128, 128, size=(20, 64))
    w = rng.integers(-8, 8, size=(64, 12))
    pe, prec = EssentialPE(lanes=2), Precision(w_bits=4, a_bits=8)
    worst, _ = closed_form_cycles(pe, GemmShape(20, 12, 64), prec, (4, 4))
    dense = simulate_gemm(a, w, pe, w_bits=4, a_bits=8, array=(4, 4))
    small = simulate_gemm(a, np.clip(w, -1, 1), pe, w_bits=4, a_bits=8, array=(4, 4))
    assert small.compute_cycles == 5 * 3 * 32  # every step takes one cycle: |w| <= 1
    assert small.compute_cycles < dense.compute_cycles <= worst
    zeros = simulate_gemm(a, np.zeros_like(w), pe, w_bits=4, a_bits=8, array=(4, 4))
    assert zeros.compute_cycles == 5 * 3 * 32 and zeros.events["shift_adds"] == 0
    ex = essential_cycles(20, w, pe, (4, 4))
    assert ex["compute_cycles"] == dense.compute_cycles and ex["shift_adds"] == dense.events["shift_adds"]


def test_sampled_mean_phases_error_shrinks_and_is_exact_with_every_block() -> None:
    rng = np.random.default_rng(2)
    w = np.rint(rng.normal(0, 20, size=(512, 256))).clip(-127, 127).astype(np.int64)
    exact = mean_phases(w, 4, 8)
    full = sample_mean_phases(w, 4, 8, samples=10**6)
    assert full["mean"] == pytest.approx(exact) and full["stderr"] == 0.0 and full["samples"] == full["blocks"]
    errs = {n: np.mean([abs(sample_mean_phases(w, 4, 8, samples=n, seed=s)["mean"] - exact) for s in range(20)])
            for n in (16, 1024)}
    assert errs[1024] < errs[16]
    est = sample_mean_phases(w, 4, 8, samples=256, seed=3)
    assert abs(est["mean"] - exact) < 4 * est["stderr"] + 1e-9


def test_counter_runs_without_torch() -> None:
    import subprocess
    import sys

    code = ("import sys, numpy as np; from codesign.rtl_sim.essential import mean_phases; "
            "print(mean_phases(np.arange(-8, 8).reshape(4, 4), 2, 2), 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["2.5", "False"]


SERIAL_CONFIGS = [
    BITMOD_LIKE,
    SerialPE(w_bits_per_cycle=2, a_bits_per_cycle=8, lanes=4),  # 16-bit activations: two passes
    SerialPE(w_bits_per_cycle=1, a_bits_per_cycle=1, lanes=2),  # both operands bit-serial
    SerialPE(w_bits_per_cycle=3, a_bits_per_cycle=5, lanes=3, group_size=6, scale_bits=4),
    SerialPE(w_bits_per_cycle=8, a_bits_per_cycle=16, lanes=1),  # bit-parallel
]


@pytest.mark.parametrize("pe", SERIAL_CONFIGS, ids=repr)
def test_serial_closed_form_equals_simulation(pe: SerialPE) -> None:
    rng = np.random.default_rng(4)
    for w_bits, a_bits in ((4, 16), (3, 8), (8, 12), (1, 1)):
        m, n, k = 7, 5, 141
        wl, wh = value_range(w_bits, True)
        al, ah = value_range(a_bits, True)
        a, w = rng.integers(al, ah + 1, (m, k)), rng.integers(wl, wh + 1, (k, n))
        scales = rng.integers(0, 1 << pe.scale_bits, (pe.groups(k), n)) if pe.group_size else None
        res = simulate_gemm(a, w, pe, w_bits=w_bits, a_bits=a_bits, array=(3, 2), w_scales=scales)
        if scales is None:
            assert np.array_equal(res.output, a @ w)
        else:
            g = pe.group_size
            ref = sum(scales[i] * (a[:, i * g:(i + 1) * g] @ w[i * g:(i + 1) * g]) for i in range(pe.groups(k)))
            assert np.array_equal(res.output, ref)
        prec = Precision(w_bits, a_bits)
        assert res.events == closed_form_events(pe, GemmShape(m, n, k), prec, (3, 2))
        compute, overhead = closed_form_cycles(pe, GemmShape(m, n, k), prec, (3, 2))
        assert (res.compute_cycles, res.overhead_cycles) == (compute, overhead)
        lat = layer_latency(pe, m, n, k, w_bits, a_bits, (3, 2))
        assert lat["compute_cycles"] == res.cycles
        ta, tw = -(-a_bits // pe.a_bits_per_cycle), -(-w_bits // pe.w_bits_per_cycle)
        assert pe.phases(prec) == ta * tw


def test_bitmod_like_configuration() -> None:
    p16 = Precision(w_bits=4, a_bits=16)
    assert BITMOD_LIKE.phases(p16) == 2  # ceil(4/2), 16-bit activations in one pass
    assert SerialPE(lanes=4, a_bits_per_cycle=8).phases(p16) == 4  # an 8-bit datapath doubles it
    assert BITMOD_LIKE.effective_w_bits(4) == pytest.approx(4 + 8 / 128)
    lat = layer_latency(BITMOD_LIKE, 256, 4096, 4096, 4, 16, (32, 32), dram_bytes_per_cycle=16.0)
    assert lat["compute_cycles"] == 8 * 128 * (1024 * 2 + 1)
    assert lat["dram_bytes"] == pytest.approx((4096 * 4096 * 4.0625 + 2 * 256 * 4096 * 16) / 8)
    assert lat["cycles"] == max(lat["compute_cycles"], lat["dram_cycles"]) and lat["bound"] == "compute"
    slow = layer_latency(BITMOD_LIKE, 1, 4096, 4096, 4, 16, (32, 32), dram_bytes_per_cycle=16.0)
    assert slow["bound"] == "dram" and slow["cycles"] == pytest.approx(slow["dram_cycles"])


def test_serial_rejects_bad_groups() -> None:
    with pytest.raises(ConfigError, match="multiple of lanes"):
        SerialPE(lanes=4, group_size=6, scale_bits=8)
    with pytest.raises(ConfigError, match="w_scales"):
        simulate_gemm(np.ones((2, 8), int), np.ones((8, 2), int), BITMOD_LIKE, w_scales=np.ones((3, 2), int))
    with pytest.raises(ConfigError, match="w_scales"):
        simulate_gemm(np.ones((2, 8), int), np.ones((8, 2), int), "lut", w_scales=np.ones((1, 2), int))


def test_bit_fusion_products_per_cycle() -> None:
    pe = BitFusionPE()
    perf = {(w, a): pe.products_per_cycle(Precision(w_bits=w, a_bits=a)) for w in range(1, 9) for a in range(1, 9)}
    assert all(p == (8 // max(a, 2)) * (8 // max(w, 2)) for (w, a), p in perf.items())  # REFERENCES §2
    assert [perf[b, b] for b in (8, 4, 2)] == [1, 4, 16] and perf[4, 8] == 2 and perf[2, 4] == 8
    shape, arr = GemmShape(8, 8, 64), (2, 2)
    c88 = closed_form_cycles(pe, shape, Precision(8, 8), arr)[0]
    assert closed_form_cycles(pe, shape, Precision(2, 2), arr)[0] * 16 == c88
    assert closed_form_cycles(pe, shape, Precision(8, 16), arr)[0] == 2 * c88  # two passes
    ev = closed_form_events(pe, shape, Precision(4, 4), arr)
    assert ev["brick_mults"] == 8 * 8 * 64 * 4  # 2x2 bricks per 4x4 product


def test_make_pe_names() -> None:
    assert make_pe("essential:csd") == EssentialPE(encoding="csd")
    assert make_pe("serial") == BITMOD_LIKE and make_pe("serial", lanes=2).lanes == 2
    assert make_pe("bit_fusion", lanes=2) == BitFusionPE(lanes=2)
    from codesign.rtl_sim import characterize as ch

    for name in ch.PE_NAMES:  # every design pe_type names a simulated family (hardware-exact probes)
        assert make_pe(name).family in name
    with pytest.raises(ConfigError, match="did you mean 'essential'"):
        make_pe("esential")
