"""Roofline evaluator: hand-computed cases, monotonicity, violations, breakdown sums."""

from __future__ import annotations

import time

import numpy as np
import pytest

from codesign.errors import ConfigError, SpaceError
from codesign.evaluators.base import Evaluator
from codesign.evaluators.cost import tables as t
from codesign.evaluators.roofline import RooflineEvaluator
from codesign.rtl_sim import characterize as ch
from codesign.workloads.layer import Workload, attn, conv, gemm

HW = dict(pe_type="bit_parallel", array_rows=4, array_cols=4, glb_kb=8, pe_buf_bytes=64,
          dram_gbps=8.0, clock_mhz=1000)


def one_gemm() -> Workload:
    return Workload("one", [gemm("fc", M=4, N=4, K=8)])


def digits(batch: int = 16) -> Workload:  # same shapes as the zoo's digits_cnn
    return Workload("digits", [
        conv("conv1", C=1, M=16, R=3, P=8, B=batch), conv("conv2", C=16, M=32, R=3, P=4, stride=2, B=batch),
        gemm("fc1", M=batch, N=64, K=512), gemm("fc2", M=batch, N=10, K=64),
    ])


def test_is_an_evaluator() -> None:
    ev = RooflineEvaluator(one_gemm())
    assert isinstance(ev, Evaluator) and ev.name == "roofline"
    assert {"latency_cycles", "latency_ms", "energy_uj", "area_mm2", "throughput_gops"} <= set(ev.metrics)


def test_hand_computed_gemm_on_4x4() -> None:
    """M=4, N=4, K=8 at 8/8 bits, 4x4 bit-parallel array, 1 GHz, 8 GB/s = 8 B/cycle.

    compute = ceil(K/R)·ceil(N/C)·M·1 = 2·1·4 = 8 cycles.
    DRAM = W 8·4 + X 4·8 + Y 4·4 (1 B each) = 80 B -> 10 cycles; latency = 10 (memory bound).
    GLB reads = W 32 + X 32·ceil(4/4) + psum 16·4·(2−1) + Y 16 = 144 B;
    GLB writes = psum 16·4·2 + fills 64 = 192 B (8 KB SRAM: 10 pJ / 8 B).
    """
    ev = RooflineEvaluator(one_gemm())
    m = ev.evaluate({**HW, "w_bits.fc": 8, "a_bits.fc": 8})
    lay = m.breakdown["layers"]["fc"]
    assert lay["compute_cycles"] == 8 and lay["memory_cycles"] == 10 and lay["bound"] == "memory"
    assert lay["dram_bytes"] == 80 and m["latency_cycles"] == 10
    assert m["latency_ms"] == pytest.approx(10 / 1e6)
    e = lay["energy_uj"]
    assert e["pe"] == pytest.approx(128 * 0.3 / 1e6)
    assert e["pe_buf"] == pytest.approx(128 * 8 * 0.9 / 16 / 1e6)
    assert e["dram"] == pytest.approx(80 * 1300 / 8 / 1e6)
    assert e["glb"] == pytest.approx((144 * 1.25 + 192 * 1.25 * 26.16 / 32.38) / 1e6)
    um2_kb = 8192 * 0.346 / 0.6
    assert m["area_mm2"] == pytest.approx((16 * 419 + 8 * um2_kb + 16 * 64 / 1024 * um2_kb) / 1e6)
    assert m["throughput_gops"] == pytest.approx(2 * 128 / 10e-9 / 1e9)  # 10 ns at 1 GHz -> 25.6 GOPS
    assert m.feasible


def test_bit_serial_compute_scales_with_weight_bits() -> None:
    ev = RooflineEvaluator(one_gemm())
    d = {**HW, "pe_type": "bit_serial", "a_bits.fc": 8}
    c4 = ev.evaluate({**d, "w_bits.fc": 4}).breakdown["layers"]["fc"]["compute_cycles"]
    c8 = ev.evaluate({**d, "w_bits.fc": 8}).breakdown["layers"]["fc"]["compute_cycles"]
    assert (c4, c8) == (32, 64)


def test_default_bits_and_attention() -> None:
    wl = Workload("w", [gemm("fc", M=4, N=4, K=8), attn("qk", M=4, N=4, K=8, heads=2)])
    m = RooflineEvaluator(wl).evaluate({**HW, "w_bits.all": 2, "a_bits.all": 2})
    assert (m.breakdown["layers"]["fc"]["w_bits"], m.breakdown["layers"]["fc"]["a_bits"]) == (2, 2)
    qk = m.breakdown["layers"]["qk"]
    assert (qk["w_bits"], qk["a_bits"]) == (8, 8)
    # two heads: each operand 4·8 + 8·4 bytes, outputs 2·16 bytes
    assert qk["dram_bytes"] == 2 * (32 + 32 + 16)
    none = RooflineEvaluator(one_gemm()).evaluate(HW).breakdown["layers"]["fc"]
    assert (none["w_bits"], none["a_bits"]) == (8, 8)


def _random_designs(n: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        d = dict(pe_type=str(rng.choice(["bit_parallel", "bit_serial", "lut"])),
                 array_rows=int(2 ** rng.integers(2, 7)), array_cols=int(2 ** rng.integers(2, 7)),
                 glb_kb=int(2 ** rng.integers(3, 9)), pe_buf_bytes=int(2 ** rng.integers(4, 9)),
                 dram_gbps=float(rng.choice([6.4, 12.8, 25.6])), clock_mhz=int(rng.choice([200, 500, 1000])))
        for layer in ("conv1", "conv2", "fc1", "fc2"):
            d[f"w_bits.{layer}"] = int(rng.integers(2, 9))
            d[f"a_bits.{layer}"] = int(rng.integers(2, 9))
        out.append(d)
    return out


def _layer_sum(ms, key):
    return np.array([sum(l[key] for l in m.breakdown["layers"].values()) for m in ms])


@pytest.mark.parametrize("param,key,better", [
    ("array_rows", "compute_cycles", "not_more"), ("array_cols", "compute_cycles", "not_more"),
    ("dram_gbps", "memory_cycles", "not_more"), ("glb_kb", "dram_bytes", "not_more"),
])
def test_monotonicity(param: str, key: str, better: str) -> None:
    ev = RooflineEvaluator(digits())
    base = _random_designs(60, seed=1)
    bigger = [{**d, param: d[param] * 2} for d in base]
    a, b = _layer_sum(ev.evaluate_many(base), key), _layer_sum(ev.evaluate_many(bigger), key)
    assert np.all(b <= a + 1e-9)
    assert np.any(b < a)


def test_lower_bits_never_increase_dram_bytes() -> None:
    ev = RooflineEvaluator(digits())
    base = _random_designs(40, seed=2)
    low = [{**d, **{k: max(2, v - 2) for k, v in d.items() if "_bits." in k}} for d in base]
    assert np.all(_layer_sum(ev.evaluate_many(low), "dram_bytes") <= _layer_sum(ev.evaluate_many(base), "dram_bytes"))


def test_breakdown_sums_to_totals_and_batch_equals_single() -> None:
    ev = RooflineEvaluator(digits())
    designs = _random_designs(30, seed=3)
    many = ev.evaluate_many(designs)
    for d, m in zip(designs, many):
        layers = m.breakdown["layers"].values()
        assert m["latency_cycles"] == pytest.approx(sum(l["latency_cycles"] for l in layers))
        assert m["dram_bytes"] == pytest.approx(sum(l["dram_bytes"] for l in layers))
        assert m["energy_uj"] == pytest.approx(sum(sum(l["energy_uj"].values()) for l in layers))
        assert m["energy_uj"] == pytest.approx(sum(m.breakdown["energy_uj"].values()))
        assert m["area_mm2"] == pytest.approx(sum(m.breakdown["area_mm2"].values()))
        for l in layers:
            assert l["latency_cycles"] == max(l["compute_cycles"], l["memory_cycles"])
        single = ev.evaluate(d)
        assert single.values == pytest.approx(m.values) and single.violations == m.violations


def test_layer_count_multiplies() -> None:
    one = RooflineEvaluator(Workload("a", [gemm("fc", M=4, N=4, K=8)])).evaluate(HW)
    three = RooflineEvaluator(Workload("b", [gemm("fc", M=4, N=4, K=8, count=3)])).evaluate(HW)
    for k in ("latency_cycles", "energy_uj", "dram_bytes"):
        assert three[k] == pytest.approx(3 * one[k])
    assert three["area_mm2"] == one["area_mm2"]


def test_glb_refetch_when_working_set_exceeds_buffer() -> None:
    """W = 512·64 = 32 KiB, X = 16·512 = 8 KiB, Y = 1 KiB at 8 bits."""
    wl = Workload("fc", [gemm("fc1", M=16, N=64, K=512)])
    ev = RooflineEvaluator(wl)
    big = ev.evaluate({**HW, "glb_kb": 64}).breakdown["layers"]["fc1"]["dram_bytes"]
    small = ev.evaluate({**HW, "glb_kb": 8}).breakdown["layers"]["fc1"]["dram_bytes"]
    assert big == 32768 + 8192 + 1024
    # 8 KiB: inputs resident in ceil(8192/4096) = 2 chunks, weights streamed twice
    assert small == 8192 + 2 * 32768 + 1024


def test_mapping_tiles_traffic_and_glb_violation() -> None:
    """fc1 M=16, N=64, K=512 with tiles 16/16/128 (n_m=1, n_n=4, n_k=4), GLB 8 KiB < W+X+Y.

    ws: W once + X·n_n + Y + 2·(n_k−1)·psums(16·64·4) = 32768 + 4·8192 + 1024 + 6·4096.
    os: W·n_m + X·n_n + Y = 32768 + 32768 + 1024.
    Footprint 16·128 + 128·16 + 16·16·4 = 5120 B <= 8 KiB: feasible; tile_k = 512 -> 17408 B.
    """
    wl = Workload("fc", [gemm("fc1", M=16, N=64, K=512)])
    ev = RooflineEvaluator(wl)
    mp = {"map.fc1.tile_m": 16, "map.fc1.tile_n": 16, "map.fc1.tile_k": 128}
    ws = ev.evaluate({**HW, **mp, "map.fc1.dataflow": "ws"})
    os_ = ev.evaluate({**HW, **mp, "map.fc1.dataflow": "os"})
    assert ws.breakdown["layers"]["fc1"]["dram_bytes"] == 32768 + 4 * 8192 + 1024 + 6 * 4096
    assert os_.breakdown["layers"]["fc1"]["dram_bytes"] == 32768 + 32768 + 1024
    assert ws.feasible and os_.feasible
    # ws compute per tile: ceil(128/4)·ceil(16/4)·16 = 2048, 16 tiles -> 32768 = untiled ws
    assert ws.breakdown["layers"]["fc1"]["compute_cycles"] == 32768
    bad = ev.evaluate({**HW, **mp, "map.fc1.tile_k": 512, "map.fc1.dataflow": "ws"})
    assert bad.violations == {"glb_capacity:fc1": pytest.approx(17408 / 8192 - 1)}
    with pytest.raises(SpaceError, match="tile_n must divide 64"):
        ev.evaluate({**HW, **mp, "map.fc1.tile_n": 3, "map.fc1.dataflow": "ws"})


def test_pe_buf_violation_named() -> None:
    ev = RooflineEvaluator(one_gemm())
    m = ev.evaluate({**HW, "pe_type": "lut", "pe_buf_bytes": 16, "w_bits.fc": 8, "a_bits.fc": 8})
    assert m.violations == {"pe_buf_capacity:fc": pytest.approx(18 / 16 - 1)}  # LUT needs 18 B
    ok = ev.evaluate({**HW, "pe_type": "lut", "pe_buf_bytes": 16, "w_bits.fc": 2, "a_bits.fc": 4})
    assert ok.feasible


def test_low_bit_lut_beats_bit_parallel_compute() -> None:
    ev = RooflineEvaluator(one_gemm())
    d = {**HW, "w_bits.fc": 2, "a_bits.fc": 8}
    lut = ev.evaluate({**d, "pe_type": "lut"}).breakdown["layers"]["fc"]["compute_cycles"]
    bp = ev.evaluate({**d, "pe_type": "bit_parallel"}).breakdown["layers"]["fc"]["compute_cycles"]
    assert lut == bp / 2


def test_input_errors() -> None:
    ev = RooflineEvaluator(one_gemm())
    with pytest.raises(SpaceError, match="did you mean 'bit_serial'"):
        ev.evaluate({**HW, "pe_type": "bit_serail"})
    missing = dict(HW)
    del missing["glb_kb"]
    with pytest.raises(SpaceError, match="glb_kb"):
        ev.evaluate(missing)
    with pytest.raises(SpaceError, match="clock_mhz must be > 0"):
        ev.evaluate({**HW, "clock_mhz": 0})
    with pytest.raises(ConfigError):
        RooflineEvaluator(one_gemm(), node="7nm")
    assert ev.evaluate_many([]) == []


def test_batch_of_500_is_fast() -> None:
    ev = RooflineEvaluator(digits())
    designs = _random_designs(500, seed=4)
    t0 = time.perf_counter()
    out = ev.evaluate_many(designs)
    assert len(out) == 500 and time.perf_counter() - t0 < 1.0
